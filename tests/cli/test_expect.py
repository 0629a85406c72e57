"""A scenario's [expect] table: how its transfers must end. Parsed strictly (file, line,
key), checked after every run (exit 1 naming the line), and complete: a code it does not
name must not occur."""

import json
import os
import subprocess
from pathlib import Path

MSBENCH = os.environ.get("MSBENCH", "build/msbench")
ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([MSBENCH, *map(str, args)], capture_output=True, text=True, timeout=120)


def write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


RESET = 'connections = 20\nfault = "reset"\nfault_fraction = 1\nwarmup_s = 0\nduration_s = 2\n'


def test_met_expectation_passes_and_is_recorded(tmp_path):
    s = write(tmp_path, RESET + "\n[expect]\nrecv_error = 20\n")
    out = tmp_path / "r.json"
    r = run("run", s, "--out", out)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["scenario"]["expect"] == {"recv_error": 20}
    (one,) = doc["runs"]
    assert one["accounting"]["ended"]["recv_error"] == 20
    # How long the fault took to surface, per code.
    t = one["time_to_end_us"]["recv_error"]
    assert t["count"] == 20 and 0 < t["p50_us"] <= t["max_us"] < 2_000_000
    assert "recv_error" in r.stdout and "surfaced after" in r.stdout


def test_missed_expectation_exits_1_naming_the_line(tmp_path):
    s = write(tmp_path, RESET + "\n[expect]\nrecv_error = 20\nstill_running = 5\n")
    r = run("run", s, "--out", tmp_path / "r.json")
    assert r.returncode == 1
    assert f"{s}:9: expected still_running = 5, got 0 (the run: 20 recv_error)" in r.stderr


def test_a_code_the_table_does_not_name_must_not_occur(tmp_path):
    s = write(tmp_path, RESET + "\n[expect]\nempty_reply = \"none\"\n")
    r = run("run", s, "--out", tmp_path / "r.json")
    assert r.returncode == 1
    assert "20 transfers ended recv_error, which [expect] does not allow" in r.stderr


def test_unknown_code_in_expect_is_a_scenario_error(tmp_path):
    s = write(tmp_path, RESET + "\n[expect]\nrecv_eror = 20\n")
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:8: key 'expect.recv_eror': not a result code" in r.stderr


def test_bad_count_in_expect_is_a_scenario_error(tmp_path):
    s = write(tmp_path, RESET + "\n[expect]\nrecv_error = \"most\"\n")
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:8: key 'expect.recv_error': expected a count >= 0, \"all\", \"some\" or \"none\"" in r.stderr


def test_every_fault_scenario_states_its_codes():
    files = sorted((ROOT / "scenarios" / "faults").glob("*.toml"))
    assert len(files) >= 18
    for f in files:
        text = f.read_text()
        assert "[expect]" in text and "description" in text, f.name
