"""Slurm records -> the typed launcher model, and a launcher -> launcher-file YAML text.

Hosts of one partition that Slurm describes identically (features, CPUs, memory, GPUs) form
one node group, so a 400-node cluster becomes a handful of groups. Nodes that cannot take a
job (down, drained, not responding...) are left out and remembered with the reason, so
``explain`` and ``slurm convert`` can say why a host is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from reqsolve.answers.names import SLURM_NAME_RE, safe_name
from reqsolve.config.loader import dump_yaml
from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.slurm.access import Access
from reqsolve.slurm.readers import NodeRecord, PartitionRecord, QosRecord
from reqsolve.units import MAX_BYTES, MAX_SECONDS, format_duration, format_memory

GIB, MIB = 2**30, 2**20
MAX_GPUS = 1024  # the most GPUs a launcher file states for one node (config/spec.py)


def memory_text(value: int) -> str:
    """Binary units first, as Slurm counts memory in MiB (``125GiB``, ``96000MiB``)."""
    if value and value % GIB == 0:
        return f"{value // GIB}GiB"
    if value and value % MIB == 0:
        return f"{value // MIB}MiB"
    return format_memory(value)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A host that discovery did not offer, and why (``drained (bad gpu)``)."""

    host: str
    reason: str


@dataclass(frozen=True, slots=True)
class Discovered:
    """What Slurm said, as model values, before any merge with the launcher file."""

    partitions: tuple[Partition, ...]
    qos: tuple[Qos, ...]
    left_out: tuple[LeftOut, ...] = ()
    # features no --constraint can name (``location=local``): left out of the node groups
    unusable_features: tuple[str, ...] = ()
    # what the user may submit with (docs/semantics.md §3); None: not asked (slurm convert)
    access: Access | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        """Comment lines for a written launcher file: what was not taken, and why."""
        return tuple(
            f"feature {name} left out: a --constraint cannot name it (reqsolve never asks"
            " for it; nodes having it stay usable)"
            for name in self.unusable_features
        )


def node_configuration(node: NodeRecord) -> Configuration:
    """The capacity Slurm reports for one node: CPUs, RealMemory, GPU count and GRES type.

    The GRES type is the GPU's model (``cuda(model=a100)`` matches ``gpu:a100:4``) and is kept
    as ``gres_type`` for typed requests. A node with several types has its kinds in
    :func:`node_gpus` and no count here.
    """
    cpu = CpuConfig(cores=node.cpus, memory=node.memory)
    if len(node.gpus) > 1:
        return Configuration(cpu=cpu)
    model = node.gpu_model
    return Configuration(cpu=cpu, gpu=GpuConfig(count=node.gpu_count, model=model, gres_type=model))


def node_gpus(node: NodeRecord) -> tuple[GpuConfig, ...]:
    """The kinds of GPU of a node with several GRES types (``gpu:1080ti:8,gpu:titan_x:2``);
    empty for a node with one type or none."""
    if len(node.gpus) < 2:
        return ()
    return tuple(GpuConfig(count=g.count, model=g.model, gres_type=g.model) for g in node.gpus)


def group_nodes(nodes: Iterable[NodeRecord]) -> tuple[NodeGroup, ...]:
    """Hosts with identical features and configuration, in order of first appearance."""
    groups: dict[tuple[tuple[str, ...], Configuration, tuple[GpuConfig, ...]], list[str]] = {}
    for node in nodes:
        key = (node.features, node_configuration(node), node_gpus(node))
        groups.setdefault(key, []).append(node.name)
    return tuple(
        NodeGroup(hosts=tuple(hosts), features=features, configuration=configuration, gpus=gpus)
        for (features, configuration, gpus), hosts in groups.items()
    )


def _limit(value: int | None, most: int) -> int | None:
    """A limit a launcher file can state; beyond it (a time limit over ten years, a default
    memory over 10^18 bytes) Slurm's limit is no limit in practice, and is written as none."""
    return None if value is None or value > most else value


def partition_configuration(record: PartitionRecord) -> Configuration | None:
    max_time = _limit(record.max_time, MAX_SECONDS)
    mem_per_cpu = _limit(record.def_mem_per_cpu, MAX_BYTES)
    if max_time is None and mem_per_cpu is None:
        return None
    return Configuration(max_duration=max_time, cpu=CpuConfig(mem_per_cpu=mem_per_cpu))


def to_qos(record: QosRecord) -> Qos:
    """Slurm's QoS ``Priority`` is a scheduling weight, not reqsolve's preference between
    candidates: mapped over, it would send every job to the QoS with the highest weight (often
    a restricted one). It stays 0; the launcher file sets preferences."""
    return Qos(
        name=record.name, max_duration=_limit(record.max_wall, MAX_SECONDS), min_gpu=record.min_gpus
    )


