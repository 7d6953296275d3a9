# The router, POST /api/v1/chat/completions (flr-router behind nginx, on
# its own pool), against a scripted stand-in for OpenRouter
# (FLR::FakeOpenRouter): explicit models, "models" lists and "auto";
# fallback on 429, 5xx, 404, a late first byte, a broken or oversized
# answer; streaming (events relayed as they come, fallback only before
# the first, an error event when a stream breaks off, the upstream
# transfer stopped when the client goes away); OpenRouter's account
# quota; every attempt reported as the
# router's own; free ids only; the caller's key never upstream; the
# quota counted once per call, exactly, under concurrency; the per-user
# cap on concurrent calls, also when a worker dies; and what every bad
# input gets.  GET /api/v1/models, the OpenAI model list, too.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::FakeOpenRouter;
use FLR::Assert ();

my $json = JSON::PP->new->utf8->canonical;
my $fake = FLR::FakeOpenRouter->new;
my $OPERATOR_KEY = 'sk-or-v1-operator-test-key';
my $s = FLR::Stack->new(workers => 1, router_workers => 3, env => {
	OPENROUTER_BASE_URL => $fake->base_url,
	OPENROUTER_API_KEY => $OPERATOR_KEY,
	FLR_ROUTER_FIRST_BYTE_S => 2,
	FLR_ROUTER_MAX_BYTES => 1_000_000,
});
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);

my $alice = $s->create_key_full(email => 'alice@example.com',
    rate_limit_max => 100000);
my %AUTH = (Authorization => "Bearer $alice->{key}");
my @free = split /\n/, $s->psql('SELECT id FROM free_models WHERE is_active ORDER BY id');
cmp_ok(scalar @free, '>=', 6, 'the fixture has free models');
my ($A, $B, $C, $D) = @free;
my $paid = 'nvidia/nemotron-3.5-lightning';
is($s->psql("SELECT count(*) FROM free_models WHERE id = '$paid'"), 0,
    "$paid (a paid model of OpenRouter) is not in the free catalogue");

my @hello = (messages => [ { role => 'user', content => 'Hello' } ]);

# problem([$res, $doc], $status, $code, $name): a problem document.
sub problem {
	my ($pair, $status, $code, $name) = @_;
	return FLR::Assert::problem_is($pair->[0], $status, $code, undef, $name);
}

