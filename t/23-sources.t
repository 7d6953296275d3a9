# Health sources as the API reads them (flr-sync fills the tables; this
# file puts rows there itself, so it tests the reading alone): an
# upstream's counts and error rates, OpenRouter's endpoint statistics,
# source=local|upstream|all, sort=healthiest|uptime|latency, minUptime,
# and the export another instance imports.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $fixture = "$FindBin::Bin/fixtures/openrouter-models.json";
my $s = FLR::Stack->new(workers => 2);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(url => "file://$fixture");
is($rc, 0, 'the snapshot loads') or diag($err);
my $key = $s->create_key(email => 'sources@example.com');
my @ids = split /\n/, $pg->psql('SELECT id FROM free_models WHERE is_active ORDER BY id');
my ($a, $b, $c, $d) = @ids[0 .. 3];

sub get {
	my ($path, %h) = @_;
	my $r = $s->request('GET', $path,
	    { headers => { Authorization => "Bearer $key", %h } });
	return ($r, json_of($r));
}

sub ids { my ($path) = @_; return (get($path))[1]{ids} }

sub report {
	my ($model, $outcome, $n) = @_;
	my $body = $outcome eq 'success'
	    ? qq({"modelId":"$model","success":true})
	    : qq({"modelId":"$model","issue":"$outcome"});
	for (1 .. $n) {
		my $r = $s->request('POST', '/api/v1/models/feedback', {
			headers => { Authorization => "Bearer $key",
			    'Content-Type' => 'application/json' },
			content => $body });
		die "report: $r->{status} $r->{content}" if $r->{status} != 200;
	}
}

# --- A fresh instance: no evidence anywhere. -------------------------------
{
	my ($r, $doc) = get('/api/v1/models/full?sort=healthiest');
	is($r->{status}, 200, 'sort=healthiest on a fresh instance');
	is(scalar(grep { defined $_->{score} } @{ $doc->{models} }), 0,
	    'no evidence: every score is null');
	is($doc->{source}, 'all', 'source defaults to all');
	is($doc->{upstream}, undef, 'no upstream: upstream is null');
	my $m = $doc->{models}[0];
	is($m->{openrouter}, undef, 'never fetched: openrouter is null');
	is_deeply($m->{sources}{local}, { successCount => 0, rateLimited => 0,
	    unavailable => 0, error => 0, reports => 0, errorRate => 0 },
	    'local counts, all zero');
	is_deeply(ids('/api/v1/models/ids?sort=healthiest'),
	    ids('/api/v1/models/ids'), 'no evidence: the ties order (context length, id)');
}

# --- Only an upstream: ranked by its data before our first report. ---------
$pg->psql(<<"SQL");
INSERT INTO upstream_rollup (grain, bucket, model_id, success_count,
	rate_limited, unavailable, error)
SELECT g, date_trunc(CASE g WHEN 60 THEN 'minute' WHEN 3600 THEN 'hour'
	ELSE 'day' END, now(), 'UTC'), m, s, rl, un, er
FROM (VALUES ('$a', 0, 0, 5, 5), ('$b', 100, 1, 0, 0), ('$c', 3, 0, 0, 0),
	('not/ours:free', 9, 0, 0, 0)) v (m, s, rl, un, er),
	(VALUES (60), (3600), (86400)) grains (g);
UPDATE upstream_meta SET url = 'http://upstream.test', kind = 'flr',
	last_success_at = now() - interval '90 seconds', last_attempt_at = now(),
	models = 4, rows = 4, version = version + 1;
