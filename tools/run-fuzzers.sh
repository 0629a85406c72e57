#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, from the committed seed corpus
# (copied, so new inputs found stay out of the tree). Fails on any crash.
# Usage: tools/run-fuzzers.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {  # target corpus-name
  local bin="$build/engine/fuzz/$1"
  [ -x "$bin" ] || { echo "run-fuzzers: $bin is missing" >&2; exit 1; }
  mkdir -p "$work/$2"
  cp "$root/engine/fuzz/corpus/$2/"* "$work/$2/"
  echo "fuzz: $1 for ${seconds}s"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/$2" 2>&1 | tail -n 12
}

run fuzz_http1_parser http1
run fuzz_chunked chunked
run fuzz_multi multi
run fuzz_scenario scenario
