"""Kept candidates -> one sound set of Slurm options (docs/semantics.md §6).

The partition list and the feature constraint select nodes; Slurm may start the job on *any*
node they admit. So before answering, every node group of the emitted partitions that the
constraint admits is checked against the alternative under its own configuration (and the
chosen QoS/account): a group that cannot run the job is excluded by host name, and a partition
holding such a group without host names is dropped from the answer. That is the soundness rule;
experimaestro skips it and can land a job on a node that cannot run it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from reqsolve.answers.options import SlurmOptions
from reqsolve.candidates import CompiledLauncher, GpuWay, by_types, given, gres_types, offered
from reqsolve.gpu_placement import assign_gpus
from reqsolve.matching import Ask, evaluate, mib_per_gpu
from reqsolve.places import Candidate, Shape
from reqsolve.requirement import Alternative
from reqsolve.search_index import CandidateClass, SlotClass
from reqsolve.units import MIB, format_duration, format_mem_mib, format_time


@dataclass(frozen=True, slots=True)
class Emitted:
    """The options, and the kept candidates they stand for; or, when every partition was
    dropped, ``options`` None and ``dropped`` saying why for each kept candidate. ``notes``:
    what the options decided that the alternative did not say, for a person (:func:`notes`)."""

    options: SlurmOptions | None
    kept: tuple[Candidate, ...]
    dropped: tuple[tuple[Candidate, str], ...] = ()
    notes: tuple[str, ...] = ()


def constraint_text(clauses: Sequence[tuple[str, ...]]) -> str:
    """``A&B`` for one clause, ``(A&B)|(C&D)`` for several; clauses sorted, features sorted.
    A clause holding another is dropped: ``(A&B&C)|(A&B)`` admits the nodes ``A&B`` admits."""
    sets = {frozenset(clause) for clause in clauses}
    kept = [c for c in sets if not any(other < c for other in sets)]
    texts = sorted("&".join(sorted(clause)) for clause in kept)
    if len(texts) == 1:
        return texts[0]
    return "|".join(f"({text})" for text in texts)


def uses_mem_per_cpu(shape: Shape, alternative: Alternative) -> bool:
    return (
        shape.memory_option == "mem-per-cpu"
        and alternative.cpu is not None
        and alternative.cpu.memory > 0
    )


def emit(
    launcher: CompiledLauncher,
    alternative: Alternative,
    kept: Sequence[CandidateClass],
    cpus: int | None,
    ask: Ask | None = None,
) -> Emitted:
    """SlurmOptions for the kept candidates of a slurm launcher, after the soundness rule.

    ``kept`` are classes of candidates in file order; ``cpus`` is the first one's
    ``--cpus-per-task`` (they share QoS, account and — when it matters — mem_per_cpu).
    ``ask`` is the alternative as the query prepared it (made here when not given).
    """
    config = launcher.config
    assert config.type == "slurm"
    candidates = launcher.candidates
    current = list(kept)
    ask = ask if ask is not None else Ask(alternative)
    dropped: list[tuple[Candidate, str]] = []
    listed: GpuWay = None  # a typed list, when the kept candidates need one
    if ask.n_gpus and any(k.partition_index in launcher.index.mixed for k in current):
        current, left, way = _one_way(launcher, current, ask, cpus)
        dropped.extend((candidates[i], ASKED_OTHERWISE) for k in left for i in k.members)
        listed = way if isinstance(way, tuple) else None
    while current:
        qos, account = current[0].qos, current[0].account
        partitions = sorted({k.partition_index for k in current if k.partition_index is not None})
        clauses: list[frozenset[str]] | None = None
        if config.use_features and all(k.has_features for k in current):
            clauses = list({k.features for k in current})
        whole = _wholly_kept(launcher, current)
        admitted = _admitted(launcher, partitions, clauses)
        checked = [(i, slot) for i, slot in admitted if i not in whole]
        constraint = constraint_text([tuple(c) for c in clauses]) if clauses else None
        under = (qos, account)
        gpu_way: GpuWay = listed
        exclude, bad_partitions = _admitted_misfits(checked, under, ask, cpus, listed, constraint)
        if (exclude or bad_partitions) and ask.n_gpus and listed is None:
            # one typed request (--gpus-per-node=a100:2) keeps Slurm off the other GPUs when
            # every kept candidate runs the job on GPUs of that type alone
            for name in _shared_types(launcher, current, ask, cpus):
                typed = _admitted_misfits(checked, under, ask, cpus, name, constraint)
                if not typed[1] and (bad_partitions or len(typed[0]) < len(exclude)):
                    gpu_way, (exclude, bad_partitions) = name, typed
                    if not exclude:
                        break
        if bad_partitions:
            current = _drop_partitions(current, bad_partitions, candidates, dropped)
            continue
        if exclude:
            # a kept group whose every host is excluded (a name shared with a bad group) is gone
            changed = False
            remaining: list[CandidateClass] = []
            for k in current:
                members = []
                for i in k.members:
                    hosts = candidates[i].hosts
                    if hosts and all(h in exclude for h in hosts):
                        dropped.append((candidates[i], EXCLUDED))
                        changed = True
                    else:
                        members.append(i)
                if members:
                    remaining.append(replace(k, members=tuple(members)))
            if changed:
                current = remaining
                continue
        if alternative.nodes > 1:
            short = _short_of_nodes(launcher, admitted, exclude, under, ask, cpus, gpu_way)
            if short:
                current = _drop_partitions(current, short, candidates, dropped)
                continue
        names = {k.partition_index: candidates[k.first].partition for k in current}
        chosen = (
            None
            if alternative.duration
            else _admitted_limit(admitted, exclude, under, ask.n_gpus, gpu_way)
        )
        duration = alternative.duration or chosen
        dialect = launcher.shapes[current[0].shape_id].memory_option  # the kept ones share it
        options = SlurmOptions(
            partition=",".join(str(names[i]) for i in partitions),
            constraint=constraint,
            exclude=",".join(exclude) if exclude else None,
            gpus_per_node=len(alternative.gpus) or None,
            gpu_type=gpu_way if isinstance(gpu_way, str) else None,
            gpu_types=gpu_way if isinstance(gpu_way, tuple) else None,
            gpu_option="gres" if config.gpu_option == "gres" else None,
            cpus_per_task=cpus,
            mem=_mem(dialect, alternative),
            mem_per_gpu=_mem_per_gpu(dialect, alternative),
            time=format_time(duration) if duration else None,
            qos=qos,
            account=account,
            nodes=alternative.nodes,
            ntasks_per_node=alternative.tasks or None,
        )
        members = sorted(i for k in current for i in k.members)
        said = notes(chosen) + _per_gpu_note(options, alternative)
        return Emitted(options, tuple(candidates[i] for i in members), tuple(dropped), said)
    return Emitted(None, (), tuple(dropped))


def notes(chosen_time: int | None) -> tuple[str, ...]:
    """What the options decided that the alternative did not say: with no duration asked, the
    ``--time`` chosen (``chosen_time`` seconds; None when none was chosen) — Slurm would
    otherwise apply the partition's default time, which the chosen QoS may refuse
    (docs/matching.md, "No duration asked")."""
    if chosen_time is None:
        return ()
    return (f"no duration asked: the job gets the chosen limit, {format_duration(chosen_time)}",)


def _per_gpu_note(options: SlurmOptions, alternative: Alternative) -> tuple[str, ...]:
    """With memory asked per GPU, what Slurm allocates on each node: the memory asked is
    written per node, the option per GPU (docs/semantics.md §6, "Memory dialects")."""
    if options.mem_per_gpu is None:
        return ()
    gpus = len(alternative.gpus)
    assert alternative.cpu is not None  # memory was asked: that is what mem_per_gpu says
    per = mib_per_gpu(alternative.cpu.memory, gpus)  # the number the option was written from
    return (
        f"memory asked per GPU (memory_option: mem-per-gpu): --mem-per-gpu={per}M x {gpus}"
        f" GPU(s) = {per * gpus}MiB on each node",
    )


def _admitted_limit(
    admitted: Sequence[tuple[int, SlotClass]],
    exclude: dict[str, None],
    under: tuple[str | None, str | None],
    n_gpus: int,
    gpu_way: GpuWay,
) -> int | None:
    """With no duration asked, the time to emit: the smallest limit of the admitted nodes.

    Without ``--time`` Slurm applies the partition's default time, which the chosen QoS may
    refuse; so the job asks for the chosen limit (docs/matching.md, "No duration asked").
    Every node the options admit is counted — one that the partitions, the constraint and the
    exclusions let Slurm pick and that Slurm would place the job on: the job may land on any
    of them, so it asks no more than the smallest of their limits. A node with fewer GPUs
    (of each type, when typed) than the ``n_gpus`` asked per node is never placed, so its
    limit does not count (a node short of the memory or cores asked is excluded already, or
    its partition dropped). None when no admitted node has a limit.
    """
    limits = [
        limit
        for _, slot in admitted
        if slot.hostless or not all(host in exclude for host in slot.hosts)
        if (limit := slot.shapes[under].max_duration) is not None
        if not n_gpus or given(slot.shapes[under], gpu_way, n_gpus) is not None
    ]
    return min(limits) if limits else None


def _admitted(
    launcher: CompiledLauncher,
    partitions: Iterable[int],
    clauses: Sequence[frozenset[str]] | None,
) -> list[tuple[int, SlotClass]]:
    """The node groups (by class) that these partitions and this constraint let Slurm pick,
    with their partition's index: the one admission test of the soundness rule, made once per
    set of options (the exclusions and the time limit read it)."""
    return [
        (index, slot)
        for index in partitions
        for slot in launcher.index.slot_classes.get(index, ())
        if clauses is None or any(c <= slot.feature_set for c in clauses)
    ]


ASKED_OTHERWISE = (
    "not kept: its GPUs are of several kinds, and the way to ask for them that the first kept"
    " candidate needs (untyped, by one GRES type or by a typed list) does not run the job here"
)


def _node_shape(launcher: CompiledLauncher, klass: CandidateClass) -> Shape:
    """All the GPUs of a kept candidate's node (a candidate of a node with several kinds of
    GPU has only those of one way to ask for them)."""
    first = launcher.candidates[klass.first]
    assert klass.partition_index is not None and first.group is not None
    slot = launcher.index.by_partition[klass.partition_index][first.group]
    return slot.shapes[(klass.qos, klass.account)]


def _one_way(
    launcher: CompiledLauncher,
    kept: list[CandidateClass],
    ask: Ask,
    cpus: int | None,
) -> tuple[list[CandidateClass], list[CandidateClass], GpuWay]:
    """The kept candidates that run the job asked one way, the others, and the way.

    The way is the first kept candidate's: untyped when its node runs the job on any of its
    GPUs, else typed by the first of its GRES types that does, else by a typed list: the
    count of each type that an assignment of the GPUs asked to the node's GPUs uses (one type
    alone is that type). One set of options asks one way.
    """
    node = _node_shape(launcher, kept[0])
    way: GpuWay = None
    for way in (None, *gres_types(node)):
        first = offered(node, way)
        if first.gpu_count >= ask.n_gpus and evaluate(first, ask, cpus).ok:
            break
    else:
        listed = _typed_list(node, ask)
        if listed is None:  # pragma: no cover - the first kept candidate runs one of its ways
            return kept, [], None
        way = listed[0][0] if len(listed) == 1 else listed
    keep: list[CandidateClass] = []
    left: list[CandidateClass] = []
    for klass in kept:
        offer = given(_node_shape(launcher, klass), way, ask.n_gpus)
        ok = offer is not None and evaluate(offer, ask, cpus).ok
        (keep if ok else left).append(klass)
    return keep, left, way


def _typed_list(node: Shape, ask: Ask) -> tuple[tuple[str, int], ...] | None:
    """The typed list a node runs the GPUs asked with: (type, count) in the node's type order,
    from one assignment of the GPUs asked to its GPUs by type; None when there is none."""
    listed = by_types(node)
    if listed is None:
        return None
    chosen = assign_gpus(listed.gpus, ask.alternative.gpus)
    if not isinstance(chosen, tuple):
        return None
    owner = [kind.gres for kind in listed.gpus for _ in range(kind.count)]
    counts: dict[str, int] = {}
    for host_gpu in sorted(chosen):
        name = owner[host_gpu]
        assert name is not None  # by_types: every kind is typed
        counts[name] = counts.get(name, 0) + 1
    return tuple(counts.items())


def _shared_types(
    launcher: CompiledLauncher,
    kept: Sequence[CandidateClass],
    ask: Ask,
    cpus: int | None,
) -> list[str]:
    """GRES types on which every kept candidate runs the job with GPUs of that type alone."""
    shared: set[str] | None = None
    for klass in kept:
        shape = launcher.shapes[klass.shape_id]
        types = {
            k.gres
            for k in shape.gpus
            if k.gres is not None and evaluate(offered(shape, k.gres), ask, cpus).ok
        }
        shared = types if shared is None else shared & types
        if not shared:
            return []
    return sorted(shared or ())


def _drop_partitions(
    current: list[CandidateClass],
    why: dict[int, str],
    candidates: Sequence[Candidate],
    dropped: list[tuple[Candidate, str]],
) -> list[CandidateClass]:
    """``current`` less the classes of the partitions in ``why``, whose candidates go to
    ``dropped`` with their partition's reason."""
    for k in current:
        if k.partition_index in why:
            dropped.extend((candidates[i], why[k.partition_index]) for i in k.members)
    return [k for k in current if k.partition_index not in why]


