"""A brute-force reference of docs/semantics.md §3–§6, for tests only, plus small model builders.

Written independently of ``reqsolve.candidates`` / ``reqsolve.matching``: configurations are merged
with plain dicts, the GPU assignment tries every permutation (no constraint library), and the
constraint of an answer is evaluated by a tiny parser. Slow and obviously right is the point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import permutations
from typing import Any

from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    LauncherFile,
    LocalLauncherConfig,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.requirement import Accelerator, Alternative

G = 10**9
GIB = 2**30
MIB = 2**20

# --- builders (keyword-friendly wrappers over the frozen model)


def conf(
    *,
    cores: int | None = None,
    memory: int | None = None,
    mem_per_cpu: int | None = None,
    gpus: int | None = None,
    gpu_memory: int | None = None,
    min_memory: int | None = None,
    ratio: float | None = None,
    model: str | None = None,
    max_duration: int | None = None,
    gres: str | None = None,
) -> Configuration:
    return Configuration(
        max_duration=max_duration,
        cpu=CpuConfig(cores=cores, memory=memory, mem_per_cpu=mem_per_cpu),
        gpu=GpuConfig(
            model=model, count=gpus, memory=gpu_memory, min_memory=min_memory, min_mem_ratio=ratio,
            gres_type=gres,
        ),
    )


def group(
    *hosts: str,
    features: tuple[str, ...] = (),
    configuration: Configuration | None = None,
    gpus: tuple[GpuConfig, ...] = (),
) -> NodeGroup:
    return NodeGroup(hosts=hosts, features=features, count=0 if hosts else 1,
                     configuration=configuration, gpus=gpus)


def partition(name: str, *groups: NodeGroup, **kwargs: Any) -> Partition:
    return Partition(name=name, nodes=groups, **kwargs)


def slurm(launcher_id: str, *partitions: Partition, **kwargs: Any) -> SlurmLauncherConfig:
    return SlurmLauncherConfig(id=launcher_id, partitions=partitions, **kwargs)


def local(launcher_id: str, **kwargs: Any) -> LocalLauncherConfig:
    return LocalLauncherConfig(id=launcher_id, **kwargs)


def launcher_file(*launchers: SlurmLauncherConfig | LocalLauncherConfig) -> LauncherFile:
    return LauncherFile(path="<test>", launchers=launchers)


# --- the reference capacity of a candidate


@dataclass(frozen=True)
class Capacity:
    cores: int | None
    memory: int | None
    mem_per_cpu: int | None
    memory_option: str  # mem, mem-per-cpu or mem-per-gpu (docs/semantics.md §6)
    # (memory, min_memory, model, GRES type) per GPU
    gpus: tuple[tuple[int | None, int, str | None, str | None], ...]
    max_duration: int | None
    min_gpu: int
    # Slurm hands out any of these GPUs, in any mix: each must fit every GPU asked
    slurm: bool = False
    # asked by a typed list: Slurm hands out any GPUs of each type, as many as listed
    by_type: bool = False


@dataclass(frozen=True)
class RefCandidate:
    launcher: str
    partition: str | None
    group: int | None
    qos: str | None
    account: str | None
    priority: int
    hosts: tuple[str, ...]
    features: tuple[str, ...]
    capacity: Capacity


def _merge(levels: list[Configuration | None]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for level in levels:
        if level is None:
            continue
        values = {
            "max_duration": level.max_duration,
            "cores": level.cpu.cores,
            "memory": level.cpu.memory,
            "mem_per_cpu": level.cpu.mem_per_cpu,
            "gpus": level.gpu.count,
            "gpu_memory": level.gpu.memory,
            "min_memory": level.gpu.min_memory,
            "ratio": level.gpu.min_mem_ratio,
            "model": level.gpu.model,
            "gres": level.gpu.gres_type,
        }
        merged.update({k: v for k, v in values.items() if v is not None})
    return merged


def _floor(value: int | None, unit: int) -> int | None:
    return None if value is None else value // unit * unit


def reference_candidates(launcher: SlurmLauncherConfig | LocalLauncherConfig) -> list[RefCandidate]:
    """Candidates of a launcher without ``features:`` / ``features_regex`` (not generated)."""
    if isinstance(launcher, LocalLauncherConfig):
        if launcher.disabled:
            return []
        gpus = tuple((g.memory, 0, g.model, None) for g in launcher.gpus for _ in range(g.count))
        capacity = Capacity(launcher.cpu.cores, launcher.cpu.memory, launcher.cpu.mem_per_cpu,
                            "mem", gpus, None, 0)
        return [RefCandidate(launcher.id, None, None, None, None, 0, (), (), capacity)]
    result = []
    declared = {q.name: q for q in launcher.qos}
    for part in launcher.partitions:
        if part.disabled:
            continue
        for index, node_group in enumerate(part.nodes):
            values = _merge([launcher.configuration, part.configuration, node_group.configuration])
            kinds = [values]
            if node_group.gpus:  # several kinds: each over the group's gpu values
                kinds = [
                    {**values, **_merge([Configuration(gpu=kind)])} for kind in node_group.gpus
                ]
            per_kind = [_gpus(launcher, kind) for kind in kinds]
            per_kind = [gpus for gpus in per_kind if gpus]
            everything = tuple(gpu for gpus in per_kind for gpu in gpus)
            # a node of several kinds: asked untyped (any of its GPUs), then by each GRES type
            # and, with two GRES types or more and every GPU typed, by a typed list
            choices = [(everything, False)]
            if len(per_kind) > 1:
                types = list(dict.fromkeys(g[3] for g in everything if g[3] is not None))
                choices += [(tuple(g for g in everything if g[3] == t), False) for t in types]
                if len(types) > 1 and all(g[3] is not None for g in everything):
                    choices.append((everything, True))
            for gpus, by_type in choices:
                for qos_name in part.qos or (None,):
                    qos = declared.get(qos_name) if qos_name else None
                    qos = qos or (Qos(qos_name) if qos_name else None)
                    limits = [x for x in (values.get("max_duration"), qos and qos.max_duration)
                              if x is not None]
                    # Slurm holds memory in whole MiB and time limits in whole minutes
                    capacity = Capacity(
                        values.get("cores"),
                        _floor(values.get("memory"), MIB),
                        _floor(values.get("mem_per_cpu"), MIB),
                        _memory_option(launcher, part),
                        gpus,
                        _floor(min(limits), 60) if limits else None,
                        qos.min_gpu if qos else 0,
                        slurm=True,
                        by_type=by_type,
                    )
                    for account in part.accounts or (None,):
                        result.append(
                            RefCandidate(
                                launcher.id,
                                part.name,
                                index,
                                qos_name,
                                account,
                                part.priority + (qos.priority if qos else 0),
                                node_group.hosts,
                                node_group.features,
                                capacity,
                            )
                        )
    return result


def _memory_option(launcher: SlurmLauncherConfig, part: Partition) -> str:
    """The dialect, read from the file's words again (docs/semantics.md §6): the partition's
    memory_option, the launcher's, then use_memory_contraint."""
    if part.memory_option is not None:
        return part.memory_option
    if launcher.memory_option is not None:
        return launcher.memory_option
    return "mem" if launcher.use_memory_constraint else "mem-per-cpu"


