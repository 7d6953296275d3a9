# `make install` and `make uninstall` into a temporary DESTDIR: every file
# of the production layout with its mode and nothing else, the units
# pointing at the installed programs, the installed nginx site accepted by
# `nginx -t`, the installed migrations and roles script working from their
# new place, the manuals rendering cleanly, an edited site kept on
# reinstall, and nothing left behind by uninstall.  The programs of this
# test run's build are installed as they are (make -o all: nothing is
# rebuilt here).
use strict;
use warnings;
use Test::More;
use File::Compare qw(compare);
use File::Find qw(find);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Nginx;

my $repo = $FLR::Pg::REPO;
my $build = $ENV{FLR_BUILD} // 'build';
my $build_abs = $build =~ m{^/} ? $build : "$repo/$build";
plan skip_all => "flr-api and flr-sync are not built in $build_abs (make all)"
    if !-x "$build_abs/flr-api" || !-x "$build_abs/flr-sync";
my $make = FLR::Pg::find_bin('make') or plan skip_all => 'make is not installed';

my $tmp = tempdir('flr-install-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
# nginx -t as root opens the installed files as root; as another user,
# they are that user's: either way the tree must be searchable.
chmod 0755, $tmp;

sub slurp { FLR::Pg::slurp(@_) }

sub spew {
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print {$fh} $text;
	close $fh or die "$path: $!";
}

# make_in($destdir, @args) -> ($exit_code, $stdout, $stderr).  A make that
# runs this test (make check) must not steer this one: its flags and job
# server are dropped.
sub make_in {
	my ($destdir, @args) = @_;
	my %env = %ENV;
	delete @env{qw(MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES)};
	return FLR::Pg::run([ $make, '--no-print-directory', '-C', $repo,
	    '-o', 'all', @args, "DESTDIR=$destdir", "BUILD=$build" ],
	    env => \%env, timeout => 300);
}

# Files and links under $dir, relative, with their modes.
sub tree {
	my ($dir) = @_;
	my %t;
	find({ no_chdir => 1, wanted => sub {
		return if -d $_ && !-l $_;
		(my $rel = $File::Find::name) =~ s{^\Q$dir\E/}{};
		$t{$rel} = -l $_ ? 'link' : sprintf '%04o', (lstat $_)[2] & 07777;
	} }, $dir) if -d $dir;
	return \%t;
}

my @schema = map { s{.*/}{}r } glob("$repo/schema/*.sql");
my @site = map { s{^\Q$repo/nginx/site/\E}{}r }
    glob("$repo/nginx/site/*.html $repo/nginx/site/assets/*");
my %want = (
	'usr/sbin/flr-api' => '0755',
	'usr/sbin/flr-router' => '0755',
	'usr/sbin/flr-sync' => '0755',
	'usr/lib/systemd/system/flr-api.service' => '0644',
	'usr/lib/systemd/system/flr-router.service' => '0644',
	'usr/lib/systemd/system/flr-sync.service' => '0644',
	'usr/lib/systemd/system/flr-sync.timer' => '0644',
	'usr/share/man/man8/flr-api.8' => '0644',
	'usr/share/man/man8/flr-router.8' => '0644',
	'usr/share/man/man8/flr-sync.8' => '0644',
	'usr/share/doc/flr/README.md' => '0644',
	'usr/share/doc/flr/LICENSE' => '0644',
	'usr/share/flr/schema/migrate' => '0755',
	(map { ("usr/share/flr/schema/$_" => '0644') } @schema),
	'etc/nginx/flr/flr-api.conf' => '0644',
	'etc/nginx/flr/flr-errors.conf' => '0644',
	'etc/nginx/flr/flr-problem.conf' => '0644',
	'etc/nginx/flr/fastcgi-params.conf' => '0644',
	'etc/nginx/flr/flr-metrics.conf' => '0644',
	'etc/nginx/flr/flr-pages.conf' => '0644',
	'etc/nginx/flr/flr-pages-headers.conf' => '0644',
	'etc/nginx/flr/flr-sso.conf' => '0644',
	(map { ("usr/share/flr/site/$_" => '0644') } @site),
	'etc/nginx/sites-available/flr' => '0644',
	'etc/nginx/conf.d/flr-http.conf' => '0644',
	'etc/flr/flr.env.example' => '0600',
);
ok(grep({ $_ eq 'roles.sql' } @schema), 'schema/roles.sql is installed too');
ok(grep({ $_ eq 'index.html' } @site) && grep({ $_ eq 'assets/site.css' } @site),
    'the pages and their assets are installed too');

# --- make install PREFIX=/usr ----------------------------------------------
my $dest = "$tmp/root";
my ($code, $out, $err) = make_in($dest, 'install', 'PREFIX=/usr');
is($code, 0, 'make install DESTDIR=... PREFIX=/usr') or diag($out, $err);
is_deeply(tree($dest), \%want, 'every file, with its mode, and no other');
is(sprintf('%04o', (stat "$dest/etc/flr")[2] & 07777), '0750',
    '/etc/flr is 0750');
for my $p (qw(flr-api flr-router flr-sync)) {
	is(compare("$build_abs/$p", "$dest/usr/sbin/$p"), 0,
	    "$p: the built program");
}
for my $u (qw(flr-api.service flr-router.service flr-sync.service
    flr-sync.timer)) {
	is(slurp("$dest/usr/lib/systemd/system/$u"),
	    slurp("$repo/systemd/$u"), "$u: as in systemd/ (PREFIX=/usr)");
}
is(slurp("$dest/etc/nginx/sites-available/flr"),
    slurp("$repo/nginx/flr-site.conf"), 'the site is nginx/flr-site.conf');
like(slurp("$dest/etc/nginx/sites-available/flr"),
    qr{^\s*set \$flr_site_root /usr/share/flr/site;$}m,
    '... which serves the pages from where they are installed');
for my $f (@site) {
	is(compare("$repo/nginx/site/$f", "$dest/usr/share/flr/site/$f"), 0,
	    "site/$f: as in nginx/site/");
}

# --- nginx -t on the installed site ----------------------------------------
# A minimal nginx.conf in the spirit of Debian's, around the installed
# conf.d snippet and the site; the site's certificate and listen lines are
# rewritten to a throwaway certificate and free loopback ports (nginx -t
# binds them).  Its relative includes (flr/...) resolve next to this
# nginx.conf, where flr links to the installed /etc/nginx/flr.
SKIP: {
	my $nginx = FLR::Pg::find_bin('nginx', '/usr/sbin');
	skip 'nginx is not installed', 2 if !$nginx;
	skip 'openssl is not installed', 2 if !FLR::Pg::find_bin('openssl');
	my $nt = "$tmp/nginx-t";
	make_path("$nt/tmp");
	my ($c, $o, $e) = FLR::Pg::run([ 'openssl', 'req', '-x509', '-newkey',
	    'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
	    '-subj', '/CN=localhost', '-keyout', "$nt/key.pem", '-out',
	    "$nt/cert.pem" ], env => FLR::Pg::clean_env());
	is($c, 0, 'a throwaway certificate') or diag($e);
	symlink("$dest/etc/nginx/flr", "$nt/flr") or die "symlink: $!";
	my ($tls, $plain) = (FLR::Pg::free_port(), FLR::Pg::free_port());
	my $site = slurp("$dest/etc/nginx/sites-available/flr");
	my %n;
	$n{v6} = $site =~ s/^\s*listen \[::\]:\d+[^\n]*\n//mg;
	$n{tls} = $site =~ s/\blisten 443 /listen 127.0.0.1:$tls /g;
	$n{plain} = $site =~ s/\blisten 80;/listen 127.0.0.1:$plain;/g;
	$n{cert} = $site =~ s/\bssl_certificate \S+;/ssl_certificate "$nt\/cert.pem";/g;
	$n{key} = $site =~ s/\bssl_certificate_key \S+;/ssl_certificate_key "$nt\/key.pem";/g;
	my @missed = grep { !$n{$_} } sort keys %n;
	is("@missed", '', 'the site\'s host-specific lines are where expected');
	spew("$nt/site.conf", $site);
	spew("$nt/nginx.conf", <<"CONF");
pid "$nt/nginx.pid";
error_log "$nt/error.log";
events {
	worker_connections 64;
}
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path "$nt/tmp/body";
	fastcgi_temp_path "$nt/tmp/fastcgi";
	proxy_temp_path "$nt/tmp/proxy";
	uwsgi_temp_path "$nt/tmp/uwsgi";
	scgi_temp_path "$nt/tmp/scgi";
	include "$dest/etc/nginx/conf.d/*.conf";
	include "$nt/site.conf";
}
CONF
	($c, $o, $e) = FLR::Pg::run([ $nginx, '-t', '-p', "$nt/", '-c',
	    "$nt/nginx.conf", '-e', "$nt/error.log" ],
	    env => FLR::Pg::clean_env());
	is($c, 0, 'nginx -t accepts the installed site') or diag($o, $e);
	unlike("$o$e", qr/\[(?:warn|emerg|alert)\]/, 'nginx -t: no warnings')
	    or diag($o, $e);
}

