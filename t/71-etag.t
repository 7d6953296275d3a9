# ETag and If-None-Match on the public GETs (/api/health, /api/availability,
# /api/demo/models, /api/openapi.json) and the counted listings (/ids,
# /full): a 304 with ETag, Cache-Control and X-Request-Id and no body,
# for "*", lists of tags, W/ or not, and HEAD; a 304 of a counted
# listing passes the key and the quota and is logged; and the tag moves
# with what the body is made of — a report stored or deleted, a sync, an
# upstream import, the parameters as normalised, saved preferences, a
# report leaving the window — and with nothing else.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Assert qw(problem_is json_of);

my $s = FLR::Stack->new(workers => 2);
my $FIXTURE = "file://$FindBin::Bin/fixtures/openrouter-models.json";
my ($rc, undef, $err) = $s->run_sync(url => $FIXTURE);
is($rc, 0, 'catalogue loaded') or diag($err);
my $main = $s->create_key_full(email => 'etag@example.com', rate_limit_max => 100000);
my %auth = (Authorization => "Bearer $main->{key}");
my $model = $s->psql('SELECT id FROM free_models WHERE is_active ORDER BY id LIMIT 1');
my $WEAK = qr/^W\/"[0-9a-f]{32}"$/;
my $json = JSON::PP->new->utf8->canonical;

sub get {
	my ($path, %h) = @_;
	return $s->request('GET', $path, { headers => \%h });
}

