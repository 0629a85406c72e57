"""The gate's comparisons on synthetic inputs: exact counts, and wall times with noise."""

import json
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
    assert compare_wall(base, {"bm": [100.0, 100.0]})[0][4] == "too few samples"


def test_ignored_metric_is_left_out(tmp_path):
    base = tmp_path / "b.json"
    cur = tmp_path / "c.json"
    base.write_text(json.dumps({"schema": "msbench-gate-metrics", "metrics": {"x": 1, "ir": 100}}))
    cur.write_text(json.dumps({"schema": "msbench-gate-metrics", "metrics": {"x": 1}}))
    args = [sys.executable, "-m", "msbench_report.gate", "--baseline", str(base), "--current", str(cur)]
    assert subprocess.run(args, cwd=REPORTS, capture_output=True).returncode == 1  # ir MISSING
    r = subprocess.run(args + ["--ignore", "ir"], cwd=REPORTS, capture_output=True, text=True)
    assert r.returncode == 0 and "ir" not in r.stdout


def test_bad_baseline_is_named(tmp_path):
    bad = tmp_path / "baseline.json"
    bad.write_text('{"schema": "other"}')
    good = tmp_path / "current.json"
    good.write_text(json.dumps({"schema": "msbench-gate-metrics", "metrics": {"x": 1}}))
    r = subprocess.run([sys.executable, "-m", "msbench_report.gate", "--baseline", str(bad),
                        "--current", str(good)], cwd=REPORTS, capture_output=True, text=True)
    assert r.returncode == 2
    assert str(bad) in r.stderr and "msbench-gate-metrics" in r.stderr