# --- The installed migrations and roles script work from there. ------------
SKIP: {
	my $pg = eval { FLR::Pg->new(migrate => 0) };
	skip "no PostgreSQL for the schema check: $@", 3 if !$pg;
	my ($c, $o, $e) = FLR::Pg::run([ "$dest/usr/share/flr/schema/migrate" ],
	    env => FLR::Pg::clean_env(DATABASE_URL => $pg->url), cwd => '/');
	is($c, 0, 'the installed migrate applies the installed migrations')
	    or diag($o, $e);
	my $n = () = glob("$repo/schema/[0-9][0-9][0-9]_*.sql");
	like($o, qr/\b$n applied\b/, "all $n migrations");
	($c, $o, $e) = FLR::Pg::run([ 'psql', '-X', '-q', '-At', '-d', $pg->url,
	    '-f', "$dest/usr/share/flr/schema/roles.sql" ],
	    env => FLR::Pg::clean_env(), cwd => '/');
	is($c, 0, 'the installed roles.sql runs') or diag($o, $e);
	$pg->cleanup;
}

# --- The manuals ------------------------------------------------------------
SKIP: {
	skip 'groff is not installed', 2 if !FLR::Pg::find_bin('groff');
	for my $m (qw(flr-api.8 flr-router.8 flr-sync.8)) {
		my ($c, $o, $e) = FLR::Pg::run([ 'groff', '-man', '-ww', '-z',
		    "$dest/usr/share/man/man8/$m" ], env => FLR::Pg::clean_env());
		is("$c$o$e", '0', "$m: groff -man -ww finds nothing to warn about")
		    or diag($o, $e);
	}
}
SKIP: {
	skip 'man is not installed', 2 if !FLR::Pg::find_bin('man');
	for my $m (qw(flr-api.8 flr-router.8 flr-sync.8)) {
		my ($c, $o, $e) = FLR::Pg::run([ 'man', '-l',
		    "$dest/usr/share/man/man8/$m" ],
		    env => FLR::Pg::clean_env(MANWIDTH => 80, PAGER => 'cat'));
		ok($c == 0 && $e eq '' && $o =~ /^NAME\b/m,
		    "$m: man -l renders it without warnings") or diag($e);
	}
}

