# GET /metrics: the Prometheus text of the whole worker pool, from the
# shared segment every worker counts into.  promtool accepts a real
# scrape; requests known by route and status, made so that each of the
# four workers serves some of them, show up exactly in the counters,
# whichever worker answers the scrape; a worker killed with SIGKILL and
# replaced takes nothing from the totals; an address nginx does not list
# gets the 403 problem document; and a database outage is counted (503s,
# errors, reconnects) while the scrape still answers.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $promtool = FLR::Pg::find_bin('promtool');
# Missing tools are a failure, never a skip (t/bin/deps --check has it).
ok($promtool, 'promtool is installed (Debian package prometheus)')
    or diag('run t/bin/deps --check (make check does)');

# A long statement timeout: requests wait on a row lock below.
my $s = FLR::Stack->new(workers => 4,
    env => { FLR_STATEMENT_TIMEOUT_MS => 60000 });
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);
my $main = $s->create_key_full(email => 'metrics@example.com',
    rate_limit_max => 1_000_000);
my $key = $main->{key};
my $spent = $s->create_key(email => 'spent@example.com', rate_limit_max => 0);
my %auth = (Authorization => "Bearer $key");
my $model = $s->psql('SELECT id FROM free_models WHERE is_active ORDER BY id LIMIT 1');

# ($response, { 'name{labels}' => value }) of one scrape.
sub scrape {
	my $r = $s->request('GET', '/metrics');
	my %v;
	for (split /\n/, $r->{content} // '') {
		next if /^#/ || !/\S/;
		my ($series, $value) = /^(\S+(?:\{[^}]*\})?) (\S+)$/ or next;
		$v{$series} = $value;
	}
	return ($r, \%v);
}

sub req {
	my ($method, $path, $headers, $body) = @_;
	return $s->request($method, $path, { headers => $headers // {},
	    defined $body ? (content => $body) : () });
}

sub feedback {
	my ($body, %h) = @_;
	return req('POST', '/api/v1/models/feedback', { %auth,
	    'Content-Type' => 'application/json', %h }, $body);
}

sub series {
	my ($method, $route, $status) = @_;
	return sprintf 'flr_http_requests_total{method="%s",route="%s",status="%s"}',
	    $method, $route, $status;
}

