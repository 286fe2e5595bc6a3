"""The names reqsolve promises in ``__all__`` exist, and the heavy ones load only when used."""

from __future__ import annotations

import pytest

import reqsolve
from tests.commands import python_process


@pytest.mark.parametrize("name", sorted(reqsolve.__all__))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(reqsolve, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reqsolve.nope  # noqa: B018


def test_import_does_not_load_the_solver_yaml_or_pint() -> None:
    code = (
        "import sys, reqsolve; "
        "print(sorted(m for m in ('yaml', 'pint', 'constraint', 'lark', 'reqsolve.registry') "
        "if m in sys.modules))"
    )
    done = python_process(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_all_is_the_lazy_table_and_the_typing_block_mirrors_it() -> None:
    """One list of public names (``_LAZY``, name -> module): ``__all__`` is made from it, and
    the ``if TYPE_CHECKING:`` imports that type checkers read name the same names from the
    same modules (a name added to one and not the other fails here)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(reqsolve))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == reqsolve._LAZY
    assert sorted(reqsolve.__all__) == sorted(["__version__", *reqsolve._LAZY])
    assert {"Answer", "LauncherFile"} <= set(reqsolve.__all__)
