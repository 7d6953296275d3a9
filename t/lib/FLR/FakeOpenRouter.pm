package FLR::FakeOpenRouter;

# A scripted stand-in for OpenRouter's chat API on 127.0.0.1, for the
# router's tests: POST /api/v1/chat/completions answers by the "model" of
# the request body, each model following its own script.  Every request is
# recorded (headers and body), so a test can see what reached "OpenRouter"
# and what never did.
#
#   my $f = FLR::FakeOpenRouter->new;
#   $f->script('a/x:free' => 'unavailable', 'b/y:free' => ['rate_limited', 'ok']);
#   ... OPENROUTER_BASE_URL => $f->base_url ...
#   my @r = $f->requests;    # ({ seq, method, path, headers => { lc name }, body, json, model })
#   $f->progress($seq)       # events of a stream sent so far, and how many in all
#   $f->aborted              # seqs of streams whose client (the router) went away
#
# A model's script is one behaviour or a list of them: its n-th request
# gets the n-th (the last repeats).  A model without a script gets 'ok'.
# Behaviours (a name, or { name => argument }):
#   ok              a chat completion (a tool call when the request has
#                   tools); with "stream": true, server-sent events
#   processing      the same stream with ": OPENROUTER PROCESSING"
#                   comments before and between the events
#   rate_limited    429 of the provider; { rate_limited => $s } adds
#                   Retry-After: $s
#   quota_day       429 of OpenRouter's free-models-per-day limit, with
#   quota_min       X-RateLimit-* headers (reset an hour / a minute on)
#   unavailable     503            bad_gateway    502
#   no_endpoints    404 "No endpoints found for <model>."
#   server_error    500            bad_request    400
#   unauthorized    401            garbage        200, not JSON
#   error200        200 with an error object instead of choices
#   slow            { slow => $s }: nothing for $s seconds, then ok
#   hang            never a byte
#   drop            half the answer, then the connection closes (a
#                   stream: two events, then it closes)
#   big             { big => $n }: a 200 of $n bytes
#   slow_stream     { slow_stream => $s }: a longer stream (14 events)
#                   with $s seconds before each event
#
# Only core Perl.  Each connection is answered by its own child process;
# the server, its process group and the request log are
# FLR::TestServer's.

use strict;
use warnings;

use parent 'FLR::TestServer';
use FLR::TestServer qw(send_all response_head);

use JSON::PP ();
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical;

sub init { $_[0]->reset }
sub reads_body { 1 }
sub wait_seconds { 20 }

# The OPENROUTER_BASE_URL that reaches this stand-in.
sub base_url { "http://127.0.0.1:$_[0]{port}/api/v1" }

# script(model => behaviour or [behaviours], ...): replaces the scripts of
# the models named (others keep theirs); forgets the requests so far.
sub script {
	my ($self, %s) = @_;
	my $all = $self->read_json('script.json') // {};
	$all->{$_} = ref $s{$_} eq 'ARRAY' ? $s{$_} : [ $s{$_} ] for keys %s;
	$self->write_file('script.json', $JSON->encode($all));
	$self->write_file('requests', '');
}

# Forget every script and request.
sub reset {
	my ($self) = @_;
	$self->write_file('script.json', $JSON->encode({}));
	$self->write_file($_, '') for qw(requests progress aborted);
}

# progress($seq) -> (events sent, events in all) of request $seq's stream.
sub progress {
	my ($self, $seq) = @_;
	my ($last) = reverse grep { /^\Q$seq\E / } $self->lines_of('progress');
	return defined $last ? (split ' ', $last)[1, 2] : (0, undef);
}

# The seqs of streams that could not be sent on: the router hung up.
sub aborted { $_[0]->lines_of('aborted') }

# ---- the server process ------------------------------------------------

# Number the request and read its body; its behaviour, found before it
# is recorded (the n-th request of a model gets the n-th).
sub arrived {
	my ($self, $req) = @_;
	my $json = eval { $JSON->decode($req->{body}) };
	$req->{seq} = $self->{seq}++;
	$req->{json} = $json;
	$req->{model} = ref $json eq 'HASH' ? $json->{model} : undef;
	$req->{stream} = ref $json eq 'HASH' && $json->{stream} ? 1 : 0;
	$req->{tools} = ref $json eq 'HASH' && ref $json->{tools} eq 'ARRAY'
	    && @{ $json->{tools} } ? $json->{tools}[0]{function}{name} // 'tool'
	    : undef;
	my $b = $self->behaviour_for($req);
	$self->record($req);
	return ($b);
}

