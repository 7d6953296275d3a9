# End to end: a user's own keys (SPEC.md §5) — GET, POST and DELETE
# /api/v1/keys with every bad body from t/data/keys-bad-input.tsv, the
# ten-key limit under concurrency, another user's key (404, never 403),
# revoking the key in hand, that none of it is counted, and that a
# plaintext key is stored nowhere and logged nowhere.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of read_table);

my $SECRET = 'keys-test-admin-secret-0123456789';
my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $SECRET });
my $pg = $s->pg;
my %ADMIN = ('X-Admin-Secret' => $SECRET);
my @PLAINTEXT;    # every key the API handed out, for the leak check

# A key made through the admin API: the response document.
sub admin_key {
	my (%o) = @_;
	my ($res, $doc) = $s->json_request('POST', '/api/admin/keys',
	    { email => $o{email}, name => $o{name} // 'first',
	      defined $o{max} ? (rateLimitMax => $o{max}) : () }, \%ADMIN);
	die "admin key: $res->{status} $res->{content}" if $res->{status} != 201;
	push @PLAINTEXT, $doc->{key};
	return $doc;
}

sub auth { return { Authorization => "Bearer $_[0]" } }

sub keys_of {
	my ($key) = @_;
	my ($res, $doc) = $s->get_json('/api/v1/keys', auth($key));
	return ($res, $doc);
}

sub create {
	my ($key, $body) = @_;
	my ($res, $doc) = $s->json_request('POST', '/api/v1/keys', $body,
	    auth($key));
	push @PLAINTEXT, $doc->{key} if $res->{status} == 201;
	return ($res, $doc);
}

sub b64url {
	(my $x = MIME::Base64::encode_base64($_[0], '')) =~ tr{+/}{-_};
	$x =~ s/=+$//;
	return $x;
}
require MIME::Base64;

my $alice = admin_key(email => 'alice@example.com', max => 50);
my $A = $alice->{key};
my $bob = admin_key(email => 'bob@example.com');
my $B = $bob->{key};
my $quota = sub {
	$pg->psql("SELECT window_count FROM users WHERE email = 'alice\@example.com'");
};
my $quota_before = $quota->();

