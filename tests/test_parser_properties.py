"""Invariants of the parser over generated values and generated text (hypothesis)."""

from __future__ import annotations

import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.errors import InvalidExpression
from reqsolve.parser import parse
from reqsolve.requirement import MAX_CORES, Requirement
from reqsolve.units import MAX_BYTES, MAX_SECONDS
from tests import strategies

pytestmark = pytest.mark.usefixtures("parser_backend")

_NICE_SIZES = st.sampled_from([0, 1, 10**6, 4 * 10**9, 2**30, 24 * 2**30, 80 * 10**9, MAX_BYTES])
sizes = st.one_of(_NICE_SIZES, st.integers(min_value=0, max_value=MAX_BYTES))
durations = st.one_of(
    st.sampled_from([0, 1, 60, 3600, 86400, 90 * 60, MAX_SECONDS]),
    st.integers(min_value=0, max_value=MAX_SECONDS),
)
models = st.one_of(
    st.sampled_from(
        ["A100", "a100", "V100-32GB", "RTX 3090", "NVIDIA GeForce RTX 4090", "h100_sxm"]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12
    ).filter(lambda m: bool(m.strip()) and not ("'" in m and '"' in m)),
)
requirements = strategies.requirements(
    strategies.alternatives(
        durations=durations,
        cpu=strategies.cpus(cores=st.integers(min_value=1, max_value=MAX_CORES), memory=sizes),
        gpus=strategies.accelerators(memory=sizes, models=st.one_of(st.none(), models)),
        max_gpus=3,
        repeats=4,
    ),
    max_size=4,
)


@given(requirements)
@settings(max_examples=100, deadline=None)
def test_canonical_text_reparses_to_an_equal_value(requirement: Requirement) -> None:
    text = str(requirement)
    parsed = parse(text)
    assert parsed == requirement
    assert hash(parsed) == hash(requirement)
    assert str(parsed) == text


@given(requirements, requirements)
@settings(max_examples=50, deadline=None)
def test_and_of_texts_is_and_of_values(left: Requirement, right: Requirement) -> None:
    combined = f"({left}) & ({right})"
    if len(left.alternatives) * len(right.alternatives) and all(
        len(a.gpus) + len(b.gpus) <= 1024 for a in left.alternatives for b in right.alternatives
    ):
        assert parse(combined) == left & right


@given(requirements, requirements)
@settings(max_examples=50, deadline=None)
def test_or_of_texts_keeps_the_order(left: Requirement, right: Requirement) -> None:
    parsed = parse(f"{left} | {right}")
    assert parsed.alternatives == left.alternatives + right.alternatives


# Text built from the language's own pieces reaches deep into the grammar; plain random text
# exercises the lexer's refusals. Either way only InvalidExpression may come out.
_PIECES = [
    "duration",
    "cpu",
    "cuda",
    "gpu",
    "mem",
    "cores",
    "model",
    "=",
    "(",
    ")",
    ",",
    "&",
    "|",
    "*",
    " ",
    "4",
    "0",
    "-1",
    "1.5",
    "G",
    "GiB",
    "M",
    "h",
    "days",
    "d",
    ":",
    "-",
    "12:30:00",
    "1-12",
    "4G",
    "400M",
    "2",
    "1024",
    "1025",
    "A100",
    '"',
    "'",
    "x",
    "\n",
    "99999999999999999999",
]
token_soup = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)
printable = st.text(alphabet=string.printable, max_size=60)


def _parse_or_refuse(text: str) -> None:
    try:
        result = parse(text)
    except InvalidExpression as error:
        assert error.message
        assert error.hint
        assert 0 <= error.span.start <= error.span.end <= len(error.text)
        str(error)  # renders
    else:
        assert isinstance(result, Requirement)
        assert parse(str(result)) == result


@given(st.one_of(token_soup, printable, st.text(max_size=40)))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_parses_or_raises_invalid_expression(text: str) -> None:
    _parse_or_refuse(text)


@given(requirements, st.integers(min_value=0, max_value=400), st.sampled_from(_PIECES))
@settings(max_examples=100, deadline=None)
def test_damaged_canonical_text_is_refused_cleanly(
    requirement: Requirement, position: int, piece: str
) -> None:
    text = str(requirement)
    position = min(position, len(text))
    _parse_or_refuse(text[:position] + piece + text[position:])
    _parse_or_refuse(text[:position] + text[position + 1 :])


# Long runs, as tests/test_fuzz.py:
#   REQSOLVE_SLOW=1 python3 -m pytest -m slow tests/test_parser_properties.py
SLOW = os.environ.get("REQSOLVE_SLOW") == "1"
slow_only = pytest.mark.skipif(not SLOW, reason="set REQSOLVE_SLOW=1 to run the long fuzzing")


@pytest.mark.slow
@slow_only
@given(st.one_of(token_soup, printable, st.text(max_size=80)))
@settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_parses_or_raises_invalid_expression_long_run(text: str) -> None:
    _parse_or_refuse(text)


@pytest.mark.slow
@slow_only
@given(requirements)
@settings(max_examples=3_000, deadline=None)
def test_canonical_text_reparses_long_run(requirement: Requirement) -> None:
    assert parse(str(requirement)) == requirement
