# End to end: the errors nginx makes itself, before a worker sees the
# request (a malformed request line, a URI or header over the buffers,
# TRACE, a transfer coding it does not know, a protocol version it does
# not speak), are problem documents like the workers' own: content type
# application/problem+json, a stable code, X-Request-Id and CORS.  Raw
# sockets, since no HTTP client sends most of these.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is);

my $s = FLR::Stack->new(workers => 1);
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

# Send $bytes as they are; the response, parsed like HTTP::Tiny's.
sub raw {
	my ($bytes) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $s->port, Proto => 'tcp', Timeout => 10)
	    or die "connect: $!";
	binmode $c;
	print {$c} $bytes;
	my ($text, $sel, $deadline) = ('', IO::Select->new($c), time + 15);
	while (time < $deadline) {
		next if !$sel->can_read(0.5);
		my $n = sysread $c, $text, 65536, length $text;
		last if !$n;
	}
	close $c;
	my ($head, $body) = split /\r\n\r\n/, $text, 2;
	my @lines = split /\r\n/, $head // '';
	my $status = (shift @lines // '') =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : 0;
	my %h;
	for (@lines) {
		my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
		$h{lc $k} = $v;
	}
	return { status => $status, headers => \%h, content => $body // '',
	    raw => $text };
}

my $big = 'a' x 20000;
my @cases = (
	[ 'a malformed request line', "GARBAGE\r\n\r\n", 400, 'bad_request' ],
	[ 'a lower-case method', "get /api/livez HTTP/1.1\r\nHost: localhost\r\n\r\n",
	  400, 'bad_request' ],
	[ 'no Host header in HTTP/1.1', "GET /api/livez HTTP/1.1\r\n\r\n",
	  400, 'bad_request' ],
	[ 'a 20 KB URI', "GET /api/livez?q=$big HTTP/1.1\r\nHost: localhost\r\n\r\n",
	  414, 'uri_too_long' ],
	[ 'a 20 KB header', "GET /api/livez HTTP/1.1\r\nHost: localhost\r\n"
	  . "X-Big: $big\r\n\r\n", 431, 'header_too_large' ],
	[ 'TRACE', "TRACE /api/livez HTTP/1.1\r\nHost: localhost\r\n\r\n",
	  405, 'method_not_allowed' ],
	[ 'TRACE outside /api/', "TRACE / HTTP/1.1\r\nHost: localhost\r\n\r\n",
	  405, 'method_not_allowed' ],
	[ 'an unknown transfer coding', "POST /api/v1/models/feedback HTTP/1.1\r\n"
	  . "Host: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
	  'not_implemented' ],
	[ 'HTTP/2.5', "GET /api/livez HTTP/2.5\r\nHost: localhost\r\n\r\n",
	  505, 'http_version_not_supported' ],
	# nginx passes a method it does not know to the workers.
	[ 'an unknown method', "FOO /api/livez HTTP/1.1\r\nHost: localhost\r\n"
	  . "Connection: close\r\n\r\n", 405, 'method_not_allowed' ],
);
for my $c (@cases) {
	my ($name, $bytes, $status, $code) = @$c;
	my $r = raw($bytes);
	problem_is($r, $status, $code, undef, "$name: $status $code problem")
	    or diag($r->{raw});
	like($r->{headers}{'x-request-id'} // '', $UUID, "$name: X-Request-Id");
	is($r->{headers}{'access-control-allow-origin'}, '*', "$name: CORS");
	is($r->{headers}{'x-content-type-options'}, 'nosniff', "$name: nosniff");
}

# A valid X-Request-Id of the client's is echoed by these answers too.
my $rid = '0b7a3c1e-5f2d-4e6a-9c8b-1d2e3f4a5b6c';
my $r = raw("TRACE /api/livez HTTP/1.1\r\nHost: localhost\r\n"
    . "X-Request-Id: $rid\r\n\r\n");
is($r->{headers}{'x-request-id'}, $rid, 'TRACE: the client\'s X-Request-Id');
like($r->{headers}{allow} // '', qr/\bGET\b/, 'TRACE: 405 with Allow');

# The pages cannot be asked for by name; the workers' own errors are
# theirs (all of the workers' CORS headers, which nginx's pages lack).
$r = $s->request('GET', '/.flr-error/400');
problem_is($r, 404, 'not_found', undef, 'an error page by name: 404');
$r = $s->request('GET', '/api/nope');
problem_is($r, 404, 'not_found', undef, 'a worker\'s 404 ...');
ok($r->{headers}{'access-control-allow-methods'}, '... is the worker\'s own');

# HTTP::Tiny would refuse to send these; the raw path says the same.
$r = $s->request('GET', "/api/livez?q=$big");
problem_is($r, 414, 'uri_too_long', undef, 'HTTP::Tiny: a 20 KB URI');
$r = $s->request('GET', '/api/livez', { headers => { 'X-Big' => $big } });
problem_is($r, 431, 'header_too_large', undef, 'HTTP::Tiny: a 20 KB header');
is($s->request('GET', '/api/livez')->{status}, 200, 'and the API still answers');

done_testing();
