#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, runs the default scenario against
# the built-in trickle server (1,000 mostly idle connections), prints the summary and
# writes charts. Extra arguments go to `msbench run` (e.g. -n 5000 --sockindex chained).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"
./build/msbench run --connections 1000 --active 0.05 --trickle-ms 50 --duration 5 \
  --out out/quick.json "$@"
python=$(bash tools/find-python.sh)
(cd reports && "$python" -m msbench_report ../out/quick.json --out ../out/report)