def _admitted_misfits(
    admitted: Sequence[tuple[int, SlotClass]],
    under: tuple[str | None, str | None],
    ask: Ask,
    cpus: int | None,
    gpu_way: GpuWay,
    constraint: str | None,
) -> tuple[dict[str, None], dict[int, str]]:
    """The hosts Slurm may pick for these options that cannot run the job (to exclude), and
    the partitions to drop (such a group without host names), with why.

    ``admitted`` are the groups the partitions and ``constraint`` (None: none is emitted)
    admit, less those of partitions wholly kept (they run the job); Slurm picks among them only
    those with as many GPUs as asked per node (for a typed request, of that type).
    """
    exclude: dict[str, None] = {}  # ordered set: hosts in file order
    bad_partitions: dict[int, str] = {}
    for index, slot in admitted:
        if index in bad_partitions:
            continue
        offer = given(slot.shapes[under], gpu_way, ask.n_gpus)
        if offer is None:
            continue  # Slurm never picks it: too few GPUs (of each type asked)
        verdict = evaluate(offer, ask, cpus)
        if verdict.ok:
            continue
        if slot.hostless:
            admits = (
                f"the constraint {constraint} admits it"
                if constraint is not None
                else "no --constraint is emitted to keep Slurm off it"
            )
            bad_partitions[index] = (
                f"partition {slot.partition} dropped: its node group {slot.hostless[0]}"
                f" cannot run the job ({verdict.detail}), it has no host names to --exclude"
                f" and {admits}"
            )
        else:
            exclude.update(dict.fromkeys(slot.hosts))
    return exclude, bad_partitions


