"""Which back-end parses: plain lark while a process is young, lark-cython once it is warm.

The values and errors of both are compared by running tests/test_parser*.py once per back-end
(the ``parser_backend`` fixture); here only the switch itself is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqsolve import parser

ROOT = Path(__file__).resolve().parents[1]
needs_compiled = pytest.mark.skipif(
    not parser.compiled_backend_available(), reason="lark-cython has no wheel for this platform"
)


@pytest.fixture
def young_process() -> Iterator[None]:
    """As if this process had not parsed anything yet, whatever the tests before did."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", None)
        patch.setattr(parser, "_parses", 0)
        yield


@needs_compiled
@pytest.mark.usefixtures("young_process")
def test_a_process_switches_to_the_compiled_parser_after_warm_after_parses() -> None:
    chosen = [parser._choose_parser() for _ in range(parser.WARM_AFTER + 2)]
    assert all(p is parser._parser() for p in chosen[: parser.WARM_AFTER])
    assert chosen[parser.WARM_AFTER] is parser._compiled_parser()
    assert chosen[-1] is parser._compiled_parser()
    assert parser._parser() is not parser._compiled_parser()


@pytest.mark.parametrize(
    ("backend", "compiled"),
    [("lark", False), pytest.param("lark-cython", True, marks=needs_compiled)],
)
def test_a_forced_backend_is_used_from_the_first_parse(backend: str, compiled: bool) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", backend)
        patch.setattr(parser, "_parses", 0)
        assert (parser._choose_parser() is parser._compiled_parser()) is compiled


@needs_compiled
@pytest.mark.usefixtures("young_process")
def test_both_backends_agree_on_a_stream_across_the_switch() -> None:
    texts = [
        f"duration={h}h & cuda(mem={m}G)*{n} | cpu(cores={h % 7 + 1}, mem={m * 100}M)"
        for h, m, n in zip(range(1, 151), range(10, 160), [1, 2, 4] * 50, strict=False)
    ]
    young = [parser.parse(t) for t in texts]  # crosses WARM_AFTER
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", "lark")
        assert [parser.parse(t) for t in texts] == young


def test_a_one_shot_process_never_imports_the_compiled_plugin(tmp_path: Path) -> None:
    """A cold `reqsolve parse` pays neither lark-cython's import nor its table load."""
    script = (
        "import sys; from reqsolve.cli import run; "
        "code = run(['parse', 'cuda(mem=4G)*2 & duration=2h'], sys.stdout, sys.stderr); "
        "print('lark_cython' in sys.modules, code)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False 0"


@needs_compiled
def test_the_compiled_parser_keeps_its_own_cache_file(tmp_path: Path) -> None:
    script = (
        "from reqsolve import parser; parser._backend = 'lark-cython'; "
        "print(parser.parse('cpu(cores=2)'))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # builds, then loads
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "cpu(cores=2)"
    [cached] = (tmp_path / "reqsolve").iterdir()
    assert cached.name.endswith("-lark-cython.lark-cache")
