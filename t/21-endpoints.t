#!/usr/bin/perl
# flr-sync and OpenRouter's endpoint statistics, end to end: the real
# program against a stand-in for OpenRouter (FLR::WebServer) serving the
# recorded catalogue and one endpoints answer per model, on a throwaway
# PostgreSQL (FLR::Pg).  Covers the fold into model_endpoint_stats and
# the history, the path of a :free model, the key, the transfers really
# running at once (and never more than FLR_ENDPOINT_CONCURRENCY), the
# bound on the models asked per run and the turn every model gets, each
# kind of hostile answer (the model keeps its last row, the failure is
# counted and named, the run still succeeds), when the step does not
# run, and the history's retention.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp ();
use JSON::PP ();
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
my $srv = FLR::WebServer->new;
my $BASE = '/api/v1';

sub slurp {
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

sub price_zero { defined $_[0] && $_[0] =~ /\A0(?:\.0+)?\z/ }

my @FREE_IDS = sort map { $_->{id} }
    grep { price_zero($_->{pricing}{prompt})
	&& price_zero($_->{pricing}{completion}) }
    @{$JSON->decode(slurp($FIXTURE))->{data}};
my $GPT = 'openai/gpt-oss-20b:free';

sub path_of { "$BASE/models/$_[0]/endpoints" }

# One endpoint of an answer, with OpenRouter's field names.
sub endpoint {
	my (%o) = @_;
	return {
		name => "$o{provider} | model",
		provider_name => $o{provider},
		tag => lc $o{provider},
		status => 0,
		uptime_last_5m => $o{up5},
		uptime_last_30m => $o{up30},
		uptime_last_1d => $o{up1d},
		latency_last_30m => exists $o{lat} ? $o{lat}
		    : { p50 => 500, p75 => 700, p90 => 900, p99 => 2000 },
		throughput_last_30m => exists $o{thr} ? $o{thr}
		    : { p50 => 40, p75 => 30, p90 => 20, p99 => 10 },
		pricing => { prompt => '0', completion => '0' },
		context_length => 131072,
	};
}

sub answer_body {
	my ($id, @endpoints) = @_;
	return $JSON->encode({ data => { id => $id, name => $id,
	    endpoints => \@endpoints } });
}

# A good answer for every model: one provider at 99 % (90 for the day),
# 500 ms, 40 tokens/s; gpt-oss has two, to show the fold.
sub good_routes {
	my (%extra) = @_;
	my %r = ("$BASE/models" => { file => $FIXTURE });
	for my $id (@FREE_IDS) {
		$r{path_of($id)} = { body => answer_body($id,
		    endpoint(provider => 'Alpha', up5 => 99, up30 => 99,
			up1d => 90)), %extra };
	}
	$r{path_of($GPT)} = { body => answer_body($GPT,
	    endpoint(provider => 'Chutes', up5 => 97.5, up30 => 99.2,
		up1d => 93, lat => { p50 => 612.5, p75 => 800 },
		thr => { p50 => 51.25 }),
	    endpoint(provider => 'OpenInference', up5 => 99.9, up30 => 95,
		up1d => undef, lat => { p50 => 420, p99 => 3000 },
		thr => { p50 => 30 }),
	    endpoint(provider => 'Chutes', up5 => 10, up30 => 10, up1d => 10,
		lat => undef, thr => undef)), %extra };
	return \%r;
}

# sync(%env) -> { code, out, err }: flr-sync against the stand-in, with
# OPENROUTER_BASE_URL set (the catalogue is {base}/models).
sub sync {
	my (%env) = @_;
	my ($code, $out, $err) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_BASE_URL => $srv->url($BASE),
		FLR_SYNC_RETRY_DELAY_MS => 50, %env),
	    timeout => 120);
	return { code => $code, out => $out, err => $err };
}

sub endpoint_requests {
	return grep { $_->{path} =~ m{/endpoints\z} } $srv->requests;
}

sub stats_of {
	my ($id) = @_;
	my $row = $pg->psql(q{SELECT json_build_object('endpoints', endpoints,
	    'uptime_5m', uptime_5m, 'uptime_30m', uptime_30m,
	    'uptime_1d', uptime_1d, 'latency', latency_p50_ms,
	    'throughput', throughput_p50, 'providers', providers)
	    FROM model_endpoint_stats WHERE model_id = :'p1'}, $id);
	return $row eq '' ? undef : $JSON->decode($row);
}

# What a failed model must keep, as text.
sub rows_of {
	my ($id) = @_;
	return $pg->psql(q{
		SELECT * FROM model_endpoint_stats WHERE model_id = :'p1';
		SELECT * FROM model_endpoint_history WHERE model_id = :'p1'
		ORDER BY fetched_at;
	}, $id);
}

