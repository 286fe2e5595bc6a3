"""Which back-end parses: lark-cython whenever it is installed, plain lark where it is not.

The values and errors of both are compared by running tests/test_parser*.py once per back-end
(the ``parser_backend`` fixture); here only the switch itself is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reqsolve import parser
from tests.commands import python_process

needs_compiled = pytest.mark.skipif(
    not parser.compiled_backend_available(), reason="lark-cython has no wheel for this platform"
)


@pytest.mark.parametrize(
    ("backend", "compiled"),
    [("lark", False), pytest.param("lark-cython", True, marks=needs_compiled)],
)
def test_a_forced_backend_is_used_from_the_first_parse(backend: str, compiled: bool) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", backend)
        assert (parser._choose_parser() is parser._compiled_parser()) is compiled


def test_both_backends_agree_on_a_stream() -> None:
    texts = [
        f"duration={h}h & cuda(mem={m}G)*{n} | cpu(cores={h % 7 + 1}, mem={m * 100}M)"
        for h, m, n in zip(range(1, 151), range(10, 160), [1, 2, 4] * 50, strict=False)
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", None)
        default = [parser.parse(t) for t in texts]
        patch.setattr(parser, "_backend", "lark")
        assert [parser.parse(t) for t in texts] == default


def test_the_default_is_the_compiled_parser_when_installed() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", None)
        expected = parser._compiled_parser() or parser._parser()
        assert parser._choose_parser() is expected


@needs_compiled
def test_the_compiled_parser_keeps_its_own_cache_file(tmp_path: Path) -> None:
    script = (
        "from reqsolve import parser; parser._backend = 'lark-cython'; "
        "print(parser.parse('cpu(cores=2)'))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):  # builds, then loads
        result = python_process(script, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "cpu(cores=2)"
    [cached] = (tmp_path / "reqsolve").iterdir()
    assert cached.name.endswith("-lark-cython.lark-cache")
