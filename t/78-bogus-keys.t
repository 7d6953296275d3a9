# End to end: bogus API keys are cheap.  Every worker remembers, for
# FLR_KEY_NEGATIVE_TTL seconds, the key hashes the database did not have,
# and counts per client address the unknown keys it looked up; past
# FLR_KEY_UNKNOWN_LIMIT of those in FLR_KEY_UNKNOWN_WINDOW seconds, the
# address is refused without a lookup.  The database's own count of the
# key lookups it ran (pg_stat_statements) shows what each costs.
#
# What each bad input gets (W workers, L the limit, from one address):
#
#   no Authorization header                401 missing_auth, no lookup
#   Authorization not "Bearer <token>"     401 invalid_auth_format, no lookup
#   a token not shaped like a key          401 invalid_key, no lookup
#   one well-formed unknown key, again     401 invalid_key; at most one
#     and again                              lookup per worker per TTL
#   distinct well-formed unknown keys      401 invalid_key for the first L
#                                            per worker and window (one
#                                            lookup each), then 429
#                                            too_many_invalid_keys with
#                                            Retry-After, no lookup
#   then a valid key this worker served    200 as ever
#   then a valid key it never served       429 too_many_invalid_keys
#   then a malformed token                 401 invalid_key, no lookup
#   anything from another address          as if nothing had happened
#   a key created while a worker still     401 invalid_key until the TTL
#     remembers it unknown                   has passed, then 200
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my ($W, $TTL, $LIMIT, $WINDOW) = (2, 3, 20, 60);
# The database counts every statement it runs, the key lookups among them.
my $pg = FLR::Pg->new(settings => { shared_preload_libraries => 'pg_stat_statements' });
my $s = FLR::Stack->new(pg => $pg, workers => $W, env => {
	FLR_KEY_NEGATIVE_TTL => $TTL,
	FLR_KEY_UNKNOWN_LIMIT => $LIMIT,
	# Long enough that a flood fits in one window on a slow machine.
	FLR_KEY_UNKNOWN_WINDOW => $WINDOW,
});
$s->psql('CREATE EXTENSION pg_stat_statements');
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);

my $LISTING = '/api/v1/models/ids?topN=1';
my %UA = map { $_ => HTTP::Tiny->new(timeout => 30, agent => 'flr-tests/1',
    local_address => $_) } qw(127.0.0.1 127.0.0.2 127.0.0.3);

