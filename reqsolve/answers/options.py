"""SlurmOptions: the concrete scheduler options of an answer (docs/semantics.md §6).

Every value is checked when the object is built, not when it is rendered: a name that could
inject an option (``--wrap=…``), a shell word (``;``, ``$``, quotes, backticks) or a new
``#SBATCH`` line (newline) never exists as a :class:`SlurmOptions`, so no rendering has to
remember to quote.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from reqsolve.answers.names import SLURM_NAME_CHARS, SLURM_NAME_HINT
from reqsolve.errors import InvalidValue
from reqsolve.units import format_time, parse_slurm_time

__all__ = ["OPTION_FIELDS", "SlurmOptions", "check_name", "format_time"]

# One name as Slurm spells partitions, QoS, accounts, features and hosts (reqsolve.answers.names).
_NAME_CHARS = SLURM_NAME_CHARS
# A host list may also use Slurm's hostlist ranges (`a100-[01-02]`).
_HOSTLIST_CHARS = _NAME_CHARS | frozenset("[],")
# A constraint expression: features with Slurm's operators (`& | , [ ] ( ) *`).
_CONSTRAINT_CHARS = _NAME_CHARS | frozenset("&|,[]()*")
_TIME_RE = re.compile(r"\d+(?::\d{1,2}){0,2}|\d+-\d{1,2}(?::\d{1,2}){0,2}")
_MEM_RE = re.compile(r"[1-9]\d*[KMGT]?|0")

# Renderings: field -> sbatch long option, in the order they are emitted.
_OPTION_NAMES = (
    ("partition", "--partition"),
    ("qos", "--qos"),
    ("account", "--account"),
    ("constraint", "--constraint"),
    ("nodes", "--nodes"),
    ("ntasks_per_node", "--ntasks-per-node"),
    ("nodelist", "--nodelist"),
    ("exclude", "--exclude"),
    ("gpus", "--gpus"),
    ("gpus_per_node", "--gpus-per-node"),
    ("cpus_per_task", "--cpus-per-task"),
    ("mem", "--mem"),
    ("mem_per_gpu", "--mem-per-gpu"),
    ("time", "--time"),
)


_BRACKETS = frozenset("()[]")


def _describe(char: str) -> str:
    names = {"\n": "newline", "\r": "carriage return", "\t": "tab", " ": "space"}
    return names.get(char, repr(char))


def _check_chars(field: str, value: str, allowed: frozenset[str], what: str) -> None:
    if value == "":
        raise InvalidValue(f"SlurmOptions.{field}: empty value", f"omit {field} (None) instead")
    if allowed.issuperset(value):  # every emitted option passes here: one C-level test
        return
    for char in value:
        if char not in allowed:
            raise InvalidValue(
                f"SlurmOptions.{field}: character {_describe(char)} is not allowed in {what} "
                f"{value!r}",
                SLURM_NAME_HINT,
            )


def _check_not_option(field: str, name: str) -> None:
    if name.startswith("-"):
        raise InvalidValue(
            f"SlurmOptions.{field}: {name!r} starts with '-' and would read as an option"
        )


def check_name(field: str, value: str) -> str:
    """``value`` if it is a safe Slurm name (partition, QoS, account, feature, host)."""
    _check_chars(field, value, _NAME_CHARS, "the name")
    _check_not_option(field, value)
    return value


def _check_list(field: str, value: str, allowed: frozenset[str], what: str) -> None:
    _check_chars(field, value, allowed, what)
    for item in value.split(","):
        if item == "":
            raise InvalidValue(f"SlurmOptions.{field}: empty item in {what} {value!r}")
        _check_not_option(field, item)


def _check_constraint(value: str) -> None:
    _check_chars("constraint", value, _CONSTRAINT_CHARS, "the constraint")
    if value.startswith("-"):
        raise InvalidValue(f"SlurmOptions.constraint: {value!r} would read as an option")
    if not _BRACKETS.intersection(value):
        return
    depth = 0
    for char in value:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                raise InvalidValue(f"SlurmOptions.constraint: unbalanced brackets in {value!r}")
    if depth:
        raise InvalidValue(f"SlurmOptions.constraint: unbalanced brackets in {value!r}")


@dataclass(frozen=True, slots=True)
class SlurmOptions:
    """Fields as experimaestro's; ``None`` means "do not pass this option"."""

    account: str | None = None
    constraint: str | None = None
    cpus_per_task: int | None = None
    exclude: str | None = None
    gpus: int | None = None
    gpus_per_node: int | None = None
    gpu_type: str | None = None  # GRES type of the GPUs asked: --gpus-per-node=a100:2
    gpu_option: str | None = None  # "gres": ask as --gres=gpu[:type]:N; None: --gpus-per-node
    mem: str | None = None
    mem_per_gpu: str | None = None
    nodelist: str | None = None
    nodes: int | None = 1
    ntasks_per_node: int | None = None  # tasks=T: --ntasks-per-node=T
    partition: str | None = None
    qos: str | None = None
    time: str | None = None

    def __post_init__(self) -> None:
        for name in ("account", "qos"):
            value = getattr(self, name)
            if value is not None:
                _require_str(name, value)
                check_name(name, value)
        if self.partition is not None:
            _require_str("partition", self.partition)
            _check_list("partition", self.partition, _NAME_CHARS | {","}, "the partition list")
        for name in ("exclude", "nodelist"):
            value = getattr(self, name)
            if value is not None:
                _require_str(name, value)
                _check_list(name, value, _HOSTLIST_CHARS, "the host list")
        if self.constraint is not None:
            _require_str("constraint", self.constraint)
            _check_constraint(self.constraint)
        for name in ("cpus_per_task", "gpus", "gpus_per_node", "nodes", "ntasks_per_node"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise InvalidValue(
                    f"SlurmOptions.{name}: expected a positive integer, got {value!r}"
                )
        for name in ("mem", "mem_per_gpu"):
            value = getattr(self, name)
            if value is not None:
                _require_str(name, value)
                if not _MEM_RE.fullmatch(value):
                    raise InvalidValue(
                        f"SlurmOptions.{name}: {value!r} is not a Slurm memory size",
                        "write whole MiB with a suffix, e.g. 382M",
                    )
        if self.gpu_type is not None:
            _require_str("gpu_type", self.gpu_type)
            check_name("gpu_type", self.gpu_type)
            if ":" in self.gpu_type:
                raise InvalidValue(
                    f"SlurmOptions.gpu_type: {self.gpu_type!r} has a ':' (it separates the type "
                    "from the count)"
                )
            if self.gpus_per_node is None:
                raise InvalidValue(
                    "SlurmOptions.gpu_type: a GPU type without gpus_per_node",
                    "set gpus_per_node (the number of GPUs of that type)",
                )
        if self.gpu_option not in GPU_OPTIONS:
            raise InvalidValue(
                f"SlurmOptions.gpu_option: {self.gpu_option!r} is not a GPU option",
                "use None (--gpus-per-node) or 'gres' (--gres=gpu[:type]:N)",
            )
        if self.time is not None:
            _require_str("time", self.time)
            if not _TIME_RE.fullmatch(self.time):
                raise InvalidValue(
                    f"SlurmOptions.time: {self.time!r} is not a Slurm time",
                    "use HH:MM:SS or D-HH:MM:SS (format_time(seconds) writes one)",
                )

    def config(self, **changes: Any) -> SlurmOptions:
        """A changed copy (``options.config(gpus_per_node=1)``), validated like the original."""
        unknown = sorted(set(changes) - set(OPTION_FIELDS))
        if unknown:
            raise InvalidValue(
                f"SlurmOptions has no field {', '.join(unknown)}",
                f"fields: {', '.join(OPTION_FIELDS)}",
            )
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def items(self) -> list[tuple[str, str]]:
        """(sbatch long option, value) of every field that is set, in a stable order.

        The GPUs of a node are the one place with two dialects: ``--gpus-per-node=[type:]N``,
        or ``--gres=gpu[:type]:N`` (``gpu_option="gres"``), for clusters that want GRES syntax.
        """
        pairs = []
        for name, option in _OPTION_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "gpus_per_node":
                option, text = self.gpu_request()
                pairs.append((option, text))
            else:
                pairs.append((option, str(value)))
        return pairs

    def gpu_request(self) -> tuple[str, str]:
        """The GPUs of a node as (option, value): ``("--gpus-per-node", "a100:2")`` or
        ``("--gres", "gpu:a100:2")``; the one rendering of a typed request."""
        count = str(self.gpus_per_node)
        typed = f"{self.gpu_type}:{count}" if self.gpu_type is not None else count
        if self.gpu_option == "gres":
            return "--gres", f"gpu:{typed}"
        return "--gpus-per-node", typed

    def args(self) -> list[str]:
        """Command-line arguments for sbatch/srun/salloc: ``["--partition=gpu", ...]``."""
        return [f"{option}={value}" for option, value in self.items()]

    def sbatch_header(self) -> str:
        """``#SBATCH`` lines (newline-terminated) to put after a batch script's shebang."""
        return "".join(f"#SBATCH {arg}\n" for arg in self.args())

    @property
    def time_seconds(self) -> int | None:
        return None if self.time is None else parse_slurm_time(self.time)

    def to_submitit(self) -> dict[str, Any]:
        """Parameters for ``submitit.AutoExecutor.update_parameters``.

        submitit's slurm executor names them ``slurm_<sbatch option with _>``, takes ``time`` in
        whole minutes (rounded up here so the job is never given less than asked) and has no
        ``nodelist``/``gpus`` parameter: those go to ``slurm_additional_parameters``.
        """
        params: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if self.gpus_per_node is not None:
            option, text = self.gpu_request()
            if option == "--gres":
                params["slurm_gres"] = text
            else:
                params["slurm_gpus_per_node"] = (
                    self.gpus_per_node if self.gpu_type is None else text
                )
        for name in (
            "partition",
            "qos",
            "account",
            "constraint",
            "exclude",
            "nodes",
            "ntasks_per_node",
            "cpus_per_task",
            "mem",
            "mem_per_gpu",
        ):
            value = getattr(self, name)
            if value is not None:
                params[f"slurm_{name}"] = value
        seconds = self.time_seconds
        if seconds is not None:
            params["slurm_time"] = max(1, math.ceil(seconds / 60))
        if self.nodelist is not None:
            extra["nodelist"] = self.nodelist
        if self.gpus is not None:
            extra["gpus"] = self.gpus
        if extra:
            params["slurm_additional_parameters"] = extra
        return params

    @classmethod
    def from_seconds(cls, seconds: int, **others: Any) -> SlurmOptions:
        """Options whose ``time`` is ``seconds`` in Slurm's format."""
        return cls(time=format_time(seconds), **others)


GPU_OPTIONS = (None, "gpus-per-node", "gres")

# The dataclass's own field names, in declaration order.
OPTION_FIELDS = tuple(f.name for f in fields(SlurmOptions))


_TEXT_HINTS = {
    "time": "Slurm's [D-]HH:MM:SS text: format_time(seconds) (reqsolve.answers.options) makes it,"
    " or SlurmOptions.from_seconds(seconds)",
    "mem": "Slurm's size text in MiB with a suffix: format_mem_mib(bytes) (reqsolve.units)"
    " makes it, e.g. '382M'",
}


def _require_str(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(
            f"SlurmOptions.{field}: expected text, got {type(value).__name__} {value!r}",
            _TEXT_HINTS.get(field, f"write it as text: {field}='{value}'"),
        )
