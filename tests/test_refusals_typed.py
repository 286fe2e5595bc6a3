"""Refusals typed from end to end (issue 23 §1): each reason carries its refusal in numbers
(stage, asked, limit, distance) and its words; ``LauncherNotFoundError.closest`` is the reason
the message names; explain's closest line is rendered from it, never read back from words."""

from __future__ import annotations

import copy
import pickle

import pytest

from reqsolve import LauncherNotFoundError, find_launcher
from reqsolve.config.model import LauncherFile, Qos
from reqsolve.errors import FAR, Reason, Refusal, closest
from reqsolve.matching import STAGES
from reqsolve.units import MIB
from tests.reference import G, conf, group, launcher_file, partition, slurm

HOUR = 3600
# one partition of each kind of limit: a 1h QoS on 8-core 16G nodes with 2 GPUs of 24G, a
# QoS asking at least 2 GPUs, and CPU nodes without GPUs
CLUSTER = launcher_file(
    slurm(
        "s",
        partition(
            "gpu",
            group("g1", configuration=conf(cores=8, memory=16 * G, gpus=2, gpu_memory=24 * G)),
            qos=("short",),
        ),
        partition(
            "multi",
            group("m1", configuration=conf(cores=8, memory=16 * G, gpus=4, gpu_memory=24 * G)),
            qos=("pairs",),
        ),
        partition("cpu", group("c1", configuration=conf(cores=4, memory=8 * G))),
        qos=(Qos("short", max_duration=HOUR), Qos("pairs", min_gpu=2)),
    )
)

