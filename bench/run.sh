#!/usr/bin/env bash
# All benchmarks (./build.sh bench runs this with the build dir). Each bench/*_bench.sh gets the
# build dir as its first argument and prints its own figures; BENCH=name runs only name_bench.sh.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${1:-$HERE/../build}
failed=0
for b in "$HERE"/*_bench.sh; do
    name=$(basename "$b" _bench.sh)
    [[ -n ${BENCH:-} && $BENCH != "$name" ]] && continue
    echo "==> benchmark: $name"
    "$b" "$BUILD_DIR" || { echo "==> $name: FAILED (exit $?)"; failed=1; }
done
exit $failed
