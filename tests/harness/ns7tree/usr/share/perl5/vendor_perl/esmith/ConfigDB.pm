package esmith::ConfigDB;

# A read-only stand-in of NethServer 7's esmith::ConfigDB for template
# fragments: the databases of the tests' NS7 root, parsed as esmith::db
# does (blank and # lines skipped, split at the first =, fields at any |
# not preceded by a backslash), with what the Perl API adds: \n and \|
# unescaped in values.  The type is the prop "type".

use strict;
use warnings;
use esmith::Standin;

sub _file {
    my ($name) = @_;
    $name ||= 'configuration';
    return $name =~ m{^/} ? esmith::Standin::path($name)
                          : esmith::Standin::path("/var/lib/nethserver/db/$name");
}

sub open_ro {
    my ($class, $name) = @_;
    my $file = _file($name);
    return undef unless -e $file;
    my $self = bless { file => $file, config => {} }, ref($class) || $class;
    $self->reload;
    return $self;
}

# Writes are not part of the stand-in: open() is open_ro().
sub open { my $class = shift; return $class->open_ro(@_) }

sub reload {
    my ($self) = @_;
    my %config;
    CORE::open(my $fh, '<', $self->{file}) or return $self;
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*$/ || $line =~ /^\s*#/;
        my ($key, $value) = split /=/, $line, 2;
        $config{$key} = $value;
    }
    close($fh);
    $self->{config} = \%config;
    return $self;
}

sub file { return $_[0]->{file} }

sub keys { return sort keys %{ $_[0]->{config} } }

sub get {
    my ($self, $key) = @_;
    return undef unless defined $key && exists $self->{config}{$key};
    my $raw = $self->{config}{$key};
    $raw = '' unless defined $raw;
    $raw =~ s/\\n/\n/g;
    my ($type, @rest) = split(/(?<!\\)\|/, $raw, -1);
    my %props = @rest;
    s/\\\|/|/g foreach values %props;
    $props{type} = defined $type ? $type : '';
    return bless { key => $key, props => \%props }, 'esmith::ConfigDB::Record';
}

sub get_all {
    my ($self) = @_;
    return map { $self->get($_) } $self->keys;
}

sub get_value {
    my ($self, $key) = @_;
    my $rec = $self->get($key) or return undef;
    return $rec->value;
}

sub get_prop {
    my ($self, $key, $prop) = @_;
    my $rec = $self->get($key) or return undef;
    return $rec->prop($prop);
}

# Records whose props match, sorted by key; a comma-separated value matches
# when one of its items does (esmith::DB).
sub get_all_by_prop {
    my ($self, @args) = @_;
    my %want = ref($args[0]) eq 'HASH' ? %{ $args[0] } : @args;
    return sort { $a->key cmp $b->key } grep {
        my $rec = $_;
        my $found = 1;
        while (my ($p, $v) = each %want) {
            my $have = $rec->prop($p);
            $found &&= (defined $have && $have =~ /(?:^|,)$v(?:,|$)/);
        }
        $found;
    } $self->get_all;
}

sub as_hash {
    my ($self) = @_;
    $self = $self->open_ro($_[1]) unless ref $self;
    return map { ($_->key => { $_->props }) } $self->get_all;
}

package esmith::ConfigDB::Record;

sub key   { return $_[0]->{key} }
sub prop  { my ($self, $p) = @_; return $self->{props}{$p} }
sub props { return %{ $_[0]->{props} } }
sub value { return $_[0]->{props}{type} }

1;
