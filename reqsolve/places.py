"""The places a job could land, as the matcher and the soundness rule see them.

A :class:`Candidate` is one place (a local launcher, or partition x node group x QoS x
account) with its :class:`Shape`: the capacity and limits that decide a match, as plain integers
and without names; a :class:`GroupSlot` is a node group as the soundness rule sees it. They are
made by :mod:`reqsolve.candidates` and indexed by :mod:`reqsolve.search_index`; both read them
from here, so neither needs the other to name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reqsolve.gpu_models import ModelForm, form_matches, model_form


@dataclass(frozen=True, slots=True)
class GpuKind:
    """``count`` identical GPUs of one node.

    ``memory`` None = not known: fits only a request that states no memory. A request fits when
    ``min_memory <= asked <= memory`` and the model matches (:func:`accepts_model`, the rule of
    docs/gpu-models.md, on ``model_form``: the name read once, not per query).
    ``min_mem_ratio`` is kept only to explain where ``min_memory`` comes from.
    """

    count: int
    memory: int | None
    min_memory: int = 0
    model: str | None = None
    min_mem_ratio: float | None = None
    gres: str | None = None  # the GRES type Slurm knows them by (typed requests name it)
    # the kinds a node's GPUs are of, when this kind stands for any of them (:func:`meet`):
    # (model, count) each, for messages ("the node has 8 1080ti and 2 titan_x")
    mix: tuple[tuple[str | None, int], ...] = ()
    model_form: ModelForm | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        form = None if self.model is None else model_form(self.model)
        object.__setattr__(self, "model_form", form)

    @property
    def model_key(self) -> str | None:
        return None if self.model is None else self.model.casefold()

    def accepts_model(self, asked: str) -> bool:
        """Is this kind's GPU one of the ``asked`` model? (docs/gpu-models.md)"""
        form = self.model_form
        return form is not None and form_matches(model_form(asked), form)


@dataclass(frozen=True, slots=True)
class Shape:
    """What decides whether an alternative fits: capacity and limits, as ints (bytes, seconds).

    ``None`` means unknown (cores, memory) or unlimited (max_duration). ``duration_source``
    says which limit set ``max_duration`` (``"QoS short"`` or ``"configuration"``), for messages.
    """

    cores: int | None
    memory: int | None
    mem_per_cpu: int | None
    # how the job asks for memory (docs/semantics.md §6, "Memory dialects"): "mem" (--mem),
    # "mem-per-cpu" (memory turned into --cpus-per-task), "mem-per-gpu" (--mem-per-gpu)
    memory_option: str
    gpus: tuple[GpuKind, ...]
    max_duration: int | None
    duration_source: str | None
    min_gpu: int
    min_gpu_source: str | None = None
    # the most nodes one job may span (None: unlimited or unknown), and who says so
    # ("a local launcher", "partition p"): docs/semantics.md §4.5
    max_nodes: int | None = None
    nodes_source: str | None = None
    gpu_count: int = field(init=False, compare=False, repr=False)  # all GPUs, every kind

    def __post_init__(self) -> None:
        object.__setattr__(self, "gpu_count", sum(kind.count for kind in self.gpus))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place to run: a local launcher, or partition x node group x QoS x account.

    ``group`` is the node group's index in its partition (None for a local launcher);
    ``hosts`` is empty for a host-less group (``count:`` hosts without names).
    """

    launcher: str
    partition: str | None
    partition_index: int | None
    group: int | None
    qos: str | None
    account: str | None
    priority: int
    hosts: tuple[str, ...]
    features: tuple[str, ...]
    shape: Shape

    def where(self) -> str:
        """``manual/gpu_p4[0] qos=qos_gpu-t3 account=iea@a100`` — for messages and tables."""
        return where(self.launcher, self.partition, self.group, self.qos, self.account)


def where(
    launcher: str, partition: str | None, group: int | None, qos: str | None, account: str | None
) -> str:
    """How messages name a place to run: ``manual/gpu_p4[0] qos=qos_gpu-t3 account=iea@a100``."""
    text = launcher
    if partition is not None:
        text += f"/{partition}[{group}]"
    if qos is not None:
        text += f" qos={qos}"
    if account is not None:
        text += f" account={account}"
    return text


@dataclass(frozen=True, slots=True)
class GroupSlot:
    """A node group of an enabled partition, as the soundness rule sees it (every QoS/account)."""

    partition: str
    partition_index: int
    group: int
    hosts: tuple[str, ...]
    features: tuple[str, ...]
    # (qos, account) -> shape of this group under that QoS/account
    shapes: Mapping[tuple[str | None, str | None], Shape]
    feature_set: frozenset[str] = frozenset()
