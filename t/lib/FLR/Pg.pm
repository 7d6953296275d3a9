package FLR::Pg;

# A private, throwaway PostgreSQL cluster for the tests and for `make run`:
# initdb into a directory of our own, listen on a Unix socket in that
# directory and on a free loopback port, create database "flr" and apply
# schema/.  Nothing here touches a server the machine already runs.
#
# The cluster is private: every connection, local or over loopback, needs
# the superuser's password (scram-sha-256), which initdb sets from 32
# random bytes.  It is kept in "$dir/pgpass" (a libpq password file, mode
# 0600, owned by whoever runs this), and url() names that file, so every
# libpq client the stack starts (psql, schema/migrate, flr-sync, the
# workers) logs in with it and no other local user can.
#
#   my $pg = FLR::Pg->new;                 # temp dir, removed at exit
#   my $pg = FLR::Pg->new(dir => $d, keep => 1);   # reused between runs
#   $pg->url; $pg->psql('SELECT :\'p1\'::int + 1', 41);
#
# initdb and postgres refuse to run as root, so as root every server-side
# program runs through `runuser -u postgres --` on a directory that user
# owns.  The module also holds the small process helpers (run, find_bin)
# that FLR::Stack and t/bin/flr-stack share.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(ESRCH);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken refaddr);
use Time::HiRes qw(sleep time);

# The repository root, from this file's own place (t/lib/FLR/Pg.pm).
our $REPO = abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)),
    File::Spec->updir, File::Spec->updir, File::Spec->updir));

# Live clusters, so that END can stop them even when a test dies before
# the objects go out of scope (global destruction order is undefined).
my %LIVE;

# Our own environment variables and libpq's PG* ones are dropped from
# every child's environment: a developer's shell must not steer a test.
sub clean_env {
	my (%set) = @_;
	my %env = %ENV;
	delete @env{grep { /^(?:PG|FLR_|OPENROUTER_)/ } keys %env};
	delete @env{qw(DATABASE_URL DATABASE_READ_URL ADMIN_SECRET)};
	# Server and client messages in one language, so logs and test
	# expectations do not depend on the machine's locale.
	$env{LC_ALL} = 'C';
	while (my ($k, $v) = each %set) {
		if (defined $v) { $env{$k} = $v } else { delete $env{$k} }
	}
	return \%env;
}

# run(\@argv, stdin => $text, env => \%env, cwd => $dir, timeout => $s,
#     as_postgres => 1) -> ($exit_code, $stdout, $stderr)
#
# Runs a program without a shell.  Input and output go through temporary
# files, so a big output can never deadlock us.  exit_code is the
# program's status, 128 + signal if it was killed, 127 if it could not be
# started.  A program that outlives its timeout is killed.
sub run {
	my ($argv, %o) = @_;
	my @cmd = @$argv;
	unshift @cmd, qw(runuser -u postgres --) if $o{as_postgres} && $> == 0;
	my $in = File::Temp->new;
	print {$in} $o{stdin} // '';
	close $in or croak "write $in: $!";
	my $out = File::Temp->new;
	my $err = File::Temp->new;

	my $pid = fork // croak "fork: $!";
	if (!$pid) {
		# Only exec or _exit from here: no END blocks, no destructors.
		eval {
			open STDIN, '<', "$in" or die "stdin: $!\n";
			open STDOUT, '>', "$out" or die "stdout: $!\n";
			open STDERR, '>', "$err" or die "stderr: $!\n";
			chdir($o{cwd}) or die "chdir $o{cwd}: $!\n" if defined $o{cwd};
			%ENV = %{$o{env}} if $o{env};
			exec { $cmd[0] } @cmd or die "cannot run $cmd[0]: $!\n";
		};
		print STDERR $@;
		POSIX::_exit(127);
	}

	my $deadline = time + ($o{timeout} // 300);
	my $status;
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) { $status = $?; last }
		if ($r < 0) { $status = -1; last }
		if (time > $deadline) {
			kill 'KILL', $pid;
			waitpid($pid, 0);
			$status = $?;
			last;
		}
		sleep 0.02;
	}
	my $code = $status < 0 ? 127
	    : $status & 127 ? 128 + ($status & 127) : $status >> 8;
	return ($code, slurp("$out"), slurp("$err"));
}

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	my $s = <$fh>;
	return $s // '';
}

