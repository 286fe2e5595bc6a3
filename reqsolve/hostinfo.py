"""This machine as a local launcher, used when no launcher file exists (docs/semantics.md §5.7).

Cores from ``os.cpu_count``, memory from ``/proc/meminfo``, NVIDIA GPUs from ``nvidia-smi`` when
it is installed. Anything that cannot be read stays unknown rather than failing: the embedded
launcher is still checked like any other, and an unknown capacity does not constrain.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from reqsolve.config.model import (
    EMBEDDED_PATH,
    CpuConfig,
    LauncherConfig,
    LauncherFile,
    LocalGpu,
    LocalLauncherConfig,
)
from reqsolve.gpu_models import model_matches
from reqsolve.quantities import human_memory

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


MAX_GPU_MEMORY = 2**50  # 1 PiB: more on one GPU is a garbled output, read as unknown


def _memory(field: str) -> int | None:
    """``143771 MiB`` -> bytes; None for ``[N/A]``, a negative, non-finite (``inf``, ``nan``)
    or absurd (over 1 PiB) number: unknown, never an OverflowError."""
    number, _, unit = field.partition(" ")
    try:
        value = float(number) * _UNITS.get(unit.strip(), 2**20)
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_GPU_MEMORY:
        return None
    return int(value)


def parse_nvidia_smi_devices(text: str) -> tuple[DetectedGpu, ...]:
    """``index, uuid, name, memory.total`` CSV lines -> GPUs; also reads ``name, memory.total``.

    ``0, GPU-3f1c..., NVIDIA H200, 143771 MiB`` -> index 0, that UUID, ``NVIDIA H200``, 143771
    MiB; a memory of ``[N/A]`` (or ``inf``, or absurd) is None. A line that is not one of these
    forms (a warning) is skipped, and so is a two-column line without a memory.
    """
    gpus: list[DetectedGpu] = []
    for line in text.splitlines():
        fields = [part.strip() for part in line.split(",")]
        if len(fields) < 2:
            continue
        memory = _memory(fields[-1])
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


def output_problem(gpus: Sequence[DetectedGpu]) -> str | None:
    """Why GPUs read from nvidia-smi cannot be told apart (a UUID or an index twice), or None.

    Two GPUs with one UUID would be one lock for two GPUs, or a job waiting for itself."""
    for what, values in (("UUID", [g.uuid for g in gpus]), ("index", [g.index for g in gpus])):
        seen: set[object] = set()
        for value in values:
            if value is not None and value in seen:
                return f"it reports the {what} {value} twice"
            seen.add(value)
    return None


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


@dataclass(frozen=True, slots=True)
class GpuProbe:
    """What asking ``nvidia-smi`` gave: the GPUs, or why it could not be read.

    ``installed`` False: there is no nvidia-smi (no NVIDIA driver, or ``REQSOLVE_NVIDIA_SMI``
    empty). ``failure``: it is installed but failed, hung, or reported GPUs that cannot be told
    apart; its GPUs are then unknown (``gpus`` empty), which a job asking GPUs refuses.
    """

    gpus: tuple[DetectedGpu, ...]
    installed: bool = True
    failure: str | None = None


def probe_gpus() -> GpuProbe:
    """Ask ``nvidia-smi`` now: run without a shell, with a timeout (``submit`` asks just before
    it starts a job, :func:`this_machine` once per process)."""
    binary = nvidia_smi()
    if binary is None:
        return GpuProbe((), installed=False)
    where = f"{binary} {' '.join(NVIDIA_SMI_QUERY)}"
    try:
        result = subprocess.run(
            [binary, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=NVIDIA_SMI_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return GpuProbe((), failure=f"{where} did not answer within {NVIDIA_SMI_TIMEOUT:g} s")
    except (OSError, subprocess.SubprocessError) as exc:
        return GpuProbe((), failure=f"{where} could not run: {exc}")
    if result.returncode != 0:
        said = next((x.strip() for x in (result.stderr + result.stdout).splitlines() if x), "")
        return GpuProbe(
            (), failure=f"{where} exited with {result.returncode}" + (f": {said}" if said else "")
        )
    gpus = parse_nvidia_smi_devices(result.stdout)
    problem = output_problem(gpus)
    if problem is not None:
        return GpuProbe((), failure=f"{where}: {problem}")
    return GpuProbe(gpus)


def detect_gpus() -> tuple[DetectedGpu, ...]:
    """The NVIDIA GPUs ``nvidia-smi`` reports now; none when it is absent, fails or hangs."""
    return probe_gpus().gpus


@cache
def machine_probe() -> GpuProbe:
    """This machine's GPUs, asked once per process."""
    return probe_gpus()


def machine_gpus() -> tuple[DetectedGpu, ...]:
    """This machine's GPUs, detected once per process: what the embedded launcher describes."""
    return machine_probe().gpus


def nvidia_gpus(gpus: Sequence[DetectedGpu] | None = None) -> tuple[LocalGpu, ...]:
    """GPUs (default: :func:`machine_gpus`) as launcher GPUs, neighbours of one kind grouped.

    Grouping keeps nvidia-smi's order (the solver numbers GPUs kind after kind, so its GPU
    number i is nvidia-smi's i) and lets the matcher treat 8 identical GPUs as one kind.
    """
    grouped: list[LocalGpu] = []
    for gpu in machine_gpus() if gpus is None else gpus:
        if grouped and (grouped[-1].model, grouped[-1].memory) == (gpu.name, gpu.memory):
            last = grouped[-1]
            grouped[-1] = LocalGpu(model=last.model, count=last.count + 1, memory=last.memory)
        else:
            grouped.append(LocalGpu(model=gpu.name, count=1, memory=gpu.memory))
    return tuple(grouped)


