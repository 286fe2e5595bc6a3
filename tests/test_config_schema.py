"""``reqsolve schema``: a valid 2020-12 schema accepting every good file, knowing every field."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reqsolve.cli import run
from reqsolve.config.loader import check_config
from reqsolve.config.schema import json_schema
from reqsolve.config.spec import LAUNCHER_FILE, ListOf, MapOf, Obj, Spec
from tests.paths import ROOT

CONFORMANCE_CONFIGS = ROOT / "tests" / "conformance" / "configs"
GOOD = sorted(p for p in (ROOT / "fixtures").glob("*/launchers.yaml") if p.parent.name != "broken")
GOOD += sorted(CONFORMANCE_CONFIGS.glob("*/launchers.yaml"))


def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json_data(path: Path) -> Any:
    """The file as an editor sees it (keys are strings in JSON)."""

    def keys_as_text(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): keys_as_text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [keys_as_text(v) for v in value]
        return value

    return keys_as_text(yaml.safe_load(path.read_text()))


def test_command_prints_the_schema() -> None:
    out = io.StringIO()
    assert run(["schema"], out, io.StringIO()) == 0
    printed = json.loads(out.getvalue())
    assert printed == json_schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_good_files_validate(path: Path) -> None:
    errors = [e.message for e in validator().iter_errors(as_json_data(path))]
    assert errors == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("local: [{gpuz: []}]", "'gpuz' was unexpected", id="unknown-key"),
        pytest.param("local: [{cpu: {memory: 8}}]", "is not of type 'string'", id="bare-memory"),
        pytest.param("local: [{cpu: {memory: 8X}}]", "does not match", id="bad-unit"),
        pytest.param(
            "slurm: [{configuration: {max_duration: 4 parsecs}}]",
            "does not match",
            id="bad-duration-unit",
        ),
        pytest.param(
            "slurm: [{configuration: {gpu: {min_mem_ratio: 1.5}}}]",
            "greater than the maximum",
            id="ratio",
        ),
        pytest.param("slurm: [{partitions: {'a,b': {}}}]", "does not match", id="partition-name"),
        pytest.param("local: [{cpu: {cores: -1}}]", "less than the minimum", id="negative"),
    ],
)
def test_schema_rejects(text: str, fragment: str) -> None:
    errors = [e.message for e in validator().iter_errors(yaml.safe_load(text))]
    assert any(fragment in e for e in errors), errors


SIZES_AND_DURATIONS = ["4G", "4 GiB", "1.5gb", "+4k", "8", "4X", "4 parsecs", "4 days", "1d12h"]


@pytest.mark.parametrize("text", [*SIZES_AND_DURATIONS, "90m", "4 hrs"])
def test_schema_patterns_accept_what_a_parse_accepts(text: str) -> None:
    """Size and duration patterns are built from the unit tables the parser reads."""
    from reqsolve.errors import InvalidValue
    from reqsolve.units import duration_pattern, memory_pattern, parse_duration, parse_memory

    for pattern, parse in ((memory_pattern(), parse_memory), (duration_pattern(), parse_duration)):
        try:
            parse(text)
            parsed = True
        except InvalidValue:
            parsed = False
        assert (re.search(pattern, text) is not None) == parsed, (text, parse.__name__)


@pytest.mark.parametrize(
    "name", ["gpu", "gpu-a100", "iea@a100", "cuda11.8", "gpué", "-gpu", "a b", "a,b", "a=b"]
)
def test_schema_and_loader_agree_on_partition_names(name: str, tmp_path: Path) -> None:
    """The schema's name pattern is the loader's own alphabet: an editor refuses what
    ``reqsolve validate`` refuses (``gpué`` used to pass the schema only)."""
    text = f"slurm:\n  - id: c\n    partitions:\n      {json.dumps(name)}: {{}}\n"
    path = tmp_path / "launchers.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = check_config(path)
    loader_accepts = not [p for p in problems if p.severity == "error"]
    schema_accepts = not list(validator().iter_errors(yaml.safe_load(text)))
    assert schema_accepts == loader_accepts
    assert loader_accepts == (name in {"gpu", "gpu-a100", "iea@a100", "cuda11.8"})


def _field_names(spec: Spec, seen: set[int]) -> set[str]:
    if id(spec) in seen:
        return set()
    seen.add(id(spec))
    if isinstance(spec, Obj):
        names = set(spec.fields) | set(spec.aliases)
        for child in spec.fields.values():
            names |= _field_names(child, seen)
        return names
    if isinstance(spec, ListOf):
        return _field_names(spec.item, seen)
    if isinstance(spec, MapOf):
        return _field_names(spec.value, seen)
    return set()


def test_every_field_and_alias_is_in_the_schema() -> None:
    text = json.dumps(json_schema())
    for name in _field_names(LAUNCHER_FILE, set()):
        assert f'"{name}"' in text, name


def test_aliases_documented() -> None:
    schema = json_schema()
    local = schema["$defs"]["local_launcher"]["properties"]
    assert local["gpu"]["description"] == "Alias of `gpus`."
    slurm = schema["$defs"]["slurm_launcher"]["properties"]
    assert slurm["use_memory_constraint"]["description"] == "Alias of `use_memory_contraint`."


def test_every_field_and_alias_is_documented() -> None:
    docs = (ROOT / "docs" / "launchers-file.md").read_text(encoding="utf-8")
    for name in _field_names(LAUNCHER_FILE, set()):
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", docs), name


def test_fields_command_explains_every_field() -> None:
    out = io.StringIO()
    assert run(["schema", "--fields"], out, io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    paths = [line.split()[0] for line in lines]
    for expected in (
        "local[].gpus[].memory",
        "local[].gpu",
        "slurm[].use_memory_constraint",
        "slurm[].configuration.gpu.min_mem_ratio",
        "slurm[].qos.<name>.min_gpu",
        "slurm[].partitions.<partition>.nodes[].count",
        "connectors.ssh.<name>.hostname",
    ):
        assert expected in paths, expected
    (row,) = [
        line
        for line in lines
        if line.startswith("slurm[].partitions.<partition>.nodes[].configuration ")
    ]
    assert row.rstrip().endswith("As slurm[].configuration.")
    for name in _field_names(LAUNCHER_FILE, set()):
        assert any(path.endswith(f".{name}") or path == name for path in paths), name
