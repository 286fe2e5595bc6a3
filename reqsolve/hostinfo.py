"""This machine as a local launcher, used when no launcher file exists (docs/semantics.md §5.7).

Cores from ``os.cpu_count``, memory from ``/proc/meminfo``, NVIDIA GPUs from ``nvidia-smi`` when
it is installed. Anything that cannot be read stays unknown rather than failing: the embedded
launcher is still checked like any other, and an unknown capacity does not constrain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from reqsolve.config.model import CpuConfig, LauncherFile, LocalGpu, LocalLauncherConfig

NVIDIA_SMI_TIMEOUT = 5.0
EMBEDDED_ID = "local"


def total_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Physical memory in bytes (``MemTotal`` is in KiB), or None when unreadable."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def parse_nvidia_smi(text: str) -> tuple[LocalGpu, ...]:
    """``name, memory.total`` CSV lines (``NVIDIA A100-SXM4-40GB, 40960 MiB``) -> GPUs."""
    gpus: list[LocalGpu] = []
    for line in text.splitlines():
        if "," not in line:
            continue
        name, _, memory = line.rpartition(",")
        number, _, unit = memory.strip().partition(" ")
        try:
            value = int(float(number))
        except ValueError:
            continue
        factor = {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}.get(unit.strip(), 2**20)
        gpus.append(LocalGpu(model=name.strip() or None, count=1, memory=value * factor))
    return tuple(gpus)


def nvidia_gpus() -> tuple[LocalGpu, ...]:
    """The NVIDIA GPUs ``nvidia-smi`` reports; none when it is absent, fails or hangs."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return ()
    try:
        result = subprocess.run(
            [binary, "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    if result.returncode != 0:
        return ()
    return parse_nvidia_smi(result.stdout)


@cache
def this_machine() -> LocalLauncherConfig:
    return LocalLauncherConfig(
        id=EMBEDDED_ID,
        cpu=CpuConfig(cores=os.cpu_count(), memory=total_memory()),
        gpus=nvidia_gpus(),
    )


def embedded_launcher_file() -> LauncherFile:
    """A launcher file holding only this machine (path ``<embedded>``)."""
    return LauncherFile(path="<embedded>", launchers=(this_machine(),))
