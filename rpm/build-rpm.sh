#!/usr/bin/env bash
# Builds the RPM from the source tarball, as a build host would:
#   rpm/build-rpm.sh [-o DIR] [-t TARBALL] [-- RPMBUILD-ARGUMENT...]
# runs scripts/dist.sh -o DIR (default DIR: ./rpm-out; with -t, takes that
# tarball instead of making one), then `rpmbuild -ta` on the tarball with
# DIR/rpmbuild as rpmbuild's top folder and the other arguments (e.g.
# --define "dist .ns7" --define "_smp_mflags -j2").  The packages land in
# DIR/rpmbuild/RPMS/<arch>/ and DIR/rpmbuild/SRPMS/.
#
# On Debian (CI) rpmbuild gets --nodeps: the BuildRequires are Fedora/EL
# names that Debian's rpm database does not know; the Debian packages of
# scripts/packages.d/build.txt provide the same things.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=rpm-out
tarball=
while getopts o:t: opt; do
    case $opt in
        o) out=$OPTARG ;;
        t) tarball=$(realpath "$OPTARG") ;;
        *) echo "usage: $0 [-o DIR] [-t TARBALL] [-- RPMBUILD-ARGUMENT...]" >&2; exit 2 ;;
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
rpmbuild -ta "$tarball" --define "_topdir $out/rpmbuild" "${args[@]}" "$@"
