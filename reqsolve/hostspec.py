"""Hosts described in Python for ``launchers.py``: ``requirement.match(HostSpecification())``.

A ``launchers.py`` decides in code, but "does this host satisfy this alternative" must mean
exactly what it means for a YAML launcher (docs/semantics.md §4). So a :class:`HostSpecification` is
turned into the solver's :class:`~reqsolve.places.Shape` and judged by
:func:`reqsolve.matching.check` — the same function, cache and GPU matching (a constraint problem)
as the YAML path; there is no second implementation of matching here.

Values mirror experimaestro's (experimaestro ``launcherfinder.specs``) so that its users' files read
the same: sizes in bytes or as text with a unit (``"24GiB"``), durations in seconds or as text
(``"100h"``). ``None`` means unknown (cores, memory: they do not constrain; GPU memory: it fits
no request that states a memory) or unlimited (``max_duration``; 0 is unlimited too, as in
experimaestro).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reqsolve.errors import InvalidValue
from reqsolve.matching import Judgement, check
from reqsolve.places import GpuKind, Shape
from reqsolve.requirement import Alternative, Requirement, check_cores, check_model
from reqsolve.units import (
    check_duration,
    check_memory,
    is_quantity,
    parse_duration,
    parse_memory,
    quantity_bytes,
    quantity_seconds,
)

Size = int | float | str
Duration = int | float | str | timedelta


def as_bytes(value: Size | None, what: str) -> int | None:
    """Bytes of a size given as a number of bytes or as text with a unit; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValue(f"{what}: expected a size such as 24GiB or bytes, got {value}")
    if is_quantity(value):
        return quantity_bytes(value)
    if isinstance(value, int | float):
        return _whole(value, what, "size", check_memory, f"{value}")
    if isinstance(value, str):
        return _parsed(value, what, parse_memory)
    raise InvalidValue(f"{what}: expected a size such as 24GiB or a number of bytes, got {value!r}")


def as_seconds(value: Duration | None, what: str) -> int | None:
    """Seconds of a duration given as a number of seconds, a timedelta or text with a unit."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValue(f"{what}: expected a duration such as 100h or seconds, got {value}")
    if is_quantity(value):
        return quantity_seconds(value)
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, int | float):
        return _whole(value, what, "duration", check_duration, f"{value}s")
    if isinstance(value, str):
        return _parsed(value, what, parse_duration)
    raise InvalidValue(f"{what}: expected a duration such as 100h or seconds, got {value!r}")


def _whole(
    value: int | float, what: str, noun: str, check: Callable[[int, str], int], text: str
) -> int:
    """A number of bytes or seconds within the bounds; fractions round up (docs/semantics.md §9)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(f"{what}: {value} is not a {noun}")
    return check(math.ceil(value), text)


def _parsed(text: str, what: str, parse: Callable[[str], int]) -> int:
    """Text with a unit, parsed as the expression language does; the message names ``what``."""
    try:
        return parse(text)
    except InvalidValue as exc:
        raise InvalidValue(f"{what}: {exc.message}", exc.hint) from None


def _count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{what} must be a whole number >= 0, got {value!r}")
    return value


@dataclass(frozen=True, init=False, slots=True)
class CudaSpecification:
    """One GPU of a host: ``memory`` (None = unknown), ``model``, and the smallest request it
    accepts (``min_memory``: a scheduler that keeps big GPUs for big jobs)."""

    memory: int | None
    model: str | None
    min_memory: int

    def __init__(
        self, memory: Size | None = None, *, model: str | None = None, min_memory: Size = 0
    ) -> None:
        object.__setattr__(self, "memory", as_bytes(memory, "CudaSpecification memory"))
        # experimaestro's default model is "": no model
        object.__setattr__(self, "model", check_model(model) if model else None)
        object.__setattr__(
            self, "min_memory", as_bytes(min_memory, "CudaSpecification min_memory") or 0
        )


@dataclass(frozen=True, init=False, slots=True)
class CPUSpecification:
    """Cores and memory of a host (None = unknown: does not constrain, Slurm will enforce).

    ``mem_per_cpu`` matters only with ``use_memory_constraint=False`` on the host: memory is
    then obtained by asking for more cores. Keyword-only: experimaestro's positional order was
    ``(memory, cores)``, and a silent swap would be a bad surprise.
    """

    cores: int | None
    memory: int | None
    mem_per_cpu: int | None

    def __init__(
        self,
        *,
        cores: int | None = None,
        memory: Size | None = None,
        mem_per_cpu: Size | None = None,
    ) -> None:
        object.__setattr__(self, "cores", None if cores is None else check_cores(cores))
        object.__setattr__(self, "memory", as_bytes(memory, "CPUSpecification memory"))
        object.__setattr__(
            self, "mem_per_cpu", as_bytes(mem_per_cpu, "CPUSpecification mem_per_cpu")
        )


