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


def _check_gpu_type(field: str, name: str) -> None:
    """A GRES type as the GPU options write it: a safe name without the ':' that separates
    it from its count (',' separates the items of a typed list: no name has one)."""
    check_name(field, name)
    if ":" in name:
        raise InvalidValue(
            f"SlurmOptions.{field}: {name!r} has a ':' (it separates the type from the count)"
        )


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
    # GPUs of several GRES types on one node: ((type, count), ...), gpus_per_node their sum:
    # --gpus-per-node=a100:1,v100:1
    gpu_types: tuple[tuple[str, int], ...] | None = None
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
            _check_gpu_type("gpu_type", self.gpu_type)
            if self.gpus_per_node is None:
                raise InvalidValue(
                    "SlurmOptions.gpu_type: a GPU type without gpus_per_node",
                    "set gpus_per_node (the number of GPUs of that type)",
                )
        if self.gpu_types is not None:
            self._check_gpu_types(self.gpu_types)
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

    def _check_gpu_types(self, listed: object) -> None:
        # JSON gives lists: a list of [type, count] pairs is taken as the tuple it stands for
        if isinstance(listed, list):
            listed = tuple(tuple(pair) if isinstance(pair, list) else pair for pair in listed)
            object.__setattr__(self, "gpu_types", listed)
        hint = "write ((type, count), ...), e.g. (('a100', 1), ('v100', 1))"
        if not isinstance(listed, tuple) or not listed:
            raise InvalidValue(f"SlurmOptions.gpu_types: expected (type, count) pairs, got "
                               f"{listed!r}", hint)
        for pair in listed:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                    and isinstance(pair[1], int) and not isinstance(pair[1], bool)
                    and pair[1] >= 1):
                raise InvalidValue(f"SlurmOptions.gpu_types: {pair!r} is not a (type, count) "
                                   "pair with a positive count", hint)
            _check_gpu_type("gpu_types", pair[0])
        names = [name for name, _ in listed]
        if len(set(names)) != len(names):
            raise InvalidValue(f"SlurmOptions.gpu_types: a type twice in {listed!r}",
                               "give each type once, with its count")
        if self.gpu_type is not None:
            raise InvalidValue("SlurmOptions.gpu_types: set with gpu_type",
                               "use gpu_type for one type, gpu_types for several")
        if self.gpus_per_node != sum(count for _, count in listed):
            raise InvalidValue(
                f"SlurmOptions.gpu_types: the counts sum to {sum(c for _, c in listed)}, "
                f"gpus_per_node is {self.gpus_per_node}",
                "gpus_per_node is the number of GPUs of all the types together",
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
        ``("--gres", "gpu:a100:2")``; a typed list ``("--gpus-per-node", "a100:1,v100:1")`` or
        ``("--gres", "gpu:a100:1,gpu:v100:1")``. The one rendering of a typed request."""
        if self.gpu_types is not None:
            items = [f"{name}:{count}" for name, count in self.gpu_types]
        elif self.gpu_type is not None:
            items = [f"{self.gpu_type}:{self.gpus_per_node}"]
        else:
            items = [str(self.gpus_per_node)]
        if self.gpu_option == "gres":
            return "--gres", ",".join(f"gpu:{item}" for item in items)
        return "--gpus-per-node", ",".join(items)

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
                typed = self.gpu_type is not None or self.gpu_types is not None
                params["slurm_gpus_per_node"] = text if typed else self.gpus_per_node
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
