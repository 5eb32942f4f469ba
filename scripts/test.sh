#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the
# project twice (a normal build and one with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs every test in both.  As root.
#   NS8M_JOBS=N     parallel compile jobs (default: number of cores)
#   NS8M_NO_SETUP=1 skip the package check
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${NS8M_JOBS:-$(nproc)}

if [ "${NS8M_NO_SETUP:-}" != 1 ]; then
    "$src/scripts/setup.sh"
fi

build() {
    local dir=$1; shift
    cmake -S "$src" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

# The normal build takes sd-bus from libelogind (unpacked, never installed),
# so the whole suite runs with a standalone sd-bus; the ASan build keeps libsystemd.
elogind=$("$src/scripts/elogind-prefix.sh" "$src/build-deps/elogind")
build "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNS8M_SDBUS=libelogind -DCMAKE_PREFIX_PATH="$elogind"
build "$src/build-asan" -DCMAKE_BUILD_TYPE=Debug -DNS8M_SANITIZE=ON

status=0
echo "== tests, normal build"
ctest --test-dir "$src/build" --output-on-failure || status=1
echo "== tests, ASan + UBSan build"
ctest --test-dir "$src/build-asan" --output-on-failure || status=1
exit $status
