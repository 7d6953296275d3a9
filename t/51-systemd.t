# The systemd units (systemd/): each service's sandbox scores an exposure
# of 2.0 or less under `systemd-analyze security --offline=true`, and the
# four units pass `systemd-analyze verify` (syntax, executables, the timer
# finding its service, man pages), with the programs and manuals of this
# build standing in for the installed ones.
use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;

my $analyze = FLR::Pg::find_bin('systemd-analyze')
    or plan skip_all => 'systemd-analyze is not installed (Debian package systemd)';
my $repo = $FLR::Pg::REPO;
my $build = $ENV{FLR_BUILD} // 'build';
$build = "$repo/$build" if $build !~ m{^/};
my $max_exposure = 2.0;

# systemd-analyze works on unit files without a running systemd: no bus,
# no pager, the same output on any terminal.
my $env = FLR::Pg::clean_env(SYSTEMD_PAGER => '', SYSTEMD_COLORS => '0',
    SYSTEMD_LOG_LEVEL => 'notice');

sub slurp { FLR::Pg::slurp(@_) }

for my $unit (qw(flr-api.service flr-router.service flr-sync.service)) {
	my ($code, $out, $err) = FLR::Pg::run([ $analyze, 'security',
	    '--offline=true', '--no-pager', "$repo/systemd/$unit" ],
	    env => $env, timeout => 60);
	my ($score) = $out =~ /Overall exposure level for \Q$unit\E:\s*([\d.]+)/;
	ok(defined $score, "$unit: systemd-analyze security --offline=true "
	    . 'gives an exposure level') or diag("exit $code\n$out$err");
	cmp_ok($score // 99, '<=', $max_exposure,
	    "$unit: exposure " . ($score // '?') . " <= $max_exposure")
	    or diag($out);
	note("$unit: exposure $score") if defined $score;
}

# --- What the sandbox must keep, whatever the score. -----------------------
my $api = slurp("$repo/systemd/flr-api.service");
my $router = slurp("$repo/systemd/flr-router.service");
my $sync = slurp("$repo/systemd/flr-sync.service");
my $timer = slurp("$repo/systemd/flr-sync.timer");
for my $u ([ 'flr-api.service', $api ], [ 'flr-router.service', $router ],
    [ 'flr-sync.service', $sync ]) {
	my ($name, $text) = @$u;
	for my $line ('User=flr', 'EnvironmentFile=/etc/flr/flr.env',
	    'ProtectSystem=strict', 'NoNewPrivileges=yes',
	    'CapabilityBoundingSet=', 'SystemCallFilter=@system-service',
	    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6', 'UMask=0077') {
		like($text, qr/^\Q$line\E$/m, "$name: $line");
	}
}
like($api, qr{^ExecStart=/usr/bin/spawn-fcgi -n -s /run/flr/api\.sock -M 0660 -- /usr/bin/multiwatch -f \$\{FLR_WORKERS\} -r 2147483647 -- /usr/sbin/flr-api$}m,
    'flr-api.service: spawn-fcgi in the foreground, multiwatch that never '
    . 'gives up on a slot, the workers');
like($api, qr{^ExecStartPre=/usr/sbin/flr-sync --check-config$}m,
    'flr-api.service: the settings are checked before the workers start');
like($api, qr/^Restart=on-failure$/m, 'flr-api.service: restarted on failure');
like($api, qr/^TimeoutStopSec=\d+/m, 'flr-api.service: TimeoutStopSec');
like($api, qr/^IPAddressDeny=any$/m, 'flr-api.service: no network but ...');
like($api, qr/^IPAddressAllow=localhost$/m, '... loopback (PostgreSQL)');
like($router, qr{^ExecStart=/usr/bin/spawn-fcgi -n -s /run/flr-router/router\.sock -M 0660 -- /usr/bin/multiwatch -f \$\{FLR_ROUTER_WORKERS\} -- /usr/sbin/flr-router$}m,
    'flr-router.service: its own socket and pool');
like($router, qr/^Environment=FLR_ROUTER_WORKERS=16$/m,
    'flr-router.service: 16 workers unless configured');
like($router, qr/^RuntimeDirectory=flr-router$/m,
    'flr-router.service: its own runtime directory');
like($router, qr/^Restart=on-failure$/m, 'flr-router.service: restarted on failure');
unlike($router, qr/^IPAddress(?:Deny|Allow)=/m,
    'flr-router.service: no IP allow list (OpenRouter is on the Internet)');
like($sync, qr/^Type=oneshot$/m, 'flr-sync.service: oneshot');
like($timer, qr{^OnCalendar=\*:0/15$}m, 'flr-sync.timer: every 15 minutes');
like($timer, qr/^RandomizedDelaySec=/m, 'flr-sync.timer: randomized');
like($timer, qr/^Persistent=true$/m, 'flr-sync.timer: persistent');

# The sample configuration is the one the units read.
like(slurp("$repo/systemd/flr.env.example"), qr/^DATABASE_URL=\S+$/m,
    'flr.env.example sets DATABASE_URL');

# --- systemd-analyze verify ------------------------------------------------
# It checks that each ExecStart= program exists and that each
# Documentation=man: page opens.  The units name the installed paths, so
# copies point /usr/sbin/flr-* at this build, and MANPATH at the sources.
SKIP: {
	skip "flr-api/flr-router/flr-sync are not built in $build", 1
	    if grep { !-x "$build/$_" } qw(flr-api flr-router flr-sync);
	for my $prog (qw(spawn-fcgi multiwatch man)) {
		skip "$prog is not installed", 1 if !FLR::Pg::find_bin($prog);
	}
	my $dir = tempdir('flr-units-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
	make_path("$dir/units", "$dir/man/man8");
	for my $u (qw(flr-api.service flr-router.service flr-sync.service
	    flr-sync.timer)) {
		(my $text = slurp("$repo/systemd/$u"))
		    =~ s{/usr/sbin/(flr-\w+)}{$build/$1}g;
		open my $fh, '>', "$dir/units/$u" or die "$u: $!";
		print {$fh} $text;
		close $fh or die "$u: $!";
	}
	for my $m (qw(fcgi/flr-api.8 fcgi/flr-router.8 systemd/flr-sync.8)) {
		(my $base = $m) =~ s{.*/}{};
		symlink("$repo/$m", "$dir/man/man8/$base") or die "$m: $!";
	}
	my ($code, $out, $err) = FLR::Pg::run([ $analyze, 'verify',
	    map { "$dir/units/$_" } qw(flr-api.service flr-router.service
	    flr-sync.service flr-sync.timer) ], env => { %$env, MANPATH => "$dir/man" },
	    timeout => 60);
	# Without systemd as PID 1 (a container), verify may still complain
	# about the host's own units; only our units' lines count.
	my @ours = grep { /flr-(?:api|router|sync)\.(?:service|timer)/ }
	    split /\n/, "$out$err";
	ok(!@ours, 'systemd-analyze verify: no complaint about the units')
	    or diag(join "\n", "exit $code", @ours);
}

done_testing;
