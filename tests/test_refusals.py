"""Refusals: every candidate's reason, the closest one, the error's message and its hints."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from reqsolve.candidates import expand_candidates
from reqsolve.config.model import Qos
from reqsolve.errors import LauncherNotFoundError, closest
from reqsolve.requirement import cuda_gpu, duration
from tests.answering import answer
from tests.reference import G, conf, group, launcher_file, local, partition, slurm
from tests.test_choosing import GPU8, GPU24


def test_reasons_name_every_candidate_and_the_closest() -> None:
    launcher = slurm(
        "s",
        partition("short", group("a", configuration=GPU24), qos=("q",)),
        partition("small", group("b", configuration=GPU8)),
        qos=(Qos("q", max_duration=3600),),
    )
    with pytest.raises(LauncherNotFoundError) as error:
        answer(launcher_file(local("l"), launcher), duration("2h") & cuda_gpu(mem="20G"))
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
        answer(launcher_file(launcher), cuda_gpu(mem="20G"))
    return error.value


def test_the_closest_is_found_without_building_every_reason() -> None:
    """The message's closest candidate is picked per shape; it must be the one that
    ``closest`` picks among all the reasons (fewest unmet, smallest shortfall, first on ties)."""
    error = _unmatched()
    best = closest(error.reasons)
    assert best is not None
    assert (best.partition, best.group) == ("a", 1)  # 16G is 20% short, 8G 60%; a[1] first
    # the message says the detail (units as asked), the structured reason is in JSON (issue 20 §4)
    assert f"closest: s/{best.partition}[{best.group}]: {best.detail}" in str(error)
    assert [r.partition for r in error.reasons] == ["a", "a", "b"]


def test_the_error_pickles_as_a_plain_error_with_its_reasons() -> None:
    error = _unmatched()
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is LauncherNotFoundError
    assert (copied.reasons, str(copied)) == (error.reasons, str(error))
    assert copy.copy(error).reasons == error.reasons


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
    file = launcher_file(launcher)
    with pytest.raises(LauncherNotFoundError) as error:
        answer(file, expression)
    # the message, closest() over every reason and explain's closest line name the same one
    assert f"closest: s/{closest_partition}[0]" in str(error.value)
    best = closest(error.value.reasons)
    assert best is not None and best.partition == closest_partition
    nearest = closest_reason(expand_candidates(file), parse(expression))
    assert nearest is not None and nearest.startswith(f"s/{closest_partition}[0]")


ANTI_WASTE = slurm(
    "s",
    partition("g24", group("a", configuration=conf(gpus=2, gpu_memory=24 * G, ratio=0.7))),
    partition("g40", group("b", configuration=conf(gpus=8, gpu_memory=40 * G, ratio=0.7))),
    partition("t4", group("c", configuration=conf(gpus=4, gpu_memory=16 * G, model="T4",
                                                   min_memory=10 * G))),
)
ANTI_WASTE_FILE = launcher_file(ANTI_WASTE)


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
    with pytest.raises(LauncherNotFoundError) as error:
        answer(ANTI_WASTE_FILE, expression)
    assert f"write cuda(mem={written}) or more" in str(error.value)
    fixed = expression.replace("cuda()", f"cuda(mem={written})").replace(
        "cuda(model=T4)", f"cuda(mem={written}, model=T4)"
    )
    assert answer(ANTI_WASTE_FILE, fixed).options is not None


def test_no_threshold_hint_when_memory_is_not_the_reason() -> None:
    with pytest.raises(LauncherNotFoundError) as error:
        answer(ANTI_WASTE_FILE, "cuda(mem=30G)*9")
    assert "write cuda(mem=" not in str(error.value)
