#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the demo
# (scripts/demo.py; its --help says what it does and takes).  As root.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/setup.sh"
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$src/build" -j "$(nproc)"
NS8M_HELPER="$src/build/helper/ns8-migration-helper" \
NS8M_SHARED_DIR="${NS8M_SHARED_DIR:-$src/../shared}" \
    exec /usr/bin/python3 "$src/scripts/demo.py" "$@"