sub chat {
	my ($body, $headers) = @_;
	return $s->json_request('POST', '/api/v1/chat/completions', $body,
	    { %AUTH, %{ $headers // {} } });
}

sub reports {
	my ($where) = @_;
	return [ map { [ split /\|/ ] } split /\n/, $s->psql(
	    'SELECT model_id, outcome, source FROM model_feedback'
	    . ($where ? " WHERE $where" : '') . ' ORDER BY created_at, id') ];
}

sub quota_used {
	my ($uid) = @_;
	return $s->psql("SELECT window_count FROM users WHERE id = $uid");
}

# --- GET /api/v1/models -------------------------------------------------------
{
	my $before = quota_used($alice->{user_id}) || 0;
	my ($r, $doc) = $s->get_json('/api/v1/models', \%AUTH);
	is($r->{status}, 200, 'GET /api/v1/models: 200');
	is($doc->{object}, 'list', 'an OpenAI model list');
	is_deeply([ map { $_->{id} } @{ $doc->{data} } ], \@free,
	    'every active free model, by id');
	my $m = $doc->{data}[0];
	ok($m->{object} eq 'model' && $m->{created} =~ /^\d+$/
	    && $m->{owned_by} eq ($A =~ s{/.*}{}r), 'object, created, owned_by');
	is(quota_used($alice->{user_id}), $before + 1, 'counted like a listing');
	problem([ $s->get_json('/api/v1/models') ], 401, 'missing_auth',
	    'GET /api/v1/models without a key: 401');
}

# --- One explicit model ---------------------------------------------------------
$fake->reset;
{
	my $before = quota_used($alice->{user_id});
	my ($r, $doc) = chat({ model => $A, @hello, temperature => 0.7,
	    flr => { maxAttempts => 2 } });
	is($r->{status}, 200, 'an explicit free model: 200');
	is($doc->{model}, $A, 'the answer names the model used');
	is($doc->{choices}[0]{message}{content}, "Hello from $A", 'its answer');
	is($r->{headers}{'x-flr-model'}, $A, 'X-FLR-Model');
	is($r->{headers}{'x-flr-attempts'}, 1, 'X-FLR-Attempts: 1');
	is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
	is(quota_used($alice->{user_id}), $before + 1, 'one call, counted once');
	my @req = $fake->requests;
	is(scalar @req, 1, 'one request upstream');
	is($req[0]{path}, '/api/v1/chat/completions', 'to {base}/chat/completions');
	is($req[0]{headers}{authorization}, "Bearer $OPERATOR_KEY",
	    "with the operator's OpenRouter key");
	is($req[0]{json}{model}, $A, 'model set');
	is($req[0]{json}{temperature}, 0.7, 'the rest of the body as sent');
	ok(!exists $req[0]{json}{flr} && !exists $req[0]{json}{models},
	    'flr and models are not forwarded');
	unlike(join(' ', values %{ $req[0]{headers} }) . $req[0]{body},
	    qr/\Q$alice->{key}\E|fma_/, "the caller's fma_ key never goes upstream");
	is_deeply(reports("request_id IS NOT NULL AND model_id = '$A'"),
	    [ [ $A, 'success', 'router' ] ], "a success report of the router's");
	my $rid = $s->psql("SELECT request_id FROM model_feedback WHERE model_id = '$A'");
	my $logged = '';
	for (1 .. 100) {
		$logged = $s->psql("SELECT endpoint || ' ' || status || ' ' || model_ids::text"
		    . " FROM api_request_logs WHERE id = '$rid'");
		last if $logged ne '';
		sleep 0.05;
	}
	is($logged, "/api/v1/chat/completions 200 {$A}",
	    "the report's request id is the call's request-log row");
}

# --- The caller's own OpenRouter key --------------------------------------------
$fake->reset;
{
	my ($r) = chat({ model => $A, @hello },
	    { 'X-OpenRouter-Key' => 'sk-or-v1-callers-own' });
	is($r->{status}, 200, 'X-OpenRouter-Key: 200');
	is(($fake->requests)[0]{headers}{authorization}, 'Bearer sk-or-v1-callers-own',
	    "the caller's OpenRouter key is passed on");
	unlike($s->router_log . $s->api_log, qr/sk-or-v1-callers-own|\Q$OPERATOR_KEY\E/,
	    'and never logged');
}

# --- Fallback --------------------------------------------------------------------
sub fallback_case {
	my ($name, $first, $outcome) = @_;
	$fake->reset;
	$s->psql('DELETE FROM model_feedback; DELETE FROM router_cooldowns');
	$fake->script($A => $first);
	my ($r, $doc) = chat({ models => [ $A, $B ], @hello });
	is($r->{status}, 200, "$name, then a working model: 200");
	is($r->{headers}{'x-flr-model'}, $B, "$name: the second model answered");
	is($r->{headers}{'x-flr-attempts'}, 2, "$name: X-FLR-Attempts: 2");
	is($doc->{model}, $B, "$name: the answer names it");
	is_deeply(reports(), [ [ $A, $outcome, 'router' ], [ $B, 'success', 'router' ] ],
	    "$name: reported as $outcome, then success");
}
fallback_case('503', 'unavailable', 'unavailable');
fallback_case('502', 'bad_gateway', 'unavailable');
fallback_case('404 No endpoints found', 'no_endpoints', 'unavailable');
fallback_case('429 of the provider', 'rate_limited', 'rate_limited');
fallback_case('500', 'server_error', 'error');
fallback_case('no first byte in time', { slow => 8 }, 'error');
fallback_case('an answer that breaks off', 'drop', 'error');
fallback_case('an answer over the size cap', { big => 2_000_000 }, 'error');
fallback_case('a 200 that is not JSON', 'garbage', 'error');
fallback_case('a 200 without choices', 'error200', 'error');

# A connection that fails says nothing about the model: no report.
{
	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	my $dead = FLR::Pg::free_port();
	$s->stop_workers;
	$s->set_env(OPENROUTER_BASE_URL => "http://127.0.0.1:$dead/api/v1");
	$s->start_workers;
	my ($r, $doc) = chat({ models => [ $A, $B ], @hello });
	problem([ $r, $doc ], 502, 'upstream_failed',
	    'OpenRouter unreachable: 502 upstream_failed');
	is($r->{headers}{'x-flr-attempts'}, 2, 'after trying each model');
	like($doc->{detail}, qr/\Q$A\E: unreachable \(no connection\)/,
	    'the detail says what each attempt met');
	is_deeply(reports(), [], 'and nothing is reported against the models');
	$s->stop_workers;
	$s->set_env(OPENROUTER_BASE_URL => $fake->base_url);
	$s->start_workers;
}

# Retry-After: a model that asked to wait is tried last, by every worker.
{
	$fake->reset;
	$s->psql('DELETE FROM model_feedback; DELETE FROM router_cooldowns');
	$fake->script($A => [ { rate_limited => 120 }, 'ok' ]);
	my ($r) = chat({ models => [ $A, $B ], @hello });
	is($r->{headers}{'x-flr-model'}, $B, 'a 429 with Retry-After: 120, then B');
	($r) = chat({ models => [ $A, $B ], @hello }) for 1 .. 3;
	is($r->{headers}{'x-flr-model'}, $B, 'the next calls try B first');
	is($r->{headers}{'x-flr-attempts'}, 1, '... and need one attempt');
	is(scalar(grep { $_->{model} eq $A } $fake->requests), 1,
	    'A was not asked again while it waits');
	$s->psql('DELETE FROM router_cooldowns');
}

# --- Where fallback stops ----------------------------------------------------------
{
	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => 'quota_day', $B => 'ok');
	my ($r, $doc) = chat({ models => [ $A, $B ], @hello });
	problem([ $r, $doc ], 429, 'upstream_quota',
	    "OpenRouter's free-models-per-day: 429 upstream_quota");
	ok(($r->{headers}{'retry-after'} // 0) > 3000
	    && $r->{headers}{'retry-after'} <= 3600,
	    'Retry-After from X-RateLimit-Reset (an hour on)')
	    or diag($r->{headers}{'retry-after'});
	is($fake->count, 1, 'no other model is tried: the quota is shared');
	is_deeply(reports(), [], 'and no report: not the model\'s fault');

	$fake->reset;
	$fake->script($A => 'quota_min');
	($r, $doc) = chat({ models => [ $A, $B ], @hello });
	problem([ $r, $doc ], 429, 'upstream_quota', 'free-models-per-min: the same');
	ok($r->{headers}{'retry-after'} >= 1 && $r->{headers}{'retry-after'} <= 60,
	    'Retry-After within the minute');

	$fake->reset;
	$fake->script($A => 'unavailable', $B => 'unavailable', $C => 'ok');
	($r, $doc) = chat({ models => [ $A, $B, $C ], @hello, flr => { maxAttempts => 2 } });
	problem([ $r, $doc ], 502, 'upstream_failed',
	    'flr.maxAttempts 2 and two failures: 502 upstream_failed');
	is($r->{headers}{'x-flr-attempts'}, 2, 'X-FLR-Attempts: 2');
	ok(!grep({ $_->{model} eq $C } $fake->requests), 'the third model is not tried');

	$fake->reset;
	$fake->script($A => 'rate_limited', $B => 'rate_limited', $C => 'rate_limited',
	    $D => 'ok');
	($r, $doc) = chat({ models => [ $A, $B, $C, $D ], @hello });
	problem([ $r, $doc ], 502, 'upstream_failed',
	    'maxAttempts defaults to 3');
	is($fake->count, 3, 'three attempts');

	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => 'bad_request');
	($r, $doc) = chat({ models => [ $A, $B ], @hello });
	problem([ $r, $doc ], 400, 'upstream_refused',
	    'OpenRouter refuses the request (400): 400 upstream_refused');
	like($doc->{detail}, qr/temperature must be a number/, "with OpenRouter's reason");
	is($fake->count, 1, 'the request itself is at fault: no other model');
	is_deeply(reports(), [], 'and no report: a caller cannot blame a model');

	$fake->reset;
	$fake->script($A => 'unauthorized');
	($r, $doc) = chat({ models => [ $A, $B ], @hello });
	problem([ $r, $doc ], 502, 'upstream_refused',
	    'OpenRouter refuses the key (401): 502 upstream_refused');
}

# --- auto ------------------------------------------------------------------------
{
	$fake->reset;
	my $caps = sub {
		my ($cond) = @_;
		return { map { $_ => 1 } split /\n/, $s->psql(
		    "SELECT id FROM free_models WHERE is_active AND $cond") };
	};
	my ($r, $doc) = chat({ model => 'auto', @hello });
	is($r->{status}, 200, 'model "auto": 200');
	my $used = $r->{headers}{'x-flr-model'};
	ok((grep { $_ eq $used } @free), "a free model answered ($used)");
	($r) = chat({ @hello });
	is($r->{status}, 200, 'no model at all is "auto" too');

	my $tools = $caps->(q{'tools' = ANY (supported_parameters)});
	$fake->reset;
	($r, $doc) = chat({ @hello, tools => [ { type => 'function', function => {
	    name => 'weather', parameters => { type => 'object' } } } ] });
	is($r->{status}, 200, 'auto with tools: 200');
	ok($tools->{ ($fake->requests)[0]{model} }, 'sent to a model that takes tools');
	is($doc->{choices}[0]{message}{tool_calls}[0]{function}{name}, 'weather',
	    'the tool call comes back');

	my $vision = $caps->(q{'image' = ANY (input_modalities)});
	$fake->reset;
	($r) = chat({ messages => [ { role => 'user', content => [
	    { type => 'text', text => 'What is this?' },
	    { type => 'image_url', image_url => { url => 'data:image/png;base64,' . ('A' x 100_000) } } ] } ] });
	is($r->{status}, 200, 'auto with an image (a 100 KB body): 200');
	ok($vision->{ ($fake->requests)[0]{model} }, 'sent to a model that takes images');

	$fake->reset;
	($r, $doc) = chat({ @hello, max_tokens => 100_000_000 });
	problem([ $r, $doc ], 422, 'no_model_fits',
	    'a completion no context can hold: 422 no_model_fits');
	($r, $doc) = chat({ @hello, flr => { filter => 'vision,tools', maxErrorRate => 0,
	    minReports => 0 } });
	ok($r->{status} == 200 || $r->{status} == 422, 'flr filter and maxErrorRate are read');
	is($fake->count, $r->{status} == 200 ? 1 : 0, 'nothing upstream for a 422');
}

# --- Free only ---------------------------------------------------------------------
{
	$fake->reset;
	my $before = quota_used($alice->{user_id});
	for my $case ([ { model => $paid, @hello }, 'model', 'a paid model' ],
	    [ { models => [ $A, $paid ], @hello }, 'models', 'a paid model in models' ],
	    [ { model => 'openai/gpt-4o', @hello }, 'model', 'a model OpenRouter has, not free' ],
	    [ { model => 'no/such:free', @hello }, 'model', 'an unknown id' ]) {
		my ($body, $field, $what) = @$case;
		problem([ chat($body) ], 400, 'model_not_free', "$what: 400 model_not_free");
	}
	is($fake->count, 0, 'none of them reached OpenRouter');
	is(quota_used($alice->{user_id}), $before, 'nor used quota');
	$s->psql("UPDATE free_models SET is_active = false WHERE id = '$D'");
	$s->psql('UPDATE sync_meta SET catalog_version = catalog_version + 1');
	problem([ chat({ model => $D, @hello }) ], 400, 'model_not_free',
	    'a free model that left the catalogue: 400');
	$s->psql("UPDATE free_models SET is_active = true WHERE id = '$D'");
	$s->psql('UPDATE sync_meta SET catalog_version = catalog_version + 1');
}

# --- What every bad input gets -----------------------------------------------------
{
	$fake->reset;
	my $before = quota_used($alice->{user_id});
	my $raw = sub {
		my ($content, %h) = @_;
		my $r = $s->request('POST', '/api/v1/chat/completions', { headers => {
		    'Content-Type' => 'application/json', %AUTH, %h },
		    defined $content ? (content => $content) : () });
		return ($r, FLR::Stack::decode_body($r));
	};
	my @cases = (
		[ [ $raw->('{"messages":') ], 400, 'invalid_json', 'malformed JSON' ],
		[ [ $raw->('[1]') ], 400, 'invalid_json', 'a JSON array' ],
		[ [ $raw->('') ], 400, 'invalid_json', 'no body' ],
		[ [ $raw->('{' . ('"a":[' x 70) . (']' x 70) . '}') ], 400, 'invalid_json',
		    'nested 70 deep' ],
		[ [ chat({ model => $A }) ], 400, 'invalid_field', 'no messages', 'messages' ],
		[ [ chat({ model => $A, messages => [] }) ], 400, 'invalid_field',
		    'empty messages', 'messages' ],
		[ [ chat({ model => $A, messages => [ 'hi' ] }) ], 400, 'invalid_field',
		    'a message that is no object', 'messages' ],
		[ [ chat({ model => $A, messages => [ { content => 'x' } ] }) ], 400,
		    'invalid_field', 'a message without a role', 'messages' ],
		[ [ chat({ model => 42, @hello }) ], 400, 'invalid_field', 'model 42', 'model' ],
		[ [ chat({ model => '', @hello }) ], 400, 'invalid_field', 'model ""', 'model' ],
		[ [ chat({ model => 'x' x 300, @hello }) ], 400, 'invalid_field',
		    'a 300-byte model id', 'model' ],
		[ [ chat({ models => [], @hello }) ], 400, 'invalid_field', 'models []', 'models' ],
		[ [ chat({ models => [ map { "m$_" } 1 .. 11 ], @hello }) ], 400,
		    'invalid_field', '11 models', 'models' ],
		[ [ chat({ models => [ 1 ], @hello }) ], 400, 'invalid_field',
		    'models [1]', 'models' ],
		[ [ chat({ model => $A, stream => 'yes', @hello }) ], 400, 'invalid_field',
		    'stream "yes"', 'stream' ],
		[ [ chat({ model => $A, tools => {}, @hello }) ], 400, 'invalid_field',
		    'tools {}', 'tools' ],
		[ [ chat({ model => $A, max_tokens => 'lots', @hello }) ], 400,
		    'invalid_field', 'max_tokens "lots"', 'max_tokens' ],
		[ [ chat({ @hello, flr => [] }) ], 400, 'invalid_field', 'flr []', 'flr' ],
		[ [ chat({ @hello, flr => { sort => 'bogus' } }) ], 400, 'invalid_field',
		    'flr.sort bogus', 'flr.sort' ],
		[ [ chat({ @hello, flr => { sort => 3 } }) ], 400, 'invalid_field',
		    'flr.sort 3', 'flr.sort' ],
		[ [ chat({ @hello, flr => { maxAttempts => 9 } }) ], 400, 'invalid_field',
		    'flr.maxAttempts 9', 'flr.maxAttempts' ],
		[ [ chat({ @hello, flr => { maxAttempts => 2.5 } }) ], 400, 'invalid_field',
		    'flr.maxAttempts 2.5', 'flr.maxAttempts' ],
		[ [ chat({ @hello, flr => { maxErrorRate => 150 } }) ], 400, 'invalid_field',
		    'flr.maxErrorRate 150', 'flr.maxErrorRate' ],
		[ [ chat({ @hello, flr => { filter => [ 'tools', 7 ] } }) ], 400,
		    'invalid_field', 'flr.filter [tools, 7]', 'flr.filter' ],
		[ [ chat({ @hello, flr => { topN => 3 } }) ], 400, 'unknown_field',
		    'flr.topN (not a router knob)', 'flr' ],
		[ [ chat({ model => $A, @hello }, { 'X-OpenRouter-Key' => 'a b' }) ], 400,
		    'invalid_header', 'X-OpenRouter-Key with a space', 'X-OpenRouter-Key' ],
		[ [ chat({ model => $A, @hello }, { 'X-OpenRouter-Key' => 'k' x 300 }) ], 400,
		    'invalid_header', 'a 300-byte X-OpenRouter-Key', 'X-OpenRouter-Key' ],
		[ [ $raw->($json->encode({ model => $A, @hello }), 'Content-Type' => 'text/plain') ],
		    415, 'unsupported_media_type', 'text/plain' ],
		[ [ $raw->('{"x":"' . ('a' x (4 * 1024 * 1024)) . '"}') ], 413,
		    'payload_too_large', 'a body over 4 MiB' ],
		[ [ $s->json_request('POST', '/api/v1/chat/completions', { model => $A, @hello }) ],
		    401, 'missing_auth', 'no Authorization' ],
		[ [ $s->json_request('POST', '/api/v1/chat/completions', { model => $A, @hello },
		    { Authorization => 'Bearer fma_' . ('A' x 43) }) ], 401, 'invalid_key',
		    'an unknown key' ],
	);
	for my $c (@cases) {
		my ($res, $status, $code, $what, $param) = @$c;
		problem($res, $status, $code, "$what: $status $code");
		is($res->[1]{param}, $param, "$what: param $param") if defined $param;
	}
	my $r = $s->request('GET', '/api/v1/chat/completions', { headers => \%AUTH });
	is($r->{status}, 405, 'GET: 405');
	like($r->{headers}{allow} // '', qr/POST/, 'Allow: POST');
	is($s->request('OPTIONS', '/api/v1/chat/completions')->{status}, 204,
	    'OPTIONS: 204 (CORS preflight)');
	is($fake->count, 0, 'no bad input reached OpenRouter');
	is(quota_used($alice->{user_id}), $before, 'and none used quota');
	like($s->nginx_error_log . $s->router_log, qr/./, 'the logs exist');
}

# --- Streaming ------------------------------------------------------------------
# The data events of a streamed answer, in order ('[DONE]' as such).
sub events_of {
	my ($text) = @_;
	return [ map { /^data: (.*)$/s ? $1 : () } split /\r?\n\r?\n/, $text // '' ];
}

sub streamed_text {
	my ($ev) = @_;
	return join '', map { my $d = eval { $json->decode($_) };
	    ref $d eq 'HASH' ? $d->{choices}[0]{delta}{content} // '' : '' } @$ev;
}

# A raw HTTP/1.1 request to nginx, read as it comes: returns the socket
# after the head was sent.
sub open_stream {
	my ($body) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $s->port, Proto => 'tcp', Timeout => 10)
	    or die "connect: $!";
	my $content = $json->encode($body);
	print {$c} "POST /api/v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
	    . "Authorization: Bearer $alice->{key}\r\nContent-Type: application/json\r\n"
	    . 'Content-Length: ' . length($content) . "\r\nConnection: close\r\n\r\n"
	    . $content;
	return $c;
}

# Read from $c until $re matches what came so far (or EOF / 30 s).
sub read_until {
	my ($c, $re) = @_;
	my $sel = IO::Select->new($c);
	my ($got, $deadline) = ('', time + 30);
	while ($got !~ $re && time < $deadline) {
		next if !$sel->can_read(0.2);
		my $n = sysread $c, $got, 65536, length $got;
		last if !$n;
	}
	return $got;
}

{
	$fake->reset;
	$s->psql('DELETE FROM model_feedback; DELETE FROM router_cooldowns');
	my ($r) = chat({ model => $A, @hello, stream => JSON::PP::true });
	is($r->{status}, 200, 'stream: true: 200');
	like($r->{headers}{'content-type'} // '', qr{^text/event-stream}, 'text/event-stream');
	is($r->{headers}{'x-flr-model'}, $A, 'X-FLR-Model on a stream');
	is($r->{headers}{'x-flr-attempts'}, 1, 'X-FLR-Attempts on a stream');
	like($r->{headers}{'x-ratelimit-remaining'} // '', qr/^\d+$/, 'and the quota headers');
	my $ev = events_of($r->{content});
	is($ev->[-1], '[DONE]', 'the events end with [DONE]');
	is(streamed_text($ev), "Hello from $A", 'the answer, chunk by chunk');
	ok(($fake->requests)[0]{json}{stream}, 'the stream was asked for upstream');
	is_deeply(reports(), [ [ $A, 'success', 'router' ] ], 'reported as a success');

	$fake->reset;
	$fake->script($A => 'processing');
	($r) = chat({ model => $A, @hello, stream => JSON::PP::true });
	is($r->{status}, 200, 'a stream with ": OPENROUTER PROCESSING" comments: 200');
	unlike($r->{content}, qr/\A:/, 'comments before the first event are not relayed');
	is(streamed_text(events_of($r->{content})), "Hello from $A", 'the events all are');

	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => 'unavailable', $B => 'ok');
	($r) = chat({ models => [ $A, $B ], @hello, stream => JSON::PP::true });
	is($r->{headers}{'x-flr-model'}, $B, 'fallback before the first byte: the second model');
	is($r->{headers}{'x-flr-attempts'}, 2, 'X-FLR-Attempts: 2');
	is(streamed_text(events_of($r->{content})), "Hello from $B", 'its stream');
	is_deeply(reports(), [ [ $A, 'unavailable', 'router' ], [ $B, 'success', 'router' ] ],
	    'both attempts reported');

	$fake->reset;
	$fake->script($A => { slow => 8 }, $B => 'ok');
	($r) = chat({ models => [ $A, $B ], @hello, stream => JSON::PP::true });
	is($r->{headers}{'x-flr-model'}, $B, 'no first event in time: the second model');

	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => 'drop', $B => 'ok');
	($r) = chat({ models => [ $A, $B ], @hello, stream => JSON::PP::true });
	is($r->{status}, 200, 'a stream that breaks off halfway: it had begun (200)');
	$ev = events_of($r->{content});
	isnt($ev->[-1], '[DONE]', 'no [DONE]');
	my $last = eval { $json->decode($ev->[-1]) } // {};
	is($last->{error}{code}, 502, 'it ends with an error event');
	like($last->{error}{message} // '', qr/broke off/, 'saying what happened');
	ok(!grep({ $_->{model} eq $B } $fake->requests), 'no fallback after the first byte');
	is_deeply(reports(), [ [ $A, 'error', 'router' ] ], 'reported as an error');

	$fake->reset;
	$fake->script($A => 'unavailable', $B => 'unavailable');
	my $doc;
	($r, $doc) = chat({ models => [ $A, $B ], @hello, stream => JSON::PP::true });
	problem([ $r, $doc ], 502, 'upstream_failed',
	    'a stream that never began: the problem document, not events');
}

# Events pass as they come, and a client that goes away stops the transfer.
{
	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => { slow_stream => 0.5 });
	my $c = open_stream({ model => $A, @hello, stream => JSON::PP::true });
	my $got = read_until($c, qr/data: \{/);
	like($got, qr{^HTTP/1\.1 200}, 'a slow stream: 200 at once');
	my $seq = ($fake->requests)[0]{seq};
	my ($sent, $all) = $fake->progress($seq);
	ok($sent < $all, "the first event came while the model was still writing ($sent of $all)");
	$got .= read_until($c, qr/data: \[DONE\]/);
	like($got, qr/data: \[DONE\]/, 'and the rest followed');
	close $c;

	$fake->reset;
	$s->psql('DELETE FROM model_feedback');
	$fake->script($A => { slow_stream => 0.5 });
	$c = open_stream({ model => $A, @hello, stream => JSON::PP::true });
	read_until($c, qr/data: \{/);
	close $c;    # the client goes away after the first event
	my $deadline = time + 30;
	sleep 0.1 while !$fake->aborted && time < $deadline;
	ok(scalar $fake->aborted, 'the upstream transfer is stopped when the client goes away');
	$deadline = time + 30;
	sleep 0.1 while $s->router_log !~ /client_gone/ && time < $deadline;
	like($s->router_log, qr/attempt 1: \Q$A\E: client_gone/, 'the router saw it');
	is_deeply(reports(), [], 'nothing is reported: the model did nothing wrong');
	my ($r) = chat({ model => $B, @hello });
	is($r->{status}, 200, 'the worker serves the next call');
}

# --- The quota, exactly, under concurrency -----------------------------------------
{
	$fake->reset;
	my $bob = $s->create_key_full(email => 'bob@example.com', rate_limit_max => 5);
	my $n = 12;
	my @kids;
	for my $i (1 .. $n) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			my $r = $s->request('POST', '/api/v1/chat/completions', { headers => {
			    'Content-Type' => 'application/json',
			    Authorization => "Bearer $bob->{key}" },
			    content => $json->encode({ model => $A, @hello }) });
			POSIX::_exit($r->{status} == 200 ? 0 : $r->{status} == 429 ? 1 : 2);
		}
		push @kids, $pid;
	}
	my %st;
	for (@kids) { waitpid $_, 0; $st{ $? >> 8 }++ }
	is($st{0}, 5, "$n concurrent calls of a user with 5 left: 5 answered");
	is($st{1}, $n - 5, 'the rest: 429');
	is($fake->count, 5, 'exactly 5 reached OpenRouter');
	is(quota_used($bob->{user_id}), 6, 'the window counts 5 and stops at limit + 1');
}

# --- The per-user cap on concurrent calls ------------------------------------------
{
	$fake->reset;
	$s->stop_workers;
	$s->set_env(FLR_ROUTER_PER_USER => 1);
	$s->start_workers;
	my $carol = $s->create_key_full(email => 'carol@example.com', rate_limit_max => 100);
	my %C = (Authorization => "Bearer $carol->{key}", 'Content-Type' => 'application/json');
	$fake->script($A => 'hang');
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my $r = $s->request('POST', '/api/v1/chat/completions', { headers => \%C,
		    content => $json->encode({ model => $A, @hello }) });
		POSIX::_exit(0);
	}
	is($fake->wait_count(1), 1, 'a first call is under way');
	my $before = quota_used($carol->{user_id});
	my ($r, $doc) = $s->json_request('POST', '/api/v1/chat/completions',
	    { model => $B, @hello }, \%C);
	problem([ $r, $doc ], 429, 'too_many_concurrent',
	    'a second call of the same user: 429 too_many_concurrent');
	is($r->{headers}{'retry-after'}, 1, 'Retry-After: 1');
	is(quota_used($carol->{user_id}), $before, 'refused before it is counted');
	($r) = chat({ model => $B, @hello });
	is($r->{status}, 200, 'another user is not held up');

	# A worker that dies mid-call: its connection, and so its slot, goes.
	my $locks = sub {
		$s->psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
		    . " AND objsubid = 2 AND objid = $carol->{user_id}");
	};
	is($locks->(), 1, 'the hanging call holds one slot');
	kill 'KILL', $s->router_worker_pids;
	waitpid $pid, 0;
	my $deadline = time + 20;
	sleep 0.05 while $locks->() != 0 && time < $deadline;
	is($locks->(), 0, 'its slot is released when its worker dies');
	$fake->script($A => 'ok');
	my $ok = 0;
	for (1 .. 50) {    # multiwatch restarts the workers
		($r) = $s->json_request('POST', '/api/v1/chat/completions',
		    { model => $B, @hello }, \%C);
		last if ($ok = $r->{status} == 200);
		sleep 0.1;
	}
	ok($ok, 'the user calls again') or diag($r->{status}, $r->{content});
	$s->stop_workers;
	$s->set_env(FLR_ROUTER_PER_USER => undef);
	$s->start_workers;
}

# --- No OpenRouter key at all ------------------------------------------------------
{
	$fake->reset;
	$s->stop_workers;
	$s->set_env(OPENROUTER_API_KEY => undef);
	$s->start_workers;
	my ($r, $doc) = chat({ model => $A, @hello });
	problem([ $r, $doc ], 400, 'openrouter_key_required',
	    'no operator key and no X-OpenRouter-Key: 400 openrouter_key_required');
	is($doc->{param}, 'X-OpenRouter-Key', 'naming the header');
	($r) = chat({ model => $A, @hello }, { 'X-OpenRouter-Key' => 'sk-or-v1-mine' });
	is($r->{status}, 200, 'with the caller\'s own key: 200');
	is($fake->count, 1, 'only that one went upstream');
}

# --- The two pools -----------------------------------------------------------------
{
	my $r = $s->request('GET', '/api/v1/models/ids', { headers => \%AUTH });
	is($r->{status}, 200, 'listings are served by flr-api');
	unlike($s->router_log, qr{route=/api/v1/models/ids}, 'never by flr-router');
	unlike($s->api_log, qr{route=/api/v1/chat/completions}, 'chat never by flr-api');
}

done_testing;
