package FLR::WebServer;

# A tiny scripted HTTP/1.1 server on 127.0.0.1 for the tests: it stands in
# for OpenRouter.  It runs in a forked process (its own process group) and
# answers each request with the next response of a script; once the script
# runs out it repeats its last response.  Every request is recorded, so a
# test can count tries and look at the headers that were sent.
#
#   my $srv = FLR::WebServer->new;                  # free port, no script
#   $srv->script({ file => 't/fixtures/openrouter-models.json' });
#   $srv->script({ status => 500 }, { status => 500 }, { body => '{}' });
#   my $url = $srv->url('/api/v1/models');
#   ... run the client ...
#   is $srv->count, 3;                              # requests since script()
#   my @r = $srv->requests;    # ({ method, path, headers => { lc name } })
#
# Concurrent clients ask for many paths in no set order; routes give each
# path (as the request line has it, query included) a script of its own,
# and a path without a route is answered by the script above:
#
#   $srv->routes({ '/a' => { body => '1' }, '/b' => [ { status => 500 },
#       { body => '2' } ] });
#   $srv->max_in_flight;       # most requests being answered at once
#
# A response is a hash:
#   status     => 200                      HTTP status (default 200)
#   body       => '...'                    the body, as bytes
#   file       => $path                    or the body from a file
#   size       => $n                       or $n bytes of filler ('x')
#   type       => 'application/json'       Content-Type (the default)
#   headers    => { Name => 'value', ... } more response headers
#   delay      => $seconds                 wait before answering
#   hang       => 1                        read the request, never answer
#   truncate   => $n                       declare the full length, send
#                                          only $n body bytes, then close
#   no_length  => 1                        no Content-Length: the body ends
#                                          when the connection closes
#
# Only core Perl.  Each connection is answered by its own child process,
# so a slow or hanging answer never blocks the next request.  The server
# and those children die when the object does, in the process that made
# it (a forked child going away leaves them alone).

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

my %REASON = (200 => 'OK', 204 => 'No Content', 301 => 'Moved Permanently',
    302 => 'Found', 400 => 'Bad Request', 401 => 'Unauthorized',
    403 => 'Forbidden', 404 => 'Not Found', 429 => 'Too Many Requests',
    500 => 'Internal Server Error', 502 => 'Bad Gateway',
    503 => 'Service Unavailable', 504 => 'Gateway Timeout');

# Bodies are byte strings; JSON::PP with utf8 carries them through the
# script file unchanged (each byte is one character below U+0100).
my $JSON = JSON::PP->new->utf8->canonical;