def _gpus(
    launcher: SlurmLauncherConfig, values: dict[str, Any]
) -> list[tuple[int | None, int, str | None, str | None]]:
    """The GPUs of one kind, the launcher's gres_memory filling what nothing states."""
    memory = values.get("gpu_memory")
    model = values.get("model")
    gres = values.get("gres")
    key = (gres or model or "").casefold()
    for entry in launcher.gres_memory:
        if key and entry.name.casefold() == key:
            memory = memory if memory is not None else entry.memory
            model = entry.model if entry.model is not None else model or entry.name
            break
    floor = values.get("min_memory") or 0
    if memory is not None and values.get("ratio"):
        ratio = Fraction(repr(values["ratio"]))
        floor = max(floor, math.ceil(Fraction(memory) * ratio))
    return [(memory, floor, model, gres) for _ in range(values.get("gpus") or 0)]


def typed(capacity: Capacity, gpu_type: str | None) -> Capacity:
    """What a job typed ``gpu_type`` gets of a node: its GPUs of that GRES type only."""
    if gpu_type is None:
        return capacity
    kept = tuple(g for g in capacity.gpus if g[3] is not None and g[3] == gpu_type)
    return Capacity(capacity.cores, capacity.memory, capacity.mem_per_cpu,
                    capacity.memory_option, kept, capacity.max_duration,
                    capacity.min_gpu, capacity.slurm)


