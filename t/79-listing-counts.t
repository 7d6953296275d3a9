# End to end, the counts of the counted listings, which a worker keeps
# from one listing to the next (shared/listing.c) under the data
# versions their ETag is made of.  One worker, so every listing meets
# the copy the one before it left: the counts must still move at once
# with a report sent to the API, a report written by anything else, a
# report leaving the window, and must never be one window's, or one
# user's, for another.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;

my $s = FLR::Stack->new(workers => 1);
my $pg = $s->pg;
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'snapshot loaded') or diag($err);
my $model = 'openai/gpt-oss-20b:free';
my $a = $s->create_key_full(email => 'counts-a@example.com', rate_limit_max => 1000);
my $b = $s->create_key_full(email => 'counts-b@example.com', rate_limit_max => 1000);

# The reports of $model in a /full listing.
sub reports {
	my ($who, $query) = @_;
	my ($res, $doc) = $s->get_json("/api/v1/models/full?$query",
	    { Authorization => "Bearer $who->{key}" });
	is($res->{status}, 200, "/full?$query") or diag($res->{content});
	my ($m) = grep { $_->{id} eq $model } @{ $doc->{models} // [] };
	return $m ? $m->{reports} : undef;
}
sub report {
	my ($who) = @_;
	my ($res) = $s->json_request('POST', '/api/v1/models/feedback',
	    { modelId => $model, success => JSON::PP::true() },
	    { Authorization => "Bearer $who->{key}" });
	is($res->{status}, 200, 'a report') or diag($res->{content});
}

is(reports($a, 'timeRange=15m'), 0, 'no reports yet');
is(reports($a, 'timeRange=15m'), 0, 'the same again (from the copy)');
report($a);
is(reports($a, 'timeRange=15m'), 1, 'a report through the API: counted at once');
$pg->psql("INSERT INTO model_feedback (model_id, user_id, outcome)"
    . " VALUES ('$model', $b->{user_id}, 'error')");
is(reports($a, 'timeRange=15m'), 2, 'a report written by something else: counted at once');

# Windows and users each have their own counts.
is(reports($a, 'timeRange=15m&myReports=true'), 1, "a's own reports");
is(reports($b, 'timeRange=15m&myReports=true'), 1, "b's own reports, not a's copy");
report($b);
is(reports($b, 'timeRange=15m&myReports=true'), 2, "b's next report");
is(reports($a, 'timeRange=15m&myReports=true'), 1, "a's count is still a's");
$pg->psql("INSERT INTO model_feedback (model_id, outcome, created_at)"
    . " VALUES ('$model', 'success', now() - interval '2 hours')");
is(reports($a, 'timeRange=15m'), 3, '15m: the old report is not in it');
is(reports($a, 'timeRange=24h'), 4, '24h: it is');
is(reports($a, 'timeRange=15m'), 3, '15m again: its own copy');

# A report leaving the window moves the counts without any write.
$pg->psql("INSERT INTO model_feedback (model_id, outcome, created_at)"
    . " VALUES ('$model', 'success', now() - interval '15 minutes' + interval '2 seconds')");
is(reports($a, 'timeRange=15m'), 4, 'a report about to leave the window: counted');
sleep 3;
is(reports($a, 'timeRange=15m'), 3, 'once it has left: not counted, nothing written');

$s->stop;
done_testing;
