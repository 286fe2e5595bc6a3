"""The chooser's index over one launcher's candidates: what a query searches, built once.

A cluster of 10,000 single-host node groups has a few hundred *classes* of candidates that
answer every query alike (same shape, priority, QoS, account, partition and feature set), and
fewer classes of node groups as the soundness rule sees them. Choosing (:mod:`reqsolve.choosing`)
and the soundness rule (:mod:`reqsolve.answers.emit`) work on those classes and expand to
candidates only for the answer; this module builds them, and the orders a query walks them in.
It reads candidates and node groups but never builds them (:mod:`reqsolve.candidates` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: candidates builds the index, it does not need it back
    from reqsolve.places import Candidate, GroupSlot, Shape


@dataclass(frozen=True, slots=True)
class CandidateClass:
    """Candidates that answer every query alike: same shape, priority, QoS, account,
    partition and feature set. Choosing works on classes — a cluster of 10,000 single-host
    groups has a few hundred — and expands to candidates only for the answer."""

    shape_id: int
    priority: int
    qos: str | None
    account: str | None
    partition_index: int | None
    features: frozenset[str]
    has_features: bool
    members: tuple[int, ...]  # indices into ``CompiledLauncher.candidates``, file order

    @property
    def first(self) -> int:
        return self.members[0]


@dataclass(frozen=True, slots=True)
class SlotClass:
    """Node groups of one partition that the soundness rule treats alike: same feature set and
    same shape under every QoS/account. ``hosts`` are the names of its named groups;
    ``hostless`` the indices of its groups without names."""

    partition: str
    partition_index: int
    feature_set: frozenset[str]
    shapes: Mapping[tuple[str | None, str | None], Shape]
    hosts: tuple[str, ...]
    hostless: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SearchIndex:
    """Candidates and node groups by class, and the orders a query walks them in.

    ``search``: each distinct shape once, in the order its first class comes when classes are
    sorted by (decreasing priority, file order), with that class — the first shape that fits
    gives the first candidate. ``parts``: each shape as (max_duration, min_gpu, index in
    ``hardware``), its limits apart from its node, so that a query judges each distinct node
    once (a handful of QoS share nodes). ``tiers``: classes by (priority, QoS, account), in
    file order — what a query keeps beside the first. ``shape_first``: the first candidate of
    each shape. ``slot_classes``: node groups by partition, by class. ``mixed``: partitions
    holding a node with several kinds of GPU (one candidate per way to ask for them).
    """

    classes: tuple[CandidateClass, ...]
    search: tuple[tuple[int, CandidateClass], ...]
    parts: tuple[tuple[int | None, int, int], ...]
    hardware: tuple[Shape, ...]
    tiers: Mapping[tuple[int, str | None, str | None], tuple[CandidateClass, ...]]
    shape_first: Mapping[int, int]
    by_partition: Mapping[int, tuple[GroupSlot, ...]]
    slot_classes: Mapping[int, tuple[SlotClass, ...]]
    mixed: frozenset[int]

    @classmethod
    def build(
        cls,
        candidates: tuple[Candidate, ...],
        shapes: tuple[Shape, ...],
        shape_index: tuple[int, ...],
        slots: tuple[GroupSlot, ...],
    ) -> SearchIndex:
        classes = _candidate_classes(candidates, shape_index)
        search: dict[int, CandidateClass] = {}
        for klass in sorted(classes, key=lambda k: (-k.priority, k.first)):
            search.setdefault(klass.shape_id, klass)
        tiers: dict[tuple[int, str | None, str | None], list[CandidateClass]] = {}
        for klass in sorted(classes, key=lambda k: k.first):
            tiers.setdefault((klass.priority, klass.qos, klass.account), []).append(klass)
        hardware: dict[Shape, int] = {}
        parts = []
        for shape in shapes:
            bare = replace(
                shape, max_duration=None, duration_source=None, min_gpu=0, min_gpu_source=None
            )
            node = hardware.setdefault(bare, len(hardware))
            parts.append((shape.max_duration, shape.min_gpu, node))
        shape_first: dict[int, int] = {}
        for position, shape_id in enumerate(shape_index):
            shape_first.setdefault(shape_id, position)
        grouped: dict[int, list[GroupSlot]] = {}
        for slot in slots:
            grouped.setdefault(slot.partition_index, []).append(slot)
        by_partition = {index: tuple(group) for index, group in grouped.items()}
        slot_classes = {i: _slot_classes(group) for i, group in by_partition.items()}
        return cls(
            classes=classes,
            search=tuple(search.items()),
            parts=tuple(parts),
            hardware=tuple(hardware),
            tiers={key: tuple(value) for key, value in tiers.items()},
            shape_first=shape_first,
            by_partition=by_partition,
            slot_classes=slot_classes,
            mixed=frozenset(
                index
                for index, classes in slot_classes.items()
                if any(len(shape.gpus) > 1 for c in classes for shape in c.shapes.values())
            ),
        )


def _slot_classes(slots: tuple[GroupSlot, ...]) -> tuple[SlotClass, ...]:
    found: dict[tuple[object, ...], tuple[GroupSlot, list[str], list[int]]] = {}
    # groups of one kind share their shapes mapping: describe each mapping object once
    described: dict[int, tuple[object, ...]] = {}
    for slot in slots:
        shapes = slot.shapes
        content = described.get(id(shapes))
        if content is None:
            content = described[id(shapes)] = tuple((k, id(v)) for k, v in shapes.items())
        key = (slot.feature_set, content)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = (slot, [], [])
        if slot.hosts:
            entry[1].extend(slot.hosts)
        else:
            entry[2].append(slot.group)
    return tuple(
        SlotClass(
            first.partition,
            first.partition_index,
            first.feature_set,
            first.shapes,
            tuple(hosts),
            tuple(hostless),
        )
        for first, hosts, hostless in found.values()
    )


# shape id, priority, qos, account, partition index, features, has features
ClassKey = tuple[int, int, str | None, str | None, int | None, frozenset[str], bool]


def _candidate_classes(
    candidates: tuple[Candidate, ...], shape_index: tuple[int, ...]
) -> tuple[CandidateClass, ...]:
    found: dict[ClassKey, list[int]] = {}
    # candidates of one group share their features tuple: one frozenset per tuple object
    feature_sets: dict[int, frozenset[str]] = {}
    for position, (candidate, shape_id) in enumerate(zip(candidates, shape_index, strict=True)):
        features = candidate.features
        feature_set = feature_sets.get(id(features))
        if feature_set is None:
            feature_set = feature_sets[id(features)] = frozenset(features)
        key = (
            shape_id,
            candidate.priority,
            candidate.qos,
            candidate.account,
            candidate.partition_index,
            feature_set,
            bool(features),
        )
        members = found.get(key)
        if members is None:
            found[key] = [position]
        else:
            members.append(position)
    return tuple(CandidateClass(*key, members=tuple(members)) for key, members in found.items())


