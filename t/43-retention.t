# End to end: retention (SPEC.md §7) by POST /api/admin/cleanup and by
# flr-sync after its sync — exactly what is older than each cutoff goes,
# the feedback rollup keeps matching the raw reports (at the cutoff's
# edge too), the periods are configurable, and a large cleanup (200k
# old reports) runs in small batches while new reports keep being
# stored without waiting on it.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(json_of);

my $SECRET = 'retention-test-admin-secret-0123';
my $FIXTURE = "file://$FindBin::Bin/fixtures/openrouter-models.json";
my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $SECRET });
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(url => $FIXTURE);
is($rc, 0, 'snapshot loaded') or diag($err);
my @M = split /\n/, $pg->psql('SELECT id FROM free_models ORDER BY id LIMIT 3');
my %ADMIN = ('X-Admin-Secret' => $SECRET);

sub admin_key {
	my ($email) = @_;
	my ($res, $doc) = $s->json_request('POST', '/api/admin/keys',
	    { email => $email, name => 'k' }, \%ADMIN);
	die "admin key: $res->{status} $res->{content}" if $res->{status} != 201;
	return $doc;
}
my $owner = admin_key('owner@example.com');
my $UID = $owner->{userId};

sub cleanup {
	my $res = $s->request('POST', '/api/admin/cleanup', { headers => \%ADMIN });
	is($res->{status}, 200, 'cleanup: 200') or diag $res->{content};
	return json_of($res);
}

