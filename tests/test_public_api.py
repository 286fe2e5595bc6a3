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
