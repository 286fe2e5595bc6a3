"""JSON Schema (2020-12) of launcher files, written from :mod:`reqsolve.config.spec`.

Editors (yaml-language-server) read it to complete keys and flag mistakes as one types; the
loader stays the judge (it also checks what a schema cannot say: cross-references, units,
regex safety, duplicate keys).
"""

from __future__ import annotations

import json
import re
from typing import Any

from reqsolve.answers.names import SLURM_NAME_RE
from reqsolve.config.spec import (
    EXTENSION_PREFIX,
    LAUNCHER_FILE,
    NO_DEFAULT,
    Leaf,
    ListOf,
    MapOf,
    Obj,
    Spec,
)
from reqsolve.units import duration_pattern, memory_pattern

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# the loader's own alphabet (reqsolve.answers.names), so that the schema refuses what it refuses
SLURM_NAME_PATTERN = f"^{SLURM_NAME_RE.pattern}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$"  # noqa: S105 - a token *name*

# YAML readers in editors follow YAML 1.2, where an unquoted 3080 is a number: names accept it
_NAME_TYPES = ["string", "number", "boolean"]


def _leaf(spec: Leaf) -> dict[str, Any]:
    kind = spec.kind
    schema: dict[str, Any]
    if kind in ("name", "slurm", "token"):
        schema = {"type": _NAME_TYPES}
    elif kind == "text":
        schema = {"type": "string"}
    elif kind == "int":
        schema = {"type": "integer"}
    elif kind == "number":
        schema = {"type": "number"}
    elif kind == "ratio":
        schema = {"type": "number", "minimum": 0, "maximum": 1}
    elif kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "memory":
        schema = {"type": "string", "pattern": memory_pattern()}
    elif kind == "duration":
        schema = {"type": "string", "pattern": duration_pattern()}
    else:
        schema = {"type": "string", "format": "regex"}
    if spec.choices:
        schema = {"enum": list(spec.choices)}
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    schema["description"] = spec.doc
    return schema


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


class _Writer:
    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def write(self, spec: Spec, *, inline: bool = False) -> dict[str, Any]:
        schema: dict[str, Any]
        if isinstance(spec, Leaf):
            schema = _leaf(spec)
        elif isinstance(spec, ListOf):
            schema = {
                "type": ["array", "null"] if spec.nullable else "array",
                "items": self.write(spec.item),
                "description": spec.doc,
            }
        elif isinstance(spec, MapOf):
            schema = {
                "type": "object",
                "additionalProperties": self.write(spec.value),
                "description": spec.doc,
            }
            if spec.key.kind == "slurm":
                schema["propertyNames"] = {"pattern": SLURM_NAME_PATTERN}
            elif spec.key.kind == "token":
                schema["propertyNames"] = {"pattern": TOKEN_PATTERN}
        else:
            return self._obj(spec, inline=inline)
        if spec.default is not NO_DEFAULT:
            schema["default"] = spec.default
        return schema

    def _obj(self, spec: Obj, *, inline: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for name, field_spec in spec.fields.items():
            properties[name] = self.write(field_spec)
        for alias, target in spec.aliases.items():
            properties[alias] = {**properties[target], "description": f"Alias of `{target}`."}
        body: dict[str, Any] = {
            "title": spec.title,
            "description": spec.doc,
            "type": ["object", "null"] if spec.nullable else "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if spec.extensions:
            body["patternProperties"] = {f"^{EXTENSION_PREFIX}": {}}
        if spec.required:
            body["required"] = list(spec.required)
        if inline:
            return body
        key = _slug(spec.title)
        self.defs[key] = body
        if spec.shorthand is not None:
            return {"anyOf": [{"$ref": f"#/$defs/{key}"}, self.write(spec.fields[spec.shorthand])]}
        return {"$ref": f"#/$defs/{key}"}


def json_schema() -> dict[str, Any]:
    """The schema of a launcher file, self-contained (``$defs``), ready for ``json.dumps``."""
    writer = _Writer()
    root = writer.write(LAUNCHER_FILE, inline=True)
    return {"$schema": SCHEMA_DIALECT, **root, "$defs": dict(sorted(writer.defs.items()))}


_KIND_NAMES = {
    "name": "name",
    "slurm": "Slurm name",
    "token": "token name",
    "text": "text",
    "int": "integer",
    "number": "number",
    "bool": "boolean",
    "memory": "size",
    "duration": "duration",
    "ratio": "ratio 0..1",
    "regex": "regex",
}
_ENTRY_NAMES = {
    "gres_memory": "type",
    "partitions": "partition",
    "features": "feature",
    "tokens": "token",
    "ssh": "name",
}


def _default(spec: Spec) -> str:
    return "" if spec.default is NO_DEFAULT else json.dumps(spec.default)


def _walk(
    spec: Spec, path: str, rows: list[tuple[str, str, str, str]], seen: dict[int, str]
) -> None:
    if isinstance(spec, Leaf):
        kind = " | ".join(spec.choices) if spec.choices else _KIND_NAMES[spec.kind]
        if spec.minimum is not None:
            kind += f" >= {spec.minimum}"
        rows.append((path, kind, _default(spec), spec.doc))
    elif isinstance(spec, ListOf):
        if isinstance(spec.item, Leaf):
            rows.append((path, f"list of {_KIND_NAMES[spec.item.kind]}", _default(spec), spec.doc))
        else:
            rows.append((path, "list", _default(spec), spec.doc))
            _walk(spec.item, f"{path}[]", rows, seen)
    elif isinstance(spec, MapOf):
        entry = f"{path}.<{_ENTRY_NAMES.get(path.rsplit('.', 1)[-1], 'name')}>"
        rows.append((path, f"mapping of {_KIND_NAMES[spec.key.kind]}s", _default(spec), spec.doc))
        _walk(spec.value, entry, rows, seen)
    else:
        nullable = " or null" if spec.nullable else ""
        first = seen.get(id(spec))
        if first is not None:  # the same block again (configuration): say where it is described
            rows.append((path, f"mapping{nullable}", "", f"As {first}."))
            return
        seen[id(spec)] = path
        if path and rows[-1][0] != path:
            rows.append((path, f"mapping{nullable}", "", spec.doc))
        for name, child in spec.fields.items():
            _walk(child, f"{path}.{name}" if path else name, rows, seen)
        for alias, target in spec.aliases.items():
            rows.append(
                (f"{path}.{alias}" if path else alias, "alias", "", f"Alias of `{target}`.")
            )


def field_table() -> list[tuple[str, str, str, str]]:
    """Every field of a launcher file as (path, type, default, description), in file order.

    Paths read like the problem paths of ``validate``: ``slurm[].partitions.<partition>.nodes[]``.
    """
    rows: list[tuple[str, str, str, str]] = []
    _walk(LAUNCHER_FILE, "", rows, {})
    return rows