# The behaviour of the n-th request for its model.
sub behaviour_for {
	my ($self, $req) = @_;
	my $script = $self->read_json('script.json') // {};
	my $list = $script->{ $req->{model} // '' } or return 'ok';
	my $n = grep { ($_->{model} // '') eq ($req->{model} // '') } $self->requests;
	return $list->[ $n < @$list ? $n : -1 ];
}

sub completion {
	my ($req) = @_;
	my $model = $req->{model} // 'unknown';
	my $msg = { role => 'assistant', content => "Hello from $model" };
	my $finish = 'stop';
	if ($req->{tools}) {
		$msg = { role => 'assistant', content => undef, tool_calls => [ {
		    id => 'call_1', type => 'function', function => {
		    name => $req->{tools}, arguments => '{"city":"Paris"}' } } ] };
		$finish = 'tool_calls';
	}
	return { id => 'gen-fake-1', object => 'chat.completion',
	    created => 1767225600, model => $model, provider => 'Fake',
	    choices => [ { index => 0, message => $msg,
	    finish_reason => $finish } ],
	    usage => { prompt_tokens => 5, completion_tokens => 4,
	    total_tokens => 9 } };
}

sub chunk {
	my ($req, $delta, $finish) = @_;
	return 'data: ' . $JSON->encode({ id => 'gen-fake-1',
	    object => 'chat.completion.chunk', created => 1767225600,
	    model => $req->{model} // 'unknown', choices => [ { index => 0,
	    delta => $delta, finish_reason => $finish } ] }) . "\n\n";
}

# The events of a streamed answer, in order.
sub events {
	my ($req) = @_;
	my $model = $req->{model} // 'unknown';
	if ($req->{tools}) {
		return (chunk($req, { role => 'assistant', tool_calls => [ {
		    index => 0, id => 'call_1', type => 'function', function => {
		    name => $req->{tools}, arguments => '' } } ] }, undef),
		    chunk($req, { tool_calls => [ { index => 0, function => {
		    arguments => '{"city":"Paris"}' } } ] }, undef),
		    chunk($req, {}, 'tool_calls'), "data: [DONE]\n\n");
	}
	return (chunk($req, { role => 'assistant', content => 'Hello ' }, undef),
	    chunk($req, { content => 'from ' }, undef),
	    chunk($req, { content => $model }, undef),
	    ($req->{long} ? map { chunk($req, { content => '.' }, undef) } 1 .. 9 : ()),
	    chunk($req, {}, 'stop'), "data: [DONE]\n\n");
}

sub error_body {
	my ($code, $message, %meta) = @_;
	return $JSON->encode({ error => { code => $code, message => $message,
	    %meta ? (metadata => \%meta) : () } });
}

sub respond {
	my ($c, $status, $body, %o) = @_;
	send_all($c, response_head($status, %o,
	    length => $o{length} // length $body)) or return;
	send_all($c, defined $o{send} ? substr($body, 0, $o{send}) : $body);
	shutdown $c, 1;
}

sub stream {
	my ($self, $c, $req, %o) = @_;
	$req->{long} = 1 if $o{gap};
	my @ev = events($req);
	@ev = @ev[0, 1] if $o{drop};
	send_all($c, response_head(200, type => 'text/event-stream',
	    no_length => 1, headers => { 'Cache-Control' => 'no-cache' }))
	    or return;
	send_all($c, ": OPENROUTER PROCESSING\n\n") if $o{processing};
	my $sent = 0;
	for my $e (@ev) {
		sleep $o{gap} if $o{gap};
		if (!send_all($c, $e)) {
			$self->note_line('aborted', $req->{seq});
			return;
		}
		$self->note_line('progress', "$req->{seq} " . ++$sent . ' ' . @ev);
		send_all($c, ": OPENROUTER PROCESSING\n\n") if $o{processing};
	}
	shutdown $c, 1;
}

sub answer {
	my ($self, $c, $req, $b) = @_;
	my ($name, $arg) = ref $b eq 'HASH' ? %$b : ($b, undef);
	my $model = $req->{model} // '';
	if ($req->{path} ne '/api/v1/chat/completions' || $req->{method} ne 'POST') {
		return respond($c, 404, error_body(404, 'Not Found'));
	}
	if ($name eq 'slow') {
		sleep $arg // 5;
		$name = 'ok';
	}
	if ($name eq 'hang') {
		sleep 1 while 1;
	}
	if ($name eq 'ok' || $name eq 'processing' || $name eq 'slow_stream') {
		return $self->stream($c, $req, processing => $name eq 'processing',
		    gap => $name eq 'slow_stream' ? $arg // 1 : 0)
		    if $req->{stream};
		return respond($c, 200, $JSON->encode(completion($req)));
	}
	if ($name eq 'drop') {
		return $self->stream($c, $req, drop => 1) if $req->{stream};
		my $body = $JSON->encode(completion($req));
		return respond($c, 200, $body, send => int(length($body) / 2));
	}
	if ($name eq 'big') {
		my $n = $arg // 5_000_000;
		my $body = '{"id":"gen-big","choices":[],"pad":"' . ('x' x $n) . '"}';
		return respond($c, 200, $body);
	}
	if ($name eq 'rate_limited') {
		return respond($c, 429, error_body(429, "$model is temporarily "
		    . 'rate-limited upstream. Please retry shortly.',
		    provider_name => 'Fake', raw => "$model is rate-limited"),
		    headers => { defined $arg ? ('Retry-After' => $arg) : () });
	}
	if ($name eq 'quota_day' || $name eq 'quota_min') {
		my $per = $name eq 'quota_day' ? 'day' : 'min';
		my $reset = int(time * 1000) + ($per eq 'day' ? 3_600_000 : 60_000);
		my %h = ('X-RateLimit-Limit' => $per eq 'day' ? '50' : '20',
		    'X-RateLimit-Remaining' => '0', 'X-RateLimit-Reset' => "$reset");
		return respond($c, 429, error_body(429, "Rate limit exceeded: "
		    . "free-models-per-$per. Add 10 credits to unlock 1000 free "
		    . 'model requests per day', headers => \%h,
		    provider_name => undef), headers => \%h);
	}
	my %errors = (
		unavailable => [ 503, 'No instances available' ],
		bad_gateway => [ 502, 'Provider returned error' ],
		no_endpoints => [ 404, "No endpoints found for $model." ],
		server_error => [ 500, 'Internal Server Error' ],
		bad_request => [ 400, 'Invalid request: temperature must be a number' ],
		unauthorized => [ 401, 'No auth credentials found' ],
	);
	if (my $e = $errors{$name}) {
		return respond($c, $e->[0], error_body(@$e));
	}
	return respond($c, 200, "<html>not json</html>", type => 'text/html')
	    if $name eq 'garbage';
	return respond($c, 200, error_body(502, 'Provider returned error'))
	    if $name eq 'error200';
	return respond($c, 500, error_body(500, "no such behaviour: $name"));
}

1;