def _short_of_nodes(
    launcher: CompiledLauncher,
    admitted: Sequence[tuple[int, SlotClass]],
    exclude: dict[str, None],
    under: tuple[str | None, str | None],
    ask: Ask,
    cpus: int | None,
    gpu_way: GpuWay,
) -> dict[int, str]:
    """The partitions that cannot hold the ``nodes=N`` nodes asked, with why (docs/semantics.md
    §6, "Node count"): the nodes these options admit there that run the job and are not
    excluded (a named group's hosts; a group without names, its ``count``, none when unknown)
    number fewer than N. (N over a partition's MaxNodes fails the nodes stage of each of its
    candidates: such a partition is never kept.)"""
    wanted = ask.nodes
    counted: dict[int, int] = {}
    partitions = launcher.config.partitions if launcher.config.type == "slurm" else ()
    for index, slot in admitted:
        counted.setdefault(index, 0)
        offer = given(slot.shapes[under], gpu_way, ask.n_gpus)
        if offer is None or not evaluate(offer, ask, cpus).ok:
            continue
        counted[index] += sum(host not in exclude for host in slot.hosts)
        groups = partitions[index].nodes
        counted[index] += sum(groups[g].count for g in slot.hostless)
    return {
        index: (
            f"partition {partitions[index].name} dropped: not enough nodes:"
            f" {have} admitted, {wanted} asked"
        )
        for index, have in counted.items()
        if have < wanted
    }


