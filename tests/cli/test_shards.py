"""One run as N shards (--shard I/N, or from a cluster engine's environment), started together
(--start-at), merged only when the parts belong together."""

import json
import os
import subprocess
import time

import pytest

from helpers import MSBENCH, check_accounting, run, scenario

SMALL = """
connections = 301
active_fraction = 0.1
trickle_interval_ms = 20
warmup_s = 0.2
duration_s = 1
"""


def run_shards(tmp_path, text, count, run_id="t", extra=(), start_in=2.0):
    """Runs shards 0..count-1 of one scenario at once, as N hosts would; returns their files."""
    path = scenario(tmp_path, text)
    start = f"{time.time() + start_in:.3f}"
    procs, outs = [], []
    for i in range(count):
        out = tmp_path / f"shard{i}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [MSBENCH, "run", str(path), "--shard", f"{i}/{count}", "--start-at", start,
             "--run-id", run_id, "--out", str(out), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stdout + stderr
    return outs


def first_run(path):
    return json.loads(path.read_text())["runs"][0]


def test_three_shards_merged_equal_a_whole_run_and_each_holds_its_exact_share(tmp_path):
    shards = run_shards(tmp_path, SMALL, 3)
    whole = tmp_path / "whole.json"
    r = run("run", scenario(tmp_path, SMALL), "--out", whole)
    assert r.returncode == 0, r.stderr
    for i, f in enumerate(shards):
        doc = json.loads(f.read_text())
        assert doc["run"]["id"] == "t"
        assert doc["run"]["shard"] == {"index": i, "count": 3, "from": "--shard"}
        assert doc["run"]["host"] and doc["run"]["clock"]["source"]
        assert doc["scenario"]["keys"]["connections"] == 301  # the scenario, not the share
        one = doc["runs"][0]
        share = [101, 100, 100][i]
        assert one["config"]["connections"] == share
        assert one["accounting"]["started"] == share and one["connections_open"] == share
        assert one["part"] == {"index": i, "count": 3}
        check_accounting(one)
    m = tmp_path / "m.json"
    r = run("merge", *shards, "--out", m)
    assert r.returncode == 0, r.stderr
    assert "run t: 3 of 3 shards" in r.stdout and "(skew)" in r.stdout
    doc = json.loads(m.read_text())
    assert doc["run"]["missing_shards"] == [] and doc["partial"] is False
    assert [s["index"] for s in doc["run"]["shards"]] == [0, 1, 2]
    assert 0 <= doc["run"]["skew_s"] < 1
    merged, alone = doc["runs"][0], first_run(whole)
    for key in ("started", "still_running", "holds"):
        assert merged["accounting"][key] == alone["accounting"][key], key
    assert merged["accounting"]["ended"] == alone["accounting"]["ended"]
    assert merged["connections_open"] == alone["connections_open"] == 301
    assert merged["config"]["connections"] == alone["config"]["connections"] == 301
    assert [w["config"]["connections"] for w in merged["per_worker"]] == [101, 100, 100]


def test_a_missing_shard_is_named_and_nothing_is_written_unless_partial_is_allowed(tmp_path):
    shards = run_shards(tmp_path, SMALL, 3)
    m = tmp_path / "m.json"
    r = run("merge", shards[0], shards[2], "--out", m)
    assert r.returncode == 2
    assert "run t: shard 1 of 3 is missing: nothing written" in r.stderr
    assert not m.exists()
    r = run("merge", shards[0], shards[2], "--out", m, "--allow-partial")
    assert r.returncode == 0, r.stderr
    assert "PARTIAL" in r.stdout
    doc = json.loads(m.read_text())
    assert doc["partial"] is True and doc["run"]["missing_shards"] == [1]
    assert doc["runs"][0]["accounting"]["started"] == 201


