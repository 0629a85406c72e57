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

run() {  # folder target corpus-name: BUILD_DIR/folder/target, folder/corpus/name
  local bin="$build/$1/$2"
  [ -x "$bin" ] || { echo "run-fuzzers: $bin is missing" >&2; exit 1; }
  mkdir -p "$work/$3"
  cp "$root/$1/corpus/$3/"* "$work/$3/"
  echo "fuzz: $2 for ${seconds}s"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/$3" 2>&1 | tail -n 12
}

run engine/fuzz fuzz_http1_parser http1
run engine/fuzz fuzz_chunked chunked
run engine/fuzz fuzz_multi multi
run engine/fuzz fuzz_multi_tls multi_tls
run tools/fuzz fuzz_scenario scenario
run tools/fuzz fuzz_request_parser request