SQL
{
	my $top = ids('/api/v1/models/ids?sort=healthiest&topN=3');
	is_deeply($top, [$b, $c, $a],
	    'healthiest: 101 reports with one issue, then 3 successes, then ten failures');
	my ($r, $doc) = get("/api/v1/models/full?sort=healthiest&topN=4");
	my %by = map { $_->{id} => $_ } @{ $doc->{models} };
	is($by{$b}{reports}, 101, 'merged counts include the upstream');
	is($by{$b}{sources}{upstream}{reports}, 101, 'upstream figures beside them');
	is($by{$b}{sources}{local}{reports}, 0, 'local figures beside them');
	ok(!defined $doc->{models}[3]{score}, 'a model without evidence ranks after those with some');
	is($doc->{upstream}{kind}, 'flr', 'the upstream is named by kind');
	ok($doc->{upstream}{ageSeconds} >= 89 && $doc->{upstream}{ageSeconds} < 200,
	    'and its data has an age');
	ok(!exists $doc->{upstream}{url}, 'its address is not published');
}

# --- source=local|upstream|all ---------------------------------------------
report($b, 'error', 3);
report($d, 'success', 2);
{
	my %n;
	for my $src (qw(local upstream all)) {
		my ($r, $doc) = get("/api/v1/models/full?source=$src&topN=100");
		is($doc->{source}, $src, "source=$src is stated");
		$n{$src} = { map { $_->{id} => $_->{reports} } @{ $doc->{models} } };
	}
	is($n{local}{$b}, 3, 'local: our three reports');
	is($n{upstream}{$b}, 101, 'upstream: its 101');
	is($n{all}{$b}, 104, 'all: both');
	is($n{upstream}{$d}, 0, 'upstream knows nothing of d');
	my $mine = (get('/api/v1/models/full?myReports=true&topN=100'))[1];
	my ($mb) = grep { $_->{id} eq $b } @{ $mine->{models} };
	is($mb->{reports}, 3, 'myReports: my own reports only, nothing upstream');
	my ($hr, $health) = $s->get_json('/api/health?source=upstream');
	my ($hb) = grep { $_->{modelId} eq $b } @{ $health->{models} };
	is($hb->{reports}, 101, 'health: source=upstream');
	is($hb->{sources}{local}{reports}, 3, 'health: local figures beside it');
	ok(!grep({ $_->{modelId} eq $d } @{ $health->{models} }),
	    'health: a model with only local reports is not an upstream one');
	problem_is((get('/api/v1/models/ids?source=remote'))[0], 400,
	    'invalid_parameter', 'source', 'source=remote → 400');
}

# --- The hosted service's rates: a prior, never counts. ---------------------
$pg->psql("INSERT INTO upstream_rates VALUES ('$d', '24h', 80), ('$c', '24h', 0)");
{
	my ($r, $doc) = get('/api/v1/models/full?topN=100');
	my %by = map { $_->{id} => $_ } @{ $doc->{models} };
	is($by{$d}{sources}{upstreamErrorRate}, 80, 'the upstream rate is shown');
	is($by{$d}{reports}, 2, 'and never turned into counts');
	ok($by{$c}{score} > $by{$d}{score}, 'it moves the healthiest score');
	($r, $doc) = get('/api/v1/models/full?topN=100&source=local');
	my ($ld) = grep { $_->{id} eq $d } @{ $doc->{models} };
	ok($ld->{score} > $by{$d}{score},
	    'source=local scores without it (two successes alone score higher)');
}

# --- OpenRouter's endpoint statistics. --------------------------------------
$pg->psql(<<"SQL");
INSERT INTO model_endpoint_stats (model_id, fetched_at, endpoints, uptime_5m,
	uptime_30m, uptime_1d, latency_p50_ms, throughput_p50, providers) VALUES
 ('$a', now(), 2, 100, 99.5, 98, 450, 80, '{p1,p2}'),
 ('$b', now(), 1, 50, 60, 70, NULL, 20, '{p1}'),
 ('$c', now(), 1, 90, 95, 96, 120, 30, '{p3}');
