#!/usr/bin/env bash
# Builds the RPM from the source tarball, as a build host would:
#   rpm/build-rpm.sh [-o DIR] [-t TARBALL] [-7] [-- RPMBUILD-ARGUMENT...]
# runs scripts/dist.sh -o DIR (default DIR: ./rpm-out; with -t, takes that
# tarball instead of making one), then `rpmbuild -ta` on the tarball with
# DIR/rpmbuild as rpmbuild's top folder and the other arguments (e.g.
# --define "dist .ns7" --define "_smp_mflags -j2").  The packages land in
# DIR/rpmbuild/RPMS/<arch>/ and DIR/rpmbuild/SRPMS/.
#
# -7: the spec's NethServer 7 branch (--define "rhel 7"), for a build host
# whose rpm does not define %{rhel} as 7 by itself.
#
# On Debian (CI) rpmbuild gets --nodeps: the BuildRequires are Fedora/EL
# names that Debian's rpm database does not know; the Debian packages of
# scripts/packages.d/build.txt provide the same things.  With -7 there, the
# build takes Debian's Qt 5 and the libelogind of the private prefix that
# scripts/elogind-prefix.sh unpacks (never installed): $NS8M_ELOGIND_PREFIX,
# the folder that script prints, else the script is run for build-deps/elogind
# of this checkout.  PKG_CONFIG_PATH leads the build to its libelogind.pc,
# LD_LIBRARY_PATH the spec's %check run of the helper to its library.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=rpm-out
tarball=
el7=0
while getopts o:t:7 opt; do
    case $opt in
        o) out=$OPTARG ;;
        t) tarball=$(realpath "$OPTARG") ;;
        7) el7=1 ;;
        *) echo "usage: $0 [-o DIR] [-t TARBALL] [-7] [-- RPMBUILD-ARGUMENT...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -z "$tarball" ]; then
    tarball=$("$src/scripts/dist.sh" -o "$out" | tail -n 1)
fi
args=()
if [ -f /etc/debian_version ]; then
    args+=(--nodeps)
fi
if [ "$el7" = 1 ]; then
    args+=(--define "rhel 7")
fi
if [ "$el7" = 1 ] && [ -f /etc/debian_version ]; then
    elogind=${NS8M_ELOGIND_PREFIX:-}
    if [ -z "$elogind" ]; then
        elogind=$("$src/scripts/elogind-prefix.sh" "$src/build-deps/elogind")
    fi
    pc=
    for f in "$elogind"/lib/*/pkgconfig/libelogind.pc "$elogind"/lib*/pkgconfig/libelogind.pc; do
        if [ -f "$f" ]; then pc=$f; break; fi
    done
    if [ -z "$pc" ]; then
        echo "build-rpm.sh: no libelogind.pc in $elogind (see scripts/elogind-prefix.sh)" >&2
        exit 1
    fi
    PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
    export PKG_CONFIG_PATH
    libdir=$(pkg-config --variable=libdir libelogind)
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi
rpmbuild -ta "$tarball" --define "_topdir $out/rpmbuild" "${args[@]}" "$@"
