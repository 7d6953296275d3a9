package FLR::Site;

# What the browser tests of the site (t/7*-site-*.t) share: the browser
# itself (a missing chromium fails the test, it is never skipped), the
# catalogue fixture with hostile model text, where screenshots go, and
# the checks every page load must pass.

use strict;
use warnings;

use Exporter 'import';
use File::Path qw(make_path);
use JSON::PP ();
use Test::More ();

use FLR::Chrome;
use FLR::Pg;

our @EXPORT_OK = qw(browser hostile_fixture screenshot_dir page_is_clean
    wait_state HOSTILE_ID HOSTILE_NAME HOSTILE_DESCRIPTION);

# A model whose name and description are HTML that would run script if
# a page inserted them as markup.
use constant HOSTILE_ID => 'evil/img-onerror:free';
use constant HOSTILE_NAME => '<img src=x onerror="window.__pwned=1">';
use constant HOSTILE_DESCRIPTION =>
    '<script>window.__pwned=2</script><b onmouseover="window.__pwned=3">bold</b>';

my $JSON = JSON::PP->new->utf8->canonical;

# browser() -> FLR::Chrome, or a failed test and exit when chromium is
# not installed (t/bin/deps --node installs it for make check).
sub browser {
	if (!FLR::Chrome::bin()) {
		Test::More::fail('the site tests need Debian\'s chromium');
		Test::More::diag('run t/bin/deps --node (make check does) to install it');
		Test::More::done_testing();
		exit;
	}
	return FLR::Chrome->new;
}

# hostile_fixture($dir) -> file:// URL of the bundled OpenRouter snapshot
# plus one free model named with HTML (HOSTILE_*).
sub hostile_fixture {
	my ($dir) = @_;
	my $doc = $JSON->decode(FLR::Pg::slurp(
	    "$FLR::Pg::REPO/t/fixtures/openrouter-models.json"));
	my ($base) = grep { $_->{id} eq 'openai/gpt-oss-20b:free' } @{ $doc->{data} };
	push @{ $doc->{data} }, { %$base, id => HOSTILE_ID,
	    canonical_slug => 'evil/img-onerror', name => HOSTILE_NAME,
	    description => HOSTILE_DESCRIPTION };
	my $path = "$dir/openrouter-hostile.json";
	open my $fh, '>:raw', $path or die "$path: $!";
	print {$fh} $JSON->encode($doc);
	close $fh or die "$path: $!";
	return "file://$path";
}

# screenshot_dir() -> the build folder's screenshots/ (made if needed):
# test artifacts, kept after the run.
sub screenshot_dir {
	my $build = $ENV{FLR_BUILD} // 'build';
	$build = "$FLR::Pg::REPO/$build" if $build !~ m{^/};
	my $dir = "$build/screenshots";
	make_path($dir);
	return $dir;
}

# wait_state($page, $timeout) -> the page's settled state (ready, empty
# or error: <html data-state>), or undef while it is still loading.
sub wait_state {
	my ($p, $timeout) = @_;
	return $p->wait_for('(s => s && s !== "loading" && s)'
	    . '(document.documentElement.dataset.state)', $timeout);
}

# page_is_clean($page, $base_url, $name): two tests, no console error (or
# uncaught exception, or CSP report) and no request to another host.
sub page_is_clean {
	my ($p, $base, $name) = @_;
	my @errors = $p->errors;
	Test::More::ok(!@errors, "$name: no console error")
	    or Test::More::diag(join "\n", @errors);
	my @foreign = grep { !/^\Q$base\E\// && !/^(?:data|blob|about):/ }
	    $p->requests;
	Test::More::ok(!@foreign, "$name: no request to another host")
	    or Test::More::diag(join "\n", @foreign);
}

1;
