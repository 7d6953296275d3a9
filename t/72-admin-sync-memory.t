# End to end: POST /api/admin/sync-models with a big catalogue (about
# 30 MiB, served by a local stand-in for OpenRouter) leaves the API
# workers small: the parsing happens in a process of its own, whose memory
# goes back to the system when it exits.  The answer is the usual one.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Stack;
use FLR::WebServer;
use FLR::Assert qw(json_of);

my $SECRET = 'sync-memory-secret-0123456789abcdef';
my $RSS_MAX_KB = 64 * 1024;
my $json = JSON::PP->new->utf8->canonical;

# The snapshot's 414 models, copied under new ids until the payload is
# about 30 MiB; only the first copy keeps its free models free.
my $fixture = $json->decode(FLR::Pg::slurp("$FindBin::Bin/fixtures/openrouter-models.json"));
my @models;
my $size = 0;
for (my $copy = 0; $size < 30 * 1024 * 1024; $copy++) {
	for my $m (@{$fixture->{data}}) {
		my %c = %$m;
		if ($copy > 0) {
			$c{id} = "$m->{id}-copy$copy";
			$c{pricing} = { prompt => '0.000001', completion => '0.000002' };
		}
		push @models, \%c;
		$size += length($json->encode(\%c)) + 1;
	}
}
my $dir = tempdir('flr-bigcat-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
my $file = "$dir/models.json";
open my $fh, '>:raw', $file or die "$file: $!";
print {$fh} $json->encode({ data => \@models });
close $fh or die "$file: $!";
my $mib = sprintf '%.1f', (-s $file) / 1024 / 1024;
note("catalogue: " . scalar(@models) . " models, $mib MiB");
cmp_ok(-s $file, '>', 29 * 1024 * 1024, "a catalogue of $mib MiB");

my $srv = FLR::WebServer->new;
$srv->script({ file => $file });
my $s = FLR::Stack->new(workers => 2, env => { ADMIN_SECRET => $SECRET,
    OPENROUTER_MODELS_URL => $srv->url('/api/v1/models') });

sub workers {
	my $parent = $s->pids->{api};
	my @pids;
	opendir my $dh, '/proc' or die "/proc: $!";
	for my $pid (grep { /^\d+$/ } readdir $dh) {
		my $stat = FLR::Pg::slurp("/proc/$pid/stat");
		my ($comm, $ppid) = $stat =~ /^\d+ \((.*)\) \S+ (\d+)/s or next;
		push @pids, $pid if $ppid == $parent && $comm eq 'flr-api';
	}
	return @pids;
}

sub rss_kb {
	my ($pid) = @_;
	my ($kb) = FLR::Pg::slurp("/proc/$pid/status") =~ /^VmRSS:\s*(\d+) kB/m;
	return $kb // 0;
}

# A parse of this size takes a while under the sanitizers.
my $http = HTTP::Tiny->new(timeout => 110);
my %h = ('X-Admin-Secret' => $SECRET);
my $res = $http->request('POST', $s->url('/api/admin/sync-models?force=true'),
    { headers => \%h });
is($res->{status}, 200, 'the sync of the big catalogue: 200')
    or diag($res->{content});
my $doc = json_of($res) // {};
is($doc->{modelsTotal}, scalar @models, 'every model was read');
is($doc->{modelsFree}, 20, 'the free ones kept');
is($doc->{inserted}, 20, 'and stored');
is($s->psql('SELECT count(*) FROM free_models'), 20, 'the catalogue has them');

my @w = workers();
is(scalar @w, 2, 'two workers');
for my $pid (@w) {
	my $kb = rss_kb($pid);
	note("worker $pid: VmRSS $kb kB");
	cmp_ok($kb, '<', $RSS_MAX_KB, "worker $pid stays under 64 MB resident");
}

# The same again, fresh data: skipped, by the worker itself.
$res = $http->request('POST', $s->url('/api/admin/sync-models'), { headers => \%h });
is((json_of($res) // {})->{reason}, 'data_fresh', 'then: skipped, data_fresh');
is($srv->count, 1, 'OpenRouter was asked once');

done_testing();
