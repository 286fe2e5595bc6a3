"""group_configuration: launcher -> partition -> group -> features: -> features_regex."""

from __future__ import annotations

import pytest

from reqsolve.config.effective import (
    compiled_features_regex,
    decode_feature,
    group_configuration,
)
from reqsolve.config.loader import load_config
from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    NodeGroup,
    Partition,
    SlurmLauncherConfig,
)
from tests.paths import DOCS_EXAMPLE
from tests.reference import GIB, G

REGEXES = (r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)", r"MODEL_(?P<cuda_model>\w+)")


def launcher(**kwargs: object) -> SlurmLauncherConfig:
    return SlurmLauncherConfig(id="s", **kwargs)  # type: ignore[arg-type]


def test_levels_win_field_by_field() -> None:
    slurm = launcher(
        configuration=Configuration(
            max_duration=100,
            cpu=CpuConfig(cores=8, memory=64 * G),
            gpu=GpuConfig(min_mem_ratio=0.5),
        )
    )
    partition = Partition(
        "p", configuration=Configuration(max_duration=50, gpu=GpuConfig(min_mem_ratio=0.9))
    )
    group = NodeGroup(configuration=Configuration(cpu=CpuConfig(cores=0)))
    assert group_configuration(slurm, partition, group) == Configuration(
        max_duration=50,
        cpu=CpuConfig(cores=0, memory=64 * G),  # a later 0 still wins
        gpu=GpuConfig(min_mem_ratio=0.9),
    )


def test_features_entries_then_regex() -> None:
    slurm = launcher(
        features_regex=REGEXES,
        features=(
            ("A100", Configuration(gpu=GpuConfig(model="A100", memory=80 * G, count=1))),
            ("BIG", Configuration(cpu=CpuConfig(memory=1000 * G))),
        ),
        configuration=Configuration(gpu=GpuConfig(count=2, memory=16 * G)),
    )
    group = NodeGroup(features=("GPU4", "A100", "BIG", "GPUM40G"))
    result = group_configuration(slurm, Partition("p"), group)
    # features: entries (A100 then BIG) apply before anything a regex decodes
    assert result.gpu == GpuConfig(model="A100", count=4, memory=40 * G)
    assert result.cpu == CpuConfig(memory=1000 * G)


def test_regex_later_feature_wins_and_model_decoded() -> None:
    slurm = launcher(features_regex=REGEXES)
    group = NodeGroup(features=("GPU2", "GPU3", "MODEL_V100"))
    assert group_configuration(slurm, Partition("p"), group).gpu == GpuConfig(model="V100", count=3)


def test_regex_matches_at_start_only() -> None:
    slurm = launcher(features_regex=REGEXES)
    group = NodeGroup(features=("XGPU4",))
    assert group_configuration(slurm, Partition("p"), group) == Configuration()


def test_undecodable_value_is_ignored() -> None:
    decoded = decode_feature((r"GPUM(?P<cuda_memory>\w+)",), "GPUMbig")
    assert decoded.memory is None
    assert decoded.error is not None and "cuda_memory 'big'" in decoded.error
    slurm = launcher(features_regex=(r"GPUM(?P<cuda_memory>\w+)",))
    assert group_configuration(slurm, Partition("p"), NodeGroup(features=("GPUMbig",))) == (
        Configuration()
    )


def test_patterns_compiled_once() -> None:
    first = compiled_features_regex(REGEXES)
    assert compiled_features_regex(tuple(REGEXES)) is first


@pytest.mark.parametrize(
    ("partition", "group", "expected"),
    [
        pytest.param(
            "biggpus",
            0,
            Configuration(
                cpu=CpuConfig(mem_per_cpu=2048 * 10**6),
                gpu=GpuConfig(count=3, memory=48 * G, min_mem_ratio=0.7),
            ),
            id="biggpus-0",
        ),
        pytest.param(
            "gpu_p4",
            0,
            Configuration(
                cpu=CpuConfig(mem_per_cpu=2048 * 10**6),
                gpu=GpuConfig(count=8, model="A100", memory=40 * GIB, min_mem_ratio=0.7),
            ),
            id="gpu_p4-partition-level",
        ),
    ],
)
def test_docs_example_groups(partition: str, group: int, expected: Configuration) -> None:
    manual = load_config(DOCS_EXAMPLE).launchers[2]
    assert isinstance(manual, SlurmLauncherConfig)
    (found,) = [p for p in manual.partitions if p.name == partition]
    assert group_configuration(manual, found, found.nodes[group]) == expected
