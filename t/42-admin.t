# End to end: the admin routes (SPEC.md §6) behind X-Admin-Secret — the
# gate on every route (missing, wrong, disabled), key management by
# email with every bad body from t/data/admin-keys-bad-input.tsv and the
# ten-key limit under racing requests, the sync route (fresh, forced,
# busy, failing upstream) and the cleanup route's answer.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);
use Time::Local qw(timegm);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of read_table);

my $SECRET = 'admin-test-secret-0123456789abcdef';
my $FIXTURE = "$FindBin::Bin/fixtures/openrouter-models.json";
my $LOCK_KEY = 7246002;    # shared/sql.c, SYNC_LOCK_KEY
# Hundreds of admin requests in a few seconds: far over the admin
# routes' limit per address, which t/76 tests.
my $s = FLR::Stack->new(workers => 2, admin_rate => '1000r/s',
    env => { ADMIN_SECRET => $SECRET, OPENROUTER_MODELS_URL => "file://$FIXTURE",
    FLR_SYNC_RETRY_DELAY_MS => 10 });
my $pg = $s->pg;
my %ADMIN = ('X-Admin-Secret' => $SECRET);
my $NIL = '00000000-0000-4000-8000-000000000000';

sub admin {
	my ($method, $path, $body, $headers) = @_;
	$headers //= \%ADMIN;
	return $s->json_request($method, $path, $body, $headers) if defined $body;
	my $res = $s->request($method, $path, { headers => $headers });
	return ($res, json_of($res));
}
sub iso_ms {
	my @f = $_[0] =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$/
	    or return undef;
	return timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]) * 1000 + $f[6];
}
sub db_ms { $pg->psql("SELECT (extract(epoch FROM $_[0]) * 1000)::bigint") }

# Every admin route, for the gate.
my @ROUTES = (
	[ 'POST', '/api/admin/keys', { email => 'gate@example.com', name => 'k' } ],
	[ 'GET', '/api/admin/keys?email=gate@example.com' ],
	[ 'DELETE', "/api/admin/keys/$NIL" ],
	[ 'POST', '/api/admin/sync-models?force=true' ],
	[ 'POST', '/api/admin/cleanup' ],
);

# --- The gate. ---------------------------------------------------------------
for my $r (@ROUTES) {
	my ($m, $p, $body) = @$r;
	problem_is((admin($m, $p, $body, {}))[0], 401, 'missing_admin_secret',
	    undef, "$m $p without X-Admin-Secret → 401");
	problem_is((admin($m, $p, $body, { 'X-Admin-Secret' => '' }))[0], 401,
	    'missing_admin_secret', undef, "$m $p, empty secret → 401");
	problem_is((admin($m, $p, $body, { Authorization => "Bearer $SECRET" }))[0],
	    401, 'missing_admin_secret', undef, "$m $p, the secret as a Bearer → 401");
	for my $wrong ('wrong', substr($SECRET, 0, -1), "${SECRET}x", uc $SECRET,
	    'x' x length $SECRET) {
		problem_is((admin($m, $p, $body, { 'X-Admin-Secret' => $wrong }))[0],
		    401, 'invalid_admin_secret', undef, "$m $p, secret '$wrong' → 401");
	}
}
is($pg->psql('SELECT count(*) FROM users'), 0, 'the gate let nothing through');
is($pg->psql('SELECT count(*) FROM sync_runs'), 0, 'not even a sync');
like($s->api_log, qr/warn: .*wrong X-Admin-Secret/, 'refusals are logged');
unlike($s->api_log, qr/\Q$SECRET\E/, 'the secret is not');