# find_bin($name, @extra_dirs) -> absolute path or undef: the extra
# directories first, then PATH, then the sbin directories a normal
# user's PATH often lacks.
sub find_bin {
	my ($name, @dirs) = @_;
	for my $d (@dirs, File::Spec->path, qw(/usr/sbin /sbin /usr/bin)) {
		my $p = "$d/$name";
		return $p if -f $p && -x _;
	}
	return undef;
}

# The server programs: the newest Debian-style
# /usr/lib/postgresql/<version>/bin, else whatever PATH offers.
sub pg_bin {
	my ($name) = @_;
	my @dirs = sort { vcmp($b, $a) } grep { -x "$_/initdb" }
	    glob('/usr/lib/postgresql/*/bin');
	return find_bin($name, @dirs)
	    // croak "FLR::Pg: $name not found (install the postgresql package)";
}

sub vcmp {
	my ($x, $y) = map { [ $_ =~ m{/(\d+(?:\.\d+)*)/bin$} ? split /\./, $1 : 0 ] } @_;
	for my $i (0 .. 2) {
		my $c = ($x->[$i] // 0) <=> ($y->[$i] // 0);
		return $c if $c;
	}
	return 0;
}

# A TCP port on 127.0.0.1 that nobody listens on right now.  Another
# process may take it before we use it; callers that can retry do.
sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "free_port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

# FLR::Pg->new(dir => $dir, keep => 0|1, port => $port, migrate => 1,
#     settings => { name => 'value' })
#
# dir:  where the cluster lives ("$dir/pgdata", socket and pg.log in $dir);
#       default a fresh temporary directory.
# keep: leave the directory (and an existing cluster in it) alone at exit:
#       reused by the next run instead of a new initdb.  Kept clusters are
#       also crash-safe (fsync stays on).
# settings: more server settings, in effect from the first start on
#       (shared_preload_libraries => 'pg_stat_statements'); values are
#       written as quoted strings.
# Dies with the server log on failure.
sub new {
	my ($class, %o) = @_;
	my $self = bless {
		keep => $o{keep} ? 1 : 0,
		owner => $$,
		port => $o{port},
		migrate => $o{migrate} // 1,
		settings => { %{$o{settings} // {}} },
	}, $class;
	if (defined $o{dir}) {
		make_path($o{dir});
		$self->{dir} = abs_path($o{dir});
	} else {
		$self->{dir} = tempdir('flr-pg-XXXXXXXX', TMPDIR => 1, CLEANUP => 0);
		$self->{remove_dir} = !$self->{keep};
	}
	$self->{pgdata} = "$self->{dir}/pgdata";
	$LIVE{refaddr $self} = $self;
	weaken $LIVE{refaddr $self};
	install_signal_handlers();

	$self->{passfile} = "$self->{dir}/pgpass";
	$self->prepare_dir;
	$self->initdb unless -e "$self->{pgdata}/PG_VERSION";
	$self->stop_stale if $self->{keep};
	$self->start_first;
	$self->require_password;
	$self->create_database;
	$self->migrate if $self->{migrate};
	return $self;
}

# As root, hand the directory to the postgres user and prove that user can
# actually get there (every parent directory must be searchable by it).
sub prepare_dir {
	my ($self) = @_;
	my $dir = $self->{dir};
	my $sock = "$dir/.s.PGSQL.65535";
	croak "FLR::Pg: $dir is too deep for a Unix socket path "
	    . "(limit about 100 bytes); use a shorter dir" if length $sock > 100;
	croak "FLR::Pg: dir may not contain quotes or backslashes: $dir"
	    if $dir =~ /['"\\\n]/;
	# The server's socket is in here: nobody else needs to get in.
	chmod 0700, $dir or croak "chmod $dir: $!";
	return if $> != 0;

	my (undef, undef, $uid, $gid) = getpwnam('postgres')
	    or croak 'FLR::Pg: running as root needs a "postgres" user '
	    . '(apt-get install postgresql)';
	for my $p ($dir, grep { -e } $self->{pgdata}) {
		chown $uid, $gid, $p or croak "chown $p: $!";
	}
	my ($code) = run([ 'test', '-w', $dir, '-a', '-x', $dir ],
	    as_postgres => 1, cwd => '/');
	croak "FLR::Pg: the postgres user cannot reach $dir: make every parent "
	    . "directory searchable (chmod o+x) or use a directory under /tmp"
	    if $code;
}

# 32 random bytes in hex: nothing a password file, a URI or SQL would
# need to escape.
sub new_password {
	open my $fh, '<:raw', '/dev/urandom' or croak "/dev/urandom: $!";
	read($fh, my $bytes, 32) == 32 or croak '/dev/urandom: short read';
	return unpack('H*', $bytes);
}

# The libpq password file: any host, port and database of this cluster,
# as its superuser flr.  Private from its first byte (umask 077).
sub write_passfile {
	my ($self, $password) = @_;
	my $path = $self->{passfile};
	my $umask = umask 077;
	my $opened = open my $fh, '>', $path;
	umask $umask;
	croak "open $path: $!" if !$opened;
	chmod 0600, $path;
	print {$fh} "*:*:*:flr:$password\n";
	close $fh or croak "write $path: $!";
}

sub initdb {
	my ($self) = @_;
	# initdb reads the password from a file: one only the server's user
	# can read, gone as soon as initdb is done.
	my $password = new_password();
	my $pwfile = "$self->{dir}/initdb-password";
	my $umask = umask 077;
	my $opened = open my $fh, '>', $pwfile;
	umask $umask;
	croak "open $pwfile: $!" if !$opened;
	print {$fh} "$password\n";
	close $fh or croak "write $pwfile: $!";
	if ($> == 0) {
		my (undef, undef, $uid, $gid) = getpwnam('postgres');
		chown $uid, $gid, $pwfile or croak "chown $pwfile: $!";
	}
	my $ok = eval {
		$self->must('initdb', [ pg_bin('initdb'), '-D', $self->{pgdata},
		    '-U', 'flr', '--auth-local=scram-sha-256',
		    '--auth-host=scram-sha-256', "--pwfile=$pwfile", '-E', 'UTF8',
		    '--locale=C', '--no-sync' ]);
		1;
	};
	my $why = $@;
	unlink $pwfile;
	croak $why if !$ok;
	$self->write_passfile($password);
	# Settings that do not change between starts.  port and the socket
	# directory go in flr-runtime.conf, rewritten at every start.
	my @conf = (
	    '', '# Added by t/lib/FLR/Pg.pm',
	    "listen_addresses = '127.0.0.1'",
	    'max_connections = 100',
	    'shared_buffers = 128MB',
	    "include_if_exists = 'flr-runtime.conf'",
	);
	# A throwaway cluster does not need to survive a power cut.
	push @conf, 'fsync = off', 'full_page_writes = off' if !$self->{keep};
	$self->append_file("$self->{pgdata}/postgresql.conf", @conf);
}

sub append_file {
	my ($self, $path, @lines) = @_;
	open my $fh, '>>', $path or croak "open $path: $!";
	print {$fh} map { "$_\n" } @lines;
	close $fh or croak "write $path: $!";
}

sub write_runtime_conf {
	my ($self) = @_;
	my $path = "$self->{pgdata}/flr-runtime.conf";
	open my $fh, '>', $path or croak "open $path: $!";
	print {$fh} "# Rewritten by t/lib/FLR/Pg.pm at every start.\n",
	    "port = $self->{port}\n",
	    "unix_socket_directories = '$self->{dir}'\n";
	for my $name (sort keys %{$self->{settings}}) {
		croak "FLR::Pg: setting name '$name'" if $name !~ /^[a-z_.]+$/;
		(my $v = $self->{settings}{$name}) =~ s/'/''/g;
		print {$fh} "$name = '$v'\n";
	}
	close $fh or croak "write $path: $!";
	if ($> == 0) {
		my (undef, undef, $uid, $gid) = getpwnam('postgres');
		chown $uid, $gid, $path;
	}
}

# A kept cluster may still be running if the last `make run` was killed
# hard; it is ours (same data directory), so stop it before starting.
sub stop_stale {
	my ($self) = @_;
	my ($code) = $self->pg_ctl('status');
	return if $code != 0;
	warn "FLR::Pg: stopping a server left running in $self->{pgdata}\n";
	$self->pg_ctl_must('stop', '-m', 'fast');
}

# The first start picks a free port; if another process grabs it in the
# meantime, try again with another one.
sub start_first {
	my ($self) = @_;
	my $fixed = defined $self->{port};
	for my $try (1 .. 3) {
		$self->{port} = free_port() if !$fixed;
		$self->write_runtime_conf;
		my ($code, $out, $err) = $self->pg_ctl('start', '-l',
		    "$self->{dir}/pg.log");
		if ($code == 0) { $self->{running} = 1; return }
		my $log = $self->log_tail;
		next if !$fixed && $try < 3 && $log =~ /could not bind|in use/i;
		croak "FLR::Pg: pg_ctl start failed: $out$err\n--- pg.log:\n$log";
	}
}

# pg_ctl(@args) -> (code, stdout, stderr)
sub pg_ctl {
	my ($self, $cmd, @args) = @_;
	return run([ pg_bin('pg_ctl'), $cmd, '-D', $self->{pgdata}, '-w',
	    '-t', '60', @args ], as_postgres => 1, cwd => '/',
	    env => clean_env(), timeout => 90);
}

sub pg_ctl_must {
	my ($self, @args) = @_;
	my ($code, $out, $err) = $self->pg_ctl(@args);
	croak "FLR::Pg: pg_ctl @args failed: $out$err" if $code;
}

sub must {
	my ($self, $what, $argv) = @_;
	my ($code, $out, $err) = run($argv, as_postgres => 1, cwd => '/',
	    env => clean_env(), timeout => 120);
	croak "FLR::Pg: $what failed ($code): $out$err" if $code;
	return $out;
}

sub log_tail {
	my ($self) = @_;
	my @l = split /\n/, slurp("$self->{dir}/pg.log");
	splice @l, 0, @l - 30 if @l > 30;
	return join "\n", @l;
}

# A cluster kept from before it had a password (its pg_hba.conf trusts
# every connection) gets one now: set while trust still lets us in, then
# pg_hba.conf asks for it and the server reloads.  A cluster that has a
# password but lost its password file cannot be entered: say so.
sub require_password {
	my ($self) = @_;
	my $hba = "$self->{pgdata}/pg_hba.conf";
	my $text = slurp($hba);
	if ($text !~ /^\s*(?:local|host)\S*\s.*\btrust\s*$/m) {
		croak "FLR::Pg: $self->{passfile} is missing, so the password of "
		    . "the cluster in $self->{dir} is lost; remove that directory "
		    . 'to start over' if !-e $self->{passfile};
		return;
	}
	my $password = new_password();
	my $trusted = "postgresql://flr\@127.0.0.1:$self->{port}/postgres";
	psql_url($trusted, q{ALTER ROLE flr PASSWORD :'pw'}, { pw => $password });
	$self->write_passfile($password);
	$text =~ s/^(\s*(?:local|host)\S*\s.*?)\btrust(\s*)$/$1scram-sha-256$2/mg;
	open my $fh, '>', $hba or croak "open $hba: $!";
	print {$fh} $text;
	close $fh or croak "write $hba: $!";
	$self->pg_ctl_must('reload');
	warn "FLR::Pg: the cluster in $self->{dir} now needs a password "
	    . "(in $self->{passfile})\n";
}

sub create_database {
	my ($self) = @_;
	my $admin = $self->url_for('postgres');
	my $have = psql_url($admin,
	    "SELECT 1 FROM pg_database WHERE datname = 'flr'");
	psql_url($admin, 'CREATE DATABASE flr') if $have ne '1';
}

# $pg->migrate -> stdout of schema/migrate (dies on failure)
sub migrate {
	my ($self) = @_;
	return migrate_url($self->url);
}

# FLR::Pg::migrate_url($url, env => \%env) -> stdout of `schema/migrate
# schema`, run from the repository root against $url; dies with its stderr
# on failure.  env replaces the cleaned environment (a database of the
# user's own may need PGPASSWORD and friends).
sub migrate_url {
	my ($url, %o) = @_;
	my $env = $o{env} ? { %{$o{env}}, DATABASE_URL => $url }
	    : clean_env(DATABASE_URL => $url);
	my ($code, $out, $err) = run([ "$REPO/schema/migrate", 'schema' ],
	    cwd => $REPO, env => $env);
	croak "schema/migrate failed ($code): $err$out" if $code;
	return $out;
}

sub dir { $_[0]{dir} }
sub pgdata { $_[0]{pgdata} }
sub port { $_[0]{port} }
sub log_path { "$_[0]{dir}/pg.log" }
sub running { $_[0]{running} }

sub uri_escape {
	(my $s = $_[0]) =~ s{([^A-Za-z0-9/._~-])}{sprintf '%%%02X', ord $1}ge;
	return $s;
}

# A libpq URI over TCP that names the password file: every client the
# stack starts (psql, libpq, the workers) can use it, as the user who
# made the cluster (the file is that user's, mode 0600).
sub url {
	my ($self) = @_;
	return $self->url_for('flr');
}

sub url_for {
	my ($self, $db) = @_;
	return "postgresql://flr\@127.0.0.1:$self->{port}/$db?passfile="
	    . uri_escape($self->{passfile});
}

sub socket_url {
	my ($self) = @_;
	return "postgresql:///flr?host=" . uri_escape($self->{dir})
	    . "&port=$self->{port}&user=flr&passfile="
	    . uri_escape($self->{passfile});
}

sub passfile { $_[0]{passfile} }

# The postmaster's pid, from its own pid file (undef when not running).
sub pid {
	my ($self) = @_;
	open my $fh, '<', "$self->{pgdata}/postmaster.pid" or return undef;
	my $pid = <$fh>;
	return defined $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}

# $pg->psql($sql, @bind) -> stdout, chomped (unaligned, tuples only, '|'
# between columns).  @bind are strings available in the SQL as psql
# variables :'p1', :'p2', ... (quoted literals; :p1 unquoted), or, with
# one hash ref, by name: psql('... :\'email\'', { email => $e }).
# Dies with psql's stderr on any error.
sub psql {
	my ($self, $sql, @bind) = @_;
	return psql_url($self->url, $sql, @bind);
}

# Long enough for any test; the benchmark's bulk load raises it.
our $PSQL_TIMEOUT = 120;

sub psql_url {
	my ($url, $sql, @bind) = @_;
	my %vars = @bind == 1 && ref $bind[0] eq 'HASH' ? %{$bind[0]}
	    : map { ('p' . ($_ + 1) => $bind[$_]) } 0 .. $#bind;
	my @v;
	for my $k (sort keys %vars) {
		croak "psql: variable name '$k'" if $k !~ /^[A-Za-z_][A-Za-z0-9_]*$/;
		croak "psql: undef value for :$k (write NULL in the SQL)"
		    if !defined $vars{$k};
		push @v, '-v', "$k=$vars{$k}";
	}
	# The SQL goes in on stdin, where psql expands the variables; it is
	# never part of a command line.
	my ($code, $out, $err) = run([ 'psql', '-X', '-q', '-At', '-v',
	    'ON_ERROR_STOP=1', @v, '-d', $url ], stdin => $sql,
	    env => clean_env(), timeout => $PSQL_TIMEOUT);
	croak "psql failed ($code): $err" if $code;
	chomp $out;
	return $out;
}

# psql_session($url) -> a pipe to a psql session kept open (autoflushed):
# print SQL to it, e.g. to hold a lock while requests wait on it; close
# it to end the session.
sub psql_session {
	my ($url) = @_;
	local %ENV = %{ clean_env() };
	open(my $h, '|-', 'psql', '-X', '-q', '-At', '-o', '/dev/null', '-v',
	    'ON_ERROR_STOP=1', '-d', $url) or croak "psql: $!";
	select((select($h), $| = 1)[0]);
	return $h;
}

# Stops the server (fast: sessions are cut, nothing is lost).  The data
# directory and the port stay, so start() brings back the same server.
# $pg->stop(mode => 'immediate') is a crash instead: every process quits
# at once, with no shutdown checkpoint, and the next start recovers from
# the WAL.
sub stop {
	my ($self, %o) = @_;
	return if !$self->{running};
	$self->pg_ctl_must('stop', '-m', $o{mode} // 'fast');
	$self->{running} = 0;
}

sub start {
	my ($self) = @_;
	return if $self->{running};
	$self->write_runtime_conf;
	my ($code, $out, $err) = $self->pg_ctl('start', '-l', "$self->{dir}/pg.log");
	croak "FLR::Pg: restart on port $self->{port} failed: $out$err\n"
	    . $self->log_tail if $code;
	$self->{running} = 1;
}

# $pg->replica -> a started FLR::Pg that is a streaming replica of $pg
# (a hot standby), in a temporary directory of its own on a port of its
# own, removed at exit.  Made with `pg_basebackup -R`, which copies the
# cluster and writes primary_conninfo (with a password file beside it,
# the same password); the primary needs wal_level replica or logical
# and a free WAL sender (PostgreSQL's defaults) and a "replication" line
# in pg_hba.conf for 127.0.0.1 (initdb writes one).  stop and start work
# as on any cluster; pause_replay and resume_replay simulate lag, and
# wait_replayed waits until it has replayed all the primary wrote.
sub replica {
	my ($self) = @_;
	my $wal = psql_url($self->url, 'SHOW wal_level');
	croak "FLR::Pg: wal_level $wal allows no replica" if $wal eq 'minimal';
	my $r = bless { keep => 0, owner => $$, migrate => 0,
	    settings => { %{$self->{settings}} }, primary => $self,
	    dir => tempdir('flr-pgr-XXXXXXXX', TMPDIR => 1, CLEANUP => 0),
	    remove_dir => 1 }, ref $self;
	$r->{pgdata} = "$r->{dir}/pgdata";
	$r->{passfile} = "$r->{dir}/pgpass";
	$LIVE{refaddr $r} = $r;
	weaken $LIVE{refaddr $r};
	$r->prepare_dir;
	my ($line) = split /\n/, slurp($self->{passfile});
	$r->write_passfile((split /:/, $line, 5)[4]);
	# The standby's server reads it too, for primary_conninfo.
	if ($> == 0) {
		my (undef, undef, $uid, $gid) = getpwnam('postgres');
		chown $uid, $gid, $r->{passfile} or croak "chown: $!";
	}
	$r->must('pg_basebackup', [ pg_bin('pg_basebackup'), '-D', $r->{pgdata},
	    '-R', '-X', 'stream', '-c', 'fast', '--no-sync', '-d',
	    "host=127.0.0.1 port=$self->{port} user=flr "
	    . "passfile=$r->{passfile} application_name=flr-replica" ]);
	$r->start_first;
	$r->wait_replayed;
	return $r;
}

sub primary { $_[0]{primary} }

# Replay on a replica: paused, the standby keeps receiving WAL but its
# data stays as it was; resumed, it catches up.
sub pause_replay {
	my ($self) = @_;
	$self->psql('SELECT pg_wal_replay_pause()');
}

sub resume_replay {
	my ($self) = @_;
	$self->psql('SELECT pg_wal_replay_resume()');
}

# Wait (up to $timeout seconds, 30) until this replica has replayed
# everything its primary has written so far; dies otherwise.
sub wait_replayed {
	my ($self, $timeout) = @_;
	my $want = psql_url($self->{primary}->url, 'SELECT pg_current_wal_lsn()');
	my $deadline = time + ($timeout // 30);
	while (1) {
		my $done = eval { $self->psql(q{SELECT pg_last_wal_replay_lsn() >= }
		    . q{:'p1'::pg_lsn AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver)},
		    $want) } // '';
		return if $done eq 't';
		croak "FLR::Pg: the replica did not replay up to $want:\n"
		    . $self->log_tail if time > $deadline;
		sleep 0.05;
	}
}

# Stop the server and remove a temporary directory, once, and only in the
# process that created them: a forked child exiting must not take the
# parent's database down.
sub cleanup {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{cleaned}++;
	local ($?, $!, $@);
	delete $LIVE{refaddr $self};
	if ($self->{running}) {
		# A kept cluster shuts down cleanly; a throwaway one just dies.
		eval { $self->pg_ctl('stop', '-m',
		    $self->{keep} ? 'fast' : 'immediate') };
		$self->{running} = 0;
	}
	remove_tree($self->{dir}) if $self->{remove_dir};
}

sub DESTROY { $_[0]->cleanup }

END {
	local $?;
	$_->cleanup for grep { defined } values %LIVE;
}

# Ctrl-C or a kill of a test would skip END; turn them into an exit so the
# servers stop.  A handler the program set itself is left alone.
sub install_signal_handlers {
	for my $sig (qw(INT TERM HUP)) {
		my $h = $SIG{$sig};
		next if defined $h && ref $h;
		next if defined $h && $h ne '' && $h ne 'DEFAULT';
		$SIG{$sig} = sub { exit 128 + ($sig eq 'INT' ? 2 : $sig eq 'HUP' ? 1 : 15) };
	}
}

1;
