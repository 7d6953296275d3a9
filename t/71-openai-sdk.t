# The official OpenAI SDK for Node (the openai npm package pinned in
# t/node/package.json) as a real client of the router: chat, streaming,
# tools (plain and streamed), the model list, and what it makes of the
# router's errors — against the real stack, with a stand-in for
# OpenRouter behind it (FLR::FakeOpenRouter).  The SDK runs in
# t/bin/openai-sdk.mjs, one scenario per run; node and the package come
# from `t/bin/deps --node` (make check runs it); without them this test
# fails.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::FakeOpenRouter;

my $REPO = $FLR::Pg::REPO;
my $NODE_DIR = $ENV{FLR_NODE_DIR} // "$REPO/build/node";
my $SCRIPT = "$REPO/t/bin/openai-sdk.mjs";
my $node = FLR::Pg::find_bin('node');
if (!$node || !-d "$NODE_DIR/node_modules/openai") {
	fail('the SDK tests need node and the openai package of t/node/');
	diag('run t/bin/deps --node (make check does) to install them');
	done_testing;
	exit;
}
my $pinned = JSON::PP->new->decode(FLR::Pg::slurp("$REPO/t/node/package.json"))
    ->{dependencies}{openai};
my $installed = JSON::PP->new->decode(
    FLR::Pg::slurp("$NODE_DIR/node_modules/openai/package.json"))->{version};
is($installed, $pinned, "the SDK is the pinned openai $pinned");

my $json = JSON::PP->new->utf8->canonical;
my $fake = FLR::FakeOpenRouter->new;
my $s = FLR::Stack->new(workers => 1, router_workers => 2, env => {
	OPENROUTER_BASE_URL => $fake->base_url,
	OPENROUTER_API_KEY => 'sk-or-v1-sdk-test',
});
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'catalogue loaded') or diag($err);
my $key = $s->create_key(email => 'sdk@example.com', rate_limit_max => 1000);
my @free = split /\n/, $s->psql('SELECT id FROM free_models WHERE is_active ORDER BY id');
my ($A, $B) = @free;

sub sdk {
	my ($scenario, $model) = @_;
	my ($code, $out, $e) = FLR::Pg::run([ $node, $SCRIPT, $scenario,
	    defined $model ? $model : () ], timeout => 120,
	    env => FLR::Pg::clean_env(FLR_NODE_DIR => $NODE_DIR,
	    FLR_BASE_URL => $s->url('/api/v1'), FLR_KEY => $key));
	my $r = eval { $json->decode($out) };
	diag("exit $code: $out$e") if $code || !$r;
	return $r // {};
}

my $r = sdk('chat', $A);
ok($r->{ok}, 'chat.completions.create') or diag(explain $r);
is($r->{model}, $A, 'the answer names the model');
is($r->{content}, "Hello from $A", 'and carries its message');
is($r->{flrModel}, $A, 'X-FLR-Model, read through withResponse()');
is($r->{attempts}, 1, 'X-FLR-Attempts');
my @req = $fake->requests;
is($req[-1]{headers}{authorization}, 'Bearer sk-or-v1-sdk-test',
    "upstream with the operator's key, never the SDK's fma_ key");

$fake->reset;
$fake->script($A => 'unavailable');
$r = sdk('chat', 'auto');
ok($r->{ok} && $r->{model} ne $A, 'model "auto": an answer from a working model')
    or diag(explain $r);

$fake->reset;
$fake->script($A => 'processing');
$r = sdk('stream', $A);
ok($r->{ok}, 'stream: true, read with for await') or diag(explain $r);
is($r->{text}, "Hello from $A", 'the streamed text');
is($r->{finish}, 'stop', 'finish_reason stop');
cmp_ok($r->{chunks}, '>=', 3, 'in several chunks');

$r = sdk('tools', $A);
ok($r->{ok}, 'tools') or diag(explain $r);
is($r->{finish}, 'tool_calls', 'finish_reason tool_calls');
is($r->{name}, 'weather', 'the tool called');
is_deeply($r->{args}, { city => 'Paris' }, 'with its arguments');
ok(ref(($fake->requests)[-1]{json}{tools}) eq 'ARRAY', 'the tools went upstream');

$r = sdk('stream-tools', $A);
ok($r->{ok}, 'tools, streamed') or diag(explain $r);
is($r->{name}, 'weather', 'the streamed tool call');
is($r->{args}, '{"city":"Paris"}', 'its arguments, put together');

$r = sdk('models');
ok($r->{ok}, 'models.list()') or diag(explain $r);
is_deeply([ map { $_->{id} } @{ $r->{models} // [] } ], \@free,
    'the free catalogue, as the SDK pages it');
ok(!grep({ $_->{object} ne 'model' || !$_->{owned_by} } @{ $r->{models} // [] }),
    'each an OpenAI model object');

# What the SDK makes of the router's errors.
$r = sdk('error', 'openai/gpt-4o');
ok(!$r->{ok}, 'a paid model: the SDK raises');
is($r->{kind}, 'BadRequestError', 'BadRequestError');
is($r->{status}, 400, 'status 400');
$fake->reset;
$fake->script($A => 'quota_day');
$r = sdk('error', $A);
is($r->{kind}, 'RateLimitError', "OpenRouter's account quota: RateLimitError");
is($r->{status}, 429, 'status 429');
$fake->script($A => 'drop');
$r = sdk('stream', $A);
ok(!$r->{ok}, 'a stream that breaks off: the SDK raises while iterating')
    or diag(explain $r);
like($r->{message} // '', qr/broke off/, 'with the error event\'s message');
$fake->script($A => 'unavailable', $B => 'unavailable');
$r = sdk('error', $A);
is($r->{status}, 502, 'no model answered: status 502');

done_testing;