sub new {
	my ($class, %o) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 64, ReuseAddr => 1)
	    or croak "FLR::WebServer: listen: $!";
	my $self = bless {
		owner => $$,
		port => $listen->sockport,
		dir => tempdir('flr-web-XXXXXXXX', TMPDIR => 1, CLEANUP => 0),
	}, $class;
	$self->write_file('routes.json', '{}');
	$self->script(@{$o{script} // []});

	my $pid = fork // croak "FLR::WebServer: fork: $!";
	if (!$pid) {
		# Only _exit from here: no END blocks, no destructors.
		eval { $self->serve($listen) };
		print STDERR "FLR::WebServer: $@" if $@;
		POSIX::_exit(0);
	}
	# Both sides set the group, so stop() finds it whoever runs first.
	setpgrp($pid, $pid);
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }

# url($path) -> "http://127.0.0.1:<port>$path"
sub url {
	my ($self, $path) = @_;
	return "http://127.0.0.1:$self->{port}" . ($path // '/');
}

# script(@responses): the answers to the next requests, in order; the last
# one repeats.  Also forgets the requests recorded so far.  With no
# responses every request gets a 404.
sub script {
	my ($self, @responses) = @_;
	for my $r (@responses) {
		croak 'FLR::WebServer: a response is a hash' if ref $r ne 'HASH';
		croak "FLR::WebServer: no such file: $r->{file}"
		    if defined $r->{file} && !-r $r->{file};
	}
	$self->write_file('script.json', $JSON->encode(\@responses));
	$self->write_file('requests', '');
	$self->write_file('answers', '');
}

# routes(\%map): path => a response or a list of them (the last repeats),
# replacing the routes set before; the requests are forgotten as by
# script(), which leaves the routes alone.
sub routes {
	my ($self, $map) = @_;
	my %r;
	for my $path (keys %$map) {
		my $list = ref $map->{$path} eq 'ARRAY' ? $map->{$path}
		    : [ $map->{$path} ];
		croak "FLR::WebServer: route $path has no response" if !@$list;
		for my $x (@$list) {
			croak 'FLR::WebServer: a response is a hash'
			    if ref $x ne 'HASH';
			croak "FLR::WebServer: no such file: $x->{file}"
			    if defined $x->{file} && !-r $x->{file};
		}
		$r{$path} = $list;
	}
	$self->write_file('routes.json', $JSON->encode(\%r));
	$self->write_file('requests', '');
	$self->write_file('answers', '');
}

# When each request's answer began to be sent, after its delay:
# ({ index, done }) in that order (a hanging answer never shows).
sub answers {
	my ($self) = @_;
	open my $fh, '<:raw', "$self->{dir}/answers" or return ();
	return map { $JSON->decode($_) } grep { /\S/ } <$fh>;
}

# The most requests that were being answered at the same moment, from
# the arrival and answer times the server recorded (a request not
# answered yet counts as still being answered).
sub max_in_flight {
	my ($self) = @_;
	my @req = $self->requests;
	my %done = map { $_->{index} => $_->{done} } $self->answers;
	my @ev;
	for my $i (0 .. $#req) {
		push @ev, [ $req[$i]{time}, 1 ];
		push @ev, [ $done{$i}, -1 ] if defined $done{$i};
	}
	# At equal times an end comes before an arrival.
	my ($now, $max) = (0, 0);
	for my $e (sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] } @ev) {
		$now += $e->[1];
		$max = $now if $now > $max;
	}
	return $max;
}

# The requests received since the last script(), oldest first.
sub requests {
	my ($self) = @_;
	open my $fh, '<:raw', "$self->{dir}/requests" or return ();
	return map { $JSON->decode($_) } grep { /\S/ } <$fh>;
}

sub count { scalar(my @r = $_[0]->requests) }

