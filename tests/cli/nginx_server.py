"""nginx (Debian's nginx-light) on a loopback port, with a configuration the test writes: a
server nobody here wrote, for exact accounting against its access log. Skips, saying why,
where nginx is not installed."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

# The access log: one line per request, fields separated by '|', the request body last
# (logged only where nginx reads the body).
LOG_FORMAT = "$status|$request_length|$content_length|$body_bytes_sent|$uri|$request_body"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """`tls`: (certificate, key, protocols) : the port speaks https with those protocols
    ("TLSv1.2 TLSv1.3"), and tls.log records per request whether its session was resumed
    ($ssl_session_reused: "r" or ".") and the protocol."""

    def __init__(self, root: Path, locations: str, tls=None):
        self.tls = tls
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(exe):
            pytest.skip("nginx is not installed (Debian nginx-light; bash tools/setup.sh installs it)")
        self.root = root
        self.port = free_port()
        (root / "logs").mkdir(parents=True, exist_ok=True)
        (root / "www").mkdir(exist_ok=True)
        self.log = root / "logs" / "access.log"
        self.tls_log = root / "logs" / "tls.log"
        tls_conf = ""
        if tls:
            tls_conf = f"""
    ssl_certificate {tls[0]};
    ssl_certificate_key {tls[1]};
    ssl_protocols {tls[2]};
    ssl_session_tickets on;
    access_log {self.tls_log} tls;"""
        conf = f"""
worker_processes 1;
user root;
error_log {root}/logs/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 16384; }}
http {{
  log_format msb '{LOG_FORMAT}';
  log_format tls '$ssl_session_reused|$ssl_protocol|$ssl_cipher';
  access_log {self.log} msb;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096{" ssl" if tls else ""};
    access_log {self.log} msb;
    root {root}/www;{tls_conf}
{locations}
  }}
}}
"""
        (root / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen([exe, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
                                     stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    pytest.fail(f"nginx did not start: {self.proc.stderr.read().decode()}")
                time.sleep(0.05)
        pytest.fail("nginx did not listen within 10 s")

    def url(self, path=""):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def tls_lines(self):
        """Per request: (session reused "r" or ".", protocol)."""
        return [fields[:2] for fields in self._tls_fields()]

    def tls_ciphers(self):
        """Per request: the cipher (suite) nginx negotiated."""
        return [fields[2] for fields in self._tls_fields()]

    def _tls_fields(self):
        if not self.tls_log.exists():
            return []
        return [tuple(line.split("|")) for line in self.tls_log.read_text().splitlines() if line]

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def log_lines(self):
        """The access log's lines, split into their fields (nginx writes each as it ends)."""
        if not self.log.exists():
            return []
        return [line.split("|", 5) for line in self.log.read_text().splitlines() if line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finishes and flushes the log
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
