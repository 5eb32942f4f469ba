#!/usr/bin/env bash
# Makes the source tarball the RPM is built from, and the spec beside it:
#   scripts/dist.sh [-o DIR]      (default DIR: the current directory)
# writes DIR/ns8-migration-<VERSION>.tar.gz and DIR/ns8-migration.spec.
#
# The tarball holds what a build with -DNS8M_BUILD_TESTS=OFF
# -DNS8M_BUILD_PAGE=OFF needs and nothing else: the files git tracks under
# the paths below (their content in the working tree); the Cockpit page
# built from cockpit-plugin/ by its build.js into cockpit-plugin/dist/ (the
# bundle only: the package build has no node or npm); and ns8-migration.spec
# generated from rpm/ns8-migration.spec.in with the version of VERSION, so
# that `rpmbuild -ta` takes the tarball alone.  No tests, no build folders,
# no node_modules.  Outside a git checkout the same paths are taken as they
# are on disk.
#
# Building the page needs node, and cockpit-plugin/node_modules (made with
# `npm ci` when missing: that step needs the npm registry).  Without node
# the tarball has no page, and says so.
#   NS8M_DIST_REQUIRE_COCKPIT=1   fail instead when the page cannot be built
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=.
while getopts o: opt; do
    case $opt in
        o) out=$OPTARG ;;
        *) echo "usage: $0 [-o DIR]" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

name=ns8-migration
version=$(head -n 1 "$src/VERSION" | tr -d '[:space:]')
if ! [[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]]; then
    echo "dist.sh: VERSION does not hold a version: '$version'" >&2
    exit 1
fi

# What the package build reads.  A folder added with add_subdirectory() in
# the top-level CMakeLists.txt must be added here too (the RPM check fails
# otherwise: the tarball would not build).
paths=(CMakeLists.txt VERSION README.md docs cmake helper/CMakeLists.txt helper/src
       dbus polkit apps logrotate ns7 rpm)

list_files() {
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$src" ls-files -z -- "${paths[@]}" | tr '\0' '\n'
    else
        (cd "$src" && for p in "${paths[@]}"; do
            [ -e "$p" ] && find "$p" -type f
        done)
    fi
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/ns8m-dist-XXXXXX")
trap 'rm -rf "$stage"' EXIT
top="$stage/$name-$version"
mkdir -p "$top"

n=0
while IFS= read -r f; do
    [ -f "$src/$f" ] || continue        # tracked but deleted in the working tree
    mkdir -p "$top/$(dirname "$f")"
    cp -p "$src/$f" "$top/$f"
    n=$((n + 1))
done < <(list_files | sort -u)
if [ "$n" -eq 0 ]; then
    echo "dist.sh: no files found under $src" >&2
    exit 1
fi

cockpit=0
page="$src/cockpit-plugin"
if [ -f "$page/build.js" ] && command -v node >/dev/null; then
    if [ ! -f "$page/node_modules/.package-lock.json" ]; then
        (cd "$page" && npm ci --no-audit --no-fund --loglevel=error) >&2
    fi
    (cd "$page" && node build.js --outdir "$top/cockpit-plugin/dist") >&2
    for f in manifest.json index.html; do
        if [ ! -f "$top/cockpit-plugin/dist/$f" ]; then
            echo "dist.sh: the page's build made no $f" >&2
            exit 1
        fi
    done
    cockpit=1
elif [ "${NS8M_DIST_REQUIRE_COCKPIT:-}" = 1 ]; then
    echo "dist.sh: cannot build the Cockpit page (needs cockpit-plugin/build.js and node)" >&2
    exit 1
else
    echo "dist.sh: note: no node or no cockpit-plugin/build.js, the package will have no Cockpit page" >&2
fi

sed -e "s/@VERSION@/$version/g" -e "s/@NS8M_COCKPIT@/$cockpit/g" \
    "$src/rpm/$name.spec.in" > "$top/$name.spec"
cp "$top/$name.spec" "$out/$name.spec"

# Reproducible: same files, same order, same owners and times.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
tarball="$out/$name-$version.tar.gz"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --mode=u+rw,go-w,go+rX -cf - "$name-$version" | gzip -9n > "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "$tarball"
