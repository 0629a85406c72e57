#!/usr/bin/env python3
"""Side by side against the same nginx: msbench, wrk and h2load --h1, alternating run by run
(A B C A B C ...) so that each ratio is taken between neighbours in time; these machines
drift 12-27% from run to run.

  python3 tools/bench-load.py build/msbench --connections 1000 10000 --pairs 3 --seconds 5
  python3 tools/bench-load.py build/msbench --open-rate 10000 --connections 50

Closed model: every client keeps its connections busy, one request after another; each
run reports requests/s (the client's own count over its own duration) and client CPU per
request (user + system of the client's whole process tree, from rusage, over every request
it completed). Open model (--open-rate): msbench at a fixed rate, beside wrk's closed-model
latency at the same concurrency (Debian's wrk has no rate option). nginx runs one worker
with multi_accept on, access log off, on a 100-byte file; each client runs one thread (one
worker process for msbench) so that client and server have a core each.

Writes the figures as JSON (--out) and prints a table with the pair-by-pair ratios."""

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(root: Path, body_bytes: int):
    port = free_port()
    (root / "www").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "www" / "file").write_text("x" * body_bytes)
    conf = f"""
worker_processes 1;
user root;
worker_rlimit_nofile 30000;
error_log {root}/logs/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 30000; multi_accept on; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{ listen 127.0.0.1:{port} backlog=16384; root {root}/www; location = /file {{ }} }}
}}
"""
    (root / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nginx did not start")


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def timed(cmd):
    """Runs cmd; returns (stdout, cpu seconds of its whole process tree, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=raise_fd_limit)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stdout[-1000:]} {p.stderr[-1000:]}")
    return p.stdout, cpu, wall


def run_msbench(exe, url, connections, seconds, tmp, rate=0):
    out = Path(tmp) / "msbench.json"
    scenario = Path(tmp) / "load.toml"
    scenario.write_text(f'target = "{url}"\nconnections = {connections}\nconnect_rate = 100000\n'
                        f'warmup_s = 0\nduration_s = {seconds}\nworkers = 1\nbackend = "epoll"\n'
                        + (f"rate = {rate}\n" if rate else ""))
    _, cpu, _ = timed([exe, "run", str(scenario), "--out", str(out)])
    run = json.loads(out.read_text())["runs"][0]
    req = run["requests"]
    return {"requests_per_s": req["per_s"], "requests": req["completed"], "cpu_s": cpu,
            "cpu_per_request_us": cpu / req["completed"] * 1e6,
            "p50_us": run["request_us"]["p50_us"], "p99_us": run["request_us"]["p99_us"],
            "uncorrected_p50_us": run["request_uncorrected_us"]["p50_us"] if rate else None,
            "uncorrected_p99_us": run["request_uncorrected_us"]["p99_us"] if rate else None,
            "failed": req["failed"]}


def unit_us(value, unit):
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def run_wrk(url, connections, seconds):
    out, cpu, _ = timed(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url])
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"requests_per_s": rps, "requests": total, "cpu_s": cpu, "cpu_per_request_us": cpu / total * 1e6,
            "p50_us": unit_us(*p50.groups()), "p99_us": unit_us(*p99.groups()),
            "failed": errors.group(0) if errors else 0}


def run_h2load(url, connections, seconds):
    out, cpu, _ = timed(["h2load", "--h1", "-t1", f"-c{connections}", f"-D{seconds:g}", url])
    done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
    rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
    return {"requests_per_s": rps, "requests": done, "cpu_s": cpu, "cpu_per_request_us": cpu / done * 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("msbench")
    ap.add_argument("--connections", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--body-bytes", type=int, default=100)
    ap.add_argument("--open-rate", type=float, default=0, help="open model at this rate, beside wrk's latency")
    ap.add_argument("--out", default="out/bench-load.json")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "h2load"):
        if not shutil.which(tool):
            raise SystemExit(f"bench-load: {tool} is not installed (bash tools/setup.sh installs it)")
    raise_fd_limit()
    tmp = tempfile.mkdtemp(prefix="msb-bench-load-")
    nginx, port = start_nginx(Path(tmp) / "nginx", args.body_bytes)
    url = f"http://127.0.0.1:{port}/file"
    results = {"nginx": "1 worker, multi_accept on", "body_bytes": args.body_bytes, "seconds": args.seconds,
               "open_rate": args.open_rate, "sizes": {}}
    try:
        for n in args.connections:
            runs = {"msbench": [], "wrk": []} if args.open_rate else {"msbench": [], "wrk": [], "h2load": []}
            for pair in range(args.pairs):
                runs["msbench"].append(run_msbench(args.msbench, url, n, args.seconds, tmp, args.open_rate))
                runs["wrk"].append(run_wrk(url, n, args.seconds))
                if not args.open_rate:
                    runs["h2load"].append(run_h2load(url, n, args.seconds))
                print(f"{n} connections, pair {pair + 1}: " + ", ".join(
                    f"{k} {v[-1]['requests_per_s']:.0f}/s {v[-1]['cpu_per_request_us']:.2f} us cpu/req"
                    for k, v in runs.items()), flush=True)
            ratios = {}
            for ref in [k for k in runs if k != "msbench"]:
                ratios[ref] = {
                    "requests_per_s": [m["requests_per_s"] / r["requests_per_s"] for m, r in zip(runs["msbench"], runs[ref])],
                    "cpu_per_request": [m["cpu_per_request_us"] / r["cpu_per_request_us"] for m, r in zip(runs["msbench"], runs[ref])],
                }
            results["sizes"][str(n)] = {"runs": runs, "ratios": ratios}
    finally:
        nginx.terminate()
        nginx.wait()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print()
    for n, r in results["sizes"].items():
        for ref, ratio in r["ratios"].items():
            rps = ratio["requests_per_s"]
            cpu = ratio["cpu_per_request"]
            print(f"{n:>6} connections, msbench/{ref}: requests/s {' '.join(f'{x:.3f}' for x in rps)} "
                  f"(median {statistics.median(rps):.3f}); cpu/request {' '.join(f'{x:.3f}' for x in cpu)} "
                  f"(median {statistics.median(cpu):.3f})")
        if args.open_rate:
            for who, runs in r["runs"].items():
                for one in runs:
                    extra = (f", from sent p50 {one['uncorrected_p50_us']:.0f} p99 {one['uncorrected_p99_us']:.0f}"
                             if one.get("uncorrected_p50_us") is not None else "")
                    print(f"{n:>6} connections, {who}: {one['requests_per_s']:.0f}/s, p50 {one['p50_us']:.0f} us "
                          f"p99 {one['p99_us']:.0f} us{extra}")
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
