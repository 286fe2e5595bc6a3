"""What a job started by a local launcher gets: exactly its GPUs, held while it runs.

The solver answers "this local launcher can run it" with an assignment of the requested GPUs to
the host's GPUs. A job started here must then see those GPUs and no other
(``CUDA_VISIBLE_DEVICES``), and two jobs started at once must not get the same one. So each GPU
is a lock file, held with ``flock`` as tokens are (:mod:`reqsolve.tokens`): the kernel drops
the lock when the process ends, however it ends. When a GPU of the solver's assignment is held
by another job, any other assignment of free GPUs satisfying the request will do (the same
matching, :func:`reqsolve.gpu_placement.assign_gpus`); when there is none, the job waits (or, with
``wait=False``, :class:`ResourcesBusy` is raised). Tokens and GPUs are taken all together or
not at all, so two waiting jobs cannot block each other. A job that asked no GPU gets
``CUDA_VISIBLE_DEVICES=`` (empty): a CPU job must not grab a GPU (docs/local-gpus.md).

Each GPU's lock is named by the physical GPU, its UUID as ``nvidia-smi`` reports it, whichever
launcher file describes it; when ``nvidia-smi`` is installed but fails, hangs or reports GPUs
that cannot be told apart, a job asking GPUs is refused (:class:`GpuDetectionFailed`) rather
than given a guess. Only where there is no ``nvidia-smi`` at all are a launcher file's GPUs
named by index (with a warning, and ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` so that CUDA numbers them
as nvidia-smi and launcher files do); a GPU known by UUID also holds its index lock, so that
such a job never shares it.
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

from reqsolve.config.model import LocalLauncherConfig
from reqsolve.errors import ReqsolveError
from reqsolve.gpu_placement import assign_gpus
from reqsolve.hostinfo import (
    DetectedGpu,
    GpuProbe,
    completed,
    contradiction,
    hardware_note,
    machine_probe,
)
from reqsolve.matching import check
from reqsolve.places import GpuKind
from reqsolve.requirement import Alternative
from reqsolve.tokens import (
    check_wanted,
    default_tokens_dir,
    make_folder,
    open_lock,
    take_counters,
)

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.choosing import Answer
    from reqsolve.launchers import Launcher

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


class GpuDetectionFailed(GpusUnavailable):
    """``nvidia-smi`` is installed but could not say which GPUs this machine has: a job asking
    GPUs is refused, as it could not be given (and hold) the right ones."""


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU a local job may get: its number in the solver's order, how CUDA names it.

    ``uuid`` is None only where there is no nvidia-smi: the GPU is then named by ``index``.
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
    def lock_names(self) -> tuple[str, ...]:
        """Its lock files: by UUID, and by index (what a job started where nvidia-smi is
        absent takes: the two never share a GPU); by index alone when no UUID is known."""
        names = [f"uuid-{self.uuid}"] if self.uuid is not None else []
        names.append(f"index-{self.index}")
        return tuple(_SAFE.sub("_", name) + ".lock" for name in names)

    def describe(self) -> str:
        return f"{self.visible} ({self.model or 'unknown model'})"


def _detected_devices(detected: Sequence[DetectedGpu]) -> tuple[Device, ...]:
    return tuple(
        Device(i, gpu.index, gpu.uuid, gpu.name, gpu.memory) for i, gpu in enumerate(detected)
    )


def _refuse_unnamed(devices: Sequence[Device], where: str) -> None:
    unnamed = [d for d in devices if d.uuid is None]
    if unnamed:
        raise GpuDetectionFailed(
            f"{where} gave no UUID for GPU {unnamed[0].index}: its lock could not be named by"
            " the physical GPU",
            "check that nvidia-smi --query-gpu=index,uuid,name,memory.total works",
        )


def launcher_devices(
    config: LocalLauncherConfig | None, probe: GpuProbe
) -> tuple[tuple[Device, ...], str | None]:
    """The GPUs a local launcher's jobs may get, numbered as the solver numbers them, and a
    warning to print.

    ``config`` None (a ``LocalLauncher`` returned by ``launchers.py``, which describes no GPU):
    the GPUs nvidia-smi reports. A launcher file's ``gpus:`` list, counts expanded, is the
    machine's GPUs in nvidia-smi order, named by their UUIDs; when nvidia-smi contradicts it
    (count, model, memory) the hardware wins, as it did for matching, and the warning names
    both. With no nvidia-smi at all, the file's GPUs are named by index, with a warning.
    :class:`GpuDetectionFailed` when nvidia-smi is installed but failed.
    """
    if probe.failure is not None:
        raise GpuDetectionFailed(
            f"cannot tell which GPUs this machine has: {probe.failure}",
            "fix nvidia-smi (or set REQSOLVE_NVIDIA_SMI to a working one); a job asking GPUs"
            " is not started on a guess",
        )
    if config is None:
        devices = _detected_devices(probe.gpus)
        _refuse_unnamed(devices, "nvidia-smi")
        return devices, None
    declared = [(gpu.model, gpu.memory) for gpu in config.gpus for _ in range(gpu.count)]
    if not probe.installed:
        return (
            tuple(Device(i, i, None, model, memory) for i, (model, memory) in enumerate(declared)),
            f"launcher {config.id!r} describes {len(declared)} GPU(s) but there is no nvidia-smi"
            " to check them: they are named and locked by index, in file order",
        )
    devices = _detected_devices(probe.gpus)
    _refuse_unnamed(devices, "nvidia-smi")
    disagreement = contradiction(config, probe.gpus)
    if disagreement is not None:
        return devices, hardware_note(config, disagreement)
    return (
        tuple(
            Device(i, device.index, device.uuid, gpu.model, gpu.memory)
            for i, (device, gpu) in enumerate(
                zip(devices, completed(config, probe.gpus), strict=True)
            )
        ),
        None,
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


def written_order(alternative: Alternative) -> tuple[int, ...]:
    """For each GPU as written, its place among the alternative's (sorted) GPUs."""
    free = list(range(len(alternative.gpus)))
    order = []
    for gpu in alternative.written_gpus:
        place = next(i for i in free if alternative.gpus[i] == gpu)
        free.remove(place)
        order.append(place)
    return tuple(order)


