#!/usr/bin/env bash
# Runs the Google Benchmark binaries in BUILD_DIR, writing Google Benchmark JSON into OUT.
#   tools/run-benchmarks.sh build out/bench          full run (minutes; the baseline numbers)
#   tools/run-benchmarks.sh build out/bench smoke    a few ms each: CI runs this so they never rot
set -euo pipefail
build=${1:?usage: run-benchmarks.sh BUILD_DIR OUT_DIR [smoke]}
out=${2:?usage: run-benchmarks.sh BUILD_DIR OUT_DIR [smoke]}
mode=${3:-full}
mkdir -p "$out"
args=()
if [ "$mode" = smoke ]; then
  # Smallest inputs only, minimal time: proves each benchmark still runs and reports.
  args=(--benchmark_min_time=0.001 --benchmark_filter='n:(100|1000)/|n:1000$')
fi
for b in bench_sockindex bench_timers bench_dispatch; do
  echo "bench: $b ($mode)"
  "$build/bench/$b" "${args[@]}" --benchmark_out="$out/$b.json" --benchmark_out_format=json \
    > "$out/$b.txt"
  tail -n 3 "$out/$b.txt"
done
