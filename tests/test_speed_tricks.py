"""Issue 23 §3: a speed trick stays only where it earns >= 10 % of a user-visible figure
(docs/performance.md, "Speed tricks kept"). Deferred imports of cheap standard modules in
modules that a cold ``reqsolve find`` never imports earned nothing: they are plain imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("reqsolve/pyconfig/codegen.py", "json"),
        ("reqsolve/cli/schema_cmd.py", "json"),
        ("reqsolve/parser.py", "hashlib"),
    ],
)
def test_cheap_standard_modules_are_imported_at_the_top(module: str, name: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    nested = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Import) and node not in tree.body
        and any(alias.name == name for alias in node.names)
    ]
    assert name in top and nested == []