sub tag_of { $_[0]{headers}{etag} // '' }

sub report {
	my ($issue) = @_;
	my $body = $issue ? qq({"modelId":"$model","issue":"$issue"})
	    : qq({"modelId":"$model","success":true});
	my $r = $s->request('POST', '/api/v1/models/feedback', { headers =>
	    { %auth, 'Content-Type' => 'application/json' }, content => $body });
	is($r->{status}, 200, 'a report stored');
}

# The body without what differs from one answer to the next.
sub meaning {
	my ($r) = @_;
	my $d = json_of($r) // return $r->{content};
	delete @$d{qw(requestId generatedAt lastUpdated)}
	    if ref $d eq 'HASH';
	return $json->encode($d);
}

# A 304 as RFC 9110 wants it, for the tag and Cache-Control of $full.
sub not_modified_ok {
	my ($r, $full, $label) = @_;
	my @why;
	push @why, "status $r->{status}" if $r->{status} != 304;
	push @why, 'ETag ' . tag_of($r) if tag_of($r) ne tag_of($full);
	push @why, 'Cache-Control ' . ($r->{headers}{'cache-control'} // 'absent')
	    if ($r->{headers}{'cache-control'} // '')
	    ne ($full->{headers}{'cache-control'} // 'none');
	push @why, 'no X-Request-Id'
	    if ($r->{headers}{'x-request-id'} // '') !~ /^[0-9a-f-]{36}$/;
	push @why, 'a body' if ($r->{content} // '') ne '';
	push @why, 'Content-Type' if exists $r->{headers}{'content-type'};
	ok(!@why, $label) or diag(join ', ', @why);
}

# --- The public GETs. ----------------------------------------------------------
report('error');
for my $path ('/api/health', '/api/health?timeRange=6h&topN=3',
    '/api/availability?days=7', '/api/demo/models?filter=tools',
    '/api/openapi.json') {
	my $full = get($path);
	is($full->{status}, 200, "$path: 200");
	my $tag = tag_of($full);
	if ($path eq '/api/openapi.json') {
		my $doc = FLR::Pg::slurp("$FLR::Pg::REPO/fcgi/openapi.json");
		is($tag, '"' . substr(sha256_hex($doc), 0, 32) . '"',
		    "$path: a strong tag, the document's hash");
	} else {
		like($tag, $WEAK, "$path: a weak tag");
	}
	not_modified_ok(get($path, 'If-None-Match' => $tag), $full,
	    "$path: If-None-Match with its tag: 304");
	not_modified_ok(get($path, 'If-None-Match' => '*'), $full, "$path: *: 304");
	not_modified_ok(get($path, 'If-None-Match' => qq{"a", W/"b",$tag}), $full,
	    "$path: a list holding the tag: 304");
	(my $opaque = $tag) =~ s{^W/}{};
	not_modified_ok(get($path, 'If-None-Match' => "W/$opaque"), $full,
	    "$path: W/ or not, the weak comparison: 304");
	my $other = get($path, 'If-None-Match' => qq{"a", W/"b"});
	ok($other->{status} == 200 && meaning($other) eq meaning($full)
	    && tag_of($other) eq $tag, "$path: a list without it: the full answer");
	is(get($path, 'If-None-Match' => 'garbage')->{status}, 200,
	    "$path: a malformed If-None-Match: the full answer");
	my $rid = '7a1e6d4c-3b2a-4c1d-9e8f-0a1b2c3d4e5f';
	is(get($path, 'If-None-Match' => $tag, 'X-Request-Id' => $rid)
	    ->{headers}{'x-request-id'}, $rid, "$path: the 304 echoes X-Request-Id");
	my $head = $s->request('HEAD', $path, { headers => { 'If-None-Match' => $tag } });
	not_modified_ok($head, $full, "$path: HEAD with its tag: 304");
	$head = $s->request('HEAD', $path);
	ok($head->{status} == 200 && tag_of($head) eq $tag && ($head->{content} // '') eq '',
	    "$path: HEAD: 200, the same tag, no body");
	# A 304 said the body had not changed: it had not.
	is(meaning(get($path)), meaning($full), "$path: the body is still the same");
}
{
	my $mine = get('/api/health?myReports=true', %auth);
	not_modified_ok(get('/api/health?myReports=true', %auth,
	    'If-None-Match' => tag_of($mine)), $mine,
	    'health with myReports: 304, private');
	is($mine->{headers}{'cache-control'}, 'private, max-age=60', 'private');
	isnt(tag_of($mine), tag_of(get('/api/health?myReports=true',
	    Authorization => 'Bearer ' . $s->create_key(email => 'other@example.com'))),
	    "another user's own reports: another tag");
	is(get('/api/health?myReports=true', 'If-None-Match' => '*')->{status}, 401,
	    'myReports without a key: 401 before any 304');
}

# --- The counted listings. -------------------------------------------------------
{
	my $ids = get('/api/v1/models/ids?topN=5', %auth);
	my $full = get('/api/v1/models/full?topN=5', %auth);
	like(tag_of($ids), $WEAK, '/ids: a weak tag');
	isnt(tag_of($ids), tag_of($full), '/ids and /full: other bodies, other tags');
	my $left = $ids->{headers}{'x-ratelimit-remaining'};
	my $r = get('/api/v1/models/ids?topN=5', %auth, 'If-None-Match' => tag_of($ids));
	not_modified_ok($r, $ids, '/ids: 304');
	# /full went in between.
	is($r->{headers}{'x-ratelimit-remaining'}, $left - 2,
	    'the 304 was counted against the quota');
	ok(defined $r->{headers}{'ratelimit'}, 'with the quota headers');
	my $rid = $r->{headers}{'x-request-id'};
	my $logged = '';
	my $deadline = time + 10;
	until ($logged || time > $deadline) {
		$logged = $s->psql(q{SELECT status || ' ' || cardinality(model_ids)
		    FROM api_request_logs WHERE id = :'p1'}, $rid);
		sleep 0.05 if !$logged;
	}
	is($logged, '304 0', 'and logged: status 304, no ids returned');
	not_modified_ok(get('/api/v1/models/full?topN=5', %auth,
	    'If-None-Match' => tag_of($full)), $full, '/full: 304');
	problem_is(get('/api/v1/models/ids?topN=5', 'If-None-Match' => '*'), 401,
	    'missing_auth', undef, 'no key: 401, not 304');
	problem_is(get('/api/v1/models/ids?topN=5', 'If-None-Match' => '*',
	    Authorization => 'Bearer ' . $s->create_key(email => 'spent@example.com',
	    rate_limit_max => 0)), 429, 'rate_limited', undef,
	    'over quota: 429, not 304');
	# Normalised parameters: what the body is built from, not the bytes.
	is(tag_of(get('/api/v1/models/ids?topN=101', %auth)),
	    tag_of(get('/api/v1/models/ids?topN=100', %auth)),
	    'topN=101 is topN=100 (clamped): one tag');
	is(tag_of(get('/api/v1/models/ids?useCase=tools', %auth)),
	    tag_of(get('/api/v1/models/ids?filter=tools', %auth)),
	    'an alias is the parameter: one tag');
	isnt(tag_of(get('/api/v1/models/ids?topN=6', %auth)), tag_of($ids),
	    'topN=6 is another body: another tag');
	# Saved preferences stand in for parameters: they are in the tag.
	my $r2 = $s->request('PUT', '/api/v1/preferences', { headers => { %auth,
	    'Content-Type' => 'application/json' },
	    content => qq({"excludeModelIds":["$model"]}) });
	is($r2->{status}, 200, 'preferences saved');
	my $after = get('/api/v1/models/ids?topN=5', %auth, 'If-None-Match' => tag_of($ids));
	is($after->{status}, 200, 'a saved exclusion: the full answer');
	isnt(tag_of($after), tag_of($ids), 'and another tag');
	ok(!grep({ $_ eq $model } @{ json_of($after)->{ids} // [] }), 'without the model');
	$s->request('PUT', '/api/v1/preferences', { headers => { %auth,
	    'Content-Type' => 'application/json' }, content => '{"excludeModelIds":null}' });
	is(tag_of(get('/api/v1/models/ids?topN=5', %auth)), tag_of($ids),
	    'the exclusion cleared: the first tag again');
}

# --- What moves the tags. ---------------------------------------------------------
sub tags {
	return { map { $_ => tag_of(get($_, %auth)) } '/api/health',
	    '/api/demo/models', '/api/availability', '/api/v1/models/ids' };
}

sub moved {
	my ($a, $b, @paths) = @_;
	my @same = grep { $a->{$_} eq $b->{$_} } @paths;
	return ok(!@same, "moved: @paths") || diag("unchanged: @same");
}

sub kept {
	my ($a, $b, @paths) = @_;
	my @changed = grep { $a->{$_} ne $b->{$_} } @paths;
	return ok(!@changed, "kept: @paths") || diag("changed: @changed");
}
{
	my $t0 = tags();
	kept($t0, tags(), keys %$t0);
	report();
	my $t1 = tags();
	moved($t0, $t1, '/api/health', '/api/demo/models', '/api/v1/models/ids');
	kept($t0, $t1, '/api/availability');
	my $r = get('/api/health', 'If-None-Match' => $t0->{'/api/health'});
	is($r->{status}, 200, 'the old tag after a report: the full answer');

	$s->psql(q{DELETE FROM model_feedback WHERE id = (SELECT id FROM model_feedback
	    ORDER BY created_at DESC LIMIT 1)});
	my $t2 = tags();
	moved($t1, $t2, '/api/health', '/api/demo/models', '/api/v1/models/ids');

	$s->psql('UPDATE upstream_meta SET version = version + 1');
	my $t3 = tags();
	moved($t2, $t3, '/api/health', '/api/demo/models', '/api/v1/models/ids');

	($rc, undef, $err) = $s->run_sync(url => $FIXTURE,
	    env => { FLR_STALE_AFTER => 1 });
	is($rc, 0, 'a second sync') or diag($err);
	my $t4 = tags();
	moved($t3, $t4, keys %$t3);
}

# A report leaving the window changes the counts, and so the tag, with no
# write at all.  One report made 15 minutes less 3 seconds ago, the oldest
# in the window of timeRange=15m.
{
	my $path = '/api/demo/models?timeRange=15m';
	my $id = $s->psql(qq{INSERT INTO model_feedback (model_id, outcome, created_at)
	    VALUES ('$model', 'error', now() - interval '15 minutes' + interval '3 seconds')
	    RETURNING id});
	my $in = get($path);
	my ($m) = grep { $_->{id} eq $model } @{ json_of($in)->{models} // [] };
	my $n = $m ? $m->{issueCount} : -1;
	not_modified_ok(get($path, 'If-None-Match' => tag_of($in)), $in,
	    'while the report is in the window: 304');
	# Wait for the database's clock, not ours.
	my $deadline = time + 30;
	sleep 0.2 until $s->psql(qq{SELECT now() - interval '15 minutes' > created_at
	    FROM model_feedback WHERE id = '$id'}) eq 't' || time > $deadline;
	my $out = get($path, 'If-None-Match' => tag_of($in));
	is($out->{status}, 200, 'once it has left the window: the full answer');
	my ($m2) = grep { $_->{id} eq $model } @{ json_of($out)->{models} // [] };
	is($m2 ? $m2->{issueCount} : -1, $n - 1, 'which counts one issue less');
	isnt(tag_of($out), tag_of($in), 'under another tag');
	not_modified_ok(get($path, 'If-None-Match' => tag_of($out)), $out,
	    'and that tag gets its 304');
}

done_testing;
