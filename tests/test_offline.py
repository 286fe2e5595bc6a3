"""``--offline`` runs no command: not Slurm's, not ssh, not nvidia-smi (docs/cli.md).

A behaviour, not a list of modules: stand-ins of every command reqsolve may run are first on
``PATH`` (and ``REQSOLVE_NVIDIA_SMI``), each leaving a mark when run. Offline, none may be run;
the same ``find`` without ``--offline`` runs one, so the check is not blind.

(This file replaces the lists of modules a cold ``find`` must never import, retired by issue 23
§4: what an import costs, ``benchmarks/compare.py`` measures as the wall time of whole
``reqsolve find`` processes; what the user must be able to rely on is that nothing runs.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import write_commands
from tests.paths import DOCS_EXAMPLE, ROOT

COMMANDS = ("sinfo", "scontrol", "sacctmgr", "squeue", "sbatch", "srun", "ssh", "nvidia-smi")
# a discovery-only launcher (query_slurm: true), whose Slurm commands are the stand-ins: written
# per test as {file}, since its path: names the stand-ins' folder
DISCOVERED = "slurm:\n  - id: auto\n    query_slurm: true\n    path: {folder}\n"


def _run(tmp_path: Path, *args: str) -> list[str]:
    """The commands a fresh ``reqsolve ARGS`` ran, sorted (stand-ins that print nothing);
    ``{file}`` in ARGS is the discovery-only launcher file."""
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    folder = write_commands(
        tmp_path / "bin", **{name: f'touch "{marks}/{name}"' for name in COMMANDS}
    )
    file = tmp_path / "launchers.yaml"
    file.write_text(DISCOVERED.format(folder=folder), encoding="utf-8")
    args = tuple(arg.replace("{file}", str(file)) for arg in args)
    env = {
        **os.environ,
        "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "REQSOLVE_NVIDIA_SMI": str(folder / "nvidia-smi"),
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "reqsolve", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=60,
    )
    return sorted(path.name for path in marks.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["find", "--config", str(DOCS_EXAMPLE), "--offline", "cuda(mem=20G)*2"],
        ["find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json", "cpu()"],
        ["find", "--config", "{file}", "--offline", "cuda(mem=20G)"],
        ["explain", "--config", "{file}", "--offline", "cuda(mem=20G)"],
    ],
    ids=["seed", "json", "discovery-only", "explain"],
)
def test_offline_runs_no_command(tmp_path: Path, args: list[str]) -> None:
    assert _run(tmp_path, *args) == []


def test_offline_without_a_file_asks_only_nvidia_smi(tmp_path: Path) -> None:
    """No launcher file: the description of this machine stands for it and reads its GPUs
    (docs/semantics.md §7), offline or not; nothing else runs."""
    assert _run(tmp_path, "find", "--offline", "cpu()") == ["nvidia-smi"]


def test_the_check_sees_a_command_run(tmp_path: Path) -> None:
    assert "scontrol" in _run(tmp_path, "find", "--config", "{file}", "cuda(mem=20G)")
