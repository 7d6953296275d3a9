# End to end: a worker keeps its last health bodies by ETag and serves a
# copy while the tag stands (flr_body_copies_total counts hits and
# builds).  What each request gets, on one worker:
#
#   the same health query again            the copy: the same body but for
#                                            generatedAt and lastUpdated,
#                                            which are this request's
#   a report stored meanwhile              a new tag, a built body that
#                                            counts it
#   other parameters (range, sort)         their own tag and body
#   myReports of two users                 each their own body, never the
#                                            other's
#   a fifth tag while four are kept        the least recently used is
#                                            built again next time
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;

my $s = FLR::Stack->new(workers => 1);
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);
my $json = JSON::PP->new->utf8->canonical;
my @models = split /\n/, $s->psql(
    'SELECT id FROM free_models WHERE is_active ORDER BY id LIMIT 3');
my %key = map { $_ => $s->create_key(email => "$_\@example.com") } qw(ann bob);

# { built, hit } from one scrape of /metrics.
sub copies {
	my $r = $s->request('GET', '/metrics');
	my %v = map { /^flr_body_copies_total\{result="(\w+)"\} (\d+)$/ ? ($1, $2) : () }
	    split /\n/, $r->{content};
	return \%v;
}

# GET $path -> (status, decoded body, ETag, how the worker made it).
sub health {
	my ($path, $who) = @_;
	my $before = copies();
	my %h = $who ? (Authorization => "Bearer $key{$who}") : ();
	my ($r, $body) = $s->get_json($path, \%h);
	my $after = copies();
	my $how = $after->{hit} > $before->{hit} ? 'hit'
	    : $after->{built} > $before->{built} ? 'built' : 'none';
	return ($r->{status}, $body, $r->{headers}{etag}, $how);
}

# The body without what differs per request.
sub same_part {
	my %b = %{ $_[0] };
	delete @b{qw(generatedAt lastUpdated)};
	return $json->encode(\%b);
}

sub report {
	my ($who, $model, $ok) = @_;
	my ($r) = $s->json_request('POST', '/api/v1/models/feedback',
	    { modelId => $model, $ok ? (success => JSON::PP::true) : (issue => 'error') },
	    { Authorization => "Bearer $key{$who}" });
	is($r->{status}, 200, "report of $who on $model stored") or diag($r->{content});
}

sub count_of {
	my ($body, $model, $field) = @_;
	my ($m) = grep { $_->{modelId} eq $model } @{ $body->{models} };
	return $m ? $m->{$field} : 0;
}

report('ann', $models[0], 1);
my $H30 = '/api/health?timeRange=30d';

my ($st1, $b1, $t1, $how1) = health($H30);
is($st1, 200, '30d: 200');
is($how1, 'built', 'the first answer is built');
my ($st2, $b2, $t2, $how2) = health($H30);
is($st2, 200, 'again: 200');
is($how2, 'hit', 'the same query again comes from the copy');
is($t2, $t1, 'under the same tag');
is(same_part($b2), same_part($b1), 'the copy is the body built, member for member');
ok(keys %$b2 == keys %$b1, 'with the same members');
like($b2->{generatedAt}, qr/^\d{4}-\d\d-\d\dT/, 'generatedAt is there');
cmp_ok($b2->{generatedAt}, 'ge', $b1->{generatedAt}, "generatedAt is this request's");
is($b2->{lastUpdated}, $b2->{generatedAt}, 'lastUpdated too');

# The raw bytes: one JSON object, in the built body's member order.
my $raw = $s->request('GET', $H30)->{content};
like($raw, qr/^\{"models":\[/, 'the copy starts with the models');
like($raw, qr/\],"issues":\[/, 'then the issues');
like($raw, qr/"timeRange":"30d","range":"30d","generatedAt":"[^"]+","lastUpdated":"[^"]+","source":"[^"]*","upstream":/,
    'the per-request members in their place');
like($raw, qr/,"count":\d+\}\z/, 'the count last');
ok(eval { $json->decode($raw); 1 }, 'and is valid JSON');

# A report moves the tag: the next answer is built and counts it.
report('bob', $models[0], 0);
my ($st3, $b3, $t3, $how3) = health($H30);
is($how3, 'built', 'after a report: built');
isnt($t3, $t1, 'under a new tag');
is(count_of($b3, $models[0], 'error'), count_of($b1, $models[0], 'error') + 1,
    'counting the new report');
is((health($H30))[3], 'hit', 'then the copy again');

# Other parameters: their own body.
my (undef, $b24, $t24, $how24) = health('/api/health?timeRange=24h');
is($how24, 'built', '24h: built');
isnt($t24, $t3, '24h: its own tag');
is($b24->{range}, '24h', '24h: its own body');
is((health($H30))[3], 'hit', '30d is still kept');

# myReports: each user their own copy.
my (undef, $ba, $ta, $howa) = health("$H30&myReports=true", 'ann');
my (undef, $bb, $tb, $howb) = health("$H30&myReports=true", 'bob');
is($howa, 'built', "ann's: built");
is($howb, 'built', "bob's: built, not ann's copy");
isnt($ta, $tb, 'two tags');
is(count_of($ba, $models[0], 'successCount'), 1, 'ann sees her report');
is(count_of($ba, $models[0], 'error'), 0, "and not bob's");
is(count_of($bb, $models[0], 'error'), 1, 'bob sees his');
is(count_of($bb, $models[0], 'successCount'), 0, "and not ann's");
is((health("$H30&myReports=true", 'ann'))[3], 'hit', "ann's again: her copy");
is(count_of((health("$H30&myReports=true", 'ann'))[1], $models[0], 'error'), 0,
    "still without bob's report");

# Four kept: 30d, 24h, ann's, bob's.  A fifth replaces the least
# recently used (24h), which is built again next time.
is((health('/api/health?timeRange=7d'))[3], 'built', '7d: built');
is((health($H30))[3], 'hit', '30d: kept');
is((health('/api/health?timeRange=24h'))[3], 'built',
    '24h, the least recently used, was replaced');

done_testing;
