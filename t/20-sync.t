#!/usr/bin/perl
# flr-sync end to end: the real program against a scripted stand-in for
# OpenRouter (FLR::WebServer) and a throwaway PostgreSQL (FLR::Pg).
# Covers the import of the recorded catalogue, idempotence, deactivation
# and its guard, every kind of broken upstream (each must leave the
# catalogue exactly as it was and say why in one line), the run records,
# file:// URLs, and the one-sync-at-a-time lock.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp ();
use JSON::PP ();
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

use FLR::Pg;
use FLR::WebServer;

my $BUILD = $ENV{FLR_BUILD} // 'build';
my $BIN = abs_path("$BUILD/flr-sync");
BAIL_OUT("$BUILD/flr-sync is not built (make $BUILD/flr-sync)")
    if !defined $BIN || !-x $BIN;
my $FIXTURE = abs_path('t/fixtures/openrouter-models.json');
my $LOCK_KEY = 7246002;    # shared/sql.c, SYNC_LOCK_KEY
my $JSON = JSON::PP->new->utf8->canonical;

my $pg = FLR::Pg->new;
my $srv = FLR::WebServer->new;
my $PATH = '/api/v1/models';
my $tmp = File::Temp->newdir;

# ---- helpers --------------------------------------------------------------

sub slurp {
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

my $FIXTURE_DATA = $JSON->decode(slurp($FIXTURE));

sub price_zero { defined $_[0] && $_[0] =~ /\A0(?:\.0+)?\z/ }

sub free_of {
	my ($payload) = @_;
	return grep { price_zero($_->{pricing}{prompt})
	    && price_zero($_->{pricing}{completion}) } @{$payload->{data}};
}

my @FREE = free_of($FIXTURE_DATA);
my @FREE_IDS = sort map { $_->{id} } @FREE;

# A payload file from a Perl structure.
my $nfile = 0;
sub payload_file {
	my ($payload) = @_;
	my $path = "$tmp/payload-" . ++$nfile . '.json';
	open my $fh, '>:raw', $path or die "$path: $!";
	print {$fh} ref $payload ? $JSON->encode($payload) : $payload;
	close $fh or die "$path: $!";
	return $path;
}

# The fixture with its models filtered by a predicate on the model.
sub fixture_where {
	my ($keep) = @_;
	my %p = %$FIXTURE_DATA;
	$p{data} = [ grep { $keep->($_) } @{$FIXTURE_DATA->{data}} ];
	return \%p;
}

# sync(%env) -> { code, out, err, reason }: flr-sync with a clean
# environment pointing at our server and database.
sub sync {
	my (%env) = @_;
	my ($code, $out, $err) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_MODELS_URL => $srv->url($PATH),
		FLR_SYNC_RETRY_DELAY_MS => 100, %env),
	    timeout => 120);
	my @lines = split /\n/, $err;
	return { code => $code, out => $out, err => $err,
	    reason => $lines[-1] // '' };
}

# Everything a failed run must leave alone, as text.
sub dump_state {
	return $pg->psql(q{
		SELECT * FROM free_models ORDER BY id;
		SELECT * FROM model_availability_snapshots ORDER BY 1, 2;
		SELECT * FROM sync_meta;
	});
}

# The catalogue without the columns a successful run always moves.
sub dump_catalog {
	return $pg->psql(q{
		SELECT id, name, context_length, max_completion_tokens,
		    description, modality, input_modalities, output_modalities,
		    supported_parameters, is_moderated, is_active, created_at,
		    first_seen_at
		FROM free_models ORDER BY id
	});
}

sub version { $pg->psql('SELECT catalog_version FROM sync_meta') }
sub last_run {
	my $row = $pg->psql(q{SELECT json_build_object('id', id, 'status', status,
	    'total', models_total, 'free', models_free,
	    'inserted', models_inserted, 'updated', models_updated,
	    'deactivated', models_deactivated, 'error', error,
	    'finished', finished_at IS NOT NULL)
	    FROM sync_runs ORDER BY id DESC LIMIT 1});
	return $row eq '' ? undef : $JSON->decode($row);
}
sub active_ids {
	return [ split /\n/, $pg->psql(
	    'SELECT id FROM free_models WHERE is_active ORDER BY id') ];
}

