# End to end, a fault: PostgreSQL crashes (an immediate stop: no shutdown
# checkpoint, recovery from the WAL at the next start) while several
# clients post feedback reports and others call the counted listing, and
# comes back.  Afterwards every report answered 200 is stored (a 503 is
# fine; a 200 for a report that is not stored is not), and each listing
# user's quota counter equals what its clients were told: every 200 and
# the 429s counted once the quota was used up (SPEC §1) -- plus, at most,
# the calls caught in the crash itself.  Those are the 503s whose worker
# had sent a statement to the server that then died (the worker log says
# so under the call's X-Request-Id): the quota statement may have
# committed while its answer was lost, and no server can know which, or
# it had, and a later statement of the call failed; a 503 that never
# reached a live server is certainly not counted.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(json_of);

my $s = FLR::Stack->new(workers => 4);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $model = 'openai/gpt-oss-20b:free';
my $dir = $s->dir;

# Reporters have a user each (600 reports an hour per user); of the two
# listing users one never reaches its quota, the other does.
my @clients;
push @clients, { kind => 'feedback', key => $s->create_key(
    email => "fault-fb$_\@example.com") } for 1 .. 4;
push @clients, { kind => 'list', user => 'big', key => $s->create_key(
    email => 'fault-big@example.com', rate_limit_max => 1000000) } for 1 .. 2;
push @clients, { kind => 'list', user => 'small', key => $s->create_key(
    email => 'fault-small@example.com', rate_limit_max => 150) } for 1 .. 2;
my %limit = (big => 1000000, small => 150);

# Each client loops until the stop file appears, one line per answer:
# status and, for a 200 report, its id.
my $stop = "$dir/fault.stop";
my @kids;
for my $i (0 .. $#clients) {
	my $c = $clients[$i];
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open my $fh, '>', "$dir/fault.$i" or POSIX::_exit(1);
		$fh->autoflush(1);
		my %h = (Authorization => "Bearer $c->{key}");
		my $n = 0;
		while (!-e $stop && $n++ < 550) {
			my $res;
			# An id of our own, to find the call in the worker log.
			my $rid = $h{'X-Request-Id'} = sprintf
			    '%08x-%04x-4%03x-%04x-%012x', rand 2**32, rand 2**16,
			    rand 2**12, 0x8000 | rand 2**14, rand 2**48;
			if ($c->{kind} eq 'feedback') {
				($res) = $s->json_request('POST', '/api/v1/models/feedback',
				    { modelId => $model, success => JSON::PP::true() }, \%h);
			} else {
				$res = $s->request('GET', '/api/v1/models/ids?topN=1',
				    { headers => \%h });
			}
			my $doc = json_of($res) // {};
			print {$fh} "$res->{status} " . ($doc->{id} // '-')
			    . " $rid\n";
			sleep 0.05 if $res->{status} == 503;
		}
		close $fh;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}

# Under load: crash, stay down a moment, come back, load again.
sub lines { my $n = 0; for my $i (0 .. $#clients) { $n += () = FLR::Pg::slurp("$dir/fault.$i") =~ /\n/g } $n }
my $deadline = time + 30;
sleep 0.1 while lines() < 200 && time < $deadline;
my $before = lines();
$pg->stop(mode => 'immediate');
pass("PostgreSQL crashed after $before answers");
sleep 1;
$pg->start;
pass('PostgreSQL recovered and is back');
my $at_start = lines();
sleep 0.1 while lines() < $at_start + 200 && time < $deadline;
open my $sf, '>', $stop or die "$stop: $!";
close $sf;
waitpid $_, 0 for @kids;

# The calls caught in the crash: a statement of theirs reached a server
# that died under it (the worker logs the failed statement as an error
# with the call's id; a call that found no server only has a warning
# that the connection failed).  The quota statement may have committed,
# or had, and a later one of the same call failed.
my %caught;
for (split /\n/, $s->api_log) {
	$caught{$1} = 1 if /^flr-api: error: rid=([0-9a-f-]{36}) /;
}

# What the clients were told.
my (%status, @acked, %list);
for my $i (0 .. $#clients) {
	my $c = $clients[$i];
	for (split /\n/, FLR::Pg::slurp("$dir/fault.$i")) {
		my ($st, $id, $rid) = split;
		$status{"$c->{kind} $st"}++;
		if ($c->{kind} eq 'feedback') {
			push @acked, $id if $st == 200;
		} else {
			$list{$c->{user}}{$st}++;
			$list{$c->{user}}{caught}++ if $st == 503 && $caught{$rid};
		}
	}
}
my $summary = join ', ', map { "$_ x$status{$_}" } sort keys %status;
note("answers: $summary");
ok(!(grep { !/^(?:feedback (?:200|503)|list (?:200|429|503))$/ } keys %status),
    "only 200, 429 (listing) and 503 ($summary)");
cmp_ok($status{'feedback 503'} // 0, '>', 0, 'the crash was felt: some 503s');
cmp_ok(scalar @acked, '>', 0, 'reports were acknowledged');

# Every acknowledged report is stored.
my $ids = join ',', map { "'$_'" } grep { /^[0-9a-f-]{36}$/ } @acked;
is(scalar(grep { /^[0-9a-f-]{36}$/ } @acked), scalar @acked,
    'each 200 carries a report id');
my $stored = $pg->psql("SELECT count(*) FROM model_feedback WHERE id IN ($ids)");
is($stored, scalar @acked, sprintf('all %d acknowledged reports are stored (0 lost)',
    scalar @acked));
cmp_ok($pg->psql('SELECT count(*) FROM model_feedback'), '>=', scalar @acked,
    'and nothing else went missing');

# The quota counters: one increment per counted call, capped at
# rate_limit_max + 1 once it refuses (the statement's least()).
for my $user (qw(big small)) {
	my $count = $pg->psql("SELECT window_count FROM users WHERE email = "
	    . "'fault-$user\@example.com'");
	my $ok = $list{$user}{200} // 0;
	my $limited = $list{$user}{429} // 0;
	my $caught = $list{$user}{caught} // 0;
	my $cap = $limit{$user} + 1;
	my $low = $ok + $limited;
	my $high = $low + $caught;
	$low = $cap if $low > $cap;
	$high = $cap if $high > $cap;
	my $name = "$user: window_count $count: $ok answered 200, $limited "
	    . "429, $caught caught in the crash (capped at $cap)";
	ok($count >= $low && $count <= $high,
	    "$name: every call answered 200 or 429 is counted")
	    or diag("expected $low" . ($high > $low ? " to $high" : ''));
}
cmp_ok($list{small}{429} // 0, '>', 0, 'the small user did reach its quota');
cmp_ok($list{small}{200} // 0, '<=', $limit{small}, '... and never got more than it');

done_testing();
