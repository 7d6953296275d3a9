# End to end: the worker pool keeps its size.  The same slot's worker is
# killed (SIGKILL) ten times in quick succession, each time the newest
# process, and then workers of every slot; afterwards there are as many
# flr-api processes as configured and requests are served.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;

my $WORKERS = 3;
my $s = FLR::Stack->new(workers => $WORKERS);
my $parent = $s->pids->{api};

# The flr-api processes whose parent is multiwatch.
sub workers {
	my @pids;
	opendir my $dh, '/proc' or die "/proc: $!";
	for my $pid (grep { /^\d+$/ } readdir $dh) {
		open my $fh, '<', "/proc/$pid/stat" or next;
		my $stat = <$fh> // next;
		# pid (comm) state ppid ...; comm may hold spaces.
		my ($comm, $ppid) = $stat =~ /^\d+ \((.*)\) \S+ (\d+)/s or next;
		push @pids, $pid if $ppid == $parent && $comm eq 'flr-api';
	}
	return sort { $a <=> $b } @pids;
}

# Waits (up to 10 s) for a worker that is not in %old; returns its pid.
sub new_worker {
	my (%old) = map { $_ => 1 } @_;
	my $deadline = time + 10;
	while (time < $deadline) {
		my @new = grep { !$old{$_} } workers();
		return $new[0] if @new;
		sleep 0.01;
	}
	return undef;
}

# Waits (up to 10 s) for the pool to have $n workers; returns the count.
sub settle {
	my ($n) = @_;
	my $deadline = time + 10;
	my @w;
	sleep 0.05 while (@w = workers()) != $n && time < $deadline;
	return scalar @w;
}

is(settle($WORKERS), $WORKERS, "$WORKERS workers at the start");

# One slot, ten times: each kill takes the process that replaced the last.
my @seen = workers();
my $victim = $seen[0];
my $respawned = 0;
for my $i (1 .. 10) {
	kill 'KILL', $victim or last;
	my $next = new_worker(@seen);
	last if !defined $next;
	$respawned++;
	push @seen, $next;
	$victim = $next;
}
is($respawned, 10, 'the slot was refilled after each of ten kills');
is(settle($WORKERS), $WORKERS, "$WORKERS workers after ten kills of one slot");

# Every slot at once, three rounds.
for my $round (1 .. 3) {
	my @now = workers();
	kill 'KILL', @now;
	settle($WORKERS);
}
is(settle($WORKERS), $WORKERS, "$WORKERS workers after three rounds of killing all");

# As many requests at once as there are workers, a few times over: each
# one answered.
my @kids;
for my $i (1 .. 3 * $WORKERS) {
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my $res = $s->request('GET', '/api/livez');
		POSIX::_exit($res->{status} == 200 ? 0 : 1);
	}
	push @kids, $pid;
}
my $ok = 0;
for (@kids) {
	waitpid $_, 0;
	$ok++ if $? == 0;
}
is($ok, 3 * $WORKERS, 'every request is served');
ok(!$s->dead, 'multiwatch and nginx still run');

done_testing();