# wait_count($n, $timeout): wait until $n requests came in; returns the
# count reached.
sub wait_count {
	my ($self, $n, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	my $c;
	while (($c = $self->count) < $n && time < $deadline) {
		sleep 0.02;
	}
	return $c;
}

sub write_file {
	my ($self, $name, $data) = @_;
	my $tmp = "$self->{dir}/.$name.$$";
	open my $fh, '>:raw', $tmp or croak "FLR::WebServer: $tmp: $!";
	print {$fh} $data;
	close $fh or croak "FLR::WebServer: write $tmp: $!";
	rename $tmp, "$self->{dir}/$name"
	    or croak "FLR::WebServer: rename $tmp: $!";
}

# ---- the server process ------------------------------------------------

sub serve {
	my ($self, $listen) = @_;
	setpgrp(0, 0);
	# Keep the test's output pipe free: prove waits for it to close.
	open STDIN, '<', '/dev/null';
	open STDOUT, '>', '/dev/null';
	$SIG{CHLD} = 'IGNORE';    # answer processes reap themselves
	$SIG{PIPE} = 'IGNORE';    # a client that gave up is no error
	while (1) {
		my $c = $listen->accept or next;
		my $req = read_request($c);
		if ($req) {
			my ($index, $path_index) = $self->record($req);
			my $pid = fork;
			if (defined $pid && !$pid) {
				close $listen;
				$self->answer($c, $index, $req->{path}, $path_index);
				POSIX::_exit(0);
			}
		}
		close $c;
	}
}

# The request line and headers (a body, if any, is read and dropped).
# undef if the client sends nothing sensible within 10 s.
sub read_request {
	my ($c) = @_;
	my $sel = IO::Select->new($c);
	my $buf = '';
	my $deadline = time + 10;
	while ($buf !~ /\r?\n\r?\n/) {
		return undef if length $buf > 65536 || time > $deadline;
		next if !$sel->can_read(0.2);
		my $n = sysread $c, $buf, 4096, length $buf;
		return undef if !$n;
	}
	my ($head) = split /\r?\n\r?\n/, $buf, 2;
	my ($line, @lines) = split /\r?\n/, $head;
	my ($method, $path) = $line =~ m{^(\S+) (\S+) HTTP/1\.[01]$}
	    or return undef;
	my %h;
	for (@lines) {
		my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
		$h{lc $k} = $v;
	}
	return { method => $method, path => $path, headers => \%h,
	    time => time };
}

# Append the request to the log; its index in the current script and
# among the requests for its path.
sub record {
	my ($self, $req) = @_;
	my @before = $self->requests;
	my $path_index = grep { $_->{path} eq $req->{path} } @before;
	open my $fh, '>>:raw', "$self->{dir}/requests" or die "requests: $!\n";
	print {$fh} $JSON->encode($req), "\n";
	close $fh;
	return (scalar @before, $path_index);
}

# Append the time answer $index is sent to the answers log (one short
# line, written at once, so concurrent answers do not mix).
sub record_answer {
	my ($self, $index) = @_;
	open my $fh, '>>:raw', "$self->{dir}/answers" or return;
	syswrite $fh, $JSON->encode({ index => $index, done => time }) . "\n";
	close $fh;
}

sub read_json_file {
	my ($self, $name) = @_;
	open my $fh, '<:raw', "$self->{dir}/$name" or return undef;
	local $/;
	return $JSON->decode(<$fh>);
}

sub response_for {
	my ($self, $index, $path, $path_index) = @_;
	my $routes = $self->read_json_file('routes.json') // {};
	if (defined $path && $routes->{$path}) {
		my $list = $routes->{$path};
		return $list->[$path_index < @$list ? $path_index : -1];
	}
	my $script = $self->read_json_file('script.json') // [];
	return { status => 404, body => "no script\n", type => 'text/plain' }
	    if !@$script;
	return $script->[$index < @$script ? $index : -1];
}

sub answer {
	my ($self, $c, $index, $path, $path_index) = @_;
	my $r = $self->response_for($index, $path, $path_index);
	sleep $r->{delay} if $r->{delay};
	if ($r->{hang}) {
		sleep 1 while 1;    # until the server is stopped
	}
	# Before the first byte: a client that waits for this answer to end
	# cannot have sent its next request yet.
	$self->record_answer($index);
	my ($len, $chunks) = body_source($r);
	my $status = $r->{status} // 200;
	my $head = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n"
	    . 'Content-Type: ' . ($r->{type} // 'application/json') . "\r\n"
	    . "Connection: close\r\n";
	$head .= "Content-Length: $len\r\n" if !$r->{no_length};
	my $extra = $r->{headers} // {};
	$head .= "$_: $extra->{$_}\r\n" for sort keys %$extra;
	send_all($c, "$head\r\n") or return;
	my $left = defined $r->{truncate} ? $r->{truncate} : $len;
	while ($left > 0) {
		my $chunk = $chunks->() // last;
		$chunk = substr($chunk, 0, $left) if length $chunk > $left;
		send_all($c, $chunk) or return;
		$left -= length $chunk;
	}
	shutdown $c, 1;
}

# (length, iterator over the body's chunks) for a response.
sub body_source {
	my ($r) = @_;
	if (defined $r->{file}) {
		open my $fh, '<:raw', $r->{file} or die "$r->{file}: $!\n";
		return (-s $fh, sub {
			my $n = read $fh, my $b, 65536;
			return $n ? $b : undef;
		});
	}
	if (defined $r->{size}) {
		my ($left, $block) = ($r->{size}, 'x' x 65536);
		return ($r->{size}, sub {
			return undef if $left <= 0;
			my $b = $left < length $block ? substr($block, 0, $left) : $block;
			$left -= length $b;
			return $b;
		});
	}
	my $body = $r->{body} // '';
	my $sent = 0;
	return (length $body, sub { $sent++ ? undef : $body });
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

# ---- shutdown -----------------------------------------------------------

sub stop {
	my ($self) = @_;
	return if $self->{owner} != $$ || !$self->{pid};
	local ($?, $!, $@);
	# The server and its answer processes share the server's group.
	kill 'KILL', -$self->{pid};
	kill 'KILL', $self->{pid};
	waitpid $self->{pid}, 0;
	delete $self->{pid};
	remove_tree($self->{dir});
}

sub DESTROY { $_[0]->stop }

1;
