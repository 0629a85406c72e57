"""https:// end to end: the built-in server's TLS listeners (with curl, a client nobody here
wrote, and with every engine), and nginx with TLS and a certificate the test makes: verified
against its CA, refused without it, accepted with insecure = true, sessions resumed as
nginx's own log shows."""

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import MSBENCH, check_accounting, run, scenario
from nginx_server import Nginx


def results(out):
    return json.loads(Path(out).read_text())["runs"]


def make_certificate(where: Path, san="IP:127.0.0.1"):
    """A self-signed P-256 certificate and key made with Debian's openssl command."""
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=msbench test", "-addext", f"subjectAltName={san}",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_curl_fetches_from_the_builtin_https_server_with_its_certificate(tmp_path):
    serve = subprocess.Popen([MSBENCH, "serve", "--https-ports", "1"], stdout=subprocess.PIPE, text=True)
    try:
        cert = url = None
        while url is None:
            line = serve.stdout.readline()
            assert line, "msbench serve ended early"
            if line.startswith("certificate: "):
                cert = line.split()[1]
            m = re.match(r"listening on (https://\S+)", line)
            if m:
                url = m.group(1)
        assert cert and Path(cert).exists()
        ok = subprocess.run(["curl", "-sS", "--cacert", cert, url + "bytes/30"], capture_output=True,
                            text=True, timeout=10)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "abcdefghijklmnopqrstuvwxyzabcd"
        untrusted = subprocess.run(["curl", "-sS", url + "bytes/30"], capture_output=True, text=True,
                                   timeout=10)
        assert untrusted.returncode == 60, untrusted.stderr  # CURLE_PEER_FAILED_VERIFICATION
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=10)
    assert "TLS: 2 handshakes" not in out  # curl's second handshake failed at verification
    assert re.search(r"TLS: 1 handshakes \(0 resumed\), 1 failed", out), out
    assert not Path(cert).exists(), "the certificate made for the server is removed when it stops"


@pytest.mark.parametrize("engine", ["msbench", "libcurl", "floor"])
def test_every_engine_holds_verified_https_connections_to_the_builtin_server(tmp_path, engine):
    s = scenario(tmp_path, f"""
scheme = "https"
engine = "{engine}"
connections = 300
connect_rate = 3000
active_fraction = 0.1
trickle_interval_ms = 50
warmup_s = 0.2
duration_s = 1
""")
    r = run("run", s, "-o", tmp_path / "out.json")
    assert r.returncode == 0, r.stderr
    one = results(tmp_path / "out.json")[0]
    check_accounting(one)
    assert one["accounting"]["still_running"] == 300
    assert one["connections_open"] == 300
    assert one["counts"]["socket_action_calls"] > 0
    if engine == "msbench":
        assert one["counts"]["tls_handshakes"] == 300
        assert one["tls_us"]["count"] == 300


def test_a_load_over_https_by_name_verifies_the_wildcard_certificate(tmp_path):
    s = scenario(tmp_path, """
scheme = "https"
names = 3
path = "/bytes/100"
connections = 6
requests_per_connection = 5
warmup_s = 0.2
duration_s = 1
""")
    r = run("run", s, "-o", tmp_path / "out.json")
    assert r.returncode == 0, r.stderr
    one = results(tmp_path / "out.json")[0]
    check_accounting(one)
    assert one["requests"]["completed"] > 0
    assert one["requests"]["failed"] == 0
    assert set(one["requests"]["by_status"]) == {"200"}
    counts = one["counts"]
    assert counts["tls_handshakes"] >= counts["connections_opened"] - 6  # those still handshaking
    assert counts["tls_resumed"] > 0  # reconnects every 5 requests resume


