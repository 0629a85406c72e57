"""msbench's command line end to end: the binary, the built-in server, the results file."""

import json
import os
import signal
import subprocess

import pytest

MSBENCH = os.environ.get("MSBENCH", "build/msbench")
SMALL = ["-n", "300", "--active", "0.1", "--trickle-ms", "20", "--warmup", "0.2"]


def run(*args, **kw):
    return subprocess.run([MSBENCH, *args], capture_output=True, text=True, timeout=120, **kw)


def test_small_run_writes_consistent_results(tmp_path):
    out = tmp_path / "r.json"
    r = run("run", *SMALL, "-d", "1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "socket_action(socket)" in r.stdout and "[accounted]" in r.stdout
    doc = json.loads(out.read_text())
    assert doc["schema"] == "msbench-results" and doc["schema_version"] == 1
    for key in ("cpu", "cores", "kernel", "compiler", "git_commit", "build_type"):
        assert key in doc["machine"]
    (one,) = doc["runs"]
    assert one["partial"] is False
    acc = one["accounting"]
    assert acc["started"] == 300
    assert acc["started"] == acc["ended_total"] + acc["still_running"]
    assert acc["holds"] is True
    assert one["connections_open"] == 300
    h = one["socket_action_us"]["socket"]
    assert h["count"] > 0 and sum(n for _, n in h["buckets_ns"]) == h["count"]
    assert 0 < h["p50_us"] <= h["p99_us"] <= h["max_us"]
    si = one["sockindex"]
    assert si["variant"] == "resizable" and si["size"] == 300
    assert sum(si["occupancy"]) == si["buckets"]
    assert sum(k * n for k, n in enumerate(si["occupancy"])) == si["size"]
    assert one["timers"]["variant"] == "splay"
    assert one["loop"]["events"] > 0
    assert one["rss"]["per_connection_bytes"] > 0


@pytest.mark.parametrize("args", [
    ["run", "--connections", "0"],
    ["run", "--backend", "kqueue"],
    ["run", "--sockindex", "tree"],
    ["run", "--no-such-flag"],
    ["frobnicate"],
])
def test_bad_usage_exits_2_with_a_message(args):
    r = run(*args)
    assert r.returncode == 2
    assert r.stderr.strip()


def test_help_lists_subcommands():
    r = run("--help")
    assert r.returncode == 0
    assert "run" in r.stdout and "serve" in r.stdout


def test_sigint_mid_run_writes_partial_results(tmp_path):
    out = tmp_path / "partial.json"
    p = subprocess.Popen([MSBENCH, "run", *SMALL, "-d", "60", "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait for the measured phase to begin (a line on stderr), then interrupt.
        for line in p.stderr:
            if line.startswith("phase: measuring"):
                break
        p.send_signal(signal.SIGINT)
        stdout, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    assert "PARTIAL" in stdout
    (one,) = json.loads(out.read_text())["runs"]
    assert one["partial"] is True
    assert one["accounting"]["holds"] is True
    assert one["phases"]["measured_s"] < 30
