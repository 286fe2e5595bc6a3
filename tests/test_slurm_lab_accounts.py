"""Against the real Slurm lab: the (partition, QoS, account) combinations discovery keeps for a
user are exactly those Slurm accepts from that user (docs/semantics.md §3). The lab's two users
differ: root holds accounts lab and iea@a100 and every QoS; nobody holds lab only, without
qos_gpu-dev (tests/slurm/lab/cluster/accounting.txt)."""

from __future__ import annotations

import os
import shutil

import pytest

from reqsolve.candidates import compile_slurm
from reqsolve.config.model import LauncherFile, SlurmLauncherConfig
from reqsolve.connectors import LocalConnector
from reqsolve.slurm import query
from tests.paths import LAB_FILE
from tests.slurm_lab import VERDICTS, SlurmLab

pytestmark = pytest.mark.slurm


def submit_as(lab: SlurmLab, user: str, *options: str) -> tuple[bool, str]:
    """``sbatch --test-only`` run as ``user`` (runuser: the lab runs as root)."""
    done = lab.run("runuser", "-u", user, "--", "env", f"SLURM_CONF={lab.env['SLURM_CONF']}",
                   "sbatch", "--test-only", *options, "--wrap", "true")
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def argv(partition: str, qos: str | None, account: str | None) -> list[str]:
    found = [f"--partition={partition}", "--time=00:10:00"]
    found += [f"--qos={qos}"] if qos is not None else []
    return found + ([f"--account={account}"] if account is not None else [])


@pytest.mark.parametrize("user", ["root", "nobody"])
def test_kept_combinations_are_accepted_and_ruled_out_ones_refused(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch, user: str
) -> None:
    if os.getuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to submit as each lab user")
    monkeypatch.setattr(query, "user_of", lambda *_: user)
    query.clear_cache()
    runner = LocalConnector(env={"SLURM_CONF": slurm_lab.env["SLURM_CONF"]})
    merged = query.discover(SlurmLauncherConfig(id="lab", query_slurm=True),
                            LauncherFile(path=str(LAB_FILE)), runner=runner, ttl=0,
                            disk_cache=False)
    query.clear_cache()
    compiled = compile_slurm(merged, 0)
    kept = list(dict.fromkeys((c.partition, c.qos, c.account) for c in compiled.candidates))
    assert kept
    for partition, qos, account in kept:
        assert partition is not None
        ok, message = submit_as(slurm_lab, user, *argv(partition, qos, account))
        VERDICTS.append((f"{user}: {argv(partition, qos, account)}", ok))
        assert ok, f"{user} {partition} {qos} {account}: {message}"
    for partition, qos, account, why in compiled.ruled_out:
        ok, message = submit_as(slurm_lab, user, *argv(partition, qos, account))
        assert not ok, f"Slurm accepted what reqsolve ruled out ({why}): {message}"
    a100 = {x[3] for x in compiled.ruled_out if x[0] == "a100"}
    if user == "nobody":
        assert a100 == {"account iea@a100 is not yours (user nobody has no association with it)"}
        assert "a100" not in {c.partition for c in compiled.candidates}
    else:
        assert compiled.ruled_out == ()
        assert ("a100", "qos_gpu-dev", "iea@a100") in kept
