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
skip=()
if [ "${1:-}" = "--refresh" ]; then refresh=1; shift; fi
[ "${1:-}" = "--" ] && shift
out=${MSB_GATE_OUT:-$root/out}  # where the current metrics, tables and JUnit go
mkdir -p "$out"
current="$out/gate-current.json"
# VALGRIND names the valgrind to use (the tests point it nowhere to be a machine without one).
valgrind=${VALGRIND-$(command -v valgrind || true)}
if [ -n "$valgrind" ] && [ -x "$valgrind" ]; then
  # Instructions executed inside socket_action(), counted by callgrind: exact for a build,
  # whatever else the machine does (hardware counters are missing on many CI machines).
  cg="$out/gate.callgrind"
  "$valgrind" --tool=callgrind --callgrind-out-file="$cg" \
    --toggle-collect='msb::Multi::socket_action(int, int)' \
    "$build/bench/gate_workload" "$@" > "$current" 2> "$out/gate.valgrind.log"
  instructions=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$cg")
  python_add='import json,sys; d=json.load(open(sys.argv[1])); m=d["metrics"]; '\
'm["engine.instructions_per_socket_action"]=round(int(sys.argv[2])/m["engine.socket_action_calls"],3); '\
'json.dump(d,open(sys.argv[1],"w"))'
  "$(bash "$root/tools/find-python.sh")" -c "$python_add" "$current" "$instructions"
else
  # Listed as skipped in the table, not failed: this machine cannot measure it.
  skip=(--skip "engine.instructions_per_socket_action=valgrind not found (bash tools/setup.sh installs it)")
  "$build/bench/gate_workload" "$@" > "$current"
fi
python=$(bash "$root/tools/find-python.sh")
if [ $refresh = 1 ]; then
  [ ${#skip[@]} -eq 0 ] || { echo "gate: cannot refresh without valgrind (the instruction count)" >&2; exit 2; }
  # The baseline records where it came from, so a failing gate can say which commit it compares to.
  commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
  "$python" -c 'import json,sys,datetime; d=json.load(open(sys.argv[1])); d["commit"]=sys.argv[2]; '\
'd["date"]=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"); '\
'json.dump(d,open(sys.argv[3],"w"))' "$current" "$commit" "$baseline"
  echo "gate: baseline refreshed from $commit: $baseline (commit it)"
  exit 0
fi
cd "$root/reports"
"$python" -m msbench_report.gate --baseline "$baseline" --current "$current" --summary "$out/gate.md" \
  --junit "$out/gate.junit.xml" --refresh-hint "bash tools/gate.sh $build --refresh" "${skip[@]}"
