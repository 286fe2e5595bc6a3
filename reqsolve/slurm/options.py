"""SlurmOptions: the concrete scheduler options of an answer (SEMANTICS.md §6)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

OPTION_FIELDS = (
    "account",
    "constraint",
    "cpus_per_task",
    "exclude",
    "gpus",
    "gpus_per_node",
    "mem",
    "mem_per_gpu",
    "nodelist",
    "nodes",
    "partition",
    "qos",
    "time",
)


@dataclass(frozen=True, slots=True)
class SlurmOptions:
    """Fields as the peer's; ``None`` means "do not pass this option"."""

    account: str | None = None
    constraint: str | None = None
    cpus_per_task: int | None = None
    exclude: str | None = None
    gpus: int | None = None
    gpus_per_node: int | None = None
    mem: str | None = None
    mem_per_gpu: str | None = None
    nodelist: str | None = None
    nodes: int | None = 1
    partition: str | None = None
    qos: str | None = None
    time: str | None = None

    def config(self, **changes: Any) -> SlurmOptions:
        """A changed copy (``options.config(gpus_per_node=1)``)."""
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
