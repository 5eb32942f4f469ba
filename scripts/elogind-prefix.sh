#!/usr/bin/env bash
# elogind-prefix.sh DIR: Debian's libelogind0 and libelogind-dev unpacked
# into the private prefix DIR, for building the helper against a standalone
# sd-bus (-DNS8M_SDBUS=libelogind) on a machine that runs systemd.
#
# libelogind0 conflicts with systemd and libsystemd0: installing it would
# remove systemd.  So the two packages are only downloaded (apt-get
# download) and unpacked (dpkg-deb -x), never installed.  The script prints
# the prefix for CMake (DIR/usr; the rest of its output goes to stderr):
#   cmake ... -DNS8M_SDBUS=libelogind -DCMAKE_PREFIX_PATH=$(scripts/elogind-prefix.sh DIR)
# pkg_check_modules() then finds DIR/usr/lib/<triplet>/pkgconfig/libelogind.pc
# (so does pkg-config with that folder in PKG_CONFIG_PATH).
#
# The .pc file is rewritten to point into DIR, the absolute symlink
# libelogind.so is made relative, and libsystemd.so.0 (libelogind0's
# stand-in for libsystemd) is left out, so that nothing finds a libsystemd
# in DIR.  Nothing is done when DIR already holds the version apt offers (or
# any version, when apt has no package lists).  As root, or as a user
# apt-get download works for.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
mkdir -p "$(dirname "$1")"
dest=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
packages=(libelogind0 libelogind-dev)
stamp=$dest/.ns8m-elogind-version

candidate() {
    apt-cache policy libelogind0 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)' || true
}


if [ -e "$dest" ] && [ ! -f "$stamp" ] && [ -n "$(ls -A "$dest")" ]; then
    echo "elogind-prefix.sh: $dest is not a prefix this script made; not touching it" >&2
    exit 1
fi
want=$(candidate)
if [ -f "$stamp" ] && { [ -z "$want" ] || [ "$(cat "$stamp")" = "$want" ]; }; then
    echo "elogind-prefix.sh: $dest has libelogind $(cat "$stamp")" >&2
    echo "$dest/usr"
    exit 0
fi

tmp=$(mktemp -d "$dest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
download() {
    # As root apt-get download would warn that its sandbox user cannot write
    # to the private temporary folder; it downloads as root anyway.
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${packages[@]}") >&2
}
if ! download; then
    echo "elogind-prefix.sh: apt-get download failed; updating the package lists" >&2
    apt-get update -q >&2
    download
fi

# Unpacked and fixed in $tmp/root, moved to DIR at the end: an interrupted
# run leaves no half prefix behind.
root=$tmp/root
for deb in "$tmp"/*.deb; do
    dpkg-deb -x "$deb" "$root"
done
so=$(find "$root" -name libelogind.so.0 -print -quit)
pc=$(find "$root" -name libelogind.pc -print -quit)
inc=$(find "$root" -path '*/include/elogind' -type d -print -quit)
if [ -z "$so" ] || [ -z "$pc" ] || [ -z "$inc" ]; then
    echo "elogind-prefix.sh: no libelogind.so.0, libelogind.pc or include/elogind in the packages" >&2
    exit 1
fi
libdir=$(dirname "$so")
rm -f "$libdir/libsystemd.so.0"
# libelogind.so points to /lib/<triplet>/libelogind.so.0; the one the .pc
# file names is beside the library, relative.
find "$root" -name libelogind.so -type l -delete
ln -s libelogind.so.0 "$libdir/libelogind.so"
sed -i -e "s|^prefix=.*|prefix=$dest/usr|" \
       -e "s|^exec_prefix=.*|exec_prefix=$dest/usr|" \
       -e "s|^libdir=.*|libdir=$dest${libdir#"$root"}|" \
       -e "s|^includedir=.*|includedir=$dest${inc#"$root"}|" "$pc"
dpkg-deb -f "$tmp"/libelogind0_*.deb Version >"$root/.ns8m-elogind-version"

rm -rf "$dest"
mv "$root" "$dest"
echo "elogind-prefix.sh: libelogind $(cat "$stamp") unpacked into $dest" >&2
echo "$dest/usr"
