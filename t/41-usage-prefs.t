# End to end: GET /api/v1/usage and GET/PUT /api/v1/preferences (SPEC.md
# §5) — the quota read without moving it, the history of requests and
# reports newest first and paginated, every bad query and body from
# t/data/usage-bad-input.tsv and t/data/prefs-bad-input.tsv, and the
# saved preferences as defaults of the model listings: a query
# parameter wins, exclusions go after the sort and before topN, and a
# stored value that no longer validates is skipped, never fatal.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use POSIX qw(ceil);
use Time::HiRes qw(sleep);
use Time::Local qw(timegm);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(both_modes problem_is json_of read_table);

my $SECRET = 'usage-test-admin-secret-abcdefgh';
my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $SECRET });
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $TRUE = JSON::PP::true;
my $FALSE = JSON::PP::false;

sub admin_key {
	my (%o) = @_;
	my ($res, $doc) = $s->json_request('POST', '/api/admin/keys',
	    { email => $o{email}, name => $o{name} // 'main',
	      rateLimitMax => $o{max} // 1000 }, { 'X-Admin-Secret' => $SECRET });
	die "admin key: $res->{status} $res->{content}" if $res->{status} != 201;
	return $doc;
}

sub auth { return { Authorization => "Bearer $_[0]" } }
sub get { my ($path, $key) = @_; return $s->get_json($path, auth($key)) }
sub put_prefs {
	my ($key, $body) = @_;
	return $s->json_request('PUT', '/api/v1/preferences', $body, auth($key));
}
sub ids {
	my ($key, $q) = @_;
	my ($res, $doc) = get('/api/v1/models/ids' . ($q ? "?$q" : ''), $key);
	die "ids?$q: $res->{status} $res->{content}" if $res->{status} != 200;
	return $doc->{ids};
}
sub iso_ms {
	my ($t) = @_;
	my @f = $t =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$/
	    or return undef;
	return timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]) * 1000 + $f[6];
}
# The request-log row is written after the response has left.
sub wait_logs {
	my ($uid, $n) = @_;
	for (1 .. 100) {
		return 1 if $pg->psql("SELECT count(*) FROM api_request_logs "
		    . "WHERE user_id = $uid") >= $n;
		sleep 0.05;
	}
	return 0;
}

my $u = admin_key(email => 'usage@example.com', max => 10);
my $K = $u->{key};

# --- Usage before anything happened. ----------------------------------------
{
	my ($res, $doc) = get('/api/v1/usage', $K);
	is($res->{status}, 200, 'usage: 200');
	is($res->{headers}{'cache-control'}, 'no-store', 'no-store');
	is_deeply($doc, { limit => 10, remaining => 10, resetAt => undef,
	    windowStart => undef, windowSeconds => 86400, requestCount => 0,
	    history => [], page => 1, pageSize => 20, total => 0,
	    hasMore => $FALSE }, 'a fresh user: full quota, no window, no history');
	get('/api/v1/usage', $K) for 1 .. 3;
	is($pg->psql("SELECT window_count || ' ' || (window_start IS NULL) FROM users WHERE id = $u->{userId}"),
	    '0 true', 'reading usage does not move the quota');
	ok(!exists $res->{headers}{'x-ratelimit-remaining'}, 'no quota headers');
}

