package FLR::Stack;

# The whole service on loopback, for end-to-end tests and `make run`:
# a private PostgreSQL (FLR::Pg), two pools of workers under spawn-fcgi
# and multiwatch (flr-api, and flr-router for the chat route), and nginx
# in front, configured from nginx/local.conf.in.
#
#   my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $x });
#   my $key = $s->create_key(email => 'a@example.com');
#   my ($res, $json) = $s->get_json('/api/v1/models/ids',
#       { Authorization => "Bearer $key" });
#
# Every process is started in its own process group and stopped by that
# group, so a stop takes down exactly what was started (nginx workers,
# multiwatch children) and nothing else.

use strict;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Digest::SHA qw(sha256);
use Errno qw(ESRCH);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Socket::UNIX;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken refaddr);
use Time::HiRes qw(sleep time);

use FLR::Pg;
use FLR::Nginx;

my %LIVE;

# FLR::Stack->new(%options) -> started stack (dies with the relevant log
# when a part does not come up)
#
#   workers      number of flr-api processes (2)
#   router_workers number of flr-router processes (2)
#   env          extra environment for the workers (undef value: unset)
#   pg           an FLR::Pg to use (left running at the end)
#   database_url use this database instead (no FLR::Pg; the caller has
#                applied the migrations)
#   port         nginx's port on 127.0.0.1 (a free one)
#   admin_rate   nginx's limit on the admin routes per client address
#                (production's, 2r/s with a burst of 20; a test that
#                drives them hard passes e.g. '1000r/s')
#   demo_rate    the same for /api/demo/models (5r/s with a burst of 30)
#   dir          run directory: socket, logs, nginx files (a temp dir,
#                removed at the end); keep => 1 leaves it in place
#   pools        2: two flr-api pools over TCP, on 127.0.0.1 and
#                127.0.0.2 (ports of their own, each its log and metrics
#                segment), both servers of nginx's upstream flr_api; the
#                second pool's counters at /metrics/pool2.  1 (the
#                default): one pool on its Unix socket.
sub new {
	my ($class, %o) = @_;
	my $build = $ENV{FLR_BUILD} // 'build';
	$build = "$FLR::Pg::REPO/$build" if $build !~ m{^/};
	my $self = bless {
		owner => $$,
		workers => $o{workers} // 2,
		router_workers => $o{router_workers} // 2,
		env => { %{$o{env} // {}} },
		build => $build,
		api => "$build/flr-api",
		router => "$build/flr-router",
		sync => "$build/flr-sync",
		keep => $o{keep} ? 1 : 0,
		want_port => $o{port},
		admin_rate => $o{admin_rate},
		demo_rate => $o{demo_rate},
		pools => $o{pools} // 1,
		http => HTTP::Tiny->new(timeout => 15, agent => 'flr-tests/1'),
	}, $class;
	for my $prog (@$self{qw(api router)}) {
		croak "FLR::Stack: $prog is not built (make $prog)" if !-x $prog;
	}

	$self->make_dir($o{dir});
	$LIVE{refaddr $self} = $self;
	weaken $LIVE{refaddr $self};
	FLR::Pg::install_signal_handlers();

	if ($o{pg}) {
		$self->{pg} = $o{pg};
	} elsif (defined $o{database_url}) {
		$self->{database_url} = $o{database_url};
	} else {
		$self->{pg} = FLR::Pg->new(dir => "$self->{dir}/pg");
		$self->{own_pg} = 1;
	}
	$self->start_workers;
	$self->start_nginx;
	return $self;
}

# The run directory must be searchable by nobody when root starts nginx
# (its workers open the socket and temp files there), hence 0755.
sub make_dir {
	my ($self, $dir) = @_;
	if (defined $dir) {
		make_path($dir);
		$self->{dir} = abs_path($dir);
	} else {
		$self->{dir} = tempdir('flr-stack-XXXXXXXX', TMPDIR => 1,
		    CLEANUP => 0);
		$self->{remove_dir} = !$self->{keep};
	}
	chmod 0755, $self->{dir} or croak "chmod $self->{dir}: $!";
	$self->{socket} = "$self->{dir}/api.sock";
	$self->{router_socket} = "$self->{dir}/router.sock";
	# Two pools listen on TCP, each on its own loopback address, on
	# ports kept for the stack's life (nginx names them).
	if ($self->{pools} == 2) {
		$self->{socket} = '127.0.0.1:' . FLR::Pg::free_port();
		$self->{socket2} = '127.0.0.2:' . free_port_on('127.0.0.2');
	}
	croak "FLR::Stack: socket path too long for a Unix socket: "
	    . $self->{router_socket} if length $self->{router_socket} > 100;
}

# A TCP port on $addr that nobody listens on right now.
sub free_port_on {
	my ($addr) = @_;
	my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "free_port_on $addr: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

sub dir { $_[0]{dir} }
sub pg { $_[0]{pg} }
sub port { $_[0]{port} }
sub socket_path { $_[0]{socket} }
sub router_socket_path { $_[0]{router_socket} }
sub api_log_path { "$_[0]{dir}/api.log" }
# With pools => 2: the second pool's address, log and segment.
sub pool2_address { $_[0]{socket2} }
sub api2_log_path { "$_[0]{dir}/api2.log" }
sub api2_log { FLR::Pg::slurp("$_[0]{dir}/api2.log") }
sub metrics2_path { "$_[0]{dir}/metrics2" }
# The workers' shared metrics segment (FLR_METRICS_FILE).
sub metrics_path { "$_[0]{dir}/metrics" }
sub router_metrics_path { "$_[0]{dir}/router-metrics" }
sub api_log { FLR::Pg::slurp("$_[0]{dir}/api.log") }
sub router_log_path { "$_[0]{dir}/router.log" }
sub router_log { FLR::Pg::slurp("$_[0]{dir}/router.log") }
sub nginx_error_log { FLR::Pg::slurp("$_[0]{dir}/nginx-error.log") }
sub database_url { $_[0]{pg} ? $_[0]{pg}->url : $_[0]{database_url} }
sub base_url { "http://127.0.0.1:$_[0]{port}" }
sub url { $_[0]->base_url . $_[1] }

# Process ids of what is running now: { api => pid of spawn-fcgi (which
# became multiwatch; the leader of the workers' group), router => the
# same for flr-router, nginx => master }.
sub pids {
	my ($self) = @_;
	return { map { defined $self->{"${_}_pid"} ? ($_ => $self->{"${_}_pid"}) : () }
	    qw(api api2 router nginx) };
}

# Parts that have exited on their own since they were started: a list of
# 'api', 'router' and 'nginx' (empty while all is well).
sub dead {
	my ($self) = @_;
	return grep { $self->{"${_}_pid"} && !alive($self->{"${_}_pid"}) }
	    qw(api api2 router nginx);
}

# The process ids of the flr-router workers now running (multiwatch's
# children), for tests that kill one.
sub router_worker_pids {
	my ($self) = @_;
	my $mw = $self->{router_pid} or return ();
	my $kids = FLR::Pg::slurp("/proc/$mw/task/$mw/children") // '';
	return grep { /^\d+$/ } split ' ', $kids;
}

# The same for the flr-api workers.
sub api_worker_pids {
	my ($self) = @_;
	my $mw = $self->{api_pid} or return ();
	my $kids = FLR::Pg::slurp("/proc/$mw/task/$mw/children") // '';
	return grep { /^\d+$/ } split ' ', $kids;
}

# fork + exec in a new process group, stdout and stderr appended to $log.
sub spawn {
	my ($self, $argv, $env, $log) = @_;
	my $pid = fork // croak "fork: $!";
	return $pid if $pid;
	eval {
		POSIX::setpgid(0, 0) or die "setpgid: $!\n";
		open STDIN, '<', '/dev/null' or die "stdin: $!\n";
		open STDOUT, '>>', $log or die "open $log: $!\n";
		open STDERR, '>&', \*STDOUT or die "dup: $!\n";
		chdir $self->{dir} or die "chdir: $!\n";
		%ENV = %$env;
		exec { $argv->[0] } @$argv or die "cannot run $argv->[0]: $!\n";
	};
	print STDERR $@;
	POSIX::_exit(127);
}

# Stops a process group we started: TERM, a grace period, then KILL, and
# waits until no member is left (nginx and multiwatch children included).
sub stop_group {
	my ($self, $pid, $grace) = @_;
	return if !$pid;
	kill 'TERM', -$pid;
	my $deadline = time + ($grace // 5);
	my $reaped;
	while (time < $deadline) {
		$reaped ||= waitpid($pid, WNOHANG) != 0;
		last if $reaped && !kill(0, -$pid);
		sleep 0.02;
	}
	kill 'KILL', -$pid;
	waitpid($pid, 0) if !$reaped;
	# Orphaned members are reaped by init; wait until they are gone.
	$deadline = time + 5;
	sleep 0.02 while kill(0, -$pid) && time < $deadline;
}

sub alive {
	my ($pid) = @_;
	return $pid && waitpid($pid, WNOHANG) == 0;
}

sub log_tail {
	my ($path, $n) = @_;
	my @l = split /\n/, FLR::Pg::slurp($path);
	splice @l, 0, @l - ($n // 30) if @l > ($n // 30);
	return join "\n", @l;
}

# $s->set_env(NAME => value, ...): changes the workers' environment from
# the next start_workers on (undef unsets a variable).
sub set_env {
	my ($self, %set) = @_;
	@{$self->{env}}{keys %set} = values %set;
}

sub worker_env {
	my ($self) = @_;
	return FLR::Pg::clean_env(DATABASE_URL => $self->database_url,
	    FLR_LOG_LEVEL => 'info',
	    FLR_METRICS_FILE => $self->metrics_path,
	    FLR_ROUTER_METRICS_FILE => $self->router_metrics_path, %{$self->{env}});
}

# multiwatch gives up on a slot whose worker died more than -r times,
# each within -t ms of its start (3 and 10000 by default), and carries on
# with a smaller pool; at its largest, -r never lets that happen.  The
# same setting as systemd/flr-api.service.
our @MULTIWATCH_RETRY = ('-r', '2147483647');

# spawn-fcgi's options for the socket's owner, group and mode: only the
# stack's user and nginx's workers may connect.  Started by root, nginx's
# workers are FLR::Nginx's user and group, and the socket is 0660 for
# that group; started by anyone else, they are that user, and it is 0600.
sub socket_access {
	return ('-M', '0600') if $> != 0;
	return ('-G', $FLR::Nginx::WORKER_GROUP, '-M', '0660');
}

# Starts both pools: spawn-fcgi -> multiwatch -> flr-api x N, and the
# same for flr-router, each on its Unix socket.  The settings are checked
# first (flr-sync --check-config, as the units do): a worker that exits
# at start-up would only be started again and again.
sub start_workers {
	my ($self) = @_;
	if (-x $self->{sync} && !($self->{api_pid} && $self->{router_pid})) {
		my ($code, $out, $err) = FLR::Pg::run([ $self->{sync},
		    '--check-config' ], env => $self->worker_env,
		    cwd => $self->{dir}, timeout => 30);
		croak "FLR::Stack: the workers' settings are refused: $out$err"
		    if $code;
	}
	$self->{api_pid} //= $self->start_pool($self->{socket},
	    $self->{workers}, $self->{api}, $self->api_log_path);
	$self->start_pool2 if $self->{socket2};
	$self->{router_pid} //= $self->start_pool($self->{router_socket},
	    $self->{router_workers}, $self->{router}, $self->router_log_path);
}

# With pools => 2, the second flr-api pool (again, after stop_pool2).
sub start_pool2 {
	my ($self) = @_;
	$self->{api2_pid} //= $self->start_pool($self->{socket2},
	    $self->{workers}, $self->{api}, $self->api2_log_path,
	    { FLR_METRICS_FILE => $self->metrics2_path });
}

# Stop the second pool alone: nginx then serves from the first.
sub stop_pool2 {
	my ($self) = @_;
	$self->stop_group(delete $self->{api2_pid});
}

# True when something accepts a connection on $listen: a Unix socket's
# path, or "address:port".
sub listening {
	my ($listen) = @_;
	if ($listen =~ /^(\d+\.\d+\.\d+\.\d+):(\d+)$/) {
		my $c = IO::Socket::INET->new(PeerAddr => $1, PeerPort => $2,
		    Proto => 'tcp', Timeout => 1) or return 0;
		close $c;
		return 1;
	}
	return -S $listen && IO::Socket::UNIX->new(Peer => $listen,
	    Type => SOCK_STREAM);
}

# spawn-fcgi listens before it execs multiwatch, so once the socket exists
# a request waits in the backlog until a worker accepts it.  $sock is a
# Unix socket's path or "address:port" (TCP); %$env is added to the
# workers' environment.  Returns the pid of the pool's process group.
sub start_pool {
	my ($self, $sock, $n, $prog, $log, $env) = @_;
	my @listen = ('-s', $sock, socket_access());
	@listen = ('-a', $1, '-p', $2) if $sock =~ /^([\d.]+):(\d+)$/;
	unlink $sock if -S $sock;
	my $spawn = FLR::Pg::find_bin('spawn-fcgi')
	    // croak 'spawn-fcgi not found (apt-get install spawn-fcgi)';
	my $mw = FLR::Pg::find_bin('multiwatch')
	    // croak 'multiwatch not found (apt-get install multiwatch)';
	my $pid = $self->spawn([ $spawn, '-n', @listen,
	    '--', $mw, '-f', $n, @MULTIWATCH_RETRY, '--', $prog ],
	    { %{$self->worker_env}, %{$env // {}} }, $log);
	my $deadline = time + 10;
	# spawn-fcgi binds the socket, sets its owner and mode, and only
	# then listens: wait for a connection to go through, or nginx could
	# meet a socket that refuses (a 502) in between.
	until (listening($sock)) {
		if (!alive($pid) || time > $deadline) {
			$self->stop_group($pid, 1);
			croak "FLR::Stack: the workers of $prog did not start; "
			    . "$log:\n" . log_tail($log);
		}
		sleep 0.02;
	}
	return $pid;
}

# Workers built with sanitizers report at exit (leaks) or when they
# trip; a report anywhere in the log fails the test file that ran them.
our $SANITIZER_REPORTS = 0;

sub stop_workers {
	my ($self) = @_;
	$self->stop_group(delete $self->{api_pid});
	$self->stop_group(delete $self->{api2_pid});
	$self->stop_group(delete $self->{router_pid});
	unlink grep { -S } $self->{socket}, $self->{router_socket};
	for my $path ($self->api_log_path, $self->api2_log_path,
	    $self->router_log_path) {
		my $log = eval { FLR::Pg::slurp($path) } // '';
		if ($log =~ /(ERROR: (?:Address|Leak)Sanitizer|runtime error:)/) {
			$SANITIZER_REPORTS++;
			print STDERR "# sanitizer report in $path:\n$log";
		}
	}
}

sub start_nginx {
	my ($self) = @_;
	return if $self->{nginx_pid};
	my $fixed = defined $self->{want_port};
	my $err_log = "$self->{dir}/nginx-error.log";
	# Otherwise wait_port could take another server on that port for
	# our nginx.
	if ($fixed) {
		my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => $self->{want_port}, Proto => 'tcp',
		    Listen => 1, ReuseAddr => 1)
		    or croak "FLR::Stack: 127.0.0.1:$self->{want_port} is "
		    . "already in use";
		close $probe;
	}
	for my $try (1 .. 3) {
		my $port = $self->{port} = $self->{want_port}
		    // FLR::Pg::free_port();
		my $conf = FLR::Nginx::write_config(rundir => $self->{dir},
		    listen => "127.0.0.1:$port", socket => $self->{socket},
		    router_socket => $self->{router_socket},
		    admin_rate => $self->{admin_rate},
		    demo_rate => $self->{demo_rate},
		    $self->{socket2} ? (pool2 => $self->{socket2}) : ());
		my $mark = -s $err_log // 0;
		my $pid = $self->spawn([ FLR::Nginx::bin(), '-p', "$self->{dir}/",
		    '-c', $conf, '-e', $err_log ], FLR::Pg::clean_env(), $err_log);
		if (wait_port($port, $pid)) {
			$self->{nginx_pid} = $pid;
			return;
		}
		$self->stop_group($pid, 1);
		my $why = substr(FLR::Pg::slurp($err_log), $mark);
		next if !$fixed && $try < 3 && $why =~ /in use/;
		croak "FLR::Stack: nginx did not start on 127.0.0.1:$port:\n$why";
	}
}

# True once something accepts on 127.0.0.1:$port, false if $pid died or
# 10 s passed.
sub wait_port {
	my ($port, $pid) = @_;
	my $deadline = time + 10;
	while (time < $deadline) {
		return 0 if !alive($pid);
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp', Timeout => 1);
		if ($c) { close $c; return 1 }
		sleep 0.05;
	}
	return 0;
}

sub stop_nginx {
	my ($self) = @_;
	$self->stop_group(delete $self->{nginx_pid});
}

# $s->request($method, $path, { headers => {...}, content => $body })
#   -> HTTP::Tiny response hash (status 599 when no answer at all)
sub request {
	my ($self, $method, $path, $opt) = @_;
	return $self->{http}->request($method, $self->url($path), $opt // {});
}

# $s->get_json($path, \%headers) -> ($response, $decoded_or_undef)
sub get_json {
	my ($self, $path, $headers) = @_;
	my $res = $self->request('GET', $path, { headers => $headers // {} });
	return ($res, decode_body($res));
}

# $s->json_request($method, $path, $data, \%headers)
#   -> ($response, $decoded_or_undef); $data (a reference) is sent as a
#   JSON body with Content-Type application/json; a plain string is sent
#   as it is (for malformed-body tests).
sub json_request {
	my ($self, $method, $path, $data, $headers) = @_;
	my %h = ('Content-Type' => 'application/json', %{$headers // {}});
	my $body = ref $data ? JSON::PP->new->canonical->encode($data) : $data;
	my $res = $self->request($method, $path,
	    { headers => \%h, defined $body ? (content => $body) : () });
	return ($res, decode_body($res));
}

sub decode_body {
	my ($res) = @_;
	return undef if !defined $res->{content} || $res->{content} eq '';
	return eval { JSON::PP->new->utf8->decode($res->{content}) };
}

sub base64url {
	my ($bytes) = @_;
	(my $s = encode_base64($bytes, '')) =~ tr{+/}{-_};
	$s =~ s/=+$//;
	return $s;
}

# The way the service makes keys (SPEC §1): "fma_" and 43 base64url
# characters of 32 random bytes; only base64url(SHA-256(key)) is stored.
sub new_key {
	open my $fh, '<:raw', '/dev/urandom' or croak "/dev/urandom: $!";
	read($fh, my $bytes, 32) == 32 or croak "/dev/urandom: short read";
	my $key = 'fma_' . base64url($bytes);
	return ($key, base64url(sha256($key)));
}

# $s->create_key_full(email => ..., rate_limit_max => 200,
#     window_seconds => 86400, enabled => 1, expires_at => undef,
#     name => 'test')
#   -> { key => plaintext, id => api_keys.id, user_id => users.id,
#        start => first 8 characters, hash => stored hash }
# The user is created, or has its quota settings updated.  expires_at is
# a timestamptz literal ('2020-01-01 00:00Z', 'yesterday', ...).
sub create_key_full {
	my ($self, %o) = @_;
	my ($key, $hash) = new_key();
	my %v = (
		email => $o{email} // 'test@example.com',
		max => $o{rate_limit_max} // 200,
		win => $o{window_seconds} // 86400,
		name => $o{name} // 'test',
		start => substr($key, 0, 8),
		hash => $hash,
		enabled => ($o{enabled} // 1) ? 'true' : 'false',
	);
	# Values only ever travel as psql variables; the SQL text is fixed
	# but for choosing NULL when there is no expiry.
	my $exp = 'NULL';
	if (defined $o{expires_at}) {
		$v{expires} = $o{expires_at};
		$exp = q{:'expires'::timestamptz};
	}
	my $row = $self->psql(<<"SQL", \%v);
INSERT INTO users (email, rate_limit_max, rate_limit_window_seconds)
VALUES (:'email', :'max'::integer, :'win'::integer)
ON CONFLICT (email) DO UPDATE
SET rate_limit_max = EXCLUDED.rate_limit_max,
    rate_limit_window_seconds = EXCLUDED.rate_limit_window_seconds;
INSERT INTO api_keys (user_id, name, key_start, key_hash, enabled, expires_at)
SELECT id, :'name', :'start', :'hash', :'enabled'::boolean, $exp
FROM users WHERE email = :'email'
RETURNING id, user_id;
SQL
	my ($id, $uid) = split /\|/, $row;
	return { key => $key, id => $id, user_id => $uid,
	    start => $v{start}, hash => $hash };
}

# $s->create_key(%same) -> the plaintext key
sub create_key {
	my ($self, %o) = @_;
	return $self->create_key_full(%o)->{key};
}

# SQL against the stack's database; see FLR::Pg::psql.
sub psql {
	my ($self, $sql, @bind) = @_;
	return FLR::Pg::psql_url($self->database_url, $sql, @bind);
}

# $s->run_sync(url => $models_url, env => {...}, timeout => 180)
#   -> ($exit_code, $stdout, $stderr); 127 when flr-sync is not built
sub run_sync {
	my ($self, %o) = @_;
	return (127, '', "flr-sync is not built: $self->{sync}\n")
	    if !-x $self->{sync};
	my $env = FLR::Pg::clean_env(DATABASE_URL => $self->database_url,
	    FLR_LOG_LEVEL => 'info',
	    defined $o{url} ? (OPENROUTER_MODELS_URL => $o{url}) : (),
	    %{$o{env} // {}});
	return FLR::Pg::run([ $self->{sync} ], env => $env,
	    timeout => $o{timeout} // 180, cwd => $self->{dir});
}

# Stops nginx, then the workers, then (if this stack made it) PostgreSQL.
# FLR::Stack::statuses_at_once($clients, $total, sub { ... })
#   -> { status => how many }: $total calls of the sub (each returning an
#   HTTP status), shared out over $clients forked processes that run at
#   once (the first $total % $clients of them make one call more).
sub statuses_at_once {
	my ($clients, $total, $call) = @_;
	my @kids;
	for my $c (0 .. $clients - 1) {
		pipe(my $rd, my $wr) or die "pipe: $!";
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			close $rd;
			my $n = int($total / $clients) + ($c < $total % $clients ? 1 : 0);
			my %count;
			$count{ $call->() }++ for 1 .. $n;
			print {$wr} join(',', map { "$_=$count{$_}" } keys %count), "\n";
			close $wr;
			POSIX::_exit(0);
		}
		close $wr;
		push @kids, [ $pid, $rd ];
	}
	my %status;
	for my $k (@kids) {
		my $line = readline($k->[1]) // '';
		waitpid($k->[0], 0);
		chomp $line;
		for (split /,/, $line) {
			my ($st, $n) = split /=/;
			$status{$st} += $n;
		}
	}
	return \%status;
}

sub stop {
	my ($self) = @_;
	$self->stop_nginx;
	$self->stop_workers;
	$self->{pg}->cleanup if $self->{own_pg} && $self->{pg};
}

# Once, and only in the process that started the stack (a forked test
# child exiting must leave it alone).
sub cleanup {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{cleaned}++;
	local ($?, $!, $@);
	delete $LIVE{refaddr $self};
	eval { $self->stop };
	remove_tree($self->{dir}) if $self->{remove_dir};
}

sub DESTROY { $_[0]->cleanup }

# Runs before FLR::Pg's END (END blocks run in reverse order of
# compilation), so nginx and the workers stop before their database.
END {
	my $status = $?;
	$_->cleanup for grep { defined } values %LIVE;
	$? = $status || ($SANITIZER_REPORTS ? 1 : 0);
}

1;
