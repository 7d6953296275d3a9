# End to end: GET /api/v1/models/ids and /full (SPEC.md §1–§2) through
# nginx and real workers on a private PostgreSQL, with the bundled
# OpenRouter snapshot loaded by flr-sync.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of read_table both_modes);

my $root = "$FindBin::Bin/..";
my $fixture = "$FindBin::Bin/fixtures/openrouter-models.json";
my $s = FLR::Stack->new(workers => 2);
my $pg = $s->pg;

my ($rc, $out, $err) = $s->run_sync(url => "file://$fixture");
is($rc, 0, 'the snapshot loads') or diag($err);

my $key = $s->create_key(email => 'models@example.com');
my %auth = (Authorization => "Bearer $key");

sub get {
	my ($path, %h) = @_;
	return $s->request('GET', $path, { headers => { %auth, %h } });
}

# --- What the catalogue should hold, computed from the snapshot. -------
my $snap = JSON::PP->new->decode(do { local (@ARGV, $/) = $fixture; <> });
sub is_zero { my $v = shift; defined $v && !ref $v && $v =~ /^0(\.0+)?$/ }
my @free = grep {
	is_zero($_->{pricing}{prompt}) && is_zero($_->{pricing}{completion})
} @{ $snap->{data} };
is(scalar @free, 20, 'the snapshot has 20 free models');

