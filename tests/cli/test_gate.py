"""The deterministic gate end to end: the real workload binary against the committed
baseline, unchanged and with a regression injected."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = os.environ.get("GATE_WORKLOAD", str(ROOT / "build/bench/gate_workload"))
PYTHON = os.environ.get("MSB_PYTHON", "/usr/bin/python3")


def gate(tmp_path, *workload_args):
    current = tmp_path / "current.json"
    current.write_text(subprocess.run([WORKLOAD, *workload_args], capture_output=True, text=True,
                                      check=True, timeout=120).stdout)
    summary = tmp_path / "gate.md"
    # Instruction counts need valgrind and differ in sanitizer builds: .ci/run's gate step
    # checks them on the release build; here the exact counts are compared.
    r = subprocess.run([PYTHON, "-m", "msbench_report.gate", "--baseline",
                        str(ROOT / "bench/baselines/gate.json"), "--current", str(current),
                        "--summary", str(summary), "--skip", "engine.instructions_per_socket_action=sanitizer build"],
                       cwd=ROOT / "reports", capture_output=True, text=True, timeout=120)
    return r, summary


def test_unchanged_build_passes_ten_times_in_ten(tmp_path):
    for i in range(10):
        r, summary = gate(tmp_path)
        assert r.returncode == 0, f"run {i}: {r.stdout}{r.stderr}"
        assert "gate: pass" in r.stdout
    assert "## msbench gate: pass" in summary.read_text()


def test_injected_regression_fails_naming_the_metric(tmp_path):
    # The engine's socket index forced back to 2006's 7 buckets.
    r, summary = gate(tmp_path, "--sockindex", "chained", "--buckets", "7")
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if l.startswith("engine.probes_per_lookup"))
    assert "REGRESSION" in line
    assert "gate: FAIL" in r.stdout
    md = summary.read_text()
    assert "| engine.probes_per_lookup |" in md and "REGRESSION" in md


def test_gate_script_without_valgrind_passes_listing_the_skipped_metric(tmp_path):
    build = Path(WORKLOAD).parent.parent
    env = {**os.environ, "VALGRIND": "", "MSB_GATE_OUT": str(tmp_path)}
    env.pop("GITHUB_STEP_SUMMARY", None)
    r = subprocess.run(["bash", str(ROOT / "tools/gate.sh"), str(build)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    row = next(l for l in r.stdout.splitlines() if l.startswith("engine.instructions_per_socket_action"))
    assert "skipped: valgrind not found" in row
    assert "1 skipped: engine.instructions_per_socket_action" in r.stdout
    assert 'skipped="1"' in (tmp_path / "gate.junit.xml").read_text()
    assert "baseline: " in r.stdout
