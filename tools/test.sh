#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# MSB_WERROR=ON (as .ci/run sets it) makes every warning an error; a user's build keeps them
# warnings, so a newer compiler never breaks it.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSB_WERROR="${MSB_WERROR:-OFF}"
cmake --build build -j"$(nproc)"
# JUnit XML beside the console output, for CI pages (ctest writes it relative to the build dir).
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 --output-junit ctest.junit.xml