my %m;
for my $x (@free) {
	my $par = $x->{supported_parameters} // [];
	my $arch = $x->{architecture} // {};
	my %p = map { $_ => 1 } @$par;
	my %in = map { $_ => 1 } @{ $arch->{input_modalities} // [] };
	my %outm = map { $_ => 1 } @{ $arch->{output_modalities} // [] };
	$m{ $x->{id} } = {
		id => $x->{id},
		ctx => $x->{context_length} // 0,
		maxout => $x->{top_provider}{max_completion_tokens} // 0,
		ncap => scalar @$par,
		created => $x->{created} // 0,
		chat => (($arch->{modality} // '') eq 'text->text' || $outm{text}) ? 1 : 0,
		vision => $in{image} ? 1 : 0,
		tools => $p{tools} ? 1 : 0,
		longContext => (($x->{context_length} // 0) >= 100000) ? 1 : 0,
		reasoning => ($p{reasoning} || $p{include_reasoning}) ? 1 : 0,
	};
}

sub tie_order { $m{$b}{ctx} <=> $m{$a}{ctx} || $a cmp $b }
my %by = (
	contextLength => sub { tie_order() },
	maxOutput => sub { $m{$b}{maxout} <=> $m{$a}{maxout} || tie_order() },
	capable => sub { $m{$b}{ncap} <=> $m{$a}{ncap} || tie_order() },
	newest => sub { $m{$b}{created} <=> $m{$a}{created} || tie_order() },
	leastIssues => sub { tie_order() },   # no reports yet: all 0 %
);

sub expected {
	my ($sort, @filters) = @_;
	my @ids = grep { my $id = $_; !grep { !$m{$id}{$_} } @filters } keys %m;
	my $cmp = $by{$sort};
	return [sort $cmp @ids];
}

# --- The headline request of the README. -------------------------------
{
	my $res = get('/api/v1/models/ids?filter=chat&sort=capable&topN=5');
	is($res->{status}, 200, 'ids: 200');
	is($res->{headers}{'content-type'}, 'application/json', 'ids: JSON');
	my $doc = json_of($res);
	is_deeply($doc->{ids}, [@{ expected('capable', 'chat') }[0 .. 4]],
	    'ids: five chat models, most capable first');
	is($doc->{count}, 5, 'ids: count');
	like($doc->{requestId}, qr/^[0-9a-f-]{36}$/, 'ids: requestId');
	is($res->{headers}{'cache-control'}, 'private, max-age=60',
	    'ids: Cache-Control');
	ok(!exists $res->{headers}{'x-data-stale'}, 'fresh data: no stale header');
	ok(!exists $doc->{_meta}, 'fresh data: no _meta');
	# The request-log row is written after the response has left.
	my $row = '';
	for (1 .. 50) {
		$row = $pg->psql("SELECT endpoint || ' ' || status || ' ' || "
		    . "array_length(model_ids, 1) FROM api_request_logs "
		    . "WHERE id = '$doc->{requestId}'");
		last if $row ne '';
		select undef, undef, undef, 0.1;
	}
	is($row, '/api/v1/models/ids 200 5', 'requestId names its log row');
}

# --- Every sort, alone and with every filter. ---------------------------
for my $sort (sort keys %by) {
	for my $f ('', qw(chat vision tools longContext reasoning)) {
		my $q = "sort=$sort" . ($f ? "&filter=$f" : '');
		my $doc = json_of(get("/api/v1/models/ids?$q"));
		is_deeply($doc->{ids}, expected($sort, $f ? ($f) : ()),
		    "ids?$q: the expected models in order");
	}
}
{
	my $doc = json_of(get('/api/v1/models/ids'));
	is_deeply($doc->{ids}, expected('contextLength'),
	    'default: every active model, longest context first');
	$doc = json_of(get('/api/v1/models/ids?useCases=tools,reasoning,vision'));
	is_deeply($doc->{ids},
	    expected('contextLength', qw(tools reasoning vision)),
	    'filters combine with AND (useCases alias)');
	$doc = json_of(get('/api/v1/models/ids?useCase=longContext&topN=100'));
	is_deeply($doc->{ids}, expected('contextLength', 'longContext'),
	    'useCase alias; topN over the count returns all');
	$doc = json_of(get('/api/v1/models/ids?topN=1&unknown=zzz&timeWindow=7d'));
	is(scalar @{ $doc->{ids} }, 1, 'unknown parameters are ignored');
}

# --- Bad input: a table of query strings and what they get. -------------
for my $row (read_table("$FindBin::Bin/data/models-bad-input.tsv")) {
	my $q = $row->[0];
	both_modes(sub { get("/api/v1/models/ids?$q", %{ $_[0] }) }, $row, 'ids');
}
problem_is(get('/api/v1/models/full?topN=0', Prefer => 'handling=strict'),
    400, 'invalid_parameter', 'topN', 'full?topN=0 strict → 400');
{
	my $r = get('/api/v1/models/full?topN=0');
	is(scalar @{ json_of($r)->{models} }, 1, 'full?topN=0 lenient → one model');
	$r = get('/api/v1/models/ids?topN=2', Prefer => 'handling=lenient');
	is($r->{headers}{'preference-applied'}, 'handling=lenient',
	    'Prefer: handling=lenient is answered');
	ok(!exists $r->{headers}{'x-flr-adjusted'}, 'nothing adjusted: no header');
	$r = get('/api/v1/models/ids?topN=2.9');
	is(scalar @{ json_of($r)->{ids} }, 2, 'topN=2.9 → 2 models');
	$r = get('/api/v1/models/ids?useCase=vision,bogus');
	is_deeply(json_of($r)->{ids}, expected('contextLength', 'vision'),
	    'an unknown filter word is dropped, the rest applies');
	$r = get('/api/v1/models/ids?topN=3', Prefer => 'return=minimal, handling=strict');
	is($r->{headers}{'preference-applied'}, 'handling=strict',
	    'handling found among other preferences');
}

# --- Authentication. ------------------------------------------------------
{
	my $r = $s->request('GET', '/api/v1/models/ids');
	problem_is($r, 401, 'missing_auth', undef, 'no key → 401 missing_auth');
	for my $h ('Basic abc', 'Bearer', 'Bearer ', "Bearer $key extra",
	    "Bearer$key", 'fma_abc') {
		problem_is(
		    $s->request('GET', '/api/v1/models/ids',
			{ headers => { Authorization => $h } }),
		    401, 'invalid_auth_format', undef, "'$h' → invalid_auth_format");
	}
	my $unknown = 'fma_' . ('A' x 43);
	problem_is(
	    $s->request('GET', '/api/v1/models/ids',
		{ headers => { Authorization => "Bearer $unknown" } }),
	    401, 'invalid_key', undef, 'unknown key → invalid_key');
	problem_is(
	    $s->request('GET', '/api/v1/models/ids',
		{ headers => { Authorization => 'Bearer not-a-key' } }),
	    401, 'invalid_key', undef, 'a token of the wrong shape → invalid_key');
	my $r2 = $s->request('GET', '/api/v1/models/ids',
	    { headers => { Authorization => "bearer $key" } });
	is($r2->{status}, 200, 'the scheme is case-insensitive');

	my $off = $s->create_key(email => 'off@example.com', enabled => 0);
	problem_is(
	    $s->request('GET', '/api/v1/models/ids',
		{ headers => { Authorization => "Bearer $off" } }),
	    401, 'invalid_key', undef, 'disabled key → invalid_key');
	my $old = $s->create_key(email => 'old@example.com',
	    expires_at => $pg->psql("SELECT now() - interval '1 minute'"));
	problem_is(
	    $s->request('GET', '/api/v1/models/ids',
		{ headers => { Authorization => "Bearer $old" } }),
	    401, 'expired_key', undef, 'expired key → expired_key');
	my $later = $s->create_key(email => 'later@example.com',
	    expires_at => $pg->psql("SELECT now() + interval '1 day'"));
	is($s->request('GET', '/api/v1/models/ids',
		{ headers => { Authorization => "Bearer $later" } })->{status},
	    200, 'a key that expires later works');
	is($pg->psql("SELECT window_count FROM users WHERE email IN "
		. "('off\@example.com', 'old\@example.com')"), "0\n0",
	    'refused keys do not use quota') or 1;
}

# --- Routing, methods, CORS, request ids. ---------------------------------
{
	problem_is(get('/api/v1/nope'), 404, 'not_found', undef,
	    'unknown path under /api/ → 404');
	problem_is(get('/api/v1/models/ids/'), 404, 'not_found', undef,
	    'a trailing slash is another path');
	my $r = $s->request('POST', '/api/v1/models/ids',
	    { headers => { %auth, 'Content-Type' => 'application/json' },
	      content => '{}' });
	problem_is($r, 405, 'method_not_allowed', undef, 'POST /ids → 405');
	like($r->{headers}{allow} // '', qr/\bGET\b/, '405 carries Allow');
	$r = $s->request('DELETE', '/api/v1/models/full', { headers => \%auth });
	is($r->{status}, 405, 'DELETE /full → 405');

	$r = $s->request('OPTIONS', '/api/v1/models/ids');
	is($r->{status}, 204, 'OPTIONS → 204');
	is($r->{headers}{'access-control-allow-origin'}, '*', 'CORS origin');
	like($r->{headers}{'access-control-allow-methods'} // '',
	    qr/GET, POST, PUT, DELETE, OPTIONS/, 'CORS methods');
	like($r->{headers}{'access-control-allow-headers'} // '',
	    qr/Content-Type, Authorization/, 'CORS headers');
	$r = get('/api/v1/models/ids?topN=1');
	like($r->{headers}{'access-control-expose-headers'} // '',
	    qr/X-RateLimit-Remaining.*X-Data-Stale.*X-Request-Id/,
	    'CORS exposes quota, staleness and request-id headers');
	like($r->{headers}{'x-request-id'} // '',
	    qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
	    'a fresh X-Request-Id is a v4 UUID');
	my $mine = '0b6f1d52-3c2e-4f7a-9d1e-2a3b4c5d6e7f';
	$r = get('/api/v1/models/ids?topN=1', 'X-Request-Id' => $mine);
	is($r->{headers}{'x-request-id'}, $mine, 'a valid X-Request-Id is echoed');
	$r = get('/api/v1/models/ids?topN=1', 'X-Request-Id' => 'evil"\\id');
	isnt($r->{headers}{'x-request-id'}, 'evil"\\id',
	    'an invalid X-Request-Id is replaced');
	is($r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff');
}

# --- /full: the shape of every model. -------------------------------------
{
	my $r = get('/api/v1/models/full?filter=vision&sort=newest');
	is($r->{status}, 200, 'full: 200');
	my $doc = json_of($r);
	my @want = @{ expected('newest', 'vision') };
	is_deeply([map { $_->{id} } @{ $doc->{models} }], \@want,
	    'full: the same selection and order as ids');
	is($doc->{count}, scalar @want, 'full: count');
	is($doc->{sort}, 'newest', 'full: sort');
	is_deeply($doc->{useCases}, ['vision'], 'full: useCases');
	is_deeply($doc->{excludeModelIds}, [], 'full: excludeModelIds');
	is_deeply($doc->{feedbackCounts}, {}, 'full: no reports, no counts');
	like($doc->{lastUpdated}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
	    'full: lastUpdated is ISO 8601 with ms');
	my @fields = qw(id name contextLength maxCompletionTokens description
	    modality inputModalities outputModalities supportedParameters
	    isModerated createdAt lastSeenAt issueCount errorRate reports
	    score sources openrouter);
	my $first = $doc->{models}[0];
	is_deeply([sort keys %$first], [sort @fields], 'full: model fields');
	my $src = (grep { $_->{id} eq $first->{id} } @free)[0];
	is($first->{name}, $src->{name}, 'full: name from the snapshot');
	is($first->{contextLength}, $src->{context_length}, 'full: contextLength');
	is_deeply($first->{supportedParameters}, $src->{supported_parameters},
	    'full: supportedParameters');
	is($first->{errorRate}, 0, 'full: errorRate 0 without reports');
	my ($null) = grep { $_->{id} eq 'openrouter/free' }
	    @{ json_of(get('/api/v1/models/full'))->{models} };
	ok($null && !defined $null->{maxCompletionTokens},
	    'full: a null max output stays null');
}

# --- Health from reports. -------------------------------------------------
{
	my @ids = @{ expected('contextLength') };
	my ($w, $x, $y, $z) = @ids[0 .. 3];
	my $other = $pg->psql("INSERT INTO users (email) VALUES "
	    . "('other\@example.com') RETURNING id");
	my $me = $pg->psql("SELECT id FROM users WHERE email = "
	    . "'models\@example.com'");
	my $ins = sub {
		my ($model, $outcome, $n, $uid, $age) = @_;
		$age //= '0 seconds';
		$pg->psql("INSERT INTO model_feedback (model_id, user_id, outcome,"
		    . " created_at) SELECT '$model', $uid, '$outcome',"
		    . " now() - interval '$age' FROM generate_series(1, $n)");
	};
	$ins->($w, 'success', 5, $other);
	$ins->($x, 'success', 150, $other);
	$ins->($x, 'error', 1, $other);
	$ins->($x, 'rate_limited', 1, $other);
	$ins->($x, 'unavailable', 1, $other);
	$ins->($y, 'success', 2, $me);
	$ins->($y, 'error', 1, $me);
	$ins->($z, 'rate_limited', 2, $other);
	$ins->($z, 'success', 7, $other, '2 hours');   # outside 1h, inside 24h
	$ins->($w, 'error', 9, $other, '2 days');      # outside 24h, inside 7d

	my $doc = json_of(get('/api/v1/models/full'));
	my %h = map { $_->{id} => $_ } @{ $doc->{models} };
	is_deeply([@{ $h{$x} }{qw(issueCount errorRate reports)}], [3, 1.96, 153],
	    '3 issues in 153 reports: 1.96 %');
	is_deeply([@{ $h{$y} }{qw(issueCount errorRate reports)}], [1, 33.33, 3],
	    '1 issue in 3 reports: 33.33 %');
	is_deeply([@{ $h{$z} }{qw(issueCount errorRate reports)}], [2, 22.22, 9],
	    '2 issues in 9 reports: 22.22 %');
	is_deeply([@{ $h{$w} }{qw(issueCount errorRate reports)}], [0, 0, 5],
	    'only successes: 0 %');
	like(get('/api/v1/models/full')->{content}, qr/"errorRate":1\.96[,}]/,
	    'errorRate prints as 1.96 in the body');
	is_deeply($doc->{feedbackCounts}{$x},
	    { rateLimited => 1, unavailable => 1, error => 1,
	      successCount => 150, errorRate => 1.96 }, 'feedbackCounts entry');
	is_deeply([sort keys %{ $doc->{feedbackCounts} }], [sort $w, $x, $y, $z],
	    'feedbackCounts lists only models with reports');

	$doc = json_of(get('/api/v1/models/full?timeRange=1h'));
	%h = map { $_->{id} => $_ } @{ $doc->{models} };
	is_deeply([@{ $h{$z} }{qw(issueCount errorRate reports)}], [2, 100, 2],
	    '1h window leaves out reports from 2 hours ago');
	$doc = json_of(get('/api/v1/models/full?timeRange=7d'));
	%h = map { $_->{id} => $_ } @{ $doc->{models} };
	is_deeply([@{ $h{$w} }{qw(issueCount reports)}], [9, 14],
	    '7d window takes in reports from 2 days ago');
	$doc = json_of(get('/api/v1/models/full?range=all'));
	%h = map { $_->{id} => $_ } @{ $doc->{models} };
	is($h{$w}{reports}, 14, 'all: every report');

	# leastIssues: error rate ascending, then more reports first.
	$doc = json_of(get('/api/v1/models/ids?sort=leastIssues'));
	my @rest = grep { $_ ne $w && $_ ne $x && $_ ne $y && $_ ne $z } @ids;
	is_deeply($doc->{ids}, [$w, @rest, $x, $z, $y],
	    'leastIssues: 0 % with reports, 0 % without, then 1.96, 22.22, 33.33');

	# maxErrorRate drops models above it; minReports spares thin ones.
	$doc = json_of(get('/api/v1/models/ids?maxErrorRate=22.22'));
	ok((grep { $_ eq $z } @{ $doc->{ids} }) && !(grep { $_ eq $y } @{ $doc->{ids} }),
	    'maxErrorRate=22.22 keeps 22.22 %, drops 33.33 %');
	$doc = json_of(get('/api/v1/models/ids?maxErrorRate=1.95'));
	is(scalar(grep { $_ eq $x || $_ eq $y || $_ eq $z } @{ $doc->{ids} }), 0,
	    'maxErrorRate=1.95 drops 1.96 % and above');
	is(scalar @{ $doc->{ids} }, 17, '… and keeps the other 17');
	$doc = json_of(get('/api/v1/models/ids?maxErrorRate=0&minReports=4'));
	ok((grep { $_ eq $y } @{ $doc->{ids} }) && !(grep { $_ eq $x } @{ $doc->{ids} }),
	    'minReports=4 spares the model with 3 reports, not the one with 153');
	$doc = json_of(get('/api/v1/models/ids?maxErrorRate=0&topN=2&sort=leastIssues'));
	is_deeply($doc->{ids}, [$w, $rest[0]], 'maxErrorRate, sort, then topN');

	# myReports: only the caller's own reports.
	$doc = json_of(get('/api/v1/models/full?myReports=true'));
	%h = map { $_->{id} => $_ } @{ $doc->{models} };
	is_deeply([@{ $h{$y} }{qw(issueCount reports)}], [1, 3], 'myReports: mine');
	is($h{$x}{reports}, 0, "myReports: others' reports left out");
	is_deeply([keys %{ $doc->{feedbackCounts} }], [$y],
	    'myReports: feedbackCounts of mine only');
}

# --- Staleness. ------------------------------------------------------------
{
	$pg->psql("UPDATE sync_meta SET last_success_at = now() - interval '2 hours'");
	my $r = get('/api/v1/models/ids?topN=1');
	is($r->{headers}{'x-data-stale'}, 'true', 'stale after an hour');
	my $age = $r->{headers}{'x-data-age-seconds'} // -1;
	ok($age >= 7199 && $age <= 7300, "X-Data-Age-Seconds ≈ 7200 ($age)");
	my $doc = json_of($r);
	ok($doc->{_meta}{stale}, '_meta.stale');
	ok(abs($doc->{_meta}{ageSeconds} - 7200) <= 100, '_meta.ageSeconds');
	$pg->psql("UPDATE sync_meta SET last_success_at = NULL");
	$r = get('/api/v1/models/full?topN=1');
	is($r->{headers}{'x-data-stale'}, 'true', 'never synced: stale');
	ok(!exists $r->{headers}{'x-data-age-seconds'}, 'never synced: no age');
	$doc = json_of($r);
	ok($doc->{_meta}{stale} && exists $doc->{_meta}{ageSeconds}
	    && !defined $doc->{_meta}{ageSeconds}, '_meta.ageSeconds null');
	ok(!defined $doc->{lastUpdated}, 'lastUpdated null');
	$pg->psql("UPDATE sync_meta SET last_success_at = now()");
}

done_testing;
