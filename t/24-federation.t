# Two real instances of this project federating: B imports A's health
# through flr-sync (FLR_UPSTREAM_URL = A's address, A's own
# /api/federation/export), so A's counts equal B's source=upstream
# counts; an instance with only an upstream ranks healthiest by the
# upstream's data before its own first report; and federation both ways
# does not count anything twice (only local reports are exported).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(json_of);

my $fixture = "$FindBin::Bin/fixtures/openrouter-models.json";
my $A = FLR::Stack->new(workers => 2);
my $B = FLR::Stack->new(workers => 2);
for my $s ($A, $B) {
	my ($rc, undef, $err) = $s->run_sync(url => "file://$fixture");
	is($rc, 0, 'the snapshot loads') or diag($err);
}
my %key = (A => $A->create_key(email => 'a@example.com'),
    B => $B->create_key(email => 'b@example.com'));

sub get {
	my ($s, $who, $path) = @_;
	my $r = $s->request('GET', $path,
	    { headers => { Authorization => "Bearer $key{$who}" } });
	die "GET $path: $r->{status} $r->{content}" if $r->{status} != 200;
	return json_of($r);
}

sub report {
	my ($s, $who, $model, $outcome, $n) = @_;
	my $body = $outcome eq 'success'
	    ? qq({"modelId":"$model","success":true})
	    : qq({"modelId":"$model","issue":"$outcome"});
	for (1 .. $n) {
		my $r = $s->request('POST', '/api/v1/models/feedback', {
			headers => { Authorization => "Bearer $key{$who}",
			    'Content-Type' => 'application/json' },
			content => $body });
		die "report: $r->{status} $r->{content}" if $r->{status} != 200;
	}
}

sub counts {
	my ($doc) = @_;
	return { map { $_->{id} => [ @{ $_->{sources}{local} }{qw(successCount
	    rateLimited unavailable error)}, @{ $_->{sources}{upstream} }{
	    qw(successCount rateLimited unavailable error)}, $_->{reports} ] }
	    @{ $doc->{models} } };
}

sub sync_from {
	my ($s, $up) = @_;
	my ($rc, $out, $err) = $s->run_sync(url => "file://$fixture",
	    env => { FLR_UPSTREAM_URL => $up->base_url });
	is($rc, 0, 'the sync with an upstream succeeds') or diag("$out\n$err");
}

my @ids = @{ get($A, 'A', '/api/v1/models/ids?topN=100')->{ids} };
my ($good, $bad, $meh) = @ids[5, 6, 7];
report($A, 'A', $good, 'success', 40);
report($A, 'A', $bad, 'error', 6);
report($A, 'A', $bad, 'unavailable', 2);
report($A, 'A', $meh, 'success', 2);
report($A, 'A', $meh, 'rate_limited', 1);

# --- B imports A. -------------------------------------------------------------
sync_from($B, $A);
{
	my $a = counts(get($A, 'A', '/api/v1/models/full?topN=100&source=local'));
	my $b = counts(get($B, 'B', '/api/v1/models/full?topN=100&source=upstream'));
	for my $m ($good, $bad, $meh) {
		is_deeply([ @{ $b->{$m} }[4 .. 7] ], [ @{ $a->{$m} }[0 .. 3] ],
		    "B's upstream counts of $m are A's local counts");
		is($b->{$m}[8], $a->{$m}[8], "and so are its reports ($m)");
		is_deeply([ @{ $b->{$m} }[0 .. 3] ], [0, 0, 0, 0],
		    "B has no reports of its own for $m");
	}
	for my $range (qw(15m 1h 24h 7d 30d all)) {
		my $ad = counts(get($A, 'A', "/api/v1/models/full?topN=100&timeRange=$range&source=local"));
		my $bd = counts(get($B, 'B', "/api/v1/models/full?topN=100&timeRange=$range&source=upstream"));
		is($bd->{$bad}[8], $ad->{$bad}[8], "timeRange=$range: the same counts");
	}
	my $top = get($B, 'B', '/api/v1/models/ids?sort=healthiest&topN=1')->{ids};
	is_deeply($top, [$good], 'B ranks healthiest by A\'s data before its first own report');
	my $doc = get($B, 'B', '/api/v1/models/full?topN=1');
	is($doc->{upstream}{kind}, 'flr', 'B names its upstream an instance of this project');
	ok(defined $doc->{upstream}{ageSeconds}, 'with the age of its data');
	my ($hr, $health) = $B->get_json('/api/health?source=upstream');
	my ($hb) = grep { $_->{modelId} eq $bad } @{ $health->{models} };
	is($hb->{issueCount}, 8, 'B\'s health page shows A\'s issues');
}

# --- Both ways: A imports B, which holds A's data. ----------------------------
report($B, 'B', $meh, 'error', 4);
sync_from($A, $B);
sync_from($B, $A);
{
	my $a = counts(get($A, 'A', '/api/v1/models/full?topN=100'));
	my $b = counts(get($B, 'B', '/api/v1/models/full?topN=100'));
	is($a->{$bad}[8], 8, 'A: its own 8 reports of bad, nothing of its own back');
	is_deeply([ @{ $a->{$meh} }[0 .. 7] ], [2, 1, 0, 0, 0, 0, 0, 4],
	    'A: meh has its 3 local reports and B\'s 4 local ones');
	is($a->{$meh}[8], 7, 'all = 7, not 10');
	is_deeply([ @{ $b->{$meh} }[0 .. 7] ], [0, 0, 0, 4, 2, 1, 0, 0],
	    'B: its own 4, and A\'s 3 upstream');
	is($b->{$meh}[8], 7, 'B: all = 7 too');
	is($b->{$good}[8], 40, 'B: good still 40, never 80');
	my $export = json_of($B->request('GET', '/api/federation/export'));
	my %seen = map { $_->[2] => 1 } @{ $export->{rows} };
	is_deeply([sort keys %seen], [$meh], 'B exports only its own reports');
}

done_testing;