def _not_writable(node: NodeRecord) -> str | None:
    """Why no sbatch option could name this node (``--nodelist``, ``--exclude``) or its GPUs
    (``--gres=gpu:TYPE:N``), or no launcher file state it, or None: such a node is left out
    with the reason, the others stay usable (issue 24: one hostile name or absurd number no
    longer fails the whole answer, nor makes ``slurm convert`` write a file validate refuses)."""
    if SLURM_NAME_RE.fullmatch(node.name) is None:
        return _unnamable(node)
    for gpu in node.gpus:
        if gpu.model is not None and SLURM_NAME_RE.fullmatch(gpu.model) is None:
            return _unnamable(node)
        if gpu.count > MAX_GPUS:
            return f"its {node.gpu_count:,} GPUs are more than {MAX_GPUS} on one node"
    if node.memory is not None and node.memory > MAX_BYTES:
        return f"its memory ({node.memory // MIB:,} MiB) is over 10^18 bytes"
    return None


def _unnamable(node: NodeRecord) -> str | None:
    """Which name of the node no option can carry, and why."""
    try:
        safe_name(node.name, "host")
        for gpu in node.gpus:
            if gpu.model is not None:
                safe_name(gpu.model, "GRES type")
    except ValueError as exc:
        return str(exc)
    return None  # pragma: no cover - called for a name the alphabet refuses


def build(
    nodes: Sequence[NodeRecord],
    partitions: Sequence[PartitionRecord] | None = None,
    qos: Sequence[QosRecord] = (),
) -> Discovered:
    """Model partitions and QoS from Slurm records.

    Without partition records (``slurm convert`` reading nodes only), partitions are the ones
    the nodes name, in order of first appearance, with no limits.
    """
    unusable: dict[str, None] = {}
    safe_nodes = []
    for node in nodes:
        kept = tuple(f for f in node.features if SLURM_NAME_RE.fullmatch(f))
        if len(kept) != len(node.features):
            unusable.update(dict.fromkeys(f for f in node.features if f not in kept))
            node = replace(node, features=kept)
        safe_nodes.append(node)
    nodes = safe_nodes
    by_name = {node.name: node for node in nodes}
    left_out: dict[str, LeftOut] = {}
    for node in nodes:
        why = node.unusable or _not_writable(node)
        if why is not None:
            left_out[node.name] = LeftOut(node.name, why)
    if partitions is None:
        names: list[str] = []
        for node in nodes:
            for name in node.partitions:
                if name not in names:
                    names.append(name)
            if not node.partitions and node.name not in left_out:
                left_out[node.name] = LeftOut(node.name, "in no partition")
        partitions = [
            PartitionRecord(
                name=name,
                nodes=tuple(n.name for n in nodes if name in n.partitions),
                max_time=None,
                def_mem_per_cpu=None,
                allow_qos=None,
                allow_accounts=None,
                state="UP",
            )
            for name in names
        ]
    model_partitions = []
    for record in partitions:
        usable: list[NodeRecord] = []
        for host in record.nodes:
            found = by_name.get(host)
            if found is None:
                why = f"listed by partition {record.name} but not among the nodes"
                left_out.setdefault(host, LeftOut(host, why))
            elif host not in left_out:
                usable.append(found)
        model_partitions.append(
            Partition(
                name=record.name,
                nodes=group_nodes(usable),
                configuration=partition_configuration(record),
                qos=record.allow_qos or (),
                accounts=record.allow_accounts or (),
                disabled=record.state.upper() != "UP",
                max_nodes=record.max_nodes,
            )
        )
    return Discovered(
        partitions=tuple(model_partitions),
        qos=tuple(to_qos(q) for q in qos),
        left_out=tuple(left_out.values()),
        unusable_features=tuple(unusable),
    )


def launcher_from(discovered: Discovered, *, id: str = "slurm") -> SlurmLauncherConfig:
    return SlurmLauncherConfig(id=id, qos=discovered.qos, partitions=discovered.partitions)


# --------------------------------------------------------------------------- YAML


# Fields of `cpu:` and `gpu:` that hold bytes, written as memory text.
_SIZE_KEYS = frozenset({"memory", "mem_per_cpu", "min_memory"})


def _section_data(section: CpuConfig | GpuConfig) -> dict[str, Any]:
    """The fields of a section that are written (not None), keys as the file spells them."""
    data: dict[str, Any] = {}
    for field in fields(section):
        value = getattr(section, field.name)
        if value is not None:
            data[field.name] = memory_text(value) if field.name in _SIZE_KEYS else value
    return data


