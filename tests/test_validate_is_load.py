"""validate = load (issue 12, item 6): whatever loading, building or connecting would refuse
about a file, ``validate`` reports at file:line:column.

A mutation corpus: every string of a small, complete launcher file (values and the names used
as keys) is replaced, one at a time, by each of a set of hostile or odd values; each mutated
file is validated, then used the way ``find`` and ``submit`` use it — loaded, compiled, its
connectors built, a few requests answered and turned into launchers. Every refusal on that path
must have been reported by ``validate`` as an error with a position; and nothing may crash.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reqsolve.config.loader import check_config, load_config
from reqsolve.connectors import connector_for
from reqsolve.errors import LauncherNotFoundError, ReqsolveError
from tests.answering import answer

BASE: dict[str, Any] = {
    "connectors": {
        "ssh": {
            "front": {
                "hostname": "front.example.org",
                "user": "alice",
                "port": 22,
                "options": ["IdentityFile=~/.ssh/id_ed25519"],
            }
        }
    },
    "local": [
        {
            "connector": "local",
            "weight": 1,
            "tags": ["here"],
            "cpu": {"cores": 4, "memory": "8G"},
            "gpus": [{"model": "T4", "count": 1, "memory": "16G"}],
        }
    ],
    "slurm": [
        {
            "id": "cluster",
            "connector": "front",
            "path": "/opt/slurm/bin",
            "features": {"fast": {"configuration": {"cpu": {"cores": 64}}}},
            "tags": ["slurm"],
            "weight": 2,
            "features_regex": [r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)"],
            "qos": {"short": {"max_duration": "2h", "min_gpu": 0, "priority": 1}},
            "configuration": {
                "cpu": {"cores": 32, "memory": "128G"},
                "gpu": {"model": "A100", "memory": "40G"},
            },
            "partitions": {
                "gpu": {
                    "qos": ["short"],
                    "accounts": ["proj"],
                    "nodes": [{"hosts": ["g1", "g2"], "features": ["GPU4", "GPUM40G", "fast"]}],
                },
                "cpu": {"nodes": [{"hosts": ["c1"], "features": ["cpuonly"]}]},
            },
        }
    ],
}

HOSTILE = [
    "-oProxyCommand=x",
    "-x",
    "a b",
    "x;y",
    "$(id)",
    "a`b`",
    "a\nb",
    "a\tb",
    "tab\x07bell",
    "é",
    "a,b",
    "a&b",
    "a|b",
    "[x]",
    "#x",
    "0",
    "",
    "x" * 300,
]

HOSTILE_NUMBERS = [-1, 0, 70000, 10**20, 1.5, True]

REQUESTS = ["cpu(cores=1)", "cuda(mem=20G)", "duration=1h & cuda(mem=30G)*2", "cuda()"]


def _strings(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """(path, is a key) of every string value, and of every name used as a mapping key below
    a key whose entries are names (partitions, qos, connectors)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if path and path[-1] in ("partitions", "qos", "ssh"):
                yield (*path, key), True
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*path, index))
    elif isinstance(data, (str, int)):
        yield path, False


def _mutated(path: tuple[Any, ...], is_key: bool, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if is_key:
        parent[value] = parent.pop(last)
    else:
        parent[last] = value
    return data


def _value_at(path: tuple[Any, ...]) -> Any:
    data: Any = BASE
    for part in path:
        data = data[part]
    return data


CASES = [
    pytest.param(
        path,
        is_key,
        value,
        id=f"{'.'.join(map(str, path))}{'(key)' if is_key else ''}={value!r:.20}",
    )
    for path, is_key in _strings(BASE)
    for value in (
        HOSTILE if is_key or isinstance(_value_at(path), str) else [*HOSTILE_NUMBERS, "x"]
    )
]


def used(path: Path) -> ReqsolveError | None:
    """What using the file as find and submit do refuses first (None: nothing): loaded, its
    connectors built, a few requests answered (each answer turned into its launcher)."""
    try:
        launcher_file = load_config(path)
        for launcher in launcher_file.launchers:
            connector_for(launcher.connector, launcher_file)
        for text in REQUESTS:
            try:
                answer(path, text)
            except LauncherNotFoundError:
                continue
    except ReqsolveError as error:
        return error
    return None


def test_the_corpus_is_large() -> None:
    assert len(CASES) > 400


@pytest.mark.parametrize(("path", "is_key", "value"), CASES)
def test_every_refusal_of_use_is_reported_by_validate(
    tmp_path: Path, path: tuple[Any, ...], is_key: bool, value: Any
) -> None:
    file = tmp_path / "launchers.yaml"
    file.write_text(yaml.safe_dump(_mutated(path, is_key, value), allow_unicode=True))
    _, problems = check_config(file)
    errors = [p for p in problems if p.severity == "error"]
    refused = used(file)
    if refused is not None:
        assert errors, f"validate reports nothing, but using the file refuses: {refused}"
    for problem in errors:
        assert problem.line >= 1 and problem.column >= 1, problem
