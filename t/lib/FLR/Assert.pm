package FLR::Assert;
# Assertions shared by the end-to-end tests: the problem+json shape of
# SPEC.md §0 and the JSON body of a response.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use Test::More ();

our @EXPORT_OK = qw(problem_is json_of read_table both_modes);

my $json = JSON::PP->new->utf8->canonical;

# Decode a response's body as JSON, or undef when it is not JSON.
sub json_of {
	my ($res) = @_;
	my $doc = eval { $json->decode($res->{content} // '') };
	return $doc;
}

# One test: res is a problem document with this status, code and
# (when given) param, and carries the legacy "error" copy of detail.
sub problem_is {
	my ($res, $status, $code, $param, $name) = @_;
	my $doc = json_of($res);
	my @why;
	push @why, "status $res->{status}" if $res->{status} != $status;
	my $ct = $res->{headers}{'content-type'} // '';
	push @why, "content-type $ct" if $ct ne 'application/problem+json';
	if (!$doc || ref $doc ne 'HASH') {
		push @why, 'body is not a JSON object';
	} else {
		push @why, "code " . ($doc->{code} // 'undef')
		    if ($doc->{code} // '') ne $code;
		push @why, "param " . ($doc->{param} // 'undef')
		    if defined $param && ($doc->{param} // '') ne $param;
		push @why, 'status field' if ($doc->{status} // 0) != $status;
		push @why, 'type field' if ($doc->{type} // '') ne 'about:blank';
		push @why, 'no title' if !length($doc->{title} // '');
		push @why, 'no detail' if !length($doc->{detail} // '');
		push @why, 'error differs from detail'
		    if ($doc->{error} // '') ne ($doc->{detail} // '');
	}
	my $ok = Test::More::ok(!@why, $name);
	Test::More::diag(join(', ', @why) . "\nbody: " . ($res->{content} // ''))
	    if !$ok;
	return $ok;
}

# Both handling modes of one bad query: $send->(\%headers) sends it and
# returns the response.  Row: query, then what strict handling gets
# (status, code, param), then what the lenient default gets: its status
# and, for a 200, the X-FLR-Adjusted header it must carry ("" for none);
# a lenient 400 has the strict code and param.
sub both_modes {
	my ($send, $row, $label) = @_;
	my ($q, $status, $code, $param, $lstatus, $adjusted) = @$row;
	$param = undef if $param eq '';
	my $res = $send->({ Prefer => 'handling=strict' });
	problem_is($res, $status, $code, $param, "$label?$q strict → $status $code");
	Test::More::is($res->{headers}{'preference-applied'}, 'handling=strict',
	    "$label?$q strict: Preference-Applied");
	$res = $send->({});
	if ($lstatus == 200) {
		Test::More::is($res->{status}, 200, "$label?$q lenient → 200")
		    or Test::More::diag($res->{content});
		Test::More::is($res->{headers}{'x-flr-adjusted'} // '', $adjusted,
		    "$label?$q lenient: X-FLR-Adjusted");
	} else {
		problem_is($res, $lstatus, $code, $param,
		    "$label?$q lenient → $lstatus $code");
	}
}

# Rows of a tab-separated table under t/data/ (# comments, blank lines
# skipped); "\t" separates columns, "-" stands for an empty column.
sub read_table {
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	my @rows;
	while (my $line = <$fh>) {
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		push @rows, [map { $_ eq '-' ? '' : $_ } split /\t/, $line, -1];
	}
	return @rows;
}

1;