# Every series whose value moved from $a to $b, scrapes of /metrics
# itself left out: { series => difference }.
sub delta {
	my ($a, $b) = @_;
	my %d;
	for my $k (keys %$b) {
		next if $k =~ /route="\/metrics"/ || $k !~ /_total|_count\{/;
		my $diff = $b->{$k} - ($a->{$k} // 0);
		$d{$k} = $diff if $diff;
	}
	return \%d;
}

# --- The text. ---------------------------------------------------------------
{
	req('GET', '/api/health');
	req('GET', '/api/v1/models/ids?topN=2', \%auth);
	req('GET', '/api/nope');
	req('GET', '/api/v1/models/ids', { Authorization => "Bearer $spent" });
	feedback(qq({"modelId":"$model","success":true}));
	my ($r, $v) = scrape();
	is($r->{status}, 200, 'GET /metrics from 127.0.0.1: 200');
	is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
	    'the text exposition format');
	is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
	like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f-]{36}$/, 'X-Request-Id');
	SKIP: {
		skip 'no promtool', 2 if !$promtool;
		my ($code, $out, $perr) = FLR::Pg::run([ $promtool, 'check', 'metrics' ],
		    stdin => $r->{content}, env => FLR::Pg::clean_env());
		is($code, 0, 'promtool check metrics: exit 0') or diag($out, $perr);
		is("$out$perr", '', 'promtool check metrics: no complaint');
	}
	for my $family (qw(flr_http_requests_total flr_http_request_duration_seconds
	    flr_http_unavailable_total flr_quota_refusals_total
	    flr_reports_stored_total flr_db_errors_total flr_db_reconnects_total
	    flr_key_lookups_total flr_key_refusals_total flr_body_copies_total
	    flr_db_reads_total
	    flr_worker_starts_total flr_db_up flr_catalog_active_models
	    flr_catalog_sync_age_seconds flr_upstream_import_age_seconds)) {
		like($r->{content}, qr/^# TYPE \Q$family\E (?:counter|gauge|histogram)$/m,
		    "family $family");
	}
	is($v->{flr_worker_starts_total}, 4, 'four workers started');
	is($v->{flr_db_up}, 1, 'flr_db_up 1');
	is($v->{flr_catalog_active_models},
	    $s->psql('SELECT count(*) FROM free_models WHERE is_active'),
	    'flr_catalog_active_models: the active models');
	ok(defined $v->{flr_catalog_sync_age_seconds}
	    && $v->{flr_catalog_sync_age_seconds} >= 0
	    && $v->{flr_catalog_sync_age_seconds} < 3600,
	    'flr_catalog_sync_age_seconds: the sync just made')
	    or diag($v->{flr_catalog_sync_age_seconds} // 'absent');
	ok(!exists $v->{flr_upstream_import_age_seconds},
	    'no upstream import yet: no sample');
	$s->psql(q{UPDATE upstream_meta SET last_success_at = now() - interval '90 seconds'});
	($r, $v) = scrape();
	my $age = $v->{flr_upstream_import_age_seconds};
	ok(defined $age && $age >= 90 && $age < 3600,
	    'flr_upstream_import_age_seconds once imported') or diag($age // 'absent');
	unlike($r->{content}, qr/route="[^"]*nope/, 'raw paths are never labels');
	is($v->{series('other', 'unmatched', 404)}, 1, 'a 404 counts as unmatched');
	my $h = $s->request('HEAD', '/metrics');
	ok($h->{status} == 200 && ($h->{content} // '') eq '', 'HEAD /metrics: no body');
}

# --- Exact counts, every worker serving. ------------------------------------
# A transaction holds the user's row, so each counted request of that
# user waits for it inside a worker: four waiting at once are four
# workers (one connection each).  Then the lock goes and all four answer.
sub psql_session { FLR::Pg::psql_session($s->database_url) }

sub waiting_workers {
	return $s->psql(q{SELECT count(DISTINCT pid) FROM pg_stat_activity
	    WHERE application_name = 'flr-api' AND wait_event_type = 'Lock'});
}

my $rounds = 3;
my ($r0, $before) = scrape();
my $spread_ok = 1;
for my $round (1 .. $rounds) {
	my $lock = psql_session();
	print {$lock} "BEGIN;\nSELECT 1 AS held FROM users WHERE id = $main->{user_id}"
	    . " FOR UPDATE;\n";
	# The session holds the lock once it idles in its transaction.
	my $deadline = time + 60;
	sleep 0.05 until $s->psql(q{SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'SELECT 1 AS held %' AND state = 'idle in transaction'})
	    || time > $deadline;
	my @kids;
	for (1 .. 4) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			my $r = $s->request('GET', '/api/v1/models/ids?topN=1',
			    { headers => \%auth });
			POSIX::_exit($r->{status} == 200 ? 0 : 1);
		}
		push @kids, $pid;
	}
	sleep 0.05 until waiting_workers() == 4 || time > $deadline;
	my $waiting = waiting_workers();
	$spread_ok &&= $waiting == 4;
	print {$lock} "COMMIT;\n";
	close $lock;
	my $ok = 0;
	for (@kids) { waitpid($_, 0); $ok++ if $? == 0 }
	is($ok, 4, "round $round: four requests waited in $waiting workers, all 200");
}
ok($spread_ok, 'every round had all four workers busy at once');