sub count_of { $pg->psql("SELECT count(*) FROM $_[0]") }

# ---- the first run ---------------------------------------------------------

is scalar(@FREE_IDS), 20, 'the fixture has 20 free models';

subtest 'every active model is asked, at once, and its figures folded' => sub {
	$srv->routes(good_routes(delay => 0.4));
	my $r = sync(FLR_ENDPOINT_CONCURRENCY => 4);
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	is $r->{err}, '', 'nothing on stderr';
	like $r->{out}, qr/\Aflr-sync: synced 414 models, 20 free: 20 inserted, 0 updated, 0 deactivated, catalog version 1; endpoint stats: 20 fetched, 0 failed \(run \d+, 1 try, \d+ ms\)\n\z/,
	    'the summary counts them';
	my @req = endpoint_requests();
	is scalar(@req), 20, 'one request per model';
	is_deeply [ sort map { $_->{path} } @req ],
	    [ sort map { path_of($_) } @FREE_IDS ],
	    'at {base}/models/{author}/{slug}/endpoints, the :free kept';
	ok !exists $req[0]{headers}{authorization}, 'no key, no Authorization';
	is $req[0]{headers}{'user-agent'}, 'flr-sync/0.1', 'User-Agent';
	is $srv->max_in_flight, 4, 'four transfers at a time, not more';

	is_deeply stats_of($GPT), { endpoints => 3, uptime_5m => 99.9,
	    uptime_30m => 99.2, uptime_1d => 93, latency => 420,
	    throughput => 51.25, providers => [ 'Chutes', 'OpenInference' ] },
	    'best uptime per window, lowest p50 latency, highest p50 '
	    . 'throughput, distinct providers';
	is_deeply stats_of($FREE_IDS[0]), { endpoints => 1, uptime_5m => 99,
	    uptime_30m => 99, uptime_1d => 90, latency => 500,
	    throughput => 40, providers => ['Alpha'] }, 'a one-provider model';
	is count_of('model_endpoint_stats'), 20, 'a row per model';
	is count_of('model_endpoint_history'), 20, 'a history row per model';
	is $pg->psql(q{SELECT uptime_30m || '|' || latency_p50_ms || '|'
	    || throughput_p50 FROM model_endpoint_history
	    WHERE model_id = :'p1'}, $GPT), '99.2|420|51.25', 'the history row';
	is $pg->psql(q{SELECT count(*) FROM model_endpoint_attempts
	    WHERE last_error IS NULL}), 20, 'every attempt recorded as good';
};

