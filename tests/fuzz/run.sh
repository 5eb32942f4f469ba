#!/bin/sh
# run.sh FUZZER SEED_DIR WORK_DIR SECONDS: runs a libFuzzer target for
# SECONDS over the seed corpus (never written to) and what it found before
# (WORK_DIR/corpus); a crash leaves its input in WORK_DIR and fails.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/corpus"
# Leaks of one input are findings too; Qt's caches are reachable, not leaks.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
