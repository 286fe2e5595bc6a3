"""Readers of what Slurm prints: text and JSON in, plain records out (no subprocess here).

Slurm 22.05 prints nodes and partitions as ``Key=Value`` text (``scontrol show``, multi-line or
``--oneliner``) and nodes as JSON (``sinfo --json``, OpenAPI v0.0.38); partitions and QoS as
JSON only through slurmrestd. Later releases add ``--json`` to scontrol/sacctmgr with other
data_parser versions, so the JSON readers accept the shapes of both generations. Anything that
does not look like what Slurm prints raises :class:`SlurmQueryError`, never a bare exception.

One reader per Slurm output (text and both JSON generations), each small and independent; they
share the record types and the error wording kept here. The values inside (numbers, times, host
lists, JSON) are read by the bounded readers of :mod:`reqsolve.slurm.values`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reqsolve.answers.names import safe_name, safe_names
from reqsolve.errors import SlurmQueryError
from reqsolve.slurm.values import (
    MAX_HOSTS,
    MAX_HOSTS_PER_OUTPUT,
    GpuGres,
    expand_hostlist,
    hostlist_size,
    load_json,
    number,
    parse_gres,
    parse_key_values,
    slurm_time,
    whole,
)
from reqsolve.units import MIB

_Record = TypeVar("_Record")

NODES_COMMAND = ("scontrol", "--oneliner", "show", "nodes")
PARTITIONS_COMMAND = ("scontrol", "--oneliner", "show", "partition")
QOS_FIELDS = ("Name", "Priority", "MaxWall", "MaxTRES", "MinTRES", "Flags")
QOS_COMMAND = ("sacctmgr", "--parsable2", "show", "qos", "format=" + ",".join(QOS_FIELDS))

# Node states (upper case, any of the `+`-joined words) that keep jobs off a node.
UNUSABLE_STATES = {
    "DOWN": "down",
    "DRAIN": "drained",
    "DRAINED": "drained",
    "DRAINING": "draining",
    "FAIL": "failing",
    "FAILING": "failing",
    "NOT_RESPONDING": "not responding",
    "NO_RESPOND": "not responding",
    "FUTURE": "not yet in service (FUTURE)",
    "INVAL": "invalid (configuration mismatch)",
    "INVALID": "invalid (configuration mismatch)",
    "UNKNOWN": "in an unknown state (slurmd never registered)",
    "MAINT": "under maintenance",
    "REBOOT_ISSUED": "rebooting",
    "REBOOT_REQUESTED": "waiting for a reboot",
}


@dataclass(frozen=True, slots=True)
class NodeRecord:
    name: str
    cpus: int | None
    memory: int | None  # bytes (RealMemory is MiB)
    features: tuple[str, ...]
    gpus: tuple[GpuGres, ...]
    state: str  # as printed, e.g. IDLE+DRAIN
    partitions: tuple[str, ...]
    reason: str | None = None  # the admin's Reason= text

    @property
    def gpu_count(self) -> int:
        return sum(g.count for g in self.gpus)

    @property
    def gpu_model(self) -> str | None:
        """The model when every GPU of the node has the same declared type."""
        models = {g.model for g in self.gpus}
        if len(models) == 1:
            return next(iter(models))
        return None

    @property
    def unusable(self) -> str | None:
        """Why no job can start on this node (None when it can): ``drained (bad gpu)``."""
        words = re.split(r"[+]", self.state.upper())
        why: list[str] = []
        for word in words:
            stripped = word.rstrip("*~#!%$@^-")
            if stripped in UNUSABLE_STATES and UNUSABLE_STATES[stripped] not in why:
                why.append(UNUSABLE_STATES[stripped])
            if word.endswith("*") and "not responding" not in why:
                why.append("not responding")
        if not why:
            return None
        text = " and ".join(why)
        if self.reason:
            text += f" ({self.reason})"
        return text


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    name: str
    nodes: tuple[str, ...]  # expanded host names
    max_time: int | None  # seconds; None = UNLIMITED
    def_mem_per_cpu: int | None  # bytes
    allow_qos: tuple[str, ...] | None  # None = ALL
    allow_accounts: tuple[str, ...] | None  # None = ALL
    state: str  # UP, DOWN, DRAIN, INACTIVE
    default: bool = False
    max_nodes: int | None = None
    deny_qos: tuple[str, ...] | None = None  # None = no list
    deny_accounts: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class QosRecord:
    name: str
    max_wall: int | None  # seconds
    priority: int = 0
    min_gpus: int = 0  # MinTRES gres/gpu
    max_gpus: int | None = None  # MaxTRES(PerJob) gres/gpu
    flags: tuple[str, ...] = ()


# --------------------------------------------------------------------------- helpers


def _garbled(command: Sequence[str], message: str, text: str = "") -> SlurmQueryError:
    excerpt = text.strip().splitlines()[0][:200] if text.strip() else ""
    detail = f"{message}; output begins {excerpt!r}" if excerpt else message
    return SlurmQueryError(tuple(command), f"unexpected output: {detail}")


def _names(text: str) -> tuple[str, ...]:
    value = text.strip()
    if value in ("", "(null)", "N/A", "NONE"):
        return ()
    return tuple(n for n in value.split(",") if n)


def _allow(text: str | None, what: str) -> tuple[str, ...] | None:
    if text is None:
        return None
    value = text.strip()
    if value in ("", "ALL", "(null)"):
        return None
    return safe_names(_names(value), what)


# --------------------------------------------------------------------------- nodes


def read_nodes_text(text: str, command: Sequence[str] = NODES_COMMAND) -> list[NodeRecord]:
    """``scontrol show nodes`` (multi-line or ``--oneliner``) to node records."""
    return _read_text(text, command, "NodeName", "node", _node_from_text)


def _node_from_text(record: Mapping[str, str]) -> NodeRecord:
    name = record["NodeName"].split()[0]
    if not name:
        raise ValueError("empty NodeName")
    cpus = number(record.get("CPUEfctv", record.get("CPUTot")), f"{name} CPUTot")
    memory_mib = number(record.get("RealMemory"), f"{name} RealMemory")
    # Each node is read on its own: "(null)" means no feature, never the previous node's.
    features = _names(record.get("AvailableFeatures", record.get("Features", "")))
    # "Reason=fan failure [root@2026-11-25T12:46:02]": keep the admin's words, as JSON does
    reason = re.sub(r"\s*\[[^\]]*@[^\]]*\]$", "", record.get("Reason", ""))
    return NodeRecord(
        name=name,
        cpus=cpus,
        memory=None if memory_mib is None else memory_mib * MIB,
        features=features,
        gpus=parse_gres(record.get("Gres", "")),
        state=record.get("State", "UNKNOWN").split()[0] if record.get("State") else "UNKNOWN",
        partitions=safe_names(_names(record.get("Partitions", "")), "partition"),
        reason=reason or None,
    )


def read_nodes_json(text: str, command: Sequence[str] = ("sinfo", "--json")) -> list[NodeRecord]:
    """``sinfo --json`` / slurmrestd ``/nodes`` (v0.0.38) and the list-valued later versions."""
    return _read_json(text, command, ("nodes",), "node", _node_from_json)


def _node_from_json(node: Mapping[str, Any]) -> NodeRecord:
    name = node["name"]
    if not isinstance(name, str) or not name:
        raise ValueError("node without a name")
    features = node.get("features", "")
    if isinstance(features, list):
        feature_names = tuple(str(f) for f in features)
    else:
        feature_names = _names(str(features or ""))
    state = node.get("state", "unknown")
    words = [str(s) for s in state] if isinstance(state, list) else [str(state)]
    words += [str(s) for s in node.get("state_flags", []) or []]
    memory_mib = number(node.get("real_memory"), f"{name} real_memory")
    gres = node.get("gres", "")
    partitions = node.get("partitions", []) or []
    reason = node.get("reason") or None
    return NodeRecord(
        name=name,
        cpus=number(node.get("cpus"), f"{name} cpus"),
        memory=None if memory_mib is None else memory_mib * MIB,
        features=feature_names,
        gpus=parse_gres(gres if isinstance(gres, str) else ""),
        state="+".join(w.upper() for w in words),
        partitions=safe_names(tuple(str(p) for p in partitions), "partition"),
        reason=str(reason) if reason else None,
    )


def read_nodes(text: str, command: Sequence[str] = NODES_COMMAND) -> list[NodeRecord]:
    """Nodes from either form, told apart by the first character (``{`` is JSON)."""
    if _is_json(text):
        return read_nodes_json(text, command)
    return read_nodes_text(text, command)


# --------------------------------------------------------------------------- partitions


def read_partitions_text(
    text: str, command: Sequence[str] = PARTITIONS_COMMAND
) -> list[PartitionRecord]:
    """``scontrol show partition`` (multi-line or ``--oneliner``) to partition records."""
    return _read_text(
        text, command, "PartitionName", "partition", _counted(_partition_from_text)
    )


def _partition_from_text(record: Mapping[str, str], hosts: int) -> PartitionRecord:
    name = record["PartitionName"]
    if not name:
        raise ValueError("empty PartitionName")
    safe_name(name, "partition")
    max_time = slurm_time(record.get("MaxTime", "UNLIMITED"), f"{name[:80]} MaxTime")
    mem = number(record.get("DefMemPerCPU"), f"{name} DefMemPerCPU")
    return PartitionRecord(
        name=name,
        nodes=_hosts(record.get("Nodes", ""), hosts),
        max_time=max_time,
        def_mem_per_cpu=None if mem is None else mem * MIB,
        allow_qos=_allow(record.get("AllowQos"), f"partition {name} AllowQos"),
        allow_accounts=_allow(record.get("AllowAccounts"), f"partition {name} AllowAccounts"),
        state=record.get("State", "UP"),
        default=record.get("Default", "NO") == "YES",
        max_nodes=number(record.get("MaxNodes"), f"{name} MaxNodes"),
        deny_qos=_allow(record.get("DenyQos"), f"partition {name} DenyQos"),
        deny_accounts=_allow(record.get("DenyAccounts"), f"partition {name} DenyAccounts"),
    )


_INFINITE_MINUTES = 0xFFFFFFFE


def _hosts(expression: str, limit: int) -> tuple[str, ...]:
    if limit < MAX_HOSTS and hostlist_size(expression) > limit:
        raise ValueError(
            f"the partitions name more than {MAX_HOSTS_PER_OUTPUT:,} hosts in all, more than"
            " reqsolve reads (docs/slurm.md)"
        )
    return expand_hostlist(expression)


def read_partitions_json(
    text: str, command: Sequence[str] = ("scontrol", "show", "partition", "--json")
) -> list[PartitionRecord]:
    """slurmrestd ``/partitions`` v0.0.38, or the nested shape of ``--json`` in later releases."""
    return _read_json(
        text, command, ("partitions",), "partition", _counted(_partition_from_json)
    )


def _counted(
    build: Callable[[Mapping[str, Any], int], PartitionRecord],
) -> Callable[[Mapping[str, Any]], PartitionRecord]:
    """``build`` given the hosts the output may still name (:data:`MAX_HOSTS_PER_OUTPUT` in all)."""
    left = [MAX_HOSTS_PER_OUTPUT]

    def one(record: Mapping[str, Any]) -> PartitionRecord:
        partition = build(record, min(MAX_HOSTS, left[0]))
        left[0] -= len(partition.nodes)
        return partition

    return one


def _partition_from_json(p: Mapping[str, Any], hosts: int) -> PartitionRecord:
    name = safe_name(str(p["name"]), "partition")
    if isinstance(p.get("nodes"), Mapping):  # v0.0.39+: nested objects
        nodes = p["nodes"].get("configured", "")
        minutes = number(p.get("maximums", {}).get("time"), f"{name} maximums.time")
        mem = number(p.get("defaults", {}).get("memory_per_cpu"), f"{name} memory_per_cpu")
        qos = p.get("qos", {}).get("allowed")
        accounts = p.get("accounts", {}).get("allowed")
        deny = (p.get("qos", {}).get("deny"), p.get("accounts", {}).get("deny"))
        state_value = p.get("partition", {}).get("state", ["UP"])
        state_words = state_value if isinstance(state_value, list) else [state_value]
        default = "DEFAULT" in [str(f).upper() for f in state_words]
        state_value = [w for w in state_words if str(w).upper() != "DEFAULT"] or ["UP"]
        max_nodes = number(p.get("maximums", {}).get("nodes"), f"{name} maximums.nodes")
    else:  # v0.0.38
        nodes = p.get("nodes", "")
        minutes = number(p.get("max_time_limit"), f"{name} max_time_limit")
        mem = number(p.get("default_memory_per_cpu"), f"{name} default_memory_per_cpu")
        qos = p.get("allowed_qos")
        accounts = p.get("allowed_accounts")
        deny = (p.get("denied_qos"), p.get("denied_accounts"))
        state_value = p.get("state", "UP")
        default = "default" in [str(f).lower() for f in p.get("flags", []) or []]
        max_nodes = number(p.get("maximum_nodes_per_job"), f"{name} maximum_nodes_per_job")
    if minutes is not None and (minutes < 0 or minutes >= _INFINITE_MINUTES):
        minutes = None
    if max_nodes is not None and max_nodes < 0:
        max_nodes = None
    state = "+".join(state_value) if isinstance(state_value, list) else str(state_value)
    return PartitionRecord(
        name=str(name),
        nodes=_hosts(str(nodes or ""), hosts),
        max_time=None if minutes is None else minutes * 60,
        def_mem_per_cpu=None if mem is None or mem <= 0 else mem * MIB,
        allow_qos=_allow(qos, f"partition {name} qos"),
        allow_accounts=_allow(accounts, f"partition {name} accounts"),
        state=state.upper(),
        default=bool(default),
        max_nodes=max_nodes,
        deny_qos=_allow(deny[0], f"partition {name} deny qos"),
        deny_accounts=_allow(deny[1], f"partition {name} deny accounts"),
    )


def read_partitions(
    text: str, command: Sequence[str] = PARTITIONS_COMMAND
) -> list[PartitionRecord]:
    if _is_json(text):
        return read_partitions_json(text, command)
    return read_partitions_text(text, command)


# --------------------------------------------------------------------------- QoS


def _tres_gpus(text: str) -> int | None:
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key.strip() in ("gres/gpu", "gpu") and value.strip().isdigit():
            return whole(value.strip(), f"{key.strip()} count")
    return None


def read_qos_parsable(text: str, command: Sequence[str] = QOS_COMMAND) -> list[QosRecord]:
    """``sacctmgr --parsable2 show qos`` with its header line (any field order, any extra field)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0].split("|")
    if "Name" not in header:
        raise _garbled(command, "no 'Name' column in the header line", text)
    index = {name: i for i, name in enumerate(header)}
    records = []
    for line in lines[1:]:
        cells = line.split("|")
        if len(cells) != len(header):
            raise _garbled(command, f"{len(cells)} fields where the header has {len(header)}", line)

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]].strip() if name in index else ""

        name = cell("Name")
        if not name:
            raise _garbled(command, "QoS without a name", line)
        try:
            safe_name(name, "QoS")
            max_wall = slurm_time(cell("MaxWall"), "MaxWall")
            priority = number(cell("Priority"), f"{name} Priority") or 0
            min_gpus = _tres_gpus(cell("MinTRES")) or 0
            max_gpus = _tres_gpus(cell("MaxTRES") or cell("MaxTRESPerJob"))
        except ValueError as exc:
            raise _garbled(command, f"QoS {name[:80]}: {exc}", line) from None
        records.append(
            QosRecord(
                name=name,
                max_wall=max_wall,
                priority=priority,
                min_gpus=min_gpus,
                max_gpus=max_gpus,
                flags=_names(cell("Flags")),
            )
        )
    return records


