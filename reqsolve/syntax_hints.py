"""Hints for syntax errors that read the text before the mistake (docs/expressions.md).

The parser knows which tokens it expected; some mistakes are only clear from what came before:
``model=NVIDIA A100`` (a name with a space, unquoted) and ``duration=1h30`` (a number without its
unit after a duration). :func:`context_hint` recognises them and says what to write instead.
"""

from __future__ import annotations

import re

from reqsolve.errors import InvalidValue
from reqsolve.units import duration_factor

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_MODEL_BEFORE_RE = re.compile(r"\bmodel\s*=\s*([A-Za-z0-9_][A-Za-z0-9_.+\-]*)(\s+)$")
_DURATION_BEFORE_RE = re.compile(
    rf"\bduration\s*=\s*(\+?(?:{_NUMBER}\s*[A-Za-z]+\s*)*{_NUMBER}\s*([A-Za-z]+))(\s*)$"
)
_BARE_NUMBER_RE = re.compile(rf"({_NUMBER})(?![A-Za-z0-9.])")
_NEXT_UNIT = {604800: "d", 86400: "h", 3600: "m", 60: "s"}


def context_hint(text: str, position: int) -> str | None:
    """What to write instead, when the mistake at ``position`` is one whose cause is before it;
    None when it is not."""
    before = text[:position]
    model = _MODEL_BEFORE_RE.search(before)
    if model is not None:
        rest = re.match(r"[^,)&|]*", text[position:])
        name = f"{model[1]}{model[2]}{rest[0] if rest else ''}".rstrip()
        quote = '"' if '"' not in name else "'"
        if quote in name or not name.isprintable():
            return None
        return f"a model name with spaces is quoted: model={quote}{name}{quote}"
    duration = _DURATION_BEFORE_RE.search(before)
    number = _BARE_NUMBER_RE.match(text, position)
    if duration is not None and number is not None:
        try:
            unit = _NEXT_UNIT.get(duration_factor(duration[2]))
        except InvalidValue:
            return None
        if unit is None:
            return "each number of a duration has its unit, e.g. duration=1h30m"
        written = f"{duration[1]}{duration[3] and ' '}{number[1]}{unit}"
        return f"each number of a duration has its unit: write duration={written}"
    return None
