"""Launchers -> candidates: every place a job could land, with its capacity as plain integers.

A slurm launcher expands into (partition not disabled) x (node group) x (each QoS of the
partition, or none) x (each account, or none); a local launcher that is not disabled is one
candidate (docs/semantics.md §3). What the matcher needs of a candidate is its :class:`Shape` — the
capacity and limits, without names — and clusters repeat shapes a lot (hundreds of identical
nodes), so shapes are interned and a query judges each distinct shape once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from reqsolve.config.effective import group_gpus
from reqsolve.config.model import (
    Configuration,
    GpuConfig,
    LauncherConfig,
    LauncherFile,
    LocalLauncherConfig,
    Partition,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.garbage_collector import collector_paused
from reqsolve.places import Candidate, GpuKind, GroupSlot, Shape
from reqsolve.search_index import SearchIndex


@dataclass(eq=False)
class CompiledLauncher:
    """A launcher's candidates, computed once; ``position`` is its rank in file order.

    ``shapes`` are the candidates' distinct shapes (``candidates[i].shape ==
    shapes[shape_index[i]]``), ``slots`` its node groups as the soundness rule sees them, and
    ``index`` what a query searches (:class:`~reqsolve.search_index.SearchIndex`, built here).
    Compared by identity: it is built once per loaded file and carries the one cache of
    answers, per alternative (``outcomes``, filled by :mod:`reqsolve.choosing`). ``failure`` is
    set when the launcher cannot be used at all (its Slurm discovery failed): it then has no
    candidate.
    """

    config: LauncherConfig
    position: int
    candidates: tuple[Candidate, ...]
    slots: tuple[GroupSlot, ...] = ()
    shapes: tuple[Shape, ...] = ()
    shape_index: tuple[int, ...] = ()
    failure: str | None = None
    # (partition, QoS, account, why) combinations the user may not submit with (discovery's
    # associations and partition lists, docs/semantics.md §3): no candidate, only a reason
    ruled_out: tuple[tuple[str, str | None, str | None, str], ...] = ()
    outcomes: dict[object, object] = field(default_factory=dict, repr=False)
    index: SearchIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = SearchIndex.build(self.candidates, self.shapes, self.shape_index, self.slots)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def type(self) -> str:
        """``"local"`` or ``"slurm"``, as ``Launcher.type`` says it."""
        return self.config.type


@lru_cache(maxsize=4096)  # a few GPU sizes x ratios per file, met once per node group
def ratio_memory(memory: int, ratio: float) -> int:
    """``memory x ratio`` in whole bytes, rounded up, computed exactly (0.7 means 7/10)."""
    return math.ceil(Fraction(memory) * Fraction(repr(ratio)))


def gpu_kind(count: int, gpu: GpuConfig) -> GpuKind:
    min_memory = gpu.min_memory or 0
    if gpu.memory is not None and gpu.min_mem_ratio:
        min_memory = max(min_memory, ratio_memory(gpu.memory, gpu.min_mem_ratio))
    return GpuKind(count, gpu.memory, min_memory, gpu.model, gpu.min_mem_ratio, gpu.gres_type)


def meet(kinds: tuple[GpuKind, ...]) -> GpuKind:
    """One kind standing for GPUs of several kinds that Slurm may hand out in any mix: a request
    fits it only when it fits every one of them (the smallest memory, the largest minimum, a
    model only when they all share it)."""
    if len(kinds) == 1:
        return kinds[0]
    memories = [k.memory for k in kinds]
    models = {k.model_key for k in kinds}
    types = {k.gres for k in kinds}
    return GpuKind(
        count=sum(k.count for k in kinds),
        memory=None if None in memories else min(m for m in memories if m is not None),
        min_memory=max(k.min_memory for k in kinds),
        model=kinds[0].model if len(models) == 1 else None,
        gres=kinds[0].gres if len(types) == 1 else None,
        mix=tuple((k.model, k.count) for k in kinds),
    )


def offered(shape: Shape, gpu_type: str | None = None) -> Shape:
    """What a node of ``shape`` gives a job asking ``--gpus-per-node=[gpu_type:]N``: any of its
    GPUs (of that GRES type, case-insensitive, or whose type nothing states), in any mix — as
    one kind that a request fits only when every one of them does."""
    kinds = shape.gpus
    if gpu_type is not None:
        key = gpu_type.casefold()
        kinds = tuple(k for k in kinds if k.gres is None or k.gres.casefold() == key)
    if len(kinds) > 1:
        kinds = (meet(kinds),)
    return shape if kinds == shape.gpus else replace(shape, gpus=kinds)


def offers(shape: Shape) -> tuple[Shape, ...]:
    """The ways a job can ask for the GPUs of a node with several kinds (:func:`named_offers`),
    as shapes. A node with one kind is its own one offer."""
    return tuple(offer for _, offer in named_offers(shape))


def named_offers(shape: Shape) -> tuple[tuple[str, Shape], ...]:
    """The ways a job can ask for the GPUs of a node with several kinds, each with the name
    ``explain`` shows: untyped (``any``: any GPU of the node), then typed by each of its GRES
    types, in order, each as a shape of one kind; last, when every GPU has a GRES type and there
    are two types or more, by a typed list (``by type``: ``a100:1,v100:1``) as one kind per type,
    so that a job asking ``cuda(model=A100) & cuda(model=V100)`` fits a node with both (Slurm
    wants typed and untyped GRES consistent within a job: no list where some GPU is untyped).
    A node with one kind is its own one offer."""
    if len(shape.gpus) <= 1:
        return (("any", shape),)
    types = gres_types(shape)
    typed = [(name, offered_strictly(shape, name)) for name in types]
    found = [("any", offered(shape)), *typed]
    if len(types) > 1 and all(k.gres is not None for k in shape.gpus):
        found.append(("by type", replace(shape, gpus=tuple(o.gpus[0] for _, o in typed))))
    return tuple(found)


def by_types(shape: Shape) -> Shape | None:
    """The typed-list offer of a node (:func:`named_offers`); None when it has none."""
    listed = named_offers(shape)[-1]
    return listed[1] if listed[0] == "by type" else None


# How an answer asks for a node's GPUs: any of them (None), by one GRES type ("a100"), or by a
# typed list ((("a100", 1), ("v100", 1)): --gpus-per-node=a100:1,v100:1)
GpuWay = str | tuple[tuple[str, int], ...] | None


def given(shape: Shape, way: GpuWay, n_gpus: int) -> Shape | None:
    """What a node of ``shape`` gives a job asking ``n_gpus`` GPUs per node ``way``, or None
    when Slurm never places the job there (fewer GPUs than asked, of each type asked).

    A typed list gives, for each (type, count), ``count`` GPUs of that type (or whose type
    nothing states), any of them: one kind per type that a request fits only when every GPU
    Slurm may give for it does."""
    if not isinstance(way, tuple):
        offer = offered(shape, way)
        return offer if offer.gpu_count >= n_gpus else None
    kinds = []
    for name, count in way:
        of_type = offered(shape, name)  # one kind (or none) standing for that type's GPUs
        if of_type.gpu_count < count:
            return None
        kinds.append(replace(of_type.gpus[0], count=count))
    return replace(shape, gpus=tuple(kinds))


def gres_types(shape: Shape) -> tuple[str, ...]:
    """The GRES types a node's GPUs are stated as, in order: each is a way to ask for them
    beside the untyped one (:func:`offers`)."""
    return tuple(dict.fromkeys(k.gres for k in shape.gpus if k.gres is not None))


def offered_strictly(shape: Shape, gpu_type: str) -> Shape:
    """The GPUs of a node that are of GRES type ``gpu_type`` (as stated), as one kind."""
    kinds = tuple(k for k in shape.gpus if k.gres == gpu_type)
    return replace(shape, gpus=(meet(kinds),))


def _smallest(*limits: int | None) -> int | None:
    known = [x for x in limits if x is not None]
    return min(known) if known else None


SLURM_MEMORY_UNIT = 2**20  # Slurm holds node memory and memory per CPU in whole MiB
SLURM_TIME_UNIT = 60  # and time limits in whole minutes


def _slurm_floor(value: int | None, unit: int) -> int | None:
    """A capacity as Slurm holds it: rounded down to its unit."""
    return None if value is None else value - value % unit


def slurm_shape(
    launcher: SlurmLauncherConfig,
    conf: Configuration,
    qos: Qos | None,
    kinds: tuple[GpuConfig, ...] | None = None,
    partition: Partition | None = None,
) -> Shape:
    """The shape of a Slurm candidate, in Slurm's own units; ``kinds`` are the node's kinds of
    GPU (default: the one of ``conf.gpu``).

    Slurm holds memory in whole MiB and time limits in whole minutes, and what reqsolve emits
    is rounded up to those units (``--mem`` to the MiB above, ``--time`` seconds to the minute
    above, by Slurm). Flooring the capacity here makes "fits" mean "what will be emitted is at
    most what Slurm has": a node written ``memory: 1000M`` is 953 MiB to Slurm, and a request
    for 1000M (954 MiB once emitted) does not fit it. For a capacity that is a whole number of
    units, ``asked <= capacity`` and ``ceil(asked) <= capacity`` are the same test.
    """
    qos_limit = qos.max_duration if qos is not None else None
    limit = _smallest(qos_limit, conf.max_duration)
    max_duration = _slurm_floor(limit, SLURM_TIME_UNIT)
    source = None
    if limit is not None:
        source = f"QoS {qos.name}" if qos is not None and qos_limit == limit else None
        source = source or "configuration"
    gpus = tuple(
        gpu_kind(gpu.count, gpu) for gpu in (kinds or (conf.gpu,)) if gpu.count
    )
    min_gpu = qos.min_gpu if qos is not None else 0
    return Shape(
        cores=conf.cpu.cores,
        memory=_slurm_floor(conf.cpu.memory, SLURM_MEMORY_UNIT),
        mem_per_cpu=_slurm_floor(conf.cpu.mem_per_cpu, SLURM_MEMORY_UNIT),
        memory_option=launcher.memory_option_of(partition),
        gpus=gpus,
        max_duration=max_duration,
        duration_source=source,
        min_gpu=min_gpu,
        min_gpu_source=f"QoS {qos.name}" if qos is not None and min_gpu else None,
        max_nodes=partition.max_nodes if partition is not None else None,
        nodes_source=(
            f"partition {partition.name}"
            if partition is not None and partition.max_nodes is not None
            else None
        ),
    )


def local_shape(launcher: LocalLauncherConfig) -> Shape:
    gpus = tuple(GpuKind(g.count, g.memory, 0, g.model) for g in launcher.gpus if g.count > 0)
    return Shape(
        cores=launcher.cpu.cores,
        memory=launcher.cpu.memory,
        mem_per_cpu=launcher.cpu.mem_per_cpu,
        memory_option="mem",
        gpus=gpus,
        max_duration=None,
        duration_source=None,
        min_gpu=0,
        max_nodes=1,
        nodes_source="a local launcher",
    )


class _Interner:
    """Hands out one object per distinct shape so caches keyed on shapes stay small."""

    def __init__(self) -> None:
        self.index: dict[Shape, int] = {}
        self.shapes: list[Shape] = []

    def add(self, shape: Shape) -> int:
        found = self.index.get(shape)
        if found is None:
            found = self.index[shape] = len(self.shapes)
            self.shapes.append(shape)
        return found


def compile_slurm(launcher: SlurmLauncherConfig, position: int) -> CompiledLauncher:
    interner = _Interner()
    candidates: list[Candidate] = []
    shape_index: list[int] = []
    slots: list[GroupSlot] = []
    # Node groups repeat (same features, same configuration; one group per host writes the same
    # few hundred thousands of times): what a group yields apart from its index and hosts — its
    # (QoS, account, priority, shape) entries, its shapes by QoS/account, its feature set — is
    # computed once per kind and shared. Keyed by the configuration's identity (the loader
    # interns configurations; equal ones that are distinct objects only cost a second entry).
    recipes: dict[
        tuple[int, tuple[str, ...], int, tuple[GpuConfig, ...]],
        tuple[
            tuple[tuple[str | None, str | None, int, Shape, int], ...],
            dict[tuple[str | None, str | None], Shape],
            frozenset[str],
        ],
    ] = {}
    # each (configuration, QoS) shape once, keyed by identity (configurations kept by conf_of),
    # and by what a partition adds to it (its MaxNodes, its memory dialect)
    shape_ids: dict[tuple[int, str | None, tuple[GpuConfig, ...], str | None, str], int] = {}
    conf_of: dict[tuple[tuple[str, ...], int], Configuration] = {}
    launcher_id = launcher.id
    ruled_out: list[tuple[str, str | None, str | None, str]] = []
    for p_index, partition in enumerate(() if launcher.disabled else launcher.partitions):
        if partition.disabled:
            continue
        qos_list: list[Qos | None] = [
            launcher.qos_named(name) or Qos(name) for name in partition.qos
        ] or [None]
        accounts: list[str | None] = list(partition.accounts) or [None]
        partition_name = partition.name
        # accounts of each QoS the user may submit with: all of them, unless discovery says
        # otherwise (the filter costs nothing without it)
        accounts_of: dict[str | None, list[str | None]] | None = None
        if launcher.access is not None:
            accounts_of, qos_list = _allowed(launcher, partition_name, qos_list, accounts,
                                             ruled_out)
            if not qos_list:
                continue
        for g_index, group in enumerate(partition.nodes):
            features = group.features
            key = (p_index, features, id(group.configuration), group.gpus)
            recipe = recipes.get(key)
            if recipe is None:
                conf, kinds = group_gpus(launcher, partition, group)
                conf_of[(features, id(conf))] = conf  # keeps it alive for shape_ids' key
                entries: list[tuple[str | None, str | None, int, Shape, int]] = []
                shapes: dict[tuple[str | None, str | None], Shape] = {}
                # a node with several kinds of GPU is one candidate per way to ask for them
                # (untyped, by GRES type, by typed list); its slot keeps all its kinds for the
                # soundness rule. Entries come offer after offer, each with every QoS and account.
                by_qos: list[tuple[str | None, int, tuple[tuple[Shape, int], ...]]] = []
                memory_option = launcher.memory_option_of(partition)
                for qos in qos_list:
                    qos_name = None if qos is None else qos.name
                    # a partition's MaxNodes is part of its shapes (only where it is set)
                    limit = None if partition.max_nodes is None else partition_name
                    shape_key = (id(conf), qos_name, kinds, limit, memory_option)
                    shape_id = shape_ids.get(shape_key)
                    if shape_id is None:
                        shape = slurm_shape(launcher, conf, qos, kinds, partition)
                        shape_id = shape_ids[shape_key] = interner.add(shape)
                    shape = interner.shapes[shape_id]
                    priority = partition.priority + (qos.priority if qos else 0)
                    for account in accounts if accounts_of is None else accounts_of[qos_name]:
                        shapes[(qos_name, account)] = shape
                    if len(shape.gpus) > 1:
                        choices = tuple(
                            (offer, interner.add(offer)) for offer in offers(shape)
                        )
                    else:
                        choices = ((shape, shape_id),)
                    by_qos.append((qos_name, priority, choices))
                for offer_index in range(len(by_qos[0][2])):
                    for qos_name, priority, choices in by_qos:
                        offer_id = choices[offer_index][1]
                        for account in (
                            accounts if accounts_of is None else accounts_of[qos_name]
                        ):
                            entries.append(
                                (qos_name, account, priority, interner.shapes[offer_id], offer_id)
                            )
                recipe = recipes[key] = (tuple(entries), shapes, frozenset(features))
            hosts = group.hosts
            for qos_name, account, priority, shape, shape_id in recipe[0]:
                candidates.append(
                    Candidate(
                        launcher_id,
                        partition_name,
                        p_index,
                        g_index,
                        qos_name,
                        account,
                        priority,
                        hosts,
                        features,
                        shape,
                    )
                )
                shape_index.append(shape_id)
            slots.append(
                GroupSlot(
                    partition_name,
                    p_index,
                    g_index,
                    hosts,
                    features,
                    recipe[1],
                    recipe[2],
                )
            )
    return CompiledLauncher(
        config=launcher,
        position=position,
        candidates=tuple(candidates),
        slots=tuple(slots),
        shapes=tuple(interner.shapes),
        shape_index=tuple(shape_index),
        ruled_out=tuple(ruled_out),
    )


def _allowed(
    launcher: SlurmLauncherConfig,
    partition: str,
    qos_list: list[Qos | None],
    accounts: list[str | None],
    ruled_out: list[tuple[str, str | None, str | None, str]],
) -> tuple[dict[str | None, list[str | None]], list[Qos | None]]:
    """The accounts the user may use with each QoS of ``partition``, and the QoS left with at
    least one; each combination ruled out is added to ``ruled_out`` with its reason."""
    access = launcher.access
    assert access is not None
    accounts_of: dict[str | None, list[str | None]] = {}
    kept: list[Qos | None] = []
    for qos in qos_list:
        qos_name = None if qos is None else qos.name
        allowed: list[str | None] = []
        for account in accounts:
            why = access.refusal(partition, qos_name, account)
            if why is None:
                allowed.append(account)
            else:
                ruled_out.append((partition, qos_name, account, why))
        if allowed:
            accounts_of[qos_name] = allowed
            kept.append(qos)
    return accounts_of, kept


def compile_local(launcher: LocalLauncherConfig, position: int) -> CompiledLauncher:
    if launcher.disabled:
        return CompiledLauncher(config=launcher, position=position, candidates=())
    shape = local_shape(launcher)
    candidate = Candidate(
        launcher=launcher.id,
        partition=None,
        partition_index=None,
        group=None,
        qos=None,
        account=None,
        priority=0,
        hosts=(),
        features=(),
        shape=shape,
    )
    return CompiledLauncher(
        config=launcher,
        position=position,
        candidates=(candidate,),
        shapes=(shape,),
        shape_index=(0,),
    )


def compile_launcher(launcher: LauncherConfig, position: int) -> CompiledLauncher:
    if isinstance(launcher, LocalLauncherConfig):
        return compile_local(launcher, position)
    return compile_slurm(launcher, position)


def expand_candidates(launchers: LauncherFile) -> tuple[CompiledLauncher, ...]:
    """Every launcher of the file compiled, in file order (disabled ones have no candidate).

    The cyclic collector is paused meanwhile, as while loading: compiling allocates an object
    per candidate and frees none, so each collector pass would walk the whole loaded file
    again (it doubled the time of a 10,000-group file); nothing built here holds a cycle.
    """
    with collector_paused():
        return tuple(
            compile_launcher(launcher, i) for i, launcher in enumerate(launchers.launchers)
        )
