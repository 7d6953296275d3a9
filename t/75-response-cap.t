# End to end: a response that grows past its cap is never sent cut short
# as if it were whole.  A catalogue whose free models have huge
# descriptions makes GET /api/v1/models/full larger than the 8 MiB body
# cap: the answer is a 500 problem document, and the worker logs why;
# smaller answers of the same catalogue are still served.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::WebServer;
use FLR::Assert qw(problem_is json_of);

my $json = JSON::PP->new->utf8->canonical;
my $fixture = $json->decode(
    FLR::Pg::slurp("$FindBin::Bin/fixtures/openrouter-models.json"));
my $free = 0;
for my $m (@{$fixture->{data}}) {
	next if ($m->{pricing}{prompt} // '') ne '0';
	$free++;
	# 600 KB each, different for each model.
	$m->{description} = join ' ', ("$m->{id} is a model.") x 30000;
	$m->{description} = substr($m->{description}, 0, 600_000);
}
my $dir = tempdir('flr-hugecat-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
my $file = "$dir/models.json";
open my $fh, '>:raw', $file or die "$file: $!";
print {$fh} $json->encode($fixture);
close $fh or die "$file: $!";
cmp_ok($free * 600_000, '>', 8 * 1024 * 1024,
    "$free free models of 600 KB each: more than the 8 MiB cap");

my $srv = FLR::WebServer->new;
$srv->script({ file => $file });
my $s = FLR::Stack->new(workers => 1);
my ($rc, undef, $err) = $s->run_sync(url => $srv->url('/api/v1/models'));
is($rc, 0, 'the catalogue with huge descriptions is synced') or diag($err);
my $key = $s->create_key(email => 'cap@example.com');
my %auth = (Authorization => "Bearer $key");

my $res = $s->request('GET', '/api/v1/models/full', { headers => \%auth });
problem_is($res, 500, 'internal_error', undef,
    '/full over the body cap: a 500 problem document, not a cut 200');
cmp_ok(length($res->{content}), '<', 4096, 'and nothing of the cut body');
like($res->{headers}{'x-request-id'} // '', qr/^[0-9a-f-]{36}$/,
    'with its X-Request-Id');
like($s->api_log, qr/error: .*route="GET \/api\/v1\/models\/full".* not sent: its body went over the \d+-byte cap/,
    'the worker logs why');

$res = $s->request('GET', '/api/v1/models/full?topN=3', { headers => \%auth });
is($res->{status}, 200, 'three of those models fit: 200');
is((json_of($res) // {})->{count}, 3, 'a whole document');
$res = $s->request('GET', '/api/v1/models/ids', { headers => \%auth });
is($res->{status}, 200, '/ids of the same catalogue: 200');
is((json_of($res) // {})->{count}, $free, 'every model');

done_testing();
