"""A real workflow on the Slurm lab: ``snakemake --executor slurm`` submits a CPU rule, a GPU
rule and a rule with alternatives (fixtures/snakemake/lab/Snakefile), and every job runs with
the partition and options of reqsolve's answer, as Slurm itself reports them from inside the
job (``scontrol show job``). The rule with alternatives fails on its first attempt on purpose:
its retry must run with the second alternative's options.

The plugin runs each rule through ``srun`` inside the job after removing ``SLURM_CONF`` from its
environment, so srun reads Slurm's default ``/etc/slurm/slurm.conf``: the test links the lab's
configuration there for the run (as root; a lab's link is replaced and put back, a real
configuration is never touched: the test is skipped then).
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("snakemake")
pytest.importorskip("snakemake_executor_plugin_slurm")

from reqsolve.choosing import Answer
from reqsolve.integrations.snakemake import answers, mem_mib
from tests.paths import FIXTURES, LAB_FILE, ROOT
from tests.slurm_lab import SlurmLab

pytestmark = pytest.mark.slurm

SNAKEFILE = FIXTURES / "snakemake" / "lab" / "Snakefile"
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
LAB_CLUSTER = "ClusterName=reqsolve-test"  # every lab's slurm.conf says so (start.sh)
LOCK = Path("/tmp/reqsolve-etc-slurm.lock")
# the rules' requirements, as fixtures/snakemake/lab/Snakefile states them (checked below)
NEEDS = {
    "cpu": "duration=10m & cpu(cores=2, mem=1G)",
    "gpu": "duration=10m & cuda(mem=24G) & cpu(cores=2)",
    "retried": "duration=10m & cuda(mem=70G) & cpu(cores=2, mem=4G)"
               " | duration=20m & cpu(cores=3, mem=2G)",
}
DEFAULT_ACCOUNT = "lab"  # root's default account in the lab (tests/slurm/lab/cluster)


@contextmanager
def lab_conf_where_srun_looks(lab: SlurmLab) -> Iterator[None]:
    """``/etc/slurm/slurm.conf`` is the lab's for the duration (one run at a time, by lock)."""
    if os.geteuid() != 0:
        pytest.skip("linking the lab's slurm.conf at /etc/slurm needs root")
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous: str | None = None
        if DEFAULT_CONF.is_symlink():
            previous = os.readlink(DEFAULT_CONF)
        elif DEFAULT_CONF.exists():
            pytest.skip(f"{DEFAULT_CONF} is a real Slurm configuration: not replaced")
        if previous is not None and LAB_CLUSTER not in _text(DEFAULT_CONF):
            pytest.skip(f"{DEFAULT_CONF} links to {previous}, not a lab's: not replaced")
        DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_CONF.unlink(missing_ok=True)
        DEFAULT_CONF.symlink_to(lab.conf)
        try:
            yield
        finally:
            DEFAULT_CONF.unlink(missing_ok=True)
            if previous is not None:
                DEFAULT_CONF.symlink_to(previous)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # a dangling link: a lab that is gone
        return LAB_CLUSTER


def job_fields(text: str) -> dict[str, str]:
    """``scontrol show job``'s ``Key=Value`` words."""
    return dict(re.findall(r"(\S+?)=(\S*)", text))


def expected_fields(match: Answer) -> dict[str, str]:
    """What Slurm reports for a job submitted with the answer's options."""
    options = match.options
    assert options is not None
    seconds = options.time_seconds
    assert seconds is not None
    minutes = -(-seconds // 60)
    fields = {
        "Account": options.account or DEFAULT_ACCOUNT,
        "TimeLimit": f"{minutes // 60:02d}:{minutes % 60:02d}:00",
        "CPUs/Task": str(options.cpus_per_task or 1),
        "Features": options.constraint or "(null)",
        "NumNodes": str(options.nodes or 1),
    }
    if options.qos is not None:
        fields["QOS"] = options.qos
    if options.mem is not None:
        fields["MinMemoryNode"] = f"{mem_mib(options.mem)}M"
    if options.gpus_per_node is not None:
        fields["TresPerNode"] = f"gres:gpu:{options.gpus_per_node}"
    return fields


def check_job(path: Path, match: Answer) -> None:
    assert match.options is not None and match.options.partition is not None
    got = job_fields(path.read_text())
    assert got["Partition"] in match.options.partition.split(","), (path.name, got)
    expected = expected_fields(match)
    assert {key: got.get(key) for key in expected} == expected, path.name
    if match.options.gpus_per_node is None:
        assert "TresPerNode" not in got, path.name


def test_workflow_jobs_run_with_reqsolve_options(slurm_lab: SlurmLab, tmp_path: Path) -> None:
    snakefile = SNAKEFILE.read_text(encoding="utf-8")
    assert all(f'"{name}": "{need}"' in snakefile for name, need in NEEDS.items())
    env = dict(slurm_lab.env)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(ROOT),
        REQSOLVE_CONFIG=str(LAB_FILE),
        HOME=str(tmp_path / "home"),
    )
    argv = [str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(SNAKEFILE),
            "--executor", "slurm", "--jobs", "3", "--retries", "1",
            "--slurm-init-seconds-before-status-checks", "1"]
    with lab_conf_where_srun_looks(slurm_lab):
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    chains = {name: answers(need, config=str(LAB_FILE), offline=True)
              for name, need in NEEDS.items()}
    assert [len(chain) for chain in chains.values()] == [1, 1, 2]
    check_job(tmp_path / "cpu.job", chains["cpu"][0])
    check_job(tmp_path / "gpu.job", chains["gpu"][0])
    # attempt 1 of the rule with alternatives: its first alternative (a100, account and QoS)
    check_job(tmp_path / "attempt-1.job", chains["retried"][0])
    # its retry: the second alternative's options, every one of them
    check_job(tmp_path / "retried.job", chains["retried"][1])