MEMORY_TOLERANCE = 0.1  # a file's 80GiB is nvidia-smi's 81920 MiB; 24GB its 24564 MiB


def _same_memory(written: int | None, reported: int | None) -> bool:
    if written is None or reported is None:
        return True
    return abs(written - reported) <= MEMORY_TOLERANCE * max(written, reported)


def _summary(gpus: Sequence[tuple[str | None, int | None]]) -> str:
    """``2 x NVIDIA A100 (80GiB), 1 x Tesla T4 (15GiB)``: neighbours of one kind counted."""
    runs: list[list[object]] = []
    for model, memory in gpus:
        if runs and runs[-1][1:] == [model, memory]:
            runs[-1][0] = int(str(runs[-1][0])) + 1
        else:
            runs.append([1, model, memory])
    return ", ".join(
        f"{count} x {model or 'GPU of unknown model'}"
        + (f" ({human_memory(memory)})" if isinstance(memory, int) else "")
        for count, model, memory in runs
    ) or "no GPU"


def contradiction(config: LocalLauncherConfig, detected: Sequence[DetectedGpu]) -> str | None:
    """How the GPUs a launcher file describes contradict what nvidia-smi reports (count, a
    model by the rule of docs/gpu-models.md, or a memory more than 10 % apart), both named;
    None when they agree (a model or memory the file leaves out agrees with anything)."""
    declared = [(gpu.model, gpu.memory) for gpu in config.gpus for _ in range(gpu.count)]
    agree = len(declared) == len(detected) and all(
        (model is None or (gpu.name is not None and model_matches(model, gpu.name)))
        and _same_memory(memory, gpu.memory)
        for (model, memory), gpu in zip(declared, detected, strict=True)
    )
    if agree:
        return None
    found = _summary([(gpu.name, gpu.memory) for gpu in detected])
    return f"the file says {_summary(declared)}, nvidia-smi says {found}"


def describes_this_machine(config: LauncherConfig) -> bool:
    """A local launcher run through the local connector, describing GPUs: its GPUs are this
    machine's, which nvidia-smi can check."""
    return (
        isinstance(config, LocalLauncherConfig)
        and config.connector == "local"
        and bool(config.gpus)
        and not config.disabled
    )


def hardware_note(config: LocalLauncherConfig, disagreement: str) -> str:
    """The warning of a launcher whose GPUs nvidia-smi contradicts: both named."""
    return (
        f"launcher {config.id!r}: {disagreement}: matching and the job's GPUs follow"
        " nvidia-smi (correct the file's gpus:)"
    )


def completed(config: LocalLauncherConfig, detected: Sequence[DetectedGpu]) -> tuple[LocalGpu, ...]:
    """The file's GPUs, one per GPU, with what the file leaves out (a model, a memory) taken
    from nvidia-smi, which agrees with the file (:func:`contradiction` is None)."""
    declared = [gpu for gpu in config.gpus for _ in range(gpu.count)]
    return tuple(
        LocalGpu(
            model=gpu.model if gpu.model is not None else found.name,
            memory=gpu.memory if gpu.memory is not None else found.memory,
        )
        for gpu, found in zip(declared, detected, strict=True)
    )


def _grouped(gpus: Sequence[LocalGpu]) -> tuple[LocalGpu, ...]:
    grouped: list[LocalGpu] = []
    for gpu in gpus:
        if grouped and (grouped[-1].model, grouped[-1].memory) == (gpu.model, gpu.memory):
            grouped[-1] = replace(grouped[-1], count=grouped[-1].count + gpu.count)
        else:
            grouped.append(gpu)
    return tuple(grouped)


def matched_as(config: LocalLauncherConfig) -> tuple[LocalLauncherConfig, str | None]:
    """The launcher as matching sees it on this machine, and a warning: when nvidia-smi
    (asked once per process) reports GPUs that contradict the file's, the hardware wins (its
    GPUs, in its order); when they agree, what the file leaves out is nvidia-smi's; otherwise
    (no nvidia-smi, or it failed: ``submit`` then warns, or refuses) the file as written."""
    probe = machine_probe()
    if probe.failure is not None:
        return config, (
            f"launcher {config.id!r}: {probe.failure}: its GPUs cannot be checked; a job"
            " asking GPUs is refused"
        )
    if not probe.installed:
        return config, None
    disagreement = contradiction(config, probe.gpus)
    if disagreement is not None:
        return replace(config, gpus=nvidia_gpus(probe.gpus)), hardware_note(config, disagreement)
    gpus = _grouped(completed(config, probe.gpus))
    return (config, None) if gpus == config.gpus else (replace(config, gpus=gpus), None)


@cache
def this_machine() -> LocalLauncherConfig:
    return LocalLauncherConfig(
        id=EMBEDDED_ID,
        cpu=CpuConfig(cores=os.cpu_count(), memory=total_memory()),
        gpus=nvidia_gpus(),
    )


def embedded_launcher_file() -> LauncherFile:
    """A launcher file holding only this machine (path ``<embedded>``)."""
    return LauncherFile(path=EMBEDDED_PATH, launchers=(this_machine(),))
