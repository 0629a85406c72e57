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
    assert "<th>engine</th>" in index and "<th>workers</th>" in index and "<th>target</th>" in index
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
    from msbench_report import runs
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "sweep-epoll-perform.json")
    kinds = {run["config"]["backend"]: runs.per_call(run)[1] for run in doc["runs"]}
    assert kinds == {"epoll": "socket_action", "perform": "perform()"}
    for run in doc["runs"]:
        h, _ = runs.per_call(run)
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
    # The engines stay apart in the other charts too: one configuration per engine, and the
    # reference engines carry no socket index or timers of msbench's.
    from msbench_report import runs
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "compare-small.json")
    keys = {runs.config_key(doc, run, with_connections=False) for run in doc["runs"]}
    labels = {runs.label(k, drop={"source"}) for k in keys}
    assert labels == {"msbench / epoll / resizable / splay", "libcurl / epoll", "floor / epoll"}


def test_engine_comparison_chart_needs_two_engines():
    from msbench_report import charts
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "sweep-epoll-perform.json")  # msbench only
    assert charts.engines_vs_connections([doc], Path("/nonexistent")) == []


# ---------------------------------------------------------------- what the charts draw

def _drawn(monkeypatch, chart, docs, tmp_path):
    """The figure a chart function saves, kept open for inspection."""
    from msbench_report import charts
    figures = {}

    def keep(fig, folder, name):
        figures[name] = fig
        return [f"{name}.png"]
    monkeypatch.setattr(charts, "_save", keep)
    chart(docs, tmp_path)
    return figures


