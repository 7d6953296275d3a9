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
# so a slow or hanging answer never blocks the next request; the server,
# its process group and the request log are FLR::TestServer's.

use strict;
use warnings;

use parent 'FLR::TestServer';
use FLR::TestServer qw(send_all response_head);

use Carp qw(croak);
use JSON::PP ();
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical;

sub init {
	my ($self, %o) = @_;
	$self->write_file('routes.json', '{}');
	$self->script(@{$o{script} // []});
}

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
	return map { $JSON->decode($_) } $self->lines_of('answers');
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

# ---- the server process ------------------------------------------------

# Record the request (its body, if any, is left unread); its index in the
# current script and among the requests for its path.
sub arrived {
	my ($self, $req) = @_;
	my @before = $self->requests;
	my $path_index = grep { $_->{path} eq $req->{path} } @before;
	$self->record($req);
	return (scalar @before, $path_index);
}

sub response_for {
	my ($self, $index, $path, $path_index) = @_;
	my $routes = $self->read_json('routes.json') // {};
	if (defined $path && $routes->{$path}) {
		my $list = $routes->{$path};
		return $list->[$path_index < @$list ? $path_index : -1];
	}
	my $script = $self->read_json('script.json') // [];
	return { status => 404, body => "no script\n", type => 'text/plain' }
	    if !@$script;
	return $script->[$index < @$script ? $index : -1];
}

sub answer {
	my ($self, $c, $req, $index, $path_index) = @_;
	my $r = $self->response_for($index, $req->{path}, $path_index);
	sleep $r->{delay} if $r->{delay};
	if ($r->{hang}) {
		sleep 1 while 1;    # until the server is stopped
	}
	# Before the first byte: a client that waits for this answer to end
	# cannot have sent its next request yet.
	$self->note_line('answers',
	    $JSON->encode({ index => $index, done => time }));
	my ($len, $chunks) = body_source($r);
	send_all($c, response_head($r->{status} // 200, type => $r->{type},
	    length => $len, no_length => $r->{no_length},
	    headers => $r->{headers})) or return;
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

1;
