"""The configuration one node group of a Slurm launcher ends up with (docs/semantics.md §2, §9).

``group_configuration(launcher, partition, group) -> Configuration`` applies, later winning field
by field (even with 0): the launcher's ``configuration`` -> the partition's -> the node group's
-> the ``features:`` entries of the group's features, in the order the group lists them -> the
values decoded by ``features_regex`` from the group's features (features in the group's order,
each tried against every regex in file order with ``re.match``, i.e. at the start of the
feature; named groups ``cuda_count`` -> ``gpu.count``, ``cuda_memory`` -> ``gpu.memory``,
``cuda_model`` -> ``gpu.model``).

Regexes are compiled once per distinct pattern list and each feature is decoded once
(:func:`decode_feature` is cached), so expanding thousands of groups costs little. A value that
does not decode (``GPUM12X`` for ``cuda_memory``) is ignored here; the loader reports it for
features written in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from reqsolve.config.model import (
    Configuration,
    GpuConfig,
    NodeGroup,
    Partition,
    SlurmLauncherConfig,
)
from reqsolve.config.regex import check_features_regex, match_feature, memory_group_unit
from reqsolve.errors import InvalidValue
from reqsolve.units import parse_memory


@dataclass(frozen=True, slots=True)
class DecodedFeature:
    """What the features regexes read from one feature name (``None``: nothing)."""

    count: int | None = None
    memory: int | None = None
    model: str | None = None
    error: str | None = None  # why a matched value could not be used


NOTHING = DecodedFeature()


@lru_cache(maxsize=256)
def compiled_features_regex(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """The compiled patterns of a launcher's ``features_regex`` (loader-checked, so safe)."""
    return tuple(check_features_regex(pattern) for pattern in patterns)


@lru_cache(maxsize=65536)
def decode_feature(patterns: tuple[str, ...], feature: str) -> DecodedFeature:
    """Values the regexes decode from one feature; later regexes win field by field."""
    count: int | None = None
    memory: int | None = None
    model: str | None = None
    errors: list[str] = []
    for pattern in compiled_features_regex(patterns):
        match = match_feature(pattern, feature)
        if match is None:
            continue
        groups = match.groupdict()
        text = groups.get("cuda_count")
        if text:
            digits = text.lstrip("0") or "0"  # int() refuses text of over 4,300 digits
            if text.isdecimal() and len(digits) <= 4 and int(digits) <= 1024:
                count = int(digits)
            else:
                errors.append(f"cuda_count '{text}' is not a GPU count")
        for name, text in groups.items():
            if not text or not name.startswith("cuda_memory"):
                continue
            unit = "" if name == "cuda_memory" else memory_group_unit(name)
            if unit is None:
                continue  # not a decoded group (the linter warns)
            if not unit and text.strip().isdecimal():
                errors.append(
                    f"cuda_memory '{text}' is a number without a unit: a feature cannot be"
                    " renamed, so name the unit in the group: (?P<cuda_memory_G>\\d+) reads"
                    f" '{text}' as {text}G (docs/launchers-file.md, features_regex)"
                )
                continue
            try:
                memory = parse_memory(text + unit)
            except InvalidValue as exc:
                errors.append(f"{name} '{text}': {exc.message}")
        text = groups.get("cuda_model")
        if text:
            model = text
    if count is None and memory is None and model is None and not errors:
        return NOTHING
    return DecodedFeature(count, memory, model, "; ".join(errors) or None)


def decoded_gpu(launcher: SlurmLauncherConfig, features: tuple[str, ...]) -> GpuConfig | None:
    """The GPU fields decoded from a group's features (``None`` when nothing is decoded)."""
    if not launcher.features_regex or not features:
        return None
    count: int | None = None
    memory: int | None = None
    model: str | None = None
    for feature in features:
        decoded = decode_feature(launcher.features_regex, feature)
        if decoded is NOTHING:
            continue
        count = decoded.count if decoded.count is not None else count
        memory = decoded.memory if decoded.memory is not None else memory
        model = decoded.model if decoded.model is not None else model
    if count is None and memory is None and model is None:
        return None
    return GpuConfig(model=model, count=count, memory=memory)


def with_gres_type(launcher: SlurmLauncherConfig, gpu: GpuConfig) -> GpuConfig:
    """``gpu`` completed by the launcher's ``gres_memory`` entry of its GRES type.

    The entry is found by the GRES type, else by the model (case-insensitive). It fills the
    memory only where nothing more specific states it (a group's own ``gpu: memory``, a
    feature), and its ``model`` replaces the type as the name ``cuda(model=...)`` matches.
    """
    entry = launcher.gres_named(gpu.gres_type or gpu.model)
    if entry is None:
        return gpu
    return replace(
        gpu,
        memory=gpu.memory if gpu.memory is not None else entry.memory,
        model=entry.model if entry.model is not None else gpu.model or entry.name,
    )


def group_gpus(
    launcher: SlurmLauncherConfig, partition: Partition, group: NodeGroup
) -> tuple[Configuration, tuple[GpuConfig, ...]]:
    """The effective configuration of ``group``, and the kinds of GPU of one of its nodes.

    A group listing several kinds (``gpus:``, a node with several GRES types) gets each kind
    over the effective ``gpu:``; its configuration's ``gpu`` then counts them all and has no
    model. Otherwise the one kind is the configuration's ``gpu``.
    """
    raw = _configuration(launcher, partition, group)
    if not group.gpus:
        gpu = with_gres_type(launcher, raw.gpu) if launcher.gres_memory else raw.gpu
        if gpu is not raw.gpu:
            raw = Configuration(max_duration=raw.max_duration, cpu=raw.cpu, gpu=gpu)
        return raw, (gpu,)
    kinds = tuple(with_gres_type(launcher, raw.gpu.merged(kind)) for kind in group.gpus)
    memories = [k.memory for k in kinds]
    total = GpuConfig(
        count=sum(k.count or 0 for k in kinds),
        memory=None if None in memories else min(m for m in memories if m is not None),
    )
    return Configuration(max_duration=raw.max_duration, cpu=raw.cpu, gpu=total), kinds


def group_configuration(
    launcher: SlurmLauncherConfig, partition: Partition, group: NodeGroup
) -> Configuration:
    """The effective configuration of ``group`` in ``partition`` (see the module docstring),
    completed by the launcher's ``gres_memory`` (see :func:`group_gpus`)."""
    return group_gpus(launcher, partition, group)[0]


def _configuration(
    launcher: SlurmLauncherConfig, partition: Partition, group: NodeGroup
) -> Configuration:
    configuration = launcher.configuration.merged(partition.configuration).merged(
        group.configuration
    )
    if launcher.features and group.features:
        by_feature = dict(launcher.features)
        for feature in group.features:
            entry = by_feature.get(feature)
            if entry is not None:
                configuration = configuration.merged(entry)
    gpu = decoded_gpu(launcher, group.features)
    if gpu is not None:
        configuration = Configuration(
            max_duration=configuration.max_duration,
            cpu=configuration.cpu,
            gpu=configuration.gpu.merged(gpu),
        )
    return configuration
