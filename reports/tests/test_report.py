"""The report generator on small committed results (made by real msbench runs)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
REPORTS = HERE.parent


def run_report(*args):
    return subprocess.run([sys.executable, "-m", "msbench_report", *map(str, args)],
                          cwd=REPORTS, capture_output=True, text=True)


def test_charts_and_index_from_two_overlaid_results(tmp_path):
    out = tmp_path / "report"
    r = run_report(FIXTURES / "quick-epoll.json", FIXTURES / "quick-chained7.json", "-o", out)
    assert r.returncode == 0, r.stderr
    for name in ("socket_action_percentiles", "sockindex_occupancy"):
        for ext in ("png", "svg"):
            f = out / f"{name}.{ext}"
            assert f.stat().st_size > 1000, f
    assert (out / "socket_action_percentiles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    index = (out / "index.html").read_text()
    assert "socket_action_percentiles.png" in index
    assert "quick-chained7.json" in index and "quick-epoll.json" in index
    # The summary table has one row per run, with the accounting verdict.
    assert index.count("<tr>") == 1 + 2
    assert "report:" in r.stdout and "index.html" in r.stdout


def test_sweep_and_benchmark_charts(tmp_path):
    out = tmp_path / "report"
    r = run_report(FIXTURES / "sweep-epoll-perform.json", FIXTURES / "bench_timers-smoke.json",
                   FIXTURES / "bench_sockindex-smoke.json", "-o", out)
    assert r.returncode == 0, r.stderr
    for name in ("latency_vs_connections", "perform_vs_socket_action", "time_series",
                 "timer_structures", "sockindex_lookup", "socket_action_percentiles"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
        assert (out / f"{name}.svg").exists(), name
    index = (out / "index.html").read_text()
    assert "Google Benchmark" in index
    assert index.count("<tr>") == 1 + 4  # header + the sweep's four runs


def test_perform_chart_uses_perform_histogram():
    from msbench_report import charts
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "sweep-epoll-perform.json")
    kinds = {run["config"]["backend"]: charts._per_call(run)[1] for run in doc["runs"]}
    assert kinds == {"epoll": "socket_action", "perform": "perform()"}
    for run in doc["runs"]:
        h, _ = charts._per_call(run)
        assert h["count"] > 0


def test_overlay_draws_one_line_per_run(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from msbench_report import charts
    from msbench_report.load import load_results
    docs = [load_results(FIXTURES / "quick-epoll.json"), load_results(FIXTURES / "quick-chained7.json")]
    captured = {}
    real_save = charts._save

    def spy(fig, folder, name):
        captured[name] = len(fig.axes[0].get_lines())
        return real_save(fig, folder, name)

    charts._save = spy
    try:
        charts.percentile_distribution(docs, tmp_path)
    finally:
        charts._save = real_save
    assert captured["socket_action_percentiles"] == 2


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON (line 1"),
    ('{"schema": "something-else"}', "neither an msbench results file"),
    ('{"benchmarks": 3, "context": {}}', "'benchmarks' must be a list"),
    ('{"schema": "msbench-results", "schema_version": 99, "runs": []}', "schema_version 99"),
    ('{"schema": "msbench-results", "schema_version": 1, "runs": []}', "'runs' must be a non-empty"),
    ('{"schema": "msbench-results", "schema_version": 1, "runs": [{"config": {}}]}',
     "runs[0] lacks 'socket_action_us'"),
])
def test_bad_results_file_gives_clear_error_naming_it(tmp_path, content, message):
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    r = run_report(FIXTURES / "quick-epoll.json", bad, "-o", tmp_path / "out")
    assert r.returncode == 2
    assert str(bad) in r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_file_is_named(tmp_path):
    r = run_report(tmp_path / "nope.json", "-o", tmp_path / "out")
    assert r.returncode == 2
    assert "nope.json: cannot read" in r.stderr


def test_fixture_accounting_is_consistent():
    results = [f for f in FIXTURES.glob("*.json") if not f.name.startswith("bench_")]
    assert len(results) >= 3
    for f in results:
        doc = json.loads(f.read_text())
        for run in doc["runs"]:
            acc = run["accounting"]
            assert acc["started"] == acc["ended_total"] + acc["still_running"], f
            assert sum(acc["ended"].values()) == acc["ended_total"], f


def test_engine_comparison_chart_from_a_compare_run(tmp_path):
    out = tmp_path / "report"
    r = run_report(FIXTURES / "compare-small.json", "-o", out)
    assert r.returncode == 0, r.stderr
    for ext in ("png", "svg"):
        assert (out / f"engines_vs_connections.{ext}").stat().st_size > 1000
    # The engines stay apart in the other charts too: one latency line per engine.
    from msbench_report import charts
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "compare-small.json")
    labels = {charts._group_label(doc, run) for run in doc["runs"]}
    assert labels == {"epoll/resizable/splay", "epoll/libcurl", "epoll/floor"}


def test_engine_comparison_chart_needs_two_engines():
    from msbench_report import charts
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "sweep-epoll-perform.json")  # msbench only
    assert charts.engines_vs_connections([doc], Path("/nonexistent")) == []