# Our own view of what the catalogue should hold for a model.
sub expected_row {
	my ($m) = @_;
	my $tp = $m->{top_provider} // {};
	my $a = $m->{architecture} // {};
	return {
		id => $m->{id},
		name => $m->{name},
		created => $m->{created},
		context_length => $m->{context_length},
		max_completion_tokens => $tp->{max_completion_tokens},
		description => $m->{description},
		modality => $a->{modality},
		input_modalities => $a->{input_modalities} // [],
		output_modalities => $a->{output_modalities} // [],
		supported_parameters => $m->{supported_parameters} // [],
		is_moderated => defined $tp->{is_moderated}
		    ? ($tp->{is_moderated} ? 1 : 0) : undef,
	};
}

sub catalog_rows {
	my $rows = $JSON->decode($pg->psql(q{
		SELECT coalesce(json_agg(json_build_object('id', id,
		    'name', name, 'created', extract(epoch FROM created_at)::bigint,
		    'context_length', context_length,
		    'max_completion_tokens', max_completion_tokens,
		    'description', description, 'modality', modality,
		    'input_modalities', input_modalities,
		    'output_modalities', output_modalities,
		    'supported_parameters', supported_parameters,
		    'is_moderated', is_moderated) ORDER BY id), '[]')
		FROM free_models}));
	for my $r (@$rows) {
		$r->{is_moderated} = $r->{is_moderated} ? 1 : 0
		    if defined $r->{is_moderated};
	}
	return $rows;
}

