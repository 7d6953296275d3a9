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
#              socket => $path, router_socket => $path)
#   -> path of the nginx.conf written
#
# Also (re)creates the run directory's flr -> nginx/ symlink and the temp
# parent directory (nginx creates and, as root, chowns the leaves).
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
		ROUTER_SOCKET => $o{router_socket}
		    // croak('write_config: router_socket'),
		NGINX_DIR => $NGINX_DIR,
	});
	make_path("$rundir/nginx-tmp", { mode => 0755 });
	my $link = "$rundir/flr";
	unlink $link if -l $link;
	symlink $NGINX_DIR, $link or croak "symlink $link: $!";

	my $conf = "$rundir/nginx.conf";
	open my $out, '>', $conf or croak "open $conf: $!";
	print {$out} $text;
	close $out or croak "write $conf: $!";
	return $conf;
}

# The nginx binary: Debian's, else one on PATH.
sub bin {
	return FLR::Pg::find_bin('nginx', '/usr/sbin')
	    // croak 'nginx not found (apt-get install nginx)';
}

1;
