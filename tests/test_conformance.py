"""Every case of tests/conformance/, run through ``reqsolve find --format json``.

Answers are compared by meaning (tests/conformance/README.md): the launcher, the alternative, the
partitions as a set, and the set of (partition, host) pairs that partition + constraint +
exclude + nodelist admit — evaluated here, independently of reqsolve, over the node groups
of the file — then the scalar options by value.
"""

from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from reqsolve.cli import run
from tests.reference import holds, parse_constraint

CONFORMANCE = Path(__file__).resolve().parent / "conformance"


def _cases() -> list[Any]:
    cases = []
    for path in sorted((CONFORMANCE / "expected").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                case = (path.stem, json.loads(line))
                cases.append(pytest.param(case, id=f"{path.stem}:{number}"))
    return cases


# --- an independent reading of the file's node groups (constraints: tests/reference.py)


@cache
def node_groups(config: str) -> dict[str, dict[str, list[tuple[list[str], set[str]]]]]:
    """launcher id -> partition -> [(hosts or one pseudo-host, features)]."""
    data = yaml.safe_load((CONFORMANCE / "configs" / config / "launchers.yaml").read_text())
    result: dict[str, dict[str, list[tuple[list[str], set[str]]]]] = {}
    for item in (data or {}).get("slurm") or []:
        partitions: dict[str, list[tuple[list[str], set[str]]]] = {}
        for name, partition in (item.get("partitions") or {}).items():
            groups = []
            for index, group in enumerate((partition or {}).get("nodes") or []):
                hosts = [str(h) for h in group.get("hosts") or []] or [f"<{name}:{index}>"]
                groups.append((hosts, {str(f) for f in group.get("features") or []}))
            partitions[str(name)] = groups
        result[str(item["id"])] = partitions
    return result


def admitted(config: str, launcher: str, options: dict[str, Any]) -> set[tuple[str, str]]:
    partitions = options["partition"].split(",")
    tree = parse_constraint(options["constraint"]) if options.get("constraint") else None
    exclude = set((options.get("exclude") or "").split(",")) - {""}
    nodelist = set((options.get("nodelist") or "").split(",")) - {""}
    pairs = set()
    for partition in partitions:
        for hosts, features in node_groups(config)[launcher][partition]:
            if tree is not None and not holds(tree, features):
                continue
            for host in hosts:
                if host in exclude or (nodelist and host not in nodelist):
                    continue
                pairs.add((partition, host))
    return pairs


def slurm_seconds(text: str | None) -> int | None:
    if text is None:
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(x) for x in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds


def slurm_mib(text: str | None) -> int | None:
    if text is None:
        return None
    match = re.fullmatch(r"(\d+)([KMGT]?)", text)
    assert match, text
    factor = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024**2}[match.group(2)]
    return int(int(match.group(1)) * factor)


def reason_keys(reasons: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("alternative", "launcher", "partition", "group", "qos", "account", "reason")
    return [tuple(r[k] for k in keys) for r in reasons]


@pytest.mark.parametrize("case", _cases())
def test_conformance(case: tuple[str, dict[str, Any]]) -> None:
    config, data = case
    argv = ["find", "--config", str(CONFORMANCE / "configs" / config / "launchers.yaml")]
    if data["tags"]:
        argv += ["--tags", ",".join(data["tags"])]
    argv += ["--offline", "--format", "json", data["requirement"]]
    out, err = io.StringIO(), io.StringIO()
    code = run(argv, out, err)
    expected = data["answer"]

    if "error" in expected:
        assert code == 2, out.getvalue()
        assert err.getvalue().strip()
        return
    got = json.loads(out.getvalue())
    if expected["launcher"] is None:
        assert code == 1, got
        assert got["launcher"] is None
        # one reason per candidate, and the first unmet condition in the corpus's words
        assert reason_keys(got["reasons"]) == reason_keys(expected["reasons"])
        return
    assert code == 0, err.getvalue()
    assert got["launcher"] == expected["launcher"]
    assert got["alternative"] == expected["alternative"]
    if expected["launcher"]["type"] == "local":
        assert got["tokens"] == expected["tokens"]
        assert got["options"] is None
        return
    mine, theirs = got["options"], expected["options"]
    assert set(mine["partition"].split(",")) == set(theirs["partition"].split(","))
    launcher = expected["launcher"]["id"]
    assert admitted(config, launcher, mine) == admitted(config, launcher, theirs)
    for key in ("gpus_per_node", "cpus_per_task", "qos", "account", "nodes"):
        assert mine[key] == theirs[key], key
    assert slurm_seconds(mine["time"]) == slurm_seconds(theirs["time"])
    assert slurm_mib(mine["mem"]) == slurm_mib(theirs["mem"])


def _written_cases(path: Path) -> list[tuple[str, list[str]]]:
    """``requirements/<name>.txt`` as (requirement, tags); tags follow as ``  # tags=a,b``."""
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, _, comment = line.partition("  # ")
        tags = comment.removeprefix("tags=").split(",") if comment.startswith("tags=") else []
        cases.append((requirement.strip(), tags))
    return cases


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFORMANCE / "configs").iterdir()))
def test_corpus_is_complete(name: str) -> None:
    """Each config has its requirements and its expected answers, the same cases in the same
    order: a case added to one file and not the other is caught here, not silently skipped."""
    expected = [json.loads(line) for line in
                (CONFORMANCE / "expected" / f"{name}.jsonl").read_text().splitlines() if line]
    written = _written_cases(CONFORMANCE / "requirements" / f"{name}.txt")
    assert written == [(case["requirement"], case["tags"]) for case in expected]
