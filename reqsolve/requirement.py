"""What a job asks for, as frozen values: a requirement is an ordered list of alternatives.

The Python builders mirror the expression language: ``duration("4 days") & cuda_gpu(mem="4G") * 2
| cpu(cores=8)``. ``str()`` of any value is canonical and re-parses to an equal value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from reqsolve.errors import InvalidValue
from reqsolve.units import (
    check_duration,
    check_memory,
    format_duration,
    format_memory,
    is_quantity,
    parse_duration,
    parse_memory,
    quantity_bytes,
    quantity_seconds,
)

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.units import Quantity

MAX_GPUS = 1024
MAX_CORES = 1_000_000
MAX_NODES = 100_000
MAX_TASKS = 1_000_000


@dataclass(frozen=True, slots=True)
class Cpu:
    """Cores and memory (bytes; 0 = no memory request) asked on one node."""

    cores: int = 1
    memory: int = 0

    def __post_init__(self) -> None:
        check_cores(self.cores)
        check_memory(self.memory, str(self.memory))

    def __str__(self) -> str:
        args = []
        if self.memory:
            args.append(f"mem={format_memory(self.memory)}")
        args.append(f"cores={self.cores}")
        return f"cpu({', '.join(args)})"

    def as_json(self) -> dict[str, Any]:
        return {"cores": self.cores, "memory_bytes": self.memory}


@dataclass(frozen=True, slots=True)
class Accelerator:
    """One GPU asked: at least ``memory`` bytes, of ``model`` when given (case-insensitive)."""

    memory: int = 0
    model: str | None = None

    def __post_init__(self) -> None:
        check_memory(self.memory, str(self.memory))
        if self.model is not None:
            check_model(self.model)

    def sort_key(self) -> tuple[int, str, str]:
        """A total order, so that ``a & b == b & a`` even for models differing only in case."""
        model = self.model or ""
        return (self.memory, model.casefold(), model)

    def as_json(self) -> dict[str, Any]:
        return {"memory_bytes": self.memory, "model": self.model}

    def __str__(self) -> str:
        args = []
        if self.memory:
            args.append(f"mem={format_memory(self.memory)}")
        if self.model is not None:
            args.append(f"model={quote_model(self.model)}")
        return f"cuda({', '.join(args)})"


_BARE_MODEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_model(model: str) -> str:
    """A GPU model name must be writable in an expression (``model=A100`` or quoted)."""
    if not isinstance(model, str) or not model.strip():
        raise InvalidValue("GPU model name is empty", "write e.g. model=A100")
    if _CONTROL.search(model) or ("'" in model and '"' in model):
        raise InvalidValue(
            f"GPU model name {model!r} cannot be written in an expression",
            "a model name has no control characters and not both kinds of quotes",
        )
    return model


def quote_model(model: str) -> str:
    """``A100`` as is, a name with spaces or punctuation quoted: ``"RTX 3090"``."""
    if _BARE_MODEL.fullmatch(model):
        return model
    return f'"{model}"' if '"' not in model else f"'{model}'"


def check_cores(cores: int) -> int:
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise InvalidValue(f"cores must be a whole number >= 1, got '{cores}'")
    if cores > MAX_CORES:
        raise InvalidValue(f"cores={cores} is over {MAX_CORES}", "this looks like a typo")
    return cores


def check_nodes(nodes: int) -> int:
    """``nodes=N``: 1 <= N <= :data:`MAX_NODES`."""
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise InvalidValue(
            f"nodes must be a whole number >= 1, got '{nodes}'", "write e.g. nodes=2"
        )
    if nodes > MAX_NODES:
        raise InvalidValue(f"nodes={nodes} is over {MAX_NODES}", "this looks like a typo")
    return nodes


def check_tasks(tasks: int) -> int:
    """``tasks=T`` (tasks per node): 1 <= T <= :data:`MAX_TASKS`."""
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 1:
        raise InvalidValue(
            f"tasks must be a whole number >= 1, got '{tasks}'", "write e.g. tasks=4"
        )
    if tasks > MAX_TASKS:
        raise InvalidValue(f"tasks={tasks} is over {MAX_TASKS}", "this looks like a typo")
    return tasks


def check_gpu_count(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidValue(
            "GPU count must be at least 1",
            f"got '{count}'; drop the cuda(...) term to ask for no GPU",
        )
    if count > MAX_GPUS:
        raise InvalidValue(f"{count} GPUs is over {MAX_GPUS}", "this looks like a typo")
    return count


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way to run the job: all its terms must hold on one node of one candidate.

    ``duration`` is in seconds (0 = not asked); ``cpu`` is None when no ``cpu()`` term was
    written; ``gpus`` are kept sorted so that equal requests compare and hash equal.
    ``nodes`` is the number of nodes (1 unless ``nodes=`` says more) and ``tasks`` the tasks
    per node (0 = not asked); every other term is per node, ``cpu.cores`` per task when
    ``tasks`` is asked (docs/semantics.md §1).
    ``written_gpus`` are the same GPUs in the order they were written (a local job sees its
    GPUs in that order: ``cuda(model=V100) & cuda(model=A100)`` gets the V100 as ``cuda:0``).
    """

    duration: int = 0
    cpu: Cpu | None = None
    gpus: tuple[Accelerator, ...] = field(default=())
    nodes: int = 1
    tasks: int = 0
    # the written order when it differs from the sorted one; not part of the value
    _written: tuple[Accelerator, ...] = field(
        default=(), init=False, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        check_duration(self.duration, str(self.duration))
        if self.nodes != 1:
            check_nodes(self.nodes)
        if self.tasks:
            check_tasks(self.tasks)
        ordered = tuple(sorted(self.gpus, key=Accelerator.sort_key))
        if ordered != self.gpus:
            object.__setattr__(self, "_written", self.gpus)
            object.__setattr__(self, "gpus", ordered)
        if len(self.gpus) > MAX_GPUS:
            raise InvalidValue(f"{len(self.gpus)} GPUs is over {MAX_GPUS}")

    @property
    def written_gpus(self) -> tuple[Accelerator, ...]:
        """The GPUs asked, in the order they were written."""
        return self._written or self.gpus

    # The seed's Python API reads `match.requirement.cuda_gpus`.
    @property
    def cuda_gpus(self) -> tuple[Accelerator, ...]:
        return self.gpus

    def __and__(self, other: Alternative | Requirement) -> Alternative | Requirement:
        if isinstance(other, Requirement):
            return Requirement((self,)) & other
        if not isinstance(other, Alternative):
            return NotImplemented
        return merge(self, other)

    def __or__(self, other: Alternative | Requirement) -> Requirement:
        return Requirement((self,)) | other

    def __mul__(self, count: int) -> Alternative:
        """``cuda_gpu(mem="4G") * 2``: only a pure GPU term can be multiplied."""
        if not isinstance(count, int) or isinstance(count, bool):
            return NotImplemented
        if self.duration or self.cpu is not None or not self.gpus or self.nodes > 1 or self.tasks:
            raise InvalidValue("only a cuda()/gpu() term can be multiplied by a count")
        check_gpu_count(count)
        return Alternative(gpus=self.gpus * count)

    __rmul__ = __mul__

    def __str__(self) -> str:
        terms: list[str] = []
        if self.duration:
            terms.append(f"duration={format_duration(self.duration)}")
        if self.nodes > 1:
            terms.append(f"nodes={self.nodes}")
        if self.tasks:
            terms.append(f"tasks={self.tasks}")
        if self.cpu is not None:
            terms.append(str(self.cpu))
        index = 0
        while index < len(self.gpus):
            gpu = self.gpus[index]
            run = 1
            while index + run < len(self.gpus) and self.gpus[index + run] == gpu:
                run += 1
            terms.append(str(gpu) + (f"*{run}" if run > 1 else ""))
            index += run
        return " & ".join(terms) if terms else "duration=0s"

    def as_json(self) -> dict[str, Any]:
        """docs/semantics.md §7: base units, absent terms as 0 / null / []."""
        return {
            "duration_s": self.duration,
            "cpu": self.cpu.as_json() if self.cpu is not None else None,
            "gpus": [gpu.as_json() for gpu in self.gpus],
            "nodes": self.nodes,
            "tasks": self.tasks or None,
        }


def merge(left: Alternative, right: Alternative) -> Alternative:
    """``&`` of two alternatives: duration, nodes, tasks, memory and cores take the maximum,
    GPUs add up."""
    if left.cpu is None:
        cpu = right.cpu
    elif right.cpu is None:
        cpu = left.cpu
    else:
        cpu = Cpu(max(left.cpu.cores, right.cpu.cores), max(left.cpu.memory, right.cpu.memory))
    return Alternative(
        max(left.duration, right.duration),
        cpu,
        left.written_gpus + right.written_gpus,
        max(left.nodes, right.nodes),
        max(left.tasks, right.tasks),
    )


@dataclass(frozen=True, slots=True)
class Requirement:
    """Alternatives in order of preference (the first that some launcher satisfies wins)."""

    alternatives: tuple[Alternative, ...]

    def __post_init__(self) -> None:
        if not self.alternatives:
            raise InvalidValue("a requirement needs at least one alternative")

    def __and__(self, other: Alternative | Requirement) -> Requirement:
        right = other.alternatives if isinstance(other, Requirement) else (other,)
        if not all(isinstance(r, Alternative) for r in right):
            return NotImplemented
        return Requirement(tuple(merge(a, b) for a in self.alternatives for b in right))

    def __rand__(self, other: Alternative) -> Requirement:  # type: ignore[misc]
        return Requirement((other,)) & self

    def __or__(self, other: Alternative | Requirement) -> Requirement:
        right = other.alternatives if isinstance(other, Requirement) else (other,)
        return Requirement(self.alternatives + tuple(right))

    def __ror__(self, other: Alternative) -> Requirement:
        return Requirement((other,)) | self

    def __str__(self) -> str:
        return " | ".join(str(a) for a in self.alternatives)

    def as_json(self) -> dict[str, Any]:
        """What ``reqsolve parse --format json`` prints (docs/semantics.md §7)."""
        return {
            "alternatives": [a.as_json() for a in self.alternatives],
            "canonical": str(self),
        }


def as_requirement(value: Alternative | Requirement) -> Requirement:
    return value if isinstance(value, Requirement) else Requirement((value,))


def duration(value: str | int | timedelta | Quantity[Any]) -> Alternative:
    """``duration("4 days")``; an int is seconds; a ``datetime.timedelta`` or a pint time
    quantity (``36 * ureg.hour``) too (a fraction of a second rounds up)."""
    if isinstance(value, timedelta):
        micro = (value.days * 86400 + value.seconds) * 10**6 + value.microseconds
        seconds = check_duration(-(-micro // 10**6), str(value))
    elif is_quantity(value):
        seconds = quantity_seconds(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = check_duration(value, str(value))
    else:
        seconds = parse_duration(value)  # type: ignore[arg-type]  # refuses what is not text
    return Alternative(duration=seconds)


def nodes(count: int) -> Alternative:
    """``nodes(4)``: the job spans 4 nodes; every other term is per node."""
    return Alternative(nodes=check_nodes(count))


def tasks(count: int) -> Alternative:
    """``tasks(8)``: 8 tasks on each node (``--ntasks-per-node``); ``cpu(cores=C)`` per task."""
    return Alternative(tasks=check_tasks(count))


def _memory(value: str | int | Quantity[Any] | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return check_memory(value, str(value))
    if is_quantity(value):
        return quantity_bytes(value)
    return parse_memory(value)  # type: ignore[arg-type]  # refuses what is not text


def cpu(*, mem: str | int | Quantity[Any] | None = None, cores: int = 1) -> Alternative:
    """``cpu(mem="400M", cores=4)``; an int memory is bytes; a pint quantity is read in its unit."""
    return Alternative(cpu=Cpu(check_cores(cores), _memory(mem)))


def cuda_gpu(
    *, mem: str | int | Quantity[Any] | None = None, model: str | None = None
) -> Alternative:
    """One GPU of at least ``mem`` (an int is bytes, a pint quantity is read in its unit:
    ``cuda_gpu(mem=24 * ureg.GiB)``), of ``model`` when given."""
    return Alternative(gpus=(Accelerator(_memory(mem), model),))


gpu = cuda_gpu