# "D days ago" as SQL, in whole 24-hour days as the service counts them.
sub ago { my ($d, $extra) = @_; "now() - interval '" . (24 * $d) . " hours'" . ($extra // '') }

sub report {
	my ($model, $outcome, $at, $user) = @_;
	$pg->psql("INSERT INTO model_feedback (model_id, user_id, outcome, created_at) "
	    . "VALUES (:'p1', " . ($user // 'NULL') . ", :'p2', $at)", $model, $outcome);
}

# The rollup, summed per grain, model and user, against the raw reports:
# equal at every grain, or the health figures of some window lie.
sub rollup_matches {
	my ($name) = @_;
	my $raw = $pg->psql(q{
		SELECT string_agg(format('%s/%s:%s,%s,%s,%s', model_id, u, s, rl, un, er), ' '
		    ORDER BY model_id, u)
		FROM (SELECT model_id, u,
		    count(*) FILTER (WHERE outcome = 'success') s,
		    count(*) FILTER (WHERE outcome = 'rate_limited') rl,
		    count(*) FILTER (WHERE outcome = 'unavailable') un,
		    count(*) FILTER (WHERE outcome = 'error') er
		  FROM model_feedback f CROSS JOIN LATERAL
		    (SELECT 0::bigint UNION ALL SELECT f.user_id WHERE f.user_id IS NOT NULL) x (u)
		  GROUP BY 1, 2) c});
	my $ok = 1;
	for my $g (60, 3600, 86400) {
		my $roll = $pg->psql(qq{
			SELECT string_agg(format('%s/%s:%s,%s,%s,%s', model_id, user_id, s, rl, un, er), ' '
			    ORDER BY model_id, user_id)
			FROM (SELECT model_id, user_id, sum(success_count) s, sum(rate_limited) rl,
			    sum(unavailable) un, sum(error) er
			  FROM feedback_rollup WHERE grain = $g GROUP BY 1, 2
			  HAVING sum(success_count + rate_limited + unavailable + error) > 0) c});
		$ok &&= is($roll, $raw, "$name: the $g s rollup equals the raw reports");
	}
	my $all = $pg->psql(q{SELECT string_agg(format('%s:%s,%s,%s,%s', model_id,
	    success_count, rate_limited, unavailable, error), ' ' ORDER BY model_id)
	    FROM feedback_counts(NULL, 0)
	    WHERE success_count + rate_limited + unavailable + error > 0});
	my $want = $pg->psql(q{SELECT string_agg(format('%s:%s,%s,%s,%s', model_id, s, rl, un, er), ' '
	    ORDER BY model_id) FROM (SELECT model_id,
	    count(*) FILTER (WHERE outcome = 'success') s,
	    count(*) FILTER (WHERE outcome = 'rate_limited') rl,
	    count(*) FILTER (WHERE outcome = 'unavailable') un,
	    count(*) FILTER (WHERE outcome = 'error') er
	    FROM model_feedback GROUP BY 1) c});
	is($all, $want, "$name: timeRange=all counts equal the raw reports");
	return $ok;
}

# --- Exactly what is older than each cutoff goes. -------------------------------
{
	my @r = (
		[ $M[0], 'error', ago(91), $UID ],
		[ $M[1], 'success', ago(120), undef ],
		# Around the 90-day cutoff: in the same day (and likely hour)
		# bucket, on either side of it.
		[ $M[0], 'success', ago(90, " - interval '2 minutes'"), $UID ],
		[ $M[0], 'rate_limited', ago(90, " - interval '1 second'"), undef ],
		[ $M[0], 'unavailable', ago(90, " + interval '2 minutes'"), $UID ],
		[ $M[0], 'error', ago(90, " + interval '3 minutes'"), undef ],
		[ $M[1], 'error', ago(89), $UID ],
		[ $M[2], 'success', 'now()', $UID ],
	);
	report(@$_) for @r;
	$pg->psql("INSERT INTO api_request_logs (id, user_id, endpoint, status, duration_ms, created_at) VALUES "
	    . "(gen_random_uuid(), $UID, '/old', 200, 1, " . ago(31) . "),"
	    . "(gen_random_uuid(), $UID, '/old', 200, 1, " . ago(30, " - interval '1 minute'") . "),"
	    . "(gen_random_uuid(), $UID, '/kept', 200, 1, " . ago(30, " + interval '2 minutes'") . "),"
	    . "(gen_random_uuid(), $UID, '/kept', 200, 1, now())");
	# Availability: the UTC day that holds the 90-day instant is kept.
	my $edge = "((" . ago(90) . ") AT TIME ZONE 'UTC')::date";
	$pg->psql("INSERT INTO model_availability_snapshots (model_id, day) VALUES "
	    . "(:'p1', $edge - 1), (:'p1', $edge - 30), (:'p2', $edge - 1), "
	    . "(:'p1', $edge), (:'p1', $edge + 1)", $M[0], $M[1]);
	ok(rollup_matches('before'), 'the rollup is exact to begin with');

	my $doc = cleanup();
	is_deeply($doc->{deleted}{modelFeedback}, 4, 'four reports were older than 90 days');
	is($doc->{deleted}{apiRequestLogs}, 2, 'two request logs older than 30 days');
	is($doc->{deleted}{availabilitySnapshots}, 3, 'three availability days before the cutoff day');
	ok($doc->{complete}, 'complete');
	ok($doc->{deleted}{feedbackRollup} > 0, "old rollup rows went too ($doc->{deleted}{feedbackRollup})");
	is($pg->psql("SELECT string_agg(outcome, ',' ORDER BY created_at) FROM model_feedback"),
	    'unavailable,error,error,success', 'the reports left are the newer ones');
	is($pg->psql("SELECT string_agg(endpoint, ',') FROM api_request_logs WHERE endpoint IN ('/old', '/kept')"),
	    '/kept,/kept', 'the request logs left are the newer ones');
	is($pg->psql("SELECT count(*) FROM model_availability_snapshots WHERE day < $edge"), 0,
	    'no availability day before the cutoff day');
	is($pg->psql("SELECT count(*) FROM model_availability_snapshots WHERE day IN ($edge, $edge + 1)"), 2,
	    'the cutoff day and later are kept');
	ok(rollup_matches('after the cutoff'), 'the rollup still matches, at the edge too');
	is($pg->psql("SELECT count(*) FROM feedback_rollup WHERE bucket + make_interval(secs => grain) <= "
	    . "'$doc->{cutoffs}{modelFeedback}'::timestamptz"), 0,
	    'no rollup bucket that ends before the cutoff is left');

	$doc = cleanup();
	is_deeply([@{$doc->{deleted}}{qw(modelFeedback apiRequestLogs availabilitySnapshots)}],
	    [0, 0, 0], 'a second cleanup finds nothing');
}

# --- flr-sync cleans up after its sync, with the configured periods. --------------
{
	report($M[0], 'error', ago(100), $UID);
	my ($code, $out, $e) = $s->run_sync(url => $FIXTURE);
	is($code, 0, 'flr-sync: exit 0') or diag $e;
	my @lines = split /\n/, $out;
	is(scalar @lines, 2, 'two lines: the sync and the cleanup');
	like($lines[1] // '', qr/^flr-sync: retention deleted 1 reports \(and \d+ rollup rows\), 0 request logs, 0 availability days \(\d+ ms\)$/,
	    'the cleanup line');
	is($e, '', 'nothing on stderr');
	($code, $out) = $s->run_sync(url => $FIXTURE);
	my @one = split /\n/, $out;
	is(scalar @one, 1, 'nothing old: no cleanup line');

	report($M[0], 'error', ago(20), $UID);
	$pg->psql("INSERT INTO api_request_logs (id, endpoint, status, duration_ms, created_at) "
	    . "VALUES (gen_random_uuid(), '/ten', 200, 1, " . ago(11) . ")");
	($code, $out, $e) = $s->run_sync(url => $FIXTURE, env => {
	    FLR_FEEDBACK_RETENTION_DAYS => 10, FLR_REQUEST_LOG_RETENTION_DAYS => 10 });
	is($code, 0, 'with 10-day periods') or diag $e;
	is($pg->psql("SELECT count(*) FROM model_feedback WHERE created_at < " . ago(10)), 0,
	    'no report older than 10 days is left');
	is($pg->psql("SELECT count(*) FROM api_request_logs WHERE endpoint = '/ten'"), 0,
	    'nor a request log');
	ok(rollup_matches('10-day period'), 'the rollup matches');

	report($M[0], 'error', ago(100), $UID);
	($code, $out, $e) = $s->run_sync(url => "$FIXTURE.missing");
	is($code, 1, 'a sync that fails upstream: exit 1');
	is($pg->psql("SELECT count(*) FROM model_feedback WHERE created_at < " . ago(90)), 0,
	    'the cleanup ran all the same');
	like($e, qr/\Aflr-sync: [^\n]*\n\z/, 'stderr is still the one line of the failure');
}

# --- 200k old reports, deleted while new ones keep coming. ---------------------------
{
	my $n = 200000;
	# Loaded the fast way: without the per-row trigger, and the rollup
	# built in one aggregate (the trigger's result, as the checks below
	# confirm).
	my $t0 = time;
	$pg->psql(<<"SQL", @M);
SET session_replication_role = replica;
INSERT INTO model_feedback (model_id, user_id, outcome, details, created_at)
SELECT (ARRAY[:'p1', :'p2', :'p3'])[i % 3 + 1],
       CASE WHEN i % 2 = 0 THEN $UID END,
       (ARRAY['success', 'rate_limited', 'unavailable', 'error'])[i % 4 + 1],
       'bulk',
       now() - interval '2184 hours' - i * interval '13 seconds'
FROM generate_series(1, $n) AS i;
INSERT INTO feedback_rollup AS r (grain, bucket, user_id, model_id,
    success_count, rate_limited, unavailable, error)
SELECT g, feedback_bucket(f.created_at, g), u, f.model_id,
       count(*) FILTER (WHERE outcome = 'success'),
       count(*) FILTER (WHERE outcome = 'rate_limited'),
       count(*) FILTER (WHERE outcome = 'unavailable'),
       count(*) FILTER (WHERE outcome = 'error')
FROM model_feedback f
CROSS JOIN unnest(ARRAY[60, 3600, 86400]) AS g
CROSS JOIN LATERAL (SELECT 0::bigint UNION ALL
    SELECT f.user_id WHERE f.user_id IS NOT NULL) AS x (u)
WHERE f.details = 'bulk'
GROUP BY 1, 2, 3, 4
ON CONFLICT (grain, user_id, bucket, model_id) DO UPDATE
SET success_count = r.success_count + excluded.success_count,
    rate_limited = r.rate_limited + excluded.rate_limited,
    unavailable = r.unavailable + excluded.unavailable,
    error = r.error + excluded.error;
ANALYZE model_feedback;
ANALYZE feedback_rollup;
SQL
	diag(sprintf '%d old reports and their rollup loaded in %.1f s', $n, time - $t0);
	ok(rollup_matches('200k loaded'), 'the bulk rollup is exact');
	my $rollup_rows = $pg->psql('SELECT count(*) FROM feedback_rollup');

	# Reporters: four users, so the hourly report limit never bites.
	my @keys = map { admin_key("reporter$_\@example.com")->{key} } 1 .. 4;

	# The cleanup in a child, through the API; it calls again while
	# the answer says there is more (a slow machine may need that).
	my $out = $s->dir . '/cleanup.json';
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my %sum;
		my $t = time;
		for (1 .. 20) {
			my $res = $s->request('POST', '/api/admin/cleanup', { headers => \%ADMIN });
			my $d = json_of($res) // {};
			$sum{status} = $res->{status};
			$sum{$_} += $d->{deleted}{$_} // 0 for qw(modelFeedback feedbackRollup);
			$sum{calls}++;
			last if $res->{status} != 200 || $d->{complete};
		}
		$sum{seconds} = time - $t;
		open my $fh, '>', $out;
		print {$fh} JSON::PP->new->encode(\%sum);
		close $fh;
		POSIX::_exit(0);
	}
	# Meanwhile: reports, one after another, each timed.
	my ($posts, $ok, $max) = (0, 0, 0);
	my $i = 0;
	my $deadline = time + 600;
	while (waitpid($pid, POSIX::WNOHANG()) == 0 && time < $deadline) {
		my $t = time;
		my ($res) = $s->json_request('POST', '/api/v1/models/feedback',
		    { modelId => $M[$i % 3], success => JSON::PP::true },
		    { Authorization => "Bearer $keys[$i % 4]" });
		my $dt = time - $t;
		$max = $dt if $dt > $max;
		$posts++;
		$ok++ if $res->{status} == 200;
		$i++;
		sleep 0.01;
	}
	my $sum = JSON::PP->new->decode(FLR::Pg::slurp($out) || '{}');
	diag(sprintf 'cleanup: %d reports and %d rollup rows in %.1f s (%d call%s); '
	    . 'meanwhile %d reports stored, the slowest in %.0f ms',
	    $sum->{modelFeedback} // 0, $sum->{feedbackRollup} // 0,
	    $sum->{seconds} // 0, $sum->{calls} // 0, ($sum->{calls} // 0) == 1 ? '' : 's',
	    $ok, $max * 1000);
	is($sum->{status}, 200, 'the cleanup answered 200');
	is($sum->{modelFeedback}, $n, 'it deleted the 200k old reports');
	ok($posts > 0, "reports were posted during the cleanup ($posts)");
	is($ok, $posts, 'every one of them was stored');
	# Generous on purpose: a loaded 2-core machine must not flake this.
	# A cleanup that held a lock the inserts need would stall them for
	# the whole cleanup.
	ok($max < 3, sprintf('no report waited on the cleanup (slowest %.0f ms)', $max * 1000));
	is($pg->psql("SELECT count(*) FROM model_feedback WHERE details = 'bulk'"), 0,
	    'no old report is left');
	ok($pg->psql('SELECT count(*) FROM feedback_rollup') < $rollup_rows,
	    'the old rollup rows went with them');
	ok(rollup_matches('after 200k'), 'and the rollup matches the reports');
}

done_testing();