def read_qos_json(
    text: str, command: Sequence[str] = ("sacctmgr", "show", "qos", "--json")
) -> list[QosRecord]:
    """slurmrestd ``/slurmdb/qos`` (v0.0.38 key ``QOS``) or ``sacctmgr --json`` (key ``qos``)."""
    return _read_json(text, command, ("QOS", "qos"), "QoS", _qos_from_json)


def _qos_from_json(q: Mapping[str, Any]) -> QosRecord:
    name = safe_name(str(q["name"]), "QoS")
    limits = q.get("limits", {}) or {}
    wall = limits.get("max", {}).get("wall_clock", {}).get("per", {}).get("job")
    minutes = number(wall, f"{name} wall_clock")
    per_job = limits.get("max", {}).get("tres", {}).get("per", {}).get("job", []) or []
    min_job = limits.get("min", {}).get("tres", {}).get("per", {}).get("job", []) or []

    def gpus(entries: Iterable[Mapping[str, Any]]) -> int | None:
        for entry in entries:
            if entry.get("type") == "gres" and entry.get("name") == "gpu":
                return number(entry.get("count"), f"{name} gres/gpu")
        return None

    return QosRecord(
        name=name,
        max_wall=None if minutes is None else minutes * 60,
        priority=number(q.get("priority"), f"{name} priority") or 0,
        min_gpus=gpus(min_job) or 0,
        max_gpus=gpus(per_job),
        flags=tuple(str(f) for f in q.get("flags", []) or []),
    )


