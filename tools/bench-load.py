#!/usr/bin/env python3
"""Side by side against the same nginx: msbench, wrk and h2load --h1, alternating run by run
(A B C A B C ...) so that each ratio is taken between neighbours in time; these machines
drift 12-27% from run to run.

  python3 tools/bench-load.py build/msbench --connections 1000 10000 --pairs 3 --seconds 5
  python3 tools/bench-load.py build/msbench --open-rate 10000 --connections 50
  python3 tools/bench-load.py build/msbench --handshakes --connections 50

Handshakes (--handshakes): nginx speaks TLS 1.3 with an ECDSA P-256 certificate made for the
run and closes every connection after its response (keepalive_timeout 0), so every request
is a new TLS connection: msbench with session resumption, msbench without, and h2load --h1
(which reconnects when the server closes). Each reports handshakes/s and handshakes per
second of client CPU (one client core's worth; msbench's from its measured phase), and
nginx's log says how many resumed ($ssl_session_reused). msbench runs with insecure = true
because h2load verifies nothing; both offer TLS_AES_128_GCM_SHA256 first.

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
import signal
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


def make_certificate(root: Path):
    """A self-signed ECDSA P-256 certificate for 127.0.0.1 (openssl, as Debian ships it)."""
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def start_nginx(root: Path, body_bytes: int, tls=False):
    port = free_port()
    (root / "www").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "www" / "file").write_text("x" * body_bytes)
    listen = f"listen 127.0.0.1:{port} backlog=16384;"
    keepalive = "keepalive_requests 100000000;\n  keepalive_timeout 600s;"
    log = "access_log off;"
    if tls:
        cert, key = make_certificate(root)
        listen = (f"listen 127.0.0.1:{port} ssl backlog=16384;\n    ssl_certificate {cert};\n"
                  f"    ssl_certificate_key {key};\n    ssl_protocols TLSv1.3;\n    ssl_session_tickets on;")
        keepalive = "keepalive_timeout 0;"  # every response closes its connection
        log = f"log_format reuse '$ssl_session_reused';\n  access_log {root}/logs/reuse.log reuse buffer=256k;"
    conf = f"""
worker_processes 1;
user root;
worker_rlimit_nofile 30000;
error_log {root}/logs/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 30000; multi_accept on; }}
http {{
  {log}
  {keepalive}
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    {listen}
    root {root}/www;
    location = /file {{ }}
  }}
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


def run_msbench_handshakes(exe, url, connections, seconds, tmp, resumption):
    out = Path(tmp) / "msbench.json"
    scenario = Path(tmp) / "handshakes.toml"
    scenario.write_text(f'target = "{url}"\nconnections = {connections}\nrequests_per_connection = 1\n'
                        f'tls_resumption = {str(resumption).lower()}\ninsecure = true\nconnect_rate = 100000\n'
                        f'warmup_s = 0\nduration_s = {seconds}\nworkers = 1\nbackend = "epoll"\n')
    _, tree_cpu, _ = timed([exe, "run", str(scenario), "--out", str(out)])
    run = json.loads(out.read_text())["runs"][0]
    done = run["requests"]["completed"]
    # The measured phase's own CPU (the worker's rusage), over the handshakes counted in it:
    # the process tree's also paid for start-up, the ramp and the drain, whose handshakes are
    # not counted. h2load's whole run is its measurement.
    cpu = run["cpu"]["user_s"] + run["cpu"]["sys_s"]
    return {"handshakes_per_s": run["requests"]["per_s"], "handshakes": done, "cpu_s": cpu,
            "tree_cpu_s": tree_cpu, "handshakes_per_cpu_s": done / cpu,
            "tls_p50_us": run["tls_us"]["p50_us"], "failed": run["requests"]["failed"]}


