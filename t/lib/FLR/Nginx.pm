package FLR::Nginx;

# Turns nginx/local.conf.in into a runnable nginx.conf for the private
# stack (FLR::Stack, and through it t/bin/flr-stack).  The template is the
# only place the local nginx settings live; this is plain @NAME@
# substitution, nothing more.

use strict;
use warnings;

use Carp qw(croak);
use File::Path qw(make_path);
use FLR::Pg;

our $NGINX_DIR = "$FLR::Pg::REPO/nginx";

# Started by root, nginx runs its workers as this user and group: the
# group that the FastCGI socket is given (FLR::Stack), so that they and
# the stack's user, and nobody else, can reach it.  Started by anyone
# else, the workers are that user.
our ($WORKER_USER, $WORKER_GROUP) = ('nobody', 'nogroup');

# The admin routes' limit per client address: production's (flr-http.conf).
our $ADMIN_RATE = '2r/s';
our $DEMO_RATE = '5r/s';

# render($template_text, \%vars) -> text with every @NAME@ replaced by
# $vars{NAME}.  A placeholder without a value is an error, so a typo in
# the template cannot reach nginx as a literal path.  Values are pasted
# inside double quotes in the template, so they may not contain quotes,
# backslashes or newlines.
sub render {
	my ($text, $vars) = @_;
	for my $k (sort keys %$vars) {
		croak "nginx: unsafe value for $k: $vars->{$k}"
		    if $vars->{$k} =~ /["\\\n;{}]/;
	}
	$text =~ s{\@([A-Z_]+)\@}{
		defined $vars->{$1} ? $vars->{$1}
		    : croak "nginx template: no value for \@$1\@"
	}ge;
	return $text;
}

# write_config(rundir => $dir, listen => '127.0.0.1:8080',
#              socket => $path, router_socket => $path,
#              admin_rate => '2r/s', demo_rate => '5r/s',
#              pool2 => '127.0.0.2:9001')
#   -> path of the nginx.conf written
#
# socket is a Unix socket's path, or "address:port" for a pool on TCP.
# pool2 (an "address:port") adds a second server to upstream flr_api,
# and its metrics at /metrics/pool2: two pools behind one upstream.
#
# Also (re)creates the run directory's flr -> nginx/ symlink, the temp
# parent directory (nginx creates and, as root, chowns the leaves) and
# nginx-user.conf (the `user` directive as root, nothing otherwise).
sub write_config {
	my (%o) = @_;
	my $rundir = $o{rundir} // croak 'write_config: rundir';
	my $tmpl = "$NGINX_DIR/local.conf.in";
	open my $in, '<', $tmpl or croak "open $tmpl: $!";
	my $text = do { local $/; <$in> };
	close $in;

	$text = render($text, {
		RUNDIR => $rundir,
		LISTEN => $o{listen} // croak('write_config: listen'),
		SOCKET => $o{socket} // croak('write_config: socket'),
		ADMIN_RATE => $o{admin_rate} // $ADMIN_RATE,
		DEMO_RATE => $o{demo_rate} // $DEMO_RATE,
		ROUTER_SOCKET => $o{router_socket}
		    // croak('write_config: router_socket'),
		NGINX_DIR => $NGINX_DIR,
	});
	$text = two_pools($text, $o{socket}, $o{pool2}) if defined $o{pool2};
	make_path("$rundir/nginx-tmp", { mode => 0755 });
	my $user = "$rundir/nginx-user.conf";
	open my $uf, '>', $user or croak "open $user: $!";
	print {$uf} $> == 0 ? "user $WORKER_USER $WORKER_GROUP;\n"
	    : "# Not root: nginx's workers run as the user who started it.\n";
	close $uf or croak "write $user: $!";
	my $link = "$rundir/flr";
	unlink $link if -l $link;
	symlink $NGINX_DIR, $link or croak "symlink $link: $!";

	my $conf = "$rundir/nginx.conf";
	open my $out, '>', $conf or croak "open $conf: $!";
	print {$out} $text;
	close $out or croak "write $conf: $!";
	return $conf;
}

# The template with its pool's socket replaced by two TCP servers in
# upstream flr_api.  nginx spreads requests over both (round robin) and,
# as fastcgi_next_upstream's default "error timeout" says, passes a
# request that cannot reach one to the other, which it then leaves
# alone for fail_timeout.
sub two_pools {
	my ($text, $first, $second) = @_;
	for my $a ($first, $second) {
		croak "two pools: not address:port: $a" if $a !~ /^[\d.]+:\d+$/;
	}
	$text =~ s{server "unix:\Q$first\E";}{server $first;}g;
	$text =~ s{(upstream flr_api \{\n\s*server \Q$first\E;\n)}
	    {$1\t\tserver $second;\n}
	    or croak 'two pools: no upstream flr_api in the template';
	my $loc = "\t\tlocation = /metrics/pool2 {\n\t\t\tallow 127.0.0.1;\n"
	    . "\t\t\tdeny all;\n\t\t\trewrite ^ /metrics break;\n"
	    . "\t\t\tfastcgi_pass $second;\n"
	    . "\t\t\tinclude flr/flr-metrics.conf;\n\t\t}\n";
	$text =~ s{(\n\t\tinclude flr/flr-pages\.conf;)}{\n$loc$1}
	    or croak 'two pools: no place for /metrics/pool2';
	return $text;
}

# The nginx binary: Debian's, else one on PATH.
sub bin {
	return FLR::Pg::find_bin('nginx', '/usr/sbin')
	    // croak 'nginx not found (apt-get install nginx)';
}

1;
