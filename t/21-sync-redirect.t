# flr-sync and redirects: a catalogue asked for over https is never read
# over plain http, even when the https server redirects there; http stays
# allowed only when the configured URL is http itself.  The https side is
# nginx on loopback with a throwaway certificate (trusted through
# FLR_SYNC_CA_FILE), the http side FLR::WebServer, the database FLR::Pg.
use strict;
use warnings;
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Nginx;
use FLR::Stack;
use FLR::WebServer;

plan skip_all => 'openssl is not installed' if !FLR::Pg::find_bin('openssl');

my $BUILD = $ENV{FLR_BUILD} // 'build';
my $BIN = abs_path("$BUILD/flr-sync");
plan skip_all => "flr-sync is not built ($BUILD)" if !$BIN || !-x $BIN;
my $FIXTURE = abs_path("$FindBin::Bin/fixtures/openrouter-models.json");

my $pg = FLR::Pg->new;
my $srv = FLR::WebServer->new;
my $dir = tempdir('flr-redirect-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;    # nginx's workers (nobody, as root) read from here

my ($code, $out, $err) = FLR::Pg::run([ 'openssl', 'req', '-x509', '-newkey',
    'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem" ],
    env => FLR::Pg::clean_env());
is($code, 0, 'a throwaway certificate for 127.0.0.1') or diag($err);

# nginx over TLS: one path redirects to the plain-http server, one to
# another https path, which serves the snapshot.
my $tls = FLR::Pg::free_port();
make_path("$dir/tmp", { mode => 0755 });
my $http_url = $srv->url('/api/v1/models');
open my $fh, '>', "$dir/nginx.conf" or die "nginx.conf: $!";
print {$fh} <<"CONF";
daemon off;
worker_processes 1;
pid "$dir/nginx.pid";
error_log "$dir/error.log" notice;
events {
	worker_connections 64;
}
http {
	access_log off;
	client_body_temp_path "$dir/tmp/body";
	fastcgi_temp_path "$dir/tmp/fastcgi";
	proxy_temp_path "$dir/tmp/proxy";
	uwsgi_temp_path "$dir/tmp/uwsgi";
	scgi_temp_path "$dir/tmp/scgi";
	server {
		listen 127.0.0.1:$tls ssl;
		ssl_certificate "$dir/cert.pem";
		ssl_certificate_key "$dir/key.pem";
		location = /to-http {
			return 302 $http_url;
		}
		location = /to-https {
			return 302 https://127.0.0.1:$tls/models.json;
		}
		location = /models.json {
			default_type application/json;
			alias "$FIXTURE";
		}
	}
}
CONF
close $fh or die "nginx.conf: $!";
my $nginx = fork // die "fork: $!";
if (!$nginx) {
	POSIX::setpgid(0, 0);
	open STDIN, '<', '/dev/null';
	open STDOUT, '>>', "$dir/error.log";
	open STDERR, '>&', \*STDOUT;
	%ENV = %{FLR::Pg::clean_env()};
	exec(FLR::Nginx::bin(), '-p', "$dir/", '-c', "$dir/nginx.conf", '-e',
	    "$dir/error.log") or POSIX::_exit(127);
}
my $owner = $$;
END {
	if ($nginx && $$ == $owner) {
		kill 'TERM', -$nginx;
		waitpid $nginx, 0;
	}
}
ok(FLR::Stack::wait_port($tls, $nginx), "nginx over TLS on 127.0.0.1:$tls")
    or diag(FLR::Pg::slurp("$dir/error.log"));

sub sync {
	my ($url) = @_;
	my ($c, $o, $e) = FLR::Pg::run([ $BIN ], timeout => 60,
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
	    OPENROUTER_MODELS_URL => $url, FLR_SYNC_CA_FILE => "$dir/cert.pem",
	    FLR_SYNC_RETRY_DELAY_MS => 10));
	return { code => $c, out => $o, err => $e };
}
sub last_run {
	return $pg->psql('SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1');
}

$srv->script({ file => $FIXTURE });

# https -> https: followed (and the certificate is trusted).
my $r = sync("https://127.0.0.1:$tls/to-https");
is($r->{code}, 0, 'https redirecting to https: followed, synced')
    or diag($r->{err});
like($r->{out}, qr/synced 414 models, 20 free/, 'the snapshot was read');

# https -> http: refused, nothing fetched over plain http.
my $version = $pg->psql('SELECT catalog_version FROM sync_meta');
$r = sync("https://127.0.0.1:$tls/to-http");
is($r->{code}, 1, "https redirecting to http: the sync fails") or diag($r->{err}, $r->{out});
like($r->{err}, qr/fetch failed: .*(?:[Pp]rotocol|not supported|disabled)/,
    'the reason: http is not allowed for the redirect') or diag($r->{err});
is($srv->count, 0, 'the plain-http server was never asked');
is(last_run(), 'failed', 'the run is recorded as failed');
is($pg->psql('SELECT catalog_version FROM sync_meta'), $version,
    'the catalogue is untouched');

# http -> http: the configured URL is http, so http redirects are fine;
# http -> https too.
$srv->script({ status => 302, headers => { Location => '/api/v1/models2' } },
    { file => $FIXTURE });
$r = sync($srv->url('/api/v1/models'));
is($r->{code}, 0, 'http redirecting to http: followed') or diag($r->{err});
is($srv->count, 2, 'two requests to the http server');
$srv->script({ status => 302,
    headers => { Location => "https://127.0.0.1:$tls/models.json" } });
$r = sync($srv->url('/api/v1/models'));
is($r->{code}, 0, 'http redirecting to https: followed') or diag($r->{err});

# Without the CA file, the throwaway certificate is not trusted.
($code, $out, $err) = FLR::Pg::run([ $BIN ], timeout => 60,
    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url,
    OPENROUTER_MODELS_URL => "https://127.0.0.1:$tls/models.json",
    FLR_SYNC_RETRY_DELAY_MS => 10));
is($code, 1, 'without FLR_SYNC_CA_FILE the certificate is refused');
like($err, qr/certificate/i, '... a certificate problem') or diag($err);

done_testing();
