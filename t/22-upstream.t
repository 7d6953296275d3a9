#!/usr/bin/perl
# flr-sync and an upstream, end to end: the real program, a throwaway
# PostgreSQL (FLR::Pg), the catalogue from the bundled snapshot, and a
# stand-in upstream (FLR::WebServer) of each kind: an instance of this
# project (GET /api/federation/export answers the federation format)
# and the hosted service (the export is a 404; GET /api/health?range=
# answers rates per window).  A good import replaces the imported rows
# in one transaction and records itself in upstream_meta; every kind of
# hostile upstream changes no data row (only last_attempt_at and
# last_error move), is reported in the summary and the journal, and
# never changes the exit status, which the catalogue decides.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp ();
use JSON::PP ();
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(time);

use FLR::Pg;
use FLR::WebServer;

my $BUILD = $ENV{FLR_BUILD} // 'build';
my $BIN = abs_path("$BUILD/flr-sync");
BAIL_OUT("$BUILD/flr-sync is not built (make $BUILD/flr-sync)")
    if !defined $BIN || !-x $BIN;
my $FIXTURE = abs_path('t/fixtures/openrouter-models.json');
my $JSON = JSON::PP->new->utf8->canonical;

my $pg = FLR::Pg->new;
my $up = FLR::WebServer->new;
my $UPSTREAM = $up->url('');
my $EXPORT = '/api/federation/export';
my @WINDOWS = qw(15m 30m 1h 6h 24h 7d 30d);
my @COLUMNS = qw(grain bucket modelId success rateLimited unavailable error);

sub iso { strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime $_[0]) }

# The start of the bucket of grain $g that held $t seconds ago.
sub bucket_ago {
	my ($g, $ago) = @_;
	my $t = int(time) - $ago;
	return $t - $t % $g;
}

sub export_body {
	my (@rows) = @_;
	return $JSON->encode({ format => 'flr-federation/1',
	    generatedAt => iso(int time), columns => [@COLUMNS],
	    rows => \@rows });
}

# A good export: minutes, hours and days of two models.
my $M1 = 'openai/gpt-oss-20b:free';
my $M2 = 'upstream/only-there:free';    # not in this catalogue: kept all the same
my @GOOD = (
	[ 60, iso(bucket_ago(60, 120)), $M1, 3, 0, 1, 0 ],
	[ 60, iso(bucket_ago(60, 60)), $M1, 2, 1, 0, 0 ],
	[ 3600, iso(bucket_ago(3600, 7200)), $M1, 30, 2, 1, 4 ],
	[ 86400, iso(bucket_ago(86400, 3 * 86400)), $M1, 100, 5, 5, 5 ],
	[ 60, iso(bucket_ago(60, 60)), $M2, 7, 0, 0, 1 ],
);

sub health_body {
	my ($range, @issues) = @_;
	return $JSON->encode({ issues => [ map { { modelId => $_->[0],
	    modelName => "Name of $_->[0]", errorRate => $_->[1],
	    total => 3, successCount => 10 } } @issues ],
	    timeline => [ { date => '2026-12-01 10:00:00', $M1 => 1.5 } ],
	    range => $range, lastUpdated => iso(int time),
	    count => scalar @issues });
}

# The hosted service: no export, a health answer per window.
sub hosted_routes {
	my (%override) = @_;
	my %r = ($EXPORT => { status => 404, body => '{"error":"Not found"}' });
	for my $i (0 .. $#WINDOWS) {
		my $w = $WINDOWS[$i];
		$r{"/api/health?range=$w"} = { body => health_body($w,
		    [ $M1, 1.5 + $i ], [ 'meta-llama/x:free', 0 ],
		    [ 'z/y', 100 ]) };
	}
	@r{keys %override} = values %override;
	return \%r;
}

# sync(%env) -> { code, out, err }: the catalogue from the snapshot,
# FLR_UPSTREAM_URL at the stand-in.
sub sync {
	my (%env) = @_;
	my ($code, $out, $err) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_MODELS_URL => "file://$FIXTURE",
		FLR_UPSTREAM_URL => $UPSTREAM,
		FLR_SYNC_RETRY_DELAY_MS => 20, %env),
	    timeout => 180);
	return { code => $code, out => $out, err => $err };
}

# Every imported row and what upstream_meta says of the data.
sub data_rows {
	return $pg->psql(q{
		SELECT * FROM upstream_rollup ORDER BY grain, bucket, model_id;
		SELECT * FROM upstream_rates ORDER BY model_id, time_range;
		SELECT url, kind, last_success_at, models, rows, version
		FROM upstream_meta;
	});
}

