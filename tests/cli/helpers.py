"""What the command-line tests share: running msbench, writing a scenario, checking a run's
accounting."""

import os
import subprocess

MSBENCH = os.environ.get("MSBENCH", "build/msbench")


def run(*args, timeout=180, **kw):
    return subprocess.run([MSBENCH, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def scenario(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def check_accounting(one):
    acc = one["accounting"]
    assert acc["holds"] is True
    assert acc["started"] == acc["ended_total"] + acc["still_running"]
    assert sum(acc["ended"].values()) == acc["ended_total"]