@pytest.mark.parametrize("fixture", ["quick-epoll.json", "reps.json", "load.json", "sweep-epoll-perform.json"])
def test_percentile_curve_points_equal_the_results_percentiles(monkeypatch, tmp_path, fixture):
    import matplotlib
    matplotlib.use("Agg")
    from msbench_report import charts, runs
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / fixture)
    one_run = {**doc, "runs": [doc["runs"][0]]}  # one run: its curve is its own histogram's
    fig = _drawn(monkeypatch, charts.percentile_distribution, [one_run], tmp_path)["socket_action_percentiles"]
    (line,) = [l for l in fig.axes[0].get_lines() if l.get_drawstyle() == "steps-pre"]
    xs, ys = list(line.get_xdata()), list(line.get_ydata())
    h, _ = runs.per_call(doc["runs"][0])
    checked = 0
    for q, key in ((0.5, "p50_us"), (0.9, "p90_us"), (0.99, "p99_us"), (0.999, "p999_us")):
        if key in h:
            assert runs.curve_at(xs, ys, q) == pytest.approx(h[key], abs=1e-9), (q, key)
            assert runs.quantile_ns(h, q) / 1000.0 == pytest.approx(h[key], abs=1e-9)
            checked += 1
    assert checked == 4
    # And between the marked percentiles, at every rank of the histogram.
    n = h["count"]
    for rank in range(1, n + 1, max(1, n // 97)):
        q = (rank - 0.5) / n
        assert runs.curve_at(xs, ys, q) == pytest.approx(runs.quantile_ns(h, q) / 1000.0), rank


def test_a_file_with_repetitions_draws_one_point_per_configuration_with_its_spread(monkeypatch, tmp_path):
    import statistics
    import matplotlib
    matplotlib.use("Agg")
    from msbench_report import charts, runs
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "reps.json")
    assert len(doc["runs"]) == 8  # 100 and 300 connections, 4 repetitions each
    fig = _drawn(monkeypatch, charts.latency_vs_connections, [doc], tmp_path)["latency_vs_connections"]
    a50 = fig.axes[0]
    (bars,) = a50.containers  # one configuration: one line with error bars
    xs, ys = bars.lines[0].get_xdata(), bars.lines[0].get_ydata()
    assert list(xs) == [100, 300]
    for x, y in zip(xs, ys):
        reps = [r["socket_action_us"]["socket"]["p50_us"] for r in doc["runs"] if r["config"]["connections"] == x]
        assert len(reps) == 4
        assert y == pytest.approx(statistics.median(reps))
        (segments,) = [c for c in bars.lines[2]]
        seg = [s for s in segments.get_segments() if s[0][0] == x][0]
        assert seg[0][1] == pytest.approx(min(reps)) and seg[1][1] == pytest.approx(max(reps))
    # The percentile chart: one curve per configuration (not per repetition), bars for the spread.
    fig = _drawn(monkeypatch, charts.percentile_distribution, [doc], tmp_path)["socket_action_percentiles"]
    curves = [l for l in fig.axes[0].get_lines() if l.get_drawstyle() == "steps-pre"]
    assert len(curves) == 2
    assert all("(×4, n=" in l.get_label() for l in curves)
    assert fig.axes[0].containers, "the spread over repetitions at the marked percentiles"
    # The legend sits outside the axes, to the right.
    legend = fig.axes[0].get_legend()
    assert legend.get_bbox_to_anchor().x0 > fig.axes[0].get_window_extent().x1 - 1


def test_styles_stay_distinct_past_ten_lines():
    from msbench_report.charts import style
    seen = {(s["color"], s["marker"], s["linestyle"]) for s in (style(i) for i in range(40))}
    assert len(seen) == 40


def test_time_series_shades_phases_and_aligns_on_the_measured_phase(monkeypatch, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from msbench_report import charts
    from msbench_report.load import load_results
    doc = load_results(FIXTURES / "load.json")
    fig = _drawn(monkeypatch, charts.time_series, [doc], tmp_path)["time_series"]
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["ramp-up", "warm-up", "measuring", "teardown"]
    assert len(ax.patches) == 4  # one shaded span per phase
    measuring = ax.patches[2].get_xy() if hasattr(ax.patches[2], "get_xy") else None
    assert measuring is not None and min(p[0] for p in measuring) == pytest.approx(0.0)
    assert [a.get_ylabel() for a in fig.axes][3] == "requests per second"


def test_load_report_has_request_and_status_charts(tmp_path):
    out = tmp_path / "report"
    r = run_report(FIXTURES / "load.json", "-o", out)
    assert r.returncode == 0, r.stderr
    for name in ("request_percentiles", "status_classes", "time_series"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    index = (out / "index.html").read_text()
    assert "Request latency by percentile" in index  # the caption
    doc = json.loads((FIXTURES / "load.json").read_text())
    assert doc["runs"][0]["requests"]["by_class"].get("5xx", 0) > 0


def test_html_says_what_does_not_apply_and_has_the_compare_table(tmp_path):
    out = tmp_path / "report"
    r = run_report(FIXTURES / "compare-small.json", FIXTURES / "sweep-epoll-perform.json", "-o", out)
    assert r.returncode == 0, r.stderr
    index = (out / "index.html").read_text()
    assert "<h2>Compare: ratios pair by pair</h2>" in index
    rows = [row for row in index.split("<tr>")[1:] if "<td>" in row]
    libcurl = next(row for row in rows if "<td>libcurl</td>" in row)
    assert libcurl.count("<td>–</td>") >= 2  # no socket index, no timers of msbench's
    perform = next(row for row in rows if "<td>perform</td>" in row)
    assert "<td>perform()</td>" in perform and "<td>0</td>" not in perform.split("perform()")[1].split("</td>")[1]
    for caption in ("socket_action_percentiles", "engines_vs_connections"):
        assert f"<b>{caption}</b>: " in index


def test_csv_has_one_row_per_run(tmp_path):
    import csv
    out = tmp_path / "runs.csv"
    r = run_report(FIXTURES / "reps.json", FIXTURES / "compare-small.json", "--csv", out)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        table = list(csv.DictReader(f))
    compare = json.loads((FIXTURES / "compare-small.json").read_text())
    assert len(table) == 8 + len(compare["runs"])
    assert table[0]["engine"] == "msbench" and table[0]["connections"] == "100"
    assert float(table[0]["p50 (µs)"]) > 0
    floor = next(row for row in table if row["engine"] == "floor")
    assert floor["sockindex"] == "" and floor["requests/s"] == ""


# ---------------------------------------------------------------- diff

def run_diff(*args):
    return subprocess.run([sys.executable, "-m", "msbench_report", "diff", *map(str, args)],
                          cwd=REPORTS, capture_output=True, text=True)


def test_diff_of_two_runs_of_one_scenario(tmp_path):
    md = tmp_path / "diff.md"
    r = run_diff(FIXTURES / "reps.json", FIXTURES / "reps-new.json", "--markdown", md)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "per call" in l or "RSS" in l]
    # Two configurations (100 and 300 connections) x p50, p99, CPU per call, RSS.
    assert len(lines) == 8
    for l in lines:
        assert any(v in l for v in ("no significant change", "better", "WORSE")), l
    assert "warning" not in r.stdout  # four repetitions a side can reach p < 0.05
    text = md.read_text()
    assert text.startswith("## msbench diff") and "| configuration | metric |" in text


def test_diff_finds_a_real_slowdown_and_warns_on_too_few_repetitions(tmp_path):
    doc = json.loads((FIXTURES / "reps.json").read_text())
    for run in doc["runs"]:
        run["socket_action_us"]["socket"]["p50_us"] *= 2  # every repetition twice as slow
    slower = tmp_path / "slower.json"
    slower.write_text(json.dumps(doc))
    r = run_diff(FIXTURES / "reps.json", slower)
    assert r.returncode == 0, r.stderr
    p50 = [l for l in r.stdout.splitlines() if "p50 per call" in l]
    assert len(p50) == 2 and all("WORSE" in l and "+100.0%" in l for l in p50), p50
    # Four against four, fully separated: the exact two-sided p is 2/70.
    assert all(float(l.split()[-2]) == pytest.approx(2 / 70, abs=1e-3) for l in p50)
    one = json.loads((FIXTURES / "reps.json").read_text())
    one["runs"] = [r for r in one["runs"] if r["config"]["repetition"] == 0]
    single = tmp_path / "single.json"
    single.write_text(json.dumps(one))
    r = run_diff(single, FIXTURES / "reps-new.json")
    assert r.returncode == 0, r.stderr
    assert "too few repetitions" in r.stdout
    assert "1 against 4 repetitions cannot give a p-value below 0.05" in r.stdout
    assert "set repetitions = 4 or more" in r.stdout


def test_diff_refuses_files_with_nothing_in_common(tmp_path):
    r = run_diff(FIXTURES / "reps.json", FIXTURES / "load.json")
    assert r.returncode == 2 and "share no configuration" in r.stderr


def test_benchmark_names_say_what_they_measure(monkeypatch, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from msbench_report import charts
    from msbench_report.load import load_any
    timers = load_any(FIXTURES / "bench_timers-smoke.json")
    names = {row["name"] for row in timers["benchmarks"]}
    assert "BM_Rearm/splay/n:1000" in names and "BM_Rearm/wheel/n:10000" in names
    index = load_any(FIXTURES / "bench_sockindex-smoke.json")
    assert "BM_LookupHit/chained-97/n:1000" in {row["name"] for row in index["benchmarks"]}
    fig = _drawn(monkeypatch, charts.timer_structures, [timers], tmp_path)["timer_structures"]
    assert sorted(l.get_label() for l in fig.axes[0].get_lines()) == ["heap", "splay", "wheel"]
