"""Reference engines (#8): msbench, libcurl and the bare-recv floor in one scenario run,
alternating, with the same results schema and accounting, and ratios taken pair by pair."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import MSBENCH, check_accounting, run

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ["msbench", "libcurl", "floor"]


def test_tiny_compare_runs_every_engine_alternating_with_ratios(tmp_path):
    out = tmp_path / "compare.json"
    r = run("run", ROOT / "scenarios" / "compare.toml", "--out", out,
            "--set", "connections=200", "--set", "repetitions=2", "--set", "warmup_s=0.3",
            "--set", "backend=io_uring",
            "--set", "duration_s=1", "--set", "active_fraction=0.25")
    assert r.returncode == 0, r.stderr
    assert "engines compared pair by pair" in r.stdout
    doc = json.loads(out.read_text())
    runs = doc["runs"]
    # Alternating: A B C A B C, each triple one pair.
    assert [x["config"]["engine"] for x in runs] == ENGINES * 2
    assert [x["config"]["pair"] for x in runs] == [0, 0, 0, 1, 1, 1]
    for one in runs:
        engine = one["config"]["engine"]
        check_accounting(one)
        assert one["config"]["backend"] == "io_uring"
        assert one["accounting"]["started"] == 200, engine
        assert one["connections_open"] == 200, engine
        assert one["accounting"]["still_running"] == 200, engine  # trickles never end
        h = one["socket_action_us"]["socket"]
        assert h["count"] > 0 and 0 < h["p50_us"] <= h["p99_us"], engine
        assert one["counts"]["socket_action_calls"] >= h["count"], engine
        assert one["rss"]["per_connection_bytes"] >= 0, engine
        if engine == "floor":
            assert "ratio_to_floor" not in one and "ratio_to_libcurl" not in one
            assert one["callbacks"]["timer"] == 0  # the floor keeps no timer
        else:
            assert one["ratio_to_floor"]["p50"] > 0 and one["ratio_to_floor"]["cpu_per_event"] > 0
            assert one["ratio_to_floor"]["ramp"] > 0
        if engine == "msbench":
            ratio = one["ratio_to_libcurl"]
            assert ratio["p50"] > 0 and ratio["rss_per_connection"] >= 0
        else:
            assert "ratio_to_libcurl" not in one
    # The ratio is this pair's own: recompute one from the two runs it divides.
    m, f = runs[0], runs[2]
    assert abs(m["ratio_to_floor"]["p50"] -
               m["socket_action_us"]["socket"]["p50_us"] / f["socket_action_us"]["socket"]["p50_us"]) < 1e-6
    assert abs(m["ratio_to_floor"]["ramp"] - m["phases"]["ramp_s"] / f["phases"]["ramp_s"]) < 1e-6
    # The table's conn/s column is the ramp's achieved rate (one repetition per row here:
    # the median of pairs 0 and 1 of the same engine).
    table = r.stdout[r.stdout.index("engines compared pair by pair"):].splitlines()
    assert table[1].split()[10] == "conn/s"  # "p50 us" and the like are two words
    floor_row = next(line.split() for line in table[2:] if line.split()[2] == "floor")
    rates = sorted(x["connect_rate"]["achieved"] for x in runs if x["config"]["engine"] == "floor")
    assert float(floor_row[7]) == pytest.approx(sum(rates) / 2, abs=0.51)


def test_a_scheme_sweep_compares_each_scheme_on_its_own(tmp_path):
    # HTTP and HTTPS runs of one size are different points: their medians must not mix.
    r = run("run", ROOT / "scenarios" / "tls-idle-10k.toml", "--out", tmp_path / "s.json",
            "--set", "connections=100", "--set", 'scheme=["http", "https"]',
            "--set", 'engine=["msbench", "floor"]', "--set", "warmup_s=0.2", "--set", "duration_s=0.5")
    assert r.returncode == 0, r.stderr
    table = r.stdout[r.stdout.index("engines compared pair by pair"):].splitlines()
    rows = [line.split() for line in table[2:] if line.strip()]
    assert [(row[1], row[2]) for row in rows[:4]] == [
        ("epoll/http", "msbench"), ("epoll/http", "floor"), ("epoll/https", "msbench"), ("epoll/https", "floor")]
    doc = json.loads((tmp_path / "s.json").read_text())
    by_scheme = {}
    for one in doc["runs"]:
        by_scheme.setdefault(one["config"]["scheme"], []).append(one)
    # Each row is its own run's figure (one repetition): the https row shows the https run.
    https_msbench = next(x for x in by_scheme["https"] if x["config"]["engine"] == "msbench")
    assert float(rows[2][3]) == pytest.approx(https_msbench["socket_action_us"]["socket"]["p50_us"], abs=0.006)


def test_every_engine_reports_a_refused_connection_as_couldnt_connect(tmp_path):
    # The worker holds a port bound but not listening: connects to it are refused.
    s = tmp_path / "refused.toml"
    s.write_text('fault = "refused"\nfault_fraction = 1.0\nconnections = 20\n'
                 'engine = ["msbench", "libcurl", "floor"]\nwarmup_s = 0.1\nduration_s = 0.2\n'
                 '[expect]\ncouldnt_connect = "all"\n')
    out = tmp_path / "r.json"
    r = run("run", s, "--out", out)
    assert r.returncode == 0, r.stderr  # [expect] says that nothing succeeding is the point
    runs = json.loads(out.read_text())["runs"]
    assert [one["config"]["engine"] for one in runs] == ["msbench", "libcurl", "floor"]
    for one in runs:
        check_accounting(one)
        assert one["accounting"]["ended"]["couldnt_connect"] == 20, one["config"]["engine"]


def test_a_load_runs_on_msbenchs_engine_only(tmp_path):
    s = tmp_path / "bad.toml"
    s.write_text('target = "http://127.0.0.1:1/x"\nengine = ["msbench", "libcurl"]\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:2: key 'engine': a load runs on msbench's own engine" in r.stderr


def test_reference_engine_on_perform_backend_is_a_scenario_error(tmp_path):
    s = tmp_path / "bad.toml"
    s.write_text('connections = 10\nbackend = "perform"\nengine = ["msbench", "floor"]\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:3: key 'engine': engine 'floor' runs on a callback backend" in r.stderr


def test_unknown_engine_is_a_scenario_error(tmp_path):
    s = tmp_path / "bad.toml"
    s.write_text('connections = 10\nengine = "curl"\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:2: key 'engine': 'curl' is not one of: msbench, libcurl, floor" in r.stderr


def linked_libcurl():
    """The libcurl.so msbench is linked with, from ldd."""
    out = subprocess.run(["ldd", MSBENCH], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().startswith("libcurl.so"):
            return Path(line.split("=>")[1].split("(")[0].strip())
    pytest.skip("this msbench is not linked with libcurl")


def test_a_chosen_libcurl_build_is_loaded_and_compared_beside_the_linked_one(tmp_path):
    # A copy is another file: the loader maps it a second time, as it would another build.
    copy = tmp_path / "other" / "libcurl.so.4"
    copy.parent.mkdir()
    shutil.copy(linked_libcurl(), copy)
    out = tmp_path / "r.json"
    r = run("run", ROOT / "scenarios" / "compare.toml", "--out", out,
            "--set", "connections=100", "--set", "repetitions=1", "--set", "backend=epoll",
            "--set", f'libcurl=["", "{copy}"]', "--set", "warmup_s=0.2", "--set", "duration_s=0.5")
    assert r.returncode == 0, r.stderr
    runs = json.loads(out.read_text())["runs"]
    assert [(x["config"]["engine"], x["config"]["libcurl"]) for x in runs] == \
        [(e, "") for e in ENGINES] + [(e, str(copy)) for e in ENGINES]
    version = runs[1]["engine_version"]
    assert version.startswith("libcurl ") and runs[4]["engine_version"] == f"{version} {copy}"
    assert runs[0]["engine_version"] == "" and runs[2]["engine_version"] == ""
    for one in runs:
        check_accounting(one)
        assert one["accounting"]["started"] == 100
    assert runs[3]["ratio_to_libcurl"]["p50"] > 0  # msbench against the copy, its own pair
    assert f"with {version}\n" in r.stdout and f"with {version} {copy}\n" in r.stdout


def test_a_libcurl_path_that_cannot_be_read_is_a_scenario_error(tmp_path):
    r = run("run", ROOT / "scenarios" / "compare.toml", "--out", tmp_path / "r.json",
            "--set", "libcurl='/nonexistent/libcurl.so.4'")
    assert r.returncode == 2
    assert "key 'libcurl'" in r.stderr and "cannot read '/nonexistent/libcurl.so.4'" in r.stderr
