"""Choosing (docs/semantics.md §5): order, tiers, grouping, the one answer cache."""

from __future__ import annotations

import pytest

from reqsolve.candidates import expand_candidates
from reqsolve.choosing import Answer, choose
from reqsolve.config.model import (
    CpuConfig,
    LocalLauncherConfig,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.errors import LauncherNotFoundError
from reqsolve.requirement import Alternative, Requirement, as_requirement, cpu, cuda_gpu, duration
from tests import answering
from tests.reference import G, conf, group, launcher_file, local, partition, slurm


def answer(
    *launchers: Launcher, spec: Alternative | Requirement, tags: tuple[str, ...] = ()
) -> Answer:
    """The answer of a file of these launchers, through the public path (tests/answering.py);
    tests/test_slurm_emit.py asks with it too."""
    return answering.answer(launcher_file(*launchers), spec, tags=tags)


Launcher = LocalLauncherConfig | SlurmLauncherConfig
GPU24 = conf(gpus=4, gpu_memory=24 * G)
GPU8 = conf(gpus=4, gpu_memory=8 * G)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [((), "heavy"), (("cpu",), "first"), (("gpu", "cpu"), "heavy"), (("none",), None)],
    ids=["weight", "tag", "any-tag", "no-tag"],
)
def test_weight_then_file_order_then_tags(tags: tuple[str, ...], expected: str | None) -> None:
    launchers = (
        local("first", weight=1, tags=("cpu",)),
        local("second", weight=1, tags=("cpu",)),
        local("heavy", weight=2, tags=("gpu",)),
    )
    if expected is None:
        with pytest.raises(LauncherNotFoundError) as error:
            answer(*launchers, spec=cpu(cores=1), tags=tags)
        assert error.value.reasons == ()
    else:
        assert answer(*launchers, spec=cpu(cores=1), tags=tags).launcher.id == expected


def test_first_satisfiable_alternative_wins_over_weight() -> None:
    launchers = (local("small", weight=5, cpu=CpuConfig(cores=2)), local("big", weight=1))
    match = answer(*launchers, spec=cpu(cores=8) | cpu(cores=1))
    assert (match.launcher.id, match.alternative_index) == ("big", 0)


def test_highest_priority_tier_only() -> None:
    launcher = slurm(
        "s",
        partition("low", group("l1", features=("X",))),
        partition("high", group("h1", features=("Y",)), priority=10),
    )
    options = answer(launcher, spec=cpu(cores=1)).options
    assert options is not None
    assert (options.partition, options.constraint) == ("high", "Y")


def test_kept_candidates_share_qos_and_account_of_the_first() -> None:
    launcher = slurm(
        "s",
        partition("a", group("a1", features=("A",)), qos=("q1",), accounts=("x",)),
        partition("b", group("b1", features=("B",)), qos=("q2",), accounts=("x",)),
        partition("c", group("c1", features=("C",)), qos=("q1",), accounts=("x",)),
        qos=(Qos("q1"), Qos("q2")),
    )
    options = answer(launcher, spec=duration("1h")).options
    assert options is not None
    assert (options.partition, options.qos, options.account) == ("a,c", "q1", "x")
    assert options.constraint == "(A)|(C)"


def test_mem_per_cpu_groups_only_when_memory_becomes_cores() -> None:
    launcher = slurm(
        "s",
        partition("p4", group("a", features=("A",)), configuration=conf(mem_per_cpu=4 * G)),
        partition("p8", group("b", features=("B",)), configuration=conf(mem_per_cpu=8 * G)),
        use_memory_constraint=False,
    )
    with_memory = answer(launcher, spec=cpu(mem="10G")).options
    assert with_memory is not None
    assert (with_memory.partition, with_memory.cpus_per_task, with_memory.mem) == ("p4", 3, None)
    without = answer(launcher, spec=cpu(cores=2)).options
    assert without is not None
    assert without.partition == "p4,p8"


@pytest.mark.parametrize(
    ("groups", "expression", "expected"),
    [
        # 40G at 4G (3814 MiB) per CPU needs 11 CPUs, at 8G 6: 11 fit every node's 16 cores, so
        # both partitions are kept with --cpus-per-task=11 (issue 21 §2)
        (((4, 16), (8, 16)), "cpu(mem=40G)", ("p0,p1", 11)),
        (((8, 16), (4, 16)), "cpu(mem=40G)", ("p0,p1", 11)),
        (((8, 16), (4, 12), (16, 64)), "cpu(mem=40G)", ("p0,p1,p2", 11)),
        # cores asked above the memory's count: the largest of each node's max(cores, memory)
        (((4, 16), (8, 16)), "cpu(mem=40G, cores=12)", ("p0,p1", 12)),
        # tasks=2: 20G per task at 4G is 6 CPUs a task, 12 on the node; at 8G 3 (6)
        (((4, 16), (8, 16)), "tasks=2 & cpu(mem=40G)", ("p0,p1", 6)),
        # the largest count does not fit a node's cores: only the first's mem_per_cpu, as before
        (((4, 16), (8, 8)), "cpu(mem=40G)", ("p0", 11)),
        (((8, 8), (4, 16)), "cpu(mem=40G)", ("p0", 6)),
        # cores unknown: not known to hold the largest count, as before
        (((4, None), (8, 16)), "cpu(mem=40G)", ("p0", 11)),
    ],
)
def test_mem_per_cpu_groups_share_the_largest_count_that_fits_every_node(
    groups: tuple[tuple[int, int | None], ...], expression: str, expected: tuple[str, int]
) -> None:
    launcher = slurm(
        "s",
        *(
            partition(f"p{i}", group(), configuration=conf(mem_per_cpu=per * G, cores=cores))
            for i, (per, cores) in enumerate(groups)
        ),
        use_memory_constraint=False,
    )
    options = answering.answer(launcher_file(launcher), expression).options
    assert options is not None
    assert (options.partition, options.cpus_per_task, options.mem) == (*expected, None)


def test_repeated_queries_are_served_from_the_cache() -> None:
    compiled = expand_candidates(
        launcher_file(slurm("s", partition("p", group("h", configuration=GPU24))))
    )
    spec = as_requirement(cuda_gpu(mem="20G"))
    first = choose(compiled, spec)
    assert choose(compiled, spec).options is first.options