def _wholly_kept(launcher: CompiledLauncher, kept: Sequence[CandidateClass]) -> set[int]:
    """Partitions whose every node group is a kept candidate: each of those groups runs the
    job (kept candidates fit, with these options), so the soundness rule has nothing to check
    there. Not a partition with a node of several GPU kinds: its kept candidate may be one way
    to ask for them (by type) that these options do not use."""
    groups: dict[int, set[int | None]] = {}
    candidates = launcher.candidates
    for klass in kept:
        index = klass.partition_index
        if index is not None and index not in launcher.index.mixed:
            groups.setdefault(index, set()).update(candidates[i].group for i in klass.members)
    by_partition = launcher.index.by_partition
    return {i for i, seen in groups.items() if len(seen) == len(by_partition.get(i, ()))}


EXCLUDED = (
    "every host of this group is excluded (a host name shared with a group that cannot run"
    " the job)"
)


def _mem(dialect: str, alternative: Alternative) -> str | None:
    """``--mem``: the memory asked, when the kept candidates ask for memory per node."""
    if alternative.cpu is None or not alternative.cpu.memory or dialect != "mem":
        return None
    return format_mem_mib(alternative.cpu.memory)


def _mem_per_gpu(dialect: str, alternative: Alternative) -> str | None:
    """``--mem-per-gpu``: the memory asked per node over the GPUs asked per node, in whole MiB
    rounded up, when the kept candidates ask for memory per GPU (docs/semantics.md §6). Every
    node the options admit was judged under the same dialect (the kept candidates share it,
    and only their partitions are emitted), so on each Slurm allocates what its check counted.
    """
    cpu = alternative.cpu
    if cpu is None or not cpu.memory or dialect != "mem-per-gpu":
        return None
    return format_mem_mib(mib_per_gpu(cpu.memory, len(alternative.gpus)) * MIB)
