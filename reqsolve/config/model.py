"""The launcher file as typed, frozen values (docs/semantics.md §2).

Sizes are bytes and durations seconds (ints). ``None`` means "not written at this level": a
:class:`Configuration` is merged field by field, later levels winning, even with 0
(launcher -> partition -> node group -> ``features:`` entries -> values decoded by
``features_regex``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from reqsolve.errors import Problem


@dataclass(frozen=True, slots=True)
class CpuConfig:
    cores: int | None = None
    memory: int | None = None  # bytes
    mem_per_cpu: int | None = None  # bytes
    cpu_per_gpu: int | None = None

    def merged(self, over: CpuConfig | None) -> CpuConfig:
        return _overlay(self, over)


@dataclass(frozen=True, slots=True)
class GpuConfig:
    model: str | None = None
    count: int | None = None
    memory: int | None = None  # bytes
    min_memory: int | None = None  # bytes
    min_mem_ratio: float | None = None
    # the GRES type Slurm knows these GPUs by (``gpu:<type>:N``): typed requests name it
    gres_type: str | None = None

    def merged(self, over: GpuConfig | None) -> GpuConfig:
        return _overlay(self, over)


def _overlay(base: _Section, over: _Section | None) -> _Section:
    """``base`` with each field that ``over`` writes (not None) replaced, even with 0.

    Runs for every level of every node group's configuration: the field names are read once
    per class, and an ``over`` that writes nothing (the usual case) costs one comparison
    (``dataclasses.replace`` made loading 10-20 % slower, benchmarks/compare.py)."""
    cls = type(base)
    if over is None or over == _EMPTY[cls]:
        return base
    return cls(*[
        getattr(base, name) if (value := getattr(over, name)) is None else value
        for name in _NAMES[cls]
    ])


_NO_CPU = CpuConfig()
_NO_GPU = GpuConfig()
_EMPTY: dict[type, object] = {CpuConfig: _NO_CPU, GpuConfig: _NO_GPU}
_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in (CpuConfig, GpuConfig)}
_Section = TypeVar("_Section", CpuConfig, GpuConfig)


@dataclass(frozen=True, slots=True)
class Configuration:
    max_duration: int | None = None  # seconds
    cpu: CpuConfig = field(default_factory=CpuConfig)
    gpu: GpuConfig = field(default_factory=GpuConfig)

    def merged(self, over: Configuration | None) -> Configuration:
        """This configuration overridden field by field by ``over`` (``None`` = keep)."""
        if over is None:
            return self
        if over.max_duration is None and over.cpu == _NO_CPU and over.gpu == _NO_GPU:
            return self
        return Configuration(
            max_duration=over.max_duration if over.max_duration is not None else self.max_duration,
            cpu=self.cpu.merged(over.cpu),
            gpu=self.gpu.merged(over.gpu),
        )


EMPTY_CONFIGURATION = Configuration()


@dataclass(frozen=True, slots=True)
class Qos:
    name: str
    max_duration: int | None = None  # seconds
    min_gpu: int = 0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class NodeGroup:
    hosts: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    count: int = 0  # number of hosts when ``hosts`` is empty
    configuration: Configuration | None = None
    # a node with several kinds of GPU (``gpu:1080ti:8,gpu:titan_x:2``): one entry per kind,
    # each over the effective ``configuration.gpu``; empty: the node has that one kind
    gpus: tuple[GpuConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class GresType:
    """What Slurm cannot tell of a GRES type, stated once per launcher (``gres_memory:``)."""

    name: str  # the GRES type as Slurm spells it (a100, a100_1g.5gb)
    memory: int | None = None  # bytes, of each GPU of this type
    model: str | None = None  # the model cuda(model=...) matches, instead of the type


# How a Slurm job asks for memory (docs/semantics.md §6 "Memory dialects"): --mem (per node),
# --mem-per-cpu (turned into --cpus-per-task through mem_per_cpu), --mem-per-gpu (per GPU)
MEMORY_OPTIONS = ("mem", "mem-per-cpu", "mem-per-gpu")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    nodes: tuple[NodeGroup, ...] = ()
    configuration: Configuration | None = None
    qos: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    priority: int = 0
    disabled: bool = False
    max_nodes: int | None = None  # Slurm's MaxNodes (None: unlimited or unknown)
    memory_option: str | None = None  # one of MEMORY_OPTIONS; None: the launcher's


@dataclass(frozen=True, slots=True)
class LocalGpu:
    model: str | None = None
    count: int = 1
    memory: int | None = None  # bytes


@dataclass(frozen=True, slots=True)
class LocalLauncherConfig:
    id: str
    connector: str = "local"
    cpu: CpuConfig = field(default_factory=CpuConfig)
    gpus: tuple[LocalGpu, ...] = ()
    tokens: tuple[tuple[str, int], ...] = ()  # (token name, how many one job takes)
    tags: tuple[str, ...] = ()
    weight: float = 0
    disabled: bool = False
    type: Literal["local"] = "local"


class AccessRules(Protocol):
    """What Slurm lets the user submit with (reqsolve.slurm.access.Access, from discovery)."""

    def refusal(self, partition: str, qos: str | None, account: str | None) -> str | None:
        """Why Slurm refuses this (partition, QoS, account) combination, or None."""


@dataclass(frozen=True, slots=True)
class SlurmLauncherConfig:
    id: str
    connector: str = "local"
    path: str = "/usr/bin"
    tags: tuple[str, ...] = ()
    weight: float = 0
    use_features: bool = True
    use_hosts: bool = True
    use_memory_constraint: bool = True
    query_slurm: bool = False
    qos: tuple[Qos, ...] = ()  # in file order
    features_regex: tuple[str, ...] = ()
    features: tuple[tuple[str, Configuration], ...] = ()  # feature -> configuration, file order
    configuration: Configuration = field(default_factory=Configuration)
    partitions: tuple[Partition, ...] = ()  # in file order
    disabled: bool = False
    gres_memory: tuple[GresType, ...] = ()  # in file order
    gpu_option: str = "gpus-per-node"  # or "gres"; anything else is a validate error
    # one of MEMORY_OPTIONS (anything else is a validate error); None: use_memory_constraint
    # says (true: mem, false: mem-per-cpu)
    memory_option: str | None = None
    type: Literal["slurm"] = "slurm"
    # what the user may submit with, set by discovery only (docs/semantics.md §3); None: the
    # file's accounts and QoS stand as written
    access: AccessRules | None = field(default=None, metadata={"discovered": True})

    def gres_named(self, name: str | None) -> GresType | None:
        """The ``gres_memory`` entry of a GRES type (case-insensitive), or None."""
        if name is None or not self.gres_memory:
            return None
        key = name.casefold()
        for entry in self.gres_memory:
            if entry.name.casefold() == key:
                return entry
        return None

    def memory_option_of(self, partition: Partition | None = None) -> str:
        """How jobs on ``partition`` ask for memory: the partition's ``memory_option``, else
        the launcher's, else experimaestro's ``use_memory_contraint`` (true: ``mem``, false:
        ``mem-per-cpu``). A file writing both at one level must make them agree (validate)."""
        if partition is not None and partition.memory_option is not None:
            return partition.memory_option
        if self.memory_option is not None:
            return self.memory_option
        return "mem" if self.use_memory_constraint else "mem-per-cpu"

    def qos_named(self, name: str) -> Qos | None:
        for qos in self.qos:
            if qos.name == name:
                return qos
        return None


LauncherConfig = LocalLauncherConfig | SlurmLauncherConfig


@dataclass(frozen=True, slots=True)
class SshConnectorConfig:
    """A named connector as the ``connectors:`` section describes it (experimaestro's format).

    A description only: :class:`reqsolve.connectors.SshConnector` is what runs commands over it.
    """

    id: str
    hostname: str
    user: str | None = None
    port: int | None = None
    options: tuple[str, ...] = ()  # extra ``-o key=value`` for the ssh client


EMBEDDED_PATH = "<embedded>"  # the path of the launcher file describing this machine alone


@dataclass(frozen=True, slots=True)
class LauncherFile:
    """A loaded launcher file: launchers in file order (groups as written, then items)."""

    path: str
    launchers: tuple[LauncherConfig, ...] = ()
    token_counters: tuple[tuple[str, int], ...] = ()  # from tokens.yaml: name -> capacity
    connectors: tuple[SshConnectorConfig, ...] = ()
    # YAML path (``slurm[0].partitions.gpu``) -> (line, column), 1-based; filled by the loader
    positions: Mapping[str, tuple[int, int]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    warnings: tuple[Problem, ...] = field(default=(), compare=False, hash=False, repr=False)

    def position(self, path: str) -> tuple[int, int] | None:
        """Line and column of a YAML path, or of its closest written ancestor."""
        return written_position(self.positions, path)


def written_position(positions: Mapping[str, tuple[int, int]], path: str) -> tuple[int, int] | None:
    """Line and column of a YAML path (``slurm[0].partitions.gpu``) in ``positions``, or of its
    closest written ancestor (``slurm[0].partitions``, then ``slurm[0]``...); None: none is."""
    while path:
        found = positions.get(path)
        if found is not None:
            return found
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
