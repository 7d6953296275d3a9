# The site's health and availability pages in headless Chromium: with
# no reports the health page says so; after reports posted here (now and
# two hours ago) its chart has one line per model /api/health lists, a
# point for every interval in which that model has reports, at the
# interval's error rate, and a table of the same figures; the window is
# kept in the URL.  The availability page shows a row per model and a
# cell per day of /api/availability's `dates`, filled exactly where the
# model's `availability` says so.  Both load without console errors or
# requests to another host, at desktop and phone width (screenshots
# kept under the build folder).
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
my $c = browser();
my $p = $c->page;

# --- No reports yet. ----------------------------------------------------------
$p->go("$base/health");
is(wait_state($p), 'empty', 'health without reports: the empty state');
like($p->js('document.getElementById("status").textContent'),
    qr/No reports in the last 24h/, '... in words');
page_is_clean($p, $base, 'empty health page');

# --- Reports: now through the API, two hours ago straight in the table. -------
my $who = $s->create_key_full(email => 'charts@example.com', rate_limit_max => 1000);
my %auth = (Authorization => "Bearer $who->{key}");
my ($A, $B) = ('openai/gpt-oss-20b:free', 'z-ai/glm-5.2:free');
for my $r ([ $A, { success => JSON::PP::true } ], [ $A, { success => JSON::PP::true } ],
    [ $A, { success => JSON::PP::true } ], [ $A, { issue => 'error' } ],
    [ $B, { issue => 'rate_limited' } ], [ $B, { success => JSON::PP::true } ]) {
	my ($res) = $s->json_request('POST', '/api/v1/models/feedback',
	    { modelId => $r->[0], %{ $r->[1] } }, \%auth);
	is($res->{status}, 200, "report on $r->[0]") or diag($res->{content});
}
$s->psql("INSERT INTO model_feedback (model_id, user_id, outcome, created_at)"
    . " SELECT '$A', $who->{user_id}, 'unavailable', now() - interval '2 hours'"
    . " FROM generate_series(1, 2)");

my ($res, $health) = $s->get_json('/api/health?timeRange=6h&topN=8');
is($res->{status}, 200, 'GET /api/health?timeRange=6h');
my @models = @{ $health->{models} };
cmp_ok(scalar @models, '>=', 2, 'health lists the reported models');

$p->clear;
$p->go("$base/health?timeRange=6h");
is(wait_state($p), 'ready', 'health page with reports: ready');
page_is_clean($p, $base, 'health page');

my $chart = $p->js(<<'JS');
[...document.querySelectorAll('#chart svg g.series')].map(g => ({
	id: g.dataset.modelId,
	rates: [...g.querySelectorAll('circle')].map(c => Number(c.dataset.rate)),
	lines: g.querySelectorAll('polyline').length,
}))
JS
is_deeply([ map { $_->{id} } @$chart ], [ map { $_->{modelId} } @models ],
    'one line per model /api/health lists, in its order');
for my $m (@models) {
	my @want = map { $_->{counts}{$m->{modelId}} ? $_->{counts}{$m->{modelId}}{errorRate} : () }
	    @{ $health->{timeline} };
	my ($got) = grep { $_->{id} eq $m->{modelId} } @$chart;
	is_deeply($got && $got->{rates}, \@want,
	    "$m->{modelId}: a point per interval with reports, at its error rate");
}
my ($a_line) = grep { $_->{id} eq $A } @$chart;
is(scalar @{ $a_line->{rates} // [] }, 2,
    "$A: reports now and two hours ago, two points");
is_deeply($p->js('[...document.querySelectorAll("#chart .legend li")].map(li => li.textContent)'),
    [ map { $_->{modelName} } @models ], 'the legend names the models');
is_deeply($p->js('[...document.querySelectorAll("#health tbody tr")].map(tr => tr.dataset.modelId)'),
    [ map { $_->{modelId} } @models ], 'the table lists the same models');
is($p->js('document.querySelectorAll("#chart svg [style]").length'), 0,
    'the chart carries no style attribute');

$p->screenshot("$shots/health-desktop.png", 1280, 900);
$p->screenshot("$shots/health-phone.png", 390, 844, mobile => 1);
ok($p->js('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    'health at phone width: nothing wider than the screen');
$p->viewport(1280, 900);

# The window control changes the URL and the query.
$p->clear;
$p->js(q{(() => { const f = document.getElementById('controls');
    f.elements.timeRange.value = '7d';
    f.elements.timeRange.dispatchEvent(new Event('change', { bubbles: true })) })()});
is(wait_state($p), 'ready', 'another window: ready');
like($p->js('location.search'), qr/timeRange=7d/, 'the window is kept in the URL');
like((grep { m{/api/health} } $p->requests)[0] // '', qr/timeRange=7d/,
    '... and asked of the API');
is($p->js('document.querySelectorAll("#chart svg g.series").length'),
    scalar @{ ($s->get_json('/api/health?timeRange=7d&topN=8'))[1]{models} },
    'the 7d chart has a line per model of that window');

# --- Availability. -----------------------------------------------------------
# The model was also seen three days ago; nobody saw it in between.
$s->psql("INSERT INTO model_availability_snapshots (model_id, day)"
    . " VALUES ('$A', (now() AT TIME ZONE 'UTC')::date - 3)");
my ($ares, $avail) = $s->get_json('/api/availability?days=7');
is($ares->{status}, 200, 'GET /api/availability?days=7');
$p->clear;
$p->go("$base/availability?days=7");
is(wait_state($p), 'ready', 'availability page: ready');
page_is_clean($p, $base, 'availability page');
is_deeply($p->js('[...document.querySelectorAll("#availability thead th.day")].map(th => th.title)'),
    $avail->{dates}, 'a column per day of the window');
is_deeply($p->js('[...document.querySelectorAll("#availability tbody tr")].map(tr => tr.dataset.modelId)'),
    [ map { $_->{modelId} } @{ $avail->{models} } ], 'a row per model');
my $cells = $p->js(<<'JS');
Object.fromEntries([...document.querySelectorAll('#availability tbody tr')].map(tr =>
	[tr.dataset.modelId, [...tr.querySelectorAll('td.day')].map(td => td.classList.contains('on'))]))
JS
my $same = 1;
for my $m (@{ $avail->{models} }) {
	my @want = map { $m->{availability}{$_} ? JSON::PP::true : JSON::PP::false } @{ $avail->{dates} };
	$same = 0 if join(',', map { $_ ? 1 : 0 } @want)
	    ne join(',', map { $_ ? 1 : 0 } @{ $cells->{$m->{modelId}} // [] });
}
ok($same, 'each cell is filled exactly when the model was offered that day');
my @a_days = @{ $cells->{$A} // [] };
is(scalar(grep { $_ } @a_days), 2, "$A: two days offered (today and three days ago)");
$p->screenshot("$shots/availability-desktop.png", 1280, 900);
$p->screenshot("$shots/availability-phone.png", 390, 844, mobile => 1);
$p->viewport(1280, 900);
$p->clear;
$p->js(q{(() => { const f = document.getElementById('controls');
    f.elements.days.value = '30';
    f.elements.days.dispatchEvent(new Event('change', { bubbles: true })) })()});
is(wait_state($p), 'ready', 'another window: ready');
like($p->js('location.search'), qr/^$/, 'the default window leaves the URL plain');
is($p->js('document.querySelectorAll("#availability thead th.day").length'), 30,
    '30 days: 30 columns');
page_is_clean($p, $base, 'availability page after a change');

done_testing;
