"""A fake ``nvidia-smi`` for machines without a GPU: prints a captured output (fixtures).

Tests put it first on ``PATH`` of a real ``reqsolve`` subprocess, so the code under test runs
exactly as on a GPU machine: it finds ``nvidia-smi`` with ``shutil.which`` and runs it.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from reqsolve.hostinfo import NVIDIA_SMI_QUERY
from tests.paths import ROOT

OUTPUTS = ROOT / "fixtures" / "nvidia-smi"
H200 = OUTPUTS / "h200-x1.csv"
A100_X4 = OUTPUTS / "a100-sxm4-80gb-x4.csv"
MIXED_X8 = OUTPUTS / "v100-sxm2-32gb-x4-rtx4090-x4.csv"
DUPLICATED_UUID = OUTPUTS / "duplicated-uuid-x2.csv"
INF_MEMORY = OUTPUTS / "inf-memory-x1.csv"

# nvidia-smi installed but broken (the body of its script): it must never be taken for "no GPU"
BROKEN = {
    "fails": 'echo "Failed to initialize NVML: Driver/library version mismatch"; exit 9',
    "hangs": "exec sleep 30",
    "crashes": "kill -SEGV $$",
}


def install_broken(folder: Path, body: str) -> None:
    """Replace the ``nvidia-smi`` of ``folder/bin`` (made by :func:`install`) by a broken one."""
    script = folder / "bin" / "nvidia-smi"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)


def install(folder: Path, output: Path) -> Path:
    """Write ``folder/bin/nvidia-smi`` printing ``output`` for reqsolve's query; its folder.

    Any other arguments fail (exit 2), as a changed query must be noticed.
    """
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "nvidia-smi"
    query = " ".join(NVIDIA_SMI_QUERY)
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = {shlex.quote(query)} ]; then exec cat {shlex.quote(str(output))}; fi\n'
        'echo "fake nvidia-smi: unexpected arguments: $*" >&2\n'
        "exit 2\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir


def machine_env(folder: Path, output: Path | None) -> dict[str, str]:
    """The environment of a ``reqsolve`` process on a machine with ``output``'s GPUs (None: no
    nvidia-smi), no launcher file anywhere (so the embedded launcher describes the machine),
    and its own tokens directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REQSOLVE_", "CUDA_"))}
    path = env.get("PATH", "")
    if output is not None:
        path = f"{install(folder, output)}{os.pathsep}{path}"
    else:  # hide a real nvidia-smi, if any: only the folder of the Python running the tests
        path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    config_home = folder / "config-home"
    config_home.mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=path,
        XDG_CONFIG_HOME=str(config_home),
        REQSOLVE_TOKENS_DIR=str(folder / "tokens"),
        PYTHONPATH=str(ROOT),
    )
    return env