subtest 'one at a time with FLR_ENDPOINT_CONCURRENCY=1; the key is sent' => sub {
	$srv->routes(good_routes(delay => 0.05));
	my $r = sync(FLR_ENDPOINT_CONCURRENCY => 1,
	    OPENROUTER_API_KEY => 'sk-or-test');
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	is $srv->max_in_flight, 1, 'never two at once';
	my @req = endpoint_requests();
	is scalar(@req), 20, 'all 20 asked';
	is scalar(grep { ($_->{headers}{authorization} // '') eq 'Bearer sk-or-test' } @req),
	    20, 'each with the key as a Bearer token';
	is count_of('model_endpoint_history'), 40, 'a second history row each';
};

# ---- the bound ---------------------------------------------------------------

subtest 'FLR_ENDPOINT_FETCH_MAX bounds a run; every model gets its turn' => sub {
	my %asked;
	my $overlap = 0;
	for my $run (1 .. 4) {
		$srv->routes(good_routes());
		my $r = sync(FLR_ENDPOINT_FETCH_MAX => 5);
		is $r->{code}, 0, "run $run: exit 0" or diag $r->{err};
		like $r->{out}, qr/; endpoint stats: 5 fetched, 0 failed /,
		    "run $run: 5 fetched";
		my @paths = map { $_->{path} } endpoint_requests();
		is scalar(@paths), 5, "run $run: 5 requests";
		$overlap += grep { $asked{$_}++ } @paths;
	}
	is $overlap, 0, 'no model asked twice in four runs';
	is scalar(keys %asked), 20, 'so all 20 had their turn';

	$srv->routes(good_routes());
	my $r = sync(FLR_ENDPOINT_FETCH_MAX => 0);
	is $r->{code}, 0, 'FLR_ENDPOINT_FETCH_MAX=0: exit 0';
	unlike $r->{out}, qr/endpoint stats/, 'no endpoint stats in the summary';
	is scalar(endpoint_requests()), 0, 'and no request';
};

# ---- hostile answers ---------------------------------------------------------

# Model => (its answer, the reason its attempt records).
my @ID = @FREE_IDS;
my %BAD = (
	$ID[0] => [ { status => 500, body => 'oops' }, qr/\AHTTP 500\z/ ],
	$ID[1] => [ { hang => 1 }, qr/\AOperation timed out after \d+ milliseconds/ ],
	$ID[2] => [ { body => '<html>502 Bad Gateway</html>' },
	    qr/\Apayload refused: not JSON: / ],
	$ID[3] => [ { body => answer_body($ID[3],
	    endpoint(provider => 'P', up5 => '99', up30 => 99, up1d => 99)) },
	    qr/\Apayload refused: endpoint 0: uptime_last_5m is not a number\z/ ],
	$ID[4] => [ { body => answer_body($ID[4],
	    endpoint(provider => 'P', up5 => 99, up30 => 150, up1d => 99)) },
	    qr/\Apayload refused: endpoint 0: uptime_last_30m is out of range\z/ ],
	$ID[5] => [ { size => 1024 * 1024 + 1, no_length => 1 },
	    qr/\Aresponse body larger than 1048576 bytes\z/ ],
	$ID[6] => [ { body => '{"data":{"endpoints":[{"uptime_last_30m":NaN}]}}' },
	    qr/\Apayload refused: not JSON: / ],
	$ID[7] => [ { body => answer_body($ID[7],
	    endpoint(provider => 'P', up5 => 99, up30 => 99, up1d => 99,
		lat => { p50 => -3 })) },
	    qr/\Apayload refused: endpoint 0: latency_last_30m.p50 is out of range\z/ ],
	$ID[8] => [ { body => '{"data":{"endpoints":{"0":{}}}}' },
	    qr/\Apayload refused: data.endpoints is missing or not an array\z/ ],
	$ID[9] => [ { status => 404, body => '{"error":"not found"}' },
	    qr/\AHTTP 404\z/ ],
);
my $NULL_LATENCY = $ID[10];

subtest 'hostile answers: those models keep their rows, the run succeeds' => sub {
	my %before = map { $_ => rows_of($_) } keys %BAD;
	my $history = count_of('model_endpoint_history');
	my $routes = good_routes();
	$routes->{path_of($_)} = $BAD{$_}[0] for keys %BAD;
	# Without a key OpenRouter sends no latency: still a good answer.
	$routes->{path_of($NULL_LATENCY)} = { body => answer_body($NULL_LATENCY,
	    endpoint(provider => 'Beta', up5 => 80, up30 => 85, up1d => 88,
		lat => undef)) };
	$srv->routes($routes);
	my $t0 = time;
	my $r = sync(FLR_SYNC_TIMEOUT_S => 2);
	is $r->{code}, 0, 'exit 0: the catalogue decides' or diag $r->{err};
	like $r->{out}, qr/; endpoint stats: 10 fetched, 10 failed \(run /,
	    'the summary counts the failures';
	cmp_ok time - $t0, '<', 30, 'a hanging answer is cut by the timeout';
	my @warn = grep { /endpoint stats of/ } split /\n/, $r->{err};
	is scalar(@warn), 10, 'one warning per failed model';
	for my $id (sort keys %BAD) {
		is rows_of($id), $before{$id}, "$id: statistics and history untouched";
		my $why = $pg->psql(q{SELECT last_error FROM model_endpoint_attempts
		    WHERE model_id = :'p1'}, $id);
		like $why, $BAD{$id}[1], "$id: the reason recorded";
		ok scalar(grep { index($_, "endpoint stats of $id: ") >= 0 } @warn),
		    "$id: and logged";
	}
	is count_of('model_endpoint_history'), $history + 10,
	    'a history row for each good answer only';
	is_deeply stats_of($NULL_LATENCY), { endpoints => 1, uptime_5m => 80,
	    uptime_30m => 85, uptime_1d => 88, latency => undef,
	    throughput => 40, providers => ['Beta'] },
	    'latency null: stored as NULL, the rest as sent';
	is scalar(grep { $_->{path} eq path_of($ID[0]) } $srv->requests), 1,
	    'a 500 is not tried again within the run';
};

subtest 'a model whose fetch fails waits its turn like the others' => sub {
	my @due = split /\n/, $pg->psql(q{SELECT f.id FROM free_models f
	    LEFT JOIN model_endpoint_attempts a ON a.model_id = f.id
	    WHERE f.is_active ORDER BY a.attempted_at NULLS FIRST,
	    f.id COLLATE "C" LIMIT 5});
	my $routes = good_routes();
	$routes->{path_of($_)} = { status => 503 } for @due;
	$srv->routes($routes);
	my $r = sync(FLR_ENDPOINT_FETCH_MAX => 5);
	like $r->{out}, qr/; endpoint stats: 0 fetched, 5 failed /,
	    'the five due ones fail' or diag $r->{err};
	is_deeply [ sort map { $_->{path} } endpoint_requests() ],
	    [ sort map { path_of($_) } @due ], 'they were the ones asked';
	$srv->routes(good_routes());
	$r = sync(FLR_ENDPOINT_FETCH_MAX => 5);
	like $r->{out}, qr/; endpoint stats: 5 fetched, 0 failed /, 'next run';
	my %failed = map { path_of($_) => 1 } @due;
	is scalar(grep { $failed{$_->{path}} } endpoint_requests()), 0,
	    'asks five others: a failure does not keep the front of the queue';
};

# ---- when the step does not run ------------------------------------------------

subtest 'no endpoint statistics when the catalogue comes from elsewhere' => sub {
	$srv->routes(good_routes());
	my ($code, $out, $err) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_MODELS_URL => $srv->url("$BASE/models")));
	is $code, 0, 'exit 0' or diag $err;
	unlike $out, qr/endpoint stats/, 'OPENROUTER_MODELS_URL alone: none';
	is scalar(endpoint_requests()), 0, 'no request';

	($code, $out, $err) = FLR::Pg::run([$BIN],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
		OPENROUTER_MODELS_URL => "file://$FIXTURE",
		OPENROUTER_BASE_URL => $srv->url($BASE)));
	is $code, 0, 'a file catalogue with a base URL: exit 0' or diag $err;
	like $out, qr/; endpoint stats: 20 fetched, 0 failed/,
	    'the base URL set: asked there';
};

subtest 'a failed catalogue: no endpoint statistics either' => sub {
	my $routes = good_routes();
	$routes->{"$BASE/models"} = { status => 404 };
	$srv->routes($routes);
	my $r = sync();
	is $r->{code}, 1, 'exit 1';
	like $r->{err}, qr/\Aflr-sync: fetch failed: HTTP 404\n\z/,
	    'the one line of the failure';
	is scalar(endpoint_requests()), 0, 'no endpoint asked';
};

subtest 'an inactive model is not asked' => sub {
	my $gone = $ID[19];
	my $p = $JSON->decode(slurp($FIXTURE));
	$p->{data} = [ grep { $_->{id} ne $gone } @{$p->{data}} ];
	my $file = File::Temp->new(SUFFIX => '.json');
	print {$file} $JSON->encode($p);
	close $file;
	my $routes = good_routes();
	$routes->{"$BASE/models"} = { file => "$file" };
	$srv->routes($routes);
	my $r = sync();
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/1 deactivated.*; endpoint stats: 19 fetched/,
	    'one deactivated, 19 asked';
	ok !grep({ $_->{path} eq path_of($gone) } endpoint_requests()),
	    'not the inactive one';
	ok defined stats_of($gone), 'its last figures stay';
};

# ---- retention ---------------------------------------------------------------

subtest 'the history goes with the availability days' => sub {
	$pg->psql(q{INSERT INTO model_endpoint_history (model_id, fetched_at,
	    uptime_30m) SELECT :'p1', now() - make_interval(days => d), 50
	    FROM unnest(ARRAY[89, 91, 95, 120]) AS d}, $GPT);
	$srv->routes(good_routes());
	my $r = sync(FLR_ENDPOINT_FETCH_MAX => 1);
	is $r->{code}, 0, 'exit 0' or diag $r->{err};
	like $r->{out}, qr/\n\Qflr-sync: retention deleted 0 reports (and 0 rollup rows), 0 request logs, 0 availability days, 3 endpoint history rows (\E\d+ ms\)\n\z/,
	    'the retention line counts them';
	is $pg->psql(q{SELECT count(*) FROM model_endpoint_history
	    WHERE uptime_30m = 50}), 1, 'the row inside 90 days stays';

	$r = sync(FLR_ENDPOINT_FETCH_MAX => 1, FLR_AVAILABILITY_RETENTION_DAYS => 30);
	like $r->{out}, qr/, 1 endpoint history rows \(/,
	    'FLR_AVAILABILITY_RETENTION_DAYS sets the period';
	is $pg->psql(q{SELECT count(*) FROM model_endpoint_history
	    WHERE fetched_at < now() - interval '31 days'}), 0, 'none older left';
};

done_testing;
