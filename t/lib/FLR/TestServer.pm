package FLR::TestServer;

# What the tests' stand-in HTTP servers on 127.0.0.1 share
# (FLR::WebServer, FLR::FakeOpenRouter): a listening socket on a free
# port, a server process in its own process group that answers each
# connection from a child of its own, the requests recorded one JSON line
# each in a private directory (the server and the test share no memory),
# and a stop that takes the server and every child with it.  A subclass
# says what happens to a request:
#
#   init(%o)                  in new(), before the fork: write its files
#   arrived($req) -> @args    in the server, as each request comes in
#   answer($c, $req, @args)   in the child that answers it
#   reads_body                1: read a Content-Length body into {body}
#   wait_seconds              wait_count's default timeout
#
# Only core Perl.  The server and its children die with the object, in
# the process that made it (a forked child going away leaves them alone).

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(send_all response_head);

my %REASON = (200 => 'OK', 204 => 'No Content', 301 => 'Moved Permanently',
    302 => 'Found', 400 => 'Bad Request', 401 => 'Unauthorized',
    403 => 'Forbidden', 404 => 'Not Found', 429 => 'Too Many Requests',
    500 => 'Internal Server Error', 502 => 'Bad Gateway',
    503 => 'Service Unavailable', 504 => 'Gateway Timeout');

# Bodies are byte strings; JSON::PP with utf8 carries them through the
# files unchanged (each byte is one character below U+0100).
my $JSON = JSON::PP->new->utf8->canonical;

sub new {
	my ($class, %o) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
	    or croak "$class: listen: $!";
	my $self = bless {
		owner => $$,
		port => $listen->sockport,
		dir => tempdir('flr-test-server-XXXXXXXX', TMPDIR => 1,
		    CLEANUP => 0),
	}, $class;
	$self->init(%o);

	my $pid = fork // croak "$class: fork: $!";
	if (!$pid) {
		# Only _exit from here: no END blocks, no destructors.
		eval { $self->serve($listen) };
		print STDERR "$class: $@" if $@;
		POSIX::_exit(0);
	}
	# Both sides set the group, so stop() finds it whoever runs first.
	setpgrp($pid, $pid);
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub init { }
sub reads_body { 0 }
sub wait_seconds { 10 }

sub port { $_[0]{port} }

# The requests recorded since the subclass last emptied the log, oldest
# first.
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
	my $deadline = time + ($timeout // $self->wait_seconds);
	my $c;
	sleep 0.02 while ($c = $self->count) < $n && time < $deadline;
	return $c;
}

# The non-blank lines of file $name, without their ends.
sub lines_of {
	my ($self, $name) = @_;
	open my $fh, '<:raw', "$self->{dir}/$name" or return ();
	return map { chomp; $_ } grep { /\S/ } <$fh>;
}

# Append one line to file $name, written at once, so that concurrent
# answers do not mix.
sub note_line {
	my ($self, $name, $line) = @_;
	open my $fh, '>>:raw', "$self->{dir}/$name" or return;
	syswrite $fh, "$line\n";
	close $fh;
}

sub read_json {
	my ($self, $name) = @_;
	open my $fh, '<:raw', "$self->{dir}/$name" or return undef;
	local $/;
	return $JSON->decode(<$fh>);
}

# Replace file $name whole: the server never reads half of it.
sub write_file {
	my ($self, $name, $data) = @_;
	my $class = ref $self;
	my $tmp = "$self->{dir}/.$name.$$";
	open my $fh, '>:raw', $tmp or croak "$class: $tmp: $!";
	print {$fh} $data;
	close $fh or croak "$class: write $tmp: $!";
	rename $tmp, "$self->{dir}/$name" or croak "$class: rename $tmp: $!";
}

# Append $req to the request log.
sub record {
	my ($self, $req) = @_;
	open my $fh, '>>:raw', "$self->{dir}/requests" or die "requests: $!\n";
	print {$fh} $JSON->encode($req), "\n";
	close $fh;
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
		my $req = read_request($c, $self->reads_body);
		if ($req) {
			my @args = $self->arrived($req);
			my $pid = fork;
			if (defined $pid && !$pid) {
				close $listen;
				$self->answer($c, $req, @args);
				POSIX::_exit(0);
			}
		}
		close $c;
	}
}

# The request line and headers, and with $body the Content-Length bytes
# after them in {body} (else they are left unread); undef when the
# client sends nothing sensible within 10 s.
sub read_request {
	my ($c, $body) = @_;
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
	my $req = { method => $method, path => $path, headers => \%h,
	    time => time };
	return $req if !$body;
	my $len = $h{'content-length'} // 0;
	while (length $rest < $len) {
		return undef if time > $deadline;
		next if !$sel->can_read(0.2);
		my $n = sysread $c, $rest, 65536, length $rest;
		return undef if !$n;
	}
	$req->{body} = $rest;
	return $req;
}

# response_head($status, %o) -> the status line and headers, blank line
# included: type (Content-Type, application/json by default), length
# (Content-Length) unless no_length, then headers { Name => value }.
sub response_head {
	my ($status, %o) = @_;
	my $head = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n"
	    . 'Content-Type: ' . ($o{type} // 'application/json') . "\r\n"
	    . "Connection: close\r\n";
	$head .= "Content-Length: $o{length}\r\n" if !$o{no_length};
	$head .= "$_: $o{headers}{$_}\r\n" for sort keys %{ $o{headers} // {} };
	return "$head\r\n";
}

# All of $data to socket $c: 1, or 0 once the peer is gone.
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
