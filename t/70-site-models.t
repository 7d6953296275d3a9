# The site's models page (/) in headless Chromium against the real
# stack: nginx serves it with a strict Content-Security-Policy and the
# other page headers (and the API keeps its own); a fresh instance shows
# its empty state; after a sync the page lists exactly the models
# /api/demo/models returns, in order, with its controls and the URL
# driving the query; model names and descriptions that are HTML stay
# text; errors are shown in words; the page works by keyboard and at
# phone width, light and dark, with screenshots of each kept under the
# build folder; and nothing loads from another host or logs an error.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Site qw(browser hostile_fixture screenshot_dir page_is_clean
    wait_state HOSTILE_ID HOSTILE_NAME HOSTILE_DESCRIPTION);

my $tmp = tempdir('flr-site-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
my $shots = screenshot_dir();
my $json = JSON::PP->new->utf8->canonical;

my $s = FLR::Stack->new(workers => 2);
my $base = $s->base_url;
my $c = browser();
my $p = $c->page;

# --- Headers: the page's, not the API's. ------------------------------------
my %CSP = map { $_ => 1 } ("default-src 'none'", "script-src 'self'",
    "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'");
for my $path ('/', '/assets/site.css', '/assets/models.js') {
	my $r = $s->request(GET => $path);
	is($r->{status}, 200, "GET $path: 200");
	my $csp = $r->{headers}{'content-security-policy'} // '';
	my %got = map { s/^\s+|\s+$//gr => 1 } split /;/, $csp;
	my @missing = grep { !$got{$_} } sort keys %CSP;
	ok(!@missing, "$path: Content-Security-Policy is strict")
	    or diag("missing: @missing; got: $csp");
	unlike($csp, qr/unsafe-inline|unsafe-eval|\*/, "$path: nothing unsafe in it");
	is($r->{headers}{'x-frame-options'}, 'DENY', "$path: X-Frame-Options");
	is($r->{headers}{'referrer-policy'}, 'no-referrer', "$path: Referrer-Policy");
	is($r->{headers}{'x-content-type-options'}, 'nosniff', "$path: nosniff");
}
like($s->request(GET => '/')->{headers}{'content-type'}, qr{^text/html; charset=utf-8$},
    '/ is HTML');
like($s->request(GET => '/assets/models.js')->{headers}{'content-type'},
    qr{^text/javascript\b}, 'modules are served as JavaScript');
{
	my $r = $s->request(GET => '/api/livez');
	ok(!exists $r->{headers}{'content-security-policy'}
	    && !exists $r->{headers}{'x-frame-options'},
	    'the API does not get the pages\' headers');
	$r = $s->request(GET => '/nope');
	is($r->{status}, 404, 'a path that is neither page nor API: still 404');
	like($r->{headers}{'content-type'} // '', qr{^application/problem\+json},
	    '... the API\'s problem document');
	is($s->request(GET => '/assets/nope.js')->{status}, 404,
	    'an asset that does not exist: 404');
}

# --- A fresh instance: no catalogue yet. ------------------------------------
$p->go("$base/");
is(wait_state($p), 'empty', 'fresh instance: the empty state');
like($p->js('document.getElementById("status").textContent'),
    qr/No models yet/, '... saying that the catalogue is not loaded yet');
page_is_clean($p, $base, 'empty models page');
$p->screenshot("$shots/models-empty.png", 1280, 800);

# --- The catalogue, with a hostile model, and some reports. -----------------
my $fixture = hostile_fixture($tmp);
my ($code, undef, $err) = $s->run_sync(url => $fixture);
is($code, 0, 'catalogue loaded (with a model named in HTML)') or diag($err);
my $key = $s->create_key(email => 'site@example.com', rate_limit_max => 10000);
my %auth = (Authorization => "Bearer $key");
for my $r ([ 'openai/gpt-oss-20b:free', { success => JSON::PP::true } ],
    [ 'openai/gpt-oss-20b:free', { issue => 'error' } ],
    [ 'z-ai/glm-5.2:free', { success => JSON::PP::true } ],
    [ HOSTILE_ID, { issue => 'rate_limited' } ]) {
	my ($res) = $s->json_request('POST', '/api/v1/models/feedback',
	    { modelId => $r->[0], %{ $r->[1] } }, \%auth);
	is($res->{status}, 200, "a report on $r->[0]") or diag($res->{content});
}

sub demo_ids {
	my ($q) = @_;
	my ($res, $doc) = $s->get_json("/api/demo/models?$q");
	is($res->{status}, 200, "GET /api/demo/models?$q") or diag($res->{content});
	return [ map { $_->{id} } @{ $doc->{models} // [] } ];
}

sub page_ids {
	return $p->js('[...document.querySelectorAll("#models tbody tr")]'
	    . '.map(tr => tr.dataset.modelId)');
}

# Waits for the page to settle after $action, then for its table to hold
# what the last listing request returned.
sub settle {
	my ($name) = @_;
	my $st = wait_state($p);
	is($st, 'ready', "$name: the page settles") or diag(
	    $p->js('document.getElementById("status").textContent'));
}

# The empty answer is public for 60 s and the browser keeps it: forget it,
# as a minute would.
$p->call('Network.clearBrowserCache');
$p->clear;
$p->go("$base/");
settle('models page');
my $want = demo_ids('sort=healthiest&timeRange=24h&source=all');
cmp_ok(scalar @$want, '>', 10, 'the listing has the catalogue\'s models');
is_deeply(page_ids(), $want,
    'the page lists exactly the models /api/demo/models returns, in order');
my @listing = grep { m{/api/demo/models} } $p->requests;
is(scalar @listing, 1, 'one listing request for one page load');
like($listing[0] // '', qr/sort=healthiest/, '... sorted by health by default');
page_is_clean($p, $base, 'models page');

# The hostile model: its name and description are text on the page.
{
	my $r = $p->js(<<'JS');
(() => {
	const tr = document.querySelector('tr[data-model-id="evil/img-onerror:free"]');
	return tr && {
		title: tr.querySelector('.title').textContent,
		desc: tr.querySelector('.desc').textContent,
		elements: tr.querySelectorAll('img, script, b').length,
		pwned: window.__pwned === undefined ? null : window.__pwned,
	};
})()
JS
	ok($r, 'the model named in HTML is listed');
	is($r->{title}, HOSTILE_NAME, '... its name shown as the text it is');
	is($r->{desc}, HOSTILE_DESCRIPTION, '... and its description');
	is($r->{elements}, 0, '... no element made from it');
	is($r->{pwned}, undef, '... and none of its script ran');
}

# Figures: the error rate and reports of a model with reports.
{
	my $r = $p->js(<<'JS');
(() => {
	const tr = document.querySelector('tr[data-model-id="openai/gpt-oss-20b:free"]');
	return [...tr.querySelectorAll('td')].map(td => td.textContent.trim());
})()
JS
	is($r->[2], '50 %', 'error rate shown');
	is($r->[3], '2', 'reports shown');
}

# --- The CSP holds in the browser. ------------------------------------------
{
	$p->clear;
	my $r = $p->js(<<'JS');
(async () => {
	const seen = [];
	document.addEventListener('securitypolicyviolation',
	    e => seen.push(e.violatedDirective));
	const s = document.createElement('script');
	s.textContent = 'window.__inline = 1';
	document.head.append(s);
	const d = document.createElement('div');
	d.setAttribute('onclick', 'window.__inline = 2');
	document.body.append(d);
	d.click();
	const st = document.createElement('style');
	st.textContent = 'body { display: none }';
	document.head.append(st);
	await new Promise(r => setTimeout(r, 200));
	return { inline: window.__inline === undefined ? null : window.__inline,
	    hidden: getComputedStyle(document.body).display === 'none',
	    seen: seen.sort() };
})()
JS
	is($r->{inline}, undef, 'CSP: an inline script and handler do not run');
	ok(!$r->{hidden}, 'CSP: an inline stylesheet does not apply');
	ok(grep({ /^script-src/ } @{ $r->{seen} }) && grep({ /^style-src/ } @{ $r->{seen} }),
	    'CSP: the browser reports the violations') or diag(explain $r->{seen});
	$p->clear;
}

# --- Controls and the URL. ---------------------------------------------------
sub set_control {
	my ($js) = @_;
	$p->clear;
	$p->js("(() => { const f = document.getElementById('controls'); $js })()");
	$p->pump(0.2);
}

set_control(q{f.elements.sort.value = 'newest';
    f.elements.sort.dispatchEvent(new Event('change', { bubbles: true }))});
settle('sort=newest');
like($p->js('location.search'), qr/(?:^\?|&)sort=newest(?:&|$)/,
    'the sort is kept in the URL');
is_deeply(page_ids(), demo_ids('sort=newest&timeRange=24h&source=all'),
    'sorted by newest: the listing\'s models');

set_control(q{const b = f.querySelector('input[value=tools]'); b.click()});
settle('filter=tools');
like($p->js('location.search'), qr/filter=tools/, 'the filter is kept in the URL');
is_deeply(page_ids(), demo_ids('filter=tools&sort=newest&timeRange=24h&source=all'),
    'filtered to tools: the listing\'s models');

# A reload of a shared link shows the same view.
$p->clear;
$p->go("$base/?timeRange=7d&sort=leastIssues&topN=3");
settle('a link with a query');
is($p->js('document.getElementById("controls").elements.timeRange.value'), '7d',
    'the time range comes from the URL');
is_deeply(page_ids(), demo_ids('sort=leastIssues&timeRange=7d&source=all&topN=3'),
    'so do the sort and topN');
like((grep { m{/api/demo/models} } $p->requests)[0] // '', qr/timeRange=7d/,
    '... and reach the API');

# An error is shown in the API's words.
$p->go("$base/?topN=abc");
is(wait_state($p), 'error', 'a bad value in the URL: the error state');
like($p->js('document.getElementById("status").textContent'),
    qr/topN must be/, '... with the problem document\'s detail');
$p->clear;

# --- Keyboard: the skip link first, then the controls. ----------------------
$p->go("$base/");
settle('models page again');
{
	my @seen;
	# The skip link, the brand, the page links, then the form.
	for (1 .. 20) {
		$p->key('Tab');
		push @seen, $p->js('(e => e.tagName + (e.name ? ":" + e.name : "")'
		    . ' + (e.className ? "." + e.className : ""))(document.activeElement)');
		last if $seen[-1] =~ /^INPUT:filter/;
	}
	is($seen[0], 'A.skip', 'Tab first reaches the skip link') or diag("@seen");
	ok(grep({ /^INPUT:filter/ } @seen), 'the filters are reachable by Tab')
	    or diag("@seen");
	$p->js('document.querySelector(".skip").focus()');
	$p->key('Enter');
	$p->pump(0.2);
	is($p->js('location.hash'), '#main', 'the skip link jumps to the content');
}

# --- Screenshots: desktop, phone, dark. -------------------------------------
$p->screenshot("$shots/models-desktop.png", 1280, 900);
$p->screenshot("$shots/models-phone.png", 390, 844, mobile => 1);
ok($p->js('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    'phone width: nothing wider than the screen');
is($p->js('getComputedStyle(document.querySelector("#models thead")).display'),
    'none', 'phone width: models are cards, not table rows');
$p->call('Emulation.setEmulatedMedia', { features => [
    { name => 'prefers-color-scheme', value => 'dark' } ] });
$p->screenshot("$shots/models-dark.png", 1280, 900);
my $dark = $p->js('getComputedStyle(document.documentElement).backgroundColor');
$p->call('Emulation.setEmulatedMedia', { features => [
    { name => 'prefers-color-scheme', value => 'light' } ] });
my $light = $p->js('getComputedStyle(document.documentElement).backgroundColor');
isnt($dark, $light, "dark and light follow the system ($dark, $light)");
for my $f (qw(models-empty models-desktop models-phone models-dark)) {
	my $png = FLR::Pg::slurp("$shots/$f.png");
	ok(substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n", "screenshot $f.png written");
}
page_is_clean($p, $base, 'models page after the screenshots');

done_testing;
