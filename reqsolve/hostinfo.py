"""This machine as a local launcher, used when no launcher file exists (docs/semantics.md §5.7).

Cores from ``os.cpu_count``, memory from ``/proc/meminfo``, NVIDIA GPUs from ``nvidia-smi`` when
it is installed. Anything that cannot be read stays unknown rather than failing: the embedded
launcher is still checked like any other, and an unknown capacity does not constrain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
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


NVIDIA_SMI_QUERY = ("--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader")
_UNITS = {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}


@dataclass(frozen=True, slots=True)
class DetectedGpu:
    """One GPU as ``nvidia-smi`` reports it: its index, UUID (``GPU-...``), name and memory.

    ``index`` is nvidia-smi's (PCI bus order); ``uuid`` None when the output had none (the
    two-column form ``name, memory.total``).
    """

    index: int
    uuid: str | None
    name: str | None
    memory: int | None


def parse_nvidia_smi_devices(text: str) -> tuple[DetectedGpu, ...]:
    """``index, uuid, name, memory.total`` CSV lines -> GPUs; also reads ``name, memory.total``.

    ``0, GPU-3f1c..., NVIDIA H200, 143771 MiB`` -> index 0, that UUID, ``NVIDIA H200``, 143771
    MiB; a memory of ``[N/A]`` is None. A line that is not one of these forms (a warning) is
    skipped, and so is a two-column line without a memory.
    """
    gpus: list[DetectedGpu] = []
    for line in text.splitlines():
        fields = [part.strip() for part in line.split(",")]
        if len(fields) < 2:
            continue
        number, _, unit = fields[-1].partition(" ")
        try:
            memory: int | None = int(float(number)) * _UNITS.get(unit.strip(), 2**20)
        except ValueError:
            memory = None
        if len(fields) >= 4 and fields[0].isdigit() and fields[1].startswith(("GPU-", "MIG-")):
            # a GPU with an index and a UUID is kept even when its memory is [N/A]: a job
            # may still be given it, and a request stating a memory never fits it
            index, uuid, name = int(fields[0]), fields[1], ",".join(fields[2:-1]).strip()
        elif memory is not None:
            index, uuid, name = len(gpus), None, ",".join(fields[:-1]).strip()
        else:
            continue
        gpus.append(DetectedGpu(index, uuid, name or None, memory))
    return tuple(gpus)


def parse_nvidia_smi(text: str) -> tuple[LocalGpu, ...]:
    """nvidia-smi's CSV -> one :class:`LocalGpu` per GPU (``NVIDIA A100-SXM4-40GB, 40960 MiB``)."""
    return tuple(
        LocalGpu(model=gpu.name, count=1, memory=gpu.memory)
        for gpu in parse_nvidia_smi_devices(text)
    )


def nvidia_smi() -> str | None:
    """The ``nvidia-smi`` to run: ``$REQSOLVE_NVIDIA_SMI`` when set (empty: none, no GPU is
    detected), else the one on ``PATH``."""
    given = os.environ.get("REQSOLVE_NVIDIA_SMI")
    if given is not None:
        return given or None
    return shutil.which("nvidia-smi")


def detect_gpus() -> tuple[DetectedGpu, ...]:
    """The NVIDIA GPUs ``nvidia-smi`` reports now; none when it is absent, fails or hangs.

    Run without a shell, with a timeout; asked again on each call (``submit`` asks just before
    it starts a job, :func:`this_machine` once per process).
    """
    binary = nvidia_smi()
    if binary is None:
        return ()
    try:
        result = subprocess.run(
            [binary, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    if result.returncode != 0:
        return ()
    return parse_nvidia_smi_devices(result.stdout)


@cache
def machine_gpus() -> tuple[DetectedGpu, ...]:
    """This machine's GPUs, detected once per process: what the embedded launcher describes."""
    return detect_gpus()


def nvidia_gpus() -> tuple[LocalGpu, ...]:
    """The GPUs of :func:`machine_gpus` as launcher GPUs, neighbours of one kind grouped.

    Grouping keeps nvidia-smi's order (the solver numbers GPUs kind after kind, so its GPU
    number i is nvidia-smi's i) and lets the matcher treat 8 identical GPUs as one kind.
    """
    grouped: list[LocalGpu] = []
    for gpu in machine_gpus():
        if grouped and (grouped[-1].model, grouped[-1].memory) == (gpu.name, gpu.memory):
            last = grouped[-1]
            grouped[-1] = LocalGpu(model=last.model, count=last.count + 1, memory=last.memory)
        else:
            grouped.append(LocalGpu(model=gpu.name, count=1, memory=gpu.memory))
    return tuple(grouped)


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
