"""Emitting (docs/semantics.md §6): the soundness rule and the options of the kept candidates."""

from __future__ import annotations

import pytest

from reqsolve.answers.emit import constraint_text
from reqsolve.config.model import LocalGpu, SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError
from reqsolve.requirement import cpu, cuda_gpu, duration
from tests.reference import G, conf, group, local, partition, slurm
from tests.test_choosing import GPU8, GPU24, answer


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


@pytest.mark.parametrize(
    ("use_features", "good_features", "admits"),
    [
        (True, ("A",), "the constraint A admits it"),
        (True, ("A", "C"), "the constraint A&C admits it"),
        (False, ("A",), "no --constraint is emitted to keep Slurm off it"),
        (True, (), "no --constraint is emitted to keep Slurm off it"),  # a group without
    ],
)
def test_a_dropped_partition_says_what_admits_its_bad_group(
    use_features: bool, good_features: tuple[str, ...], admits: str
) -> None:
    """The reason names the constraint that admits the host-less group, or says none was
    emitted (issue 20 §8): "matches the constraint" was said of both; the group's shortfall
    reads as a person reads it (GPU memory, not "no assignment")."""
    launcher = slurm(
        "s",
        partition(
            "p",
            group("good1", features=good_features, configuration=GPU24),
            group(features=(*good_features, "B"), configuration=GPU8),
        ),
        use_features=use_features,
    )
    with pytest.raises(LauncherNotFoundError) as error:
        answer(launcher, spec=cuda_gpu(mem="20G"))
    (unsound,) = [r.reason for r in error.value.reasons if r.code == "unsound"]
    assert unsound == (
        "partition p dropped: its node group 1 cannot run the job (GPU memory 8G < 20G asked),"
        f" it has no host names to --exclude and {admits}"
    )
    assert "matches the constraint" not in str(error.value)


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
        # a clause holding another says nothing more: absorbed (issue 20 §8)
        ([("GPU4", "GPUM32G", "old", "v100"), ("GPU4", "GPUM32G", "v100")], "GPU4&GPUM32G&v100"),
        ([("A",), ("A", "B"), ("C", "D"), ("A", "C", "D", "E")], "(A)|(C&D)"),
        ([("A", "B"), ("B", "C"), ("A", "B", "C")], "(A&B)|(B&C)"),
    ],
    ids=["sorted-features", "dedup-sorted-clauses", "case", "digits", "absorbed", "absorbed-two",
         "absorbed-by-either"],
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
