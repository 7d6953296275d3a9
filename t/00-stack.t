#!/usr/bin/perl
# The local stack itself: nginx in front of the workers, nginx's own
# errors in the problem+json shape, migrations applied exactly once, and
# a 503 (not a hang, not an HTML page) when no worker answers.

use strict;
use warnings;

use JSON::PP;
use Test::More;

use FLR::Pg;
use FLR::Stack;

my $s = FLR::Stack->new(workers => 2);
my $pg = $s->pg;

# One problem+json check for all of nginx's own answers.
sub is_problem {
	my ($res, $status, $code, $name) = @_;
	is($res->{status}, $status, "$name: status $status");
	like($res->{headers}{'content-type'} // '',
	    qr{^application/problem\+json}, "$name: problem+json");
	my $body = FLR::Stack::decode_body($res);
	is(ref $body eq 'HASH' && $body->{code}, $code, "$name: code $code");
	is(ref $body eq 'HASH' && $body->{status}, $status,
	    "$name: status in the body");
	like($res->{headers}{'x-request-id'} // '',
	    qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
	    "$name: X-Request-Id is a UUID");
	return $body;
}

my $res = $s->request(GET => '/api/livez');
is($res->{status}, 200, 'GET /api/livez answers 200 through nginx')
    or diag($res->{content}, "\napi.log:\n", $s->api_log);

is_problem($s->request(GET => '/nope'), 404, 'not_found', 'path outside /api/');

$res = $s->request(GET => '/nope', { headers => {
	'X-Request-Id' => '0b7a3c1e-5f2d-4e6a-9c8b-1d2e3f4a5b6c' } });
is($res->{headers}{'x-request-id'}, '0b7a3c1e-5f2d-4e6a-9c8b-1d2e3f4a5b6c',
    'a valid client X-Request-Id is echoed');

my $big = '{"modelId":"' . ('x' x 20000) . '","success":true}';
my $body = is_problem($s->request(POST => '/api/v1/models/feedback', {
	headers => { 'Content-Type' => 'application/json' },
	content => $big }), 413, 'payload_too_large', '20000-byte body');
is($body->{error}, $body->{detail}, 'error repeats detail for old clients');

my $count = $pg->psql('SELECT count(*) FROM schema_migrations');
cmp_ok($count, '>=', 1, "schema_migrations has $count row(s)");

my $before = $pg->psql('SELECT version, applied_at FROM schema_migrations '
    . 'ORDER BY version');
my $out = $pg->migrate;
like($out, qr/\b0 applied\b/, 'a second schema/migrate applies nothing');
is($pg->psql('SELECT version, applied_at FROM schema_migrations '
    . 'ORDER BY version'), $before, 'schema_migrations is unchanged');

$s->stop_workers;
$res = $s->request(GET => '/api/livez');
is_problem($res, 503, 'service_unavailable', 'no workers');
is($res->{headers}{'retry-after'}, '5', 'no workers: Retry-After: 5');

$s->start_workers;
is($s->request(GET => '/api/livez')->{status}, 200,
    'livez answers again once the workers are back');

done_testing;