# --- Creating keys. -------------------------------------------------------------
my ($first, $res, $doc);
{
	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => 'Alice@Example.COM', name => 'laptop' });
	is($res->{status}, 201, 'POST /api/admin/keys: 201');
	is($res->{headers}{'cache-control'}, 'no-store', 'no-store');
	like($doc->{key}, qr/^fma_[A-Za-z0-9_-]{43}$/, 'the plaintext key');
	is($doc->{start}, substr($doc->{key}, 0, 8), 'its start');
	is($doc->{email}, 'alice@example.com', 'the email, lowercased');
	is($doc->{rateLimitMax}, 200, 'a new user has the default quota');
	is($doc->{name}, 'laptop', 'the name');
	is($doc->{expiresAt}, undef, 'no expiry');
	is($pg->psql("SELECT count(*) FROM users WHERE email = 'alice\@example.com'"),
	    1, 'the user was created');
	$first = $doc;
	my $r = $s->request('GET', '/api/v1/models/ids',
	    { headers => { Authorization => "Bearer $doc->{key}" } });
	is($r->{headers}{'x-ratelimit-limit'}, 200, 'the key works, quota 200');

	($res, $doc) = admin('POST', '/api/admin/keys', { email => 'alice@example.com',
	    name => 'phone', rateLimitMax => 5, expiresInDays => 30 });
	is($res->{status}, 201, 'a second key for the same user');
	is($doc->{userId}, $first->{userId}, 'same user');
	is($doc->{rateLimitMax}, 5, 'rateLimitMax sets the quota');
	is(iso_ms($doc->{expiresAt}) - iso_ms($doc->{createdAt}), 30 * 86400 * 1000,
	    'expires in 30 days');
	$r = $s->request('GET', '/api/v1/models/ids',
	    { headers => { Authorization => "Bearer $first->{key}" } });
	is($r->{headers}{'x-ratelimit-limit'}, 5, 'the quota is the user\'s: all keys see 5');

	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => 'alice@example.com', name => 'tablet', rateLimitMax => undef });
	is($doc->{rateLimitMax}, 5, 'rateLimitMax absent or null keeps it');
	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => 'zero@example.com', name => 'z', rateLimitMax => 0 });
	is($doc->{rateLimitMax}, 0, 'rateLimitMax 0');
	$r = $s->request('GET', '/api/v1/models/ids',
	    { headers => { Authorization => "Bearer $doc->{key}" } });
	is($r->{status}, 429, 'a user with quota 0 gets 429');
	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => 'max@example.com', name => 'm', rateLimitMax => 1000000,
	      expiresInDays => 3650 });
	is($res->{status}, 201, 'the largest values');
	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => "o'brien+tag\@sub-1.example.co.uk", name => 'o' });
	is($res->{status}, 201, 'an address with an apostrophe, plus and subdomains');
	($res, $doc) = admin('POST', '/api/admin/keys',
	    { email => 'demo@localhost', name => 'd' });
	is($res->{status}, 201, 'a host without dots (demo@localhost)');
}

# --- Bad bodies, from the table. --------------------------------------------
{
	my $users = $pg->psql('SELECT count(*) FROM users');
	my $keys = $pg->psql('SELECT count(*) FROM api_keys');
	my %special = (
		'@LONGEMAIL' => '{"email":"' . ('a' x 64) . '@' . join('.', ('b' x 63) x 4)
		    . '.b","name":"k"}',
		'@LONGNAME' => '{"email":"a@example.com","name":"' . ('é' x 101) . '"}',
	);
	is(length('a' x 64 . '@' . join('.', ('b' x 63) x 4)), 320, '(an address of 320 bytes)');
	for my $row (read_table("$FindBin::Bin/data/admin-keys-bad-input.tsv")) {
		my ($name, $body, $status, $code, $param) = @$row;
		$body = $special{$body} // $body;
		problem_is((admin('POST', '/api/admin/keys', $body))[0], $status, $code,
		    $param eq '' ? undef : $param, "POST /api/admin/keys, $name → $status $code");
	}
	is($pg->psql('SELECT count(*) FROM users'), $users, 'no user was made');
	is($pg->psql('SELECT count(*) FROM api_keys'), $keys, 'no key was made');
	my $ok = '{"email":"' . ('a' x 64) . '@' . join('.', ('b' x 63) x 4) . '","name":"k"}';
	is((admin('POST', '/api/admin/keys', $ok))[0]{status}, 201,
	    'an address of exactly 320 bytes is fine');
	problem_is(scalar $s->request('POST', '/api/admin/keys', { headers => { %ADMIN,
	    'Content-Type' => 'text/plain' }, content => '{}' }), 415,
	    'unsupported_media_type', undef, 'text/plain → 415');
}

