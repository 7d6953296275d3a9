# End to end: the per-user fixed-window quota (SPEC.md §1) — headers on
# every counted response, the atomic check under concurrency, 429 with
# Retry-After, the next window, and what is not counted.
use strict;
use warnings;
use Test::More;
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $s = FLR::Stack->new(workers => 4);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);

sub get_with {
	my ($key, $path) = @_;
	return $s->request('GET', $path,
	    { headers => { Authorization => "Bearer $key" } });
}

# --- Headers of a counted request. -----------------------------------------
{
	my $key = $s->create_key(email => 'hdr@example.com', rate_limit_max => 5);
	my $t0 = time;
	my $r = get_with($key, '/api/v1/models/ids?topN=1');
	is($r->{status}, 200, 'first request');
	my $h = $r->{headers};
	is($h->{'x-ratelimit-limit'}, 5, 'X-RateLimit-Limit');
	is($h->{'x-ratelimit-remaining'}, 4, 'X-RateLimit-Remaining');
	my $reset = $h->{'x-ratelimit-reset'} // 0;
	ok($reset >= $t0 + 86400 - 5 && $reset <= $t0 + 86400 + 5,
	    'X-RateLimit-Reset: unix seconds at the end of a 24 h window');
	is($h->{'ratelimit-policy'}, '"daily";q=5;w=86400', 'RateLimit-Policy');
	like($h->{ratelimit} // '', qr/^"daily";r=4;t=(86[34]\d\d)$/, 'RateLimit');

	# The same user's second key shares the quota.
	my $key2 = $s->create_key(email => 'hdr@example.com', rate_limit_max => 5);
	$r = get_with($key2, '/api/v1/models/full?topN=1');
	is($r->{headers}{'x-ratelimit-remaining'}, 3, 'keys of a user share it');

	# Not counted: livez, readyz, and refused requests.
	$s->request('GET', '/api/livez');
	$s->request('GET', '/api/readyz');
	get_with($key, '/api/v1/models/ids?sort=bogus');
	$r = get_with($key, '/api/v1/models/ids?topN=1');
	is($r->{headers}{'x-ratelimit-remaining'}, 2,
	    'health probes and 400s are not counted');
	get_with($key, '/api/v1/models/ids?topN=1');
	get_with($key, '/api/v1/models/ids?topN=1');
	$r = get_with($key, '/api/v1/models/ids?topN=1');
	problem_is($r, 429, 'rate_limited', undef, 'sixth request → 429');
	is($r->{headers}{'x-ratelimit-remaining'}, 0, '429: remaining 0');
	my $ra = $r->{headers}{'retry-after'} // 0;
	ok($ra > 86000 && $ra <= 86400, "429: Retry-After in seconds ($ra)");
	like($r->{headers}{ratelimit} // '', qr/^"daily";r=0;t=\d+$/,
	    '429: RateLimit');

	# When the window has passed, the next request opens a new one.
	$pg->psql("UPDATE users SET window_start = now() - interval '86401 seconds'"
	    . " WHERE email = 'hdr\@example.com'");
	$r = get_with($key, '/api/v1/models/ids?topN=1');
	is($r->{status}, 200, 'a new window after the old one ended');
	is($r->{headers}{'x-ratelimit-remaining'}, 4, 'new window: 4 left');

	# A custom window length shows in the policy.
	my $k3 = $s->create_key(email => 'hourly@example.com',
	    rate_limit_max => 10, window_seconds => 3600);
	$r = get_with($k3, '/api/v1/models/ids?topN=1');
	is($r->{headers}{'ratelimit-policy'}, '"daily";q=10;w=3600',
	    'policy carries the window in seconds');

	my $k0 = $s->create_key(email => 'zero@example.com', rate_limit_max => 0);
	problem_is(get_with($k0, '/api/v1/models/ids'), 429, 'rate_limited',
	    undef, 'a limit of 0 refuses everything');
}

# --- Exactly the limit succeeds, whatever the concurrency. --------------
{
	my $key = $s->create_key(email => 'race@example.com',
	    rate_limit_max => 200);
	my ($clients, $total) = (8, 300);
	my %status = %{ FLR::Stack::statuses_at_once($clients, $total,
	    sub { get_with($key, '/api/v1/models/ids?topN=1')->{status} }) };
	is($status{200} // 0, 200, "$clients clients, $total requests: exactly 200 succeed");
	is($status{429} // 0, 100, '… and exactly 100 are refused');
	is(join(',', sort keys %status), '200,429', '… and nothing else');
	is($pg->psql("SELECT window_count FROM users WHERE email = 'race\@example.com'"),
	    201, 'the counter stops one past the limit');
}

done_testing;
