# Drop-in compatibility with the hosted service's clients and pages.
#
# The published TypeScript client (getModelIds, reportSuccess,
# reportIssue, issueFromStatus) never looks at an HTTP status and caches
# whatever it got: a 400 there is "no models" for 15 minutes, a refused
# report is lost.  Each of its calls below is written from what it sends
# (URLSearchParams of its arguments, JSON.stringify of its report, which
# leaves out undefined members) and must answer 200 with the hosted
# service's meaning by default, and 400 under Prefer: handling=strict.
# Then: Idempotency-Key on reports (under concurrent retries), the
# superset shapes of /api/health and /api/availability that the hosted
# service's pages read, and the anonymous /api/demo/models.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $fixture = "$FindBin::Bin/fixtures/openrouter-models.json";
my $s = FLR::Stack->new(workers => 4);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(url => "file://$fixture");
is($rc, 0, 'the snapshot loads') or diag($err);
my $key = $s->create_key(email => 'client@example.com');
my $uuid = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $active = $pg->psql('SELECT count(*) FROM free_models WHERE is_active');

sub get {
	my ($path, %h) = @_;
	return $s->request('GET', $path,
	    { headers => { Authorization => "Bearer $key", %h } });
}

sub post_report {
	my ($body, %h) = @_;
	return $s->request('POST', '/api/v1/models/feedback', {
		headers => { Authorization => "Bearer $key",
		    'Content-Type' => 'application/json', %h },
		content => $body });
}