# --- Listing. --------------------------------------------------------------------
{
	($res, $doc) = admin('GET', '/api/admin/keys?email=alice@example.com');
	is($res->{status}, 200, 'GET /api/admin/keys: 200');
	is($doc->{email}, 'alice@example.com', 'email');
	is($doc->{userId}, $first->{userId}, 'userId');
	is($doc->{rateLimitMax}, 5, 'rateLimitMax');
	is($doc->{count}, 3, 'three keys');
	is_deeply([map { $_->{name} } @{$doc->{keys}}], [qw(laptop phone tablet)],
	    'oldest first');
	is_deeply([sort keys %{$doc->{keys}[0]}], [sort qw(id name start createdAt
	    lastUsedAt expiresAt enabled expired requestCount)],
	    'the fields of a key: no plaintext, no hash');
	unlike($res->{content}, qr/fma_[A-Za-z0-9_-]{43}/, 'no plaintext key in the listing');
	my @hashes = split /\n/, $pg->psql("SELECT key_hash FROM api_keys WHERE user_id = $first->{userId}");
	ok(!grep({ index($res->{content}, $_) >= 0 } @hashes), 'no hash in the listing');
	is($doc->{keys}[0]{requestCount}, 2, 'requestCount of the laptop key');

	(undef, my $again) = admin('GET', '/api/admin/keys?email=ALICE%40example.com');
	is_deeply($again, $doc, 'the email in any case, %-encoded');
	problem_is((admin('GET', '/api/admin/keys?email=nobody@example.com'))[0], 404,
	    'unknown_user', 'email', 'unknown email → 404 unknown_user');
	problem_is((admin('GET', '/api/admin/keys'))[0], 400, 'invalid_parameter',
	    'email', 'no email → 400');
	problem_is((admin('GET', '/api/admin/keys?email='))[0], 400,
	    'invalid_parameter', 'email', 'empty email → 400');
	problem_is((admin('GET', '/api/admin/keys?email=not-an-address'))[0], 400,
	    'invalid_parameter', 'email', 'bad email → 400');
	problem_is((admin('GET', '/api/admin/keys?email=a@b.c&email=a@b.c'))[0], 400,
	    'duplicate_parameter', 'email', 'email twice → 400');
	problem_is((admin('GET', '/api/admin/keys?email=a%zz'))[0], 400,
	    'invalid_query', undef, 'a bad escape → 400');
}