def test_an_unreadable_ca_file_names_the_key(tmp_path):
    s = scenario(tmp_path, 'scheme = "https"\nca_file = "/nonexistent/ca.pem"\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:2: key 'ca_file'" in r.stderr
    assert "cannot read" in r.stderr


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def nginx_tls(tmp_path, request):
    cert, key = make_certificate(tmp_path)
    server = Nginx(tmp_path / "nginx", "    location = /file { }\n", tls=(cert, key, request.param))
    (server.root / "www" / "file").write_text("f" * 1000)
    yield server, cert
    server.stop()


def load(tmp_path, target, extra="", name="s.toml"):
    return scenario(tmp_path, f"""
target = "{target}"
connections = 4
requests_per_connection = 1
warmup_s = 0.1
duration_s = 0.5
{extra}
""", name)


def test_nginx_over_tls_verified_untrusted_and_insecure(tmp_path, nginx_tls):
    nginx, cert = nginx_tls
    verified = load(tmp_path, nginx.url("/file"), f'ca_file = "{cert}"', "verified.toml")
    r = run("run", verified, "-o", tmp_path / "verified.json")
    assert r.returncode == 0, r.stderr
    one = results(tmp_path / "verified.json")[0]
    check_accounting(one)
    assert one["requests"]["completed"] > 4, one["accounting"]
    assert one["requests"]["failed"] == 0, {k: v for k, v in one["accounting"]["ended"].items() if v}
    assert one["requests"]["by_status"] == {"200": one["requests"]["completed"]}
    # One connection per request: every reconnect after the first few resumes its session
    # (TLS 1.2: a session id; 1.3: a ticket that arrives after the handshake), as nginx
    # itself records.
    reused = [r for r, proto in nginx.tls_lines()]
    assert len(reused) == one["requests"]["completed"]
    # Only the first connections, opened together before any session existed, are full.
    not_reused = [i for i, r in enumerate(reused) if r != "r"]
    assert len(not_reused) <= 4, not_reused
    assert {proto for _, proto in nginx.tls_lines()} == {nginx.tls[2]}
    if nginx.tls[2] == "TLSv1.3":  # AES-128-GCM offered first, as browsers and h2load do
        assert set(nginx.tls_ciphers()) == {"TLS_AES_128_GCM_SHA256"}
    # The engine's count is read when measuring ends; the last few requests may follow it.
    assert 0 <= reused.count("r") - one["counts"]["tls_resumed"] <= 4

    untrusted = load(tmp_path, nginx.url("/file"), "", "untrusted.toml")  # the system's CAs
    r = run("run", untrusted, "-o", tmp_path / "untrusted.json")
    assert r.returncode == 3, r.stderr  # no transfer succeeded
    assert "tls_cert_untrusted" in r.stderr
    one = results(tmp_path / "untrusted.json")[0]
    check_accounting(one)
    assert one["requests"]["completed"] == 0
    ended = {k: v for k, v in one["accounting"]["ended"].items() if v}
    assert set(ended) == {"tls_cert_untrusted"}, ended
    # Why, in OpenSSL's words, counted in the results file and shown in the summary.
    reasons = one["accounting"]["reasons"]
    assert sum(reasons.values()) == ended["tls_cert_untrusted"], reasons
    for reason in reasons:
        assert reason.startswith("tls_cert_untrusted: certificate verify failed: "), reasons
    assert f"most often {max(reasons, key=reasons.get)} (" in r.stderr, r.stderr
    assert max(reasons, key=reasons.get) in r.stdout  # the summary's list

    insecure = load(tmp_path, nginx.url("/file"), "insecure = true", "insecure.toml")
    r = run("run", insecure, "-o", tmp_path / "insecure.json")
    assert r.returncode == 0, r.stderr
    one = results(tmp_path / "insecure.json")[0]
    assert one["requests"]["completed"] > 0 and one["requests"]["failed"] == 0


def test_a_tls_fault_needs_https(tmp_path):
    s = scenario(tmp_path, 'connections = 4\nfault = "tls_stall"\nfault_fraction = 1\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:2: key 'fault'" in r.stderr
    assert 'needs scheme = "https"' in r.stderr


def test_tls_resumption_off_makes_every_handshake_full(tmp_path):
    s = scenario(tmp_path, """
scheme = "https"
path = "/bytes/10"
connections = 4
requests_per_connection = 1
tls_resumption = false
warmup_s = 0.1
duration_s = 0.5
""")
    r = run("run", s, "-o", tmp_path / "out.json")
    assert r.returncode == 0, r.stderr
    one = results(tmp_path / "out.json")[0]
    assert one["requests"]["completed"] > 10
    assert one["counts"]["tls_handshakes"] > 10
    assert one["counts"]["tls_resumed"] == 0


def test_a_scheme_that_is_not_the_targets_is_refused(tmp_path):
    s = scenario(tmp_path, 'target = "http://127.0.0.1:1/"\nscheme = "https"\n')
    r = run("run", s)
    assert r.returncode == 2
    assert f"{s}:2: key 'scheme'" in r.stderr
