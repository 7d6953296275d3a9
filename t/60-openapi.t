# The OpenAPI document (fcgi/openapi.json) against the real stack: a clean
# `redocly lint` with the recommended rules (t/node/redocly.yaml); GET
# /api/openapi.json serving exactly the file's bytes; every request example
# of the document sent to the service, the answer's status documented for
# its operation and its body and headers valid against what is documented
# for that status; and every response example valid against its own
# schema.  JSON Schema validation is ajv's (2020-12) in
# t/bin/openapi-check.mjs.  node and the npm packages come from
# `t/bin/deps --node` (make check runs it); without them this test fails.
#
# How an example is sent is read from its x-flr-request member (see the
# document's info.description); the users and keys it names are made
# here: alice@example.com holds the working key, full@example.com ten
# keys, spent@example.com a used-up quota, late@example.com an expired
# key.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::FakeOpenRouter;

my $REPO = $FLR::Pg::REPO;
my $DOC_PATH = "$REPO/fcgi/openapi.json";
my $NODE_DIR = $ENV{FLR_NODE_DIR} // "$REPO/build/node";
my $CHECKER = "$REPO/t/bin/openapi-check.mjs";
my $REDOCLY = "$NODE_DIR/node_modules/\@redocly/cli/bin/cli.js";
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $tmp = tempdir('flr-openapi-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

# Missing tools are a failure, never a skip: the contract goes unchecked.
my $node = FLR::Pg::find_bin('node');
my @missing;
push @missing, 'node (apt-get install nodejs)' if !$node;
push @missing, "\@redocly/cli in $NODE_DIR" if !-f $REDOCLY;
push @missing, "ajv and ajv-formats in $NODE_DIR"
    if !-d "$NODE_DIR/node_modules/ajv" || !-d "$NODE_DIR/node_modules/ajv-formats";
if (@missing) {
	fail('the OpenAPI checks need node and the npm packages of t/node/');
	diag("missing: $_") for @missing;
	diag('run t/bin/deps --node (make check does) to install them');
	done_testing;
	exit;
}

my $DOC_BYTES = FLR::Pg::slurp($DOC_PATH);
my $DOC = $json->decode($DOC_BYTES);

# --- (a) The linter. -------------------------------------------------------
{
	my ($rc, $out, $err) = FLR::Pg::run([ $node, $REDOCLY, 'lint',
	    '--config', "$REPO/t/node/redocly.yaml", '--format', 'json', $DOC_PATH ],
	    env => FLR::Pg::clean_env(REDOCLY_TELEMETRY => 'off',
	        REDOCLY_SUPPRESS_UPDATE_NOTICE => 'true', NO_COLOR => '1'),
	    timeout => 180);
	my $report = eval { $json->decode($out) };
	my $t = $report ? $report->{totals} : {};
	ok($rc == 0 && $report && !$t->{errors} && !$t->{warnings} && !$t->{ignored},
	    'redocly lint (recommended): no error, no warning')
	    or diag("exit $rc\n", $report ? join("\n", map {
		"$_->{ruleId}: $_->{message} at "
		    . ($_->{location}[0]{pointer} // '?') } @{ $report->{problems} })
		: "$out\n$err");
}

# --- The stack, and who calls it. --------------------------------------------
my $SECRET = 'openapi-test-admin-secret-0123456789';
my $FIXTURE = "file://$FindBin::Bin/fixtures/openrouter-models.json";
# Every example goes out at once: nginx's per-address limits of the admin
# routes and the demo listing must not answer instead of the workers.  The
# chat route's examples reach a stand-in for OpenRouter, whose every model
# answers.
my $fake = FLR::FakeOpenRouter->new;
my $s = FLR::Stack->new(workers => 2, admin_rate => '1000r/s',
    demo_rate => '1000r/s',
    env => { ADMIN_SECRET => $SECRET, OPENROUTER_MODELS_URL => $FIXTURE,
    OPENROUTER_BASE_URL => $fake->base_url,
    OPENROUTER_API_KEY => 'sk-or-v1-openapi-test' });
my ($src, undef, $serr) = $s->run_sync(url => $FIXTURE);
is($src, 0, 'catalogue loaded from the fixture') or diag($serr);

my $main = $s->create_key_full(email => 'alice@example.com',
    rate_limit_max => 100000, name => 'laptop');
my %AUTH = (
	key => "Bearer $main->{key}",
	malformed => 'Basic YWxpY2U6c2VjcmV0',
	unknown => 'Bearer fma_' . ('A' x 43),
	expired => 'Bearer ' . $s->create_key(email => 'late@example.com',
	    expires_at => '2020-01-01 00:00Z'),
	exhausted => 'Bearer ' . $s->create_key(email => 'spent@example.com',
	    rate_limit_max => 0),
);
my @full = map { $s->create_key(email => 'full@example.com', name => "k$_") } 1 .. 10;
$AUTH{full} = "Bearer $full[0]";

# Reports in the last hours, so that health has models and a timeline.
{
	my $uid = $main->{user_id};
	for my $r (['openai/gpt-oss-20b:free', 'error', 3, '5 minutes'],
	    ['openai/gpt-oss-20b:free', 'success', 1, '5 minutes'],
	    ['z-ai/glm-5.2:free', 'rate_limited', 1, '2 hours'],
	    ['z-ai/glm-5.2:free', 'success', 9, '2 hours']) {
		$s->psql("INSERT INTO model_feedback (model_id, user_id, outcome, created_at)"
		    . " SELECT '$r->[0]', $uid, '$r->[1]', now() - interval '$r->[3]'"
		    . " FROM generate_series(1, $r->[2])");
	}
}

# --- (b) The document, as served. --------------------------------------------
{
	my $r = $s->request('GET', '/api/openapi.json');
	is($r->{status}, 200, 'GET /api/openapi.json: 200');
	ok($r->{content} eq $DOC_BYTES, 'it serves the bytes of fcgi/openapi.json')
	    or diag('got ' . length($r->{content}) . ' bytes, the file has '
	    . length($DOC_BYTES));
	is($r->{headers}{'content-type'}, 'application/json', 'Content-Type');
	is($r->{headers}{'cache-control'}, 'public, max-age=300', 'Cache-Control');
	is($r->{headers}{'access-control-allow-origin'}, '*', 'CORS');
	like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f-]{36}$/, 'X-Request-Id');
	my $h = $s->request('HEAD', '/api/openapi.json');
	ok($h->{status} == 200 && ($h->{content} // '') eq ''
	    && ($h->{headers}{'content-length'} // -1) == length $DOC_BYTES,
	    'HEAD: the headers without the body');
	is($s->request('POST', '/api/openapi.json')->{status}, 405,
	    'POST /api/openapi.json: 405');
}

# --- The document's pieces. --------------------------------------------------
sub pointer_get {
	my ($ptr) = @_;
	my $v = $DOC;
	for my $k (grep { length } split m{/}, $ptr =~ s/^#//r) {
		$k =~ s/~1/\//g;
		$k =~ s/~0/~/g;
		$v = ref $v eq 'HASH' ? $v->{$k} : undef;
		die "no $ptr in the document\n" if !defined $v;
	}
	return $v;
}

sub esc {
	my ($k) = @_;
	$k =~ s/~/~0/g;
	$k =~ s{/}{~1}g;
	return $k;
}

# A Reference Object followed to what it names: (object, its pointer).
sub deref {
	my ($obj, $ptr) = @_;
	while (ref $obj eq 'HASH' && exists $obj->{'$ref'}) {
		$ptr = $obj->{'$ref'};
		$obj = pointer_get($ptr);
	}
	return ($obj, $ptr);
}

# Percent-encoding of a query value or name (RFC 3986 unreserved kept).
sub pct {
	my ($v) = @_;
	my $s = "$v";
	utf8::encode($s) if utf8::is_utf8($s);
	$s =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
	return $s;
}

# A query or header value from an example's JSON value.
sub as_text {
	my ($v) = @_;
	return $v ? 'true' : 'false' if JSON::PP::is_bool($v);
	my $copy = $v;
	return "$copy";
}

# RFC 8941 List of tokens with parameters (X-FLR-Adjusted): a list of
# [name, {param => value}], or undef when it does not parse.
sub parse_sf_list {
	my ($s) = @_;
	my @members;
	my $tok = qr/[A-Za-z*][A-Za-z0-9_:.\/%*!#\$&'^`|~+-]*/;
	pos($s) = 0;
	$s =~ /\G[ \t]*/gc;
	return [] if pos($s) == length $s;
	while (1) {
		my $name;
		if ($s =~ /\G($tok)/gc) { $name = $1 }
		elsif ($s =~ /\G"((?:[^"\\]|\\.)*)"/gc) { ($name = $1) =~ s/\\(.)/$1/g }
		else { return undef }
		my %p;
		while ($s =~ /\G;[ ]*([a-z*][a-z0-9_.*-]*)/gc) {
			my ($k, $v) = ($1, '?1');
			if ($s =~ /\G=/gc) {
				if ($s =~ /\G"((?:[^"\\]|\\.)*)"/gc) { ($v = $1) =~ s/\\(.)/$1/g }
				elsif ($s =~ /\G($tok|-?\d+(?:\.\d+)?|\?[01])/gc) { $v = $1 }
				else { return undef }
			}
			$p{$k} = $v;
		}
		push @members, [ $name, \%p ];
		$s =~ /\G[ \t]*/gc;
		last if pos($s) == length $s;
		$s =~ /\G,[ \t]*/gc or return undef;
	}
	return \@members;
}

# --- (c) Every request example, sent. ----------------------------------------
my (@checks, @cases, %expected_status);
my $http = HTTP::Tiny->new(timeout => 120, agent => 'flr-tests/1');

sub add_check {
	my ($case, $what, %c) = @_;
	push @checks, \%c;
	push @{ $case->{checks} }, [ $#checks, $what ];
}

# A key of alice's, or of another user's for the admin route, to delete.
sub fresh_key_id {
	my ($admin) = @_;
	return $s->create_key_full(email => $admin ? 'fresh@example.com'
	    : 'alice@example.com', name => 'to delete')->{id};
}

sub header_value {
	my ($res, $name) = @_;
	my $v = $res->{headers}{lc $name};
	return ref $v ? join(', ', @$v) : $v;
}

# Checks one answer against the operation's documented responses.
sub check_response {
	my ($case, $res, $label) = @_;
	my $op = $case->{op};
	my $status = $res->{status};
	my $doc_res = $op->{responses}{$status};
	if (!$doc_res) {
		push @{ $case->{why} }, "$label: status $status is not documented for "
		    . "this operation; body: " . substr($res->{content} // '', 0, 300);
		return;
	}
	my ($r, $rptr) = deref($doc_res, "$case->{ptr}/responses/$status");
	my $body = $res->{content} // '';
	my $ct = (header_value($res, 'Content-Type') // '') =~ s/;.*//r;
	if ($r->{content}) {
		if (!$r->{content}{$ct}) {
			push @{ $case->{why} }, "$label: Content-Type '$ct' is not "
			    . "documented for $status";
		} else {
			add_check($case, "$label: body ($status $ct)",
			    pointer => "$rptr/content/" . esc($ct) . '/schema', json => $body);
		}
	} elsif ($body ne '') {
		push @{ $case->{why} }, "$label: $status is documented without a body";
	}
	for my $name (sort keys %{ $r->{headers} // {} }) {
		my ($h, $hptr) = deref($r->{headers}{$name},
		    "$rptr/headers/" . esc($name));
		my $v = header_value($res, $name);
		if (!defined $v) {
			push @{ $case->{why} }, "$label: no $name header"
			    if $h->{required};
			next;
		}
		my $inst = ($h->{schema}{type} // '') eq 'integer' && $v =~ /^-?\d+$/
		    ? 0 + $v : $v;
		add_check($case, "$label: header $name: $v",
		    pointer => "$hptr/schema", instance => $inst);
	}
}

sub check_expectations {
	my ($case, $res) = @_;
	my $x = $case->{x};
	my $doc = eval { $json->decode($res->{content}) };
	if (defined $x->{expect} && $res->{status} != $x->{expect}) {
		push @{ $case->{why} }, "status $res->{status}, the example expects "
		    . "$x->{expect}; body: " . substr($res->{content} // '', 0, 300);
		return;
	}
	for my $f (qw(code param)) {
		next if !defined $x->{$f};
		my $got = ref $doc eq 'HASH' ? $doc->{$f} // 'none' : 'no body';
		push @{ $case->{why} }, "$f $got, the example expects $x->{$f}"
		    if $got ne $x->{$f};
	}
	for my $name (sort keys %{ $x->{expectHeaders} // {} }) {
		my $got = header_value($res, $name) // '(absent)';
		push @{ $case->{why} }, "$name: $got, the example expects "
		    . $x->{expectHeaders}{$name} if $got ne $x->{expectHeaders}{$name};
	}
	return if !$x->{adjusted};
	my $raw = header_value($res, 'X-FLR-Adjusted');
	my $list = defined $raw ? parse_sf_list($raw) : undef;
	if (!$list) {
		push @{ $case->{why} }, 'X-FLR-Adjusted: ' . ($raw // 'absent')
		    . ', the example expects an RFC 8941 List';
		return;
	}
	for my $want (@{ $x->{adjusted} }) {
		my ($m) = grep { $_->[0] eq $want->{name} } @$list;
		if (!$m) {
			push @{ $case->{why} }, "X-FLR-Adjusted: $raw has no member $want->{name}";
			next;
		}
		for my $k (grep { $_ ne 'name' } sort keys %$want) {
			my $got = $m->[1]{$k};
			my $ok = defined $want->{$k} ? defined $got && $got eq $want->{$k}
			    : !defined $got;
			push @{ $case->{why} }, "X-FLR-Adjusted: $want->{name};$k is "
			    . ($got // 'absent') . ', the example expects '
			    . ($want->{$k} // 'absent') if !$ok;
		}
	}
}

# The request of one example: method, path, headers, body.
sub build_request {
	my ($case) = @_;
	my ($op, $x) = @$case{qw(op x)};
	my (@query, %h);
	my $path = $case->{path};
	for my $p (@{ $case->{params} }) {
		my $ex = $p->{name} eq ($case->{param} // '')
		    && $p->{in} eq ($case->{in} // '')
		    ? $case->{example} : undef;
		if (!$ex && $p->{required}) {
			($ex) = grep { $_->{'x-flr-request'}{default} }
			    values %{ $p->{examples} // {} };
		}
		next if !$ex;
		my $px = $ex->{'x-flr-request'} // {};
		my $v = ($px->{pathId} // '') eq 'fresh'
		    ? fresh_key_id($case->{admin}) : as_text($ex->{value});
		if ($p->{in} eq 'path') { $path =~ s/\{\Q$p->{name}\E\}/pct($v)/e }
		elsif ($p->{in} eq 'query') { push @query, pct($p->{name}) . '=' . pct($v) }
		elsif ($p->{in} eq 'header') { $h{$p->{name}} = $v }
	}
	push @query, $x->{query} if defined $x->{query};
	my $auth = $x->{auth} // 'key';
	$h{Authorization} = $AUTH{$auth} // die "unknown auth $auth\n"
	    if $case->{bearer} && $auth ne 'none';
	my $admin = $x->{admin} // 'secret';
	$h{'X-Admin-Secret'} = $admin eq 'wrong' ? "not-$SECRET" : $SECRET
	    if $case->{admin} && $admin ne 'none';
	my $body;
	if ($case->{body_examples}) {
		my $b = $case->{body} // (grep { $_->{'x-flr-request'}{default} }
		    values %{ $case->{body_examples} })[0]{value};
		$b = { %$b, map { $_ => 'x' x $x->{fill}{$_} } keys %{ $x->{fill} } }
		    if $x->{fill};
		$body = $json->encode($b);
		$h{'Content-Type'} = 'application/json';
	}
	%h = (%h, %{ $x->{headers} // {} });
	my $url = $s->url($path) . (@query ? '?' . join('&', @query) : '');
	return (uc($x->{method} // $case->{method}), $url,
	    { headers => \%h, defined $body ? (content => $body) : () });
}

sub send_case {
	my ($case) = @_;
	my $x = $case->{x};
	my ($method, $url, $opt) = build_request($case);
	$case->{request} = "$method $url";
	if ($x->{primeBody}) {
		my $first = $http->request($method, $url,
		    { %$opt, content => $json->encode($x->{primeBody}) });
		check_response($case, $first, 'the first request');
	}
	my $res = $http->request($method, $url, $opt);
	check_response($case, $res, 'the answer');
	if ($x->{sendTwice}) {
		my $again = $http->request($method, $url, $opt);
		check_response($case, $again, 'the repeated request');
		push @{ $case->{why} }, 'the repeated request got another answer: '
		    . "$res->{content} then $again->{content}"
		    if $again->{status} != $res->{status}
		    || ($again->{content} // '') ne ($res->{content} // '');
		$res = $again;
	}
	check_expectations($case, $res);
}

for my $path (sort keys %{ $DOC->{paths} }) {
	for my $method (qw(get put post delete)) {
		my $op = $DOC->{paths}{$path}{$method} or next;
		my $ptr = '#/paths/' . esc($path) . "/$method";
		my @params = map { (deref($_))[0] } @{ $op->{parameters} // [] };
		my %schemes = map { %$_ } @{ $op->{security} // $DOC->{security} // [] };
		my $body_ex = $op->{requestBody}
		    ? $op->{requestBody}{content}{'application/json'}{examples} : undef;
		my %base = (op => $op, ptr => $ptr, path => $path, method => $method,
		    params => \@params, bearer => exists $schemes{bearerKey},
		    admin => exists $schemes{adminSecret}, body_examples => $body_ex);
		my @mine;
		for my $p (@params) {
			for my $name (sort keys %{ $p->{examples} // {} }) {
				my $e = $p->{examples}{$name};
				push @mine, { %base, param => $p->{name}, in => $p->{in},
				    example => $e, label => "$p->{in} $p->{name} example $name" };
			}
		}
		for my $name (sort keys %{ $body_ex // {} }) {
			push @mine, { %base, body => $body_ex->{$name}{value},
			    example => $body_ex->{$name}, label => "body example $name" };
		}
		ok(scalar @mine, "$method $path has request examples");
		for my $c (@mine) {
			$c->{x} = $c->{example}{'x-flr-request'} // {};
			$expected_status{$c->{x}{expect}}++ if defined $c->{x}{expect};
			send_case($c);
			push @cases, $c;
		}
	}
}

# Every error status a request can trigger has an example that does.
# Not triggered here, and why: 409 needs a second sync running at the
# same moment; 500, a failing random generator; 502, OpenRouter failing
# (this stack syncs from a file; the chat route's 502 is t/70-router.t's);
# 503, the database gone (t/12-outage.t);
# the 429 of /api/demo/models, nginx's per-address limit, which only the
# production site sets.
{
	my %untriggered = map { $_ => 1 } qw(409 500 502 503);
	my %documented;
	for my $p (values %{ $DOC->{paths} }) {
		$documented{$_}++ for map { keys %{ $_->{responses} } } values %$p;
	}
	for my $st (sort grep { $_ >= 400 && !$untriggered{$_} } keys %documented) {
		ok($expected_status{$st}, "an example triggers a documented $st");
	}
}

# --- (d) Every response example (and request body example) against its
# own schema. ------------------------------------------------------------------
my @example_checks;
{
	my @media;    # [pointer of a media type object, what]
	for my $name (sort keys %{ $DOC->{components}{responses} }) {
		my $c = $DOC->{components}{responses}{$name}{content} // {};
		push @media, map { '#/components/responses/' . esc($name) . '/content/' . esc($_) } sort keys %$c;
	}
	for my $path (sort keys %{ $DOC->{paths} }) {
		for my $method (sort keys %{ $DOC->{paths}{$path} }) {
			my $op = $DOC->{paths}{$path}{$method};
			my $ptr = '#/paths/' . esc($path) . "/$method";
			for my $st (sort keys %{ $op->{responses} }) {
				my $r = $op->{responses}{$st};
				next if $r->{'$ref'};
				push @media, map { "$ptr/responses/$st/content/" . esc($_) } sort keys %{ $r->{content} // {} };
			}
			push @media, "$ptr/requestBody/content/application~1json" if $op->{requestBody};
		}
	}
	for my $m (@media) {
		my $mt = pointer_get($m);
		for my $name (sort keys %{ $mt->{examples} // {} }) {
			push @checks, { pointer => "$m/schema", instancePointer => "$m/examples/" . esc($name) . '/value' };
			push @example_checks, [ $#checks, "example $m/examples/$name" ];
		}
	}
}

# --- One run of the validator, then one verdict per example. ------------------
my $results;
{
	my $file = "$tmp/checks.json";
	open my $fh, '>:raw', $file or die "$file: $!";
	print {$fh} $json->encode({ document => $DOC_PATH, checks => \@checks });
	close $fh or die "$file: $!";
	my ($rc, $out, $err) = FLR::Pg::run([ $node, $CHECKER, $file ],
	    timeout => 300, env => FLR::Pg::clean_env(FLR_NODE_DIR => $NODE_DIR));
	$results = eval { $json->decode($out) };
	ok($rc == 0 && ref $results eq 'ARRAY' && @$results == @checks,
	    'the schema checks ran (' . scalar(@checks) . ')')
	    or diag("exit $rc: $err");
	$results = [] if ref $results ne 'ARRAY';
}
for my $c (@cases) {
	my @why = @{ $c->{why} // [] };
	for my $chk (@{ $c->{checks} // [] }) {
		my ($i, $what) = @$chk;
		my $r = $results->[$i] // { valid => 0, errors => ['not checked'] };
		next if $r->{valid};
		my @e = @{ $r->{errors} };
		push @why, "$what: " . join('; ', @e[0 .. ($#e < 7 ? $#e : 7)])
		    . (@e > 8 ? ' (and ' . (@e - 8) . ' more)' : '');
	}
	my $summary = $c->{example}{summary} // '';
	ok(!@why, "\U$c->{method}\E $c->{path}, $c->{label} ($summary)")
	    or diag("$c->{request}\n" . join("\n", @why));
}
for my $e (@example_checks) {
	my ($i, $what) = @$e;
	my $r = $results->[$i] // { valid => 0, errors => ['not checked'] };
	ok($r->{valid}, $what) or diag(join("\n", @{ $r->{errors} }));
}

done_testing;
