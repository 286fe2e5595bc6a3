"""features_regex: compiled once, and refused when matching could take exponential time.

A launcher file may come from anyone with write access to a shared configuration directory;
Python's backtracking engine can spend years on ``(\\w+)+$`` against a feature name, and has no
time limit. So matching is bounded however the pattern is written, by three rules at load time
and one at match time:

- a repeated part that itself repeats (nested quantifiers: ``(\\d+)+``) is refused;
- a repeated alternation (``(\\d|\\d\\d)+``, ``(a|a)*``) is refused: its branches can share
  the same text, and a failed match tries every way of cutting it;
- at most :data:`MAX_VARIABLE_REPEATS` quantifiers of variable count (``*``, ``+``, ``?``,
  ``{m,n}``), and at most :data:`MAX_REGEX_LENGTH` characters;
- only features of at most :data:`MAX_FEATURE_LENGTH` characters are matched
  (:func:`match_feature`; Slurm features are short words such as ``GPUM80G``).

Within these, a failed match does at most about C(65 + 4, 4) ≈ 860,000 steps: the worst patterns
found (``\\w*\\d*\\w*\\d*x``, ``.*?.*?.*?.*?x``) take under 10 ms on a 64-character feature,
and each (pattern, feature) pair is matched once per process (tests/test_config_regex.py).
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

from reqsolve.errors import InvalidValue

MAX_REGEX_LENGTH = 500
MAX_FEATURE_LENGTH = 64
MAX_VARIABLE_REPEATS = 4
DECODED_GROUPS = ("cuda_count", "cuda_memory", "cuda_model")
# ``cuda_memory_<unit>``: the captured number is in that unit (``MEM(?P<cuda_memory_G>\d+)``
# reads the feature MEM16 as 16G) — a Slurm feature cannot be renamed to carry its unit
MEMORY_GROUP_PREFIX = "cuda_memory_"
MEMORY_GROUP_UNITS = (
    "K", "M", "G", "T", "P", "KB", "MB", "GB", "TB", "PB", "Ki", "Mi", "Gi", "Ti", "Pi",
    "KiB", "MiB", "GiB", "TiB", "PiB",
)


def memory_group_unit(name: str) -> str | None:
    """The unit of a ``cuda_memory_<unit>`` group (None for any other group name)."""
    if not name.startswith(MEMORY_GROUP_PREFIX):
        return None
    unit = name[len(MEMORY_GROUP_PREFIX) :]
    return unit if unit in MEMORY_GROUP_UNITS else None

_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


class InvalidRegex(InvalidValue):
    """A features regex that does not compile or is unsafe; ``offset`` is 0-based in the text."""

    def __init__(self, message: str, hint: str | None = None, offset: int | None = None) -> None:
        super().__init__(message, hint)
        self.offset = offset


def _sre_parser() -> Any:
    # The standard parser behind ``re`` (``sre_parse`` before 3.11); private, so tolerate absence.
    try:
        return importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - older or future Pythons
        return None


def _children(name: str, av: Any) -> list[Any]:
    """The sub-patterns directly inside one parsed item (other than a repeat's body)."""
    if name == "SUBPATTERN":
        return [av[3]]
    if name == "BRANCH":
        return list(av[1])
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if name == "ATOMIC_GROUP":
        return [av]
    if name == "GROUPREF_EXISTS":
        return [branch for branch in av[1:] if branch is not None]
    return []


def _repeats_inside(items: Any) -> bool:
    """Whether a parsed sub-pattern holds a quantifier that can repeat more than once."""
    for op, av in items:
        name = str(op)
        if name in _REPEATS:
            if av[1] > 1 or _repeats_inside(av[2]):
                return True
        elif any(_repeats_inside(child) for child in _children(name, av)):
            return True
    return False


def _nested_quantifier(items: Any) -> bool:
    """Whether a repeated part of the pattern itself holds a repeat (``(a+)+``, ``(\\w*x)*``)."""
    for op, av in items:
        name = str(op)
        if name in _REPEATS:
            if (av[1] > 1 and _repeats_inside(av[2])) or _nested_quantifier(av[2]):
                return True
        elif any(_nested_quantifier(child) for child in _children(name, av)):
            return True
    return False


def _repeated_alternation(items: Any, repeated: bool = False) -> bool:
    """Whether an alternation sits inside a part that repeats (``(\\d|\\d\\d)+``)."""
    for op, av in items:
        name = str(op)
        if name in _REPEATS:
            if _repeated_alternation(av[2], repeated or av[1] > 1):
                return True
        elif (name == "BRANCH" and repeated) or any(
            _repeated_alternation(child, repeated) for child in _children(name, av)
        ):
            return True
    return False


def _variable_repeats(items: Any) -> int:
    """How many quantifiers of the pattern match a variable number of times."""
    count = 0
    for op, av in items:
        name = str(op)
        if name in _REPEATS:
            count += (av[0] != av[1]) + _variable_repeats(av[2])
        else:
            count += sum(_variable_repeats(child) for child in _children(name, av))
    return count


def match_feature(pattern: re.Pattern[str], feature: str) -> re.Match[str] | None:
    """``pattern.match(feature)``, for features of at most :data:`MAX_FEATURE_LENGTH`
    characters (a longer one is not decoded: see the module for why this bounds the time)."""
    if len(feature) > MAX_FEATURE_LENGTH:
        return None
    return pattern.match(feature)


@cache
def check_features_regex(text: str) -> re.Pattern[str]:
    """The compiled pattern, or :class:`InvalidRegex` saying what is wrong and where."""
    if len(text) > MAX_REGEX_LENGTH:
        raise InvalidRegex(
            f"features regex is {len(text)} characters long (at most {MAX_REGEX_LENGTH})",
            "a feature pattern such as GPU(?P<cuda_count>\\d+) is enough",
        )
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise InvalidRegex(
            f"invalid regular expression: {exc.msg} (at character {(exc.pos or 0) + 1})",
            "features_regex uses Python's re syntax, e.g. GPUM(?P<cuda_memory>\\d+G)",
            exc.pos,
        ) from None
    parser = _sre_parser()
    if parser is None:  # pragma: no cover - older or future Pythons
        return pattern
    parsed = parser.parse(text)
    if _nested_quantifier(parsed):
        raise InvalidRegex(
            "features regex has a repeated group that itself repeats (catastrophic backtracking)",
            "remove the outer quantifier, e.g. (\\d+)+ -> (\\d+)",
        )
    if _repeated_alternation(parsed):
        raise InvalidRegex(
            "features regex repeats an alternation (catastrophic backtracking: its branches"
            " can match the same text)",
            "repeat one character class instead, e.g. (\\d|\\d\\d)+ -> \\d+, (a|b)+ -> [ab]+",
        )
    repeats = _variable_repeats(parsed)
    if repeats > MAX_VARIABLE_REPEATS:
        raise InvalidRegex(
            f"features regex has {repeats} quantifiers of variable count (*, +, ?, {{m,n}}),"
            f" at most {MAX_VARIABLE_REPEATS}: each one multiplies the work of a failed match",
            "a feature pattern such as GPU(?P<cuda_count>\\d+) needs one",
        )
    return pattern
