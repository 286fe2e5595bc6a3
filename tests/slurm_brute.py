"""Brute force over a live lab's node table: which nodes run a job, asked which way.

Independent of reqsolve's matcher: the node and partition records come from ``scontrol``
(``reqsolve.slurm.readers`` parses the text, nothing more), GPU memory and model from the
launcher file's ``gres_memory``, and every way to ask for GPUs is tried — untyped, by one GRES
type, by every typed list over the node's types. The lab tests check reqsolve's answers
against it (tests/test_slurm_clusters.py, tests/test_slurm_lab_kinds.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from reqsolve.answers.options import SlurmOptions
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.requirement import Alternative
from reqsolve.slurm import readers
from tests.reference import holds, parse_constraint

GpuWay = str | tuple[tuple[str, int], ...] | None  # untyped, one type, a typed list


def gpus_of(node: readers.NodeRecord, config: SlurmLauncherConfig,
            gpu_type: str | None) -> list[tuple[int | None, str]]:
    """(memory, model) of every GPU Slurm may give a job on ``node``: all, or those of the
    type (Slurm compares types exactly). Memory and model from the file's gres_memory."""
    given = []
    for gres in node.gpus:
        if gpu_type is not None and gres.model != gpu_type:
            continue
        entry = config.gres_named(gres.model)
        memory = entry.memory if entry is not None else None
        model = (entry.model if entry is not None and entry.model else gres.model) or ""
        given.extend([(memory, model)] * gres.count)
    return given


def fits_every(gpu: Any, given: list[tuple[int | None, str]]) -> bool:
    """Does the GPU asked fit every GPU Slurm may give for it?"""
    return all(
        (not gpu.memory or (memory is not None and memory >= gpu.memory))
        and (gpu.model is None or gpu.model.casefold() == model.casefold())
        for memory, model in given
    )


def runs(node: readers.NodeRecord, partition: readers.PartitionRecord,
         alternative: Alternative, config: SlurmLauncherConfig, way: GpuWay) -> bool:
    """Does one node of ``partition`` run the per-node part of the job, GPUs asked ``way``?
    (``tasks=T`` makes the cores asked T x those of ``cpu()``.)"""
    if partition.max_time is not None and alternative.duration > partition.max_time:
        return False
    cpu = alternative.cpu
    if cpu is not None:
        cores = cpu.cores * (alternative.tasks or 1)
        if node.cpus is not None and cores > node.cpus:
            return False
        if cpu.memory and node.memory is not None and cpu.memory > node.memory:
            return False
    asked = alternative.gpus
    if not asked:
        return True
    if isinstance(way, tuple):  # a typed list: n GPUs of each type, any of them
        counts = dict(way)
        of_type = {name: gpus_of(node, config, name) for name in counts}
        if any(len(of_type[name]) < n for name, n in counts.items()):
            return False
        # the GPUs asked go to the types, as many to each as its count
        return any(
            all(choice.count(name) == n for name, n in counts.items())
            and all(fits_every(gpu, of_type[name]) for gpu, name in zip(asked, choice,
                                                                        strict=True))
            for choice in itertools.product(list(counts), repeat=len(asked))
        )
    given = gpus_of(node, config, way)
    if len(given) < len(asked):
        return False
    return all(fits_every(gpu, given) for gpu in asked)


def typed_lists(node: readers.NodeRecord, asked: int) -> list[GpuWay]:
    """Every typed list of ``asked`` GPUs over the node's GRES types (two types or more)."""
    types = sorted({g.model for g in node.gpus if g.model is not None})
    if len(types) < 2 or any(g.model is None for g in node.gpus):
        return []
    ways: list[GpuWay] = []
    for counts in itertools.product(range(asked + 1), repeat=len(types)):
        if sum(counts) == asked and sum(1 for n in counts if n) >= 2:
            ways.append(tuple((name, n) for name, n in zip(types, counts, strict=True) if n))
    return ways


def ways_of(node: readers.NodeRecord, asked: int) -> list[GpuWay]:
    """Every way to ask ``asked`` GPUs of a node: untyped, by each type, by each typed list."""
    return [None, *sorted({g.model for g in node.gpus if g.model is not None}),
            *typed_lists(node, asked)]


def options_way(options: SlurmOptions) -> GpuWay:
    return options.gpu_types or options.gpu_type


def picked(node: readers.NodeRecord, options: SlurmOptions) -> bool:
    """Would Slurm place the job on this node: as many GPUs (of each type asked) as asked?"""
    wanted = options.gpu_types or ((options.gpu_type, options.gpus_per_node or 0),)
    return all(sum(g.count for g in node.gpus if name is None or g.model == name) >= n
               for name, n in wanted)


def admitted(nodes: dict[str, readers.NodeRecord],
             partitions: Sequence[readers.PartitionRecord],
             options: SlurmOptions) -> list[tuple[str, str]]:
    """(partition, node) Slurm may start the job on with ``options``: in a listed partition,
    admitted by the constraint, not excluded, and picked (enough GPUs of each type)."""
    tree = parse_constraint(options.constraint) if options.constraint else None
    exclude = set((options.exclude or "").split(",")) - {""}
    names = (options.partition or "").split(",")
    found = []
    for partition in partitions:
        if partition.name not in names:
            continue
        for host in partition.nodes:
            node = nodes[host]
            if host in exclude or (tree is not None and not holds(tree, set(node.features))):
                continue
            if picked(node, options):
                found.append((partition.name, host))
    return found
