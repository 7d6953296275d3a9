# End to end: GET /api/health (SPEC.md §4) and GET /api/availability —
# which models are listed, their counts, the order, every timeline
# bucket UTC-aligned and present even when empty, myReports, and what
# each bad parameter gets.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of both_modes);

my $s = FLR::Stack->new(workers => 2);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $key = $s->create_key(email => 'me@example.com');
my $me = $pg->psql("SELECT id FROM users WHERE email = 'me\@example.com'");
my $other = $pg->psql("INSERT INTO users (email) VALUES ('them\@example.com')"
    . " RETURNING id");

sub health {
	my ($q, %h) = @_;
	return $s->request('GET', "/api/health$q", { headers => \%h });
}

# Nothing reported yet: an empty list, and still every bucket.
{
	my $r = health('');
	is($r->{status}, 200, 'public: no key needed');
	is($r->{headers}{'cache-control'}, 'public, max-age=60', 'Cache-Control');
	my $doc = json_of($r);
	is_deeply($doc->{models}, [], 'no reports: no models');
	is($doc->{count}, 0, 'count 0');
	is($doc->{timeRange}, '24h', 'default window 24h');
	is(scalar @{ $doc->{timeline} }, 24, '24 hourly buckets even when empty');
	like($doc->{generatedAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
	    'generatedAt');
}

my ($a, $b, $c) = ('openai/gpt-oss-20b:free', 'z-ai/glm-5.2:free',
    'nvidia/nemotron-nano-9b-v2:free');
sub report {
	my ($model, $outcome, $n, $uid, $age) = @_;
	$pg->psql("INSERT INTO model_feedback (model_id, user_id, outcome, created_at)"
	    . " SELECT '$model', $uid, '$outcome', now() - interval '$age'"
	    . " FROM generate_series(1, $n)");
}
report($a, 'error', 3, $other, '0 seconds');
report($a, 'success', 1, $other, '0 seconds');
report($b, 'rate_limited', 1, $me, '0 seconds');
report($b, 'success', 9, $me, '0 seconds');
report($c, 'unavailable', 5, $other, '3 hours');
report($c, 'success', 5, $other, '3 days');
$pg->psql("UPDATE free_models SET is_active = false WHERE id = '$c'");

# --- The list. -----------------------------------------------------------
{
	my $doc = json_of(health(''));
	is_deeply([map { $_->{modelId} } @{ $doc->{models} }], [$c, $a, $b],
	    'default order: most issues first');
	my %m = map { $_->{modelId} => $_ } @{ $doc->{models} };
	is_deeply([@{ $m{$a} }{qw(successCount rateLimited unavailable error
	    issueCount reports errorRate)}], [1, 0, 0, 3, 3, 4, 75], 'counts of a');
	is_deeply([@{ $m{$c} }{qw(issueCount reports errorRate)}], [5, 5, 100],
	    'counts of c (its old successes are outside 24h)');
	ok(!$m{$c}{isActive} && $m{$a}{isActive}, 'isActive, inactive included');
	is($m{$a}{modelName}, 'OpenAI: gpt-oss-20b (free)', 'modelName');
	ok(exists $m{$a}{contextLength} && exists $m{$a}{supportedParameters},
	    'catalogue fields come along');

	$doc = json_of(health('?sort=leastIssues'));
	is_deeply([map { $_->{modelId} } @{ $doc->{models} }], [$b, $a, $c],
	    'sort=leastIssues');
	$doc = json_of(health('?maxErrorRate=80&topN=1'));
	is_deeply([map { $_->{modelId} } @{ $doc->{models} }], [$a],
	    'maxErrorRate then topN');
	$doc = json_of(health('?timeRange=1h'));
	is_deeply([sort map { $_->{modelId} } @{ $doc->{models} }], [sort $a, $b],
	    '1h leaves out reports from 3 hours ago');
	$doc = json_of(health('?timeRange=7d'));
	my ($cc) = grep { $_->{modelId} eq $c } @{ $doc->{models} };
	is($cc->{reports}, 10, '7d takes in reports from 3 days ago');
	$doc = json_of(health('?filter=vision'));
	is_deeply($doc->{models}, [], 'filter applies to capabilities');
}

# --- The timeline: each window's buckets, aligned, oldest first. --------
{
	my %shape = ('15m' => [60, 15], '30m' => [60, 30], '1h' => [60, 60],
	    '6h' => [3600, 6], '24h' => [3600, 24], '7d' => [86400, 7],
	    '30d' => [86400, 30]);
	my $now = $pg->psql('SELECT extract(epoch FROM now())::bigint');
	for my $range (sort keys %shape) {
		my ($grain, $count) = @{ $shape{$range} };
		my $doc = json_of(health("?timeRange=$range"));
		my @t = @{ $doc->{timeline} };
		is(scalar @t, $count, "$range: $count buckets");
		my @starts = map { iso_epoch($_->{start}) } @t;
		ok(!grep({ $_ % $grain } @starts), "$range: UTC-aligned to $grain s");
		ok(!grep({ $starts[$_] - $starts[$_ - 1] != $grain } 1 .. $#starts),
		    "$range: consecutive, oldest first");
		my $last = $starts[-1];
		ok($last <= $now + 5 && $last + $grain > $now - 5,
		    "$range: the last bucket holds now");
	}
	my $doc = json_of(health('?timeRange=6h'));
	my @t = @{ $doc->{timeline} };
	is_deeply($t[-1]{counts}{$a}, { errorCount => 3, totalCount => 4, errorRate => 75 },
	    '6h: this hour holds a’s reports') or diag explain $t[-1];
	my ($ago3) = grep { exists $_->{counts}{$c} } @t;
	ok($ago3, '6h: c’s reports from 3 hours ago are in an earlier bucket');
	is_deeply($ago3->{counts}{$c}, { errorCount => 5, totalCount => 5,
	    errorRate => 100 }, '6h: … with their counts');
	is(scalar(grep { !%{ $_->{counts} } } @t), 4, '6h: the other 4 buckets are empty');
	$doc = json_of(health('?timeRange=24h&topN=1'));
	ok(!grep({ exists $_->{counts}{$b} } @{ $doc->{timeline} }),
	    'the timeline shows only listed models');
}

# --- myReports. -----------------------------------------------------------
{
	problem_is(health('?myReports=true'), 401, 'missing_auth', undef,
	    'myReports without a key → 401');
	problem_is(health('?myReports=true', Authorization => 'Bearer fma_' . ('x' x 43)),
	    401, 'invalid_key', undef, 'myReports with an unknown key → 401');
	my $r = health('?myReports=true', Authorization => "Bearer $key");
	is($r->{status}, 200, 'myReports with a key');
	is($r->{headers}{'cache-control'}, 'private, max-age=60',
	    'one’s own reports are not publicly cacheable');
	is_deeply([map { $_->{modelId} } @{ json_of($r)->{models} }], [$b],
	    'myReports: only models I reported');
	is(health('?myReports=false')->{status}, 200, 'myReports=false needs no key');
}

# --- Bad parameters. ------------------------------------------------------
# Each: query, strict status, code, param; lenient status, X-FLR-Adjusted.
for my $row (
    ['timeRange=all', 400, 'invalid_parameter', 'timeRange', 200,
	'timeRange;was="all";now="24h";rule=default'],
    ['range=all', 400, 'invalid_parameter', 'timeRange', 200,
	'range;was="all";now="24h";rule=default'],
    ['timeRange=2h', 400, 'invalid_parameter', 'timeRange', 400, ''],
    ['range=1h&timeWindow=1h', 400, 'duplicate_parameter', 'timeRange', 400, ''],
    ['sort=best', 400, 'invalid_parameter', 'sort', 400, ''],
    ['topN=0', 400, 'invalid_parameter', 'topN', 200,
	'topN;was="0";now="1";rule=clamped'],
    ['topN=101', 400, 'invalid_parameter', 'topN', 200,
	'topN;was="101";now="100";rule=clamped'],
    ['maxErrorRate=100.5', 400, 'invalid_parameter', 'maxErrorRate', 200,
	'maxErrorRate;was="100.5";now="100";rule=clamped'],
    ['minReports=x', 400, 'invalid_parameter', 'minReports', 400, ''],
    ['filter=cheap', 400, 'invalid_parameter', 'filter', 200,
	'filter;was="cheap";now="";rule=dropped'],
    ['useCases=', 400, 'invalid_parameter', 'filter', 200,
	'useCases;was="";rule=empty'],
    ['myReports=maybe', 400, 'invalid_parameter', 'myReports', 400, '']) {
	my $q = $row->[0];
	both_modes(sub { health("?$q", %{ $_[0] }) }, $row, 'health');
}
is($s->request('POST', '/api/health')->{status}, 405, 'POST /api/health → 405');

# --- Availability. --------------------------------------------------------
{
	my $r = $s->request('GET', '/api/availability?days=1');
	is($r->{status}, 200, 'availability: 200, public');
	my $doc = json_of($r);
	is($doc->{count}, 20, 'every synced model was seen today');
	my $today = $pg->psql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
	is_deeply($doc->{models}[0]{daysSeen}, [$today], 'daysSeen: today');
	$pg->psql("INSERT INTO model_availability_snapshots (model_id, day)"
	    . " VALUES ('$a', (now() AT TIME ZONE 'UTC')::date - 5)");
	($r, $doc) = $s->get_json('/api/availability?days=7');
	my ($ma) = grep { $_->{modelId} eq $a } @{ $doc->{models} };
	is(scalar @{ $ma->{daysSeen} }, 2, 'days=7 takes in 5 days ago');
	($r, $doc) = $s->get_json('/api/availability?days=5');
	($ma) = grep { $_->{modelId} eq $a } @{ $doc->{models} };
	is(scalar @{ $ma->{daysSeen} }, 1, 'days=5 does not');
	for my $row (['days=0', 400, 'invalid_parameter', 'days', 200,
		'days;was="0";now="1";rule=clamped'],
	    ['days=91', 400, 'invalid_parameter', 'days', 200,
		'days;was="91";now="90";rule=clamped'],
	    ['days=abc', 400, 'invalid_parameter', 'days', 400, ''],
	    ['days=', 400, 'invalid_parameter', 'days', 200,
		'days;was="";rule=empty'],
	    ['sort=bogus', 400, 'invalid_parameter', 'sort', 400, '']) {
		my $q = $row->[0];
		both_modes(sub {
			$s->request('GET', "/api/availability?$q",
			    { headers => $_[0] })
		}, $row, 'availability');
	}
	problem_is($s->request('GET', '/api/availability?days=1&days=2'), 400,
	    'duplicate_parameter', 'days', 'days twice → 400');
}

sub iso_epoch {
	my ($iso) = @_;
	my ($y, $mo, $d, $h, $mi, $sec) =
	    $iso =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.\d+Z$/ or return -1;
	require Time::Local;
	return Time::Local::timegm($sec, $mi, $h, $d, $mo - 1, $y);
}

done_testing;