# --- Deleting. ---------------------------------------------------------------
{
	my $id = $first->{id};
	($res) = admin('DELETE', "/api/admin/keys/$id");
	is($res->{status}, 204, 'DELETE: 204');
	is($res->{content} // '', '', 'no body');
	is($s->request('GET', '/api/v1/models/ids',
	    { headers => { Authorization => "Bearer $first->{key}" } })->{status}, 401,
	    'the key no longer works');
	problem_is((admin('DELETE', "/api/admin/keys/$id"))[0], 404, 'not_found',
	    undef, 'again → 404');
	problem_is((admin('DELETE', "/api/admin/keys/$NIL"))[0], 404, 'not_found',
	    undef, 'unknown id → 404');
	problem_is((admin('DELETE', '/api/admin/keys/not-a-uuid'))[0], 404,
	    'not_found', undef, 'malformed id → 404');
	($res) = admin('DELETE', '/api/admin/keys');
	is($res->{status}, 405, 'DELETE without an id → 405');
	(undef, $doc) = admin('GET', '/api/admin/keys?email=zero@example.com');
	admin('DELETE', "/api/admin/keys/$_->{id}") for @{$doc->{keys}};
	($res, $doc) = admin('GET', '/api/admin/keys?email=zero@example.com');
	is($res->{status}, 200, 'a user without keys is still listed');
	is_deeply([@$doc{qw(keys count)}], [[], 0], 'with no keys');
}

# --- Ten keys per user, also when creations race. -----------------------------------
{
	for my $i (3 .. 10) {
		($res) = admin('POST', '/api/admin/keys',
		    { email => 'alice@example.com', name => "k$i" });
		is($res->{status}, 201, "alice's key number $i") or last;
	}
	problem_is((admin('POST', '/api/admin/keys',
	    { email => 'alice@example.com', name => 'k11' }))[0], 403, 'key_limit',
	    undef, 'the eleventh → 403 key_limit');
	problem_is((admin('POST', '/api/admin/keys',
	    { email => 'alice@example.com', name => 'k11', rateLimitMax => 9 }))[0],
	    403, 'key_limit', undef, 'refused as a whole ...');
	is($pg->psql("SELECT rate_limit_max FROM users WHERE email = 'alice\@example.com'"),
	    5, '... so its rateLimitMax was not applied');

	my $dir = $s->dir;
	my @kids;
	for my $i (1 .. 14) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			my ($r) = $s->json_request('POST', '/api/admin/keys',
			    { email => 'race@example.com', name => "r$i" }, \%ADMIN);
			open my $fh, '>', "$dir/race.$i";
			print {$fh} "$r->{status}\n";
			close $fh;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	waitpid $_, 0 for @kids;
	my %st;
	for my $i (1 .. 14) {
		open my $fh, '<', "$dir/race.$i" or next;
		chomp(my $c = <$fh> // '');
		$st{$c}++;
	}
	is($st{201} // 0, 10, 'fourteen racing creations for a new email: ten 201s')
	    or diag explain \%st;
	is($st{403} // 0, 4, 'four 403s');
	is($pg->psql("SELECT count(*) FROM users WHERE email = 'race\@example.com'"), 1,
	    'one user');
	is($pg->psql("SELECT count(*) FROM api_keys k JOIN users u ON u.id = k.user_id "
	    . "WHERE u.email = 'race\@example.com'"), 10, 'with ten keys');
}

# --- Methods. ---------------------------------------------------------------------
{
	is((admin('PUT', '/api/admin/keys'))[0]{status}, 405, 'PUT /api/admin/keys → 405');
	my ($r) = admin('GET', '/api/admin/sync-models');
	problem_is($r, 405, 'method_not_allowed', undef, 'GET sync-models → 405');
	like($r->{headers}{allow} // '', qr/POST/, 'Allow: POST');
	is((admin('GET', '/api/admin/cleanup'))[0]{status}, 405, 'GET cleanup → 405');
	problem_is((admin('POST', '/api/admin/nope'))[0], 404, 'not_found', undef,
	    'an unknown admin path → 404');
}

# --- Sync. ----------------------------------------------------------------------------
sub lock_holders {
	return $pg->psql(q{SELECT count(*) FROM pg_locks
	    WHERE locktype = 'advisory' AND granted
	      AND ((classid::bigint << 32) | objid::bigint) = :'p1'}, $LOCK_KEY);
}
{
	my $v0 = $pg->psql('SELECT catalog_version FROM sync_meta');
	($res, $doc) = admin('POST', '/api/admin/sync-models');
	is($res->{status}, 200, 'never synced: the sync runs') or diag $res->{content};
	is_deeply([@$doc{qw(success skipped modelsTotal modelsFree inserted updated
	    deactivated deactivationSkipped tries)}],
	    [JSON::PP::true, JSON::PP::false, 414, 20, 20, 0, 0, JSON::PP::false, 1],
	    'its counts: 414 models, 20 free, all new');
	is($doc->{catalogVersion}, $v0 + 1, 'a new catalogue version');
	like($doc->{runId}, qr/^\d+$/, 'the run id');
	is($pg->psql("SELECT status FROM sync_runs WHERE id = $doc->{runId}"), 'success',
	    'recorded as a success');
	my ($r, $ids) = $s->get_json('/api/v1/models/ids', { Authorization =>
	    'Bearer ' . (admin('POST', '/api/admin/keys', { email => 's@example.com',
	    name => 's' }))[1]{key} });
	is($ids->{count}, 20, 'the workers serve the new catalogue');

	($res, $doc) = admin('POST', '/api/admin/sync-models');
	is($res->{status}, 200, 'fresh data: 200');
	is_deeply([@$doc{qw(skipped reason)}], [JSON::PP::true, 'data_fresh'],
	    'skipped: data_fresh');
	ok($doc->{ageSeconds} < 60, 'with its age');
	($res, $doc) = admin('POST', '/api/admin/sync-models?force=false');
	is($doc->{reason}, 'data_fresh', 'force=false: skipped too');
	my $runs = $pg->psql('SELECT count(*) FROM sync_runs');
	($res, $doc) = admin('POST', '/api/admin/sync-models?force=true');
	is($res->{status}, 200, 'force=true: runs');
	is_deeply([@$doc{qw(skipped inserted updated)}], [JSON::PP::false, 0, 0],
	    'nothing new');
	is($pg->psql('SELECT count(*) FROM sync_runs'), $runs + 1, 'one more run');

	$pg->psql("UPDATE sync_meta SET last_success_at = now() - interval '2 hours'");
	($res, $doc) = admin('POST', '/api/admin/sync-models');
	is($doc->{skipped}, JSON::PP::false, 'two hours old: a sync is due');

	for my $q ('force=yes', 'force=1', 'force=', 'force=TRUE') {
		problem_is((admin('POST', "/api/admin/sync-models?$q"))[0], 400,
		    'invalid_parameter', 'force', "$q → 400");
	}
	problem_is((admin('POST', '/api/admin/sync-models?force=true&force=true'))[0],
	    400, 'duplicate_parameter', 'force', 'force twice → 400');

	# Another sync holds the lock.
	open my $psql, '|-', 'psql', '-X', '-q', '-o', '/dev/null', '-d', $pg->url
	    or die "psql: $!";
	$psql->autoflush(1);
	print {$psql} "SELECT pg_advisory_lock($LOCK_KEY);\n";
	my $t = time + 10;
	sleep 0.05 while lock_holders() == 0 && time < $t;
	is(lock_holders(), 1, 'psql holds the sync lock');
	$runs = $pg->psql('SELECT count(*) FROM sync_runs');
	problem_is((admin('POST', '/api/admin/sync-models?force=true'))[0], 409,
	    'sync_running', undef, 'a sync is running → 409 sync_running');
	is($pg->psql('SELECT count(*) FROM sync_runs'), $runs, 'no run recorded');
	close $psql;
	$t = time + 10;
	sleep 0.05 while lock_holders() != 0 && time < $t;
	is((admin('POST', '/api/admin/sync-models?force=true'))[0]{status}, 200,
	    'free again: 200');
}

# --- Cleanup. -----------------------------------------------------------------------
{
	my $now = db_ms('now()');
	($res, $doc) = admin('POST', '/api/admin/cleanup');
	is($res->{status}, 200, 'POST cleanup: 200');
	is_deeply([sort keys %$doc], [sort qw(success complete deleted cutoffs durationMs)],
	    'its fields');
	ok($doc->{success} && $doc->{complete}, 'success, complete');
	is_deeply($doc->{deleted}, { modelFeedback => 0, apiRequestLogs => 0,
	    availabilitySnapshots => 0, feedbackRollup => 0, endpointHistory => 0 },
	    'nothing old yet');
	my $c = $doc->{cutoffs};
	my $day = 86400 * 1000;
	ok(abs(iso_ms($c->{modelFeedback}) - ($now - 90 * $day)) < 60000,
	    "reports: 90 days ago ($c->{modelFeedback})");
	ok(abs(iso_ms($c->{apiRequestLogs}) - ($now - 30 * $day)) < 60000,
	    "request logs: 30 days ago ($c->{apiRequestLogs})");
	like($c->{availabilitySnapshots}, qr/T00:00:00\.000Z$/,
	    'availability: a UTC midnight');
	my $a = iso_ms($c->{availabilitySnapshots});
	ok($a <= $now - 90 * $day && $a > $now - 91 * $day,
	    "the midnight of the day 90 days ago ($c->{availabilitySnapshots})");
}

# --- Upstream failure, and admin disabled: workers restarted. --------------------------
{
	$s->stop_workers;
	$s->set_env(OPENROUTER_MODELS_URL => "file://$FIXTURE.missing");
	$s->start_workers;
	my $before = $pg->psql('SELECT catalog_version FROM sync_meta');
	($res, $doc) = admin('POST', '/api/admin/sync-models?force=true');
	problem_is($res, 502, 'sync_failed', undef, 'upstream failure → 502 sync_failed');
	like($doc->{detail} // '', qr/fetch failed|could ?n.t|file/i,
	    "with the reason: $doc->{detail}");
	is($pg->psql("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1"), 'failed',
	    'recorded as failed');
	is($pg->psql('SELECT catalog_version FROM sync_meta'), $before,
	    'the catalogue is untouched');

	$s->stop_workers;
	$s->set_env(ADMIN_SECRET => undef);
	$s->start_workers;
	for my $r (@ROUTES) {
		my ($m, $p, $body) = @$r;
		problem_is((admin($m, $p, $body))[0], 503, 'admin_disabled', undef,
		    "no ADMIN_SECRET: $m $p → 503 admin_disabled");
	}
}

done_testing();
