# End to end: the local stack is private to the user who runs it.  Another
# local user (made for this test, removed after it) can neither connect to
# the workers' FastCGI socket nor log in to the stack's PostgreSQL, over
# TCP or over its Unix socket; the stack itself still works.  Needs root
# (useradd, runuser).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;

plan skip_all => 'needs root to add a second local user' if $> != 0;
for my $tool (qw(useradd userdel runuser)) {
	plan skip_all => "$tool is not installed" if !FLR::Pg::find_bin($tool);
}

# A user of our own, with a name nobody else uses.
my $user = sprintf 'flrprobe%05d', $$ % 100000;
my ($code, $out, $err) = FLR::Pg::run([ FLR::Pg::find_bin('useradd'),
    '--system', '--no-create-home', '--home-dir', '/nonexistent',
    '--shell', '/usr/sbin/nologin', $user ], env => FLR::Pg::clean_env());
plan skip_all => "useradd $user failed: $err" if $code;
my $owner = $$;
END {
	FLR::Pg::run([ FLR::Pg::find_bin('userdel'), $user ],
	    env => FLR::Pg::clean_env()) if $owner == $$ && $user;
}

my $s = FLR::Stack->new(workers => 1);
my $pg = $s->pg;
is($s->request('GET', '/api/readyz')->{status}, 200,
    'the stack answers, with its database');

# as_other(@argv) -> ($exit_code, $stdout, $stderr), run as that user.
sub as_other {
	my (@argv) = @_;
	return FLR::Pg::run([ 'runuser', '-u', $user, '--', @argv ],
	    cwd => '/', env => FLR::Pg::clean_env(PGCONNECT_TIMEOUT => 5),
	    timeout => 30);
}

# The FastCGI socket.
{
	my $sock = $s->socket_path;
	($code, $out, $err) = as_other($^X, '-MIO::Socket::UNIX', '-e',
	    'my $c = IO::Socket::UNIX->new(Peer => $ARGV[0]); '
	    . 'print $c ? "connected\n" : "refused: $!\n"; exit($c ? 0 : 1)',
	    $sock);
	isnt($code, 0, "$user cannot connect to the FastCGI socket")
	    or diag($out, $err);
	like($out, qr/refused: Permission denied/, '... permission denied')
	    or diag($out, $err);
	my @st = stat $sock;
	ok(!($st[2] & 07), sprintf('the socket gives others no access (mode %04o)',
	    $st[2] & 07777));
}

# PostgreSQL, as its superuser and as any role, over TCP and the socket;
# a password prompt would hang, so -w: never ask.
my $port = $pg->port;
for my $c ([ 'TCP', "postgresql://flr\@127.0.0.1:$port/flr" ],
    [ 'TCP, another role', "postgresql://$user\@127.0.0.1:$port/flr" ],
    [ 'the Unix socket', "postgresql:///flr?host=" . $pg->dir . "&port=$port&user=flr" ]) {
	my ($name, $url) = @$c;
	($code, $out, $err) = as_other('psql', '-X', '-w', '-At', '-d', $url,
	    '-c', 'SELECT 1');
	isnt($code, 0, "$user cannot log in to PostgreSQL over $name")
	    or diag($out);
	unlike($out, qr/^1$/m, "$name: no query ran");
	note("$name: $err");
}

# The stack's own URL names the password file, which only its user reads.
my ($passfile) = $pg->url =~ /[?&]passfile=([^&]+)/;
ok($passfile, 'the stack connects with a password file') or diag($pg->url);
SKIP: {
	skip 'no password file', 3 if !$passfile;
	$passfile =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
	my @st = stat $passfile;
	is(sprintf('%04o', $st[2] & 07777), '0600', 'the password file is 0600');
	($code, $out, $err) = as_other('psql', '-X', '-w', '-At', '-d',
	    $pg->url, '-c', 'SELECT 1');
	isnt($code, 0, "$user cannot use it") or diag($out);
	like(FLR::Pg::slurp("$pg->{pgdata}/pg_hba.conf"),
	    qr/^\s*host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256\s*$/m,
	    'loopback connections need a password');
}
unlike(FLR::Pg::slurp("$pg->{pgdata}/pg_hba.conf"), qr/^\s*[^#\s].*\btrust\s*$/m,
    'pg_hba.conf trusts nobody');

done_testing();
