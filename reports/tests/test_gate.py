"""The gate's comparisons on synthetic inputs: exact counts, and wall times with noise."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from msbench_report.gate import compare_counts, compare_wall

REPORTS = Path(__file__).parent.parent


def test_counts_any_increase_in_a_cost_is_a_regression():
    rows = {r[0]: r[4] for r in compare_counts(
        {"a.cost": 10, "b.cost": 10, "engine.transfers_ok": 100, "gone": 1},
        {"a.cost": 10.0001, "b.cost": 9, "engine.transfers_ok": 99, "new": 3})}
    assert rows == {"a.cost": "REGRESSION", "b.cost": "better", "engine.transfers_ok": "REGRESSION",
                    "gone": "MISSING", "new": "new"}


def test_wall_noise_passes_a_real_slowdown_fails():
    rng = random.Random(1)
    base = {"bm": [100 * rng.uniform(0.85, 1.15) for _ in range(20)]}
    same = {"bm": [100 * rng.uniform(0.85, 1.15) for _ in range(20)]}
    slower = {"bm": [130 * rng.uniform(0.85, 1.15) for _ in range(20)]}
    slightly = {"bm": [104 * rng.uniform(0.85, 1.15) for _ in range(20)]}  # below min effect
    assert compare_wall(base, same)[0][4] == "same"
    assert compare_wall(base, slower)[0][4] == "REGRESSION"
    assert compare_wall(base, slightly)[0][4] == "same"
    assert compare_wall(base, {"bm": [100.0]})[0][4] == "too few samples"  # p >= 1/21 at best


def _gate(*args, env=None):
    return subprocess.run([sys.executable, "-m", "msbench_report.gate", *map(str, args)], cwd=REPORTS,
                          capture_output=True, text=True, env=env)


def _counts(path, metrics, **extra):
    path.write_text(json.dumps({"schema": "msbench-gate-metrics", "metrics": metrics, **extra}))
    return path


def test_unmeasurable_metric_is_listed_as_skipped_not_failed(tmp_path):
    base = _counts(tmp_path / "b.json", {"engine.syscalls_per_event": 1, "ir": 100})
    cur = _counts(tmp_path / "c.json", {"engine.syscalls_per_event": 1})
    assert _gate("--baseline", base, "--current", cur).returncode == 1  # ir MISSING
    junit = tmp_path / "gate.junit.xml"
    r = _gate("--baseline", base, "--current", cur, "--skip", "ir=valgrind not found", "--junit", junit)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "skipped: valgrind not found" in r.stdout
    assert "gate: pass (0 of 1 metrics regressed, 1 skipped: ir)" in r.stdout
    xml = junit.read_text()
    assert 'tests="2" failures="0" skipped="1"' in xml
    assert '<skipped message="skipped: valgrind not found"/>' in xml


def test_table_has_units_direction_provenance_and_refresh_hint(tmp_path):
    base = _counts(tmp_path / "b.json", {"engine.syscalls_per_event": 1.0, "engine.transfers_ok": 10},
                   commit="abc1234", date="2026-12-01T10:00:00Z")
    cur = _counts(tmp_path / "c.json", {"engine.syscalls_per_event": 1.5, "engine.transfers_ok": 10})
    step = tmp_path / "step.md"
    junit = tmp_path / "gate.junit.xml"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(step)}
    r = _gate("--baseline", base, "--current", cur, "--junit", junit, "--refresh-hint", "REFRESH-ME", env=env)
    assert r.returncode == 1
    assert "baseline: commit abc1234, 2026-12-01T10:00:00Z" in r.stdout
    row = next(l for l in r.stdout.splitlines() if l.startswith("engine.syscalls_per_event"))
    assert row.split()[1:4] == ["syscalls/event", "lower", "1"] and "+50.00%" in row and "REGRESSION" in row
    assert "higher" in next(l for l in r.stdout.splitlines() if l.startswith("engine.transfers_ok"))
    assert "refresh the baseline and commit it: REFRESH-ME" in r.stdout
    md = step.read_text()
    assert md.startswith("## msbench gate: FAIL") and "| metric | unit | better |" in md
    assert 'failures="1"' in junit.read_text() and "<failure message=\"REGRESSION\">" in junit.read_text()


def test_a_regression_too_small_for_two_decimals_shows_both_numbers_and_its_size(tmp_path):
    # CI once printed "1926.42  1926.42  +0.00%  REGRESSION" for 1926.416 -> 1926.421.
    base = _counts(tmp_path / "b.json", {"engine.instructions_per_socket_action": 1926.416})
    cur = _counts(tmp_path / "c.json", {"engine.instructions_per_socket_action": 1926.421})
    r = _gate("--baseline", base, "--current", cur)
    assert r.returncode == 1
    row = next(l for l in r.stdout.splitlines() if l.startswith("engine.instructions_per_socket_action"))
    assert "1926.416" in row and "1926.421" in row and "+2.6e-04%" in row and "REGRESSION" in row


def test_wall_with_too_few_repetitions_is_unusable_input(tmp_path):
    def bench(path, times):
        path.write_text(json.dumps({"context": {}, "benchmarks": [
            {"name": "BM_x", "run_name": "BM_x", "run_type": "iteration", "real_time": t} for t in times]}))
        return path
    one = bench(tmp_path / "one.json", [100.0])
    many = bench(tmp_path / "many.json", [100.0, 101.0, 99.0, 100.5, 99.5, 100.2])
    r = _gate("--baseline", many, "--current", one, "--wall")
    assert r.returncode == 2
    assert "too few samples" in r.stderr and "BM_x" in r.stderr and "--benchmark_repetitions" in r.stderr
    r = _gate("--baseline", many, "--current", many, "--wall")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ns (median)" in r.stdout


def test_bad_baseline_is_named(tmp_path):
    bad = tmp_path / "baseline.json"
    bad.write_text('{"schema": "other"}')
    good = tmp_path / "current.json"
    good.write_text(json.dumps({"schema": "msbench-gate-metrics", "metrics": {"x": 1}}))
    r = subprocess.run([sys.executable, "-m", "msbench_report.gate", "--baseline", str(bad),
                        "--current", str(good)], cwd=REPORTS, capture_output=True, text=True)
    assert r.returncode == 2
    assert str(bad) in r.stderr and "msbench-gate-metrics" in r.stderr
