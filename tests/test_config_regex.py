"""features_regex safety: invalid patterns and nested quantifiers refused, with a position."""

from __future__ import annotations

import re

import pytest

from reqsolve.config.regex import MAX_REGEX_LENGTH, InvalidRegex, check_features_regex

SAFE = [
    r"GPU(?P<cuda_count>\d+)",
    r"GPUM(?P<cuda_memory>\d+G)",
    r"(?P<cuda_model>A100|V100|RTX\d{4})",
    r"(ab)+",
    r"(a|b)*c",
    r"x(?:y?)+",  # the inner part repeats at most once
    r"(?=\w+)GPU",
]
NESTED = [
    r"(a+)+",
    r"(\w*x)*",
    r"GPUM(?P<cuda_memory>(\d+)+G)",
    r"((ab)*c)+",
    r"(?:a|b+)*",
    r"(a{2,})*",
]


@pytest.mark.parametrize("pattern", SAFE)
def test_safe_patterns_compile(pattern: str) -> None:
    assert check_features_regex(pattern) == re.compile(pattern)


@pytest.mark.parametrize("pattern", NESTED)
def test_nested_quantifiers_refused(pattern: str) -> None:
    with pytest.raises(InvalidRegex, match="catastrophic backtracking"):
        check_features_regex(pattern)


def test_invalid_pattern_has_its_offset() -> None:
    with pytest.raises(InvalidRegex) as caught:
        check_features_regex("GPU(?P<cuda_count>\\d+")
    assert caught.value.offset == 3
    assert "missing )" in caught.value.message


def test_too_long() -> None:
    with pytest.raises(InvalidRegex, match="characters long"):
        check_features_regex("a" * (MAX_REGEX_LENGTH + 1))
