"""tools/lines-per-event.sh end to end: callgrind's cache simulation over the real trickle
workload, reported per socket_action."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("GATE_WORKLOAD", str(ROOT / "build/bench/gate_workload"))).parent.parent


def sanitizers(build):
    """The build's MSB_SANITIZE ("" when none), from its CMake cache."""
    cache = build / "CMakeCache.txt"
    m = re.search(r"^MSB_SANITIZE:STRING=(.*)$", cache.read_text(), re.M) if cache.exists() else None
    return m.group(1).strip() if m else ""


def test_reports_instructions_and_cold_lines_per_event():
    if not shutil.which("valgrind"):
        pytest.skip("valgrind not found (bash tools/setup.sh installs it)")
    if sanitizers(BUILD):
        # As the gate's instruction count: measured on the plain build (.ci/run's first pass).
        pytest.skip(f"{BUILD} is built with sanitizers ({sanitizers(BUILD)}): valgrind cannot run it")
    r = subprocess.run(["bash", str(ROOT / "tools/lines-per-event.sh"), str(BUILD), "--transfers",
                        "500", "--events", "2000"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = dict((m.group(2), float(m.group(1)))
                for m in re.finditer(r"^\s+(-?[0-9.]+)\s+(.+)$", r.stdout, re.M))
    assert '"events": 2000' in r.stdout
    # An event reads at least the socket index, its entry and the transfer: some instructions
    # and some cold lines, and the set-up run's calls are not in the figures (they would add
    # thousands of instructions per event).
    assert 100 < rows["instructions"] < 2000
    assert 1 < rows["D1 read misses (cold lines read)"] < 20
    # A difference of two runs: a count the trickle hardly adds to may come out a hair below 0.
    assert rows["D1 write misses"] > -1
    assert set(rows) == {"instructions", "data reads", "data writes",
                         "I1 misses (code lines fetched)", "D1 read misses (cold lines read)",
                         "D1 write misses"}
