package esmith::Standin;

# What the Perl stand-ins of the tests' NS7 root share: where the root is
# (this file lives in <root>/usr/share/perl5/vendor_perl/esmith), and the
# calls file every tool appends one JSON line to (see the harness'
# esmith.py).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Fcntl qw(O_WRONLY O_APPEND O_CREAT);
use JSON::PP;
use Time::HiRes ();

my $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../../../../..');

sub root { return $ROOT }

# An absolute NS7 path, below the root.
sub path {
    my ($p) = @_;
    $p =~ s{^/+}{};
    return "$ROOT/$p";
}

sub now { return Time::HiRes::time() }

sub record_call {
    my ($tool, $argv, $start, $code) = @_;
    my $dir = path('/var/log/ns7-standin');
    mkdir path('/var/log') unless -d path('/var/log');
    mkdir $dir unless -d $dir;
    my $line = JSON::PP->new->canonical->encode({
        tool => $tool, argv => [@$argv], time => $start + 0,
        duration => sprintf('%.6f', now() - $start) + 0, exit => $code + 0,
        pid => $$ + 0, ppid => getppid() + 0,
    }) . "\n";
    sysopen(my $fh, "$dir/calls.jsonl", O_WRONLY | O_APPEND | O_CREAT, 0644) or return;
    syswrite($fh, $line);
    close($fh);
}

1;