# Then a known mix, in sequence, to whichever worker takes it.
my %want;
sub sent { $want{$_[0]} += $_[1] // 1 }
sent(series('GET', '/api/v1/models/ids', 200), 4 * $rounds);
# Every key below is looked up in the database once per request (the one
# unknown key is sent once): flr_key_lookups_total counts them.
sent('flr_key_lookups_total', 4 * $rounds);
for (1 .. 7) { req('GET', '/api/health?timeRange=6h') }
sent(series('GET', '/api/health', 200), 7);
# A read-only route: without DATABASE_READ_URL, the primary answers.
sent('flr_db_reads_total{server="primary"}', 7);
for (1 .. 3) { req('GET', "/api/nope$_") }
sent(series('other', 'unmatched', 404), 3);
req('PATCH', '/api/health');
sent(series('other', 'unmatched', 405));
req('OPTIONS', '/api/health');
sent(series('other', 'unmatched', 204));
for (1 .. 2) { req('GET', '/api/v1/models/full', { Authorization => "Bearer $spent" }) }
sent(series('GET', '/api/v1/models/full', 429), 2);
sent('flr_key_lookups_total', 2);
sent('flr_quota_refusals_total{method="GET",route="/api/v1/models/full"}', 2);
req('GET', '/api/v1/models/ids', { Authorization => 'Bearer fma_' . ('A' x 43) });
sent(series('GET', '/api/v1/models/ids', 401));
sent('flr_key_lookups_total');
is(feedback(qq({"modelId":"$model","success":true}))->{status}, 200, 'a report');
is(feedback(qq({"modelId":"$model","issue":"error"}))->{status}, 200, 'an issue');
is(feedback(qq({"modelId":"$model","issue":"error","dryRun":true}))->{status}, 200,
    'a dry run');
for (1 .. 2) {
	feedback(qq({"modelId":"$model","issue":"unavailable"}),
	    'Idempotency-Key' => 'metrics-replay-1');
}
sent(series('POST', '/api/v1/models/feedback', 200), 5);
sent('flr_key_lookups_total', 5);
sent('flr_reports_stored_total{outcome="success"}');
sent('flr_reports_stored_total{outcome="error"}');
sent('flr_reports_stored_total{outcome="unavailable"}'); # once, then replayed
is(feedback('{"modelId":"no/such:free","success":true}')->{status}, 422, 'unknown model');
sent(series('POST', '/api/v1/models/feedback', 422));
sent('flr_key_lookups_total');
req('GET', '/api/v1/keys', { Authorization => 'Bearer not-a-key' });
sent(series('GET', '/api/v1/keys', 401));
sent('flr_key_refusals_total{reason="malformed"}');
# Every request's latency is observed once, in its route's histogram.
for my $k (keys %{ { %want } }) {
	my ($labels) = $k =~ /^flr_http_requests_total\{(method="[^"]*",route="[^"]*"),/
	    or next;
	$want{"flr_http_request_duration_seconds_count{$labels}"} += $want{$k};
}
my ($r1, $after) = scrape();
my $moved = delta($before, $after);
# Which worker takes which health request is the kernel's choice: each
# was either built or its worker's copy (t/79-health-copies.t says which).
my ($built, $hit) = map { delete $moved->{"flr_body_copies_total{result=\"$_\"}"} // 0 }
    qw(built hit);
is($built + $hit, 7, 'each health answer counted as built or as a copy');
cmp_ok($built, '>=', 1, 'the first one built');
is_deeply($moved, \%want,
    'the counters moved by exactly what was sent, across all workers')
    or diag(explain($moved));

# --- A worker killed and replaced. -------------------------------------------
sub workers {
	my $mw = $s->pids->{api};
	my @w;
	for my $st (glob '/proc/[0-9]*/status') {
		open my $fh, '<', $st or next;
		my $t = do { local $/; <$fh> };
		push @w, $st =~ m{/proc/(\d+)/} if $t =~ /^Name:\s+flr-api$/m
		    && $t =~ /^PPid:\s+$mw$/m;
	}
	return sort { $a <=> $b } @w;
}
{
	my @w = workers();
	is(scalar @w, 4, 'four workers under multiwatch');
	my ($r, $v0) = scrape();
	my $victim = $w[0];
	ok(kill('KILL', $victim), "SIGKILL to worker $victim");
	my $deadline = time + 30;
	my @now;
	while (time < $deadline) {
		@now = workers();
		last if @now == 4 && !grep { $_ == $victim } @now;
		sleep 0.05;
	}
	ok(@now == 4 && !grep({ $_ == $victim } @now), 'multiwatch started a replacement')
	    or diag("workers: @now");
	# A replacement maps the segment before it takes a request.
	my $v1;
	for (1 .. 40) {
		(undef, $v1) = scrape();
		last if $v1->{flr_worker_starts_total} > $v0->{flr_worker_starts_total};
		sleep 0.05;
	}
	is($v1->{flr_worker_starts_total}, $v0->{flr_worker_starts_total} + 1,
	    'flr_worker_starts_total counts the replacement');
	my @down = grep { /_total|_bucket|_count|_sum/ && $v1->{$_} < $v0->{$_} }
	    grep { exists $v1->{$_} } keys %$v0;
	my @gone = grep { /_total|_bucket|_count|_sum/ && !exists $v1->{$_} } keys %$v0;
	is("@down@gone", '', 'no counter went down or vanished');
	is($v1->{series('GET', '/api/health', 200)}, $v0->{series('GET', '/api/health', 200)},
	    'the totals are what they were');
	for (1 .. 8) { req('GET', '/api/health') }
	my (undef, $v2) = scrape();
	is($v2->{series('GET', '/api/health', 200)} - $v1->{series('GET', '/api/health', 200)},
	    8, 'and go on counting, the replacement among the workers');
}

# --- Only the listed addresses. ---------------------------------------------
{
	my (undef, $v0) = scrape();
	my $other = HTTP::Tiny->new(local_address => '127.0.0.2', timeout => 15);
	my $r = $other->get($s->url('/metrics'));
	problem_is($r, 403, 'forbidden', undef, '/metrics from 127.0.0.2: 403 problem');
	like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f-]{36}$/, 'with an X-Request-Id');
	is($other->get($s->url('/api/livez'))->{status}, 200,
	    'the API itself answers 127.0.0.2');
	my (undef, $v1) = scrape();
	is(($v1->{series('GET', '/metrics', 200)} // 0)
	    - ($v0->{series('GET', '/metrics', 200)} // 0), 1,
	    'the refused scrape never reached a worker');
}

# --- The router pool: a segment and a scrape of its own. ------------------
{
	my $scrape = sub {
		my $r = $s->request('GET', '/metrics/router');
		my %v;
		for (split /\n/, $r->{content} // '') {
			my ($k, $x) = /^(\S+(?:\{[^}]*\})?) (\S+)$/ or next;
			$v{$k} = $x unless /^#/;
		}
		return ($r, \%v);
	};
	my (undef, $api0) = scrape();
	my ($r0, $v0) = $scrape->();
	is($r0->{status}, 200, 'GET /metrics/router from 127.0.0.1: 200');
	like($r0->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
	    '/metrics/router: the Prometheus text format');
	is($v0->{flr_worker_starts_total}, $s->{router_workers},
	    '/metrics/router: the router pool\'s workers, none of flr-api\'s');
	# Without a body or a key the router refuses; each refusal counts.
	for (1 .. 3) {
		req('POST', '/api/v1/chat/completions',
		    { 'Content-Type' => 'application/json' }, '{}');
	}
	my (undef, $v1) = $scrape->();
	my $chat = series('POST', '/api/v1/chat/completions', 401);
	is(($v1->{$chat} // 0) - ($v0->{$chat} // 0), 3,
	    '/metrics/router: the three refused chat calls');
	my (undef, $api) = scrape();
	ok(!exists $api->{$chat}, '/metrics (flr-api\'s) has no chat series');
	is($api->{flr_worker_starts_total}, $api0->{flr_worker_starts_total},
	    '... and no router worker among its starts');
	my $other = HTTP::Tiny->new(local_address => '127.0.0.2', timeout => 15);
	problem_is($other->get($s->url('/metrics/router')), 403, 'forbidden', undef,
	    '/metrics/router from 127.0.0.2: 403 problem');
}

# --- The database away. -------------------------------------------------------
{
	# Every worker holds a connection first.
	for (1 .. 8) { req('GET', '/api/v1/models/ids?topN=1', \%auth) }
	my (undef, $v0) = scrape();
	$s->pg->stop;
	my $n503 = 0;
	for (1 .. 3) {
		$n503++ if req('GET', '/api/v1/models/ids?topN=1', \%auth)->{status} == 503;
	}
	is($n503, 3, 'database down: 503');
	my ($r, $v1) = scrape();
	is($r->{status}, 200, 'the scrape still answers');
	is($v1->{flr_db_up}, 0, 'flr_db_up 0');
	ok(!exists $v1->{flr_catalog_active_models}, 'no catalogue gauge without the database');
	is($v1->{'flr_http_unavailable_total{method="GET",route="/api/v1/models/ids"}'}
	    - ($v0->{'flr_http_unavailable_total{method="GET",route="/api/v1/models/ids"}'} // 0),
	    3, 'flr_http_unavailable_total: the three 503s');
	my $errors = sub { my ($v) = @_; my $n = 0; $n += $v->{qq{flr_db_errors_total{kind="$_"}}} for qw(connect lost statement); $n };
	ok($errors->($v1) > $errors->($v0), 'flr_db_errors_total counted the outage');
	$s->pg->start;
	my $ok = 0;
	for (1 .. 8) { $ok++ if req('GET', '/api/v1/models/ids?topN=1', \%auth)->{status} == 200 }
	is($ok, 8, 'database back: 200');
	my (undef, $v2) = scrape();
	ok($v2->{flr_db_reconnects_total} > $v0->{flr_db_reconnects_total},
	    'flr_db_reconnects_total counted the reconnections')
	    or diag("$v0->{flr_db_reconnects_total} then $v2->{flr_db_reconnects_total}");
	is($v2->{flr_db_up}, 1, 'flr_db_up 1 again');
}

done_testing;
