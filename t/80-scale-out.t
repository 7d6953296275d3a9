# End to end: scale-out on one machine.  Two flr-api pools, on
# 127.0.0.1 and 127.0.0.2 over TCP, behind one nginx upstream: both
# serve, a quota stays exact across them, and one going away leaves the
# other serving.  Then DATABASE_READ_URL names a streaming replica of
# the test cluster (pg_basebackup -R): the read-only routes are served
# from it and see what the primary wrote once it has replayed it; with
# the replica down, or its replay paused past FLR_READ_MAX_LAG_MS, they
# are served from the primary (200, never 503), and the replica is used
# again when it is back; a replica unreachable from the start leaves
# the primary serving.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Assert qw(json_of);

my $LAG_MS = 300;
my $pg = FLR::Pg->new;
my $s = FLR::Stack->new(pg => $pg, pools => 2, workers => 2,
    demo_rate => '1000r/s', env => { FLR_READ_MAX_LAG_MS => $LAG_MS });
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $model = $pg->psql(
    'SELECT id FROM free_models WHERE is_active ORDER BY id LIMIT 1');
my $uid = $pg->psql(q{INSERT INTO users (email) VALUES ('r@example.com')
    RETURNING id});

# { 'name{labels}' => value } of one pool's metrics (1 or 2).
sub scrape {
	my ($pool) = @_;
	my $r = $s->request('GET', $pool == 1 ? '/metrics' : '/metrics/pool2');
	return {} if $r->{status} != 200;
	my %v;
	for (split /\n/, $r->{content}) {
		next if /^#/;
		my ($k, $v) = /^(\S+) (\S+)$/ or next;
		$v{$k} = $v;
	}
	return \%v;
}

# A series summed over both pools (a stopped pool counts nothing).
sub total {
	my ($series) = @_;
	my $n = 0;
	$n += scrape($_)->{$series} // 0 for 1, 2;
	return $n;
}

sub reads { total('flr_db_reads_total{server="' . $_[0] . '"}') }

sub requests_of {
	my ($pool, $route, $status) = @_;
	my $series = 'flr_http_requests_total{method="GET",'
	    . "route=\"$route\",status=\"$status\"}";
	return scrape($pool)->{$series} // 0;
}

