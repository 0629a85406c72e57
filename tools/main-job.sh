#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, runs scenarios/quick.toml against
# the built-in trickle server (1,000 mostly idle connections), prints the summary and
# writes charts. Extra arguments go to `msbench run` (e.g. --set connections=5000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"
./build/msbench run scenarios/quick.toml --out out/quick.json "$@"
python=$(bash tools/find-python.sh)
(cd reports && "$python" -m msbench_report ../out/quick.json --out ../out/report)
