"""Launchers -> candidates (docs/semantics.md §3): expansion order, capacity, limits, priority."""

from __future__ import annotations

import pytest

from reqsolve.candidates import compile_launcher, expand_candidates, ratio_memory
from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    LocalGpu,
    Qos,
)
from tests.reference import GIB, G, conf, group, launcher_file, local, partition, slurm


def test_expansion_order_partition_group_qos_account() -> None:
    launcher = slurm(
        "s",
        partition("a", group("h1"), group("h2"), qos=("q1", "q2"), accounts=("x", "y")),
        partition("off", group("h3"), disabled=True),
        partition("b", group("h4")),
        qos=(Qos("q1"), Qos("q2")),
    )
    compiled = compile_launcher(launcher, 0)
    keys = [(c.partition, c.group, c.qos, c.account) for c in compiled.candidates]
    assert keys == [
        ("a", 0, "q1", "x"),
        ("a", 0, "q1", "y"),
        ("a", 0, "q2", "x"),
        ("a", 0, "q2", "y"),
        ("a", 1, "q1", "x"),
        ("a", 1, "q1", "y"),
        ("a", 1, "q2", "x"),
        ("a", 1, "q2", "y"),
        ("b", 0, None, None),
    ]


def test_disabled_launchers_have_no_candidate() -> None:
    compiled = expand_candidates(
        launcher_file(local("l", disabled=True), slurm("s", partition("p", group("h")),
                                                       disabled=True))
    )
    assert [c.candidates for c in compiled] == [(), ()]


@pytest.mark.parametrize(
    ("qos", "configuration", "expected", "source"),
    [
        (Qos("short", max_duration=7200), 48 * 3600, 7200, "QoS short"),
        (Qos("long", max_duration=100 * 3600), 24 * 3600, 24 * 3600, "configuration"),
        (Qos("free"), 24 * 3600, 24 * 3600, "configuration"),
        (Qos("only", max_duration=3600), None, 3600, "QoS only"),
        (None, None, None, None),
    ],
    ids=["qos-smaller", "partition-smaller", "qos-unlimited", "qos-only", "unlimited"],
)
def test_max_duration_is_the_smallest_limit(
    qos: Qos | None, configuration: int | None, expected: int | None, source: str | None
) -> None:
    launcher = slurm(
        "s",
        partition(
            "p",
            group("h"),
            configuration=conf(max_duration=configuration),
            qos=(qos.name,) if qos else (),
        ),
        qos=(qos,) if qos else (),
    )
    shape = compile_launcher(launcher, 0).candidates[0].shape
    assert shape.max_duration == expected
    assert shape.duration_source == source


def test_undeclared_qos_has_no_limits_and_priorities_add() -> None:
    launcher = slurm(
        "s",
        partition("p", group("h"), qos=("declared", "undeclared"), priority=3),
        qos=(Qos("declared", max_duration=60, min_gpu=1, priority=2),),
    )
    declared, undeclared = compile_launcher(launcher, 0).candidates
    assert (declared.priority, declared.shape.max_duration, declared.shape.min_gpu) == (5, 60, 1)
    assert (undeclared.priority, undeclared.shape.max_duration, undeclared.shape.min_gpu) == (
        3,
        None,
        0,
    )


def test_gpus_from_features_regex_and_min_mem_ratio_at_any_level() -> None:
    launcher = slurm(
        "s",
        partition(
            "p",
            group("h", features=("GPU3", "GPUM48G")),
            configuration=conf(ratio=0.7),  # below the launcher level: still applies (§8)
        ),
        features_regex=(r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)"),
    )
    (kind,) = compile_launcher(launcher, 0).candidates[0].shape.gpus
    assert (kind.count, kind.memory, kind.min_memory) == (3, 48 * G, 33_600_000_000)


def test_features_entries_apply_before_regex_values() -> None:
    launcher = slurm(
        "s",
        partition("p", group("h", features=("GPU2", "a100"))),
        features_regex=(r"GPU(?P<cuda_count>\d+)",),
        features=(
            ("a100", Configuration(gpu=GpuConfig(model="A100", count=8, memory=40 * GIB))),
        ),
    )
    (kind,) = compile_launcher(launcher, 0).candidates[0].shape.gpus
    assert (kind.count, kind.memory, kind.model) == (2, 40 * GIB, "A100")


def test_later_level_wins_even_with_zero() -> None:
    launcher = slurm(
        "s",
        partition("p", group("h", configuration=conf(gpus=0)), configuration=conf(gpus=4)),
        configuration=conf(gpus=8, gpu_memory=16 * G),
    )
    assert compile_launcher(launcher, 0).candidates[0].shape.gpus == ()


@pytest.mark.parametrize(
    ("memory", "ratio", "expected"),
    [
        (24 * G, 0.7, 16_800_000_000),
        (40 * GIB, 0.7, 30_064_771_072),
        (48 * G, 0.4, 19_200_000_000),
        (10 * G, 0.4, 4 * G),
        (3, 0.5, 2),  # fractions of a byte round up
    ],
)
def test_ratio_memory_is_exact(memory: int, ratio: float, expected: int) -> None:
    assert ratio_memory(memory, ratio) == expected


def test_local_launcher_capacity() -> None:
    launcher = local(
        "l",
        cpu=CpuConfig(cores=8),
        gpus=(LocalGpu("A6000", 1, 48 * G), LocalGpu("T4", 2, 16 * G)),
    )
    (candidate,) = compile_launcher(launcher, 0).candidates
    assert candidate.shape.cores == 8
    assert candidate.shape.memory is None  # not written: unknown, does not constrain
    assert candidate.shape.max_duration is None
    assert [(k.count, k.memory, k.model) for k in candidate.shape.gpus] == [
        (1, 48 * G, "A6000"),
        (2, 16 * G, "T4"),
    ]


def test_repeated_groups_share_one_shape() -> None:
    groups = [group(f"n{i}", features=("GPU4", "GPUM24G")) for i in range(1000)]
    launcher = slurm(
        "s",
        partition("p", *groups),
        features_regex=(r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)"),
    )
    compiled = compile_launcher(launcher, 0)
    assert len(compiled.candidates) == 1000
    assert len(compiled.shapes) == 1
    assert compiled.shape_index == (0,) * 1000
