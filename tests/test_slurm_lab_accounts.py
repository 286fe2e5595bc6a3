"""Against the real Slurm lab: the (partition, QoS, account) combinations discovery keeps for a
user are exactly those Slurm accepts from that user (docs/semantics.md §3). The lab's two users
differ: root holds accounts lab and iea@a100 and every QoS; nobody holds lab only, without
qos_gpu-dev (tests/slurm/lab/cluster/accounting.txt)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest

from reqsolve import finder, registry
from reqsolve.candidates import compile_slurm
from reqsolve.config.model import LauncherFile, SlurmLauncherConfig
from reqsolve.connectors import LocalConnector
from reqsolve.slurm import query
from tests.cli_run import cli
from tests.paths import LAB_FILE, ROOT
from tests.slurm_lab import VERDICTS, SlurmLab
from tests.test_docs_examples import Block, assert_shown, blocks, transcript

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


LAB_USER = re.compile(r"the Slurm lab, as user (\w+);")


def _lab_examples() -> list[tuple[str, Block]]:
    """docs/semantics.md's examples of the accounts rule, each with the lab user it runs as."""
    found = []
    for block in blocks(ROOT / "docs" / "semantics.md"):
        user = LAB_USER.match(block.not_run or "")
        if user is not None:
            found.append((user.group(1), block))
    return found


@pytest.mark.parametrize(("user", "block"), _lab_examples(),
                         ids=[f"{user}:{block.line}" for user, block in _lab_examples()])
def test_documented_examples_hold_in_the_lab(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch, user: str, block: Block
) -> None:
    """The accounts examples of docs/semantics.md §3, run as each lab user (in-process: the
    user's name is what discovery asks sacctmgr about)."""
    monkeypatch.setattr(query, "user_of", lambda *_: user)
    # another user: ask Slurm again, in registries of this test alone (the other tests must
    # not meet this user's discovery)
    monkeypatch.setattr(registry, "DISCOVERY_INTERVAL", 0.0)
    monkeypatch.setattr(finder, "_registries", {})
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    monkeypatch.setenv("REQSOLVE_NO_DISK_CACHE", "1")
    monkeypatch.chdir(ROOT)
    steps = transcript(block.text)
    assert steps, block.text
    for command, shown in steps:
        query.clear_cache()
        words = shlex.split(command)
        assert words[0] == "reqsolve", command
        code, out, err = cli(*words[1:])
        done = subprocess.CompletedProcess(words, code, out, err)
        assert_shown(shown, done)


def test_both_users_have_an_example() -> None:
    assert {user for user, _ in _lab_examples()} == {"root", "nobody"}
