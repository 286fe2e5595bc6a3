"""The import graph of ``reqsolve/``: no cycle (issue 13), even in annotations (issue 23), and one
short layer contract, :data:`NEVER`.

Every ``import`` counts: at module level, inside a function (a function-level import is still a
dependency; it only defers the cost) and under ``if TYPE_CHECKING:`` (an annotation naming a
module that imports this one is a circle too: the two cannot be read, moved or split apart).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reqsolve"


def module_names() -> dict[str, Path]:
    """Dotted name of every module of the package, to its file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = module_names()


class _Imports(ast.NodeVisitor):
    """The reqsolve modules one module imports (``from x import y`` counts x.y when a module)."""

    def __init__(self, name: str, is_package: bool, modules: dict[str, Path] = MODULES) -> None:
        self.package = name if is_package else name.rpartition(".")[0]
        self.modules = modules
        self.found: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names if alias.name in self.modules)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = node.module or ""
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([target] if target else []))
        for alias in node.names:
            if f"{target}.{alias.name}" in self.modules:
                self.found.add(f"{target}.{alias.name}")
            elif target in self.modules:
                self.found.add(target)


@cache
def import_graph() -> dict[str, set[str]]:
    """Module -> the reqsolve modules it imports (read once per test run; do not change it)."""
    graph = {}
    for name, path in MODULES.items():
        visitor = _Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = visitor.found - {name}
    return graph


def components(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The circles of the graph: its strongly connected components of two modules or more."""
    reach = {node: _reachable(graph, node) for node in graph}
    return {
        frozenset({node, *(other for other in reach[node] if node in reach[other])})
        for node in graph
        if any(node in reach[other] for other in reach[node])
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"a": {"b"}, "b": {"c"}, "c": set()}, set(), id="chain"),
        pytest.param({"a": {"b", "c"}, "b": {"c"}, "c": set()}, set(), id="diamond"),
        pytest.param({"a": {"b"}, "b": {"c"}, "c": {"a"}}, {frozenset("abc")}, id="triangle"),
        pytest.param({"a": {"a2"}, "a2": {"b"}, "b": {"a2"}}, {frozenset({"a2", "b"})},
                     id="pair"),
        pytest.param({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}},
                     {frozenset("ab"), frozenset("cd")}, id="two"),
    ],
)
def test_components(graph: dict[str, set[str]], expected: set[frozenset[str]]) -> None:
    assert components(graph) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import reqsolve.b\n", {"reqsolve.b"}, id="import"),
        pytest.param("from reqsolve import b\n", {"reqsolve.b"}, id="from-package"),
        pytest.param("from . import b\n", {"reqsolve.b"}, id="relative"),
        pytest.param("from reqsolve.b import name\n", {"reqsolve.b"}, id="from-module"),
        pytest.param("def f():\n    import reqsolve.b\n", {"reqsolve.b"}, id="in-function"),
        pytest.param("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from reqsolve.b import B\n", {"reqsolve.b"}, id="type-checking"),
        pytest.param("import os\nimport reqsolve.nowhere\n", set(), id="not-ours"),
    ],
)
def test_every_kind_of_import_is_an_edge(source: str, expected: set[str]) -> None:
    known = {"reqsolve": Path("__init__.py"), "reqsolve.a": Path("a.py"),
             "reqsolve.b": Path("b.py")}
    visitor = _Imports("reqsolve.a", is_package=False, modules=known)
    visitor.visit(ast.parse(source))
    assert visitor.found == expected


def test_reqsolve_imports_have_no_cycle_even_in_annotations() -> None:
    found = components(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


# The layer contract: a package never imports those listed after it (even in annotations).
NEVER: dict[str, tuple[str, ...]] = {
    "reqsolve.config": ("reqsolve.slurm", "reqsolve.pyconfig", "reqsolve.integrations",
                        "reqsolve.cli"),
    "reqsolve.answers": ("reqsolve.slurm", "reqsolve.pyconfig", "reqsolve.integrations",
                         "reqsolve.cli"),
    "reqsolve.slurm": ("reqsolve.pyconfig", "reqsolve.integrations", "reqsolve.cli"),
    "reqsolve.pyconfig": ("reqsolve.integrations", "reqsolve.cli"),
    "reqsolve.integrations": ("reqsolve.cli",),
}
# rows that do not hold yet, with the work that will make them hold
PENDING: dict[tuple[str, str], str] = {}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        pytest.param(importer, imported, id=f"{importer} -/-> {imported}",
                     marks=[pytest.mark.xfail(strict=True, reason=PENDING[importer, imported])]
                     if (importer, imported) in PENDING else [])
        for importer, never in NEVER.items()
        for imported in never
    ],
)
def test_layers(importer: str, imported: str) -> None:
    graph = import_graph()
    crossing = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items() if _within(source, importer)
        for target in targets if _within(target, imported)
    )
    assert not crossing, crossing


def test_only_main_imports_the_command_line() -> None:
    """reqsolve.cli is the top: the library never reaches up to it."""
    importers = sorted(
        source for source, targets in import_graph().items()
        if not _within(source, "reqsolve.cli")
        and any(_within(target, "reqsolve.cli") for target in targets)
    )
    assert importers == ["reqsolve.__main__"]
