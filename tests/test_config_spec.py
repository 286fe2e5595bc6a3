"""config/spec.py is the one table of fields: the model's defaults and the builder follow it.

The builder takes its defaults from the spec (``config.build.written``); the typed model keeps
defaults of its own for code that builds values directly (tests, ``launchers.py``, discovery),
and the two writers (YAML, Python) leave out what equals them. So each default the spec states
must be the model's, field by field — the test that holds the table and the model together.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reqsolve.config import model, spec
from reqsolve.config.build import written
from reqsolve.config.loader import load_config

# (spec object, model class, spec field name -> model field name where they differ)
PAIRS: list[tuple[spec.Obj, type[Any], dict[str, str]]] = [
    (spec.LOCAL_LAUNCHER, model.LocalLauncherConfig, {"disable": "disabled"}),
    (spec.LOCAL_GPU, model.LocalGpu, {}),
    (spec.SLURM_LAUNCHER, model.SlurmLauncherConfig,
     {"use_memory_contraint": "use_memory_constraint"}),
    (spec.PARTITION, model.Partition, {}),
    (spec.NODE_GROUP, model.NodeGroup, {}),
    (spec.QOS, model.Qos, {}),
    (spec.SSH_CONNECTOR, model.SshConnectorConfig, {}),
]
ROWS = [
    (table.title, cls, renames.get(name, name), field.default)
    for table, cls, renames in PAIRS
    for name, field in table.fields.items()
    if field.default is not spec.NO_DEFAULT
]


def _model_default(cls: type[Any], name: str) -> Any:
    found = {f.name: f for f in dataclasses.fields(cls)}[name]
    if found.default_factory is not dataclasses.MISSING:
        return found.default_factory()
    return found.default


@pytest.mark.parametrize(
    ("title", "cls", "name", "default"), ROWS, ids=[f"{r[0]}.{r[2]}" for r in ROWS]
)
def test_model_defaults_are_the_spec_defaults(
    title: str, cls: type[Any], name: str, default: Any
) -> None:
    expected = tuple(default.items()) if isinstance(default, dict) else default
    if isinstance(expected, list):
        expected = tuple(expected)
    assert _model_default(cls, name) == expected, f"{title}.{name}"


def test_every_model_field_is_in_the_table() -> None:
    """A model field that no spec row describes could only be set in code, never in a file."""
    for table, cls, renames in PAIRS:
        # the key a partition or QoS is written under, and the launcher type (local:/slurm:)
        described = {renames.get(name, name) for name in table.fields} | {"name", "id", "type"}
        # a field that discovery alone sets (metadata "discovered": what Slurm lets the user
        # submit with, docs/semantics.md §3) is never written in a file
        extra = {
            f.name for f in dataclasses.fields(cls) if f.init and not f.metadata.get("discovered")
        } - described
        assert not extra, (table.title, extra)


def test_written_fills_the_spec_defaults() -> None:
    assert written({"weight": 2}, spec.SLURM_LAUNCHER)["use_features"] is True
    assert written(None, spec.QOS) == {"max_duration": None, "min_gpu": 0, "priority": 0}


def test_a_minimal_file_builds_with_the_model_defaults(tmp_path: Any) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("slurm:\n  - id: s\n    partitions: {p: {nodes: [{hosts: [h]}]}}\n")
    launcher = load_config(path).launchers[0]
    assert isinstance(launcher, model.SlurmLauncherConfig)
    bare = model.SlurmLauncherConfig(id="s")
    assert dataclasses.replace(launcher, partitions=()) == bare


# --- issue 23 §3: the descriptions are plain dataclasses (no start-up trick), compared by identity


@pytest.mark.parametrize(
    ("cls", "names"),
    [
        (spec.Leaf, ("kind", "doc", "default", "minimum", "maximum", "choices")),
        (spec.ListOf, ("item", "doc", "default", "nullable", "keep_places")),
        (spec.MapOf, ("key", "value", "doc", "default")),
        (spec.Obj, ("title", "doc", "fields", "aliases", "required", "nullable",
                           "default", "extensions", "shorthand")),
    ],
)
def test_spec_classes_are_dataclasses_compared_by_identity(
    cls: type, names: tuple[str, ...]
) -> None:
    assert tuple(f.name for f in dataclasses.fields(cls)) == names
    assert cls.__eq__ is object.__eq__ and cls.__hash__ is object.__hash__