def listed_satisfies(
    capacity: Capacity, alternative: Alternative, listed: tuple[tuple[str, int], ...]
) -> bool | None:
    """A typed list (``--gpus-per-node=a100:1,v100:2``) by brute force: None when Slurm never
    picks the node (fewer GPUs of some type than listed); else whether the GPUs asked go to
    the types, as many to each as listed, each fitting every GPU of its type (Slurm gives any
    of them). The rest of the alternative is checked untyped."""
    # each type alone is checked for the GPUs that go to it (min_gpu counts them all, below)
    of_type = {name: replace(typed(capacity, name), min_gpu=0) for name, _ in listed}
    if any(len(of_type[name].gpus) < count for name, count in listed):
        return None
    # the rest (duration, cores, memory — per GPU, in that dialect — and min_gpu) with as many
    # GPUs asked, each fitting any GPU of the node
    anything = tuple(Accelerator(memory=0, model=None) for _ in alternative.gpus)
    any_gpu = tuple((None, 0, None, gpu[3]) for gpu in capacity.gpus)
    if not reference_satisfies(replace(capacity, gpus=any_gpu, by_type=False),
                               replace(alternative, gpus=anything)):
        return False
    names = [name for name, count in listed for _ in range(count)]
    only = replace(alternative, cpu=None, duration=0)  # each GPU alone, on its type
    return any(
        all(reference_satisfies(of_type[name], replace(only, gpus=(gpu,)))
            for gpu, name in zip(alternative.gpus, order, strict=True))
        for order in set(permutations(names))
    )