# --- getModelIds(useCase?, sort?, topN?, options?) -------------------------
# Each: the query the client builds, how many ids the hosted service's
# meaning gives (undef: any number), whether strict handling refuses it.
my @calls = (
	['', undef, 0],
	['useCase=chat', undef, 0],
	['useCase=chat%2Cvision&sort=capable&topN=5', undef, 0],
	['useCase=tools&sort=leastIssues&topN=3&maxErrorRate=10&timeRange=7d', 3, 0],
	['sort=newest&topN=1&timeRange=all&myReports=true', 1, 0],
	['useCase=', $active, 1], # getModelIds([]) joins nothing
	['topN=101', $active, 1], # clamped to 100: every model
	['topN=2.5', 2, 1], # truncated
	['topN=-1', 1, 1], # clamped to 1
	['maxErrorRate=150', $active, 1], # clamped to 100: nothing dropped
	['maxErrorRate=-1&minReports=0', $active, 1], # 0: models without reports stay
	['useCase=chat%2Csummarize&topN=4', 4, 1], # unknown use case dropped
);
for my $c (@calls) {
	my ($q, $want, $strict_refuses) = @$c;
	my $r = get("/api/v1/models/ids?$q");
	my $doc = json_of($r) // {};
	is($r->{status}, 200, "getModelIds ?$q → 200") or diag($r->{content});
	is(ref $doc->{ids}, 'ARRAY', "?$q: ids");
	like($doc->{requestId} // '', $uuid, "?$q: requestId");
	is(scalar @{ $doc->{ids} // [] }, $want, "?$q: $want ids") if defined $want;
	ok(!$strict_refuses || defined $r->{headers}{'x-flr-adjusted'},
	    "?$q: the adjustment is reported");
	$r = get("/api/v1/models/ids?$q", Prefer => 'handling=strict');
	if ($strict_refuses) {
		problem_is($r, 400, 'invalid_parameter', undef, "?$q strict → 400");
	} else {
		is($r->{status}, 200, "?$q strict → 200 (nothing to adjust)");
	}
}
{
	# The same through /full, the other listing a client may call.
	my $doc = json_of(get('/api/v1/models/full?topN=2.5&useCase='));
	is(scalar @{ $doc->{models} }, 2, 'full: the same leniency');
}

# --- reportSuccess / reportIssue ------------------------------------------
my ($model) = @{ json_of(get('/api/v1/models/ids?topN=1'))->{ids} };
my $rid = json_of(get('/api/v1/models/ids?topN=1'))->{requestId};
my $long = 'é' x 1500; # e.message of a long upstream error
my $long_json = '"' . ('\u00e9' x 1500) . '"';
my @reports = (
	["reportSuccess(id, requestId)", qq({"modelId":"$model","success":true,"requestId":"$rid"}), 0],
	["reportSuccess(id)", qq({"modelId":"$model","success":true}), 0],
	["reportIssue(id, issueFromStatus(429), requestId)",
	    qq({"modelId":"$model","issue":"rate_limited","requestId":"$rid"}), 0],
	["reportIssue(id, issueFromStatus(503), rid, e.message) long details",
	    qq({"modelId":"$model","issue":"unavailable","requestId":"$rid","details":$long_json}), 1],
	["reportSuccess(id, 'req-42') requestId not a UUID",
	    qq({"modelId":"$model","success":true,"requestId":"req-42"}), 1],
	["reportIssue(id, 'error', 42) requestId a number",
	    qq({"modelId":"$model","issue":"error","requestId":42}), 1],
);
for my $c (@reports) {
	my ($name, $body, $strict_refuses) = @$c;
	my $before = $pg->psql('SELECT count(*) FROM model_feedback');
	my $r = post_report($body, Prefer => 'handling=strict');
	if ($strict_refuses) {
		problem_is($r, 400, 'invalid_field', undef, "$name strict → 400");
		is($pg->psql('SELECT count(*) FROM model_feedback'), $before,
		    "$name strict: nothing stored");
	}
	$r = post_report($body);
	my $doc = json_of($r) // {};
	is($r->{status}, 200, "$name → 200") or diag($r->{content});
	ok($doc->{received} && ($doc->{id} // '') =~ $uuid, "$name: received, id");
	is($pg->psql("SELECT count(*) FROM model_feedback WHERE id = '$doc->{id}'"),
	    1, "$name: stored");
}
{
	my $row = $pg->psql("SELECT length(details), request_id IS NULL FROM model_feedback"
	    . " WHERE outcome = 'unavailable' ORDER BY created_at DESC LIMIT 1");
	is($row, '1000|f', 'long details: cut to 1000 characters, requestId kept');
	is($pg->psql("SELECT count(*) FROM model_feedback WHERE request_id IS NULL"
	    . " AND outcome IN ('success','error')"), 4,
	    'reports without a requestId: the one sent without (twice: strict'
	    . ' and lenient) and the two dropped')
	    or diag($pg->psql("SELECT outcome, request_id FROM model_feedback"));
	my $r = post_report(qq({"modelId":"$model","success":true,"requestId":"req-42"}));
	is($r->{headers}{'x-flr-adjusted'}, 'requestId;was="req-42";rule=dropped',
	    'and the adjustment says so');
	$r = post_report(qq({"modelId":"$model","success":true,"details":"@{['x' x 1001]}"}));
	is($r->{headers}{'x-flr-adjusted'},
	    'details;was="1001 characters";now="1000 characters";rule=cut',
	    'a cut says how long it was');
	problem_is(post_report(qq({"modelId":"no/such-model","success":true})),
	    422, 'unknown_model', 'modelId', 'an unknown model stays a 422');
	my $ids = json_of(get("/api/v1/models/full?topN=100"));
	my ($m) = grep { $_->{id} eq $model } @{ $ids->{models} };
	ok($m->{reports} >= 8, 'the reports count in the listing at once');
}

# --- Idempotency-Key ---------------------------------------------------------
{
	my $body = qq({"modelId":"$model","issue":"error","details":"retry me"});
	my $before = $pg->psql('SELECT count(*) FROM model_feedback');
	my $r1 = post_report($body, 'Idempotency-Key' => '"8e03978e-40d5-43e8-bc93-6894a57f9324"');
	my $id = json_of($r1)->{id};
	is($r1->{status}, 200, 'a first report with a key → 200');
	ok(!exists $r1->{headers}{'idempotent-replayed'}, 'not a replay');
	my $r2 = post_report($body, 'Idempotency-Key' => '"8e03978e-40d5-43e8-bc93-6894a57f9324"');
	is(json_of($r2)->{id}, $id, 'the retry gets the same id');
	is($r2->{headers}{'idempotent-replayed'}, 'true', 'Idempotent-Replayed: true');
	is($pg->psql('SELECT count(*) FROM model_feedback'), $before + 1,
	    'one report stored for two posts');
	problem_is(post_report(qq({"modelId":"$model","success":true}),
	    'Idempotency-Key' => '"8e03978e-40d5-43e8-bc93-6894a57f9324"'),
	    422, 'idempotency_key_reused', undef, 'the key with another body → 422');
	for my $bad ('', '"', 'a b', 'x' x 256, 'a"b', '""') {
		problem_is(post_report($body, 'Idempotency-Key' => $bad), 400,
		    'invalid_idempotency_key', undef,
		    'a malformed key → 400 (' . length($bad) . ' bytes)');
	}
	my $other = $s->create_key(email => 'other@example.com');
	my $r3 = $s->request('POST', '/api/v1/models/feedback', {
		headers => { Authorization => "Bearer $other",
		    'Content-Type' => 'application/json',
		    'Idempotency-Key' => '"8e03978e-40d5-43e8-bc93-6894a57f9324"' },
		content => $body });
	isnt(json_of($r3)->{id}, $id, 'keys are per user: another user stores its own');

	# Concurrent retries of one report: 8 clients at once, same key.
	$before = $pg->psql('SELECT count(*) FROM model_feedback');
	my @kids;
	for my $i (1 .. 8) {
		pipe(my $rd, my $wr) or die "pipe: $!";
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			close $rd;
			my $r = post_report($body, 'Idempotency-Key' => 'concurrent-1');
			print $wr ($r->{status} // 0), ' ', (json_of($r) // {})->{id} // '';
			close $wr;
			POSIX::_exit(0);
		}
		close $wr;
		push @kids, [$pid, $rd];
	}
	my %ids;
	my $ok = 0;
	for my $k (@kids) {
		my $line = do { local $/; readline $k->[1] };
		waitpid $k->[0], 0;
		my ($st, $got) = split / /, $line // '';
		$ok++ if ($st // 0) == 200;
		$ids{$got // ''}++;
	}
	is($ok, 8, 'eight concurrent retries: all 200');
	is(scalar keys %ids, 1, 'all with the same id');
	is($pg->psql('SELECT count(*) FROM model_feedback'), $before + 1,
	    'and one report stored');
}

# --- The hosted service's shapes -------------------------------------------
{
	my ($r, $doc) = $s->get_json('/api/health?range=24h&useCases=chat');
	is($r->{status}, 200, 'health with the original parameters');
	is($doc->{range}, '24h', 'range');
	like($doc->{lastUpdated} // '', qr/^\d{4}-\d\d-\d\dT/, 'lastUpdated');
	is(ref $doc->{issues}, 'ARRAY', 'issues');
	my ($i) = grep { $_->{modelId} eq $model } @{ $doc->{issues} };
	ok($i, 'the reported model is among the issues');
	for my $f (qw(modelId modelName rateLimited unavailable error total
	    successCount errorRate modality inputModalities outputModalities
	    supportedParameters contextLength maxCompletionTokens)) {
		ok(exists $i->{$f}, "issues item has $f");
	}
	is($i->{total}, $i->{rateLimited} + $i->{unavailable} + $i->{error},
	    'total = the issues, as the hosted service counts it');
	my $last = $doc->{timeline}[-1];
	like($last->{date}, qr/^\d{4}-\d\d-\d\d \d\d:00:00$/, 'timeline date');
	is($last->{$model}, $last->{counts}{$model}{errorRate},
	    'timeline: the model id member is the bucket error rate');
	is(scalar @{ $doc->{timeline} }, 24, '24 hourly buckets');
}
{
	my ($r, $doc) = $s->get_json('/api/availability?useCases=vision&sort=contextLength');
	is($r->{status}, 200, 'availability with the original parameters');
	is(scalar @{ $doc->{dates} }, 30, '30 dates by default');
	my @ctx = map { $_->{contextLength} // 0 } @{ $doc->{models} };
	is_deeply(\@ctx, [sort { $b <=> $a } @ctx], 'sorted by context length');
	my @blind = grep {
		my $m = $_;
		!grep { $_ eq 'image' } @{ $m->{inputModalities} }
	} @{ $doc->{models} };
	ok(@{ $doc->{models} } > 0 && !@blind, 'vision models only');
	my $m = $doc->{models}[0];
	is_deeply([sort keys %{ $m->{availability} }], [sort @{ $doc->{dates} }],
	    'availability has every date');
	is($m->{availability}{ $doc->{dates}[-1] }, JSON::PP::true(), 'seen today');
	is($m->{availability}{ $doc->{dates}[0] }, JSON::PP::false(), 'not 30 days ago');
	($r, $doc) = $s->get_json('/api/availability?days=120');
	is(scalar @{ $doc->{dates} }, 90, 'days over 90 → 90');
}

# --- /api/demo/models ---------------------------------------------------------
{
	my $q = 'useCase=chat&sort=capable&topN=3';
	my $used = $pg->psql('SELECT window_count FROM users'
	    . " WHERE email = 'client\@example.com'");
	my $r = $s->request('GET', "/api/demo/models?$q");
	my $doc = json_of($r);
	is($r->{status}, 200, 'demo: no key, 200');
	is($r->{headers}{'cache-control'}, 'public, max-age=60', 'public cache');
	ok(!exists $r->{headers}{'x-ratelimit-limit'}, 'not counted: no quota headers');
	ok(!exists $doc->{requestId}, 'no requestId');
	my $full = json_of(get("/api/v1/models/full?$q"));
	is_deeply([map { $_->{id} } @{ $doc->{models} }],
	    [map { $_->{id} } @{ $full->{models} }], 'the models of /full');
	is_deeply($doc->{feedbackCounts}, $full->{feedbackCounts}, 'and their counts');
	is($pg->psql('SELECT window_count FROM users'
	    . " WHERE email = 'client\@example.com'"), $used + 1,
	    'only the /full call counted');
	$r = $s->request('GET', '/api/demo/models?myReports=true');
	is($r->{status}, 200, 'demo: myReports is dropped');
	is($r->{headers}{'x-flr-adjusted'}, 'myReports;was="true";rule=dropped',
	    'and reported');
	problem_is($s->request('GET', '/api/demo/models?myReports=true',
	    { headers => { Prefer => 'handling=strict' } }), 400,
	    'invalid_parameter', 'myReports', 'demo strict: myReports → 400');
	my %st;
	$st{ $s->request('GET', '/api/demo/models?topN=1')->{status} }++ for 1 .. 80;
	ok($st{429}, 'a burst from one address is limited by nginx');
	my $lim = $s->request('GET', '/api/demo/models?topN=1');
	for (1 .. 100) {
		last if $lim->{status} == 429;
		$lim = $s->request('GET', '/api/demo/models?topN=1');
	}
	problem_is($lim, 429, 'too_many_requests', undef, 'the limit is a problem document');
	ok($lim->{headers}{'retry-after'}, 'with Retry-After');
}

done_testing;
