"""Syntax errors in words: lark's ``UnexpectedInput`` -> an :class:`InvalidExpression` saying
what was expected, got and meant, with its span (docs/expressions.md).

:func:`syntax_error` is the catalogue: what each terminal of ``grammars/requirement.lark`` is
called in a message, unknown terms and arguments with a close spelling suggested, unclosed and
unmatched parentheses, and a hint for each kind of value expected. Some mistakes are only clear
from what came before: ``model=NVIDIA A100`` (a name with a space, unquoted) and
``duration=1h30`` (a number without its unit after a duration); :func:`context_hint`
recognises them and says what to write instead.
"""

from __future__ import annotations

import re

from reqsolve.errors import InvalidExpression, InvalidValue, Span
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


TERMS = ("duration", "nodes", "tasks", "cpu", "cuda", "gpu")
ARGUMENTS = {"cpu": ("mem", "cores"), "cuda": ("mem", "model"), "gpu": ("mem", "model")}
TERM_HINT = "a term is duration=..., cpu(...), cuda(...) or gpu(...)"

# What each terminal of the grammar is called in a message, in the order messages list them.
_DESCRIPTIONS: dict[str, str] = {
    "DURATION_KW": "'duration='",
    "NODES_KW": "'nodes='",
    "TASKS_KW": "'tasks='",
    "CPU_KW": "'cpu('",
    "GPU_KW": "'cuda(' or 'gpu('",
    "LPAR": "'('",
    "MEM_KW": "'mem='",
    "CORES_KW": "'cores='",
    "MODEL_KW": "'model='",
    "DURATION": "a duration such as 4h",
    "SIZE": "a memory size such as 4G",
    "NUMBER": "a whole number",
    "COUNT": "a GPU count",
    "MODEL": "a GPU model name",
    "_EQ": "'='",
    "_COMMA": "','",
    "_STAR": "'*'",
    "_AND": "'&'",
    "_OR": "'|'",
    "RPAR": "')'",
    "$END": "the end of the expression",
}
_TERM_STARTS = frozenset({"DURATION_KW", "NODES_KW", "TASKS_KW", "CPU_KW", "GPU_KW", "LPAR"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOCK_MM_SS = re.compile(r"\d+:\d+")


def _describe(expected: set[str]) -> str:
    names = set(expected)
    parts: list[str] = []
    if names & {"DURATION_KW", "CPU_KW", "GPU_KW"}:
        parts.append("a term (duration=..., cpu(...), cuda(...), gpu(...) or '(')")
        names -= _TERM_STARTS
    parts.extend(_DESCRIPTIONS[n] for n in _DESCRIPTIONS if n in names)
    parts.extend(sorted(n for n in names if n not in _DESCRIPTIONS))
    if not parts:
        return "nothing more"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _open_paren(text: str, position: int) -> int | None:
    """Index of the innermost '(' still open at ``position`` (quotes of model names skipped)."""
    stack: list[int] = []
    quote = ""
    for index, char in enumerate(text[:position]):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            stack.append(index)
        elif char == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _unclosed(text: str, paren: int, end_of_text: int) -> InvalidExpression:
    """The '(' at ``paren`` is never closed: underline from it to the end of the text."""
    return InvalidExpression(
        f"expected ')' to close '{_opener(text, paren)}'",
        text,
        Span(paren, end_of_text),
        "add the missing ')'",
    )


def _opener(text: str, paren: int) -> str:
    """How the open parenthesis is written: ``'cuda('`` or ``'('``."""
    before = text[:paren].rstrip()
    match = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", before)
    return f"{match.group(0)}(" if match else "("


def _word_at(text: str, position: int) -> tuple[int, int] | None:
    """The identifier that ``position`` falls in, or starts, as a span."""
    start = position
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    match = _WORD.match(text, start)
    if match is None or match.end() <= position:
        return None
    return match.start(), match.end()


def _suggestion(word: str, choices: tuple[str, ...]) -> str | None:
    import difflib  # only on the error path

    lowered = word.lower()
    if lowered in choices:
        return lowered
    close = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _word_error(text: str, start: int, end: int, expected: set[str]) -> InvalidExpression:
    word = text[start:end]
    before = text[:start].rstrip()
    previous = before[-1:] if before else ""
    paren = _open_paren(text, start)
    function = _opener(text, paren)[:-1] if paren is not None else ""
    span = Span(start, end)
    if previous in ("", "&", "|") or (previous == "(" and function == ""):
        guess = _suggestion(word, TERMS)
        hint = f"did you mean `{guess}`?" if guess else TERM_HINT
        return InvalidExpression(f"unknown term '{word}'", text, span, hint)
    if previous in ("(", ",") and function in ARGUMENTS:
        choices = ARGUMENTS[function]
        guess = _suggestion(word, choices)
        if guess is not None and guess != word:
            hint = f"did you mean `{guess}`?"
        elif word == "cores":
            hint = f"{function}() takes {' and '.join(c + '=' for c in choices)}; "
            hint += "cores go in cpu(cores=N)"
        elif word == "model" or word == "count":
            hint = f"{function}() takes {' and '.join(c + '=' for c in choices)}"
            hint += "; a GPU count is written cuda(...)*N" if word == "count" else ""
        else:
            hint = f"{function}() takes {' and '.join(c + '=' for c in choices)}"
        message = f"unknown argument '{word}' in {function}(...)"
        if guess == word:  # a known argument in the wrong place, e.g. `mem mem=`
            message = f"expected {_describe(expected)}, got '{word}'"
        return InvalidExpression(message, text, span, hint)
    if function in ARGUMENTS and "_COMMA" in expected:
        hint = f"separate the arguments of {function}() with ','"
    else:
        hint = _value_hint(expected)
    return InvalidExpression(f"expected {_describe(expected)}, got '{word}'", text, span, hint)


def syntax_error(text: str, position: int, expected: set[str]) -> InvalidExpression:
    """A syntax error a person can act on, from where the parser stopped in ``text`` and the
    terminals it ``expected`` there (:mod:`reqsolve.parser` reads both from lark's error)."""
    found = _syntax_error(text, position, expected)
    hint = context_hint(text, found.span.start)  # what came before explains the mistake
    if hint is None:
        return found
    return InvalidExpression(found.message, text, found.span, hint)


def _syntax_error(text: str, position: int, expected: set[str]) -> InvalidExpression:
    """The error as the parser's state tells it (what was expected, what came)."""
    end_of_text = len(text.rstrip())
    position = min(max(position, 0), len(text))
    if _open_paren(text, position) is None:
        expected.discard("RPAR")

    if position >= end_of_text:
        paren = _open_paren(text, end_of_text)
        if paren is not None and "RPAR" in expected:
            return _unclosed(text, paren, end_of_text)
        last = max(end_of_text - 1, 0)
        return InvalidExpression(
            f"expression ends too early: expected {_describe(expected)}",
            text,
            Span(last, end_of_text),
            _end_hint(expected),
        )

    word = _word_at(text, position)
    if word is not None:
        return _word_error(text, word[0], word[1], expected)

    char = text[position]
    if char == ")" and _open_paren(text, position) is None:
        return InvalidExpression(
            "unmatched ')'", text, Span(position, position + 1), "remove it or add its '('"
        )
    paren = _open_paren(text, position)
    if (
        paren is not None
        and "RPAR" in expected
        and ")" not in text[position:]
        and not expected & {"_EQ", "SIZE", "NUMBER", "COUNT", "MODEL", "DURATION"}
    ):
        return _unclosed(text, paren, end_of_text)
    token_end = position + 1
    while token_end < len(text) and not text[token_end].isspace() and token_end - position < 20:
        if text[token_end] in "()&|,=*":
            break
        token_end += 1
    got = text[position:token_end]
    hint = _value_hint(expected)
    if got.startswith("*"):
        hint = "*N repeats a cuda(...) or gpu(...) term only; for more cores write cpu(cores=8)"
    elif got[:1] == "." or (got[:1].isdigit() and text[position - 1 : position].isdigit()):
        hint = "a number has at most one decimal point, e.g. mem=1.5G or duration=1.5h"
    return InvalidExpression(
        f"expected {_describe(expected)}, got '{got}'",
        text,
        Span(position, token_end),
        hint,
    )


def _end_hint(expected: set[str]) -> str:
    if expected & _TERM_STARTS:
        return "finish with a term, e.g. cpu(cores=4), or remove the trailing operator"
    return _value_hint(expected)


def _value_hint(expected: set[str]) -> str:
    if "DURATION" in expected:
        return "write e.g. duration=4h, 90m, 1d12h or 2-00:00:00"
    if "SIZE" in expected:
        return "write e.g. mem=4G (decimal) or mem=4GiB (binary)"
    if "NUMBER" in expected:
        return "write e.g. cores=4"
    if "COUNT" in expected:
        return "write e.g. cuda(mem=4G)*2"
    if "MODEL" in expected:
        return 'write e.g. model=A100, or quote a name with spaces: model="RTX 3090"'
    if "_EQ" in expected:
        return "write the value after '=', e.g. duration=4h, mem=4G, cores=4"
    if expected == {"LPAR"}:
        return "cpu, cuda and gpu take parentheses, e.g. cpu(cores=4) or cuda(mem=4G)*2"
    if expected & _TERM_STARTS:
        return TERM_HINT
    if "MEM_KW" in expected:
        return "arguments are mem= and cores= for cpu(), mem= and model= for cuda()/gpu()"
    return "join terms with '&' and alternatives with '|'"
