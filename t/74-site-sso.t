# Single sign-on (POST /api/v1/session/key, FLR_TRUSTED_EMAIL_HEADER,
# nginx/flr-sso.conf), both ways.  Off (the default): the route is a 404
# and the dashboard offers no SSO.  On, behind the plain local nginx: a
# client's own X-Auth-Request-Email never reaches a worker (403).  On,
# behind an nginx with flr-sso.conf and a tiny auth endpoint of its own
# (a second server that answers for a cookie, as oauth2-proxy would):
# no sign-in is a 403 problem; a signed-in person gets a key for the
# email the auth endpoint named, never the one the client sent; dryRun
# says whose without making one; and the dashboard signs in with it.
use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Assert qw(problem_is);
use FLR::Pg;
use FLR::Stack;
use FLR::Nginx;
use FLR::Site qw(browser screenshot_dir page_is_clean wait_state);

my $shots = screenshot_dir();
my $json = JSON::PP->new->utf8->canonical;
my $s = FLR::Stack->new(workers => 2);
my $base = $s->base_url;
my $PATH = '/api/v1/session/key';

sub post {
	my ($url, $body, $headers) = @_;
	my $res = HTTP::Tiny->new(timeout => 30)->request('POST', $url, { headers => {
	    'Content-Type' => 'application/json', %{ $headers // {} } },
	    content => defined $body ? $json->encode($body) : '' });
	return ($res, FLR::Stack::decode_body($res));
}

# --- Off: a 404, whatever the client sends. ----------------------------------
{
	my ($res) = post("$base$PATH", { name => 'x' },
	    { 'X-Auth-Request-Email' => 'mallory@example.com' });
	problem_is($res, 404, 'not_found', undef, 'off: the route is a 404');
	is($s->psql("SELECT count(*) FROM users WHERE email = 'mallory\@example.com'"),
	    0, 'off: no user made');
}

# A malformed setting is fatal, by name (flr-sync reads the same table).
{
	my ($rc, undef, $e) = $s->run_sync(url => 'file:///nonexistent',
	    env => { FLR_TRUSTED_EMAIL_HEADER => 'X-Auth Email' });
	is($rc, 2, 'a FLR_TRUSTED_EMAIL_HEADER that is no header name: exit 2');
	like($e, qr/FLR_TRUSTED_EMAIL_HEADER: must be a header name/, '... naming it');
}

# --- On, behind the plain nginx: the client cannot supply the header. ---------
$s->stop_workers;
$s->set_env(FLR_TRUSTED_EMAIL_HEADER => 'X-Auth-Request-Email');
$s->start_workers;
{
	my ($res) = post("$base$PATH", { name => 'x' },
	    { 'X-Auth-Request-Email' => 'mallory@example.com' });
	problem_is($res, 403, 'sso_required', undef,
	    'on, without the SSO location: a client\'s own header is not passed on');
	is($res->{headers}{'cache-control'}, 'no-store', '... not cached');
	is($s->psql("SELECT count(*) FROM users WHERE email = 'mallory\@example.com'"),
	    0, '... and no user made');
}

# --- On, behind an nginx with flr-sso.conf and an auth endpoint. --------------
my $dir = tempdir('flr-sso-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
make_path("$dir/tmp", { mode => 0755 });
symlink($FLR::Nginx::NGINX_DIR, "$dir/flr") or die "symlink: $!";
my ($port, $auth_port) = (FLR::Pg::free_port(), FLR::Pg::free_port());
my $sock = $s->socket_path;
my $router_sock = $s->router_socket_path;
open my $fh, '>', "$dir/nginx.conf" or die $!;
print {$fh} <<"CONF";
daemon off;
worker_processes 1;
pid "$dir/nginx.pid";
error_log "$dir/error.log" notice;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path "$dir/tmp/body";
	fastcgi_temp_path "$dir/tmp/fastcgi";
	proxy_temp_path "$dir/tmp/proxy";
	uwsgi_temp_path "$dir/tmp/uwsgi";
	scgi_temp_path "$dir/tmp/scgi";
	limit_req_zone \$binary_remote_addr zone=flr_demo:1m rate=5r/s;
	limit_req_zone \$binary_remote_addr zone=flr_admin:1m rate=100r/s;
	upstream flr_api { server "unix:$sock"; }
	upstream flr_router { server "unix:$router_sock"; }

	# The auth endpoint: signed in is a cookie naming the person.
	server {
		listen 127.0.0.1:$auth_port;
		location = /auth {
			if (\$cookie_test_sso_user = "") { return 401; }
			add_header X-Auth-Request-Email \$cookie_test_sso_user always;
			return 202;
		}
	}

	server {
		listen 127.0.0.1:$port;
		set \$flr_hsts "";
		set \$flr_site_root "$FLR::Nginx::NGINX_DIR/site";
		include flr/flr-api.conf;
		include flr/flr-pages.conf;
		include flr/flr-sso.conf;
		location = /oauth2/auth {
			internal;
			proxy_pass http://127.0.0.1:$auth_port/auth;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
		}
	}
}
CONF
close $fh or die $!;
my ($rc, $o, $e) = FLR::Pg::run([ FLR::Nginx::bin(), '-t', '-p', "$dir/", '-c',
    "$dir/nginx.conf", '-e', "$dir/error.log" ], env => FLR::Pg::clean_env());
is($rc, 0, 'nginx -t: a site with flr-sso.conf') or diag($o, $e);
unlike("$o$e", qr/\[(?:warn|emerg)\]/, '... without warnings') or diag($o, $e);
my $ngx = $s->spawn([ FLR::Nginx::bin(), '-p', "$dir/", '-c', "$dir/nginx.conf",
    '-e', "$dir/error.log" ], FLR::Pg::clean_env(), "$dir/error.log");
ok(FLR::Stack::wait_port($port, $ngx), 'the SSO nginx is up')
    or diag(FLR::Pg::slurp("$dir/error.log"));
END { $s->stop_group($ngx) if $s && $ngx }
my $sso = "http://127.0.0.1:$port";
my %alice = (Cookie => 'test_sso_user=alice@example.org');

{
	my ($res) = post("$sso$PATH", {}, {});
	problem_is($res, 403, 'sso_required', undef, 'not signed in: 403 from nginx');
	($res) = post("$sso$PATH", {}, { 'X-Auth-Request-Email' => 'mallory@example.com' });
	problem_is($res, 403, 'sso_required', undef,
	    'not signed in, with a header of the client\'s own: still 403');

	my $doc;
	($res, $doc) = post("$sso$PATH", { dryRun => JSON::PP::true }, \%alice);
	is($res->{status}, 200, 'dryRun: 200') or diag($res->{content});
	is_deeply($doc, { email => 'alice@example.org', dryRun => JSON::PP::true },
	    '... naming who would get a key');
	is($s->psql("SELECT count(*) FROM users WHERE email = 'alice\@example.org'"),
	    0, '... and making nothing');

	($res, $doc) = post("$sso$PATH", { name => 'my laptop', expiresInDays => 7 },
	    { %alice, 'X-Auth-Request-Email' => 'mallory@example.com' });
	is($res->{status}, 201, 'signed in: 201') or diag($res->{content});
	is($doc->{email}, 'alice@example.org',
	    '... a key for the email the auth endpoint named, not the client\'s');
	like($doc->{key} // '', qr/^fma_[A-Za-z0-9_-]{43}$/, '... shown in plaintext');
	is($doc->{name}, 'my laptop', '... with its name');
	ok($doc->{expiresAt}, '... and expiry');
	is($res->{headers}{'cache-control'}, 'no-store', '... never cached');
	my ($kres, $keys) = $s->get_json('/api/v1/keys', { Authorization => "Bearer $doc->{key}" });
	is($kres->{status}, 200, 'the key works');
	is(scalar @{ $keys->{keys} }, 1, '... alice\'s only key');
	is($s->psql("SELECT count(*) FROM users WHERE email = 'mallory\@example.com'"),
	    0, 'nobody named mallory was made');

	($res, $doc) = post("$sso$PATH", undef, \%alice);
	is($res->{status}, 201, 'no body: a key with the default name');
	is($doc->{name}, 'single sign-on', '... "single sign-on"');
	($res) = post("$sso$PATH", { name => '' }, \%alice);
	problem_is($res, 400, 'invalid_field', 'name', 'an empty name: 400');
	($res) = post("$sso$PATH", { dryRun => 'yes' }, \%alice);
	problem_is($res, 400, 'invalid_field', 'dryRun', 'dryRun not a boolean: 400');

	($res) = post("$sso$PATH", {}, { Cookie => 'test_sso_user=not-an-email' });
	problem_is($res, 403, 'sso_email_invalid', undef,
	    'an auth endpoint naming no email: 403');
	($res) = post("$base$PATH", {}, \%alice);
	problem_is($res, 403, 'sso_required', undef,
	    'the cookie alone, through the plain nginx: 403');
}

# --- The dashboard, with single sign-on and without. --------------------------
my $c = browser();
{
	my $p = $c->page;
	$p->go("$base/dashboard");
	is(wait_state($p), 'ready', 'plain nginx: the dashboard loads');
	$p->pump(0.5);
	ok($p->js('document.getElementById("sso").hidden'), '... offering no SSO');
	ok(!grep({ m{/session/key} } $p->requests), '... and not asking for it');
	page_is_clean($p, $base, 'dashboard without SSO');
	$p->shut;
}
{
	my $p = $c->page;
	$p->call('Network.setCookie', { name => 'test_sso_user', value => 'bob@example.org',
	    url => "$sso/" });
	$p->go("$sso/dashboard");
	ok($p->wait_for('!document.getElementById("sso").hidden && '
	    . 'document.getElementById("sso-email").textContent'), 'SSO nginx: the dashboard offers SSO');
	is($p->js('document.getElementById("sso-email").textContent'), 'bob@example.org',
	    '... for the signed-in person');
	is($s->psql("SELECT count(*) FROM users WHERE email = 'bob\@example.org'"), 0,
	    '... without making a key yet');
	$p->screenshot("$shots/dashboard-sso.png", 1280, 800);
	$p->js('document.getElementById("sso-create").click()');
	ok($p->wait_for('document.documentElement.dataset.session === "in" && '
	    . 'document.documentElement.dataset.state === "ready"'), 'one press: signed in');
	my $k = $p->js('sessionStorage.getItem("flr.key")');
	like($k // '', qr/^fma_/, '... with a new key in sessionStorage');
	is($p->js('document.getElementById("new-key-text").textContent'), $k,
	    '... shown once, to be copied');
	my (undef, $keys) = $s->get_json('/api/v1/keys', { Authorization => "Bearer $k" });
	is(scalar @{ $keys->{keys} // [] }, 1, 'the key is bob\'s');
	is($s->psql("SELECT u.email FROM users u JOIN api_keys k ON k.user_id = u.id"
	    . " WHERE k.key_start = '" . substr($k, 0, 8) . "'"), 'bob@example.org',
	    '... of the email the auth endpoint named');
	page_is_clean($p, $sso, 'dashboard with SSO');
}

done_testing;
