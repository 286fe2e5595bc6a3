"""slurm/values.py: the bounded readers of Slurm's values, and the readers' clean refusals of
hostile outputs that would otherwise blow up (issue 24 items 5 and 13): a host list of 10⁹
names, numbers of thousands of digits, JSON nested thousands of levels deep."""

from __future__ import annotations

import time

import pytest

from reqsolve.errors import SlurmQueryError
from reqsolve.slurm import readers, values

HUGE = "9" * 4301  # one digit more than Python reads

# Outputs that took gigabytes, raised ValueError or RecursionError before (issue 24 items 5, 13).
HOSTILE = [
    ("partitions", "PartitionName=p Nodes=x[1-1000]y[1-1000]z[1-1000]\n", "more than 1,000,000"),
    ("partitions", "PartitionName=p Nodes=n[1-100001]\n", "names 100,001 hosts"),
    ("partitions", "PartitionName=p Nodes=" + "a[1-2]" * 200 + "\n", "more than 1,000,000"),
    ("partitions", "PartitionName=p Nodes=n[0-99999999999999999999999]\n", "bad range"),
    ("partitions", "".join(f"PartitionName=p{i} Nodes=n[1-99999]\n" for i in range(11)),
     "the partitions name more than 1,000,000 hosts"),
    ("partitions", '{"partitions": [{"name": "p", "nodes": "x[1-1000]y[1-1000]"}]}',
     "names 1,000,000 hosts"),
    ("partitions", f"PartitionName=p MaxTime={HUGE}\n", "unreadable time"),
    ("partitions", f"PartitionName=p DefMemPerCPU={HUGE}\n", "too large"),
    ("nodes", f"NodeName=a CPUTot={HUGE}\n", "too large"),
    ("nodes", f"NodeName=a Gres=gpu:{HUGE}\n", "too large"),
    ("nodes", '{"nodes": [{"name": "a", "cpus": ' + HUGE + "}]}", "unreadable JSON"),
    ("nodes", '{"nodes": [{"name": "a", "cpus": 1' + "0" * 30 + "}]}", "too large"),
    ("nodes", '{"nodes": [{"name": "a", "real_memory": "' + HUGE + '"}]}', "too large"),
    ("nodes", '{"nodes": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("nodes", '{"nodes": [{"name": "a", "x": ' + "{\"a\":" * 50_000 + "1" + "}" * 50_000
     + "}]}", "nested too deeply"),
    ("qos", f"Name|MaxWall|MinTRES\nq||gres/gpu={HUGE}\n", "too large"),
    ("qos", f"Name|MaxWall|MaxTRES\nq||gres/gpu={HUGE}\n", "too large"),
    ("qos", f"Name|Priority\nq|{HUGE}\n", "too large"),
    ("qos", '{"qos": [{"name": "q", "priority": ' + HUGE + "}]}", "unreadable JSON"),
    ("qos", '{"qos": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nested too deeply"),
]
READERS = {"nodes": readers.read_nodes, "partitions": readers.read_partitions,
           "qos": readers.read_qos}


@pytest.mark.parametrize(("kind", "output", "message"), HOSTILE,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(HOSTILE)])
def test_hostile_outputs_are_refused_quickly_with_the_reason(
    kind: str, output: str, message: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(SlurmQueryError) as caught:
        READERS[kind](output)
    assert time.perf_counter() - started < 2
    shown = str(caught.value)
    assert "unexpected output" in shown and message in shown, shown
    assert len(shown) < 1000  # the output is quoted, not copied whole


@pytest.mark.parametrize(
    ("expression", "size"),
    [("", 0), ("a", 1), ("a,b", 2), ("n[1-3]", 3), ("n[01-10],m", 11), ("r[1-2]n[1-3]", 6),
     ("x[1-1000]y[1-1000]z[1-1000]", values.MAX_HOSTS_PER_OUTPUT + 1)],
)
def test_hostlist_size_counts_without_building(expression: str, size: int) -> None:
    if size <= values.MAX_HOSTS:
        assert values.hostlist_size(expression) == size == len(values.expand_hostlist(expression))
    else:
        assert values.hostlist_size(expression) > values.MAX_HOSTS_PER_OUTPUT


@pytest.mark.parametrize(
    ("expression", "hosts"),
    [("a" + "[1]" * 5000, ("a" + "1" * 5000,)),  # thousands of brackets: no recursion
     ("n[1-2]x[3-4]y", ("n1x3y", "n1x4y", "n2x3y", "n2x4y"))],
)
def test_many_brackets_expand_without_recursion(expression: str, hosts: tuple[str, ...]) -> None:
    assert values.expand_hostlist(expression) == hosts


def test_the_limit_is_exact() -> None:
    assert len(values.expand_hostlist(f"n[1-{values.MAX_HOSTS}]")) == values.MAX_HOSTS
    with pytest.raises(ValueError, match="more than reqsolve reads"):
        values.expand_hostlist(f"n[1-{values.MAX_HOSTS + 1}]")


@pytest.mark.parametrize(
    ("text", "outcome"),
    [("0", 0), ("42", 42), ("0" * 30 + "7", 7), ("9" * 18, 10**18 - 1), ("1" + "0" * 18, None),
     (HUGE, None), ("٣", None), ("-1", None), ("", None)],
)
def test_whole_numbers(text: str, outcome: int | None) -> None:
    if outcome is None:
        with pytest.raises(ValueError):
            values.whole(text, "x")
    else:
        assert values.whole(text, "x") == outcome
