# End to end: PostgreSQL goes away mid-run.  Workers answer 503 with
# Retry-After (never crash, never hang), then serve again once it is
# back, re-preparing their statements on the new connection.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $s = FLR::Stack->new(workers => 2);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $key = $s->create_key(email => 'outage@example.com', rate_limit_max => 1000);
my %auth = (headers => { Authorization => "Bearer $key" });

# Warm every worker so each holds a connection with prepared statements.
for (1 .. 6) {
	is($s->request('GET', '/api/v1/models/ids?topN=3', \%auth)->{status}, 200,
	    "before: 200 ($_)");
}

$pg->stop;
for my $i (1 .. 4) {
	my $t0 = time;
	my $r = $s->request('GET', '/api/v1/models/ids?topN=3', \%auth);
	my $took = time - $t0;
	problem_is($r, 503, 'service_unavailable', undef,
	    "database down: 503 ($i)");
	is($r->{headers}{'retry-after'}, 5, "database down: Retry-After: 5 ($i)");
	ok($took < 10, sprintf('database down: answered in %.2f s', $took));
}
problem_is($s->request('GET', '/api/readyz'), 503, 'service_unavailable', undef,
    'readyz: 503 while the database is down');
is($s->request('GET', '/api/livez')->{status}, 200,
    'livez: 200 while the database is down (the worker runs)');

$pg->start;
for my $i (1 .. 6) {
	my $r = $s->request('GET', '/api/v1/models/ids?topN=3', \%auth);
	is($r->{status}, 200, "database back: 200 ($i)");
	is(scalar @{ (json_of($r) // {})->{ids} // [] }, 3, "database back: 3 ids ($i)");
}
is($s->request('GET', '/api/readyz')->{status}, 200, 'readyz: 200 again');

# A restart between two requests: the next request is served at once,
# on a new connection, without a 503 first.
for (1 .. 4) {
	$s->request('GET', '/api/v1/models/ids?topN=1', \%auth);
}
$pg->stop;
$pg->start;
for my $i (1 .. 4) {
	is($s->request('GET', '/api/v1/models/ids?topN=1', \%auth)->{status}, 200,
	    "after a quiet restart: 200 at once ($i)");
}
unlike($s->api_log, qr/AddressSanitizer|runtime error/,
    'no sanitizer reports in the worker log');

done_testing;
