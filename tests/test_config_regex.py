"""features_regex safety: invalid patterns and nested quantifiers refused, with a position."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from reqsolve.config.regex import (
    MAX_FEATURE_LENGTH,
    MAX_REGEX_LENGTH,
    InvalidRegex,
    check_features_regex,
    match_feature,
)

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


# issue 24 item 6: these passed the nested-quantifier guard; (\d|\d\d)+ on a 44-digit feature
# hung validate and find for minutes
REPEATED_ALTERNATION = [
    r"GPU(?P<cuda_count>(\d|\d\d)+)x",
    r"(a|a)+",
    r"(?:ab|a)*b",
    r"(GPU|GP)+x",
    r"(x|\d\d){2,}",
    r"((?:a|ab)c?)+",
]
TOO_MANY_REPEATS = [r"\d*\d*\d*\d*\d*x", r"a?b?c?d?e?f", r"(?P<cuda_count>\d+)\d+\d+\d+\d+y",
                    r"(?=\d*)\d*\d*\d*\d*x"]
# the slowest shapes the rules accept: up to 4 variable quantifiers over overlapping text
WORST_ACCEPTED = [r"\d*\d*\d*\d*x", r"\w*\d*\w*\d*x", r".*?.*?.*?.*?x", r".*.*.*.*x",
                  r"(?P<cuda_count>\d+)\d+\d+\d+y", r"(?:GPU|GP)\d*\d*\d*\d*x",
                  r"(?P<cuda_model>[a-z0-9]+)[a-z0-9]*[a-z0-9]*[a-z0-9]*!"]
SUBJECTS = ["1" * 64, "a" * 64, "GPU" + "1" * 61, "a1" * 32]


@pytest.mark.parametrize("pattern", REPEATED_ALTERNATION)
def test_repeated_alternations_refused(pattern: str) -> None:
    with pytest.raises(InvalidRegex, match="repeats an alternation"):
        check_features_regex(pattern)


@pytest.mark.parametrize("pattern", TOO_MANY_REPEATS)
def test_more_than_four_variable_quantifiers_refused(pattern: str) -> None:
    with pytest.raises(InvalidRegex, match="at most 4"):
        check_features_regex(pattern)


@pytest.mark.parametrize("pattern", WORST_ACCEPTED)
def test_the_worst_accepted_pattern_is_fast_at_the_feature_bound(pattern: str) -> None:
    compiled = check_features_regex(pattern)
    for subject in SUBJECTS:
        started = time.perf_counter()
        assert match_feature(compiled, subject) is None  # each fails after trying everything
        assert time.perf_counter() - started < 0.05, (pattern, subject)
    started = time.perf_counter()
    assert match_feature(compiled, "1" * (MAX_FEATURE_LENGTH + 1) + "x") is None  # not read
    assert time.perf_counter() - started < 0.001


def test_features_up_to_the_bound_are_matched() -> None:
    compiled = check_features_regex(r"GPU(?P<cuda_count>\d+)")
    at_bound = "GPU" + "1" * (MAX_FEATURE_LENGTH - 3)
    match = match_feature(compiled, at_bound)
    assert match is not None and match["cuda_count"] == at_bound[3:]
    assert match_feature(compiled, at_bound + "1") is None


HOSTILE_FILE = """\
slurm:
- id: s
  connector: local
  features_regex: ['{pattern}']
  partitions:
    p:
      nodes:
      - hosts: [n1]
        features: [GPU{digits}y]
        configuration: {{cpu: {{cores: 4, memory: 8G}}}}
"""


@pytest.mark.parametrize(
    ("pattern", "code"),
    [(r"GPU(?P<cuda_count>(\d|\d\d)+)x", 1), (r"GPU(?P<cuda_count>\d+)\d*\d*\d*x", 0)],
    ids=["refused", "accepted-worst"],
)
def test_validate_and_find_stay_fast_on_a_long_digit_feature(
    tmp_path: Path, pattern: str, code: int
) -> None:
    from tests.cli_run import cli

    path = tmp_path / "launchers.yaml"
    path.write_text(HOSTILE_FILE.format(pattern=pattern, digits="1" * 44), encoding="utf-8")
    started = time.perf_counter()
    validated, _, err = cli("validate", str(path))
    assert validated == code, err
    found, _, err = cli("find", "--config", str(path), "--offline", "cpu()")
    assert found == (2 if code else 0), err
    assert time.perf_counter() - started < 5
