"""``reqsolve convert launchers.yaml --to python``: the printed launchers.py answers as the YAML.

The property: for random small launcher files (local hosts, Slurm partitions with node groups,
features decoded by regexes, QoS, accounts, priorities, weights, tags) and random requirements,
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

from reqsolve.cli.find_cmd import answer_json
from reqsolve.config.loader import load_config
from reqsolve.errors import LauncherNotFoundError
from reqsolve.pyconfig import make_registry, python_source
from reqsolve.registry import Registry
from reqsolve.requirement import Accelerator, Alternative, Cpu, Requirement
from tests.cli_run import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS_EXAMPLE = ROOT / "fixtures" / "docs_example" / "launchers.yaml"
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

MEMORY = st.sampled_from(["4G", "16G", "24G", "40GiB", "80G"])
TAGS = ("a", "b")


def _maybe(draw: st.DrawFn, value: Any) -> Any:
    return value if draw(st.booleans()) else None


@st.composite
def cpu_sections(draw: st.DrawFn, *, per_cpu: bool = False) -> dict[str, Any]:
    section = {
        "cores": _maybe(draw, draw(st.sampled_from([4, 16, 64]))),
        "memory": _maybe(draw, draw(st.sampled_from(["8G", "64G", "512G"]))),
    }
    if per_cpu:
        section["mem_per_cpu"] = _maybe(draw, draw(st.sampled_from(["2G", "4G"])))
    return {k: v for k, v in section.items() if v is not None}


@st.composite
def local_launchers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    item: dict[str, Any] = {"id": f"local{index}", "cpu": draw(cpu_sections())}
    gpu = st.fixed_dictionaries({"count": st.integers(1, 2), "memory": MEMORY})
    gpus = draw(st.lists(gpu, max_size=2))
    if gpus:
        item["gpus"] = gpus
    if draw(st.booleans()):
        item["weight"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        item["tags"] = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 5)) == 0:
        item["disable"] = True
    return item


@st.composite
def node_groups(draw: st.DrawFn, names: Any) -> dict[str, Any]:
    group: dict[str, Any] = {}
    if draw(st.booleans()):
        group["hosts"] = [next(names) for _ in range(draw(st.integers(1, 2)))]
    else:
        group["count"] = draw(st.integers(1, 3))
    features = []
    if draw(st.booleans()):
        features.append(f"GPU{draw(st.integers(1, 4))}")
        features.append(f"GPUM{draw(st.sampled_from([16, 24, 48]))}G")
    if draw(st.booleans()):
        features.append(draw(st.sampled_from(["A100", "fast"])))
    if features:
        group["features"] = features
    if draw(st.integers(0, 2)) == 0:
        group["configuration"] = {"cpu": draw(cpu_sections())}
    return group


@st.composite
def slurm_launchers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    names = (f"n{index}x{i}" for i in itertools.count())
    qos = {
        "short": {"max_duration": "20h", "priority": draw(st.integers(0, 1))},
        "long": {"max_duration": "4 days", "min_gpu": draw(st.integers(0, 1))},
    }
    partitions = {}
    for number in range(draw(st.integers(1, 3))):
        partition: dict[str, Any] = {
            "nodes": draw(st.lists(node_groups(names), min_size=1, max_size=2))
        }
        if draw(st.booleans()):
            names_of_qos = st.sampled_from(sorted(qos))
            partition["qos"] = draw(st.lists(names_of_qos, min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 2)) == 0:
            partition["accounts"] = ["acct"]
        if draw(st.booleans()):
            partition["priority"] = draw(st.integers(0, 2))
        if draw(st.integers(0, 5)) == 0:
            partition["disabled"] = True
        if draw(st.booleans()):
            partition["configuration"] = {"max_duration": draw(st.sampled_from(["2h", "2 days"]))}
        partitions[f"p{index}{number}"] = partition
    configuration: dict[str, Any] = {"cpu": draw(cpu_sections(per_cpu=True))}
    if draw(st.booleans()):
        configuration["gpu"] = {"min_mem_ratio": draw(st.sampled_from([0.3, 0.5]))}
    item: dict[str, Any] = {
        "id": f"slurm{index}",
        "features_regex": ["GPU(?P<cuda_count>\\d+)", "GPUM(?P<cuda_memory>\\d+G)"],
        "features": {"A100": {"configuration": {"gpu": {"model": "A100"}}}},
        "qos": qos,
        "configuration": configuration,
        "partitions": partitions,
        "use_features": draw(st.booleans()),
        "use_memory_contraint": draw(st.booleans()),
    }
    if draw(st.booleans()):
        item["weight"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        item["tags"] = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True))
    return item


@st.composite
def launcher_files(draw: st.DrawFn) -> dict[str, Any]:
    local = [draw(local_launchers(i)) for i in range(draw(st.integers(0, 2)))]
    slurm = [draw(slurm_launchers(i)) for i in range(draw(st.integers(0, 2)))]
    if not local and not slurm and draw(st.integers(0, 4)):
        local = [draw(local_launchers(0))]  # an empty file (`local: []`) now and then only
    document: dict[str, Any] = {}
    if local or not slurm:
        document["local"] = local
    if slurm:
        document["slurm"] = slurm
    return document


GIGA = 10**9
alternatives = st.builds(
    Alternative,
    duration=st.sampled_from([0, 3600, 30 * 3600, 3 * 86400]),
    cpu=st.one_of(
        st.none(),
        st.builds(
            Cpu,
            cores=st.sampled_from([1, 4, 32]),
            memory=st.sampled_from([0, 4 * GIGA, 100 * GIGA]),
        ),
    ),
    gpus=st.lists(
        st.builds(
            Accelerator,
            memory=st.sampled_from([0, 8 * GIGA, 16 * GIGA, 30 * GIGA]),
            model=st.sampled_from([None, None, "a100"]),
        ),
        max_size=3,
    ).map(tuple),
)
requirements = st.lists(alternatives, min_size=1, max_size=2).map(lambda a: Requirement(tuple(a)))
_cases = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    launcher_files(),
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