# --- Requests and reports. ---------------------------------------------------
my (@counted, $second, $model_a, $model_b);
{
	my $last;
	for (1 .. 3) {
		$last = $s->request('GET', '/api/v1/models/ids?topN=2', { headers => auth($K) });
		push @counted, json_of($last)->{requestId};
	}
	my ($res, $doc) = get('/api/v1/usage', $K);
	is($doc->{requestCount}, 3, 'three counted requests in the window');
	is($doc->{remaining}, $last->{headers}{'x-ratelimit-remaining'},
	    'remaining matches X-RateLimit-Remaining');
	is(ceil(iso_ms($doc->{resetAt}) / 1000), $last->{headers}{'x-ratelimit-reset'},
	    'resetAt matches X-RateLimit-Reset');
	is(iso_ms($doc->{resetAt}) - iso_ms($doc->{windowStart}), 86400 * 1000,
	    'the window is 24 h');

	# Reports with a second key of the same user.
	(undef, $second) = $s->json_request('POST', '/api/v1/keys',
	    { name => 'second' }, auth($K));
	my $full = json_of($s->request('GET', '/api/v1/models/ids', { headers => auth($second->{key}) }));
	push @counted, $full->{requestId};
	($model_a, $model_b) = @{$full->{ids}}[0, 1];
	# The reports must be newer than every request-log row.
	ok(wait_logs($u->{userId}, 4), 'request logs written');
	my $fb = sub {
		my ($body) = @_;
		my ($r) = $s->json_request('POST', '/api/v1/models/feedback', $body,
		    auth($second->{key}));
		is($r->{status}, 200, 'report stored') or diag $r->{content};
	};
	$fb->({ modelId => $model_a, success => $TRUE });
	$fb->({ modelId => $model_b, issue => 'error', details => 'boom',
	    requestId => $counted[0] });
}
{
	my ($res, $doc) = get('/api/v1/usage?pageSize=100', $K);
	is($doc->{total}, 6, 'history: 4 requests + 2 reports');
	is($doc->{hasMore}, $FALSE, 'all on one page');
	my @h = @{$doc->{history}};
	is_deeply([map { $_->{type} } @h],
	    [qw(report report request request request request)],
	    'newest first: the reports, then the requests');
	my @t = map { iso_ms($_->{createdAt}) } @h;
	is_deeply(\@t, [sort { $b <=> $a } @t], 'ordered by time, descending');
	is_deeply($h[0], { type => 'report', id => $h[0]{id},
	    createdAt => $h[0]{createdAt}, keyId => $second->{id},
	    modelId => $model_b, success => $FALSE, issue => 'error',
	    details => 'boom', requestId => $counted[0] }, 'an issue report');
	is_deeply([@{$h[1]}{qw(modelId success issue details requestId)}],
	    [$model_a, $TRUE, undef, undef, undef], 'a success report');
	# Each log row is written after its response, by either worker:
	# their order is the order of the rows, not always of the requests.
	is_deeply([sort map { $_->{id} } @h[2 .. 5]], [sort @counted],
	    'the requests, by their requestId');
	my %key_of = map { $_->{id} => $_->{keyId} } @h[2 .. 5];
	is_deeply([@key_of{@counted}], [($u->{id}) x 3, $second->{id}],
	    'the key each came from');
	my ($first) = grep { $_->{id} eq $counted[0] } @h;
	is($first->{endpoint}, '/api/v1/models/ids', 'endpoint');
	is($first->{status}, 200, 'status');
	is(scalar @{$first->{modelIds}}, 2, 'the ids it returned');
	ok($first->{durationMs} > 0, 'durationMs');

	# Pages of two.
	my @paged;
	for my $p (1 .. 4) {
		my (undef, $d) = get("/api/v1/usage?page=$p&pageSize=2", $K);
		is($d->{page}, $p, "page $p");
		is($d->{pageSize}, 2, 'pageSize 2');
		is($d->{total}, 6, 'total');
		is($d->{hasMore} ? 1 : 0, $p < 3 ? 1 : 0, "page $p: hasMore");
		is(scalar @{$d->{history}}, $p < 4 ? 2 : 0, "page $p: entries");
		push @paged, @{$d->{history}};
	}
	is_deeply(\@paged, \@h, 'the pages add up to the whole history');

	# Another user's activity is not ours.
	my $other = admin_key(email => 'other@example.com');
	$s->request('GET', '/api/v1/models/ids', { headers => auth($other->{key}) });
	ok(wait_logs($other->{userId}, 1), 'the other user was logged');
	(undef, $doc) = get('/api/v1/usage', $K);
	is($doc->{total}, 6, "another user's requests are not in ours");
	(undef, $doc) = get('/api/v1/usage', $other->{key});
	is($doc->{total}, 1, 'and they have their own');
	is($doc->{requestCount}, 1, 'and their own quota');
}

