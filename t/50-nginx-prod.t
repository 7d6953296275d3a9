# The production nginx site (nginx/flr-site.conf + nginx/flr-http.conf,
# with the shared nginx/flr-api.conf) in front of real flr-api workers:
# TLS 1.2/1.3 only with a throwaway self-signed certificate, HSTS, the
# HTTP -> HTTPS redirect, the per-client flood limit's 429 problem
# document, the 16 KiB body cap and the /metrics allow list.  The
# production files are used as they are, with only the host-specific
# lines (ports, certificate, socket, ACME webroot) rewritten for
# loopback; each rewrite must match, so a
# change to those lines fails here instead of testing something else.
# HTTPS requests go through curl (HTTP::Tiny would need IO::Socket::SSL,
# which is not core Perl).
use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Nginx;
use FLR::Assert qw(problem_is);

for my $tool (qw(curl openssl)) {
	plan skip_all => "$tool is not installed"
	    if !FLR::Pg::find_bin($tool);
}

my $s = FLR::Stack->new(workers => 2);
my $dir = tempdir('flr-prod-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
# Started by root, nginx's workers run as nobody: they must reach the
# run directory (temp files, the ACME webroot).
chmod 0755, $dir;
my $nginx_pid;

END {
	# Before FLR::Stack's END stops the workers and the database.
	$s->stop_group($nginx_pid) if $s && $nginx_pid;
}

sub slurp { FLR::Pg::slurp(@_) }

sub spew {
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print {$fh} $text;
	close $fh or die "$path: $!";
}

# rewrite($text, $file, [qr/.../, $replacement], ...) -> text: every
# pattern must match at least once.
sub rewrite {
	my ($text, $file, @subs) = @_;
	for my $sub (@subs) {
		my ($re, $to) = @$sub;
		my $n = $text =~ s/$re/$to/g;
		die "$file: no line matches $re: the test needs updating\n"
		    if !$n;
	}
	return $text;
}

# --- The TLS policy as written. --------------------------------------------
my $site_text = slurp("$FLR::Nginx::NGINX_DIR/flr-site.conf");
like($site_text, qr/^\s*ssl_protocols TLSv1\.2 TLSv1\.3;$/m,
    'the site allows TLSv1.2 and TLSv1.3 only');
unlike($site_text, qr/^\s*ssl_ciphers [^;]*(?:CBC|SHA:|SHA;|RC4|3DES|DES-|MD5|NULL|EXPORT)/m,
    'the site offers AEAD cipher suites only');

# --- A throwaway certificate and the rendered site. ------------------------
my ($rc, $out, $err) = FLR::Pg::run([ 'openssl', 'req', '-x509', '-newkey',
    'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-keyout', "$dir/key.pem", '-out',
    "$dir/cert.pem" ], env => FLR::Pg::clean_env());
is($rc, 0, 'self-signed P-256 certificate made') or diag($err);

make_path("$dir/www/.well-known/acme-challenge", "$dir/tmp",
    { mode => 0755 });
spew("$dir/www/.well-known/acme-challenge/token-1", "token-1.thumbprint\n");
symlink($FLR::Nginx::NGINX_DIR, "$dir/flr") or die "symlink: $!";

sub write_config {
	my ($tls, $plain) = @_;
	my $site = rewrite(slurp("$FLR::Nginx::NGINX_DIR/flr-site.conf"),
	    'flr-site.conf',
	    [ qr/^\s*listen \[::\]:\d+[^\n]*\n/m, '' ],
	    [ qr/\blisten 443 /, "listen 127.0.0.1:$tls " ],
	    [ qr/\blisten 80;/, "listen 127.0.0.1:$plain;" ],
	    [ qr/\bssl_certificate \S+;/, qq{ssl_certificate "$dir/cert.pem";} ],
	    [ qr/\bssl_certificate_key \S+;/,
	      qq{ssl_certificate_key "$dir/key.pem";} ],
	    [ qr{\broot /var/www/html;}, qq{root "$dir/www";} ],
	    [ qr{\bset \$flr_site_root /usr/share/flr/site;},
	      qq{set \$flr_site_root "$FLR::Nginx::NGINX_DIR/site";} ]);
	my $http = rewrite(slurp("$FLR::Nginx::NGINX_DIR/flr-http.conf"),
	    'flr-http.conf',
	    [ qr{\bserver unix:/run/flr/api\.sock;},
	      'server "unix:' . $s->socket_path . '";' ],
	    [ qr{\bserver unix:/run/flr-router/router\.sock;},
	      'server "unix:' . $s->router_socket_path . '";' ]);
	spew("$dir/flr-site.conf", $site);
	spew("$dir/flr-http.conf", $http);
	# What Debian's /etc/nginx/nginx.conf provides around the site,
	# with every path in the run directory.
	spew("$dir/nginx.conf", <<"CONF");
daemon off;
worker_processes 1;
pid "$dir/nginx.pid";
error_log "$dir/error.log" notice;
events {
	worker_connections 256;
}
http {
	access_log "$dir/access.log";
	default_type application/octet-stream;
	client_body_temp_path "$dir/tmp/body";
	fastcgi_temp_path "$dir/tmp/fastcgi";
	proxy_temp_path "$dir/tmp/proxy";
	uwsgi_temp_path "$dir/tmp/uwsgi";
	scgi_temp_path "$dir/tmp/scgi";
	include "$dir/flr-http.conf";
	include "$dir/flr-site.conf";
}
CONF
}

# Ports may be taken between free_port and nginx's bind: try again.
my ($tls, $plain);
for my $try (1 .. 3) {
	($tls, $plain) = (FLR::Pg::free_port(), FLR::Pg::free_port());
	next if $tls == $plain;
	write_config($tls, $plain);
	if ($try == 1) {
		my ($code, $o, $e) = FLR::Pg::run([ FLR::Nginx::bin(), '-t',
		    '-p', "$dir/", '-c', "$dir/nginx.conf", '-e',
		    "$dir/error.log" ], env => FLR::Pg::clean_env());
		is($code, 0, 'nginx -t accepts the production site')
		    or diag($o, $e);
		unlike("$o$e", qr/\[(?:warn|emerg|alert)\]/,
		    'nginx -t: no warnings') or diag($o, $e);
	}
	my $mark = -s "$dir/error.log" // 0;
	my $pid = $s->spawn([ FLR::Nginx::bin(), '-p', "$dir/", '-c',
	    "$dir/nginx.conf", '-e', "$dir/error.log" ],
	    FLR::Pg::clean_env(), "$dir/error.log");
	if (FLR::Stack::wait_port($tls, $pid)
	    && FLR::Stack::wait_port($plain, $pid)) {
		$nginx_pid = $pid;
		last;
	}
	$s->stop_group($pid, 1);
	my $why = substr(slurp("$dir/error.log"), $mark);
	die "production nginx did not start:\n$why"
	    if $try == 3 || $why !~ /in use/;
}
ok($nginx_pid, "production nginx on 127.0.0.1:$tls (TLS) and :$plain");

# --- curl ------------------------------------------------------------------
# curl_i(@args) -> { rc, err, status, headers => { lc name => [values] },
# content } of the last response curl printed with -i.
sub curl_i {
	my (@args) = @_;
	my ($code, $o, $e) = FLR::Pg::run([ 'curl', '-sS', '-k', '-i',
	    '--max-time', '20', @args ], env => FLR::Pg::clean_env());
	return parse_response($o, rc => $code, err => $e);
}

sub parse_response {
	my ($text, %r) = @_;
	my ($head, $body) = split /\r?\n\r?\n/, $text // '', 2;
	my @lines = split /\r?\n/, $head // '';
	my $status_line = shift @lines // '';
	$r{status} = $status_line =~ m{^HTTP/\S+ (\d{3})} ? $1 : 0;
	for (@lines) {
		my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
		push @{$r{all}{lc $k}}, $v;
		$r{headers}{lc $k} = $v;
	}
	$r{content} = $body // '';
	return \%r;
}

my $base = "https://127.0.0.1:$tls";

# --- TLS -------------------------------------------------------------------
my $r = curl_i("$base/api/livez");
is($r->{status}, 200, 'GET /api/livez over TLS reaches a worker')
    or diag($r->{err}, $r->{content}, slurp("$dir/error.log"));

for my $v ([ '1.2', [ '--tlsv1.2', '--tls-max', '1.2' ] ],
    [ '1.3', [ '--tlsv1.3' ] ]) {
	my ($code, $o, $e) = FLR::Pg::run([ 'curl', '-sS', '-k', '-o',
	    '/dev/null', '-w', '%{http_code}', @{$v->[1]},
	    "$base/api/livez" ], env => FLR::Pg::clean_env());
	is("$code $o", '0 200', "TLSv$v->[0] is accepted") or diag($e);
}

# OpenSSL 3 clients refuse TLS 1.1 themselves at the default security
# level; level 0 lets curl offer it, so a refusal is the server's.
{
	my ($code, $o, $e) = FLR::Pg::run([ 'curl', '-sS', '-k', '-o',
	    '/dev/null', '--tlsv1.1', '--tls-max', '1.1', '--ciphers',
	    'DEFAULT:@SECLEVEL=0', "$base/api/livez" ],
	    env => FLR::Pg::clean_env());
	isnt($code, 0, 'TLSv1.1 is refused');
	like($e, qr/alert protocol version|unsupported protocol/i,
	    'TLSv1.1: the server answers with a protocol_version alert')
	    or diag($e);
}
{
	# A CBC/SHA-1 suite that the old default list would take.
	my ($code, $o, $e) = FLR::Pg::run([ 'curl', '-sS', '-k', '-o',
	    '/dev/null', '--tls-max', '1.2', '--ciphers',
	    'ECDHE-ECDSA-AES128-SHA', "$base/api/livez" ],
	    env => FLR::Pg::clean_env());
	isnt($code, 0, 'TLSv1.2 with a CBC/SHA-1 cipher suite is refused')
	    or diag($o);
}
{
	my ($code, $o, $e) = FLR::Pg::run([ 'openssl', 's_client',
	    '-connect', "127.0.0.1:$tls", '-servername', 'localhost',
	    '-tls1_2' ], stdin => '', env => FLR::Pg::clean_env(),
	    timeout => 20);
	like($o, qr/Cipher is ECDHE-ECDSA-(?:AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)/,
	    'TLSv1.2 negotiates ECDHE with an AEAD cipher')
	    or diag($o, $e);
}

# --- Headers on the workers' answers ---------------------------------------
like($r->{headers}{'strict-transport-security'} // '',
    qr/^max-age=\d{8,}/, 'HSTS on a worker answer');
is(scalar @{$r->{all}{'strict-transport-security'} // []}, 1,
    'HSTS sent once');
for my $h (qw(access-control-allow-origin access-control-expose-headers
    x-request-id)) {
	is(scalar @{$r->{all}{$h} // []}, 1, "$h: exactly once (the worker's)");
}
like($r->{headers}{'access-control-expose-headers'} // '',
    qr/X-RateLimit-Remaining.*X-Request-Id/,
    'the quota and request-id headers are exposed to browsers');
is($r->{headers}{server} // 'nginx', 'nginx', 'Server: nginx, no version');

# --- The pages --------------------------------------------------------------
$r = curl_i("$base/");
is($r->{status}, 200, 'GET / over TLS: the models page');
like($r->{headers}{'content-type'} // '', qr{^text/html}, '... as HTML');
like($r->{headers}{'content-security-policy'} // '', qr/script-src 'self'/,
    '... with its Content-Security-Policy');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=\d{8,}/,
    '... and HSTS');
is(scalar @{$r->{all}{'strict-transport-security'} // []}, 1,
    '... once');

# --- nginx's own answers ---------------------------------------------------
$r = curl_i("$base/nope");
problem_is($r, 404, 'not_found', undef, 'path outside /api/: 404 problem');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=/,
    'HSTS on nginx\'s own 404');

spew("$dir/big.json", '{"modelId":"' . ('x' x 17000) . '","success":true}');
$r = curl_i('-X', 'POST', '-H', 'Content-Type: application/json',
    '--data-binary', "\@$dir/big.json", "$base/api/v1/models/feedback");
problem_is($r, 413, 'payload_too_large', undef,
    'a 17 KB body: 413 problem document');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=/,
    'HSTS on the 413');

# The chat route alone takes bodies up to 4 MiB (images): the same 17 KB
# reach flr-router, which asks for a key; 5 MiB is nginx's 413.
$r = curl_i('-X', 'POST', '-H', 'Content-Type: application/json',
    '--data-binary', "\@$dir/big.json", "$base/api/v1/chat/completions");
problem_is($r, 401, 'missing_auth', undef,
    'a 17 KB chat body reaches flr-router (401 without a key)');
spew("$dir/huge.json", '{"messages":"' . ('x' x (5 * 1024 * 1024)) . '"}');
$r = curl_i('-X', 'POST', '-H', 'Content-Type: application/json',
    '--data-binary', "\@$dir/huge.json", "$base/api/v1/chat/completions");
problem_is($r, 413, 'payload_too_large', undef,
    'a 5 MiB chat body: 413 problem document');
like($r->{content} // '', qr/4194304 bytes/, '... naming the 4 MiB cap');
# nginx's own refusals before any location: problem documents too.
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
for my $c ([ 'TRACE', [ '-X', 'TRACE', "$base/api/livez" ], 405,
	'method_not_allowed' ],
    [ 'a 20 KB URI', [ "$base/api/livez?q=" . ('a' x 20000) ], 414,
	'uri_too_long' ],
    [ 'a 20 KB header', [ '-H', 'X-Big: ' . ('a' x 20000), "$base/api/livez" ],
	431, 'header_too_large' ]) {
	my ($name, $args, $status, $code) = @$c;
	$r = curl_i('--http1.1', @$args);
	problem_is($r, $status, $code, undef, "$name over TLS: $status problem");
	like($r->{headers}{'x-request-id'} // '', $UUID, "$name: X-Request-Id");
	like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=/,
	    "$name: HSTS");
}
# A malformed request line, over TLS and over plain HTTP.
{
	my ($code, $o, $e) = FLR::Pg::run([ 'openssl', 's_client', '-quiet',
	    '-connect', "127.0.0.1:$tls", '-servername', 'localhost' ],
	    stdin => "GARBAGE\r\n\r\n", env => FLR::Pg::clean_env(),
	    timeout => 20);
	$r = parse_response($o);
	problem_is($r, 400, 'bad_request', undef,
	    'a malformed request line over TLS: 400 problem') or diag($o, $e);
	like($r->{headers}{'x-request-id'} // '', $UUID, '... with X-Request-Id');
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $plain, Proto => 'tcp', Timeout => 10)
	    or die "connect: $!";
	print {$c} "GARBAGE\r\n\r\n";
	local $/;
	my $text = <$c> // '';
	$r = parse_response($text);
	problem_is($r, 400, 'bad_request', undef,
	    'a malformed request line over plain HTTP: 400 problem')
	    or diag($text);
	ok(!exists $r->{headers}{'strict-transport-security'},
	    '... without HSTS');
}
# --- /metrics: loopback only, as the site ships -----------------------------
$r = curl_i("$base/metrics");
is($r->{status}, 200, '/metrics from 127.0.0.1: 200');
like($r->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
    '/metrics: the Prometheus text format');
like($r->{content}, qr/^flr_worker_starts_total 2$/m,
    '/metrics: both workers of the pool counted');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=/,
    '/metrics: HSTS');
$r = curl_i('--interface', '127.0.0.2', "$base/metrics");
problem_is($r, 403, 'forbidden', undef,
    '/metrics from an address the site does not list: 403 problem');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=/,
    'HSTS on the 403');
is(curl_i('--interface', '127.0.0.2', "$base/api/livez")->{status}, 200,
    'the API answers that address');
$r = curl_i("$base/metrics/router");
is($r->{status}, 200, '/metrics/router from 127.0.0.1: 200');
like($r->{content}, qr/^flr_worker_starts_total 2$/m,
    '/metrics/router: both router workers, on a segment of their own');
problem_is(curl_i('--interface', '127.0.0.2', "$base/metrics/router"), 403,
    'forbidden', undef, '/metrics/router from an unlisted address: 403 problem');

# --- Plain HTTP ------------------------------------------------------------
$r = curl_i("http://127.0.0.1:$plain/api/v1/models/ids?topN=3");
is($r->{status}, 301, 'plain HTTP: 301');
like($r->{headers}{location} // '',
    qr{^https://[^/:]+/api/v1/models/ids\?topN=3$},
    'redirected to the same path and query over HTTPS');
ok(!exists $r->{headers}{'strict-transport-security'},
    'no HSTS over plain HTTP');
$r = curl_i("http://127.0.0.1:$plain/.well-known/acme-challenge/token-1");
is($r->{status}, 200, 'ACME challenges are served over plain HTTP');
is($r->{content}, "token-1.thumbprint\n", 'the challenge file');

# --- The per-client flood limit --------------------------------------------
# One curl, one kept-alive connection, 60 requests as fast as they go:
# the burst (20) passes, most of the rest must be refused.
my $n = 60;
make_path("$dir/flood");
# The requests above used part of the burst; it drains at 10 a second.
sleep 2.5;
($rc, $out, $err) = FLR::Pg::run([ 'curl', '-sS', '-k', '-i',
    '--max-time', '60', '-o', "$dir/flood/r#1",
    "$base/api/livez?n=[1-$n]" ], env => FLR::Pg::clean_env(),
    timeout => 90);
is($rc, 0, "$n requests in a row") or diag($err);
my (%count, $limited);
for my $i (1 .. $n) {
	my $res = parse_response(slurp("$dir/flood/r$i"));
	$count{$res->{status}}++;
	$limited //= $res if $res->{status} == 429;
}
my $summary = join ', ', map { "$_ x$count{$_}" } sort keys %count;
cmp_ok($count{200} // 0, '>=', 21, "the burst passes ($summary)");
cmp_ok($count{429} // 0, '>=', 10, "the rest is refused ($summary)");
is(($count{200} // 0) + ($count{429} // 0), $n, 'nothing but 200 and 429');
SKIP: {
	skip 'no 429 to look at', 5 if !$limited;
	problem_is($limited, 429, 'too_many_requests', undef,
	    '429: a problem document');
	is($limited->{headers}{'retry-after'}, '1', '429: Retry-After: 1');
	like($limited->{headers}{'x-request-id'} // '',
	    qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
	    '429: X-Request-Id');
	like($limited->{headers}{'access-control-expose-headers'} // '',
	    qr/Retry-After/, '429: Retry-After is exposed to browsers');
	like($limited->{headers}{'strict-transport-security'} // '',
	    qr/^max-age=/, '429: HSTS');
}
like(slurp("$dir/error.log"), qr/limiting requests/,
    'refusals are logged');

# The bucket drains at 10 requests a second.
sleep 2.5;
is(curl_i("$base/api/livez")->{status}, 200, 'served again after a pause');

# The admin routes' own, lower limit (zone flr_admin): 40 in a row from
# one address, of which the burst (20) reaches the workers (which have no
# ADMIN_SECRET here: 503) and most of the rest is refused by nginx.
make_path("$dir/admin");
($rc, $out, $err) = FLR::Pg::run([ 'curl', '-sS', '-k', '-i',
    '--max-time', '60', '-H', 'X-Admin-Secret: wrong-wrong-wrong-wrong',
    '-o', "$dir/admin/r#1", "$base/api/admin/keys?email=a\@b.c&n=[1-40]" ],
    env => FLR::Pg::clean_env(), timeout => 90);
is($rc, 0, '40 admin requests in a row') or diag($err);
my %admin;
my $admin_limited;
for my $i (1 .. 40) {
	my $res = parse_response(slurp("$dir/admin/r$i"));
	$admin{$res->{status}}++;
	$admin_limited //= $res if $res->{status} == 429;
}
$summary = join ', ', map { "$_ x$admin{$_}" } sort keys %admin;
cmp_ok($admin{429} // 0, '>=', 10, "the admin limit refuses most ($summary)");
cmp_ok($admin{503} // 0, '>=', 20, "after its burst ($summary)");
problem_is($admin_limited, 429, 'too_many_requests', undef,
    'the admin limit answers with the problem document') if $admin_limited;

done_testing;