def _configuration_data(configuration: Configuration | None) -> dict[str, Any] | None:
    if configuration is None:
        return None
    data: dict[str, Any] = {}
    if configuration.max_duration is not None:
        data["max_duration"] = format_duration(configuration.max_duration)
    cpu = _section_data(configuration.cpu)
    if cpu:
        data["cpu"] = cpu
    gpu = _section_data(configuration.gpu)
    if gpu:
        data["gpu"] = gpu
    return data or None


def launcher_data(launcher: SlurmLauncherConfig) -> dict[str, Any]:
    """One ``slurm:`` item as plain data, writing only what differs from the defaults."""
    data: dict[str, Any] = {"id": launcher.id}
    defaults = SlurmLauncherConfig(id=launcher.id)
    if launcher.connector != defaults.connector:
        data["connector"] = launcher.connector
    if launcher.path != defaults.path:
        data["path"] = launcher.path
    if launcher.tags:
        data["tags"] = list(launcher.tags)
    if launcher.weight != defaults.weight:
        data["weight"] = launcher.weight
    if launcher.use_features != defaults.use_features:
        data["use_features"] = launcher.use_features
    if launcher.use_memory_constraint != defaults.use_memory_constraint:
        data["use_memory_contraint"] = launcher.use_memory_constraint
    if launcher.memory_option is not None:
        data["memory_option"] = launcher.memory_option
    if launcher.query_slurm:
        data["query_slurm"] = True
    if launcher.disabled:
        data["disabled"] = True
    if launcher.features_regex:
        data["features_regex"] = list(launcher.features_regex)
    if launcher.gpu_option != defaults.gpu_option:
        data["gpu_option"] = launcher.gpu_option
    if launcher.gres_memory:
        data["gres_memory"] = {
            entry.name: (
                memory_text(entry.memory)
                if entry.model is None and entry.memory is not None
                else {
                    key: value
                    for key, value in (
                        ("memory", None if entry.memory is None else memory_text(entry.memory)),
                        ("model", entry.model),
                    )
                    if value is not None
                }
            )
            for entry in launcher.gres_memory
        }
    if launcher.qos:
        qos_data: dict[str, Any] = {}
        for qos in launcher.qos:
            entry: dict[str, Any] = {}
            if qos.max_duration is not None:
                entry["max_duration"] = format_duration(qos.max_duration)
            if qos.min_gpu:
                entry["min_gpu"] = qos.min_gpu
            if qos.priority:
                entry["priority"] = qos.priority
            qos_data[qos.name] = entry
        data["qos"] = qos_data
    if launcher.features:
        data["features"] = {
            name: _configuration_data(conf) or {} for name, conf in launcher.features
        }
    top = _configuration_data(launcher.configuration)
    if top:
        data["configuration"] = top
    partitions: dict[str, Any] = {}
    for partition in launcher.partitions:
        entry = {}
        if partition.disabled:
            entry["disabled"] = True
        if partition.priority:
            entry["priority"] = partition.priority
        if partition.qos:
            entry["qos"] = list(partition.qos)
        if partition.accounts:
            entry["accounts"] = list(partition.accounts)
        if partition.max_nodes is not None:
            entry["max_nodes"] = partition.max_nodes
        if partition.memory_option is not None:
            entry["memory_option"] = partition.memory_option
        conf = _configuration_data(partition.configuration)
        if conf:
            entry["configuration"] = conf
        groups = []
        for group in partition.nodes:
            group_data: dict[str, Any] = {}
            if group.hosts:
                group_data["hosts"] = list(group.hosts)
            else:
                group_data["count"] = group.count
            if group.features:
                group_data["features"] = list(group.features)
            group_conf = _configuration_data(group.configuration)
            if group_conf:
                group_data["configuration"] = group_conf
            if group.gpus:
                group_data["gpus"] = [_section_data(gpu) for gpu in group.gpus]
            groups.append(group_data)
        entry["nodes"] = groups
        partitions[partition.name] = entry
    data["partitions"] = partitions
    return data


def launcher_yaml(
    launchers: Sequence[SlurmLauncherConfig],
    left_out: Sequence[LeftOut] = (),
    notes: Sequence[str] = (),
) -> str:
    """A launcher file holding these slurm launchers (``left_out`` hosts and ``notes`` as
    comments)."""

    lines = [f"# left out: {item.host}: {item.reason}" for item in left_out]
    lines += [f"# {note}" for note in notes]
    # one comment line each, whatever a name holds (a line break would end the comment)
    lines = ["".join(c if c.isprintable() else "?" for c in line) for line in lines]
    body = dump_yaml({"slurm": [launcher_data(launcher) for launcher in launchers]})
    return "".join(line + "\n" for line in lines) + body