# --- Reinstall over an edited site; another PREFIX. -------------------------
{
	my $site = "$dest/etc/nginx/sites-available/flr";
	my $edited = slurp($site) =~ s/api\.example\.org/flr.example.net/gr;
	spew($site, $edited);
	# The operator's enabling link: uninstall must not leave it dangling.
	make_path("$dest/etc/nginx/sites-enabled");
	symlink('../sites-available/flr', "$dest/etc/nginx/sites-enabled/flr")
	    or die "symlink: $!";
	($code, $out, $err) = make_in($dest, 'install', 'PREFIX=/usr');
	is($code, 0, 'make install again') or diag($out, $err);
	is(slurp($site), $edited, 'an edited site is kept');
	is(slurp("$site.dist"), slurp("$repo/nginx/flr-site.conf"),
	    '... and the new one put beside it as flr.dist');
	like($out, qr/kept \S*sites-available\/flr \(locally changed\)/,
	    '... which install says');
}
{
	my $local = "$tmp/local";
	($code, $out, $err) = make_in($local, 'install', 'PREFIX=/usr/local');
	is($code, 0, 'make install PREFIX=/usr/local') or diag($out, $err);
	ok(-x "$local/usr/local/sbin/flr-api", 'programs in /usr/local/sbin');
	like(slurp("$local/usr/local/lib/systemd/system/flr-api.service"),
	    qr{-- /usr/local/sbin/flr-api$}m, 'flr-api.service runs them there');
	like(slurp("$local/usr/local/lib/systemd/system/flr-router.service"),
	    qr{-- /usr/local/sbin/flr-router$}m, 'flr-router.service too');
	like(slurp("$local/usr/local/lib/systemd/system/flr-sync.service"),
	    qr{^ExecStart=/usr/local/sbin/flr-sync$}m,
	    'flr-sync.service runs them there');
	ok(-f "$local/etc/nginx/sites-available/flr", 'nginx files in /etc');
	ok(-f "$local/usr/local/share/flr/site/index.html",
	    'the pages in /usr/local/share/flr/site');
	like(slurp("$local/etc/nginx/sites-available/flr"),
	    qr{^\s*set \$flr_site_root /usr/local/share/flr/site;$}m,
	    'the site serves them from there');
	($code, $out, $err) = make_in($local, 'uninstall', 'PREFIX=/usr/local');
	is($code, 0, 'make uninstall PREFIX=/usr/local') or diag($out, $err);
	is_deeply(tree($local), {}, 'nothing left in the /usr/local tree');
}

# --- make uninstall ---------------------------------------------------------
($code, $out, $err) = make_in($dest, 'uninstall', 'PREFIX=/usr');
is($code, 0, 'make uninstall DESTDIR=... PREFIX=/usr') or diag($out, $err);
is_deeply(tree($dest), {}, 'no file or link left behind');
for my $d (qw(usr/share/flr usr/share/doc/flr etc/nginx/flr etc/flr)) {
	ok(!-e "$dest/$d", "$d/ is gone");
}

done_testing;
