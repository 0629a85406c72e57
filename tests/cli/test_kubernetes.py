"""deploy/kubernetes, checked offline (no cluster here: `kubectl --dry-run=client` needs a
server): the manifests parse and say what matters, and msbench run with exactly the
environment and arguments the Indexed Job gives its pods, then the merge Job's command, makes
one merged run."""

import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from helpers import MSBENCH, check_accounting

yaml = pytest.importorskip("yaml", reason="python3-yaml (Debian) reads the manifests")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def load(name):
    docs = [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]
    assert len(docs) == 1, name
    return docs[0]


def env_of(container):
    return {e["name"]: e for e in container["env"]}


def test_the_shard_job_is_an_indexed_job_whose_pods_know_their_shard_and_run():
    job = load("job.yaml")
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and spec["backoffLimit"] == 0
    (c,) = pod["containers"]
    env = env_of(c)
    assert int(env["MSBENCH_SHARD_COUNT"]["value"]) == spec["completions"]
    assert "JOB_COMPLETION_INDEX" not in env  # Kubernetes sets it in an Indexed Job
    uid = env["MSBENCH_RUN_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert uid == "metadata.labels['batch.kubernetes.io/controller-uid']"
    assert "MSBENCH_START_AT" in env
    assert c["command"] == ["msbench"] and c["args"][:2] == ["run", "/scenario/scenario.toml"]
    out = c["args"][c["args"].index("--out") + 1]
    assert "$(JOB_COMPLETION_INDEX)" in out and "$(MSBENCH_RUN_ID)" in out
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["scenario"] == "/scenario" and volumes["scenario"]["configMap"]["name"]
    assert out.startswith(mounts["results"] + "/")
    claim = volumes["results"]["persistentVolumeClaim"]["claimName"]
    pvc = load("results-pvc.yaml")
    assert pvc["metadata"]["name"] == claim and "ReadWriteMany" in pvc["spec"]["accessModes"]
    spread = pod["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"]["matchLabels"].items() <= \
        spec["template"]["metadata"]["labels"].items()


def test_run_sh_keeps_completions_parallelism_and_the_shard_count_equal():
    # The substitutions run.sh applies to job.yaml, applied here with the same sed.
    script = (DEPLOY / "run.sh").read_text()
    sed = re.search(r"sed (-e .*?) \"\$here/job.yaml\"", script, re.S).group(1)
    sed = sed.replace("$n", "5").replace("$start_at", "1796227200").replace("$image", "img:1")
    args = shlex.split(sed.replace("\\\n", " "))
    out = subprocess.run(["sed", *args, str(DEPLOY / "job.yaml")], capture_output=True,
                         text=True, check=True).stdout
    job = yaml.safe_load(out)
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 5
    assert env["MSBENCH_SHARD_COUNT"]["value"] == "5"
    assert env["MSBENCH_START_AT"]["value"] == "1796227200"
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "img:1"


def expand(arg, env):
    """Kubernetes' $(VAR) expansion of a container's args."""
    return re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg)


def test_pods_with_the_jobs_environment_make_shards_the_merge_job_merges(tmp_path):
    job = load("job.yaml")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    n = job["spec"]["completions"]
    scenario_dir, results = tmp_path / "scenario", tmp_path / "results"
    scenario_dir.mkdir()
    (scenario_dir / "scenario.toml").write_text(
        "connections = 30\nactive_fraction = 0.1\nwarmup_s = 0.2\nduration_s = 1\n")
    uid = "3f1c6a52-0d4e-4a39-9d6b-7c1e8f2a9b10"
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLURM_", "JOB_COMPLETION", "MSBENCH_"))}
    procs = []
    for i in range(n):
        env = {**base, "JOB_COMPLETION_INDEX": str(i), "MSBENCH_RUN_ID": uid}
        for name, e in env_of(c).items():
            if "value" in e:
                env[name] = e["value"]
        env["MSBENCH_START_AT"] = f"{time.time() + 2:.0f}"  # what run.sh puts there
        args = [expand(a, env).replace("/scenario/", f"{scenario_dir}/")
                .replace("/results/", f"{results}/") for a in c["args"]]
        procs.append(subprocess.Popen([MSBENCH, *args], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
    for i in range(n):
        doc = json.loads((results / uid / f"shard-{i}.json").read_text())
        assert doc["run"]["id"] == uid
        assert doc["run"]["shard"] == {"index": i, "count": n, "from": "JOB_COMPLETION_INDEX"}
        assert doc["run"]["start_at"] > 0

    merge = load("merge-job.yaml")
    (m,) = merge["spec"]["template"]["spec"]["containers"]
    assert m["command"] == ["sh", "-c"]
    script = m["args"][0].replace("msbench ", f"{MSBENCH} ").replace("/results/", f"{results}/")
    r = subprocess.run(["sh", "-c", script], env={**base, "MSBENCH_RUN_ID": uid},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    merged = json.loads((results / uid / "merged.json").read_text())
    assert merged["run"]["missing_shards"] == [] and merged["run"]["shard_count"] == n
    (total,) = merged["runs"]
    assert total["config"]["connections"] == 30 and total["accounting"]["started"] == 30
    check_accounting(total)