def test_merge_refuses_shards_of_different_runs_and_a_shard_twice(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.json", "b.json", "c.json"))
    path = scenario(tmp_path, SMALL)
    for out, shard, run_id in ((a, "0/2", "one"), (b, "1/2", "two"), (c, "0/2", "one")):
        r = run("run", path, "--shard", shard, "--run-id", run_id, "--out", out)
        assert r.returncode == 0, r.stderr
    m = tmp_path / "m.json"
    r = run("merge", a, b, "--out", m)
    assert r.returncode == 2
    assert f"{a} and {b} are of different runs (run_id one vs two)" in r.stderr
    r = run("merge", a, c, "--out", m)
    assert r.returncode == 2 and "are the same shard (0/2 twice)" in r.stderr
    assert not m.exists()


def test_runs_without_shards_are_separate_runs_and_do_not_merge(tmp_path):
    a, b, m = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    for out in (a, b):
        r = run("run", scenario(tmp_path, SMALL), "--out", out)
        assert r.returncode == 0, r.stderr
    ida, idb = (json.loads(p.read_text())["run"]["id"] for p in (a, b))
    assert ida != idb and ida.split("@")[0] == idb.split("@")[0]  # same scenario, other start
    r = run("merge", a, b, "--out", m)
    assert r.returncode == 2 and "are of different runs" in r.stderr


@pytest.mark.parametrize("env, index, count, source", [
    ({"JOB_COMPLETION_INDEX": "2", "MSBENCH_SHARD_COUNT": "3"}, 2, 3, "JOB_COMPLETION_INDEX"),
    ({"SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "77", "SLURM_STEP_ID": "0"}, 1, 2,
     "SLURM_PROCID"),
    # The batch script's own environment (no job step): the whole run.
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "77"}, 0, 1, "none"),
])
def test_the_shard_comes_from_the_cluster_engines_environment(tmp_path, env, index, count, source):
    out = tmp_path / "r.json"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLURM_", "JOB_COMPLETION", "MSBENCH_"))}
    r = run("run", scenario(tmp_path, SMALL), "--out", out, env={**clean, **env})
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["run"]["shard"] == {"index": index, "count": count, "from": source}
    if "SLURM_STEP_ID" in env:
        assert doc["run"]["id"] == "slurm-77.0"
    assert doc["runs"][0]["config"]["connections"] == {3: [101, 100, 100][index], 2: 150,
                                                       1: 301}[count]


@pytest.mark.parametrize("args, env, says", [
    (["--shard", "3/3"], {}, "is not a shard: it takes I/N with 0 <= I < N"),
    (["--shard", "two"], {}, "is not I/N"),
    (["--shard", "0/400"], {}, "301 connections cannot be split over 400 shards"),
    (["--start-at", "noon"], {}, "--start-at: 'noon' is not a time"),
    ([], {"JOB_COMPLETION_INDEX": "0"}, "MSBENCH_SHARD_COUNT is not"),
    (["--shard", "0/2", "--set", "source_addresses=['127.0.0.1']", "--set", "path='/bytes/100'"], {},
     "1 source addresses cannot be split over 2 shards"),
])
def test_bad_shard_settings_are_refused_before_anything_runs(tmp_path, args, env, says):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLURM_", "JOB_COMPLETION", "MSBENCH_"))}
    r = run("run", scenario(tmp_path, SMALL), "--out", tmp_path / "r.json", *args,
            env={**clean, **env})
    assert r.returncode in (1, 2) and says in r.stderr, r.stderr


def test_a_shard_started_after_the_planned_time_says_it_was_late(tmp_path):
    out = tmp_path / "r.json"
    start = f"{time.time() - 3:.3f}"  # three seconds ago
    r = run("run", scenario(tmp_path, SMALL), "--shard", "0/2", "--start-at", start, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "this shard is late" in r.stderr
    one = first_run(out)
    # Its ramp-up budget and warm-up (about 1.2 s) were over before it began.
    assert one["phases"]["start_late_s"] > 1


def test_the_open_models_rate_is_split_between_shards(tmp_path):
    text = ('path = "/bytes/100"\nrate = 400\nconnections = 20\nwarmup_s = 0.2\nduration_s = 1\n')
    shards = run_shards(tmp_path, text, 2)
    measured = [first_run(f)["requests"]["measured"] for f in shards]
    # Each shard sends every other request of the run's schedule: about 200/s each.
    for n in measured:
        assert 120 <= n <= 280, measured
    for f in shards:
        one = first_run(f)
        assert one["config"]["rate"] == 400 and one["rate"]["asked"] == 200  # its share
    m = tmp_path / "m.json"
    r = run("merge", *shards, "--out", m)
    assert r.returncode == 0, r.stderr
    merged = first_run(m)
    assert merged["rate"]["asked"] == 400 and merged["share_of_run"] == 1
    assert merged["requests"]["measured"] == sum(measured)


def test_a_results_file_with_a_malformed_run_section_is_named_not_merged(tmp_path):
    a, b = run_shards(tmp_path, SMALL, 2)
    doc = json.loads(b.read_text())
    doc["run"]["shard"] = {"index": "one"}  # hand-edited: no count, index not a number
    b.write_text(json.dumps(doc))
    m = tmp_path / "m.json"
    r = run("merge", a, b, "--out", m)
    assert r.returncode == 2 and f"{b}: malformed 'run'" in r.stderr, r.stderr
    del doc["run"]
    b.write_text(json.dumps(doc))
    r = run("merge", a, b, "--out", m)
    assert r.returncode == 2 and f"{b}: has no run id or shard" in r.stderr
    assert not m.exists()
