"""The lark-free fast path of the parser gives lark's answer, or steps aside.

``parse`` reads valid expressions with a small recursive descent (no lark import on a cold
``reqsolve find``) and hands everything else to lark. These tests hold the fast path to that:
on any text it returns exactly lark's value or ``None``, and it does handle the valid ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.errors import InvalidExpression
from reqsolve.parser import _fast_parse, _lark_parse
from reqsolve.requirement import Requirement
from tests.test_parser_properties import printable, requirements, token_soup

VALID = [
    "duration=4 days & cuda(mem=20G)*2 & cpu(mem=400M, cores=4)",
    "duration=4 days & cuda(mem=24G)*2 & cpu(mem=400M, cores=4) | duration=2h & cpu(cores=8)",
    "cpu()",
    "cpu(cores=1)",
    '  gpu ( mem = 1.5 GB , model = "NVIDIA GeForce RTX 3090" ) * 3  ',
    "cuda(model=a100-sxm4-80gb, mem=80GiB)",
    "(duration=1d12h | duration=2h 30m) & (cpu(cores=2) | cuda(mem=4G))",
    "duration=1-12:00:00 & cpu(mem=8116mib)",
    "duration=12:30:00",
    "((((cpu(cores=3)))))",
    "cuda(model='rtx 3090')*+2",
    "duration=.5h",
]
REFUSED = [
    "duration=12:30",  # ambiguous clock
    "cpu(cores=0)",
    "cpu(mem=4)",  # no unit
    "cpu(cores=2, cores=3)",
    "cuda(mem=4G)*0",
    "cuda(mem=4G)*2.5",
    "duration=4",
    "duration=4 days cpu(cores=2)",
    "cpu(cores=2,)",
    "cpux(cores=2)",
    "cpu(cores=2) &",
    "(cpu(cores=2)",
    "cpu(cores=2))",
    "durations=4h",
    "cuda(memory=4G)",
]


def _lark_or_error(text: str) -> Requirement | str:
    try:
        return _lark_parse(text)
    except InvalidExpression as error:
        return f"error: {error}"


@pytest.mark.parametrize("text", VALID)
def test_valid_text_takes_the_fast_path_with_larks_value(text: str) -> None:
    assert _fast_parse(text) == _lark_parse(text)


@pytest.mark.parametrize("text", REFUSED)
def test_a_mistake_is_left_to_lark(text: str) -> None:
    assert _fast_parse(text) is None
    assert str(_lark_or_error(text)).startswith("error: ")


def _conformance_texts() -> list[str]:
    folder = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance" / "requirements"
    if not folder.is_dir():
        return []
    texts: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.is_file():
            texts.extend(line for line in path.read_text().splitlines() if line.strip())
    return texts


def test_every_conformance_line_agrees() -> None:
    texts = _conformance_texts()
    if not texts:
        pytest.skip("../shared/conformance/requirements is absent")
    for text in texts:
        fast = _fast_parse(text)
        assert fast is None or fast == _lark_or_error(text), text


@given(requirements)
@settings(max_examples=150, deadline=None)
def test_canonical_text_takes_the_fast_path(requirement: Requirement) -> None:
    text = str(requirement)
    assert _fast_parse(text) == requirement == _lark_parse(text)


@given(st.one_of(token_soup, printable, st.text(max_size=40)))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_fast_path_is_larks_value_or_none(text: str) -> None:
    fast = _fast_parse(text)
    if fast is not None:
        assert fast == _lark_or_error(text)


@given(requirements, st.integers(min_value=0, max_value=400), st.text(max_size=3))
@settings(max_examples=300, deadline=None)
def test_damaged_text_fast_path_is_larks_value_or_none(
    requirement: Requirement, position: int, piece: str
) -> None:
    text = str(requirement)
    for damaged in (
        text[:position] + piece + text[position:],
        text[:position] + text[position + 1 :],
    ):
        fast = _fast_parse(damaged)
        if fast is not None:
            assert fast == _lark_or_error(damaged)
