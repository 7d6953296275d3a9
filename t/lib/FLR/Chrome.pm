package FLR::Chrome;

# Headless Chromium for the tests of the site, driven over the DevTools
# protocol with core Perl only: a minimal WebSocket client (RFC 6455,
# text frames, client-side masking) under a small page API.
#
#   my $c = FLR::Chrome->new;                 # starts Debian's chromium
#   my $p = $c->page;                         # a new tab
#   $p->go("$base/");                         # navigate, wait for load
#   $p->wait_for('document.documentElement.dataset.state === "ready"');
#   my $ids = $p->js('[...document.querySelectorAll("tr")].length');
#   $p->screenshot("$dir/models.png", 1280, 800);
#   is_deeply([ $p->errors ], [], 'no console error');
#   my @urls = $p->requests;                  # every URL the page asked for
#
# The browser runs in its own process group with a fresh profile in a
# temporary directory, and with the flags that keep it from calling home
# (the machines that run the tests have no way out).  It is stopped, and
# the profile removed, when the object goes away.

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(sha1);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Scalar::Util qw(refaddr weaken);
use Time::HiRes qw(sleep time);

use FLR::Pg;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my %LIVE;

# The chromium binary, or undef.
sub bin {
	return FLR::Pg::find_bin('chromium', '/usr/bin')
	    // FLR::Pg::find_bin('chromium-browser', '/usr/bin');
}

