"""The import graph of ``reqsolve/`` has no cycle (issue 13): imports flow one way, down the layers.

Every ``import`` counts, at module level or inside a function (a function-level import is still a
dependency; it only defers the cost), except those under ``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
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

    def __init__(self, name: str, is_package: bool) -> None:
        self.package = name if is_package else name.rpartition(".")[0]
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.dump(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names if alias.name in MODULES)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = node.module or ""
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([target] if target else []))
        for alias in node.names:
            if f"{target}.{alias.name}" in MODULES:
                self.found.add(f"{target}.{alias.name}")
            elif target in MODULES:
                self.found.add(target)


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        visitor = _Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = visitor.found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first == last), or None (depth-first, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"a": {"b"}, "b": {"c"}, "c": set()}, None, id="chain"),
        pytest.param({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None, id="diamond"),
        pytest.param({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"], id="triangle"),
        pytest.param({"a": {"a2"}, "a2": {"b"}, "b": {"a2"}}, ["a2", "b", "a2"], id="pair"),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert find_cycle(graph) == expected


def test_the_graph_sees_function_level_imports() -> None:
    """The checker is not blind: known edges, one of them inside a function, are in the graph."""
    graph = import_graph()
    assert "reqsolve.matching" in graph["reqsolve.hostspec"]  # inside verdict()
    assert "reqsolve.pyconfig" in graph["reqsolve.finder"]  # inside registry_for()
    assert "reqsolve.requirement" in graph["reqsolve.parser"]


def test_reqsolve_imports_have_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _in_block(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith(("from ", "import "))


def _unexplained_function_imports(path: Path) -> list[str]:
    """Function-level imports of one module that no comment explains: a comment on one of the
    lines of the block of imports it belongs to, or on the line just above that block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            first = node.lineno - 1
            while first > 0 and _in_block(lines[first - 1]):
                first -= 1  # the top of the block of imports (blank lines part it by kind)
            last = node.end_lineno or node.lineno
            while last < len(lines) and _in_block(lines[last]):
                last += 1
            block = lines[first:last]
            above = lines[first - 1].strip() if first else ""
            if not (above.startswith("#") or any("#" in line for line in block)):
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                found.append(f"{where}: {lines[node.lineno - 1].strip()}")
    return found


def test_every_function_level_import_says_why() -> None:
    """A function-level import hides a dependency from the top of the file; it is written only
    where a process must not pay for a module it may not use, and says so (issue 13)."""
    unexplained = [
        line for path in MODULES.values() for line in _unexplained_function_imports(path)
    ]
    assert not unexplained, "\n".join(unexplained)