sub meta {
	return $JSON->decode($pg->psql(q{SELECT json_build_object('url', url,
	    'kind', kind, 'success', last_success_at IS NOT NULL,
	    'attempt', (extract(epoch FROM last_attempt_at) * 1000)::bigint,
	    'error', last_error, 'models', models, 'rows', rows,
	    'version', version) FROM upstream_meta}));
}

# ---- an instance of this project --------------------------------------------

subtest 'nothing configured: the upstream is never asked' => sub {
	$up->routes({ $EXPORT => { body => export_body(@GOOD) } });
	my ($code, $out) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_MODELS_URL => "file://$FIXTURE"));
	is $code, 0, 'exit 0';
	unlike $out, qr/upstream/, 'nothing about an upstream';
	is $up->count, 0, 'no request';
	is meta()->{version}, 0, 'upstream_meta untouched';
};

subtest 'an instance: its export replaces upstream_rollup' => sub {
	$up->routes({ $EXPORT => { body => export_body(@GOOD) } });
	my $r = sync(OPENROUTER_API_KEY => 'sk-or-secret');
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	is $r->{err}, '', 'nothing on stderr';
	like $r->{out}, qr/\Aflr-sync: synced 414 models, 20 free: 0 inserted, 0 updated, 0 deactivated, catalog version 1; upstream \(flr\): 5 rows of 2 models \(run \d+, 1 try, \d+ ms\)\n\z/,
	    'the summary says what came' or diag $r->{out};
	my @req = $up->requests;
	is scalar(@req), 1, 'one request';
	is $req[0]{path}, $EXPORT, 'for the export';
	ok !exists $req[0]{headers}{authorization},
	    'the OpenRouter key is never sent to an upstream';
	is $pg->psql(q{SELECT string_agg(grain || ' ' || to_char(bucket AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' ' || model_id || ' ' || success_count
	    || ' ' || rate_limited || ' ' || unavailable || ' ' || error, ';'
	    ORDER BY model_id, grain, bucket) FROM upstream_rollup}),
	    join(';', map { join ' ', @$_ }
		sort { $a->[2] cmp $b->[2] || $a->[0] <=> $b->[0] || $a->[1] cmp $b->[1] } @GOOD),
	    'every row as exported';
	my $m = meta();
	is_deeply [ @$m{qw(url kind success error models rows version)} ],
	    [ $UPSTREAM, 'flr', JSON::PP::true, undef, 2, 5, 1 ],
	    'upstream_meta: url, kind, success, models, rows, version 1';
	# All time is the day buckets (each holds its minutes and hours).
	is $pg->psql(q{SELECT success_count || '|' || error
	    FROM upstream_counts(NULL) WHERE model_id = :'p1'}, $M1),
	    '100|5', 'upstream_counts() reads them'
	    or diag $pg->psql('SELECT * FROM upstream_counts(NULL)');
};

subtest 'the next good export replaces the last one whole' => sub {
	my @next = ([ 60, iso(bucket_ago(60, 30)), $M1, 1, 0, 0, 0 ]);
	$up->routes({ $EXPORT => { body => export_body(@next) } });
	my $r = sync();
	like $r->{out}, qr/; upstream \(flr\): 1 rows of 1 models /, 'one row'
	    or diag $r->{err};
	is $pg->psql('SELECT count(*) FROM upstream_rollup'), 1, 'the old rows are gone';
	is meta()->{version}, 2, 'version 2';
	$up->routes({ $EXPORT => { body => export_body(@GOOD) } });
	$r = sync();
	like $r->{out}, qr/; upstream \(flr\): 5 rows of 2 models /, 'and back';
	is meta()->{version}, 3, 'version 3';
};

# A failed import: exit 0 (the catalogue was fine), the reason in the
# summary, on stderr and in last_error; the data exactly as it was.
sub fails_cleanly {
	my ($name, $routes, $reason, %env) = @_;
	subtest $name => sub {
		my $before = data_rows();
		my $attempt = meta()->{attempt};
		$up->routes($routes);
		my $t0 = time;
		my $r = sync(%env);
		is $r->{code}, 0, 'exit 0: the catalogue decides';
		like $r->{out}, qr/; upstream failed: $reason \(run /, 'the summary says why'
		    or diag $r->{out}, $r->{err};
		my $url = $env{FLR_UPSTREAM_URL} // $UPSTREAM;
		my ($warn) = grep { /\Aflr-sync: warn: upstream \Q$url\E: / }
		    split /\n/, $r->{err};
		like $warn // '', qr/\Aflr-sync: warn: upstream \Q$url\E: $reason\z/,
		    'a warning names the upstream';
		is data_rows(), $before, 'no data row changed';
		my $m = meta();
		like $m->{error}, qr/\A$reason\z/, 'last_error: the reason, one line';
		unlike $m->{error}, qr/[\x00-\x1f]/, 'no control characters in it';
		cmp_ok $m->{attempt}, '>', $attempt, 'last_attempt_at moved';
		cmp_ok time - $t0, '<', 60, 'within the timeouts';
	};
}

my $GOOD_ROW = $GOOD[0];
sub with_row { export_body(@GOOD, $_[0]) }

fails_cleanly('a 500, three tries', { $EXPORT => { status => 500 } },
    qr/export: fetch failed after 3 tries: HTTP 500/);
is scalar($up->requests), 3, 'the 500 was tried three times';
fails_cleanly('a 401 (not retried, not the hosted service)',
    { $EXPORT => { status => 401, body => '{}' } },
    qr/export: fetch failed: HTTP 401/);
fails_cleanly('down', { $EXPORT => { status => 500 } },
    qr/export: fetch failed(?: after 3 tries)?: .*(?:[Cc]ould(?:n't| not) connect|Connection refused|Failed to connect).*/,
    FLR_UPSTREAM_URL => 'http://127.0.0.1:' . FLR::Pg::free_port());
fails_cleanly('slow: cut by the timeout', { $EXPORT => { hang => 1 } },
    qr/export: fetch failed after 3 tries: Operation timed out after \d+ milliseconds.*/,
    FLR_SYNC_TIMEOUT_S => 1);
fails_cleanly('not JSON', { $EXPORT => { body => "<html>It works!</html>" } },
    qr/export refused: not JSON: .*/);
fails_cleanly('another format',
    { $EXPORT => { body => $JSON->encode({ format => 'flr-federation/2',
	generatedAt => iso(int time), columns => [@COLUMNS], rows => [] }) } },
    qr/export refused: format is not "flr-federation\/1"/);
fails_cleanly('other columns',
    { $EXPORT => { body => $JSON->encode({ format => 'flr-federation/1',
	generatedAt => iso(int time), columns => [ reverse @COLUMNS ],
	rows => [] }) } },
    qr/export refused: column 0 is not "grain"/);
fails_cleanly('a negative count',
    { $EXPORT => { body => with_row([ 60, iso(bucket_ago(60, 180)), $M1, -1, 0, 0, 0 ]) } },
    qr/export refused: row 5: success is not an integer from 0 to 10\^9/);
fails_cleanly('a huge count',
    { $EXPORT => { body => with_row([ 60, iso(bucket_ago(60, 180)), $M1, 0, 0, 0, 1e12 ]) } },
    qr/export refused: row 5: error is not an integer from 0 to 10\^9/);
fails_cleanly('a string for a count',
    { $EXPORT => { body => with_row([ 60, iso(bucket_ago(60, 180)), $M1, 0, '1', 0, 0 ]) } },
    qr/export refused: row 5: rateLimited is not an integer from 0 to 10\^9/);
fails_cleanly('a bucket off its grain',
    { $EXPORT => { body => with_row([ 3600, iso(bucket_ago(3600, 7200) + 60), $M1, 1, 0, 0, 0 ]) } },
    qr/export refused: row 5: bucket is not aligned to its grain/);
fails_cleanly('a grain we do not keep',
    { $EXPORT => { body => with_row([ 300, iso(bucket_ago(300, 600)), $M1, 1, 0, 0, 0 ]) } },
    qr/export refused: row 5: grain is not 60, 3600 or 86400/);
fails_cleanly('a bucket in the future',
    { $EXPORT => { body => with_row([ 86400, iso(bucket_ago(86400, -5 * 86400)), $M1, 1, 0, 0, 0 ]) } },
    qr/export refused: row 5: bucket is out of range/);
fails_cleanly('a row twice',
    { $EXPORT => { body => with_row($GOOD_ROW) } },
    qr/export refused: row 5: the same model, grain and bucket as row 0/);
fails_cleanly('a model id with a control character',
    { $EXPORT => { body => with_row([ 60, iso(bucket_ago(60, 180)), "a\nb", 1, 0, 0, 0 ]) } },
    qr/export refused: row 5: modelId is not 1 to 256 bytes of printable text/);
{
	my @many = map { [ 60, iso(bucket_ago(60, 60)), "m/$_", 1, 0, 0, 0 ] } 0 .. 10000;
	fails_cleanly('10001 models', { $EXPORT => { body => export_body(@many) } },
	    qr/export refused: more than 10000 models/);
	my $t = bucket_ago(60, 0);
	my @rows = map { [ 60, iso($t - 60 * (1 + int($_ / 100))), 'm/' . ($_ % 100), 1, 0, 0, 0 ] }
	    0 .. 500000;
	# As a file: the stand-in reads its routes for every request.
	my $big = File::Temp->new(SUFFIX => '.json');
	print {$big} export_body(@rows);
	close $big;
	fails_cleanly('500001 rows', { $EXPORT => { file => "$big" } },
	    qr/export refused: more than 500000 rows/);
}
fails_cleanly('a body over the cap',
    { $EXPORT => { size => 33 * 1024 * 1024 + 1, no_length => 1 } },
    qr/export: fetch failed: response body larger than 33554432 bytes/);
fails_cleanly('a redirect to a file',
    { $EXPORT => { status => 302, headers => { Location => "file://$FIXTURE" } } },
    qr/export: fetch failed: .*(?:[Pp]rotocol|not supported|disabled).*/);

subtest 'the catalogue decides the exit status, not the upstream' => sub {
	$up->routes({ $EXPORT => { body => export_body(@GOOD) } });
	my $r = sync(OPENROUTER_MODELS_URL => "file://$FIXTURE.missing");
	is $r->{code}, 1, 'a failed catalogue: exit 1';
	like $r->{err}, qr/\Aflr-sync: fetch failed: Couldn't open file [^\n]*\n\z/,
	    'stderr: the one line of the failure';
	is meta()->{version}, 4, 'the upstream was imported all the same';
	is meta()->{error}, undef, 'with no error';
};

# ---- the hosted service ---------------------------------------------------------

subtest 'the hosted service: rates of its seven windows' => sub {
	$up->routes(hosted_routes());
	my $r = sync();
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/; upstream \(hosted\): 21 rates of 3 models \(run /,
	    'the summary says what came';
	is_deeply [ sort map { $_->{path} } $up->requests ],
	    [ sort $EXPORT, map { "/api/health?range=$_" } @WINDOWS ],
	    'the export, then each window';
	is $pg->psql(q{SELECT string_agg(time_range || '=' || error_rate, ','
	    ORDER BY error_rate) FROM upstream_rates WHERE model_id = :'p1'}, $M1),
	    '15m=1.5,30m=2.5,1h=3.5,6h=4.5,24h=5.5,7d=6.5,30d=7.5',
	    'each window its own rate';
	is $pg->psql('SELECT count(*) FROM upstream_rollup'), 0,
	    'no counts: none are made up from rates, and the old ones went';
	my $m = meta();
	is_deeply [ @$m{qw(kind models rows version error)} ],
	    [ 'hosted', 3, 21, 5, undef ], 'upstream_meta says so';
};

fails_cleanly('hosted: one window fails',
    hosted_routes('/api/health?range=6h' => { status => 503 }),
    qr/health 6h: fetch failed: HTTP 503/);
fails_cleanly('hosted: a window answers another range',
    hosted_routes('/api/health?range=15m' => { body => health_body('24h', [ $M1, 1 ]) }),
    qr/health 15m refused: range is not "15m"/);
fails_cleanly('hosted: an error rate over 100',
    hosted_routes('/api/health?range=7d' => { body => health_body('7d', [ $M1, 150 ]) }),
    qr/health 7d refused: issue 0: errorRate is not a number from 0 to 100/);
fails_cleanly('hosted: an error rate that is a string',
    hosted_routes('/api/health?range=1h' => { body => health_body('1h', [ $M1, '12' ]) }),
    qr/health 1h refused: issue 0: errorRate is not a number from 0 to 100/);
fails_cleanly('hosted: ten thousand and one models',
    hosted_routes('/api/health?range=30d' => { body => health_body('30d',
	map { [ "m/$_", 1 ] } 0 .. 10000) }),
    qr/health 30d refused: more than 10000 issues/);
fails_cleanly('hosted: no health route either',
    { $EXPORT => { status => 404 } },
    qr/health 15m: fetch failed: HTTP 404/);

subtest 'an instance again after the hosted service' => sub {
	$up->routes({ $EXPORT => { body => export_body(@GOOD) } });
	my $r = sync();
	like $r->{out}, qr/; upstream \(flr\): 5 rows of 2 models /, 'counts'
	    or diag $r->{err};
	is $pg->psql('SELECT count(*) FROM upstream_rates'), 0, 'the rates went';
	is meta()->{kind}, 'flr', 'kind flr';
};

done_testing;