# One request from $addr with "Authorization: $auth" (undef: none).
sub send_from {
	my ($addr, $auth, $path, %o) = @_;
	my %h = defined $auth ? (Authorization => $auth) : ();
	return $UA{$addr}->request($o{method} // 'GET', $s->url($path // $LISTING),
	    { headers => { %h, %{ $o{headers} // {} } },
	      defined $o{content} ? (content => $o{content}) : () });
}

sub bearer { "Bearer $_[0]" }

# Key lookups the database has run: the three statements that read
# api_keys by key_hash (plain, counted, and a report's).
sub lookups {
	return $s->psql(q{SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
	    WHERE query LIKE '%FROM api_keys WHERE key_hash = $1%'});
}

# { series => value } of one scrape of /metrics.
sub scrape {
	my $r = $UA{'127.0.0.1'}->get($s->url('/metrics'));
	my %v;
	for (split /\n/, $r->{content} // '') {
		my ($k, $v) = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/ or next;
		$v{$k} = $v;
	}
	return \%v;
}

# The same requests from $clients processes at once, each sending its
# share of @auths from $addr: a list of "status code retry-after
# content-type www-authenticate" lines.
sub flood {
	my ($addr, $clients, @auths) = @_;
	my $dir = $s->dir;
	my @kids;
	for my $k (0 .. $clients - 1) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			open my $fh, '>', "$dir/flood.$k" or POSIX::_exit(1);
			for (my $i = $k; $i < @auths; $i += $clients) {
				my $r = send_from($addr, $auths[$i]);
				my $doc = json_of($r) // {};
				print {$fh} join(' ', $r->{status}, $doc->{code} // '-',
				    $r->{headers}{'retry-after'} // '-',
				    $r->{headers}{'content-type'} // '-',
				    defined $r->{headers}{'www-authenticate'} ? 'auth' : '-'),
				    "\n";
			}
			close $fh;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	waitpid $_, 0 for @kids;
	my @lines;
	for my $k (0 .. $clients - 1) {
		open my $fh, '<', "$dir/flood.$k" or next;
		push @lines, <$fh>;
	}
	chomp @lines;
	return @lines;
}

sub tally {
	my %n;
	$n{ join ' ', (split ' ', $_)[0, 1] }++ for @_;
	return \%n;
}

sub random_key { (FLR::Stack::new_key())[0] }

# A psql session kept open, to hold a lock while requests wait on it.
sub psql_session { FLR::Pg::psql_session($s->database_url) }

# One request per worker: with api_keys locked, each worker that takes
# one of $W requests waits inside its key lookup, so the next request
# can only go to another worker; once all $W wait, the lock goes.
# Returns "status code" of each response (in no particular order).
sub on_every_worker {
	my ($addr, $auth, $path) = @_;
	my $deadline = time + 60;
	# A request log written after the last answer updates api_keys too:
	# it must not be the one waiting on the lock.
	sleep 0.05 until $s->psql(q{SELECT count(*) FROM pg_stat_activity
	    WHERE application_name = 'flr-api' AND state <> 'idle'}) == 0
	    || time > $deadline;
	my $lock = psql_session();
	print {$lock} "BEGIN;\nLOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE;\n"
	    . "SELECT 1 AS locked;\n";
	sleep 0.05 until $s->psql(q{SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'SELECT 1 AS locked%' AND state = 'idle in transaction'})
	    || time > $deadline;
	my $dir = $s->dir;
	my @kids;
	for my $k (1 .. $W) {
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			my $r = send_from($addr, $auth, $path);
			open my $fh, '>', "$dir/worker.$k" or POSIX::_exit(1);
			print {$fh} $r->{status}, ' ', (json_of($r) // {})->{code} // '-';
			close $fh;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}
	my $waiting = 0;
	while (time < $deadline) {
		$waiting = $s->psql(q{SELECT count(DISTINCT pid) FROM pg_stat_activity
		    WHERE application_name = 'flr-api' AND wait_event_type = 'Lock'
		    AND query LIKE '%FROM api_keys WHERE key_hash = $1%'});
		last if $waiting >= $W;
		sleep 0.05;
	}
	print {$lock} "COMMIT;\n";
	close $lock;
	waitpid $_, 0 for @kids;
	is($waiting, $W, "the $W requests waited in $W workers at once");
	return map { FLR::Pg::slurp("$dir/worker.$_") } 1 .. $W;
}

my $valid = $s->create_key(email => 'valid@example.com', rate_limit_max => 100000);
my $fresh = $s->create_key(email => 'fresh@example.com', rate_limit_max => 100000);

# --- One unknown key, over and over. ------------------------------------
{
	my $bogus = random_key();
	my ($n0, $m0, $t0) = (lookups(), scrape(), time);
	my @lines = flood('127.0.0.3', 8, (bearer($bogus)) x 200);
	my $took = time - $t0;
	my $n = lookups() - $n0;
	my $m1 = scrape();
	is(scalar @lines, 200, '200 answers');
	is(tally(@lines)->{'401 invalid_key'} // 0, 200,
	    'all 401 invalid_key');
	is(scalar(grep { (split ' ')[3] eq 'application/problem+json'
	    && (split ' ')[4] eq 'auth' } @lines), 200,
	    'all problem documents with WWW-Authenticate');
	# One lookup per worker per TTL; today's code made 200.
	my $most = $W * (1 + int($took / $TTL));
	cmp_ok($n, '<=', $most, "the database looked the key up $n times "
	    . "(at most $most: $W workers, ${\ sprintf '%.1f', $took} s, TTL $TTL s)");
	cmp_ok($n, '>=', 1, 'it was asked at least once');
	is($m1->{flr_key_lookups_total} - $m0->{flr_key_lookups_total}, $n,
	    'flr_key_lookups_total counts the same lookups');
	is($m1->{'flr_key_refusals_total{reason="cached"}'}
	    - $m0->{'flr_key_refusals_total{reason="cached"}'}, 200 - $n,
	    'the other answers came from memory: reason="cached"');
}

# --- Bad shapes cost nothing, wherever they come from. ------------------
my @SHAPES = (
	# Authorization header, what it gets
	[ undef, 401, 'missing_auth' ],
	[ 'Basic dXNlcjpwYXNz', 401, 'invalid_auth_format' ],
	[ 'Bearer', 401, 'invalid_auth_format' ],
	[ 'Bearer fma_short', 401, 'invalid_key' ],
	[ 'Bearer fma_' . ('!' x 43), 401, 'invalid_key' ],
	[ 'Bearer fma_' . ('A' x 44), 401, 'invalid_key' ],
	[ 'Bearer sk-' . ('A' x 45), 401, 'invalid_key' ],
);
{
	my $n0 = lookups();
	for my $row (@SHAPES) {
		my ($auth, $status, $code) = @$row;
		problem_is(send_from('127.0.0.2', $auth), $status, $code, undef,
		    'Authorization: ' . ($auth // '(none)') . " → $status $code");
	}
	is(lookups() - $n0, 0, 'none of them was looked up');
}

# --- Before the flood: both workers serve the valid key. ----------------
{
	my @r = on_every_worker('127.0.0.1', bearer($valid), '/api/v1/keys');
	is_deeply([ sort @r ], [ ('200 -') x $W ], 'the valid key: 200 from each worker');
}

# --- A flood of distinct unknown keys from one address. -----------------
{
	my @keys = map { random_key() } 1 .. 200;
	my ($n0, $m0) = (lookups(), scrape());
	my @lines = flood('127.0.0.1', 8, map { bearer($_) } @keys);
	my $n = lookups() - $n0;
	my $m1 = scrape();
	my $t = tally(@lines);
	my $n401 = $t->{'401 invalid_key'} // 0;
	my $n429 = $t->{'429 too_many_invalid_keys'} // 0;
	my $summary = join ', ', map { "$_ x$t->{$_}" } sort keys %$t;
	is($n401 + $n429, 200, "200 answers: 401 invalid_key or 429 ($summary)");
	cmp_ok($n401, '<=', $W * $LIMIT, "at most $LIMIT 401s per worker ($n401)");
	cmp_ok($n429, '>=', 200 - $W * $LIMIT, "the rest are 429 ($n429)");
	is($n, $n401, "the database looked up the 401s' keys only ($n lookups)");
	my @bad429 = grep { /^429 / && !/^429 too_many_invalid_keys (\d+) application\/problem\+json -$/ }
	    @lines;
	is("@bad429", '', 'each 429 is a problem document without WWW-Authenticate');
	my @ra = map { /^429 \S+ (\d+) / ? $1 : () } @lines;
	is(scalar(grep { $_ >= 1 && $_ <= $WINDOW } @ra), scalar @ra,
	    "each with Retry-After in 1..$WINDOW s");
	is($m1->{'flr_key_refusals_total{reason="throttled"}'}
	    - $m0->{'flr_key_refusals_total{reason="throttled"}'}, $n429,
	    'flr_key_refusals_total{reason="throttled"} counts the 429s');
	is($m1->{flr_key_lookups_total} - $m0->{flr_key_lookups_total}, $n,
	    'flr_key_lookups_total the lookups');
	like($s->api_log, qr/client 127\.0\.0\.1 sent $LIMIT unknown API keys within $WINDOW s/,
	    'the workers say once which address they refuse');

	# Now every worker refuses that address's keys it does not know.
	$n0 = lookups();
	my $r = send_from('127.0.0.1', bearer(random_key()));
	problem_is($r, 429, 'too_many_invalid_keys', undef,
	    'one more unknown key from 127.0.0.1: 429 too_many_invalid_keys');
	like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After');
	ok(!defined $r->{headers}{'www-authenticate'}, 'and no WWW-Authenticate');
	for (1 .. 10) {
		is(send_from('127.0.0.1', bearer($valid), '/api/v1/keys')->{status}, 200,
		    'the valid key both workers served: 200');
		is(send_from('127.0.0.1', bearer($valid))->{status}, 200,
		    'also on the counted listing');
	}
	problem_is(send_from('127.0.0.1', bearer($fresh)), 429, 'too_many_invalid_keys',
	    undef, 'a valid key they never served: 429 as well');
	problem_is(send_from('127.0.0.1', 'Bearer fma_short'), 401, 'invalid_key',
	    undef, 'a malformed token: still 401 invalid_key');
	problem_is(send_from('127.0.0.1', bearer(random_key()), '/api/v1/models/feedback',
	    method => 'POST', headers => { 'Content-Type' => 'application/json' },
	    content => '{"modelId":"x/y:free","success":true}'),
	    429, 'too_many_invalid_keys', undef, 'a report with an unknown key: 429');
	is(lookups() - $n0, 20, 'only the valid key was looked up (20 times)');

	# Other addresses are not affected.
	problem_is(send_from('127.0.0.2', bearer(random_key())), 401, 'invalid_key',
	    undef, 'an unknown key from 127.0.0.2: 401 invalid_key');
	is(send_from('127.0.0.2', bearer($fresh))->{status}, 200,
	    'the never-served valid key from 127.0.0.2: 200');
}

# --- A key made while the workers remember it unknown. ------------------
{
	my ($key, $hash) = FLR::Stack::new_key();
	my @r = on_every_worker('127.0.0.2', bearer($key));
	is_deeply([ sort @r ], [ ('401 invalid_key') x $W ],
	    'a key nobody made yet: 401 from each worker');
	my $cached_at = time;
	$s->psql(q{INSERT INTO api_keys (user_id, name, key_start, key_hash)
	    SELECT id, 'late', :'p1', :'p2' FROM users WHERE email = 'valid@example.com'},
	    substr($key, 0, 8), $hash);
	my $r = send_from('127.0.0.2', bearer($key));
	SKIP: {
		skip 'the machine took longer than the TTL to get here', 1
		    if time - $cached_at > $TTL - 0.5;
		problem_is($r, 401, 'invalid_key', undef,
		    "made now, it is still unknown to the workers (up to $TTL s)");
	}
	sleep 0.1 while time < $cached_at + $TTL + 0.3;
	@r = on_every_worker('127.0.0.2', bearer($key));
	is_deeply([ sort @r ], [ ('200 -') x $W ],
	    "after the TTL ($TTL s) it works on each worker");
}

done_testing();
