"""Commands tests run: stand-in executables, and reqsolve itself as a real process.

The connector, discovery, submit and ``slurm`` command tests replace Slurm's (or ssh's)
binaries with small ``sh`` scripts; the CLI tests run ``python -m reqsolve`` once each, as a
user would; the import tests run ``python -c`` in a fresh interpreter to see what it loads. One
writer and these runners keep shebang, permissions, working directory and timeout the same
everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT


def write_commands(folder: Path, **bodies: str) -> Path:
    """``folder/<name>`` for each ``name=body``: ``#!/bin/sh``, the body, a final newline."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        path = folder / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
    return folder


def reqsolve_process(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m reqsolve ARGS`` from the repository root (importable without installing)."""
    return subprocess.run(
        [sys.executable, "-m", "reqsolve", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=False,
        timeout=60,
    )


def python_process(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` in a fresh interpreter, from the repository root with this checkout
    importable; ``env`` replaces the environment (``PYTHONPATH`` is set either way)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=False,
        timeout=timeout,
    )


def polling_bin(tmp_path: Path, states: list[str], final: str) -> Path:
    """squeue prints the next state of ``states`` per call, then nothing; sacct prints final."""
    counter = tmp_path / "count"
    counter.write_text("0")
    cases = "".join(f"  {i}) echo {s};;\n" for i, s in enumerate(states))
    squeue = (
        f'n=$(cat {counter}); echo $((n+1)) > {counter}\ncase "$n" in\n{cases}  *) exit 0;;\nesac'
    )
    return write_commands(
        tmp_path / "bin", squeue=squeue, sacct=f"echo '{final}'", scontrol="exit 1"
    )


def with_srun(path: str, folder: Path) -> str:
    """``path`` (a ``$PATH``) ending with a stand-in ``srun`` in ``folder``, which fails if run.

    submitit makes its Slurm executor only where ``srun`` is on ``PATH`` (a login node); the
    tests that make one (the parameters it gets, docs/submitit.md's example) must not depend on
    whether the Slurm lab has installed Slurm's clients earlier in the run. A real ``srun``
    comes first on the returned path and wins.
    """
    write_commands(folder, srun='echo "srun: a stand-in of the tests (tests/commands.py)" >&2\n'
                   "exit 1")
    return os.pathsep.join([part for part in (path, str(folder)) if part])