def reference_satisfies(capacity: Capacity, alternative: Alternative) -> bool:
    """§4 by brute force: every permutation of host GPUs is tried for the requested ones."""
    if capacity.max_duration is not None and alternative.duration > capacity.max_duration:
        return False
    cores = alternative.cpu.cores if alternative.cpu else None
    memory = alternative.cpu.memory if alternative.cpu else 0
    if cores is not None and capacity.cores is not None and cores > capacity.cores:
        return False
    if memory and capacity.memory_option == "mem-per-gpu":
        # Slurm allocates n x --mem-per-gpu (whole MiB, rounded up) per node; none without GPUs
        n = len(alternative.gpus)
        if not n:
            return False
        allocated = n * math.ceil(Fraction(memory, n * MIB)) * MIB
        if capacity.memory is not None and allocated > capacity.memory:
            return False
    elif memory and capacity.memory is not None and memory > capacity.memory:
        return False
    if memory and capacity.memory_option == "mem-per-cpu":
        if not capacity.mem_per_cpu:
            return False
        needed = max(cores or 1, -(-memory // capacity.mem_per_cpu))
        if capacity.cores is not None and needed > capacity.cores:
            return False
    asked = alternative.gpus
    if len(asked) < capacity.min_gpu:
        return False
    if not asked:
        return True

    def fits(host: tuple[int | None, int, str | None, str | None], gpu: Any) -> bool:
        host_memory, floor, model, _ = host
        if gpu.memory and (host_memory is None or host_memory < gpu.memory):
            return False  # unknown GPU memory is never "enough" (docs/semantics.md §4.2)
        if floor > gpu.memory:
            return False
        return gpu.model is None or (model or "").casefold() == gpu.model.casefold()

    if capacity.by_type:  # each GPU asked fits every GPU of the type it goes to
        return any(
            all(
                all(fits(host, gpu) for host in capacity.gpus if host[3] == capacity.gpus[h][3])
                for h, gpu in zip(chosen, asked, strict=True)
            )
            for chosen in permutations(range(len(capacity.gpus)), len(asked))
        )
    if capacity.slurm:
        return len(asked) <= len(capacity.gpus) and all(
            fits(host, gpu) for host in capacity.gpus for gpu in asked
        )
    return any(
        all(fits(capacity.gpus[h], gpu) for h, gpu in zip(chosen, asked, strict=True))
        for chosen in permutations(range(len(capacity.gpus)), len(asked))
    )


# --- constraint strings as Slurm reads them (the subset reqsolve emits, and `A|B`)


def parse_constraint(text: str) -> Any:
    """``A&B``, ``(A&B)|(C&D)``, ``A|B`` -> ('or', [('and', [...]), ...]) trees of features."""
    tokens = re.findall(r"[()&|]|[^()&|]+", text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression() -> Any:
        terms = [term()]
        while peek() == "|":
            take()
            terms.append(term())
        return ("or", terms)

    def term() -> Any:
        factors = [factor()]
        while peek() == "&":
            take()
            factors.append(factor())
        return ("and", factors)

    def factor() -> Any:
        token = take()
        if token == "(":
            inner = expression()
            if take() != ")":
                raise ValueError(f"unbalanced constraint {text!r}")
            return inner
        if token in ")&|":
            raise ValueError(f"unexpected {token!r} in constraint {text!r}")
        return token.strip()

    tree = expression()
    if position != len(tokens):
        raise ValueError(f"trailing text in constraint {text!r}")
    return tree


def holds(tree: Any, features: set[str] | frozenset[str]) -> bool:
    if isinstance(tree, str):
        return tree in features
    kind, parts = tree
    results = (holds(part, features) for part in parts)
    return any(results) if kind == "or" else all(results)


def admitted_nodes(
    launcher: SlurmLauncherConfig, options: Any
) -> list[tuple[str, int, str]]:
    """(partition, group, host or pseudo-host) that the options let Slurm use."""
    tree = parse_constraint(options.constraint) if options.constraint else None
    exclude = set((options.exclude or "").split(",")) - {""}
    nodelist = set((options.nodelist or "").split(",")) - {""}
    names = options.partition.split(",")
    result = []
    for part in launcher.partitions:
        if part.name not in names:
            continue
        for index, node_group in enumerate(part.nodes):
            if tree is not None and not holds(tree, set(node_group.features)):
                continue
            for host in node_group.hosts or (f"<{part.name}:{index}>",):
                if host in exclude or (nodelist and host not in nodelist):
                    continue
                result.append((part.name, index, host))
    return result


# --- Slurm's reading of the options emitted (the forms reqsolve and the corpus write)


def slurm_seconds(text: str | None) -> int | None:
    """``--time`` in seconds: ``[days-][[hours:]minutes:]seconds``."""
    if text is None:
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(x) for x in clock.split(":")]
    hours, minutes, seconds = [0] * (3 - len(parts)) + parts
    return ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds


def slurm_minutes(text: str | None) -> int | None:
    """``--time`` as Slurm holds it: seconds rounded up to the minute."""
    seconds = slurm_seconds(text)
    return None if seconds is None else -(-seconds // 60)


def slurm_mib(text: str | None) -> int | None:
    """``--mem`` in MiB (no suffix, M, G or T). A size in K is refused: it is not a whole
    number of MiB, and reqsolve rounds --mem up to the MiB."""
    if text is None:
        return None
    match = re.fullmatch(r"(\d+)([KMGT]?)", text)
    assert match, text
    factor = {"K": None, "": 1, "M": 1, "G": 1024, "T": 1024**2}[match[2]]
    assert factor is not None, f"--mem in K cannot be compared in MiB: {text}"
    return int(match[1]) * factor
