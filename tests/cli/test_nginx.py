"""Sustained load against a server nobody here wrote: nginx on a loopback port, with a
configuration these tests write. msbench's accounting must agree with nginx's access log
exactly; a POST body must reach nginx intact; and a stall in the middle of an open-model run
must show in the latency counted from when requests were due, and hide from the latency
counted from when they were sent (coordinated omission, demonstrated)."""

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from helpers import MSBENCH, check_accounting, run, scenario
from nginx_server import Nginx

ROOT = Path(__file__).resolve().parents[2]

LOCATIONS = """
    location = /file { }
    location = /error { return 500; }
    location = /slow { limit_rate 20k; }
    # nginx reads a proxied request's body whole before it passes it on, so $request_body and
    # $request_length show what arrived.
    location = /post { client_body_buffer_size 64k; proxy_pass http://127.0.0.1:$server_port/sink; }
    location = /sink { access_log off; return 200 "ok"; }
"""


@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path / "nginx", LOCATIONS)
    (server.root / "www" / "file").write_text("f" * 1000)
    (server.root / "www" / "slow").write_text("s" * 4000)
    yield server
    server.stop()


def results(path):
    return json.loads(Path(path).read_text())["runs"][0]


def test_every_request_agrees_with_nginxs_access_log(tmp_path, nginx):
    # A weighted mix over keep-alive connections: 200s, 500s and 404s, for a second or so.
    s = scenario(tmp_path, f"""
target = "{nginx.url()}"
connections = 20
warmup_s = 0.2
duration_s = 1
[[request]]
path = "/file"
weight = 3
[[request]]
path = "/error"
[[request]]
path = "/missing"
""")
    out = tmp_path / "r.json"
    r = run("run", s, "--out", out)
    assert r.returncode == 0, r.stderr
    one = results(out)
    check_accounting(one)
    nginx.stop()  # flushes and closes the log
    lines = nginx.log_lines()
    logged = Counter(line[0] for line in lines)
    assert one["requests"]["failed"] == 0
    assert one["requests"]["completed"] == len(lines) > 1000
    assert one["requests"]["by_status"] == {status: n for status, n in logged.items()}
    assert set(logged) == {"200", "404", "500"}
    assert one["requests"]["by_class"] == {"2xx": logged["200"], "4xx": logged["404"], "5xx": logged["500"]}
    assert one["requests"]["body_bytes"] == sum(int(line[3]) for line in lines)
    # Nothing was dropped in flight: the drain let every request end.
    assert one["accounting"]["still_running"] == 0


def test_a_post_body_reaches_nginx_intact(tmp_path, nginx):
    body = "".join(chr(ord("a") + i % 26) for i in range(3000))
    (tmp_path / "body.txt").write_text(body)
    s = scenario(tmp_path, f"""
target = "{nginx.url()}"
path = "/post"
method = "POST"
body = "@{tmp_path / 'body.txt'}"
headers = ["Content-Type: text/plain"]
connections = 4
warmup_s = 0
duration_s = 0.5
""")
    out = tmp_path / "r.json"
    r = run("run", s, "--out", out)
    assert r.returncode == 0, r.stderr
    one = results(out)
    nginx.stop()
    lines = [line for line in nginx.log_lines() if line[4] == "/post"]
    assert len(lines) == one["requests"]["completed"] > 50
    head = (f"POST /post HTTP/1.1\r\nHost: 127.0.0.1:{nginx.port}\r\nUser-Agent: msbench/0.1\r\n"
            f"Accept: */*\r\nContent-Length: 3000\r\nContent-Type: text/plain\r\n\r\n")
    for status, request_length, content_length, _, _, logged_body in lines:
        assert status == "200"
        assert content_length == "3000"
        assert int(request_length) == len(head) + len(body)
        assert logged_body == body


def test_a_stall_shows_in_latency_from_due_and_hides_from_latency_from_sent(tmp_path, nginx):
    # 2,000 requests/s over at most 4 connections; nginx's worker is stopped for 600 ms in
    # the middle of the measured phase. The 4 requests in flight see the stall whichever
    # way latency is counted; the ~1,200 that fall due during it could not be sent (every
    # connection was busy), and only the latency from when they were due shows their wait.
    s = scenario(tmp_path, f"""
target = "{nginx.url('/file')}"
rate = 2000
connections = 4
warmup_s = 0.5
duration_s = 4
""")
    out = tmp_path / "r.json"
    p = subprocess.Popen([MSBENCH, "run", str(s), "--out", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    workers = nginx.worker_pids()
    assert workers, "nginx has no worker process"
    for pid in workers:
        subprocess.run(["kill", "-STOP", str(pid)])
    time.sleep(0.6)
    for pid in workers:
        subprocess.run(["kill", "-CONT", str(pid)])
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 0, stderr
    one = results(out)
    corrected = one["request_us"]
    uncorrected = one["request_uncorrected_us"]
    assert corrected["count"] == uncorrected["count"] > 5000
    assert corrected["p99_us"] > 300_000, corrected      # the stall, as the clients lived it
    assert uncorrected["p99_us"] < 50_000, uncorrected   # hidden by counting from the send
    assert uncorrected["max_us"] > 300_000               # (the 4 in flight did see it)
    assert "request (from due)" in stdout and "request (from sent)" in stdout


def test_load_closed_prints_requests_latency_status_and_the_engines_cost(tmp_path, nginx):
    for target in (["--set", f"target={nginx.url()}", "--set", "path=/file"], []):
        out = tmp_path / "r.json"
        r = run("run", ROOT / "scenarios" / "load-closed.toml", *target, "--set", "connections=100",
                "--set", "warmup_s=0.2", "--set", "duration_s=1", "--out", out)
        assert r.returncode == 0, r.stderr
        for words in ("closed model, 100 connections", "in the measured phase:", "/s,", "status",
                      "2xx", "request ", "socket_action(socket)", "[accounted]"):
            assert words in r.stdout, (words, r.stdout)
        one = results(out)
        assert one["requests"]["per_s"] > 1000
        assert one["request_us"]["p99_us"] >= one["request_us"]["p50_us"] > 0
        assert one["socket_action_us"]["socket"]["count"] > 0
