# The site's API reference (/docs) in headless Chromium: rendered from
# the OpenAPI document the workers serve, with an article for every
# operation of fcgi/openapi.json and the table of contents linking to
# each; its try-it forms send real requests to this instance and show
# the status and body (a public route, a listing with a key, and the
# problem document of a request without one).  No console error, no
# request to another host, screenshots at desktop and phone width.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Site qw(browser screenshot_dir page_is_clean wait_state);

my $shots = screenshot_dir();
my $s = FLR::Stack->new(workers => 2);
my $base = $s->base_url;
my ($code, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($code, 0, 'catalogue loaded') or diag($err);
my $key = $s->create_key(email => 'docs@example.com');
my $c = browser();
my $p = $c->page;

my $doc = JSON::PP->new->utf8->decode(FLR::Pg::slurp("$FLR::Pg::REPO/fcgi/openapi.json"));
my @ops;
for my $path (sort keys %{ $doc->{paths} }) {
	for my $m (qw(get post put delete)) {
		push @ops, uc($m) . " $path" if $doc->{paths}{$path}{$m};
	}
}

$p->go("$base/docs");
is(wait_state($p), 'ready', 'the reference renders');
page_is_clean($p, $base, 'docs page');
is_deeply([ sort @{ $p->js('[...document.querySelectorAll("article.op")].map(a => a.dataset.op)') } ],
    [ sort @ops ], 'an article for every operation of the document');
my $toc = $p->js('[...document.querySelectorAll("#toc li a")].map(a => a.getAttribute("href"))');
is(scalar @$toc, scalar @ops, 'the table of contents lists them all');
my $dangling = $p->js('[...document.querySelectorAll("#toc li a")]'
    . '.filter(a => !document.getElementById(a.getAttribute("href").slice(1))).length');
is($dangling, 0, '... and each link has its target');
like($p->js('document.querySelector("article[data-op=\'GET /api/health\'] .summary-line").textContent'),
    qr/\S/, 'an operation shows its summary');
ok($p->js('document.querySelectorAll("article[data-op=\'GET /api/v1/models/ids\'] table.params tbody tr").length >= 5'),
    'the listing shows its parameters');

# try_it($op, \%fields) -> { status, body } as the page shows them.
sub try_it {
	my ($op, $fields) = @_;
	my $sel = "form.try[data-op='$op']";
	my $set = join '', map {
		my $v = $fields->{$_};
		$v =~ s/(['\\])/\\$1/g;
		"f.elements['$_'].value = '$v';"
	} sort keys %$fields;
	$p->js(qq{(() => { const f = document.querySelector("$sel");
	    f.closest('details').open = true; $set
	    f.querySelector('button[type=submit]').click(); })()});
	my $done = $p->wait_for(qq{(() => { const s = document.querySelector("$sel .try-status");
	    return s && s.textContent; })()}, 30);
	my $body = $p->js(qq{document.querySelector("$sel .try-body").textContent});
	my ($st) = ($done // '') =~ /^(\d{3})/;
	return { status => $st // 0, body => $body };
}

my $r = try_it('GET /api/livez', {});
is($r->{status}, 200, 'try it: GET /api/livez answers 200');
like($r->{body}, qr/"status"/, '... and the body is shown');

$r = try_it('GET /api/v1/models/ids', { __key => $key, topN => '3' });
is($r->{status}, 200, 'try it: a listing with a key');
my $ids = eval { JSON::PP->new->decode($r->{body}) } // {};
is(scalar @{ $ids->{ids} // [] }, 3, '... topN=3 from the form reached the API');

$p->clear;
$r = try_it('GET /api/v1/models/ids', { __key => '', topN => '' });
is($r->{status}, 401, 'try it without a key: 401');
like($r->{body}, qr/"code"\s*:\s*"missing_auth"/, '... and its problem document');
$p->clear;

$r = try_it('PUT /api/v1/preferences', { __key => $key, __body => '{"topN":4}' });
is($r->{status}, 200, 'try it: a body from the form');
like($r->{body}, qr/"topN"\s*:\s*4/, '... was sent');

$p->screenshot("$shots/docs-desktop.png", 1280, 900);
$p->screenshot("$shots/docs-phone.png", 390, 844, mobile => 1);
ok($p->js('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    'docs at phone width: nothing wider than the screen');
page_is_clean($p, $base, 'docs page after trying');

done_testing;