def run_h2load_handshakes(url, connections, count):
    # A count, not -D: h2load 1.52's timed mode never ends once the server closes connections.
    out, cpu, _ = timed(["h2load", "--h1", "-t1", f"-c{connections}", f"-n{max(count, connections)}", url])
    done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
    rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
    failed = int(re.search(r"requests: .* (\d+) failed", out).group(1))
    return {"handshakes_per_s": rps, "handshakes": done, "cpu_s": cpu, "handshakes_per_cpu_s": done / cpu,
            "failed": failed}


class ReuseLog:
    """nginx's $ssl_session_reused per request since the last look ("r" resumed, "." full)."""

    def __init__(self, nginx, path: Path):
        self.nginx, self.path, self.offset = nginx, path, 0

    def since_last(self):
        self.nginx.send_signal(signal.SIGUSR1)  # reopening the log flushes its buffer
        time.sleep(0.5)
        data = self.path.read_bytes() if self.path.exists() else b""
        new, self.offset = data[self.offset:], len(data)
        lines = new.split()
        return {"resumed": lines.count(b"r"), "full": lines.count(b".")}


def handshakes(args, tmp):
    nginx, port = start_nginx(Path(tmp) / "nginx", args.body_bytes, tls=True)
    url = f"https://127.0.0.1:{port}/file"
    reuse = ReuseLog(nginx, Path(tmp) / "nginx" / "logs" / "reuse.log")
    results = {"nginx": "1 worker, TLS 1.3, ECDSA P-256, keepalive_timeout 0", "seconds": args.seconds,
               "sizes": {}}
    runs = {}
    clients = {
        "msbench resumed": lambda n: run_msbench_handshakes(args.msbench, url, n, args.seconds, tmp, True),
        "msbench full": lambda n: run_msbench_handshakes(args.msbench, url, n, args.seconds, tmp, False),
        # As many as msbench full handshook in the same time just before.
        "h2load": lambda n: run_h2load_handshakes(url, n, runs["msbench full"][-1]["handshakes"]),
    }
    try:
        for n in args.connections:
            runs.clear()
            runs.update({k: [] for k in clients})
            for pair in range(args.pairs):
                for name, run in clients.items():
                    reuse.since_last()
                    one = run(n)
                    one.update(reuse.since_last())
                    runs[name].append(one)
                print(f"{n} connections, round {pair + 1}: " + ", ".join(
                    f"{k} {v[-1]['handshakes_per_s']:.0f}/s {v[-1]['handshakes_per_cpu_s']:.0f}/cpu-s "
                    f"({v[-1]['resumed']} resumed, {v[-1]['full']} full)" for k, v in runs.items()), flush=True)
            ratios = {}
            for name in ("msbench resumed", "msbench full"):
                ratios[f"{name}/h2load"] = {
                    metric: [m[metric] / h[metric] for m, h in zip(runs[name], runs["h2load"])]
                    for metric in ("handshakes_per_s", "handshakes_per_cpu_s")}
            # A copy: `runs` is emptied for the next size.
            results["sizes"][str(n)] = {"runs": {k: list(v) for k, v in runs.items()}, "ratios": ratios}
    finally:
        nginx.terminate()
        nginx.wait()
    return results


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
    ap.add_argument("--handshakes", action="store_true", help="a new TLS connection per request (see above)")
    ap.add_argument("--out", default="out/bench-load.json")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "h2load", "openssl"):
        if not shutil.which(tool):
            raise SystemExit(f"bench-load: {tool} is not installed (bash tools/setup.sh installs it)")
    raise_fd_limit()
    tmp = tempfile.mkdtemp(prefix="msb-bench-load-")
    if args.handshakes:
        results = handshakes(args, tmp)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))
        print()
        for n, r in results["sizes"].items():
            for pair, ratio in r["ratios"].items():
                print(f"{n:>6} connections, {pair}: " + "; ".join(
                    f"{metric} {' '.join(f'{x:.3f}' for x in xs)} (median {statistics.median(xs):.3f})"
                    for metric, xs in ratio.items()))
        print(f"\nresults: {args.out}")
        return
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
