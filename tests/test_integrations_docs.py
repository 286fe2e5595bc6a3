"""The examples of docs/experimaestro.md and docs/submitit.md run, from the repository root,
against the bundled fixtures (the docs-examples convention: a block preceded by
``<!-- not-run: reason -->`` is not run)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import with_srun
from tests.paths import ROOT

pytest.importorskip("experimaestro")
pytest.importorskip("submitit")

PAGES = ("docs/experimaestro.md", "docs/submitit.md")
FENCE = re.compile(r"(<!-- not-run:[^>]*-->\n)?```(python|sh|console)\n(.*?)```", re.DOTALL)


def blocks() -> list[object]:
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for number, match in enumerate(FENCE.finditer(text), start=1):
            if match.group(1):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(match.group(2), match.group(3),
                                      id=f"{page}:{line}:{number}"))
    return found


@pytest.mark.parametrize(("language", "code"), blocks())
def test_docs_example_runs(tmp_path: Path, language: str, code: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "REQSOLVE_"))}
    env["XPM_WORKDIR"] = str(tmp_path / "xpm")  # experimaestro's token files
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    # srun: submitit's Slurm executor is made only where it is on PATH (a stand-in if need be)
    env["PATH"] = with_srun(f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                            tmp_path / "standins")
    if language == "python":
        commands = [[sys.executable, "-c", code]]
    else:
        commands = [shlex.split(line.removeprefix("$ ")) for line in code.splitlines()
                    if line.strip() and not line.startswith("#")]
    for argv in commands:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
