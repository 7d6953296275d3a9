# End to end: the data versions that every counted listing and every
# health answer reads (the ETag's inputs) cost one index probe each,
# however much history the tables hold.  On an instance that imported
# a large upstream history (tens of thousands of upstream_rollup rows),
# a request must not read that table: its oldest bucket inside the
# window is one probe of upstream_rollup_bucket_idx
# (schema/013_version_indexes.sql).  The database's own statistics
# (pg_stat_user_tables) count the rows each request read.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;

my $ROWS_MODELS = 40;
my $s = FLR::Stack->new(workers => 2);
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);
my $key = $s->create_key(email => 'reader@example.com', rate_limit_max => 100000);

# An imported upstream history: a day of minutes, 30 days of hours and
# of days, for 40 models (as an import leaves it: kind 'flr').
$s->psql(<<"SQL");
INSERT INTO upstream_rollup (grain, bucket, model_id, success_count,
    rate_limited, unavailable, error)
SELECT g.grain, date_trunc('minute', now()) - (i * g.grain) * interval '1 second',
       'upstream/m' || m, 3, 1, 0, 0
FROM (VALUES (60, 1440), (3600, 720), (86400, 30)) g (grain, n),
     generate_series(0, 1439) i, generate_series(1, $ROWS_MODELS) m
WHERE i < g.n;
ANALYZE upstream_rollup;
SQL
my $rows = $s->psql('SELECT count(*) FROM upstream_rollup');
cmp_ok($rows, '>', 80000, "$rows upstream buckets imported");

# Rows of upstream_rollup read by sequential scans, and probes of the
# bucket index, as the statistics show them once every backend has
# reported (they do within a second or so of going idle).
sub read_counts {
	my $row = $s->psql(q{SELECT t.seq_tup_read, coalesce(i.idx_scan, 0)
	    FROM pg_stat_user_tables t LEFT JOIN pg_stat_user_indexes i
	      ON i.relid = t.relid AND i.indexrelname = 'upstream_rollup_bucket_idx'
	    WHERE t.relname = 'upstream_rollup'});
	return split /\|/, $row;
}

sub listings {
	my ($n, $path) = @_;
	my $ok = 0;
	for (1 .. $n) {
		my ($r) = $s->get_json($path, { Authorization => "Bearer $key" });
		$ok++ if $r->{status} == 200;
	}
	return $ok;
}

# Warm up: each worker reads the counts of its first listing (which
# reads the upstream buckets of the window once) and keeps them.
is(listings(20, '/api/v1/models/ids'), 20, 'warm-up listings: 200');
sleep 1.5;
my ($seq0, $probes0) = read_counts();

my $N = 50;
is(listings($N, '/api/v1/models/ids'), $N, "$N more listings: 200");
my ($seq1, $probes1);
my $deadline = time + 30;
do { sleep 0.25; ($seq1, $probes1) = read_counts() }
    until $probes1 - $probes0 >= $N || time > $deadline;
cmp_ok($probes1 - $probes0, '>=', $N, 'each listing probed the bucket index');
is($seq1 - $seq0, 0, 'and none read upstream_rollup through (was '
    . "$rows rows per listing)");

# Health with its tag unchanged is the worker's copy: the versions again,
# one probe each.
is(listings(10, '/api/health?timeRange=30d'), 10, 'health warm-up: 200');
sleep 1.5;
($seq0, $probes0) = read_counts();
is(listings($N, '/api/health?timeRange=30d'), $N, "$N health answers: 200");
$deadline = time + 30;
do { sleep 0.25; ($seq1, $probes1) = read_counts() }
    until $probes1 - $probes0 >= $N || time > $deadline;
cmp_ok($probes1 - $probes0, '>=', $N, 'each health answer probed the bucket index');
is($seq1 - $seq0, 0, 'and none read upstream_rollup through');

done_testing;
