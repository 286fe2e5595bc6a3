"""What a job started by a local launcher gets: exactly its GPUs, held while it runs.

The solver answers "this local launcher can run it" with an assignment of the requested GPUs to
the host's GPUs. A job started here must then see those GPUs and no other
(``CUDA_VISIBLE_DEVICES``), and two jobs started at once must not get the same one. So each GPU
is a lock file, held with ``flock`` as tokens are (:mod:`reqsolve.tokens`): the kernel drops
the lock when the process ends, however it ends. When a GPU of the solver's assignment is held
by another job, any other assignment of free GPUs satisfying the request will do (the same
matching, :func:`reqsolve.matching.assign_gpus`); when there is none, the job waits (or, with
``wait=False``, :class:`ResourcesBusy` is raised). Tokens and GPUs are taken all together or
not at all, so two waiting jobs cannot block each other. A job that asked no GPU gets
``CUDA_VISIBLE_DEVICES=`` (empty): a CPU job must not grab a GPU (docs/local-gpus.md).

GPUs are named by UUID when ``nvidia-smi`` reported them, else by index (then
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` makes CUDA number them as nvidia-smi and launcher files do).
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reqsolve.candidates import GpuKind
from reqsolve.config.model import LocalLauncherConfig
from reqsolve.errors import ReqsolveError
from reqsolve.gpu_models import model_matches
from reqsolve.hostinfo import DetectedGpu, machine_gpus
from reqsolve.matching import assign_gpus, check
from reqsolve.requirement import Alternative
from reqsolve.tokens import check_wanted, default_tokens_dir, take_counters

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.launchers import Launcher
    from reqsolve.ranking import Answer

VISIBLE = "CUDA_VISIBLE_DEVICES"
ORDER = "CUDA_DEVICE_ORDER"
GPU_LOCKS = "gpus"  # folder of the GPU lock files, inside the tokens directory
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class ResourcesBusy(ReqsolveError):
    """A local job could not start at once: its tokens or its GPUs are held by other jobs."""


class GpusUnavailable(ReqsolveError):
    """The GPUs of this machine cannot serve what a ``launchers.py`` answer asked."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nhint: {hint}")


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU a local job may get: its number in the solver's order, how CUDA names it.

    ``uuid`` is None when nothing reported it: the GPU is then named by ``index``.
    """

    position: int
    index: int
    uuid: str | None
    model: str | None
    memory: int | None

    @property
    def visible(self) -> str:
        """Its name in ``CUDA_VISIBLE_DEVICES``: the UUID when known, else the index."""
        return self.uuid if self.uuid is not None else str(self.index)

    @property
    def lock_name(self) -> str:
        name = f"uuid-{self.uuid}" if self.uuid is not None else f"index-{self.index}"
        return _SAFE.sub("_", name) + ".lock"

    def describe(self) -> str:
        return f"{self.visible} ({self.model or 'unknown model'})"


def launcher_devices(
    config: LocalLauncherConfig | None, detected: Sequence[DetectedGpu]
) -> tuple[tuple[Device, ...], str | None]:
    """The GPUs a local launcher's jobs may get, numbered as the solver numbers them, and a
    warning when the launcher file and ``nvidia-smi`` disagree.

    ``config`` None (a ``LocalLauncher`` returned by ``launchers.py``, which describes no GPU):
    the detected GPUs. A launcher file's ``gpus:`` list, counts expanded, is the machine's GPUs
    in nvidia-smi order; they get their UUIDs when nvidia-smi reports as many GPUs, each of the
    model the file says. Otherwise they are named by index, and the warning says why.
    """
    if config is None:
        return (
            tuple(
                Device(i, gpu.index, gpu.uuid, gpu.name, gpu.memory)
                for i, gpu in enumerate(detected)
            ),
            None,
        )
    declared = [(gpu.model, gpu.memory) for gpu in config.gpus for _ in range(gpu.count)]
    agree = len(detected) == len(declared) and all(
        model is None or (gpu.name is not None and model_matches(model, gpu.name))
        for (model, _), gpu in zip(declared, detected, strict=True)
    )
    warning = None
    if declared and detected and not agree:
        found = ", ".join(gpu.name or "unknown" for gpu in detected)
        warning = (
            f"launcher {config.id!r} describes {len(declared)} GPU(s) but nvidia-smi reports"
            f" {len(detected)} ({found}): its GPUs are named by index, in file order"
        )
    return (
        tuple(
            Device(
                i,
                detected[i].index if agree else i,
                detected[i].uuid if agree else None,
                model,
                memory,
            )
            for i, (model, memory) in enumerate(declared)
        ),
        warning,
    )


def assign(
    devices: Sequence[Device], alternative: Alternative, free: Sequence[int] | None = None
) -> tuple[int, ...] | None:
    """Device positions for the requested GPUs (in the alternative's order), all different,
    among ``free`` (all by default), by the solver's matching; None when there is none."""

    chosen = [devices[i] for i in (range(len(devices)) if free is None else free)]
    groups: dict[tuple[str | None, int | None], list[int]] = {}
    for device in chosen:
        groups.setdefault((device.model, device.memory), []).append(device.position)
    kinds = tuple(GpuKind(len(ps), memory, 0, model) for (model, memory), ps in groups.items())
    numbered = [position for positions in groups.values() for position in positions]
    found = assign_gpus(kinds, alternative.gpus)
    if not isinstance(found, tuple):
        return None
    return tuple(numbered[i] for i in found)


def environment(gpus: Sequence[Device]) -> dict[str, str]:
    """What the job's environment gets: its GPUs (none: empty), and CUDA's numbering when
    they are named by index."""
    env = {VISIBLE: ",".join(device.visible for device in gpus)}
    if any(device.uuid is None for device in gpus):
        env[ORDER] = "PCI_BUS_ID"
    return env


def _lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def take_gpus(
    folder: Path, devices: Sequence[Device], alternative: Alternative, first: Sequence[int]
) -> tuple[tuple[int, ...], list[int]] | None:
    """Lock the GPUs of ``first`` (device positions), or of another assignment among the free
    ones; (the positions taken, their locked descriptors), or None with nothing held."""
    folder.mkdir(parents=True, exist_ok=True)
    held: dict[int, int] = {}
    for position in first:
        fd = _lock(folder / devices[position].lock_name)
        if fd is None:
            break
        held[position] = fd
    else:
        return tuple(first), list(held.values())
    for device in devices:  # the first choice is busy: which GPUs are free now?
        if device.position not in held:
            fd = _lock(folder / device.lock_name)
            if fd is not None:
                held[device.position] = fd
    chosen = assign(devices, alternative, sorted(held))
    keep = set(chosen or ())
    for position, fd in list(held.items()):
        if position not in keep:
            os.close(fd)
            del held[position]
    if chosen is None:
        return None
    return chosen, [held[position] for position in chosen]


@dataclass(frozen=True, slots=True)
class GpuPlan:
    """The GPUs a job asks (``alternative``) among ``devices``, and the solver's choice."""

    devices: tuple[Device, ...]
    alternative: Alternative
    first: tuple[int, ...]

    def chosen(self) -> tuple[Device, ...]:
        return tuple(self.devices[i] for i in self.first)


def gpu_plan(match: Answer, launcher: Launcher) -> tuple[GpuPlan | None, str | None]:
    """The GPUs a local answer's job gets (None when it asked none), and a warning to print.

    A launcher file's GPUs (or the embedded launcher's, detected) are those the solver
    assigned; a ``LocalLauncher`` from ``launchers.py`` describes none, so its job's GPUs are
    assigned here, among the GPUs ``nvidia-smi`` reports (none reported: None, with a warning
    that the job's GPUs are left as they are). :class:`GpusUnavailable` when the GPUs reported
    cannot serve the request.
    """

    alternative = match.alternative
    if not alternative.gpus:
        return None, None
    config = match.config
    here = getattr(launcher, "connector", "local") == "local"
    detected = machine_gpus() if here else ()
    if not match.candidates or not isinstance(config, LocalLauncherConfig):
        devices, _ = launcher_devices(None, detected)
        if not devices:
            return None, (
                f"{len(alternative.gpus)} GPU(s) asked, but nvidia-smi reports no GPU here:"
                f" {VISIBLE} is left as it is"
            )
        first = assign(devices, alternative)
        if first is None:
            found = ", ".join(d.describe() for d in devices)
            raise GpusUnavailable(
                f"launchers.py chose local launcher {config.id!r} for {alternative}, but the"
                f" GPUs of this machine ({found}) cannot serve it",
                "change launchers.py, or ask for GPUs this machine has",
            )
        return GpuPlan(devices, alternative, first), None
    devices, warning = launcher_devices(config, detected)
    verdict = check(match.candidates[0].shape, alternative)
    return GpuPlan(devices, alternative, verdict.assignment), warning


@dataclass(frozen=True, slots=True)
class Held:
    """What a job holds while it runs: its GPUs, and the locked descriptors (tokens and GPUs)
    to hand down to the job, so that they stay held while the job lives even if the process
    that started it is killed."""

    gpus: tuple[Device, ...]
    fds: tuple[int, ...]


@contextmanager
def hold_job(
    wanted: Mapping[str, int],
    capacities: Mapping[str, int],
    plan: GpuPlan | None,
    *,
    directory: Path | None = None,
    wait: bool = True,
    poll: float = 0.5,
    on_wait: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Held]:
    """Hold a local job's tokens and GPUs while the block runs; yields what it got.

    Everything is taken at once or nothing is (then retried every ``poll`` seconds, telling
    ``on_wait`` once what is busy); with ``wait=False`` a busy resource raises
    :class:`ResourcesBusy` instead.
    """
    check_wanted(wanted, capacities)
    folder = directory if directory is not None else default_tokens_dir()
    folder.mkdir(parents=True, exist_ok=True)
    told = False
    while True:
        busy: str | None = None
        gpus: tuple[Device, ...] = ()
        held: list[int] = []
        got = take_counters(folder, wanted, capacities)
        if isinstance(got, str):
            busy = f"a free '{got}' token"
        else:
            held = got
            if plan is not None and plan.first:
                taken = take_gpus(folder / GPU_LOCKS, plan.devices, plan.alternative, plan.first)
                if taken is None:
                    busy = f"{len(plan.first)} free GPU(s) for {plan.alternative}"
                else:
                    gpus = tuple(plan.devices[i] for i in taken[0])
                    held.extend(taken[1])
        if busy is None:
            break
        for fd in held:
            os.close(fd)
        if not wait:
            raise ResourcesBusy(
                f"not started: other jobs hold what it needs (it would wait for {busy});"
                " without --no-wait it waits"
            )
        if on_wait is not None and not told:
            on_wait(busy)
            told = True
        sleep(poll)
    try:
        yield Held(gpus, tuple(held))
    finally:
        for fd in held:
            os.close(fd)
