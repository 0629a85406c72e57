"""A real Slurm (slurmctld, three slurmd, munged; slurm_cluster.py) runs
deploy/slurm/msbench.sbatch: three tasks, one shard each, against two `msbench serve` servers
the scenario's `targets` spread over; the batch step merges them. Skips, saying why, where
Slurm cannot start."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from helpers import MSBENCH, check_accounting
from slurm_cluster import SlurmCluster, Unavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(tmp_path):
    c = SlurmCluster(tmp_path / "slurm")
    (tmp_path / "slurm").mkdir()
    try:
        c.start()
    except Unavailable as e:
        c.stop()
        pytest.skip(f"Slurm cannot start here: {e}")
    yield c
    c.stop()


class Server:
    """`msbench serve` on an ephemeral port, as a server host would run it."""

    def __init__(self):
        self.proc = subprocess.Popen([MSBENCH, "serve", "--address", "127.0.0.1", "--port", "0"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)/", line)
        assert m, line
        self.url = m.group(1)

    def stop(self):
        """Stops it; returns the connections it accepted."""
        if self.proc.poll() is None:
            self.proc.terminate()
        rest = self.proc.communicate(timeout=10)[0]
        m = re.search(r"served (\d+) connections", rest)
        return int(m.group(1)) if m else None


@pytest.fixture
def servers():
    started = [Server(), Server()]
    yield started
    for s in started:
        s.stop()


def test_a_three_node_slurm_job_runs_one_shard_per_node_and_merges_them(tmp_path, cluster,
                                                                        servers):
    scenario = tmp_path / "small.toml"
    scenario.write_text(
        f"targets = {json.dumps([s.url for s in servers])}\npath = \"/bytes/100\"\nconnections = 31\n"
        "connect_rate = 1000\nwarmup_s = 0.2\nduration_s = 1\n")
    results = tmp_path / "results"
    job = subprocess.run(
        ["sbatch", "--wait", "-N", "3", f"--chdir={tmp_path}", f"--output={tmp_path}/job.out",
         str(ROOT / "deploy/slurm/msbench.sbatch"), str(scenario), str(results)],
        env={**cluster.env, "MSBENCH": str(Path(MSBENCH).resolve()), "MSBENCH_START_IN": "3"},
        capture_output=True, text=True, timeout=120)
    out = (tmp_path / "job.out").read_text() if (tmp_path / "job.out").exists() else ""
    assert job.returncode == 0, job.stdout + job.stderr + out + cluster.log("slurmctld.log")
    job_id = re.search(r"Submitted batch job (\d+)", job.stdout).group(1)
    assert "run slurm-" + job_id + ".0: 3 of 3 shards" in out, out

    shares = [11, 10, 10]
    for i, share in enumerate(shares):
        doc = json.loads((results / f"shard-{i}.json").read_text())
        assert doc["run"]["shard"] == {"index": i, "count": 3, "from": "SLURM_PROCID"}
        assert doc["run"]["id"] == f"slurm-{job_id}.0"
        (one,) = doc["runs"]
        assert one["config"]["connections"] == share
        assert one["accounting"]["started"] == share  # one request loop per connection
        assert one["requests"]["by_status"] == {"200": one["requests"]["completed"]}
        assert one["phases"]["start_late_s"] < 1
        check_accounting(one)
    merged = json.loads((results / "merged.json").read_text())
    assert merged["run"]["shard_count"] == 3 and merged["run"]["missing_shards"] == []
    (total,) = merged["runs"]
    assert total["config"]["connections"] == 31 and total["accounting"]["started"] == 31
    assert total["accounting"]["ended"]["ok"] == 31 and total["accounting"]["still_running"] == 0
    assert total["requests"]["failed"] == 0 and total["requests"]["completed"] > 31
    assert [w["config"]["connections"] for w in total["per_worker"]] == shares
    check_accounting(total)
    # Shard s (one worker each) uses targets[s % 2]: shards 0 and 2 the first server.
    assert [s.stop() for s in servers] == [11 + 10, 10]
