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
if command -v valgrind > /dev/null; then
  # Instructions executed inside socket_action(), counted by callgrind: exact for a build,
  # whatever else the machine does (hardware counters are missing on many CI machines).
  cg="$root/out/gate.callgrind"
  valgrind --tool=callgrind --callgrind-out-file="$cg" \
    --toggle-collect='msb::Multi::socket_action(int, int)' \
    "$build/bench/gate_workload" "$@" > "$current" 2> "$root/out/gate.valgrind.log"
  instructions=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$cg")
  python_add='import json,sys; d=json.load(open(sys.argv[1])); m=d["metrics"]; '\
'm["engine.instructions_per_socket_action"]=round(int(sys.argv[2])/m["engine.socket_action_calls"],3); '\
'json.dump(d,open(sys.argv[1],"w"))'
  "$(bash "$root/tools/find-python.sh")" -c "$python_add" "$current" "$instructions"
else
  echo "gate: valgrind not found: instruction counts not gated (bash tools/setup.sh installs it)" >&2
  "$build/bench/gate_workload" "$@" > "$current"
fi
if [ $refresh = 1 ]; then
  cp "$current" "$baseline"
  echo "gate: baseline refreshed: $baseline"
  exit 0
fi
python=$(bash "$root/tools/find-python.sh")
cd "$root/reports"
"$python" -m msbench_report.gate --baseline "$baseline" --current "$current" --summary "$root/out/gate.md"
