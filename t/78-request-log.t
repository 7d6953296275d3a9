# End to end, the request log written in batches (shared/reqlog.c): a
# worker queues each counted call's row once the answer has left and
# writes the batch when it is full, when its oldest row has waited
# FLR_REQUEST_LOG_FLUSH_MS, when the worker has had nothing to do for
# that long, or when it stops.  Here one worker and a wait of a minute
# hold the rows, so what is queued and what is written is certain:
#
#  - a requestId is good for feedback at once, before its row is written;
#  - the quota counts the call when it is served, whatever the row does;
#  - a full batch is written in one go, each row dated when it left, in
#    the order of the calls, and the key's use counter moves with it;
#  - a worker that is killed loses the rows it held (and nothing else:
#    the README's "what a crash may lose"); one that is stopped writes
#    them first;
#  - with the default wait, an idle worker writes its row by itself;
#  - a key (or a user) deleted while its row is queued costs the batch
#    nothing: the row is written without it, the other rows as ever;
#    a key deleted later clears its key from the rows already written.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::Assert qw(json_of);

my $s = FLR::Stack->new(workers => 1, env => {
    FLR_REQUEST_LOG_BATCH => 8, FLR_REQUEST_LOG_FLUSH_MS => 60000 });
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $model = 'openai/gpt-oss-20b:free';
my $k = $s->create_key_full(email => 'batch@example.com', rate_limit_max => 1000);
my %auth = (Authorization => "Bearer $k->{key}");
my $uid = $k->{user_id};

sub listing {
	my ($res, $doc) = $s->get_json('/api/v1/models/ids?topN=2', \%auth);
	is($res->{status}, 200, 'a counted listing') or diag($res->{content});
	return $doc->{requestId};
}
sub logged {
	my ($ids) = @_;
	return $pg->psql('SELECT count(*) FROM api_request_logs WHERE id = ANY(:\'p1\'::uuid[])',
	    '{' . join(',', @$ids) . '}');
}
sub counted { $pg->psql("SELECT window_count FROM users WHERE id = $uid") }
sub wait_logged {
	my ($ids, $n) = @_;
	my $deadline = time + 20;
	sleep 0.05 while logged($ids) < $n && time < $deadline;
	return logged($ids);
}

# --- A requestId is good for feedback before its row is written. -----------
my @ids = (listing());
is(logged(\@ids), 0, 'the row is queued, not yet written');
is(counted(), 1, 'the call is counted when it is served');
my ($res, $doc) = $s->json_request('POST', '/api/v1/models/feedback',
    { modelId => $model, success => JSON::PP::true(), requestId => $ids[0] },
    \%auth);
is($res->{status}, 200, 'a report naming the queued requestId is accepted')
    or diag($res->{content});
is($pg->psql("SELECT request_id FROM model_feedback WHERE id = '$doc->{id}'"),
    $ids[0], 'and stored with it');
is($res->{headers}{'x-flr-adjusted'}, undef, 'the requestId is not dropped');

# --- A full batch is written in one go. -------------------------------------
push @ids, listing() for 2 .. 7;
is(logged(\@ids), 0, 'seven rows queued');
push @ids, listing();
is(wait_logged(\@ids, 8), 8, 'the eighth fills the batch: all eight written');
is($pg->psql(q{SELECT string_agg(id::text, ',' ORDER BY created_at, id)
    FROM api_request_logs WHERE user_id = } . $uid), join(',', @ids),
    'dated when each answer left: in the order of the calls');
is($pg->psql(q{SELECT count(DISTINCT created_at) FROM api_request_logs
    WHERE user_id = } . $uid), 8, 'each with its own time');
is($pg->psql(q{SELECT bool_and(created_at <= now() AND created_at > now() - interval '1 minute')
    FROM api_request_logs WHERE user_id = } . $uid), 't', 'times that are recent');
is($pg->psql("SELECT request_count FROM api_keys WHERE id = '$k->{id}'"), 8,
    "the key's use counter moved by the batch");
is($pg->psql(q{SELECT string_agg(DISTINCT endpoint || ' ' || status || ' ' || cardinality(model_ids), ',')
    FROM api_request_logs WHERE user_id = } . $uid), '/api/v1/models/ids 200 2',
    'each row as the call was');

# --- A killed worker loses what it held; the count stays. -------------------
my $lost = listing();
is(counted(), 9, 'counted (the report did not count)');
my @w = $s->api_worker_pids;
is(scalar @w, 1, 'one worker');
kill 'KILL', @w;
my $deadline = time + 20;
sleep 0.05 while (!$s->api_worker_pids || ($s->api_worker_pids)[0] == $w[0])
    && time < $deadline;
my $kept = listing();
is(counted(), 10, 'the restarted worker counts on from the database');

# --- A stopped worker writes what it holds. ---------------------------------
$s->stop_workers;
is(logged([$kept]), 1, 'a worker that is stopped writes its queued row');
is(logged([$lost]), 0, 'the row of the killed worker is lost, as the README says');
is(counted(), 10,
    'and its call stays counted: the quota never forgets a call it answered');

# --- The default wait: an idle worker writes by itself. ---------------------
$s->set_env(FLR_REQUEST_LOG_BATCH => undef, FLR_REQUEST_LOG_FLUSH_MS => undef);
$s->start_workers;
my $idle = listing();
is(wait_logged([$idle], 1), 1, 'with the default wait, the row of a lone call is written');

# --- Keys and users deleted while their rows are queued. --------------------
$s->stop_workers;
$s->set_env(FLR_REQUEST_LOG_BATCH => 3, FLR_REQUEST_LOG_FLUSH_MS => 60000);
$s->start_workers;
my %who = map { $_ => $s->create_key_full(email => "$_\@example.com",
    rate_limit_max => 1000) } qw(gone orphan other);
sub listing_as {
	my ($res, $doc) = $s->get_json('/api/v1/models/ids?topN=1',
	    { Authorization => "Bearer $who{$_[0]}{key}" });
	is($res->{status}, 200, "a counted listing of $_[0]") or diag($res->{content});
	return $doc->{requestId};
}
my %row = map { $_ => listing_as($_) } qw(gone orphan);
is(logged([values %row]), 0, 'two rows queued');
$pg->psql("DELETE FROM api_keys WHERE id = '$who{gone}{id}'");
$pg->psql("DELETE FROM users WHERE id = $who{orphan}{user_id}");
$row{other} = listing_as('other');
is(wait_logged([values %row], 3), 3,
    'the batch is written whole, though a key and a user went meanwhile');
sub row_of {
	$pg->psql(q{SELECT coalesce(user_id::text, '-') || ' '
	    || coalesce(api_key_id::text, '-') FROM api_request_logs WHERE id = '}
	    . $row{$_[0]} . q{'});
}
is(row_of('gone'), "$who{gone}{user_id} -", 'the deleted key is not named; its user is');
is(row_of('orphan'), '- -', 'nor the deleted user (nor its key, gone with it)');
is(row_of('other'), "$who{other}{user_id} $who{other}{id}", 'the other row as ever');
is($pg->psql("SELECT request_count FROM api_keys WHERE id = '$who{other}{id}'"), 1,
    "the other key's counter moved");
$pg->psql("DELETE FROM api_keys WHERE id = '$who{other}{id}'");
is(row_of('other'), "$who{other}{user_id} -",
    'a key deleted later is cleared from the rows already written');

$s->stop;
done_testing;
