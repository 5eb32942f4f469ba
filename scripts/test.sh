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

build "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
build "$src/build-asan" -DCMAKE_BUILD_TYPE=Debug -DNS8M_SANITIZE=ON

status=0
# (cd instead of ctest --test-dir, which is CMake 3.20: NethServer 7 has 3.17)
echo "== tests, normal build"
(cd "$src/build" && ctest --output-on-failure) || status=1
echo "== tests, ASan + UBSan build"
(cd "$src/build-asan" && ctest --output-on-failure) || status=1
exit $status
