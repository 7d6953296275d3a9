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
# the server and its children die with the object, in the process that
# made it.

use strict;
use warnings;

use Carp qw(croak);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical;

my %REASON = (200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized',
    404 => 'Not Found', 429 => 'Too Many Requests',
    500 => 'Internal Server Error', 502 => 'Bad Gateway',
    503 => 'Service Unavailable');

sub new {
	my ($class, %o) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
	    or croak "FLR::FakeOpenRouter: listen: $!";
	my $self = bless {
		owner => $$,
		port => $listen->sockport,
		dir => tempdir('flr-fake-or-XXXXXXXX', TMPDIR => 1, CLEANUP => 0),
	}, $class;
	$self->write_file('script.json', $JSON->encode({}));
	$self->write_file($_, '') for qw(requests progress aborted);
	my $pid = fork // croak "FLR::FakeOpenRouter: fork: $!";
	if (!$pid) {
		eval { $self->serve($listen) };
		print STDERR "FLR::FakeOpenRouter: $@" if $@;
		POSIX::_exit(0);
	}
	setpgrp($pid, $pid);
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }

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

sub lines_of {
	my ($self, $name) = @_;
	open my $fh, '<:raw', "$self->{dir}/$name" or return ();
	return map { chomp; $_ } grep { /\S/ } <$fh>;
}

# progress($seq) -> (events sent, events in all) of request $seq's stream.
sub progress {
	my ($self, $seq) = @_;
	my ($last) = reverse grep { /^\Q$seq\E / } $self->lines_of('progress');
	return defined $last ? (split ' ', $last)[1, 2] : (0, undef);
}

# The seqs of streams that could not be sent on: the router hung up.
sub aborted { $_[0]->lines_of('aborted') }

sub note_line {
	my ($self, $name, $line) = @_;
	open my $fh, '>>:raw', "$self->{dir}/$name" or return;
	syswrite $fh, "$line\n";
	close $fh;
}

sub requests {
	my ($self) = @_;
	open my $fh, '<:raw', "$self->{dir}/requests" or return ();
	return map { $JSON->decode($_) } grep { /\S/ } <$fh>;
}

sub count { scalar(my @r = $_[0]->requests) }

# wait_count($n, $timeout): until $n requests came in; the count reached.
sub wait_count {
	my ($self, $n, $timeout) = @_;
	my $deadline = time + ($timeout // 20);
	my $c;
	sleep 0.02 while ($c = $self->count) < $n && time < $deadline;
	return $c;
}

sub read_json {
	my ($self, $name) = @_;
	open my $fh, '<:raw', "$self->{dir}/$name" or return undef;
	local $/;
	return $JSON->decode(<$fh>);
}

sub write_file {
	my ($self, $name, $data) = @_;
	my $tmp = "$self->{dir}/.$name.$$";
	open my $fh, '>:raw', $tmp or croak "FLR::FakeOpenRouter: $tmp: $!";
	print {$fh} $data;
	close $fh or croak "FLR::FakeOpenRouter: write $tmp: $!";
	rename $tmp, "$self->{dir}/$name" or croak "rename $tmp: $!";
}

# ---- the server process ------------------------------------------------

sub serve {
	my ($self, $listen) = @_;
	setpgrp(0, 0);
	open STDIN, '<', '/dev/null';
	open STDOUT, '>', '/dev/null';
	$SIG{CHLD} = 'IGNORE';
	$SIG{PIPE} = 'IGNORE';
	my $seq = 0;
	while (1) {
		my $c = $listen->accept or next;
		my $req = read_request($c);
		if ($req) {
			$req->{seq} = $seq++;
			my $b = $self->behaviour_for($req);
			$self->record($req);
			my $pid = fork;
			if (defined $pid && !$pid) {
				close $listen;
				$self->answer($c, $req, $b);
				POSIX::_exit(0);
			}
		}
		close $c;
	}
}

# Request line, headers and a Content-Length body; undef when the client
# sends nothing sensible within 10 s.
sub read_request {
	my ($c) = @_;
	my $sel = IO::Select->new($c);
	my $buf = '';
	my $deadline = time + 10;
	my ($head, $rest);
	until (($head, $rest) = $buf =~ /\A(.*?)\r?\n\r?\n(.*)\z/s) {
		return undef if length $buf > 65536 || time > $deadline;
		next if !$sel->can_read(0.2);
		my $n = sysread $c, $buf, 65536, length $buf;
		return undef if !$n;
	}
	my ($line, @lines) = split /\r?\n/, $head;
	my ($method, $path) = $line =~ m{^(\S+) (\S+) HTTP/1\.[01]$}
	    or return undef;
	my %h;
	for (@lines) {
		my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
		$h{lc $k} = $v;
	}
	my $len = $h{'content-length'} // 0;
	while (length $rest < $len) {
		return undef if time > $deadline;
		next if !$sel->can_read(0.2);
		my $n = sysread $c, $rest, 65536, length $rest;
		return undef if !$n;
	}
	my $json = eval { $JSON->decode($rest) };
	return { method => $method, path => $path, headers => \%h,
	    body => $rest, json => $json,
	    model => ref $json eq 'HASH' ? $json->{model} : undef,
	    stream => ref $json eq 'HASH' && $json->{stream} ? 1 : 0,
	    tools => ref $json eq 'HASH' && ref $json->{tools} eq 'ARRAY'
	        && @{ $json->{tools} } ? $json->{tools}[0]{function}{name} // 'tool'
	        : undef,
	    time => time };
}

# The behaviour of the n-th request for its model.
sub behaviour_for {
	my ($self, $req) = @_;
	my $script = $self->read_json('script.json') // {};
	my $list = $script->{ $req->{model} // '' } or return 'ok';
	my $n = grep { ($_->{model} // '') eq ($req->{model} // '') } $self->requests;
	return $list->[ $n < @$list ? $n : -1 ];
}

sub record {
	my ($self, $req) = @_;
	open my $fh, '>>:raw', "$self->{dir}/requests" or die "requests: $!\n";
	print {$fh} $JSON->encode($req), "\n";
	close $fh;
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

sub send_all {
	my ($c, $data) = @_;
	while (length $data) {
		my $n = syswrite $c, $data;
		return 0 if !defined $n;
		substr($data, 0, $n) = '';
	}
	return 1;
}

sub respond {
	my ($c, $status, $body, %o) = @_;
	my $head = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n"
	    . 'Content-Type: ' . ($o{type} // 'application/json') . "\r\n"
	    . "Connection: close\r\n";
	$head .= 'Content-Length: ' . ($o{length} // length $body) . "\r\n"
	    if !$o{no_length};
	$head .= "$_: $o{headers}{$_}\r\n" for sort keys %{ $o{headers} // {} };
	send_all($c, "$head\r\n") or return;
	send_all($c, defined $o{send} ? substr($body, 0, $o{send}) : $body);
	shutdown $c, 1;
}

sub stream {
	my ($self, $c, $req, %o) = @_;
	$req->{long} = 1 if $o{gap};
	my @ev = events($req);
	@ev = @ev[0, 1] if $o{drop};
	my $head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    . "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
	send_all($c, $head) or return;
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

# ---- shutdown -----------------------------------------------------------

sub stop {
	my ($self) = @_;
	return if $self->{owner} != $$ || !$self->{pid};
	local ($?, $!, $@);
	kill 'KILL', -$self->{pid};
	kill 'KILL', $self->{pid};
	waitpid $self->{pid}, 0;
	delete $self->{pid};
	remove_tree($self->{dir});
}

sub DESTROY { $_[0]->stop }

1;
