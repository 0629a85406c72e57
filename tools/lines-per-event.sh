#!/usr/bin/env bash
# What one trickle event costs the engine, counted by callgrind's cache simulation over
# bench/trickle_workload: instructions, data reads and writes, and first-level cache misses
# per socket_action (a miss per cold line touched: see the workload's comment). Exact for a
# build; compare builds with it, not machines.
#   tools/lines-per-event.sh BUILD_DIR [--transfers N] [--events N] [--sockindex KIND]
# MSB_CACHE_ARGS passes callgrind a cache geometry: with tiny caches, e.g.
# "--I1=1024,2,64 --D1=1024,2,64", every event starts as cold as after the kernel's recv has
# run, and the I1 misses count the code lines an event executes.
set -euo pipefail
build=${1:?usage: lines-per-event.sh BUILD_DIR [--transfers N] [--events N] [--sockindex KIND]}
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Two runs, with and without the trickle: the difference is the events alone (the set-up's
# socket_action calls, which start the transfers and read their heads, cancel out).
count() {  # $1: name; the rest: workload args
  local name=$1
  shift
  valgrind --tool=callgrind --cache-sim=yes ${MSB_CACHE_ARGS:-} --callgrind-out-file="$out/$name.cg" \
    --toggle-collect='msb::Multi::socket_action(int, int)' \
    "$build/bench/trickle_workload" "$@" > "$out/$name.json" 2> "$out/$name.log"
}
count setup "$@" --events 0
count all "$@"
events=$(sed -n 's/.*"events": \([0-9]*\).*/\1/p' "$out/all.json")
read -r -a names <<< "$(sed -n 's/^events: //p' "$out/all.cg")"
read -r -a setup <<< "$(sed -n 's/^summary: //p' "$out/setup.cg")"
read -r -a all <<< "$(sed -n 's/^summary: //p' "$out/all.cg")"
echo "per socket_action over $events trickle events ($(cat "$out/all.json"))"
for i in "${!names[@]}"; do
  case ${names[$i]} in
    Ir) what="instructions" ;;
    Dr) what="data reads" ;;
    Dw) what="data writes" ;;
    I1mr) what="I1 misses (code lines fetched)" ;;
    D1mr) what="D1 read misses (cold lines read)" ;;
    D1mw) what="D1 write misses" ;;
    *) continue ;;
  esac
  awk -v a="${all[$i]}" -v s="${setup[$i]}" -v e="$events" -v w="$what" \
    'BEGIN { printf "  %8.2f  %s\n", (a - s) / e, w }'
done
