# End to end: POST /api/v1/models/feedback (SPEC.md §3) — every bad
# input from t/data/feedback-bad-input.tsv, storage with its rollup,
# dryRun, the per-user hourly limit under concurrency, and that reports
# are not counted against the quota.
use strict;
use warnings;
use Test::More;
use POSIX ();
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(problem_is json_of read_table);

my $s = FLR::Stack->new(workers => 4);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $model = 'openai/gpt-oss-20b:free';
my $key = $s->create_key(email => 'fb@example.com', rate_limit_max => 50);

sub post {
	my ($body, %o) = @_;
	my %h = (Authorization => "Bearer " . ($o{key} // $key));
	$h{'Content-Type'} = $o{type} // 'application/json'
	    if ($o{type} // '') ne '-';
	$h{Prefer} = $o{prefer} if defined $o{prefer};
	return $s->request('POST', '/api/v1/models/feedback',
	    { headers => \%h, content => $body });
}

# --- Bad input, from the table. -------------------------------------------
my %special = (
	'@BIG' => '{"modelId":"' . $model . '","success":true,"details":"'
	    . ('x' x 16384) . '"}',
	'@DEEP' => ('[' x 1000) . (']' x 1000),
	'@LONGID' => '{"modelId":"' . ('m' x 10240) . '","success":true}',
	'@LONGDETAILS' => '{"modelId":"' . $model
	    . '","success":true,"details":"' . ('d' x 1001) . '"}',
);
my $before = $pg->psql('SELECT count(*) FROM model_feedback');
for my $row (read_table("$FindBin::Bin/data/feedback-bad-input.tsv")) {
	my ($name, $type, $body, $status, $code, $param) = @$row;
	$type = '-' if $type eq '';
	$body = $special{$body} // $body;
	$body =~ s/MODEL/$model/g;
	$body =~ s/\\x([0-9a-f]{2})/chr hex $1/ge;
	problem_is(post($body, type => $type, prefer => 'handling=strict'),
	    $status, $code, $param eq '' ? undef : $param,
	    "$name → $status $code (strict)");
}
is($pg->psql('SELECT count(*) FROM model_feedback'), $before,
    'no bad request stored anything');
{
	my $res = post(qq({"modelId":"$model","success":true,"dryRun":true,"dryRun":false}));
	like((json_of($res) // {})->{detail} // '', qr/duplicate member dryRun/,
	    'a member twice: the detail names it');
	# The limit itself: sixteen containers deep is a body like any other.
	$res = post(qq({"modelId":"$model","success":true,"dryRun":true,"x":)
	    . ('[' x 15) . '1' . (']' x 15) . '}');
	is($res->{status}, 200, 'nesting 16 deep (the limit): accepted')
	    or diag($res->{content});
}
problem_is($s->request('GET', '/api/v1/models/feedback',
	{ headers => { Authorization => "Bearer $key" } }),
    405, 'method_not_allowed', undef, 'GET → 405');
problem_is($s->request('POST', '/api/v1/models/feedback',
	{ headers => { 'Content-Type' => 'application/json' },
	  content => qq({"modelId":"$model","success":true}) }),
    401, 'missing_auth', undef, 'no key → 401');
problem_is(post(qq({"modelId":"$model","success":true}),
	key => 'fma_' . ('Z' x 43)), 401, 'invalid_key', undef,
    'unknown key → 401');
{
	my $old = $s->create_key(email => 'fbold@example.com',
	    expires_at => $pg->psql("SELECT now() - interval '1 second'"));
	problem_is(post(qq({"modelId":"$model","success":true}), key => $old),
	    401, 'expired_key', undef, 'expired key → 401 expired_key');
	my $off = $s->create_key(email => 'fboff@example.com', enabled => 0);
	problem_is(post(qq({"modelId":"$model","success":true}), key => $off),
	    401, 'invalid_key', undef, 'disabled key → 401 invalid_key');
}

# --- A stored report. -------------------------------------------------------
{
	my $rid = '6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
	my $details = "\x{e9}" x 1000;   # 1000 characters, 2000 bytes in UTF-8
	my $body = JSON::PP->new->utf8->encode({ modelId => $model,
	    issue => 'rate_limited', details => $details, requestId => $rid });
	my $r = post($body);
	is($r->{status}, 200, 'an issue report: 200');
	my $doc = json_of($r);
	ok($doc->{received}, 'received: true');
	like($doc->{id} // '', qr/^[0-9a-f-]{36}$/, 'the report has an id');
	is($pg->psql("SELECT model_id || ' ' || outcome || ' ' || request_id"
		. " || ' ' || length(details) FROM model_feedback"
		. " WHERE id = '$doc->{id}'"),
	    "$model rate_limited $rid 1000", 'stored as sent, once 200 came back');
	ok(!exists $r->{headers}{'x-ratelimit-remaining'},
	    'feedback carries no quota headers');

	$r = post(qq({"modelId":"$model","success":true}));
	is($r->{status}, 200, 'a success report: 200');

	# Health sees both at once, through the rollup.
	my $full = json_of($s->request('GET', '/api/v1/models/full',
	    { headers => { Authorization => "Bearer $key" } }));
	my ($m) = grep { $_->{id} eq $model } @{ $full->{models} };
	is_deeply([@$m{qw(issueCount reports errorRate)}], [1, 2, 50],
	    'the next listing counts both reports');
	is($pg->psql("SELECT window_count FROM users WHERE email = 'fb\@example.com'"),
	    1, 'reports used no quota (only the listing did)');

	# dryRun validates and stores nothing.
	my $n = $pg->psql('SELECT count(*) FROM model_feedback');
	$r = post(qq({"modelId":"$model","success":true,"dryRun":true}));
	is($r->{status}, 200, 'dryRun: 200');
	is_deeply(json_of($r), { received => JSON::PP::true, dryRun => JSON::PP::true,
	    id => undef }, 'dryRun: says so, no id');
	is($pg->psql('SELECT count(*) FROM model_feedback'), $n, 'dryRun stores nothing');
	problem_is(post(qq({"modelId":"no/such","success":true,"dryRun":true})),
	    422, 'unknown_model', 'modelId', 'dryRun still validates the model');

	# An inactive model still takes reports.
	$pg->psql("UPDATE free_models SET is_active = false WHERE id = '$model'");
	is(post(qq({"modelId":"$model","issue":"unavailable"}))->{status}, 200,
	    'an inactive model in the catalogue takes reports');
	$pg->psql("UPDATE free_models SET is_active = true WHERE id = '$model'");
	is(post(qq({"modelId":"$model","success":false,"issue":"error"}))->{status},
	    200, 'success:false with an issue is that issue');
}

# --- 600 reports an hour per user, exactly, whatever the concurrency. --
{
	my $k = $s->create_key(email => 'flood@example.com');
	my ($clients, $total) = (8, 640);
	my %status = %{ FLR::Stack::statuses_at_once($clients, $total,
	    sub { post(qq({"modelId":"$model","success":true}), key => $k)->{status} }) };
	is($status{200} // 0, 600, "$clients clients, $total reports: 600 accepted");
	is($status{429} // 0, 40, '… 40 refused');
	is($pg->psql("SELECT count(*) FROM model_feedback f JOIN users u"
		. " ON u.id = f.user_id WHERE u.email = 'flood\@example.com'"), 600,
	    '… and exactly 600 stored');
	my $r = post(qq({"modelId":"$model","success":true}), key => $k);
	problem_is($r, 429, 'feedback_rate_limited', undef, 'the 641st → 429');
	my $ra = $r->{headers}{'retry-after'} // 0;
	ok($ra >= 1 && $ra <= 3600, "Retry-After within the hour ($ra)");
	is(post(qq({"modelId":"$model","success":true,"dryRun":true}), key => $k)
	    ->{status}, 200, 'a dry run is not limited');
	$pg->psql("UPDATE users SET feedback_window_start = now() - interval '61 minutes'"
	    . " WHERE email = 'flood\@example.com'");
	is(post(qq({"modelId":"$model","success":true}), key => $k)->{status}, 200,
	    'the next hour opens a new window');
}

done_testing;