# --- Listing. -------------------------------------------------------------
{
	my ($res, $doc) = keys_of($A);
	is($res->{status}, 200, 'GET /keys: 200');
	is($res->{headers}{'cache-control'}, 'no-store', 'no-store');
	is($doc->{count}, 1, 'one key');
	my $k = $doc->{keys}[0];
	is_deeply([sort keys %$k], [sort qw(id name start createdAt lastUsedAt
	    expiresAt enabled expired requestCount current)], 'the fields of a key');
	is($k->{id}, $alice->{id}, 'its id');
	is($k->{name}, 'first', 'its name');
	is($k->{start}, substr($A, 0, 8), 'start is the first 8 characters');
	ok($k->{current}, 'marked as the key in hand');
	is($k->{lastUsedAt}, undef, 'never used');
	is($k->{expiresAt}, undef, 'no expiry');
	ok($k->{enabled} && !$k->{expired}, 'enabled, not expired');
	is($k->{requestCount}, 0, 'no requests yet');
	like($k->{createdAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
	    'createdAt in ISO 8601 with ms');
	unlike($res->{content}, qr/fma_[A-Za-z0-9_-]{43}/, 'no plaintext key');
	my $hash = $pg->psql("SELECT key_hash FROM api_keys WHERE id = '$k->{id}'");
	unlike($res->{content}, qr/\Q$hash\E/, 'no hash');
	($res, $doc) = keys_of($B);
	is_deeply([map { $_->{id} } @{$doc->{keys}}], [$bob->{id}],
	    "bob sees only his own key");
}

# --- Creating. ------------------------------------------------------------
my $second;
{
	my ($res, $doc) = create($A, { name => 'laptop' });
	is($res->{status}, 201, 'POST /keys: 201');
	is($res->{headers}{'cache-control'}, 'no-store', 'no-store');
	like($doc->{key}, qr/^fma_[A-Za-z0-9_-]{43}$/,
	    'the plaintext key: fma_ and 43 base64url characters');
	is($doc->{start}, substr($doc->{key}, 0, 8), 'its start');
	is($doc->{name}, 'laptop', 'its name');
	like($doc->{id}, qr/^[0-9a-f-]{36}$/, 'its id');
	is($doc->{expiresAt}, undef, 'no expiry');
	is($doc->{requestCount}, 0, 'requestCount 0');
	my $row = $pg->psql("SELECT key_hash || ' ' || key_start || ' ' || "
	    . "key_prefix FROM api_keys WHERE id = '$doc->{id}'");
	is($row, b64url(sha256($doc->{key})) . ' ' . substr($doc->{key}, 0, 8)
	    . ' fma_', 'stored: base64url(SHA-256(key)), start and prefix');
	$second = $doc;
	my $r = $s->request('GET', '/api/v1/models/ids', { headers => auth($doc->{key}) });
	is($r->{status}, 200, 'the new key works');

	($res, $doc) = create($A, { name => 'Ünïcödé ✓ ' . ('x' x 88), expiresInDays => 7 });
	is($res->{status}, 201, 'a 100-character UTF-8 name, 7 days');
	my $days = $pg->psql("SELECT round(extract(epoch FROM expires_at - created_at) / 86400, 3) FROM api_keys WHERE id = '$doc->{id}'");
	is($days, '7.000', 'expires 7 days after creation');
	like($doc->{expiresAt}, qr/Z$/, 'expiresAt given');
	($res, $doc) = create($A, { name => 'n', expiresInDays => undef, extra => 1 });
	is($res->{status}, 201, 'expiresInDays null = never; unknown fields ignored');
	is($doc->{expiresAt}, undef, 'no expiry');
	($res, $doc) = create($A, { name => 'max', expiresInDays => 3650 });
	is($res->{status}, 201, 'expiresInDays 3650');
}

# --- Bad bodies, from the table. -------------------------------------------
{
	my $before = $pg->psql('SELECT count(*) FROM api_keys');
	my %special = ('@LONGNAME' => '{"name":"' . ('n' x 101) . '"}');
	for my $row (read_table("$FindBin::Bin/data/keys-bad-input.tsv")) {
		my ($name, $body, $status, $code, $param) = @$row;
		$body = $special{$body} // $body;
		$body =~ s/\\x([0-9a-f]{2})/chr hex $1/ge;
		my ($res) = $s->json_request('POST', '/api/v1/keys', $body, auth($A));
		problem_is($res, $status, $code, $param eq '' ? undef : $param,
		    "POST /keys, $name → $status $code");
	}
	is($pg->psql('SELECT count(*) FROM api_keys'), $before,
	    'no bad request created a key');
	my $res = $s->request('POST', '/api/v1/keys', { headers => { %{auth($A)},
	    'Content-Type' => 'text/plain' }, content => '{"name":"k"}' });
	problem_is($res, 415, 'unsupported_media_type', undef, 'text/plain → 415');
	$res = $s->request('POST', '/api/v1/keys', { headers => { %{auth($A)},
	    'Content-Type' => 'application/json' },
	    content => '{"name":"' . ('x' x 17000) . '"}' });
	problem_is($res, 413, 'payload_too_large', undef, '17 KB → 413');
}

# --- Authentication. -----------------------------------------------------
{
	problem_is(scalar $s->request('GET', '/api/v1/keys'), 401, 'missing_auth',
	    undef, 'GET without a key → 401');
	problem_is(scalar $s->request('POST', '/api/v1/keys',
	    { headers => { 'Content-Type' => 'application/json' },
	      content => '{"name":"k"}' }), 401, 'missing_auth', undef,
	    'POST without a key → 401');
	problem_is(scalar $s->request('DELETE', "/api/v1/keys/$alice->{id}"),
	    401, 'missing_auth', undef, 'DELETE without a key → 401');
	problem_is(scalar $s->request('GET', '/api/v1/keys',
	    { headers => { Authorization => 'Basic abc' } }), 401,
	    'invalid_auth_format', undef, 'Basic → invalid_auth_format');
	my $unknown = 'fma_' . ('A' x 43);
	problem_is((keys_of($unknown))[0], 401, 'invalid_key', undef,
	    'unknown key → invalid_key');
	my $off = $s->create_key(email => 'off@example.com', enabled => 0);
	problem_is((keys_of($off))[0], 401, 'invalid_key', undef,
	    'disabled key → invalid_key');
	my $old = $s->create_key(email => 'old@example.com',
	    expires_at => $pg->psql("SELECT now() - interval '1 minute'"));
	problem_is((keys_of($old))[0], 401, 'expired_key', undef,
	    'expired key → expired_key');
	problem_is((create($old, { name => 'x' }))[0], 401, 'expired_key', undef,
	    'an expired key cannot make a new one');
	problem_is((create($off, { name => 'x' }))[0], 401, 'invalid_key', undef,
	    'nor can a disabled one');
}

# --- Methods and paths. -----------------------------------------------------
{
	my $r = $s->request('DELETE', '/api/v1/keys', { headers => auth($A) });
	problem_is($r, 405, 'method_not_allowed', undef, 'DELETE /keys → 405');
	like($r->{headers}{allow} // '', qr/GET, HEAD, POST/, 'Allow: GET, POST');
	$r = $s->request('GET', "/api/v1/keys/$alice->{id}", { headers => auth($A) });
	problem_is($r, 405, 'method_not_allowed', undef, 'GET /keys/{id} → 405');
	like($r->{headers}{allow} // '', qr/DELETE/, 'Allow: DELETE');
	$r = $s->request('PUT', '/api/v1/keys', { headers => auth($A) });
	is($r->{status}, 405, 'PUT /keys → 405');
	$r = $s->request('OPTIONS', '/api/v1/keys');
	is($r->{status}, 204, 'OPTIONS /keys → 204');
	like($r->{headers}{'access-control-allow-methods'} // '', qr/DELETE/,
	    'CORS allows DELETE');
	problem_is(scalar $s->request('DELETE', '/api/v1/keys/', { headers => auth($A) }),
	    404, 'not_found', undef, 'DELETE /keys/ → 404');
	problem_is(scalar $s->request('DELETE', "/api/v1/keys/$alice->{id}/x",
	    { headers => auth($A) }), 404, 'not_found', undef,
	    'a deeper path → 404');
}

# --- Deleting. --------------------------------------------------------------
{
	my $del = sub {
		my ($key, $id) = @_;
		return $s->request('DELETE', "/api/v1/keys/$id", { headers => auth($key) });
	};
	problem_is($del->($B, $second->{id}), 404, 'not_found', undef,
	    "another user's key → 404, not 403");
	ok($pg->psql("SELECT count(*) FROM api_keys WHERE id = '$second->{id}'") == 1,
	    'and it is still there');
	problem_is($del->($A, '00000000-0000-4000-8000-000000000000'), 404,
	    'not_found', undef, 'unknown id → 404');
	for my $bad ('abc', '1', "$second->{id}x", uc($second->{id}) . 'Z',
	    "%27%20OR%201=1--") {
		problem_is($del->($A, $bad), 404, 'not_found', undef,
		    "malformed id '$bad' → 404");
	}
	my $r = $del->($A, uc $second->{id});
	is($r->{status}, 204, 'an id in capitals is the same id: 204');
	is($r->{content} // '', '', 'no body');
	is($s->request('GET', '/api/v1/models/ids',
	    { headers => auth($second->{key}) })->{status}, 401,
	    'the deleted key no longer works');
	problem_is($del->($A, $second->{id}), 404, 'not_found', undef,
	    'deleting it again → 404');

	# Revoking the key in hand: allowed, and it stops working at once.
	my ($res, $doc) = create($A, { name => 'throwaway' });
	my $t = $doc->{key};
	$r = $del->($t, $doc->{id});
	is($r->{status}, 204, 'a key may delete itself');
	problem_is((keys_of($t))[0], 401, 'invalid_key', undef,
	    'and is gone for the next request');
}

# --- The limit: ten keys per user, also when requests race. ----------------
{
	my ($res, $doc) = keys_of($A);
	my $have = $doc->{count};
	my @made;
	for my $i ($have + 1 .. 10) {
		($res, $doc) = create($A, { name => "k$i" });
		is($res->{status}, 201, "key $i of 10") or last;
	}
	($res) = create($A, { name => 'eleventh' });
	problem_is($res, 403, 'key_limit', undef, 'the eleventh key → 403 key_limit');
	# Disabled keys count too: disable one, still no room.
	$pg->psql("UPDATE api_keys SET enabled = false WHERE id = (SELECT id "
	    . "FROM api_keys WHERE name = 'k10' AND user_id = $alice->{userId})");
	problem_is((create($A, { name => 'eleventh' }))[0], 403, 'key_limit', undef,
	    'a disabled key still counts');
	is($pg->psql("SELECT count(*) FROM api_keys WHERE user_id = $alice->{userId}"),
	    10, 'alice holds exactly 10 keys');

	# Twenty concurrent creations for a user with one key: nine win.
	my $carol = admin_key(email => 'carol@example.com');
	my @kids;
	my $dir = $s->dir;
	for my $i (1 .. 20) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			my $res = $s->request('POST', '/api/v1/keys', { headers => {
			    %{auth($carol->{key})}, 'Content-Type' => 'application/json' },
			    content => qq({"name":"race$i"}) });
			open my $fh, '>', "$dir/race.$i";
			print {$fh} "$res->{status}\n";
			close $fh;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	waitpid $_, 0 for @kids;
	my %st;
	for my $i (1 .. 20) {
		open my $fh, '<', "$dir/race.$i" or next;
		chomp(my $code = <$fh> // '');
		$st{$code}++;
	}
	is($st{201} // 0, 9, 'twenty racing creations: nine 201s') or diag explain \%st;
	is($st{403} // 0, 11, 'and eleven 403s');
	is($pg->psql("SELECT count(*) FROM api_keys WHERE user_id = $carol->{userId}"),
	    10, 'carol holds exactly 10 keys');
	# The race winners' keys were never seen here: none to leak-check.
}

# --- None of this is counted. ---------------------------------------------
{
	# One counted call above ("the new key works"), nothing else.
	is($quota->(), $quota_before + 1, 'key calls used no quota');
	my $r = $s->request('GET', '/api/v1/keys', { headers => auth($A) });
	ok(!exists $r->{headers}{'x-ratelimit-limit'}, 'no quota headers');
	# Counted calls show in lastUsedAt and requestCount.
	$s->request('GET', '/api/v1/models/ids', { headers => auth($A) }) for 1 .. 3;
	my $doc;
	for (1 .. 50) {
		(undef, $doc) = keys_of($A);
		my ($k) = grep { $_->{current} } @{$doc->{keys}};
		last if $k->{requestCount} == 3;
		sleep 0.1;
	}
	my ($k) = grep { $_->{current} } @{$doc->{keys}};
	is($k->{requestCount}, 3, 'requestCount counts counted calls');
	like($k->{lastUsedAt} // '', qr/Z$/, 'lastUsedAt is set');
}

# --- A plaintext key is stored nowhere and logged nowhere. ------------------
{
	ok(@PLAINTEXT >= 8, scalar(@PLAINTEXT) . ' plaintext keys to look for');
	# Every row of every table, as text.
	my @tables = split /\n/, $pg->psql(
	    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
	ok(grep({ $_ eq 'api_keys' } @tables), 'the dump includes api_keys');
	my $dump = join "\n", map { $pg->psql("SELECT t::text FROM $_ t") } @tables;
	my $hash = b64url(sha256($A));
	like($dump, qr/\Q$hash\E/, 'the dump holds the hash (it is a real dump)');
	# nginx buffers its access log for up to a second.
	sleep 1.5;
	my %logs = (
		'database rows' => $dump,
		'worker log' => $s->api_log,
		'nginx error log' => $s->nginx_error_log,
		'nginx access log' => FLR::Pg::slurp($s->dir . '/nginx-access.log'),
		'PostgreSQL log' => FLR::Pg::slurp($pg->log_path),
	);
	like($logs{'nginx access log'}, qr{POST /api/v1/keys}, 'the access log has our requests');
	for my $where (sort keys %logs) {
		my @found = grep { index($logs{$where}, $_) >= 0 } @PLAINTEXT;
		is(scalar @found, 0, "no plaintext key in the $where");
		# The key without its prefix, in case something strips it.
		@found = grep { index($logs{$where}, substr($_, 4)) >= 0 } @PLAINTEXT;
		is(scalar @found, 0, "nor its random part in the $where");
	}
}

done_testing();