# (expression, the closest candidate's partition, its code, asked, limit, conditions unmet):
# one row per stage that can fail first; the numbers are those of the first unmet condition
TYPED = [
    # 1/3 short of the 1h QoS, closer than 8 cores asked of 4 or a GPU too few for "pairs"
    ("duration=90min & cpu(cores=8)", "gpu", "duration", 90 * 60, HOUR, 1),
    ("cpu(cores=16)", "gpu", "cores", 16, 8, 1),
    # a Slurm node's memory is whole MiB
    ("cpu(mem=32G)", "gpu", "memory", 32 * G, 16 * G // MIB * MIB, 1),
    # as short as the 1h QoS (1/2), but the checks went further
    ("duration=2h & cuda(mem=10G)", "multi", "min_gpu", 1, 2, 1),
    ("cuda(mem=10G)*8", "multi", "gpu_count", 8, 4, 1),
    # "multi" also wants 2 GPUs at least: two conditions there
    ("cuda(mem=30G)", "gpu", "gpus", 1, 2, 1),
]


def _refused(expression: str, config: LauncherFile = CLUSTER) -> LauncherNotFoundError:
    with pytest.raises(LauncherNotFoundError) as error:
        find_launcher(expression, config=config, offline=True)
    return error.value


@pytest.mark.parametrize(("expression", "where", "code", "asked", "limit", "unmet"), TYPED)
def test_the_closest_reason_carries_its_refusal_in_numbers(
    expression: str, where: str, code: str, asked: int, limit: int, unmet: int
) -> None:
    error = _refused(expression)
    best = error.closest
    assert isinstance(best, Reason) and isinstance(best.refusal, Refusal)
    assert (best.partition, best.code) == (where, code)
    assert STAGES[best.refusal.stage] == code
    assert (best.refusal.asked, best.refusal.limit) == (asked, limit)
    assert best.refusal.distance[0] == unmet
    # the error's closest is the one closest() picks among every reason, and the one named
    assert best == closest(error.reasons)
    assert str(error).endswith(f"; closest: s/{where}[0] qos={best.qos}: {best.detail}")
    # every reason is typed: no dictionary to read back
    assert all(isinstance(reason.refusal, Refusal) and reason.detail for reason in error.reasons)


ANTI_WASTE = launcher_file(
    slurm("w", partition("g24", group("a", configuration=conf(gpus=2, gpu_memory=24 * G,
                                                              ratio=0.7))))
)

# (file, expression): the closest line of explain is the error's, hint and alternative included
CLOSEST_LINES = [
    (CLUSTER, "cuda(mem=30G)"),
    (CLUSTER, "cpu(cores=64) | cuda(mem=10G)*8"),  # the closest is of alternative 1
    (ANTI_WASTE, "cuda()"),  # with the anti-waste threshold hint
]


@pytest.mark.parametrize(("config", "expression"), CLOSEST_LINES)
def test_explain_renders_the_closest_line_from_types_not_from_the_message(
    config: LauncherFile, expression: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reqsolve import refusals
    from reqsolve.candidates import expand_candidates
    from reqsolve.explain import closest_reason
    from reqsolve.parser import parse

    error = _refused(expression, config)
    launchers = expand_candidates(config)
    line = closest_reason(launchers, parse(expression))
    assert line is not None and str(error).endswith(f"; closest: {line}")
    # the message's words changed: explain still names the closest candidate, as before
    monkeypatch.setattr(refusals, "not_found_message", lambda requirement, best: "no launcher")
    fresh = expand_candidates(config)
    assert str(_refused(expression, config)) != str(error)
    assert closest_reason(fresh, parse(expression)) == line


def test_the_closest_survives_copy_and_pickle() -> None:
    error = _refused("cuda(mem=30G)")
    for copied in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(copied) is LauncherNotFoundError
        assert copied.closest == error.closest and copied.closest is not None
        assert copied.closest.refusal == error.closest.refusal
        assert (copied.reasons, str(copied)) == (error.reasons, str(error))


def _reason(partition: str, refusal: Refusal) -> Reason:
    return Reason(0, "s", partition, 0, None, None, "why", "memory", "words", refusal)


# (reasons as (partition, refusal), the closest's partition): fewest unmet, smallest
# shortfall, the checks that went furthest, the largest capacity, then the first
CLOSEST_OF = [
    ([("a", Refusal(2, 10, 5, (2, 0.5))), ("b", Refusal(2, 10, 1, (1, 0.9)))], "b"),
    ([("a", Refusal(2, 10, 5, (1, 0.5))), ("b", Refusal(2, 10, 8, (1, 0.2)))], "b"),
    ([("a", Refusal(0, 10, 5, (1, 0.5))), ("b", Refusal(4, 1, 2, (1, 0.5)))], "b"),
    ([("a", Refusal(6, 1, 2, (1, 1.0))), ("b", Refusal(6, 1, 4, (1, 1.0)))], "b"),
    ([("a", Refusal(6, 1, 2, (1, 1.0))), ("b", Refusal(6, 1, 2, (1, 1.0)))], "a"),
    # a launcher that could not be used (the default refusal) comes after any candidate
    ([("a", Refusal()), ("b", Refusal(0, 10, 1, (7, 7.0)))], "b"),
]


@pytest.mark.parametrize(("reasons", "expected"), CLOSEST_OF)
def test_an_error_made_from_reasons_has_their_closest(
    reasons: list[tuple[str, Refusal]], expected: str
) -> None:
    made = [_reason(partition, refusal) for partition, refusal in reasons]
    error = LauncherNotFoundError(made)
    assert error.closest is not None and error.closest.partition == expected
    assert Refusal().distance == (FAR, 0.0) and Refusal().stage == -1
    assert LauncherNotFoundError([]).closest is None


# (max_duration, min_gpu, expression, the duration rule holds, the min_gpu rule holds): the
# one home of the limits that choosing checks apart from a node (issue 23 §6)
LIMITS = [
    (None, 0, "duration=100 days", True, True),
    (HOUR, 0, "duration=1h", True, True),
    (HOUR, 0, "duration=61min", False, True),
    (HOUR, 2, "cuda()*2", True, True),
    (HOUR, 2, "cuda() & duration=2h", False, False),
    (None, 1, "cpu(cores=1)", True, False),
]


@pytest.mark.parametrize(("max_duration", "min_gpu", "expression", "duration_ok", "gpus_ok"),
                         LIMITS)
def test_the_limit_rules_are_the_matchers(
    max_duration: int | None, min_gpu: int, expression: str, duration_ok: bool, gpus_ok: bool
) -> None:
    from reqsolve.matching import Ask, enough_gpus, within_duration
    from reqsolve.parser import parse

    ask = Ask(parse(expression).alternatives[0])
    assert within_duration(max_duration, ask) is duration_ok
    assert enough_gpus(min_gpu, ask) is gpus_ok
