# End to end: wrong admin secrets are cheap to refuse.  Fifty of them in a
# burst from one address: nginx turns part of them away itself (429, the
# flood-limit problem document, before a worker is busy), and the workers
# log the rest in a few lines with a count rather than one line each.
use strict;
use warnings;
use Test::More;
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $SECRET = 'throttle-test-secret-0123456789abcdef';
my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $SECRET });
my $dir = $s->dir;

# 50 requests at once, from 10 processes of 5 each.
my @kids;
for my $k (1 .. 10) {
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open my $fh, '>', "$dir/throttle.$k" or POSIX::_exit(1);
		for my $i (1 .. 5) {
			my $res = $s->request('GET', '/api/admin/keys?email=a@b.c',
			    { headers => { 'X-Admin-Secret' => "wrong-$k-$i-secret-xxxxxxxx" } });
			my $doc = json_of($res) // {};
			print {$fh} "$res->{status} " . ($doc->{code} // '-') . ' '
			    . ($res->{headers}{'retry-after'} // '-') . "\n";
		}
		close $fh;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
waitpid $_, 0 for @kids;
my (%count, %codes, %retry);
for my $k (1 .. 10) {
	open my $fh, '<', "$dir/throttle.$k" or next;
	while (<$fh>) {
		my ($st, $code, $ra) = split;
		$count{$st}++;
		$codes{"$st $code"}++;
		$retry{$ra}++ if $st == 429;
	}
}
my $summary = join ', ', map { "$_ x$codes{$_}" } sort keys %codes;
is(($count{401} // 0) + ($count{429} // 0), 50, "50 answers: 401 or 429 ($summary)");
cmp_ok($count{429} // 0, '>', 0, 'some are turned away by nginx: 429');
cmp_ok($count{401} // 0, '>', 0, 'some reach a worker: 401');
is($codes{'429 too_many_requests'} // 0, $count{429} // 0,
    'each 429 is the flood-limit problem document');
is_deeply([ keys %retry ], [ 1 ], 'with Retry-After: 1') if $count{429};

my @lines = grep { /wrong X-Admin-Secret/ } split /\n/, $s->api_log;
cmp_ok(scalar @lines, '<', 5, scalar(@lines) . ' log lines about them (fewer than 5)')
    or diag(join "\n", @lines);
cmp_ok(scalar @lines, '>', 0, 'but they are logged');
my $total = 0;
for (@lines) { $total += $1 if /\b(\d+) refused\b/ }
# Refusals after a worker's last line wait for its next one.
ok($total >= @lines && $total <= ($count{401} // 0),
    "the lines count the refusals ($total of " . ($count{401} // 0) . ')')
    or diag(join "\n", @lines);

# The right secret still works once the burst has drained.
my $ok;
for (1 .. 50) {
	my $res = $s->request('GET', '/api/admin/keys?email=nobody@example.com',
	    { headers => { 'X-Admin-Secret' => $SECRET } });
	$ok = $res, last if $res->{status} != 429;
	select undef, undef, undef, 0.2;
}
is($ok && $ok->{status}, 404, 'the right secret is served again (404 unknown_user)');

done_testing();