def environment(gpus: Sequence[Device]) -> dict[str, str]:
    """What the job's environment gets: its GPUs (none: empty), and CUDA's numbering when
    they are named by index."""
    env = {VISIBLE: ",".join(device.visible for device in gpus)}
    if any(device.uuid is None for device in gpus):
        env[ORDER] = "PCI_BUS_ID"
    return env


def _lock(folder: Path, device: Device) -> list[int] | None:
    """The device's lock files, all locked (their descriptors), or None with nothing held."""
    held: list[int] = []
    for name in device.lock_names:
        fd = open_lock(folder / name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            for other in held:
                os.close(other)
            return None
        held.append(fd)
    return held


def take_gpus(
    folder: Path, devices: Sequence[Device], alternative: Alternative, first: Sequence[int]
) -> tuple[tuple[int, ...], list[int]] | None:
    """Lock the GPUs of ``first`` (device positions), or of another assignment among the free
    ones; (the positions taken, their locked descriptors), or None with nothing held."""
    make_folder(folder)
    held: dict[int, list[int]] = {}
    try:
        for position in first:
            fds = _lock(folder, devices[position])
            if fds is None:
                break
            held[position] = fds
        else:
            return tuple(first), [fd for position in first for fd in held[position]]
        for device in devices:  # the first choice is busy: which GPUs are free now?
            if device.position not in held:
                fds = _lock(folder, device)
                if fds is not None:
                    held[device.position] = fds
        chosen = assign(devices, alternative, sorted(held))
    except BaseException:
        for fds in held.values():
            for fd in fds:
                os.close(fd)
        raise
    keep = set(chosen or ())
    for position, fds in list(held.items()):
        if position not in keep:
            for fd in fds:
                os.close(fd)
            del held[position]
    if chosen is None:
        return None
    return chosen, [fd for position in chosen for fd in held[position]]


@dataclass(frozen=True, slots=True)
class GpuPlan:
    """The GPUs a job asks (``alternative``) among ``devices``, and the solver's choice."""

    devices: tuple[Device, ...]
    alternative: Alternative
    first: tuple[int, ...]

    def chosen(self) -> tuple[Device, ...]:
        """The solver's GPUs, in the order the request wrote them."""
        return self.in_written_order(self.first)

    def in_written_order(self, positions: Sequence[int]) -> tuple[Device, ...]:
        """Devices of ``positions`` (one per GPU of the alternative, in its sorted order) in
        the order the request wrote them: the job's ``cuda:0`` is the GPU written first."""
        return tuple(self.devices[positions[i]] for i in written_order(self.alternative))


def gpu_plan(match: Answer, launcher: Launcher) -> tuple[GpuPlan | None, str | None]:
    """The GPUs a local answer's job gets (None when it asked none), and a warning to print.

    A launcher file's GPUs (or the embedded launcher's, detected) are those the solver
    assigned; a ``LocalLauncher`` from ``launchers.py`` describes none, so its job's GPUs are
    assigned here, among the GPUs ``nvidia-smi`` reports (none reported: None, with a warning
    that the job's GPUs are left as they are). :class:`GpusUnavailable` when the GPUs reported
    cannot serve the request; :class:`GpuDetectionFailed` when nvidia-smi failed.
    """

    alternative = match.alternative
    if not alternative.gpus:
        return None, None
    config = match.config
    here = getattr(launcher, "connector", "local") == "local"
    probe = machine_probe() if here else GpuProbe((), installed=False)
    if not match.candidates or not isinstance(config, LocalLauncherConfig):
        devices, _ = launcher_devices(None, probe)
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
    if not here:  # a machine reached through a connector: its GPUs by the file, by index
        devices = tuple(
            Device(i, i, None, gpu.model, gpu.memory)
            for i, gpu in enumerate(g for g in config.gpus for _ in range(g.count))
        )
        first = check(match.candidates[0].shape, alternative).assignment
        return GpuPlan(devices, alternative, first), None
    devices, warning = launcher_devices(config, probe)
    if probe.installed and contradiction(config, probe.gpus) is not None:
        # the GPUs are nvidia-smi's: matched on them (as find does unless --offline)
        chosen = assign(devices, alternative)
        if chosen is None:
            raise GpusUnavailable(
                f"{warning}; they cannot serve {alternative}",
                "correct the launcher file's gpus:, or ask for GPUs this machine has",
            )
        return GpuPlan(devices, alternative, chosen), warning
    first = check(match.candidates[0].shape, alternative).assignment
    return GpuPlan(devices, alternative, first), warning


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
    make_folder(folder)
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
                try:
                    taken = take_gpus(
                        folder / GPU_LOCKS, plan.devices, plan.alternative, plan.first
                    )
                except BaseException:
                    for fd in held:
                        os.close(fd)
                    raise
                if taken is None:
                    busy = f"{len(plan.first)} free GPU(s) for {plan.alternative}"
                else:
                    gpus = plan.in_written_order(taken[0])
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
