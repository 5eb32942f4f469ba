package esmith::templates;

# A stand-in of NethServer 7's esmith::templates::processTemplate for the
# tests' NS7 root.  As on NS7: fragments from templates-custom/<path> and
# templates/<path>, a custom fragment overriding the stock one of the same
# name, ASCII order with template-begin first and template-end last (the
# default template-begin when a directory template has none), empty
# fragments and editor/rpm leftovers skipped; Text::Template with the
# configuration records as variables ($key: the raw value, %key: the props
# of records that have any), $DB and MORE_DATA; metadata from
# templates.metadata/<path> (a file of KEY=perl-expression lines, or a
# folder of KEY files); a fragment error leaves the target untouched; the
# target is replaced by rename only when its MD5 changes.  An existing
# target keeps its owner and mode unless the metadata sets them.
# Every path is below the root.

use strict;
use warnings;
use Carp;
use Digest::MD5;
use File::Basename qw(basename);
use POSIX ();
use Text::Template qw(fill_in_file);
use esmith::ConfigDB;
use esmith::Standin;

our @ISA = qw(Exporter);
our @EXPORT = qw(processTemplate);
require Exporter;

our $TEMPLATE_COUNT = 0;

sub _read_metadata {
    my ($path, $params) = @_;
    my $meta = esmith::Standin::path("/etc/e-smith/templates.metadata/$path");
    if (-f $meta && CORE::open(my $fh, '<', $meta)) {
        while (<$fh>) {
            next unless /^([^=]+)=(.*)$/;
            $params->{$1} = eval $2;
        }
        close($fh);
    } elsif (-d $meta && opendir(my $dh, $meta)) {
        foreach my $name (grep { !/^\./ && !-d "$meta/$_" } readdir($dh)) {
            CORE::open(my $fh, '<', "$meta/$name") or next;
            local $/;
            my $code = <$fh>;
            close($fh);
            $params->{$name} = eval "{ $code }";
        }
        closedir($dh);
    }
}

sub _merge_templates {
    my ($path, @queue) = @_;
    my %templates;
    my $saw_dir = 0;
    foreach my $source (reverse @queue) {
        my $dir = "$source/$path";
        if (-f $dir) {
            %templates = ($path => $dir);
        } elsif (-d $dir) {
            $saw_dir = 1;
            delete $templates{$path};
            opendir(my $dh, $dir) or next;
            foreach my $file (readdir($dh)) {
                next if $file =~ /^\.{1,2}$/;
                next if $file =~ /(~|\.(swp|orig|rpmsave|rpmnew|rpmorig))$/;
                $templates{"$path/$file"} = "$dir/$file" if -f "$dir/$file";
            }
            closedir($dh);
        }
    }
    if ($saw_dir && %templates) {
        $templates{"$path/template-begin"} ||=
            esmith::Standin::path('/etc/e-smith/templates-default/template-begin');
    }
    return %templates;
}

sub _template_order {
    my ($fa, $fb) = (basename($a), basename($b));
    return -1 if $fa eq 'template-begin' || $fb eq 'template-end';
    return 1 if $fa eq 'template-end' || $fb eq 'template-begin';
    return $fa cmp $fb;
}

sub _tmpl_vars {
    my ($p) = @_;
    my @vars = ({}, {}, {}, {});
    my $db = esmith::ConfigDB->open_ro();
    if ($db) {
        foreach my $rec ($db->get_all) {
            my %props = $rec->props;
            $vars[0]{ $rec->key } = \%props if keys %props > 1;
            $vars[1]{ $rec->key } = $db->{config}{ $rec->key };
        }
        $vars[2]{confref} = \$db->{config};
    }
    $vars[2]{DB} = \$db;
    %{ $vars[3] } = %{ $p->{MORE_DATA} || {} };
    return \@vars;
}

sub _id {
    my ($id, $lookup) = @_;
    return $id if $id =~ /^\d+$/;
    my $n = $lookup->($id);
    return defined $n ? $n : 0;
}

