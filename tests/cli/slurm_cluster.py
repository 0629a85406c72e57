"""A real Slurm on this one machine, from a temp dir: munged with its own key and socket,
slurmctld, and three slurmd (nodes n1-n3 on 127.0.0.1, each on a port of its own). Nothing of
the system's Slurm or munge configuration is read or touched; everything stops at the end."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "srun", "sinfo")
NODES = ("n1", "n2", "n3")


class Unavailable(Exception):
    """Slurm cannot start here; the message says why (the test skips with it)."""


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise Unavailable(f"{what} did not happen within {timeout} s")


class SlurmCluster:
    def __init__(self, root: Path):
        self.root = root
        self.procs = []
        self.env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}

    def log(self, name):
        p = self.root / name
        return p.read_text(errors="replace")[-2000:] if p.exists() else "(no log)"

    def start(self):
        missing = [d for d in DAEMONS if not shutil.which(d) and not Path("/usr/sbin", d).exists()]
        if missing:
            raise Unavailable(f"not installed: {', '.join(missing)} (Debian slurmctld slurmd "
                              "slurm-client munge)")
        if os.geteuid() != 0:
            raise Unavailable("slurmd runs jobs as their user and needs root here")
        r, m = self.root, self.root / "munge"
        m.mkdir(mode=0o700)
        key = m / "munge.key"
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True,
                       capture_output=True)
        self.spawn("munged.out", ["munged", "--force", "--foreground", f"--socket={m}/sock",
                                  f"--key-file={key}", f"--log-file={m}/log",
                                  f"--pid-file={m}/pid", f"--seed-file={m}/seed"])
        wait_for("munged's socket", lambda: (m / "sock").exists(), 10)
        ctld, *node_ports = free_ports(1 + len(NODES))
        for n in NODES:
            (r / "spool" / n).mkdir(parents=True)
        (r / "state").mkdir()
        nodes = "\n".join(f"NodeName={n} NodeAddr=127.0.0.1 Port={p} CPUs=1 State=UNKNOWN"
                          for n, p in zip(NODES, node_ports))
        (r / "slurm.conf").write_text(f"""\
ClusterName=msbtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
AuthType=auth/munge
AuthInfo=socket={m}/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool/%n
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.%n.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/builtin
{nodes}
PartitionName=test Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP
""")
        self.spawn("slurmctld.out", ["slurmctld", "-D", "-i"])
        for n in NODES:
            self.spawn(f"slurmd.{n}.out", ["slurmd", "-D", "-N", n])

        def all_idle():
            for p in self.procs:
                if p.poll() is not None:
                    raise Unavailable(f"{p.args[0]} exited with {p.returncode}: "
                                      f"{self.log(Path(p.args[0]).name + '.out')}")
            out = subprocess.run(["sinfo", "-h", "-o", "%t %D"], env=self.env,
                                 capture_output=True, text=True)
            return out.returncode == 0 and out.stdout.split() == ["idle", str(len(NODES))]
        wait_for("three idle nodes", all_idle, 30)
        return self

    def spawn(self, log, argv):
        with open(self.root / log, "w") as out:
            self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                               env=self.env, cwd=self.root))

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