# A failed run: exit 1, the reason as one line, nothing changed but a
# 'failed' record that carries the same reason.
sub fails_cleanly {
	my ($name, $env, $reason_re) = @_;
	subtest $name => sub {
		my $before = dump_state();
		my $runs = $pg->psql('SELECT count(*) FROM sync_runs');
		my $r = sync(%{$env // {}});
		is $r->{code}, 1, 'exit status 1';
		is $r->{out}, '', 'nothing on stdout';
		like $r->{reason}, qr/\Aflr-sync: $reason_re/, 'the reason'
		    or diag $r->{err};
		# Retries may be logged first; the reason is the last line.
		like $r->{err}, qr/\A(?:flr-sync: warn: [^\n]*\n)*flr-sync: [^\n]+\n\z/,
		    'stderr: retry warnings at most, then one line';
		is dump_state(), $before, 'catalogue, snapshots and meta untouched';
		is $pg->psql('SELECT count(*) FROM sync_runs'), $runs + 1,
		    'one run recorded';
		my $run = last_run();
		is $run->{status}, 'failed', 'recorded as failed';
		ok $run->{finished}, 'with its end';
		(my $why = $r->{reason}) =~ s/\Aflr-sync: //;
		is $run->{error}, $why, 'with the same reason';
		is $run->{inserted}, undef, 'and no change counts';
	};
}

# ---- the first import -----------------------------------------------------

is scalar(@FREE), 20, 'the fixture has 20 free models';
is scalar(@{$FIXTURE_DATA->{data}}), 414, 'out of 414';

{
	my ($code, $out) = FLR::Pg::run([ $BIN, '--help' ]);
	is $code, 0, '--help exits 0';
	like $out, qr/Exit status: 0 synced; 1 sync failed.*2 bad\n?\s*configuration or usage; 3 another sync is running/s,
	    '--help documents the exit statuses';
	($code, undef, my $err) = FLR::Pg::run([ $BIN, 'now' ]);
	is $code, 2, 'an unexpected argument exits 2';
	like $err, qr/\Aflr-sync: unexpected argument "now"/, 'and says so';
}

subtest 'configuration errors exit 2 naming the setting' => sub {
	my $r = sync(DATABASE_URL => undef);
	is $r->{code}, 2, 'no DATABASE_URL';
	is $r->{err}, "flr-sync: DATABASE_URL: not set\n", 'named';
	$r = sync(FLR_SYNC_TIMEOUT_S => 'soon');
	is $r->{code}, 2, 'bad FLR_SYNC_TIMEOUT_S';
	like $r->{err}, qr/\Aflr-sync: FLR_SYNC_TIMEOUT_S: must be an integer/,
	    'named';
	$r = sync(OPENROUTER_MODELS_URL => 'ftp://example.org/models');
	is $r->{code}, 2, 'an ftp URL';
	like $r->{err}, qr/\Aflr-sync: OPENROUTER_MODELS_URL: /, 'named';
	is $srv->count, 0, 'nothing was fetched';
};

subtest '--check-config: the settings only, nothing connected to' => sub {
	my $runs = $pg->psql('SELECT count(*) FROM sync_runs');
	my $env = FLR::Pg::clean_env(
	    DATABASE_URL => 'postgresql://nobody@127.0.0.1:1/none',
	    OPENROUTER_MODELS_URL => $srv->url('/api/v1/models'));
	my ($code, $out, $err) = FLR::Pg::run([ $BIN, '--check-config' ],
	    env => $env);
	is $code, 0, 'well-formed settings: exit 0' or diag $err;
	is "$out$err", '', 'silently';
	($code, undef, $err) = FLR::Pg::run([ $BIN, '--check-config' ],
	    env => { %$env, FLR_STALE_AFTER => 'soon' });
	is $code, 2, 'a bad setting: exit 2';
	like $err, qr/\Aflr-sync: FLR_STALE_AFTER: /, 'named';
	is $srv->count, 0, 'nothing was fetched';
	is $pg->psql('SELECT count(*) FROM sync_runs'), $runs, 'no run recorded';
};

subtest 'the fixture imports exactly its 20 free models' => sub {
	$srv->script({ file => $FIXTURE });
	my $r = sync();
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	is $r->{err}, '', 'nothing on stderr';
	like $r->{out}, qr/\Aflr-sync: synced 414 models, 20 free: 20 inserted, 0 updated, 0 deactivated, catalog version 1 \(run \d+, 1 try, \d+ ms\)\n\z/,
	    'a one-line summary';
	is_deeply active_ids(), \@FREE_IDS, 'the free ids, all active';
	is_deeply catalog_rows(),
	    [ map { expected_row($_) } sort { $a->{id} cmp $b->{id} } @FREE ],
	    'every field as OpenRouter sent it';
	is version(), 1, 'catalog version 1';
	is $pg->psql('SELECT last_success_at IS NOT NULL FROM sync_meta'), 't',
	    'last success recorded';
	is_deeply last_run(), { id => last_run()->{id}, status => 'success',
	    total => 414, free => 20, inserted => 20, updated => 0,
	    deactivated => 0, error => undef, finished => JSON::PP::true },
	    'the run record';
	is $pg->psql(q{SELECT count(*) FROM model_availability_snapshots
	    WHERE day = (now() AT TIME ZONE 'UTC')::date}), 20,
	    'an availability row per model for today (UTC)';
	my @req = $srv->requests;
	is scalar(@req), 1, 'one request';
	is $req[0]{method}, 'GET', 'a GET';
	is $req[0]{path}, $PATH, 'of the models path';
	is $req[0]{headers}{'user-agent'}, 'flr-sync/0.1', 'User-Agent';
	ok !exists $req[0]{headers}{authorization},
	    'no Authorization without OPENROUTER_API_KEY';
};

subtest 'the same payload again changes nothing' => sub {
	my $catalog = dump_catalog();
	my $seen = $pg->psql('SELECT max(last_seen_at) FROM free_models');
	my $r = sync(OPENROUTER_API_KEY => 'sk-or-test-key');
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/: 0 inserted, 0 updated, 0 deactivated, catalog version 1 /,
	    'nothing inserted or updated';
	is dump_catalog(), $catalog, 'rows unchanged (first_seen_at too)';
	is version(), 1, 'catalog version unchanged';
	ok $pg->psql(q{SELECT bool_and(last_seen_at > :'p1') FROM free_models},
	    $seen) eq 't', 'last_seen_at moved on';
	is $pg->psql('SELECT count(*) FROM model_availability_snapshots'), 20,
	    'still one availability row per model and day';
	my $run = last_run();
	is_deeply [ @$run{qw(inserted updated deactivated)} ], [ 0, 0, 0 ],
	    'counts 0 in the record';
	is(($srv->requests)[-1]{headers}{authorization}, 'Bearer sk-or-test-key',
	    'the API key as a Bearer token');
};

# ---- deactivation -----------------------------------------------------------

my $GONE = 'openai/gpt-oss-20b:free';

subtest 'a model missing from the payload turns inactive' => sub {
	my $first = $pg->psql('SELECT first_seen_at FROM free_models WHERE id = :\'p1\'', $GONE);
	$srv->script({ file => payload_file(fixture_where(sub { $_[0]{id} ne $GONE })) });
	my $r = sync();
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/413 models, 19 free: 0 inserted, 0 updated, 1 deactivated, catalog version 2 /,
	    'one deactivated, a new version';
	is_deeply active_ids(), [ grep { $_ ne $GONE } @FREE_IDS ], 'the others stay active';
	is $pg->psql('SELECT is_active FROM free_models WHERE id = :\'p1\'', $GONE), 'f',
	    'the missing one is inactive, not deleted';
	is last_run()->{deactivated}, 1, 'recorded';

	$srv->script({ file => $FIXTURE });
	$r = sync();
	is $r->{code}, 0, 'it comes back' or diag $r->{err};
	like $r->{out}, qr/: 0 inserted, 1 updated, 0 deactivated, catalog version 3 /,
	    'reactivation is an update';
	is_deeply active_ids(), \@FREE_IDS, 'all active again';
	is $pg->psql('SELECT first_seen_at FROM free_models WHERE id = :\'p1\'', $GONE),
	    $first, 'first_seen_at kept';
};

subtest 'fewer than half the active models: nothing turns inactive' => sub {
	my @nine = @FREE_IDS[0 .. 8];
	my %keep = map { $_ => 1 } @nine;
	$srv->script({ file => payload_file(fixture_where(sub {
	    $keep{$_[0]{id}} || !price_zero($_[0]{pricing}{prompt}) })) });
	my $catalog = dump_catalog();
	my $r = sync();
	is $r->{code}, 0, 'still a successful run' or diag $r->{err};
	like $r->{out}, qr/, 9 free: 0 inserted, 0 updated, 0 deactivated, catalog version 3; kept 11 missing models active \(only 9 free for 20 active\)/,
	    'the summary says what was kept';
	is_deeply active_ids(), \@FREE_IDS, 'all 20 still active';
	is dump_catalog(), $catalog, 'catalogue unchanged';
	is version(), 3, 'no new version';

	# Exactly half is enough.
	my %ten = map { $_ => 1 } @FREE_IDS[0 .. 9];
	$srv->script({ file => payload_file(fixture_where(sub { $ten{$_[0]{id}} })) });
	$r = sync();
	like $r->{out}, qr/, 10 free: 0 inserted, 0 updated, 10 deactivated, catalog version 4 /,
	    'half of them: the other half turns inactive';
	is scalar(@{active_ids()}), 10, '10 active';

	$srv->script({ file => $FIXTURE });
	$r = sync();
	like $r->{out}, qr/: 0 inserted, 10 updated, 0 deactivated, catalog version 5 /,
	    'restored';
};

subtest 'a changed field is an update and a new version' => sub {
	my $p = $JSON->decode(slurp($FIXTURE));
	my ($m) = grep { $_->{id} eq $GONE } @{$p->{data}};
	$m->{name} = "Renamed \x{2603}";
	$m->{top_provider}{max_completion_tokens} = undef;
	delete $m->{description};
	$srv->script({ file => payload_file($p) });
	my $r = sync();
	like $r->{out}, qr/: 0 inserted, 1 updated, 0 deactivated, catalog version 6 /,
	    'one update' or diag $r->{err};
	is $pg->psql(q{SELECT name || '|' || coalesce(max_completion_tokens::text, 'null')
	    || '|' || coalesce(description, 'null') FROM free_models WHERE id = :'p1'}, $GONE),
	    "Renamed \xe2\x98\x83|null|null", 'stored, nulls as NULL';

	$srv->script({ file => $FIXTURE });
	$r = sync();
	like $r->{out}, qr/: 0 inserted, 1 updated, 0 deactivated, catalog version 7 /,
	    'and back';
	is_deeply catalog_rows(),
	    [ map { expected_row($_) } sort { $a->{id} cmp $b->{id} } @FREE ],
	    'every field as the fixture again';
};

subtest 'one availability row per model per UTC day' => sub {
	$pg->psql(q{UPDATE model_availability_snapshots SET day = day - 1});
	$srv->script({ file => $FIXTURE });
	my $r = sync();
	is $r->{code}, 0, 'synced' or diag $r->{err};
	is $pg->psql(q{SELECT count(*) || ' ' || count(DISTINCT day)
	    FROM model_availability_snapshots}), '40 2', 'a new row each for today';
	$r = sync();
	is $pg->psql('SELECT count(*) FROM model_availability_snapshots'), 40,
	    'a second sync the same day adds none';
};

# ---- broken upstreams: nothing changes ------------------------------------

sub with_model_change {
	my ($index, $change) = @_;
	my $p = $JSON->decode(slurp($FIXTURE));
	$change->($p->{data}[$index]);
	return payload_file($p);
}
# A paid model: the field checks cover every model, not only free ones.
my ($PAID) = grep { !price_zero($FIXTURE_DATA->{data}[$_]{pricing}{prompt}) } 0 .. 413;

my @bad = (
	[ 'not JSON', { body => "<html><body>502 Bad Gateway</body></html>\n" },
	    qr/payload refused: not JSON: /],
	[ 'an empty body', { body => '' }, qr/payload refused: empty body\z/ ],
	[ 'an array, not an object', { body => '[]' },
	    qr/payload refused: not a JSON object\z/ ],
	[ 'no data array', { body => '{"error":{"message":"nope"}}' },
	    qr/payload refused: data is missing or not an array\z/ ],
	[ 'data is an object', { body => '{"data":{}}' },
	    qr/payload refused: data is missing or not an array\z/ ],
	[ 'a model without id',
	    { file => with_model_change(3, sub { delete $_[0]{id} }) },
	    qr/payload refused: model 3: id is missing or not a string\z/ ],
	[ 'an id that is not a string',
	    { file => with_model_change(5, sub { $_[0]{id} = 42 }) },
	    qr/payload refused: model 5: id is missing or not a string\z/ ],
	[ 'a duplicate id',
	    { file => with_model_change(7, sub { $_[0]{id} = $FIXTURE_DATA->{data}[2]{id} }) },
	    qr/payload refused: model 7: id is a duplicate of model 2's\z/ ],
	[ 'context_length a string',
	    { file => with_model_change($PAID, sub { $_[0]{context_length} = 'big' }) },
	    qr/payload refused: model $PAID: context_length is not an integer\z/ ],
	[ 'supported_parameters not strings',
	    { file => with_model_change(17, sub { $_[0]{supported_parameters} = [1] }) },
	    qr/payload refused: model 17: supported_parameters is not an array of strings\z/ ],
	[ 'architecture not an object',
	    { file => with_model_change(0, sub { $_[0]{architecture} = 'text' }) },
	    qr/payload refused: model 0: architecture is not an object\z/ ],
	[ 'deep nesting', { body => '{"data":' . ('[' x 5000) . (']' x 5000) . '}' },
	    qr/payload refused: not JSON: nesting too deep/ ],
	[ 'HTTP 404 (not retried)', { status => 404, body => '{}' },
	    qr/fetch failed: HTTP 404\z/, 1 ],
	[ 'HTTP 401 (not retried)', { status => 401, body => '{}' },
	    qr/fetch failed: HTTP 401\z/, 1 ],
	[ 'a redirect to a file: URL',
	    { status => 302, headers => { Location => "file://$FIXTURE" } },
	    qr/fetch failed: .*(?:[Pp]rotocol|not supported|disabled)/, 1 ],
	[ 'more than 3 redirects',
	    { status => 302, headers => { Location => $PATH } },
	    qr/fetch failed: Maximum \(3\) redirects followed\z/, 4 ],
);
for my $b (@bad) {
	my ($name, $response, $re, $tries) = @$b;
	$srv->script($response);
	fails_cleanly($name, {}, $re);
	is $srv->count, $tries // 1, "$name: " . ($tries // 1) . ' request(s)'
	    if defined $tries;
}

subtest 'HTTP 500: three tries with back-off, then a failure' => sub {
	$srv->script({ status => 500, body => 'oops' });
	fails_cleanly('HTTP 500', { FLR_SYNC_RETRY_DELAY_MS => 300 },
	    qr/fetch failed after 3 tries: HTTP 500\z/);
	my @req = $srv->requests;
	is scalar(@req), 3, 'the server saw 3 tries';
	cmp_ok $req[1]{time} - $req[0]{time}, '>=', 0.29, 'a delay before try 2';
	cmp_ok $req[2]{time} - $req[1]{time}, '>=', 0.59, 'twice that before try 3';
};

subtest 'a 503 then the payload: retried and synced' => sub {
	$srv->script({ status => 503 }, { file => $FIXTURE });
	my $r = sync();
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/\(run \d+, 2 tries, /, 'on the second try';
	like $r->{err}, qr/\Aflr-sync: warn: fetch try 1 of 3 failed: HTTP 503; next in 100 ms\n\z/,
	    'the failed try is logged';
};

subtest 'a truncated body' => sub {
	$srv->script({ file => $FIXTURE, truncate => 5000 });
	fails_cleanly('truncated', {},
	    qr/fetch failed after 3 tries: transfer closed with \d+ bytes remaining to read\z/);
	is $srv->count, 3, 'retried like a network error';
};

subtest 'a server that never answers' => sub {
	$srv->script({ hang => 1 });
	my $t0 = time;
	fails_cleanly('hang', { FLR_SYNC_TIMEOUT_S => 1, FLR_SYNC_RETRY_DELAY_MS => 10 },
	    qr/fetch failed after 3 tries: Operation timed out after \d+ milliseconds/);
	is $srv->count, 3, 'three tries';
	cmp_ok time - $t0, '<', 20, 'within the timeouts';
};

subtest 'a body over the cap' => sub {
	# Declared length over the cap: refused before the body, no retry.
	$srv->script({ file => $FIXTURE });
	fails_cleanly('Content-Length over FLR_SYNC_MAX_BYTES',
	    { FLR_SYNC_MAX_BYTES => 100000 },
	    qr/fetch failed: response body larger than 100000 bytes\z/);
	is $srv->count, 1, 'one try';
	# No declared length: stopped while reading, at the default 32 MiB.
	$srv->script({ size => 33 * 1024 * 1024 + 1, no_length => 1 });
	fails_cleanly('33 MiB without Content-Length', {},
	    qr/fetch failed: response body larger than 33554432 bytes\z/);
	is $srv->count, 1, 'one try';
	# Exactly at the cap is fine as far as size goes.
	$srv->script({ file => $FIXTURE });
	my $r = sync(FLR_SYNC_MAX_BYTES => -s $FIXTURE);
	is $r->{code}, 0, 'a body of exactly the cap is read' or diag $r->{err};
};

subtest 'database unreachable' => sub {
	$srv->script({ file => $FIXTURE });
	$pg->stop;
	my $r = sync();
	$pg->start;
	is $r->{code}, 1, 'exit 1';
	like $r->{reason}, qr/\Aflr-sync: database unavailable: /, 'the reason';
	is $srv->count, 0, 'nothing fetched without the lock';
};

# ---- file:// --------------------------------------------------------------

subtest 'a file:// URL' => sub {
	my $version = version();
	my $r = sync(OPENROUTER_MODELS_URL => "file://$FIXTURE");
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/synced 414 models, 20 free: 0 inserted, 0 updated, 0 deactivated, catalog version $version /,
	    'same catalogue';
	fails_cleanly('a missing file',
	    { OPENROUTER_MODELS_URL => "file://$tmp/none.json" },
	    qr/fetch failed: Couldn't open file /);
};

# ---- one sync at a time -----------------------------------------------------

sub lock_holders {
	return $pg->psql(q{SELECT count(*) FROM pg_locks
	    WHERE locktype = 'advisory' AND granted
	      AND ((classid::bigint << 32) | objid::bigint) = :'p1'}, $LOCK_KEY);
}

subtest 'the lock held elsewhere: exit 3, nothing touched' => sub {
	open my $psql, '|-', 'psql', '-X', '-q', '-o', '/dev/null', '-d', $pg->url
	    or die "psql: $!";
	$psql->autoflush(1);
	print {$psql} "SELECT pg_advisory_lock($LOCK_KEY);\n";
	my $t = time + 10;
	sleep 0.05 while lock_holders() == 0 && time < $t;
	is lock_holders(), 1, 'psql holds the sync lock';

	$srv->script({ file => $FIXTURE });
	my $before = dump_state();
	my $runs = $pg->psql('SELECT count(*) FROM sync_runs');
	my $r = sync();
	is $r->{code}, 3, 'exit 3';
	is $r->{err}, "flr-sync: another sync is running\n", 'one line saying why';
	is $r->{out}, '', 'nothing on stdout';
	is dump_state(), $before, 'nothing touched';
	is $pg->psql('SELECT count(*) FROM sync_runs'), $runs, 'not even a record';
	is $srv->count, 0, 'nothing fetched';

	close $psql;
	$t = time + 10;
	sleep 0.05 while lock_holders() != 0 && time < $t;
	$r = sync();
	is $r->{code}, 0, 'runs once the lock is free' or diag $r->{err};
	is lock_holders(), 0, 'and releases it';
};

subtest 'two syncs at once: one runs, the other exits 3' => sub {
	$srv->script({ file => $FIXTURE, delay => 1.5 });
	my $out = "$tmp/bg.out";
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my ($code, $o, $e) = FLR::Pg::run([$BIN],
		    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
			OPENROUTER_MODELS_URL => $srv->url($PATH)));
		open my $fh, '>', $out;
		print {$fh} "$code\n$o$e";
		close $fh;
		POSIX::_exit(0);
	}
	is $srv->wait_count(1, 10), 1, 'the first one is fetching';
	my $r = sync();
	is $r->{code}, 3, 'the second exits 3';
	is $r->{err}, "flr-sync: another sync is running\n", 'saying why';
	waitpid $pid, 0;
	my ($code, @rest) = split /\n/, slurp($out);
	is $code, 0, 'the first one succeeded' or diag @rest;
	is $srv->count, 1, 'only one fetch';
};

subtest 'a run left "running" by a crash is closed by the next one' => sub {
	$pg->psql(q{INSERT INTO sync_runs (status) VALUES ('running')});
	my $id = $pg->psql('SELECT max(id) FROM sync_runs');
	$srv->script({ file => $FIXTURE });
	my $r = sync();
	is $r->{code}, 0, 'synced' or diag $r->{err};
	is $pg->psql('SELECT status || \'|\' || error FROM sync_runs WHERE id = :\'p1\'', $id),
	    'failed|interrupted before it finished', 'marked failed';
	is $pg->psql(q{SELECT count(*) FROM sync_runs WHERE status = 'running'}), 0,
	    'nothing left running';
};

done_testing;
