"""Choosing and emitting (docs/semantics.md §5–§6): order, tiers, grouping, soundness, options."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from reqsolve.candidates import expand_candidates
from reqsolve.config.model import (
    CpuConfig,
    LocalGpu,
    LocalLauncherConfig,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.errors import LauncherNotFoundError
from reqsolve.ranking import Answer, find
from reqsolve.refusals import closest
from reqsolve.requirement import Alternative, Requirement, as_requirement, cpu, cuda_gpu, duration
from reqsolve.slurm.emit import constraint_text
from tests.reference import G, conf, group, launcher_file, local, partition, slurm


def answer(
    *launchers: Launcher, spec: Alternative | Requirement, tags: tuple[str, ...] = ()
) -> Answer:
    compiled = expand_candidates(launcher_file(*launchers))
    return find(compiled, as_requirement(spec), tags)


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


def two_groups(second_hosts: tuple[str, ...], **kwargs: object) -> SlurmLauncherConfig:
    """Group 0 (24G GPUs, features A) can run a 20G job; group 1 (8G, features A&B) cannot."""
    return slurm(
        "s",
        partition(
            "p",
            group("good1", "good2", features=("A",), configuration=GPU24),
            group(*second_hosts, features=("A", "B"), configuration=GPU8),
        ),
        **kwargs,
    )


def test_soundness_excludes_hosts_the_constraint_admits_but_cannot_run() -> None:
    options = answer(two_groups(("bad",)), spec=cuda_gpu(mem="20G")).options
    assert options is not None
    assert (options.partition, options.constraint, options.exclude) == ("p", "A", "bad")


def test_soundness_drops_a_partition_whose_bad_group_has_no_host_names() -> None:
    launcher = two_groups(())
    fallback = local("fallback", weight=-1, gpus=(LocalGpu("X", 1, 24 * G),))
    match = answer(launcher, fallback, spec=cuda_gpu(mem="20G"))
    assert match.launcher.id == "fallback"  # every partition dropped: next launcher
    with pytest.raises(LauncherNotFoundError) as error:
        answer(launcher, spec=cuda_gpu(mem="20G"))
    codes = {(r.group, r.code) for r in error.value.reasons}
    assert codes == {(0, "unsound"), (1, "gpus")}
    assert "dropped" in error.value.reasons[0].reason


def test_soundness_keeps_other_partitions_when_one_is_dropped() -> None:
    launcher = slurm(
        "s",
        partition(
            "mixed",
            group(features=("A",), configuration=GPU24),
            group(features=("A", "B"), configuration=GPU8),
        ),
        partition("clean", group("c1", features=("A",), configuration=GPU24)),
    )
    options = answer(launcher, spec=cuda_gpu(mem="20G")).options
    assert options is not None
    assert (options.partition, options.constraint, options.exclude) == ("clean", "A", None)


def test_without_features_select_by_exclude_not_nodelist() -> None:
    options = answer(two_groups(("bad",), use_features=False), spec=cuda_gpu(mem="20G")).options
    assert options is not None
    assert (options.constraint, options.exclude, options.nodelist) == (None, "bad", None)


def test_a_group_without_features_means_no_constraint() -> None:
    launcher = slurm(
        "s",
        partition(
            "p",
            group("plain", configuration=GPU24),
            group("other", features=("B",), configuration=GPU8),
        ),
    )
    options = answer(launcher, spec=cuda_gpu(mem="20G")).options
    assert options is not None
    assert (options.constraint, options.exclude) == (None, "other")


def test_soundness_under_mem_per_cpu() -> None:
    """cpus_per_task comes from the kept group's mem_per_cpu; a group that would get less
    memory from the same cpus is excluded."""
    launcher = slurm(
        "s",
        partition(
            "p",
            group("big", features=("A",), configuration=conf(mem_per_cpu=8 * G)),
            group("small", features=("A", "B"), configuration=conf(mem_per_cpu=2 * G)),
        ),
        use_memory_constraint=False,
    )
    options = answer(launcher, spec=cpu(mem="16G")).options
    assert options is not None
    # 8G per CPU is 7629 MiB to Slurm: 16G needs 3 CPUs (2 give 15.9998 GB)
    assert (options.cpus_per_task, options.constraint, options.exclude) == (3, "A", "small")


@pytest.mark.parametrize(
    ("clauses", "text"),
    [
        ([("GPU4", "RTX", "GPUM24G")], "GPU4&GPUM24G&RTX"),
        ([("B",), ("A", "C"), ("B",)], "(A&C)|(B)"),
        ([("Tesla", "a100")], "Tesla&a100"),
        ([("3080", "GPU2"), ("A6000", "GPU3")], "(3080&GPU2)|(A6000&GPU3)"),
    ],
    ids=["sorted-features", "dedup-sorted-clauses", "case", "digits"],
)
def test_constraint_text(clauses: list[tuple[str, ...]], text: str) -> None:
    assert constraint_text(clauses) == text


def test_options_fields() -> None:
    launcher = slurm("s", partition("p", group("h", features=("F",), configuration=GPU24)))
    spec = duration("4 days") & cuda_gpu(mem="4G") * 2 & cpu(mem="400M", cores=4)
    options = answer(launcher, spec=spec).options
    assert options is not None
    assert (
        options.partition,
        options.gpus_per_node,
        options.cpus_per_task,
        options.mem,
        options.time,
        options.nodes,
    ) == ("p", 2, 4, "382M", "4-00:00:00", 1)


def test_reasons_name_every_candidate_and_the_closest() -> None:
    launcher = slurm(
        "s",
        partition("short", group("a", configuration=GPU24), qos=("q",)),
        partition("small", group("b", configuration=GPU8)),
        qos=(Qos("q", max_duration=3600),),
    )
    with pytest.raises(LauncherNotFoundError) as error:
        answer(local("l"), launcher, spec=duration("2h") & cuda_gpu(mem="20G"))
    reasons = [(r.launcher, r.partition, r.qos, r.reason) for r in error.value.reasons]
    assert reasons == [
        ("l", None, None, "no assignment of 1 GPU(s) to 0 host GPU(s)"),
        ("s", "short", "q", "duration 7200s > max 3600s"),
        ("s", "small", None, "no assignment of 1 GPU(s) to 4 host GPU(s)"),
    ]
    # closest = fewest unmet conditions, then smallest relative shortfall: one condition each,
    # 2h asked on a 1h QoS is 50% short, a 20G GPU asked of an 8G one 60%
    assert "closest: s/short[0] qos=q" in str(error.value)
    assert "QoS q max 1h < 2h asked" in str(error.value)


def _unmatched() -> LauncherNotFoundError:
    launcher = slurm(
        "s",
        partition(
            "a",
            group("a1", configuration=GPU8),
            group("a2", configuration=conf(gpus=8, gpu_memory=16 * G)),
        ),
        partition("b", group("b1", configuration=conf(gpus=8, gpu_memory=16 * G)), qos=("q",)),
        qos=(Qos("q", max_duration=3600),),
    )
    with pytest.raises(LauncherNotFoundError) as error:
        answer(launcher, spec=cuda_gpu(mem="20G"))
    return error.value


def test_the_closest_is_found_without_building_every_reason() -> None:
    """The message's closest candidate is picked per shape; it must be the one that
    ``closest`` picks among all the reasons (fewest unmet, smallest shortfall, first on ties)."""
    error = _unmatched()
    best = closest(error.reasons)
    assert best is not None
    assert (best.partition, best.group) == ("a", 1)  # 16G is 20% short, 8G 60%; a[1] first
    assert f"closest: s/{best.partition}[{best.group}]: {best.reason}" in str(error)
    assert [r.partition for r in error.reasons] == ["a", "a", "b"]


def test_the_error_pickles_as_a_plain_error_with_its_reasons() -> None:
    error = _unmatched()
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is LauncherNotFoundError
    assert (copied.reasons, str(copied)) == (error.reasons, str(error))
    assert copy.copy(error).reasons == error.reasons


def test_repeated_queries_are_served_from_the_cache() -> None:
    compiled = expand_candidates(
        launcher_file(slurm("s", partition("p", group("h", configuration=GPU24))))
    )
    spec = as_requirement(cuda_gpu(mem="20G"))
    first = find(compiled, spec)
    assert find(compiled, spec).options is first.options


@pytest.mark.parametrize(
    ("good_hosts", "exclude"),
    [(("h1", "shared"), "shared"), (("shared",), None)],
    ids=["partly-excluded", "wholly-excluded"],
)
def test_exclude_is_global_across_groups(good_hosts: tuple[str, ...], exclude: str | None) -> None:
    """A host named in a good and a bad group must be excluded; a good group left without any
    host is no answer."""
    launcher = slurm(
        "s",
        partition(
            "p",
            group(*good_hosts, features=("A",), configuration=GPU24),
            group("shared", features=("A", "B"), configuration=GPU8),
        ),
    )
    if exclude is None:
        with pytest.raises(LauncherNotFoundError) as error:
            answer(launcher, spec=cuda_gpu(mem="20G"))
        assert "excluded" in error.value.reasons[0].reason
    else:
        options = answer(launcher, spec=cuda_gpu(mem="20G")).options
        assert options is not None and options.exclude == exclude


CLOSEST_CASES = [
    # (partitions as (name, configuration, qos), expression, the closest partition)
    # issue 12: a partition without GPUs is not "closest" to a GPU job a day too long
    (
        [("cpu", conf(cores=32, max_duration=864000), ()),
         ("gpu", conf(gpus=4, gpu_memory=24 * G, max_duration=432000), ())],
        "duration=6 days & cuda(mem=16G)",
        "gpu",
    ),
    # two conditions unmet lose to one, whatever the stage
    (
        [("big", conf(cores=4, gpus=4, gpu_memory=8 * G), ()),
         ("long", conf(cores=64, gpus=4, gpu_memory=24 * G, max_duration=3600), ())],
        "duration=2h & cpu(cores=8) & cuda(mem=16G)",
        "long",
    ),
    # one condition each: the smallest relative shortfall (16G of 20G beats 8G of 20G)
    (
        [("g8", conf(gpus=4, gpu_memory=8 * G), ()),
         ("g16", conf(gpus=4, gpu_memory=16 * G), ())],
        "cuda(mem=20G)",
        "g16",
    ),
    # cores: 30 of 33 is closer than 4 of 33, in either file order
    (
        [("c30", conf(cores=30), ()), ("c4", conf(cores=4), ())],
        "cpu(cores=33)",
        "c30",
    ),
    (
        [("c4", conf(cores=4), ()), ("c30", conf(cores=30), ())],
        "cpu(cores=33)",
        "c30",
    ),
    # a GPU of another model is as far as no GPU, however close its memory: the a100s whose
    # memory is unknown (state it and they may fit) beat 32G GPUs of another model
    (
        [("v100", conf(gpus=4, gpu_memory=32 * G, model="V100"), ()),
         ("a100", conf(gpus=8, model="a100"), ())],
        "cuda(model=a100, mem=40G)",
        "a100",
    ),
]


@pytest.mark.parametrize(("partitions", "expression", "closest_partition"), CLOSEST_CASES)
def test_closest_is_fewest_unmet_then_smallest_shortfall(
    partitions: list[tuple[str, Any, tuple[str, ...]]], expression: str, closest_partition: str
) -> None:
    from reqsolve.explain import closest_reason
    from reqsolve.parser import parse

    launcher = slurm(
        "s",
        *(partition(name, group(f"{name}-h", configuration=c), qos=q)
          for name, c, q in partitions),
    )
    compiled = expand_candidates(launcher_file(launcher))
    requirement = parse(expression)
    with pytest.raises(LauncherNotFoundError) as error:
        find(compiled, requirement)
    # the message, closest() over every reason and explain's closest line name the same one
    assert f"closest: s/{closest_partition}[0]" in str(error.value)
    best = closest(error.value.reasons)
    assert best is not None and best.partition == closest_partition
    nearest = closest_reason(compiled, requirement)
    assert nearest is not None and nearest.startswith(f"s/{closest_partition}[0]")


ANTI_WASTE = slurm(
    "s",
    partition("g24", group("a", configuration=conf(gpus=2, gpu_memory=24 * G, ratio=0.7))),
    partition("g40", group("b", configuration=conf(gpus=8, gpu_memory=40 * G, ratio=0.7))),
    partition("t4", group("c", configuration=conf(gpus=4, gpu_memory=16 * G, model="T4",
                                                   min_memory=10 * G))),
)


@pytest.mark.parametrize(
    ("expression", "written"),
    [
        ("cuda()", "10G"),  # the smallest threshold: the T4's min_memory
        ("cuda()*5", "28G"),  # only the 8-GPU node can take 5: 40G x 0.7
        ("cuda()*3", "10G"),
        ("cuda(model=T4)", "10G"),  # only the T4 fits the model
        ("cuda() & cpu(cores=1)", "10G"),
        ("cuda()*6 | cuda(model=T4)*3", "10G"),
    ],
)
def test_a_gpu_without_memory_refused_by_anti_waste_says_what_to_write(
    expression: str, written: str
) -> None:
    """cuda() states 0 B (docs/expressions.md): below every min_mem_ratio / min_memory. The
    refusal names the smallest threshold, and writing it finds an answer."""
    from reqsolve.parser import parse

    compiled = expand_candidates(launcher_file(ANTI_WASTE))
    with pytest.raises(LauncherNotFoundError) as error:
        find(compiled, parse(expression))
    assert f"write cuda(mem={written}) or more" in str(error.value)
    fixed = expression.replace("cuda()", f"cuda(mem={written})").replace(
        "cuda(model=T4)", f"cuda(mem={written}, model=T4)"
    )
    assert find(compiled, parse(fixed)).options is not None


def test_no_threshold_hint_when_memory_is_not_the_reason() -> None:
    from reqsolve.parser import parse

    compiled = expand_candidates(launcher_file(ANTI_WASTE))
    with pytest.raises(LauncherNotFoundError) as error:
        find(compiled, parse("cuda(mem=30G)*9"))
    assert "write cuda(mem=" not in str(error.value)
