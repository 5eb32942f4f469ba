#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the
# project twice (a normal build with Qt 6, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer with Qt 5, so that both Qt majors are proven)
# and runs every test in both.  A third, small build (clang, NS8M_FUZZ)
# makes the libFuzzer targets of tests/fuzz only; the normal build's CTest
# runs them (label fuzz, NS8M_FUZZ_SECONDS each) beside its other tests.
# As root.
#   NS8M_JOBS=N     parallel compile jobs (default: number of cores)
#   NS8M_NO_SETUP=1 skip the package check
#   NS8M_TEST_JOBS=N tests run at the same time (default 2)
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

# The normal build (Qt 6) takes sd-bus from libelogind (unpacked, never
# installed), so the whole suite runs with a standalone sd-bus; the ASan
# build (Qt 5) keeps libsystemd.
elogind=$("$src/scripts/elogind-prefix.sh" "$src/build-deps/elogind")
CXX=clang++-14 build "$src/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNS8M_FUZZ=ON -DNS8M_QT_MAJOR=6
build "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNS8M_QT_MAJOR=6 -DNS8M_SDBUS=libelogind -DCMAKE_PREFIX_PATH="$elogind" \
    -DNS8M_FUZZ_BUILD_DIR="$src/build-fuzz"
build "$src/build-asan" -DCMAKE_BUILD_TYPE=Debug -DNS8M_SANITIZE=ON -DNS8M_QT_MAJOR=5

status=0
# Two tests at a time: the ones that join the simulated cluster hold the
# ns8-interface resource lock and run one after the other, the rest (unit
# tests, the package build, the tests that need no cluster) run beside them.
# NS8M_TEST_JOBS=1 runs one test at a time.
tjobs=${NS8M_TEST_JOBS:-2}
# (cd instead of ctest --test-dir, which is CMake 3.20: NethServer 7 has 3.17)
echo "== tests, normal build (Qt 6)"
(cd "$src/build" && ctest -j "$tjobs" --output-on-failure) || status=1
echo "== tests, ASan + UBSan build (Qt 5)"
(cd "$src/build-asan" && ctest -j "$tjobs" --output-on-failure) || status=1
exit $status