# FLR::Chrome->new(%o) -> a running browser (dies when it does not start)
#   timeout   seconds to wait for its DevTools port (60)
sub new {
	my ($class, %o) = @_;
	my $bin = bin() // croak 'chromium not found (apt-get install chromium)';
	my $dir = tempdir('flr-chrome-XXXXXXXX', TMPDIR => 1, CLEANUP => 0);
	my $self = bless { owner => $$, dir => $dir, pages => [] }, $class;
	$LIVE{refaddr $self} = $self;
	weaken $LIVE{refaddr $self};
	# A test stopped by a signal still stops its browser (FLR::Pg's
	# handlers turn the signal into an exit, which runs END below).
	FLR::Pg::install_signal_handlers();
	my @argv = ($bin, '--headless', '--no-sandbox', '--disable-gpu',
	    '--disable-quic', '--no-first-run', '--no-default-browser-check',
	    '--disable-background-networking', '--disable-component-update',
	    '--disable-sync', '--disable-extensions', '--disable-default-apps',
	    '--disable-dev-shm-usage', '--mute-audio', '--hide-scrollbars',
	    '--disable-features=Translate,MediaRouter,OptimizationHints',
	    '--remote-debugging-address=127.0.0.1',
	    '--remote-debugging-port=0', "--user-data-dir=$dir/profile",
	    'about:blank');
	my $log = "$dir/chromium.log";
	my $pid = fork // croak "fork: $!";
	if (!$pid) {
		eval {
			POSIX::setpgid(0, 0) or die "setpgid: $!\n";
			open STDIN, '<', '/dev/null' or die "stdin: $!\n";
			open STDOUT, '>>', $log or die "open $log: $!\n";
			open STDERR, '>&', \*STDOUT or die "dup: $!\n";
			%ENV = %{ FLR::Pg::clean_env(HOME => $dir) };
			exec { $argv[0] } @argv or die "cannot run $argv[0]: $!\n";
		};
		print STDERR $@;
		POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	# Chromium writes its port and browser path here once it listens.
	my $port_file = "$dir/profile/DevToolsActivePort";
	my $deadline = time + ($o{timeout} // 60);
	until (-s $port_file && FLR::Pg::slurp($port_file) =~ /^(\d+)\n(\S+)/) {
		if (waitpid($pid, POSIX::WNOHANG()) != 0 || time > $deadline) {
			my $out = FLR::Pg::slurp($log);
			$self->stop;
			croak "FLR::Chrome: chromium did not start:\n$out";
		}
		sleep 0.05;
	}
	FLR::Pg::slurp($port_file) =~ /^(\d+)/;
	$self->{port} = $1;
	return $self;
}

sub port { $_[0]{port} }
sub log_text { FLR::Pg::slurp("$_[0]{dir}/chromium.log") }

# $c->page -> FLR::Chrome::Page: a new tab, its Page, Runtime, Log and
# Network domains on, so that every console message, exception and
# request is recorded from the first navigation.
sub page {
	my ($self) = @_;
	my $http = HTTP::Tiny->new(timeout => 30);
	my $res = $http->request('PUT',
	    "http://127.0.0.1:$self->{port}/json/new?about:blank");
	croak "FLR::Chrome: new tab: $res->{status} $res->{content}"
	    if !$res->{success};
	my $info = $JSON->decode($res->{content});
	my $p = FLR::Chrome::Page->new($info->{webSocketDebuggerUrl});
	push @{ $self->{pages} }, $p;
	return $p;
}

# Stops the browser's whole process group and removes its profile.
sub stop {
	my ($self) = @_;
	return if $self->{owner} != $$ || $self->{stopped}++;
	# waitpid sets $?, which at exit is the test's status.
	local ($?, $!, $@);
	delete $LIVE{refaddr $self};
	$_->shut for @{ $self->{pages} };
	my $pid = $self->{pid};
	if ($pid) {
		kill 'TERM', -$pid;
		my $deadline = time + 10;
		my $reaped;
		while (time < $deadline) {
			$reaped ||= waitpid($pid, POSIX::WNOHANG()) != 0;
			last if $reaped && !kill(0, -$pid);
			sleep 0.05;
		}
		kill 'KILL', -$pid;
		waitpid($pid, 0) if !$reaped;
	}
	remove_tree($self->{dir});
}

sub DESTROY { $_[0]->stop }

END {
	$_->stop for grep { defined } values %LIVE;
}

package FLR::Chrome::Page;

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(sha1);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(sleep time);

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

sub new {
	my ($class, $url) = @_;
	my ($host, $port, $path) = $url =~ m{^ws://([^/:]+):(\d+)(/\S*)$}
	    or croak "FLR::Chrome: odd WebSocket URL $url";
	my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
	    Proto => 'tcp', Timeout => 10)
	    or croak "FLR::Chrome: connect $host:$port: $!";
	binmode $sock;
	my $self = bless { sock => $sock, sel => IO::Select->new($sock),
	    buf => '', id => 0, errors => [], warnings => [], requests => [],
	    failed => [], events => [] }, $class;
	$self->handshake($host, $port, $path);
	$self->call($_) for qw(Page.enable Runtime.enable Log.enable
	    Network.enable);
	return $self;
}

# --- WebSocket -----------------------------------------------------------

sub handshake {
	my ($self, $host, $port, $path) = @_;
	my $key = encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
	# No Origin header: Chromium refuses WebSocket clients that send an
	# origin it was not told to allow.
	$self->write_all("GET $path HTTP/1.1\r\nHost: $host:$port\r\n"
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n\r\n");
	my $deadline = time + 10;
	until ($self->{buf} =~ /\r\n\r\n/) {
		$self->fill($deadline) or croak 'FLR::Chrome: no handshake answer';
	}
	my ($head, $rest) = split /\r\n\r\n/, $self->{buf}, 2;
	$self->{buf} = $rest;
	croak "FLR::Chrome: handshake refused: $head"
	    if $head !~ m{^HTTP/1\.1 101 };
	my $want = encode_base64(sha1($key . $GUID), '');
	croak 'FLR::Chrome: bad Sec-WebSocket-Accept'
	    if $head !~ /^Sec-WebSocket-Accept:\s*\Q$want\E\s*$/mi;
}

sub write_all {
	my ($self, $bytes) = @_;
	while (length $bytes) {
		my $n = syswrite $self->{sock}, $bytes;
		croak "FLR::Chrome: write: $!" if !defined $n;
		substr($bytes, 0, $n, '');
	}
}

# Reads what is there (waiting until $deadline); false on timeout.
sub fill {
	my ($self, $deadline) = @_;
	my $wait = $deadline - time;
	return 0 if $wait <= 0 || !$self->{sel}->can_read($wait);
	my $n = sysread $self->{sock}, my $chunk, 1 << 20;
	croak "FLR::Chrome: the browser closed the connection"
	    if !defined $n || $n == 0;
	$self->{buf} .= $chunk;
	return 1;
}

# One frame out: FIN, the opcode, the length, a mask (clients must mask).
sub send_frame {
	my ($self, $op, $payload) = @_;
	my $len = length $payload;
	my $head = chr(0x80 | $op);
	if ($len < 126) { $head .= chr(0x80 | $len) }
	elsif ($len < 65536) { $head .= chr(0x80 | 126) . pack('n', $len) }
	else { $head .= chr(0x80 | 127) . pack('Q>', $len) }
	my $mask = pack('N', int rand 4294967296);
	my $keys = substr($mask x (int($len / 4) + 1), 0, $len);
	$self->write_all($head . $mask . ($payload ^ $keys));
}

# The next whole message (text), or undef at $deadline.  Pings are
# answered; fragments are joined.
sub read_message {
	my ($self, $deadline) = @_;
	my $msg = '';
	while (1) {
		my $b = $self->{buf};
		if (length $b >= 2) {
			my ($b0, $b1) = unpack 'CC', $b;
			my ($len, $off) = ($b1 & 0x7f, 2);
			if ($len == 126 && length $b >= 4) {
				$len = unpack 'n', substr($b, 2, 2);
				$off = 4;
			} elsif ($len == 127 && length $b >= 10) {
				$len = unpack 'Q>', substr($b, 2, 8);
				$off = 10;
			} elsif ($len >= 126) {
				$len = -1;
			}
			my $masked = $b1 & 0x80;
			$off += 4 if $masked;
			if ($len >= 0 && length $b >= $off + $len) {
				my $payload = substr($b, $off, $len);
				if ($masked) {
					my $mask = substr($b, $off - 4, 4);
					$payload ^= substr($mask x (int($len / 4) + 1), 0, $len);
				}
				substr($self->{buf}, 0, $off + $len, '');
				my $op = $b0 & 0x0f;
				if ($op == 9) { $self->send_frame(10, $payload); next }
				next if $op == 10;
				croak 'FLR::Chrome: the browser closed the WebSocket'
				    if $op == 8;
				$msg .= $payload;
				return $msg if $b0 & 0x80;
				next;
			}
		}
		$self->fill($deadline) or return undef;
	}
}

# --- DevTools protocol ---------------------------------------------------

# $p->call($method, \%params, $timeout) -> result; dies on a protocol
# error.  Events that arrive meanwhile are recorded.
sub call {
	my ($self, $method, $params, $timeout) = @_;
	my $id = ++$self->{id};
	$self->send_frame(1, $JSON->encode({ id => $id, method => $method,
	    params => $params // {} }));
	my $deadline = time + ($timeout // 60);
	while (1) {
		my $text = $self->read_message($deadline)
		    // croak "FLR::Chrome: $method: no answer";
		my $m = $JSON->decode($text);
		if (defined $m->{id} && $m->{id} == $id) {
			croak "FLR::Chrome: $method: $m->{error}{message}"
			    if $m->{error};
			return $m->{result};
		}
		$self->event($m) if $m->{method};
	}
}

# Handle events for $seconds (or until $until->() is true).
sub pump {
	my ($self, $seconds, $until) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline) {
		return 1 if $until && $until->();
		my $text = $self->read_message($deadline) // last;
		my $m = $JSON->decode($text);
		$self->event($m) if $m->{method};
	}
	return $until ? $until->() : 1;
}

sub remote_text {
	my ($o) = @_;
	return $o->{value} // $o->{description} // $o->{type} // '';
}

sub event {
	my ($self, $m) = @_;
	my ($method, $p) = ($m->{method}, $m->{params});
	push @{ $self->{events} }, $m;
	shift @{ $self->{events} } if @{ $self->{events} } > 2000;
	if ($method eq 'Runtime.consoleAPICalled') {
		my $text = join ' ', map { remote_text($_) } @{ $p->{args} };
		push @{ $self->{errors} }, "console.$p->{type}: $text"
		    if $p->{type} eq 'error' || $p->{type} eq 'assert';
		push @{ $self->{warnings} }, "console.$p->{type}: $text"
		    if $p->{type} eq 'warning';
	} elsif ($method eq 'Runtime.exceptionThrown') {
		my $d = $p->{exceptionDetails};
		push @{ $self->{errors} }, 'exception: ' . ($d->{exception}
		    ? remote_text($d->{exception}) : $d->{text})
		    . (defined $d->{url} ? " at $d->{url}:$d->{lineNumber}" : '');
	} elsif ($method eq 'Log.entryAdded') {
		my $e = $p->{entry};
		my $text = "$e->{source}: $e->{text}"
		    . (defined $e->{url} ? " ($e->{url})" : '');
		push @{ $self->{errors} }, $text if $e->{level} eq 'error';
		push @{ $self->{warnings} }, $text if $e->{level} eq 'warning';
	} elsif ($method eq 'Network.requestWillBeSent') {
		push @{ $self->{requests} }, $p->{request}{url};
	} elsif ($method eq 'Network.loadingFailed') {
		push @{ $self->{failed} }, ($p->{blockedReason} // $p->{errorText})
		    . ' ' . ($p->{type} // '');
	} elsif ($method eq 'Page.loadEventFired') {
		$self->{loaded} = 1;
	}
}

# Console errors, uncaught exceptions and error log entries (CSP
# violations, failed loads) since the page was made or last cleared.
sub errors { @{ $_[0]{errors} } }
sub warnings { @{ $_[0]{warnings} } }
sub requests { @{ $_[0]{requests} } }
sub failed { @{ $_[0]{failed} } }

# Forget what was recorded so far.
sub clear {
	my ($self) = @_;
	$self->{$_} = [] for qw(errors warnings requests failed events);
}

# $p->go($url): navigate and wait for the load event.
sub go {
	my ($self, $url, $timeout) = @_;
	$self->{loaded} = 0;
	my $r = $self->call('Page.navigate', { url => $url });
	croak "FLR::Chrome: navigate $url: $r->{errorText}" if $r->{errorText};
	$self->pump($timeout // 60, sub { $self->{loaded} })
	    or croak "FLR::Chrome: $url did not load";
}

# $p->js($js) -> the value (JSON-able) of the expression; promises are
# awaited.  Dies with the exception's text when the script throws.
sub js {
	my ($self, $js) = @_;
	my $r = $self->call('Runtime.evaluate', { expression => $js,
	    returnByValue => JSON::PP::true, awaitPromise => JSON::PP::true });
	if (my $d = $r->{exceptionDetails}) {
		croak 'FLR::Chrome: script failed: ' . ($d->{exception}
		    ? FLR::Chrome::Page::remote_text($d->{exception}) : $d->{text});
	}
	return $r->{result}{value};
}

# $p->wait_for($js, $timeout) -> the expression's first true value, or
# undef when it stayed false for $timeout seconds (30).
sub wait_for {
	my ($self, $js, $timeout) = @_;
	my $deadline = time + ($timeout // 30);
	while (1) {
		my $v = $self->js($js);
		return $v if $v;
		return undef if time > $deadline;
		$self->pump(0.1);
	}
}

# $p->viewport($width, $height, $mobile)
sub viewport {
	my ($self, $w, $h, $mobile) = @_;
	$self->call('Emulation.setDeviceMetricsOverride', { width => $w,
	    height => $h, deviceScaleFactor => 1,
	    mobile => $mobile ? JSON::PP::true : JSON::PP::false });
}

# $p->screenshot($path, $width, $height, %o): the page at that viewport
# size, as PNG; mobile => 1 emulates a phone, full => 1 takes the whole
# page (at most 6000 px tall) instead of the viewport.
sub screenshot {
	my ($self, $path, $w, $h, %o) = @_;
	# A tab in the background draws no frames: it would never answer.
	$self->call('Page.bringToFront');
	$self->viewport($w, $h, $o{mobile});
	$self->pump(0.3);
	my $m = $self->call('Page.getLayoutMetrics');
	my $size = $m->{cssContentSize} // $m->{contentSize};
	my $height = $h;
	if ($o{full}) {
		$height = int($size->{height} + 0.5);
		$height = 6000 if $height > 6000;
		$height = $h if $height < $h;
	}
	my $r = $self->call('Page.captureScreenshot', { format => 'png',
	    captureBeyondViewport => JSON::PP::true,
	    clip => { x => 0, y => 0, width => $w,
	        height => $height, scale => 1 } });
	open my $fh, '>:raw', $path or croak "$path: $!";
	print {$fh} decode_base64($r->{data});
	close $fh or croak "$path: $!";
	return $path;
}

# $p->key('Tab'), $p->key('Enter'), $p->key('Tab', shift => 1): one key
# press as the keyboard sends it.
my %KEYS = (Tab => [ 9, "\t" ], Enter => [ 13, "\r" ], Escape => [ 27, '' ],
    Space => [ 32, ' ' ], ArrowDown => [ 40, '' ], ArrowUp => [ 38, '' ]);
sub key {
	my ($self, $name, %o) = @_;
	my ($code, $text) = @{ $KEYS{$name} // croak "unknown key $name" };
	my $key = $name eq 'Space' ? ' ' : $name;
	my %ev = (key => $key, code => $name, windowsVirtualKeyCode => $code,
	    nativeVirtualKeyCode => $code, modifiers => $o{shift} ? 8 : 0);
	$self->call('Input.dispatchKeyEvent', { type => length $text
	    ? 'keyDown' : 'rawKeyDown', %ev, length $text ? (text => $text) : () });
	$self->call('Input.dispatchKeyEvent', { type => 'keyUp', %ev });
}

# $p->type($text): text into the focused element, as an IME would.
sub type {
	my ($self, $text) = @_;
	$self->call('Input.insertText', { text => $text });
}

sub shut {
	my ($self) = @_;
	return if !$self->{sock};
	eval { $self->send_frame(8, pack('n', 1000)) };
	close $self->{sock};
	delete $self->{sock};
}

1;