SQL
{
	my ($r, $doc) = get('/api/v1/models/full?topN=100');
	my %by = map { $_->{id} => $_ } @{ $doc->{models} };
	is_deeply([@{ $by{$a}{openrouter} }{qw(uptime5m uptime30m uptime1d latencyP50Ms throughputP50 endpoints)}],
	    [100, 99.5, 98, 450, 80, 2], 'openrouter figures');
	like($by{$a}{openrouter}{fetchedAt}, qr/^\d{4}-/, 'with their time');
	is($by{$b}{openrouter}{latencyP50Ms}, undef, 'latency unknown: null');
	is_deeply([@{ ids('/api/v1/models/ids?sort=uptime') }[0 .. 2]], [$a, $c, $b],
	    'sort=uptime: highest 30-minute uptime first');
	is_deeply([@{ ids('/api/v1/models/ids?sort=latency') }[0 .. 1]], [$c, $a],
	    'sort=latency: lowest first, unknown after');
	my $kept = ids('/api/v1/models/ids?minUptime=90&topN=100');
	ok(!grep({ $_ eq $b } @$kept), 'minUptime=90 drops b (60 %)');
	ok((grep { $_ eq $a } @$kept) && (grep { $_ eq $d } @$kept),
	    'and keeps a (99.5 %) and d (unknown)');
	($r) = get('/api/v1/models/ids?minUptime=120');
	is($r->{headers}{'x-flr-adjusted'}, 'minUptime;was="120";now="100";rule=clamped',
	    'minUptime is clamped like every number');
}

# --- ETags follow every source. ------------------------------------------------
{
	my ($r) = get('/api/v1/models/full?topN=100');
	my $tag = $r->{headers}{etag};
	ok($tag, 'an ETag');
	($r) = get('/api/v1/models/full?topN=100', 'If-None-Match' => $tag);
	is($r->{status}, 304, 'unchanged: 304');
	($r) = get('/api/v1/models/full?topN=100&source=local', 'If-None-Match' => $tag);
	is($r->{status}, 200, 'another source: another tag');
	($r) = get('/api/v1/models/full?topN=100&minUptime=50', 'If-None-Match' => $tag);
	is($r->{status}, 200, 'another minUptime: another tag');
	$pg->psql("UPDATE model_endpoint_stats SET fetched_at = now(), uptime_30m = 10"
	    . " WHERE model_id = '$c'");
	($r) = get('/api/v1/models/full?topN=100', 'If-None-Match' => $tag);
	is($r->{status}, 200, 'new endpoint statistics: a new tag');
	$tag = $r->{headers}{etag};
	$pg->psql("UPDATE upstream_meta SET version = version + 1");
	($r) = get('/api/v1/models/full?topN=100', 'If-None-Match' => $tag);
	is($r->{status}, 200, 'a new upstream import: a new tag');
}

# --- The export: our own reports only. --------------------------------------
{
	my $r = $s->request('GET', '/api/federation/export');
	my $doc = json_of($r);
	is($r->{status}, 200, 'export: public');
	is($r->{headers}{'cache-control'}, 'public, max-age=60', 'cacheable');
	is($doc->{format}, 'flr-federation/1', 'format');
	is_deeply($doc->{columns}, [qw(grain bucket modelId success rateLimited unavailable error)],
	    'columns');
	my %sum;
	for my $row (@{ $doc->{rows} }) {
		next if $row->[0] != 60;
		$sum{ $row->[2] }[$_] += $row->[ 3 + $_ ] for 0 .. 3;
	}
	is_deeply($sum{$b}, [0, 0, 0, 3], 'b: our three errors, not the upstream\'s 101');
	is_deeply($sum{$d}, [2, 0, 0, 0], 'd: our two successes');
	ok(!exists $sum{'not/ours:free'}, 'nothing imported is exported again');
	my %grains = map { $_->[0] => 1 } @{ $doc->{rows} };
	is_deeply([sort keys %grains], [3600, 60, 86400], 'all three grains');
	ok(!grep({ $_->[3] + $_->[4] + $_->[5] + $_->[6] == 0 } @{ $doc->{rows} }),
	    'only buckets with reports');
}

done_testing;
