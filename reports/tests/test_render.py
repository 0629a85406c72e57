"""The HTML report rendered in headless Chromium (Debian `chromium`): every image loads and no
script error is logged. Skipped, with the reason, where Chromium is absent; CI installs it."""

import http.server
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
REPORTS = HERE.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Put into the served page (not into the report): records, once the page has loaded, how many
# images it has and which did not load, and any script error.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.target.src)), true);
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.documentElement.dataset.images = imgs.length;
  document.documentElement.dataset.broken =
      imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')).join(' ');
  document.documentElement.dataset.errors = window.__errors.join(' | ');
  document.documentElement.dataset.done = '1';
});
</script>"""


class Handler(http.server.SimpleHTTPRequestHandler):
    served = None  # [(path, status)]

    def log_message(self, *args):
        pass

    def send_response(self, code, message=None):
        self.served.append((self.path, code))
        super().send_response(code, message)

    def do_GET(self):
        if self.path.endswith(".html"):
            page = (Path(self.directory) / self.path.lstrip("/")).read_text()
            body = page.replace("<head>", "<head>" + PROBE, 1).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def render(folder, page="index.html"):
    """(the rendered DOM's probe attributes, console error lines, what the server served)."""
    served = []
    handler = type("H", (Handler,), {"served": served})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                            "--dump-dom", url], capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    root = re.search(r"<html[^>]*>", r.stdout)
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', root.group(0))) if root else {}
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l and re.search(r"Uncaught|Error", l)]
    return attrs, console, served


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (bash tools/setup.sh installs it)")


@needs_chromium
def test_the_probe_sees_a_broken_image_and_a_script_error(tmp_path):
    # The check itself can fail: a page with a missing image and a throwing script.
    (tmp_path / "bad.html").write_text('<!doctype html><html><head></head><body><img src="missing.png">'
                                       '<script>undefined_function()</script></body></html>')
    attrs, console, _ = render(tmp_path, "bad.html")
    assert attrs.get("done") == "1", attrs
    assert attrs["broken"] == "missing.png"
    assert "undefined_function" in attrs["errors"] or any("undefined_function" in l for l in console)


@needs_chromium
@pytest.mark.parametrize("inputs", [
    ["quick-epoll.json"],
    ["compare-small.json", "sweep-epoll-perform.json", "reps.json", "load.json",
     "bench_timers-smoke.json", "bench_sockindex-smoke.json"],
])
def test_report_renders_every_image_without_script_errors(tmp_path, inputs):
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "msbench_report", *(str(FIXTURES / i) for i in inputs),
                        "-o", str(out)], cwd=REPORTS, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs
    attrs, console, served = render(out)
    assert attrs.get("done") == "1", f"the page did not finish loading: {attrs}"
    assert int(attrs["images"]) == len(pngs)
    assert attrs["broken"] == "", f"images that did not load: {attrs['broken']}"
    assert attrs["errors"] == "" and console == [], (attrs["errors"], console)
    assert sorted(p.lstrip("/") for p, code in served if p.endswith(".png") and code == 200) == pngs
