"""No duration asked: choosing is unchanged, and the job asks for the chosen limit
(issue 12, item 2; docs/matching.md, "No duration asked").

Without ``--time`` Slurm applies the partition's default time, which the chosen QoS may
refuse. So when the chosen candidate has a time limit, ``--time`` is that limit (the smallest
of the limits of the nodes the options admit), and ``explain`` and the JSON answer say so.
"""

from __future__ import annotations

import json

import pytest

from reqsolve.config.model import Qos
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