def read_qos(text: str, command: Sequence[str] = QOS_COMMAND) -> list[QosRecord]:
    if _is_json(text):
        return read_qos_json(text, command)
    return read_qos_parsable(text, command)


def _is_json(text: str) -> bool:
    """Which reader: Slurm's JSON is one object, its text never starts with ``{``."""
    return text.lstrip().startswith("{")


def _read_text(
    text: str,
    command: Sequence[str],
    record_key: str,
    what: str,
    build: Callable[[Mapping[str, str]], _Record],
) -> list[_Record]:
    """``scontrol show`` records built one by one; no output at all is no record.

    Output that is not blank holds at least one record: :func:`parse_key_values` refuses a
    first line that does not start one.
    """
    if not text.strip():
        return []
    try:
        return [build(record) for record in parse_key_values(text, record_key)]
    except (ValueError, KeyError) as exc:
        raise _garbled(command, f"not scontrol {what} output ({exc})", text) from None


def _read_json(
    text: str,
    command: Sequence[str],
    keys: tuple[str, ...],
    what: str,
    build: Callable[[Mapping[str, Any]], _Record],
) -> list[_Record]:
    """The list under the first of ``keys`` present (slurmrestd and ``--json`` spell some
    differently), each item built into a record."""
    data = _load_json(text, command)
    items = next((data[key] for key in keys if key in data), None)
    if not isinstance(items, list):
        raise _garbled(command, f"JSON without a {keys[-1]!r} list", text)
    try:
        return [build(item) for item in items]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _garbled(command, f"unreadable {what} in JSON ({exc})", text) from None


def _load_json(text: str, command: Sequence[str]) -> dict[str, Any]:
    try:
        data = load_json(text)
    except ValueError as exc:
        raise _garbled(command, str(exc), text) from None
    if not isinstance(data, dict):
        raise _garbled(command, "JSON is not an object", text)
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        shown = ", ".join(str(e.get("error", e) if isinstance(e, dict) else e)[:200]
                          for e in errors[:5])
        raise SlurmQueryError(tuple(command), f"Slurm reported errors: {shown}")
    return data