@dataclass(frozen=True, init=False, slots=True)
class HostSpecification:
    """A host (or a Slurm node of a partition under a QoS) as a ``launchers.py`` describes it.

    ``cuda`` lists the node's GPUs (order does not matter: the matching is a real assignment);
    ``max_duration`` None or 0 is unlimited; ``min_gpu`` is the least number of GPUs a job must
    ask (a GPU-only QoS); ``priority`` becomes the :class:`Match` score.
    """

    cpu: CPUSpecification | None
    cuda: tuple[CudaSpecification, ...]
    max_duration: int | None
    min_gpu: int
    priority: float
    use_memory_constraint: bool

    def __init__(
        self,
        *,
        cpu: CPUSpecification | None = None,
        cuda: Iterable[CudaSpecification] = (),
        max_duration: Duration | None = None,
        min_gpu: int = 0,
        priority: float = 0,
        use_memory_constraint: bool = True,
    ) -> None:
        if cpu is not None and not isinstance(cpu, CPUSpecification):
            raise InvalidValue(f"HostSpecification cpu: expected a CPUSpecification, got {cpu!r}")
        gpus = tuple(cuda)
        for gpu in gpus:
            if not isinstance(gpu, CudaSpecification):
                raise InvalidValue(
                    f"HostSpecification cuda: expected CudaSpecification items, got {gpu!r}"
                )
        if isinstance(priority, bool) or not isinstance(priority, int | float):
            raise InvalidValue(f"HostSpecification priority must be a number, got {priority!r}")
        limit = as_seconds(max_duration, "HostSpecification max_duration")
        object.__setattr__(self, "cpu", cpu)
        object.__setattr__(self, "cuda", gpus)
        object.__setattr__(self, "max_duration", limit or None)
        object.__setattr__(self, "min_gpu", _count(min_gpu, "HostSpecification min_gpu"))
        object.__setattr__(self, "priority", priority)
        object.__setattr__(self, "use_memory_constraint", bool(use_memory_constraint))


@dataclass(frozen=True, slots=True)
class Match:
    """An alternative a host satisfies (experimaestro's ``MatchRequirement``).

    ``requirement`` is that alternative (``.cuda_gpus``, ``.cpu``, ``.duration``), ``index`` its
    position in the requirement, ``score`` the host's priority; ``cpus_per_task`` and
    ``assignment`` (a host GPU index per requested GPU, in ``requirement.gpus`` order) are
    what the solver decided.
    """

    requirement: Alternative
    score: float
    index: int = 0
    cpus_per_task: int | None = None
    assignment: tuple[int, ...] = ()


def host_shape(host: HostSpecification) -> Shape:
    """The solver's view of a host: the one input :func:`reqsolve.matching.check` judges."""
    kinds: dict[tuple[int | None, int, str | None], int] = {}
    for gpu in host.cuda:  # identical GPUs make one kind, first-seen order
        key = (gpu.memory, gpu.min_memory, gpu.model)
        kinds[key] = kinds.get(key, 0) + 1
    cpu = host.cpu
    return Shape(
        cores=cpu.cores if cpu else None,
        memory=cpu.memory if cpu else None,
        mem_per_cpu=cpu.mem_per_cpu if cpu else None,
        memory_option="mem" if host.use_memory_constraint else "mem-per-cpu",
        gpus=tuple(
            GpuKind(count, memory, min_memory, model)
            for (memory, min_memory, model), count in kinds.items()
        ),
        max_duration=host.max_duration,
        duration_source="max_duration" if host.max_duration else None,
        min_gpu=host.min_gpu,
        min_gpu_source="min_gpu" if host.min_gpu else None,
    )


def verdict(host: HostSpecification, alternative: Alternative) -> Judgement:
    """Whether ``host`` satisfies one alternative, or its first unmet condition (in numbers)."""
    return check(host_shape(host), alternative)


def match(requirement: Requirement | Alternative, host: HostSpecification) -> Match | None:
    """The first alternative, in written order, that ``host`` satisfies; None when none does."""
    if not isinstance(host, HostSpecification):
        raise InvalidValue(f"expected a HostSpecification, got {host!r}")
    alternatives = (
        (requirement,) if isinstance(requirement, Alternative) else requirement.alternatives
    )
    for index, alternative in enumerate(alternatives):
        found = verdict(host, alternative)
        if found.ok:
            return Match(alternative, host.priority, index, found.cpus_per_task, found.assignment)
    return None


def why_not(requirement: Requirement, host: HostSpecification) -> list[str]:
    """For each alternative, why ``host`` does not satisfy it ('' when it does): for messages."""
    found = [verdict(host, alternative) for alternative in requirement.alternatives]
    return ["" if v.ok else v.detail for v in found]


def match_fields(
    requirement: Requirement | Alternative,
    host: HostSpecification | None,
    fields: dict[str, object],
) -> Match | None:
    """``requirement.match(host)`` or ``requirement.match(cpu=..., cuda=...)``, not both."""
    if host is not None and fields:
        raise InvalidValue(
            "match() takes a HostSpecification or its fields, not both",
            f"write match(HostSpecification({', '.join(f'{k}=...' for k in fields)}))",
        )
    if host is None:
        try:
            host = HostSpecification(**fields)  # type: ignore[arg-type]
        except TypeError as exc:
            raise InvalidValue(
                f"match(): {exc}",
                "fields are cpu, cuda, max_duration, min_gpu, priority, use_memory_constraint",
            ) from None
    return match(requirement, host)


@dataclass(frozen=True, slots=True, eq=False)
class HostRequirement(Requirement):
    """The requirement a ``launchers.py`` function receives: a :class:`Requirement` that can
    ``match`` a host (experimaestro's name, so that files written for it import).

    ``match`` lives here, not on :class:`Requirement`, so that the value objects do not reach up
    to the solver (requirement -> hostspec -> model -> requirement was a cycle). Equality is the
    requirement's: a ``HostRequirement`` equals the ``Requirement`` with the same alternatives.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Requirement) and self.alternatives == other.alternatives

    def __hash__(self) -> int:
        return Requirement.__hash__(self)

    def match(self, host: HostSpecification | None = None, **fields: Any) -> Match | None:
        """The first alternative a host satisfies, as the YAML launchers' matching decides.

        ``requirement.match(HostSpecification(cuda=[]))`` or the same fields given directly
        (``requirement.match(cpu=CPUSpecification(cores=32), max_duration="100h")``).
        """
        return match_fields(self, host, fields)