# --- A window that has run out is no window. ---------------------------------
{
	$pg->psql("UPDATE users SET window_start = now() - interval '25 hours' WHERE id = $u->{userId}");
	my (undef, $doc) = get('/api/v1/usage', $K);
	is_deeply([@$doc{qw(requestCount remaining resetAt windowStart)}],
	    [0, 10, undef, undef], 'after the window: 0 used, 10 left, no reset time');
	# Over the limit the count stops at the limit.
	$pg->psql("UPDATE users SET window_start = now(), window_count = 11 WHERE id = $u->{userId}");
	(undef, $doc) = get('/api/v1/usage', $K);
	is_deeply([@$doc{qw(requestCount remaining)}], [10, 0],
	    'a refused attempt is not counted as a request');
}

# --- Bad queries. -------------------------------------------------------------
for my $row (read_table("$FindBin::Bin/data/usage-bad-input.tsv")) {
	my $q = $row->[0];
	both_modes(sub {
		$s->request('GET', "/api/v1/usage?$q",
		    { headers => { %{ auth($K) }, %{ $_[0] } } })
	}, $row, 'usage');
}
{
	my ($res, $doc) = get('/api/v1/usage?page=10000&pageSize=100&other=x', $K);
	is($res->{status}, 200, 'page 10000 of 100 is allowed; unknown parameters ignored');
	is_deeply($doc->{history}, [], 'and empty');
	problem_is((get('/api/v1/usage', 'fma_' . 'Z' x 43))[0], 401, 'invalid_key',
	    undef, 'unknown key → 401');
	problem_is(scalar $s->request('GET', '/api/v1/usage'), 401, 'missing_auth',
	    undef, 'no key → 401');
	problem_is(scalar $s->request('POST', '/api/v1/usage', { headers => auth($K) }),
	    405, 'method_not_allowed', undef, 'POST → 405');
}

# --- Preferences: reading and writing. ----------------------------------------
my $P = admin_key(email => 'prefs@example.com')->{key};
my $PLAIN = admin_key(email => 'plain@example.com')->{key};
my %NONE = map { $_ => undef }
    qw(useCases sort topN maxErrorRate timeRange myReports excludeModelIds);
{
	my ($res, $doc) = get('/api/v1/preferences', $P);
	is($res->{status}, 200, 'GET preferences: 200');
	is($res->{headers}{'cache-control'}, 'no-store', 'no-store');
	is_deeply($doc, \%NONE, 'nothing saved: every field null');

	($res, $doc) = put_prefs($P, { useCases => 'tools,chat', sort => 'newest',
	    topN => 7, maxErrorRate => 12.5, timeRange => '7d', myReports => $TRUE,
	    excludeModelIds => ['x/a', 'x/b', 'x/a'] });
	is($res->{status}, 200, 'PUT: 200');
	my %all = (useCases => ['chat', 'tools'], sort => 'newest', topN => 7,
	    maxErrorRate => 12.5, timeRange => '7d', myReports => $TRUE,
	    excludeModelIds => ['x/a', 'x/b']);
	is_deeply($doc, \%all, 'the saved preferences, canonical: a use-case '
	    . 'array in the fixed order, duplicate ids once');
	is($res->{content} =~ /"maxErrorRate":12.5[,}]/ ? 1 : 0, 1, '12.5 prints as 12.5');
	is_deeply((get('/api/v1/preferences', $P))[1], \%all, 'GET returns them');
	my $stored = JSON::PP->new->decode($pg->psql(
	    "SELECT preferences::text FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.email = 'prefs\@example.com'"));
	is_deeply($stored, \%all, 'stored as jsonb in api_keys.preferences');

	(undef, $doc) = put_prefs($P, {});
	is_deeply($doc, \%all, '{} changes nothing');
	(undef, $doc) = put_prefs($P, { sort => undef, myReports => undef });
	is_deeply($doc, { %all, sort => undef, myReports => undef },
	    'null clears a field; absent fields keep their value');
	(undef, $doc) = put_prefs($P, { useCases => ['vision', 'reasoning'],
	    myReports => $FALSE, maxErrorRate => 0, topN => 100 });
	is_deeply([@$doc{qw(useCases myReports maxErrorRate topN)}],
	    [['vision', 'reasoning'], $FALSE, 0, 100], 'the array form; edge values');
	(undef, $doc) = put_prefs($P, { useCases => [], excludeModelIds => [] });
	is_deeply([@$doc{qw(useCases excludeModelIds)}], [[], []], 'empty arrays');
	my @fifty = map { "m/$_" } 1 .. 50;
	(undef, $doc) = put_prefs($P, { excludeModelIds => [@fifty, @fifty],
	    maxErrorRate => 100, timeRange => 'all' });
	is_deeply($doc->{excludeModelIds}, \@fifty, '50 distinct ids (each twice) are fine');
	my ($res2) = put_prefs($P, { excludeModelIds => ['y' x 256] });
	is($res2->{status}, 200, 'an id of 256 bytes is fine');
	is_deeply((get('/api/v1/preferences', $PLAIN))[1], \%NONE,
	    "another key's preferences are its own");
}

