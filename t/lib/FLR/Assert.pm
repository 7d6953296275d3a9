package FLR::Assert;
# Assertions shared by the end-to-end tests: the problem+json shape of
# SPEC.md §0 and the JSON body of a response.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use Test::More ();

our @EXPORT_OK = qw(problem_is json_of read_table);

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
