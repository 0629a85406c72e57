#!/usr/bin/env bash
# The deterministic performance gate: runs bench/gate_workload from BUILD_DIR and compares
# its exact counts with bench/baselines/gate.json. Exit 1 on a regression.
#   tools/gate.sh build                     gate (table on stdout, Markdown in out/gate.md)
#   tools/gate.sh build --refresh           rewrite the baseline from this build (commit it)
#   tools/gate.sh build -- ARGS...          pass ARGS to the workload (to inject a regression)
set -euo pipefail
build=${1:?usage: gate.sh BUILD_DIR [--refresh] [-- workload args]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
baseline="$root/bench/baselines/gate.json"
refresh=0
if [ "${1:-}" = "--refresh" ]; then refresh=1; shift; fi
[ "${1:-}" = "--" ] && shift
mkdir -p "$root/out"
current="$root/out/gate-current.json"
"$build/bench/gate_workload" "$@" > "$current"
if [ $refresh = 1 ]; then
  cp "$current" "$baseline"
  echo "gate: baseline refreshed: $baseline"
  exit 0
fi
python=$(bash "$root/tools/find-python.sh")
cd "$root/reports"
"$python" -m msbench_report.gate --baseline "$baseline" --current "$current" --summary "$root/out/gate.md"