# --- Preferences: bad bodies, from the table. -----------------------------
{
	my $before = (get('/api/v1/preferences', $P))[1];
	my %special = (
		'@LONGID' => '{"excludeModelIds":["' . ('z' x 257) . '"]}',
		'@EXCLUDE51' => '{"excludeModelIds":['
		    . join(',', map { qq("m/$_") } 1 .. 51) . ']}',
	);
	for my $row (read_table("$FindBin::Bin/data/prefs-bad-input.tsv")) {
		my ($name, $body, $status, $code, $param) = @$row;
		$body = $special{$body} // $body;
		$body =~ s/\\x([0-9a-f]{2})/chr hex $1/ge;
		problem_is((put_prefs($P, $body))[0], $status, $code,
		    $param eq '' ? undef : $param, "PUT, $name → $status $code");
	}
	is_deeply((get('/api/v1/preferences', $P))[1], $before,
	    'no bad request changed anything');
	problem_is(scalar $s->request('PUT', '/api/v1/preferences',
	    { headers => { %{auth($P)}, 'Content-Type' => 'text/plain' },
	      content => '{}' }), 415, 'unsupported_media_type', undef, 'text/plain → 415');
	problem_is(scalar $s->request('PUT', '/api/v1/preferences',
	    { headers => { 'Content-Type' => 'application/json' }, content => '{}' }),
	    401, 'missing_auth', undef, 'no key → 401');
	problem_is((put_prefs('fma_' . 'Q' x 43, {}))[0], 401, 'invalid_key', undef,
	    'unknown key → 401');
	my $r = $s->request('POST', '/api/v1/preferences', { headers => auth($P) });
	problem_is($r, 405, 'method_not_allowed', undef, 'POST → 405');
	like($r->{headers}{allow} // '', qr/GET, HEAD, PUT/, 'Allow: GET, PUT');
	is($pg->psql("SELECT window_count FROM users WHERE email = 'prefs\@example.com'"),
	    0, 'preferences are not counted');
}

# --- Preferences as defaults of the listings. -------------------------------------
{
	put_prefs($P, { map { $_ => undef } keys %NONE });
	my $all = ids($PLAIN, 'sort=capable&filter=chat');
	ok(@$all >= 8, scalar(@$all) . ' chat models to play with');

	put_prefs($P, { sort => 'capable', useCases => ['chat'], topN => 5 });
	is_deeply(ids($P), ids($PLAIN, 'sort=capable&filter=chat&topN=5'),
	    'saved sort, useCases and topN stand in for absent parameters');
	is_deeply(ids($P, 'sort=newest'), ids($PLAIN, 'sort=newest&filter=chat&topN=5'),
	    'a query parameter wins over the saved one');
	is_deeply(ids($P, 'useCase=tools&topN=100'), ids($PLAIN, 'sort=capable&filter=tools'),
	    'under any alias');

	put_prefs($P, { excludeModelIds => [$all->[0], $all->[2], 'not/a-model'] });
	is_deeply(ids($P), [@$all[1, 3, 4, 5, 6]],
	    'exclusions go after the sort and before topN');
	my ($res, $doc) = get('/api/v1/models/full', $P);
	is($res->{status}, 200, '/full with preferences');
	is_deeply($doc->{excludeModelIds}, [$all->[0], $all->[2], 'not/a-model'],
	    '/full reports the saved exclusions');
	is($doc->{sort}, 'capable', '/full reports the effective sort');
	is_deeply($doc->{useCases}, ['chat'], 'and the effective useCases');
	is_deeply([map { $_->{id} } @{$doc->{models}}], [@$all[1, 3, 4, 5, 6]],
	    'the same models as /ids');
	(undef, $doc) = get('/api/v1/models/full?sort=capable&filter=chat&topN=100', $P);
	is($doc->{count}, @$all - 2, 'exclusions hold with every parameter given');
	(undef, $doc) = get('/api/v1/models/full', $PLAIN);
	is_deeply($doc->{excludeModelIds}, [], 'no saved exclusions: []');

	put_prefs($P, { timeRange => '7d' });
	(undef, $doc) = get('/api/v1/models/full', $P);
	is($doc->{timeRange}, '7d', 'saved timeRange');
	(undef, $doc) = get('/api/v1/models/full?range=1h', $P);
	is($doc->{timeRange}, '1h', 'overridden by the query');

	# maxErrorRate and myReports: three errors about one model, by the
	# plain user.
	my $m = $all->[1];
	for (1 .. 3) {
		my ($r) = $s->json_request('POST', '/api/v1/models/feedback',
		    { modelId => $m, issue => 'error' }, auth($PLAIN));
		is($r->{status}, 200, 'an error report') or diag $r->{content};
	}
	put_prefs($P, { maxErrorRate => 50, excludeModelIds => undef, topN => undef });
	ok(!grep({ $_ eq $m } @{ids($P)}), 'saved maxErrorRate drops the failing model');
	ok(grep({ $_ eq $m } @{ids($P, 'maxErrorRate=100')}), 'unless the query says otherwise');
	put_prefs($P, { myReports => $TRUE });
	ok(grep({ $_ eq $m } @{ids($P)}), 'saved myReports: only my reports count');
	put_prefs($P, { map { $_ => undef } keys %NONE });
	is_deeply(ids($P), ids($PLAIN), 'all cleared: the plain defaults');
}

# --- A stored value that no longer validates. ----------------------------------
{
	my $id = $pg->psql("SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.email = 'prefs\@example.com'");
	$pg->psql(q[UPDATE api_keys SET preferences = '{"sort":"bogus","topN":2,]
	    . q["colour":1,"excludeModelIds":"x","maxErrorRate":"12"}']
	    . " WHERE id = '$id'");
	my ($res, $doc) = get('/api/v1/models/ids', $P);
	is($res->{status}, 200, 'bad saved values do not break the listing');
	is_deeply($doc->{ids}, ids($PLAIN, 'topN=2'), 'the good ones still apply');
	like($s->api_log, qr/warn: .*saved preference sort ignored/,
	    'the bad ones are logged');
	(undef, $doc) = get('/api/v1/preferences', $P);
	is_deeply($doc, { %NONE, topN => 2 }, 'GET shows only what validates');
	$pg->psql(qq{UPDATE api_keys SET preferences = '[1,2]' WHERE id = '$id'});
	($res, $doc) = get('/api/v1/models/ids', $P);
	is($res->{status}, 200, 'preferences that are not an object: ignored');
	is_deeply($doc->{ids}, ids($PLAIN), 'defaults');
	(undef, $doc) = put_prefs($P, { sort => 'newest' });
	is_deeply($doc, { %NONE, sort => 'newest' }, 'a PUT over them works');
}

done_testing();
