# End to end: what a request puts in the worker log.  Without any
# credential, a path with encoded line breaks and terminal escapes must
# not forge a line of its own nor reach the log as raw control bytes:
# the log names the route's pattern, and escapes what came from the
# request.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;

my $SECRET = 'log-test-secret-0123456789abcdef';
my $s = FLR::Stack->new(workers => 1, env => { ADMIN_SECRET => $SECRET });

my @forged = (
	'/api/admin/keys/x%0Aflr-api:%20error:%20FORGED',
	'/api/admin/keys/x%0D%0Aflr-api:%20error:%20FORGED%1B[2J',
	'/api/admin/keys/%1B]0;title%07%1B[31mred',
	'/api/admin/keys/%C2%9B31m%E2%80%AEflr-api:%20error:%20FORGED',
);
for my $path (@forged) {
	my $res = $s->request('DELETE', $path,
	    { headers => { 'X-Admin-Secret' => 'wrong-secret-wrong-secret' } });
	is($res->{status}, 401, "DELETE $path with a wrong secret: 401");
}
# A request that reaches no route at all, then one that does, so the log
# holds the lines of every request above before it is read.
$s->request('GET', '/api/nope%0Aflr-api:%20error:%20FORGED');
is($s->request('GET', '/api/livez')->{status}, 200, 'the worker still answers');

my $log = $s->api_log;
my @lines = split /\n/, $log, -1;
pop @lines if @lines && $lines[-1] eq '';
ok(!(grep { /^flr-api: error: FORGED/ } @lines),
    'no line starts with the forged text')
    or diag($log);
ok(!(grep { /FORGED/ && !/route=/ } @lines),
    'the forged text only ever appears inside a line about the request')
    or diag($log);
ok($log !~ /\e/, 'no raw ESC byte in the log');
ok($log !~ /\r/, 'no raw CR byte in the log');
ok($log !~ /[\x00-\x08\x0b-\x1f\x7f]/, 'no other raw control byte');
ok($log !~ /[\x80-\xff]/, 'no raw bytes outside ASCII');
my @refusals = grep { /wrong X-Admin-Secret/ } @lines;
# Refusals within a second share one line (t/76), so there may be fewer.
cmp_ok(scalar @refusals, '>=', 1, 'the refusals are logged');
ok(!(grep { !m{route="DELETE /api/admin/keys/\{id\}"} } @refusals),
    'each names the route pattern, not the path')
    or diag(join "\n", @refusals);
ok(!(grep { /FORGED|\\x1b/ } @refusals), 'the path is not in those lines');

done_testing();
