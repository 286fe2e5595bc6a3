"""No duration asked: choosing is unchanged, and the job asks for the chosen limit
(issue 12, item 2; docs/matching.md, "No duration asked").

Without ``--time`` Slurm applies the partition's default time, which the chosen QoS may
refuse. So when the chosen candidate has a time limit, ``--time`` is that limit (the smallest
of the limits of the nodes the options admit), and ``explain`` and the JSON answer say so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reqsolve.config.model import NodeGroup, Qos
from reqsolve.requirement import Alternative, Requirement
from tests.answering import answer
from tests.cli_run import cli
from tests.reference import conf, group, launcher_file, partition, slurm

DOCS = "fixtures/docs_example/launchers.yaml"


@pytest.mark.parametrize(
    ("expression", "time", "note"),
    [
        # the QoS qos_gpu-t3 (20h, priority 1) is chosen: its limit is asked for
        ("cuda(mem=29GiB)", "20:00:00", "no duration asked: the job gets the chosen limit, 20h"),
        # a duration asked is emitted as asked, and nothing is noted
        ("duration=2h & cuda(mem=29GiB)", "02:00:00", None),
    ],
)
def test_cli_json_and_explain_say_the_limit(
    expression: str, time: str, note: str | None
) -> None:
    code, out, _ = cli("find", "--config", DOCS, "--offline", "--format", "json", expression)
    assert code == 0
    answer = json.loads(out)
    assert answer["options"]["time"] == time
    assert answer.get("notes", []) == ([note] if note else [])
    code, out, _ = cli("explain", "--config", DOCS, "--offline", expression)
    assert code == 0
    assert (f"note: {note}" in out) == (note is not None)
    code, out, _ = cli("find", "--config", DOCS, "--offline", expression)
    assert f"--time={time}" in out.split()


@pytest.mark.parametrize(
    ("limits", "qos_limit", "expected"),
    [
        ((None,), None, None),  # no limit anywhere: no --time
        ((7200,), None, "02:00:00"),
        ((None,), 3600, "01:00:00"),  # the QoS limit
        ((7200,), 3600, "01:00:00"),  # the smaller of partition and QoS
        ((7200, 3600), None, "01:00:00"),  # the smallest of the admitted nodes'
        ((7200, None), None, "02:00:00"),  # an unlimited node does not lift the others'
        ((5430,), None, "01:30:00"),  # in whole minutes, as Slurm holds it
    ],
)
def test_time_is_the_smallest_limit_of_the_admitted_nodes(
    limits: tuple[int | None, ...], qos_limit: int | None, expected: str | None
) -> None:
    groups = [
        group(f"n{i}", configuration=conf(max_duration=limit)) for i, limit in enumerate(limits)
    ]
    launcher = slurm(
        "c",
        partition("p", *groups, qos=("q",)),
        qos=(Qos("q", max_duration=qos_limit),),
        use_features=False,
    )
    match = answer(launcher_file(launcher), Requirement((Alternative(),)))
    assert match.options is not None
    assert match.options.time == expected
    assert bool(match.notes) == (expected is not None)


@pytest.mark.parametrize("fmt", ["args", "shell", "sbatch", "json", "submitit"])
@pytest.mark.parametrize(
    ("expression", "note"),
    [
        ("cuda(mem=29GiB)", "no duration asked: the job gets the chosen limit, 20h"),
        ("duration=2h & cuda(mem=29GiB)", None),
    ],
)
def test_the_chosen_limit_is_said_on_stderr_in_every_format(
    fmt: str, expression: str, note: str | None
) -> None:
    """The --time reqsolve chose is never silent (issue 20 §7): its note is on stderr whatever
    the format, stdout keeping only the answer."""
    code, out, err = cli("find", "--config", DOCS, "--offline", "--format", fmt, expression)
    assert code == 0, err
    assert (f"reqsolve: note: {note}" in err.splitlines()) == (note is not None)
    assert "note" not in out or fmt == "json"


def _gpu_group(name: str, gpus: int, limit: int | None, model: str = "A100") -> NodeGroup:
    return group(
        configuration=conf(
            gpus=gpus, gpu_memory=80 * 2**30, model=model, gres=model.lower(),
            max_duration=limit, cores=32, memory=256 * 2**30,
        ),
    )


@pytest.mark.parametrize(
    ("expression", "groups", "qos_limit", "expected"),
    [
        # a 1-GPU node with a 1 h limit: Slurm never places a 2-GPU job there, so its limit
        # does not shorten the job (issue 21 §2)
        ("cuda()*2", (("a", 2, None), ("b", 1, 3600)), 7200, "02:00:00"),
        ("cuda()*2", (("a", 2, 7200), ("b", 1, 3600)), None, "02:00:00"),
        ("cuda()*4", (("a", 4, 10800), ("b", 2, 3600), ("c", 1, 60)), None, "03:00:00"),
        # a typed request (--gpus-per-node=a100:2) is never placed on the V100 node
        ("cuda(model=A100)*2", (("a", 2, 7200, "A100"), ("b", 2, 3600, "V100")), None,
         "02:00:00"),
        # a node that is placed counts: one GPU asked, both nodes admit the job
        ("cuda()", (("a", 2, None), ("b", 1, 3600)), 7200, "01:00:00"),
        ("cuda()*2", (("a", 2, 7200), ("b", 2, 3600)), None, "01:00:00"),
    ],
)
def test_time_counts_only_the_nodes_slurm_may_place_the_job_on(
    expression: str,
    groups: tuple[tuple[Any, ...], ...],
    qos_limit: int | None,
    expected: str,
) -> None:
    launcher = slurm(
        "c",
        partition("p", *(_gpu_group(*g) for g in groups), qos=("q",)),
        qos=(Qos("q", max_duration=qos_limit),),
        use_features=False,
    )
    match = answer(launcher_file(launcher), expression)
    assert match.options is not None
    assert match.options.time == expected
    assert match.notes == (
        f"no duration asked: the job gets the chosen limit, {expected_text(expected)}",
    )


def expected_text(hms: str) -> str:
    hours, minutes, _ = (int(x) for x in hms.split(":"))
    return f"{hours}h" if not minutes else f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