# Polls $check until it returns true or $timeout seconds pass.
sub eventually {
	my ($check, $timeout) = @_;
	my $deadline = time + ($timeout // 20);
	while (time < $deadline) {
		return 1 if $check->();
		sleep 0.1;
	}
	return $check->() ? 1 : 0;
}

# The three read-only routes once each: their statuses, in order.
sub read_routes {
	return join ',', map { $s->request('GET', $_)->{status} }
	    '/api/health?timeRange=24h', '/api/availability',
	    '/api/demo/models';
}

# The success count /api/health shows for $model (0 when not listed).
sub health_successes {
	my $r = $s->request('GET', '/api/health?timeRange=24h');
	return -1 if $r->{status} != 200;
	for my $m (@{ json_of($r)->{models} // [] }) {
		return $m->{successCount} if $m->{modelId} eq $model;
	}
	return 0;
}

# A report written on the primary, as the feedback route stores it.
sub report_on_primary {
	$pg->psql(q{INSERT INTO model_feedback (model_id, user_id, outcome)
	    VALUES (:'p1', :'p2', 'success')}, $model, $uid);
}

sub restart_workers {
	my (%env) = @_;
	$s->set_env(%env);
	$s->stop_workers;
	$s->start_workers;
}

# --- (a) Two pools behind one upstream both serve. -------------------
{
	like($s->pool2_address, qr/^127\.0\.0\.2:\d+$/, 'pool 2 on 127.0.0.2');
	my @before = map { requests_of($_, '/api/livez', 200) } 1, 2;
	my %st;
	$st{ $s->request('GET', '/api/livez')->{status} }++ for 1 .. 40;
	is_deeply(\%st, { 200 => 40 }, '40 requests through nginx: all 200');
	my @after = map { requests_of($_, '/api/livez', 200) } 1, 2;
	my @got = map { $after[$_] - $before[$_] } 0, 1;
	cmp_ok($got[0], '>', 0, "pool 1 (127.0.0.1) served $got[0]");
	cmp_ok($got[1], '>', 0, "pool 2 (127.0.0.2) served $got[1]");
	is($got[0] + $got[1], 40, 'between them, every request');
}

# --- (b) The quota is exact across both pools. ------------------------
{
	my ($limit, $clients, $total) = (60, 8, 160);
	my $key = $s->create_key(email => 'spread@example.com',
	    rate_limit_max => $limit);
	my @before = map { requests_of($_, '/api/v1/models/ids', 200) } 1, 2;
	my %status = %{ FLR::Stack::statuses_at_once($clients, $total, sub {
		$s->request('GET', '/api/v1/models/ids?topN=1',
		    { headers => { Authorization => "Bearer $key" } })->{status};
	}) };
	is($status{200} // 0, $limit, "$total counted requests: exactly $limit succeed");
	is($status{429} // 0, $total - $limit, '… the rest are refused (429)');
	is(join(',', sort keys %status), '200,429', '… and nothing else');
	my @ok = map { requests_of($_, '/api/v1/models/ids', 200) - $before[$_ - 1] }
	    1, 2;
	ok($ok[0] > 0 && $ok[1] > 0, "both pools counted successes ($ok[0], $ok[1])");
}

# --- (c) One pool stops: the other serves every request. --------------
{
	$s->stop_pool2;
	my %st;
	$st{ $s->request('GET', '/api/health')->{status} }++ for 1 .. 20;
	is_deeply(\%st, { 200 => 20 }, 'pool 2 stopped: 20 requests, all 200');
	$s->start_pool2;
	my $n0 = requests_of(2, '/api/livez', 200);
	ok(eventually(sub { $s->request('GET', '/api/livez');
	    requests_of(2, '/api/livez', 200) > $n0 }, 30),
	    'pool 2 started again: nginx sends it requests again');
}

# --- (d) A replica serves the read-only routes. -----------------------
my $replica = $pg->replica;
restart_workers(DATABASE_READ_URL => $replica->url);
{
	my $r0 = reads('replica');
	my $xacts = q{SELECT xact_commit FROM pg_stat_database
	    WHERE datname = 'flr'};
	my $x0 = $replica->psql($xacts);
	is(read_routes(), '200,200,200', 'health, availability, demo: 200');
	ok(eventually(sub {
		read_routes();
		reads('replica') >= $r0 + 6;
	}), 'the replica served them (flr_db_reads_total{server="replica"})')
	    or diag($s->api_log);
	# The replica's own statistics: its sessions ran the reads.
	ok(eventually(sub { read_routes(); $replica->psql($xacts) > $x0 + 3 }),
	    'the replica committed the reads (pg_stat_database)');
	is(scalar(() = $replica->psql(q{SELECT pid FROM pg_stat_activity
	    WHERE application_name = 'flr-api'}) =~ /\d+/g), 4,
	    'each of the four flr-api workers holds a replica session');

	my $before = health_successes();
	report_on_primary();
	$replica->wait_replayed;
	my $r1 = reads('replica');
	is(health_successes(), $before + 1,
	    'a report written on the primary shows once the replica replayed it');
	# A check that ran between the write and its replay saw a lag, and
	# left the primary serving for a second.
	ok(eventually(sub { health_successes() == $before + 1
	    && reads('replica') > $r1 }), '… served by the replica');
}

# --- (e) Replica down: the primary serves; back: the replica again. ----
# A client reads without a pause while the replica stops: each worker
# meets the dead replica under a request before its next check, and
# that request runs again on the primary.
{
	my $f0 = reads('fallback');
	my $stop = $s->dir . '/stop-reading';
	pipe(my $rd, my $wr) or die "pipe: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		close $rd;
		my %count;
		my $first = 1;
		while (!-e $stop) {
			$count{$_}++ for split /,/, read_routes();
			print {$wr} "reading\n" if $first;
			$first = 0;
			$wr->flush;
		}
		print {$wr} join(',', map { "$_=$count{$_}" } keys %count), "\n";
		close $wr;
		POSIX::_exit(0);
	}
	close $wr;
	readline($rd);
	$replica->stop;
	my $fell_back = eventually(sub { reads('fallback') > $f0 });
	my $f1 = reads('primary');
	open my $fh, '>', $stop or die "$stop: $!";
	close $fh;
	my $line = readline($rd) // '';
	waitpid($pid, 0);
	chomp $line;
	my %st = map { split /=/ } split /,/, $line;
	is(join(',', keys %st), '200', "replica stopped under $st{200} reads: all 200");
	ok($fell_back, 'reads the replica failed under ran again on the primary');
	my %after;
	for (1 .. 5) { $after{$_}++ for split /,/, read_routes() }
	is_deeply(\%after, { 200 => 15 }, 'replica down: 15 reads, all 200');
	cmp_ok(reads('primary'), '>=', $f1 + 15, '… from the primary');
	$replica->start;
	my $r0 = reads('replica');
	ok(eventually(sub { read_routes() eq '200,200,200'
	    && reads('replica') > $r0 }, 30),
	    'replica back: it serves again');
}

# --- (f) Replay paused past the bound: the primary, with fresh data. ---
{
	$replica->wait_replayed;
	my $before = health_successes();
	$replica->pause_replay;
	report_on_primary();
	my $on_replica = q{SELECT count(*) FROM model_feedback};
	isnt($replica->psql($on_replica), $pg->psql($on_replica),
	    'paused: the replica has not replayed the report');
	# A worker looks at its replica at most a second apart: once the
	# lag is past the bound, a second later every worker's last look,
	# or the one its next request makes, saw it past the bound.
	my $lag = q{SELECT CASE WHEN pg_last_wal_receive_lsn()
	    <= pg_last_wal_replay_lsn() THEN 0 ELSE (extract(epoch FROM now()
	    - pg_last_xact_replay_timestamp()) * 1000)::bigint END};
	ok(eventually(sub { ($replica->psql($lag) || 0) > $LAG_MS }),
	    "the replica's replay lag passed ${LAG_MS} ms");
	my $past = time;
	ok(eventually(sub { time > $past + 1.2
	    && ($replica->psql($lag) || 0) > $LAG_MS }),
	    '… and stayed past it for a check interval');
	my $p0 = reads('primary');
	my $r0 = reads('replica');
	my @seen = map { health_successes() } 1 .. 8;
	is_deeply(\@seen, [ ($before + 1) x 8 ],
	    '/api/health shows the fresh report, every time')
	    or diag(join '', grep { /replica|=====/ } split /^/m, $s->api_log . "=====\n" . $s->api2_log);
	is(reads('replica'), $r0, '… none from the replica');
	cmp_ok(reads('primary'), '>=', $p0 + 8, '… all from the primary');
	ok(eventually(sub { health_successes();
	    ($s->api_log . $s->api2_log) =~ /read replica not used: .*replay lag/ }),
	    'the workers said why');
	$replica->resume_replay;
	$replica->wait_replayed;
	ok(eventually(sub { health_successes() == $before + 1
	    && reads('replica') > $r0 }), 'resumed: the replica serves again');
}

# --- (g) A replica unreachable from the start. ------------------------
{
	$replica->stop;
	my $nowhere = 'postgresql://flr@127.0.0.1:' . FLR::Pg::free_port()
	    . '/flr?connect_timeout=2';
	restart_workers(DATABASE_READ_URL => $nowhere);
	my $p0 = reads('primary');
	my $r0 = reads('replica');
	my %st;
	for (1 .. 4) { $st{$_}++ for split /,/, read_routes() }
	is_deeply(\%st, { 200 => 12 }, 'unreachable replica: 12 reads, all 200');
	is(reads('replica'), $r0, '… none from it');
	cmp_ok(reads('primary'), '>=', $p0 + 12, '… all from the primary');
	like($s->api_log, qr/read replica unreachable/, 'the workers said so');
}

is_deeply([ $s->dead ], [], 'nothing died');
done_testing;