sub processTemplate {
    my ($args) = @_;
    my %p = (MORE_DATA => {}, TEMPLATE_PATH => '', OUTPUT_FILENAME => '', OUTPUT_PREFIX => '',
             TEMPLATE_EXPAND_QUEUE => [esmith::Standin::path('/etc/e-smith/templates-custom'),
                                       esmith::Standin::path('/etc/e-smith/templates')],
             OUTPUT_TYPE => 'file', %$args);
    my %meta;
    _read_metadata($p{TEMPLATE_PATH}, \%meta);
    %p = (%p, %meta);
    $p{OUTPUT_FILENAME} ||= $p{TEMPLATE_PATH};
    my $output = esmith::Standin::path("$p{OUTPUT_PREFIX}/$p{OUTPUT_FILENAME}");
    if (-d $output) {
        carp "ERROR: Could not expand $output template - it is a directory\n";
        return;
    }

    my %templates = _merge_templates($p{TEMPLATE_PATH}, @{ $p{TEMPLATE_EXPAND_QUEUE} });
    unless (%templates) {
        carp "ERROR: No templates were found for $p{TEMPLATE_PATH}.\n";
        return;
    }

    $TEMPLATE_COUNT++;
    my $pkg = "esmith::__TEMPLATE__::$TEMPLATE_COUNT";
    my $vars = _tmpl_vars(\%p);
    my ($text, $errors) = ('', 0);
    foreach my $key (sort _template_order keys %templates) {
        my $file = $templates{$key};
        next unless -s $file;
        my $broken = sub {
            my %a = @_;
            (my $error = $a{error}) =~ s/\n+\z//;
            $errors++;
            print STDERR "ERROR in $file: Program fragment delivered error <<$error>> at template line $a{lineno}\n";
            return '';
        };
        my $out = fill_in_file($file, HASH => $vars, PACKAGE => $pkg, BROKEN => $broken);
        unless (defined $out) {
            carp "ERROR: Cannot process template $file: $Text::Template::ERROR\n";
            return;
        }
        $text .= $out;
    }
    if ($errors) {
        carp "ERROR: Template processing failed for $output: $errors fragment"
            . ($errors == 1 ? '' : 's') . " generated errors\n";
        return;
    }
    return $text if $p{OUTPUT_TYPE} eq 'string';

    my @old = stat($output);
    my $perms = exists $meta{PERMS} ? $meta{PERMS} : @old ? ($old[2] & 07777) : 0644;
    $perms = oct($perms) if $perms =~ /^0/;
    my $uid = exists $meta{UID} ? _id($meta{UID}, sub { scalar getpwnam($_[0]) }) : @old ? $old[4] : 0;
    my $gid = exists $meta{GID} ? _id($meta{GID}, sub { scalar getgrnam($_[0]) }) : @old ? $old[5] : 0;

    my $tmp = "$output.$$";
    (my $dir = $output) =~ s{/[^/]*$}{};
    system('mkdir', '-p', $dir) unless -d $dir;
    my $fd = POSIX::open($tmp, &POSIX::O_CREAT | &POSIX::O_WRONLY | &POSIX::O_TRUNC, 0600);
    unless (defined $fd) {
        carp "ERROR: Cannot create output file $tmp $!\n";
        return;
    }
    POSIX::write($fd, $text, length($text));
    POSIX::close($fd);
    chown($uid, $gid, $tmp);
    chmod($perms, $tmp);

    if (@old && -f $output && _md5($tmp) eq _md5($output)) {
        unlink($tmp);
        chown($uid, $gid, $output);
        chmod($perms, $output);
        return 1;
    }
    unless (rename($tmp, $output)) {
        carp "ERROR: Could not rename $tmp to $output: $!\n";
        unlink($tmp);
        return 0;
    }
    return 1;
}

sub _md5 {
    my ($file) = @_;
    CORE::open(my $fh, '<', $file) or return '';
    binmode($fh);
    return Digest::MD5->new->addfile($fh)->hexdigest;
}

1;
