# The rollup is exact: feedback_counts() over any window equals a
# count(*) of the raw reports in it — for reports placed just inside
# and just outside each window's edge, across minute, hour and day
# boundaries, for everybody and for one user, and for random windows
# over random history.  Runs against PostgreSQL alone.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;

my $pg = FLR::Pg->new;
$pg->psql("INSERT INTO free_models (id, name) VALUES ('m/a', 'A'), ('m/b', 'B')");
my ($u1, $u2) = split /\n/, $pg->psql(
    "INSERT INTO users (email) VALUES ('u1\@x'), ('u2\@x') RETURNING id");

# A fixed reference instant T, a little after a day boundary, so the
# 15m…30d windows all start in the middle of some bucket.
my $T = "'2026-03-10 00:07:23.456+00'::timestamptz";
my %win = ('15m' => '15 minutes', '30m' => '30 minutes', '1h' => '1 hour',
    '6h' => '6 hours', '24h' => '24 hours', '7d' => '7 days', '30d' => '30 days');

# Reports at each window edge ± 1 ms and ± 1 s, and on either side of
# every bucket boundary near each edge and near T.
my @offsets;
for my $w (values %win) {
	push @offsets, map { "$T - interval '$w' + interval '$_'" }
	    ('1 millisecond', '-1 millisecond', '1 second', '-1 second', '0');
}
for my $grain ('minute', 'hour', 'day') {
	for my $base ($T, map { "$T - interval '$_'" } values %win) {
		push @offsets, "date_trunc('$grain', $base) - interval '1 millisecond'",
		    "date_trunc('$grain', $base)",
		    "date_trunc('$grain', $base) + interval '1 millisecond'";
	}
}
my $i = 0;
my @rows;
for my $at (@offsets) {
	my $outcome = (qw(success rate_limited unavailable error))[$i % 4];
	my $user = (qw(NULL), $u1, $u2)[$i % 3];
	my $model = $i % 2 ? 'm/a' : 'm/b';
	push @rows, "('$model', $user, '$outcome', $at)";
	$i++;
}
$pg->psql('INSERT INTO model_feedback (model_id, user_id, outcome, created_at) VALUES '
    . join(',', @rows));
note(scalar(@rows) . ' reports at the edges');

# One statement per comparison: the rollup's answer next to the raw
# rows', per model and outcome, as text.
sub compare {
	my ($since, $uid, $name) = @_;
	my $filter = $uid ? "user_id = $uid" : 'true';
	my $got = $pg->psql("SELECT string_agg(format('%s:%s/%s/%s/%s', model_id,"
	    . " success_count, rate_limited, unavailable, error), ' ' ORDER BY model_id)"
	    . " FROM feedback_counts($since, " . ($uid || 0) . ")"
	    . " WHERE success_count + rate_limited + unavailable + error > 0");
	my $want = $pg->psql("SELECT string_agg(format('%s:%s/%s/%s/%s', model_id,"
	    . " s, rl, un, er), ' ' ORDER BY model_id) FROM (SELECT model_id,"
	    . " count(*) FILTER (WHERE outcome = 'success') s,"
	    . " count(*) FILTER (WHERE outcome = 'rate_limited') rl,"
	    . " count(*) FILTER (WHERE outcome = 'unavailable') un,"
	    . " count(*) FILTER (WHERE outcome = 'error') er"
	    . " FROM model_feedback WHERE $filter"
	    . ($since eq 'NULL' ? '' : " AND created_at >= $since")
	    . " GROUP BY model_id) x");
	is($got, $want, $name);
}

for my $range (sort keys %win) {
	for my $uid (0, $u1, $u2) {
		compare("$T - interval '$win{$range}'", $uid,
		    "$range window, " . ($uid ? "user $uid" : 'everybody'));
	}
}
compare('NULL', 0, 'all time, everybody');
compare('NULL', $u2, 'all time, one user');

# Random history: 20 000 reports over 40 days, 60 random windows.
$pg->psql("INSERT INTO model_feedback (model_id, user_id, outcome, created_at)"
    . " SELECT CASE WHEN random() < 0.5 THEN 'm/a' ELSE 'm/b' END,"
    . " (ARRAY[NULL, $u1, $u2])[1 + floor(random() * 3)::int],"
    . " (ARRAY['success','rate_limited','unavailable','error'])[1 + floor(random() * 4)::int],"
    . " $T - random() * interval '40 days' FROM generate_series(1, 20000)");
srand(42);
for my $n (1 .. 60) {
	my $secs = int(rand(35 * 86400)) + rand();
	my $uid = (0, $u1, $u2)[$n % 3];
	compare(sprintf("$T - interval '%.3f seconds'", $secs), $uid,
	    sprintf('random window of %.0f s, %s', $secs, $uid ? 'one user' : 'everybody'));
}

# The rollup never drifts from the raw rows in total either.
is($pg->psql("SELECT sum(success_count + rate_limited + unavailable + error)"
	. " FROM feedback_rollup WHERE grain = 86400 AND user_id = 0"),
    $pg->psql('SELECT count(*) FROM model_feedback'),
    'day buckets for everybody add up to every report');

done_testing;
