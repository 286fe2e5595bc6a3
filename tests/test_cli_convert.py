"""``reqsolve convert launchers.yaml --to python``: the printed launchers.py answers as the YAML.

The property: for random small launcher files (tests/strategies.py: local hosts, Slurm partitions
with node groups, features decoded by regexes, configurations at every level, typed GRES, QoS,
accounts, priorities, weights, tags) and random requirements,
the YAML and its converted Python file give the same answer — same launcher, alternative and
options — and, when nothing fits, the same reasons.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.answers.renderings import answer_json
from reqsolve.config.loader import load_config
from reqsolve.errors import LauncherNotFoundError
from reqsolve.pyconfig import make_registry, python_source
from reqsolve.registry import Registry
from reqsolve.requirement import Requirement
from tests import strategies
from tests.cli_run import cli
from tests.paths import DOCS_EXAMPLE, ROOT
from tests.reference import G

UPSTREAM = ROOT / "fixtures" / "upstream_test" / "launchers.yaml"


def answer(registry: Registry, requirement: Requirement | str, tags: tuple[str, ...]) -> Any:
    """The §7 answer without its source, or the reasons of a no-match, comparable as data."""
    try:
        match = registry.find(requirement, tags=tags, offline=True)
    except LauncherNotFoundError as exc:
        return {"launcher": None, "reasons": [r.as_json() for r in exc.reasons]}
    data = answer_json(match)
    data["launcher"].pop("source", None)
    return data


def converted(yaml_path: Path, directory: Path) -> Registry:
    """The directory registry of the converted file alone (no YAML beside it)."""
    directory.mkdir(parents=True)
    source = python_source(load_config(yaml_path))
    (directory / "launchers.py").write_text(source)
    return make_registry(str(directory))


# --- the repository's launcher files, on a table of requirements

EXPRESSIONS = [
    "cpu(cores=2)",
    "cpu(mem=4G, cores=40)",
    "cuda(mem=8G)",
    "cuda(mem=20G)*2 & duration=3 days",
    "cuda(mem=30G)*3",
    "cuda(mem=24G)*2 & cpu(mem=64G, cores=8) & duration=2h",
    "cuda(mem=30G, model=A100)*4 & duration=30h",
    "cuda(mem=80G)*9 | cpu(cores=1)",
    "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4) | duration=2h & cpu(cores=8)",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
@pytest.mark.parametrize("tags", [(), ("slurm",)], ids=["no-tags", "tag-slurm"])
@pytest.mark.parametrize("config", [DOCS_EXAMPLE, UPSTREAM], ids=["docs-example", "upstream"])
def test_repository_files_convert_equivalently(
    config: Path, tags: tuple[str, ...], expression: str, tmp_path: Path
) -> None:
    python = converted(config, tmp_path / "py")
    assert answer(python, expression, tags) == answer(Registry(config), expression, tags)


def test_converted_file_reads_like_the_yaml() -> None:
    source = python_source(load_config(DOCS_EXAMPLE))
    compile(source, "launchers.py", "exec")
    assert 'memory=parse_memory("8116MiB")' in source
    assert 'max_duration=parse_duration("20h")' in source
    assert r'features_regex=(r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)")' in source
    assert "return solve(LAUNCHERS, requirements, tags)" in source


# --- the CLI


def test_cli_prints_the_python_file() -> None:
    code, out, _ = cli("convert", str(DOCS_EXAMPLE), "--to", "python")
    assert code == 0
    assert out == python_source(load_config(DOCS_EXAMPLE), origin=str(DOCS_EXAMPLE))


def test_cli_writes_and_does_not_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "launchers.py"
    assert cli("convert", str(DOCS_EXAMPLE), "-o", str(target))[0] == 0
    assert "LAUNCHERS = LauncherFile(" in target.read_text()
    code, _, err = cli("convert", str(DOCS_EXAMPLE), "-o", str(target))
    assert code == 2 and "not overwriting" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["missing.yaml"], "no such file", id="missing-file"),
        pytest.param(["--to", "java", str(DOCS_EXAMPLE)], "invalid choice", id="bad-target"),
    ],
)
def test_cli_usage_errors(argv: list[str], fragment: str) -> None:
    code, _, err = cli("convert", *argv)
    assert code == 2 and fragment in err


def test_cli_bad_yaml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "launchers.yaml"
    bad.write_text("local:\n  - cpu: {cores: 4, memroy: 4G}\n")
    code, out, err = cli("convert", str(bad))
    assert (code, out) == (2, "")
    assert "ConfigError" in err and "memroy" in err


def test_convert_then_find_as_real_processes(tmp_path: Path) -> None:
    """Once end to end through the installed entry point's module, as a user would."""
    python = [sys.executable, "-m", "reqsolve"]
    target = tmp_path / "conf" / "launchers.py"
    target.parent.mkdir()
    subprocess.run([*python, "convert", str(DOCS_EXAMPLE), "-o", str(target)], check=True, cwd=ROOT)
    expression = "cuda(mem=20G)*2 & duration=3 days"
    results = [
        subprocess.run(
            [*python, "find", "--offline", "--format", "json", "--config", str(config), expression],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        for config in (target.parent, DOCS_EXAMPLE)
    ]
    from_python, from_yaml = (json.loads(r) for r in results)
    assert from_python["launcher"].pop("source") == "launchers.py"
    assert from_python.pop("config") == {"files": [str(target)], "this_machine": False}
    assert from_yaml.pop("config") == {"files": [str(DOCS_EXAMPLE)], "this_machine": False}
    assert from_python == from_yaml


# --- the equivalence property on random small launcher files

requirements = strategies.requirements(
    strategies.alternatives(
        durations=[0, 3600, 30 * 3600, 3 * 86400],
        cpu=strategies.cpus(cores=[1, 4, 32], memory=[0, 4 * G, 100 * G]),
        gpus=strategies.accelerators(
            memory=[0, 8 * G, 16 * G, 30 * G], models=[None, None, "a100"]
        ),
        max_gpus=3,
    ),
    max_size=2,
)
_cases = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    strategies.launcher_documents(tags=("a", "b"), decoded_features=True),
    st.lists(
        st.tuples(requirements, st.sampled_from([(), (), ("a",), ("b",)])), min_size=1, max_size=4
    ),
)
def test_yaml_and_converted_python_answer_alike(
    tmp_path: Path, document: dict[str, Any], queries: list[tuple[Requirement, tuple[str, ...]]]
) -> None:
    case = tmp_path / f"case{next(_cases)}"
    case.mkdir()
    yaml_path = case / "launchers.yaml"
    yaml_path.write_text(yaml.safe_dump(document, sort_keys=False))
    from_yaml = Registry(yaml_path)
    from_python = converted(yaml_path, case / "py")
    for requirement, tags in queries:
        assert answer(from_python, requirement, tags) == answer(from_yaml, requirement, tags)
