"""Requirement expressions as text -> :class:`~reqsolve.requirement.Requirement` values.

The grammar is ``grammars/requirement.lark``; this is the only module that imports lark, so its
exceptions and quirks stop here: every mistake leaves as an :class:`InvalidExpression` that
points at the text, whatever the input.

The parser is LALR with the values built *during* the parse (lark's embedded transformer): no
tree is built, which is faster and cannot overflow the stack on deeply nested parentheses. Spans
come from the tokens' own positions. The compiled parser is cached in the user's cache directory
so that a cold ``reqsolve`` does not spend ~17 ms rebuilding the LALR tables (about 12 % of a
cold ``find``), and only when no other user could have written it (it is a pickle).

Two back-ends run the same grammar and the same builder: lark with the ``lark_cython`` plugin
(lark's own Cython lexer and LALR loop), used whenever it is installed, and plain lark where the
plugin has no wheel. The plugin earns its keep: a warm find over distinct requirements takes
~145 µs with it and ~187 µs without (docs/performance.md); its import costs a cold process nothing
measurable (it is mostly lark's own). Both back-ends are tested against the same tables.

Length (~700 lines): the builder (one method per grammar rule) and the error catalogue that
turns each parser state into a message with its span live beside the grammar they follow; split,
each half would be read only with the other open.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reqsolve.errors import InvalidExpression, InvalidValue, ReqsolveError, Span
from reqsolve.lazy import once
from reqsolve.requirement import (
    MAX_CORES,
    MAX_GPUS,
    Accelerator,
    Alternative,
    Cpu,
    Requirement,
    check_cores,
    check_gpu_count,
    check_model,
    merge,
)
from reqsolve.resources import resource_path, user_cache_directory
from reqsolve.syntax_hints import context_hint
from reqsolve.units import parse_duration, parse_memory

if TYPE_CHECKING:  # pragma: no cover
    import lark

__all__ = ["MAX_ALTERNATIVES", "parse"]

MAX_ALTERNATIVES = 1024
"""``(a|b) & (c|d) & ...`` multiplies alternatives; past this many it is a mistake, not a job."""

MAX_LENGTH = 100_000
MAX_DEPTH = 64
"""Longer text is refused before parsing (a requirement is one line, not a file)."""

TERMS = ("duration", "cpu", "cuda", "gpu")
ARGUMENTS = {"cpu": ("mem", "cores"), "cuda": ("mem", "model"), "gpu": ("mem", "model")}
TERM_HINT = "a term is duration=..., cpu(...), cuda(...) or gpu(...)"

# What each terminal of the grammar is called in a message, in the order messages list them.
_DESCRIPTIONS: dict[str, str] = {
    "DURATION_KW": "'duration='",
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
_TERM_STARTS = frozenset({"DURATION_KW", "CPU_KW", "GPU_KW", "LPAR"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOCK_MM_SS = re.compile(r"\d+:\d+")


class _Piece:
    """A parsed part of the expression and where it is written.

    (A plain class: a dataclass costs ~1 ms to create at every cold start.)"""

    __slots__ = ("end", "start", "value")

    def __init__(self, value: Any, start: int, end: int) -> None:
        self.value = value
        self.start = start
        self.end = end


def parse(text: str) -> Requirement:
    """The requirement written in ``text``; raises :class:`InvalidExpression` on any mistake."""
    if not isinstance(text, str):
        raise InvalidExpression(
            f"expected a requirement expression as text, got {type(text).__name__}",
            "",
            Span(0, 0),
            "write e.g. cpu(cores=4) & duration=2h",
        )
    if not text.strip():
        raise InvalidExpression(
            "empty requirement expression",
            text,
            Span(0, len(text)),
            "write e.g. cpu(cores=4) & duration=2h, or cpu(cores=1) to ask for nothing special",
        )
    if len(text) > MAX_LENGTH:
        raise InvalidExpression(
            f"requirement expression is {len(text)} characters long (at most {MAX_LENGTH})",
            text[:80],
            Span(0, 80),
            "a requirement is one line such as cuda(mem=24G)*2 & duration=2 days",
        )
    _check_invisible(text)
    try:
        return _parse(text)
    except InvalidExpression:
        found = _EXPONENT_RE.search(text)
        if found is None:
            raise
        hint = "write the size or duration with a unit, e.g. mem=1G (10^9 bytes) or mem=954MiB"
        if re.search(r"(?:cores\s*=|\*)\s*$", text[: found.start()]):
            number = re.match(r"[0-9.]+[eE][-+]?[0-9]+", found.group())
            value = float(number.group()) if number else 0.0
            whole = f" {int(value)}" if value.is_integer() and value < 10**7 else ""
            hint = f"write the whole number{whole} in digits"
        raise InvalidExpression(
            f"'{found.group()}' is a number in exponent notation, which is not read (the e"
            " would be taken for a unit)",
            text,
            Span(found.start(), found.end()),
            hint,
        ) from None


# a number written with an exponent (1e9, 2.5E3), not inside a name (H100e5)
_EXPONENT_RE = re.compile(r"(?<![\w.])\d+(?:\.\d*)?[eE][-+]?\d+[A-Za-z]*")
# control characters and invisible format characters (zero-width space, BOM, ...)
_INVISIBLE_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _check_invisible(text: str) -> None:
    """An invisible character is named where it is, not reported as the token after it."""
    found = _INVISIBLE_RE.search(text)
    if found is not None:
        char = found.group()
        raise InvalidExpression(
            f"invisible character U+{ord(char):04X} at column {found.start() + 1}",
            text,
            Span(found.start(), found.end()),
            "remove it (it often comes with a copy-paste) and type the expression again",
        )


def _parse(text: str) -> Requirement:
    _check_nesting(text)
    parser = _choose_parser()
    # lark loads with the first parse (docs/expressions.md): `import reqsolve.parser` stays cheap
    # for processes that never parse
    import lark

    try:
        piece = cast(_Piece, parser.parse(text))  # the builder turns the tree into a _Piece
    except _Located as error:
        raise InvalidExpression(
            error.message, text, Span(error.start, error.end), error.hint
        ) from None
    except InvalidExpression:
        raise
    except ReqsolveError as error:  # pragma: no cover - every value error is located above
        raise InvalidExpression(str(error), text, Span(0, len(text))) from None
    except lark.exceptions.UnexpectedInput as error:
        syntax = _syntax_error(text, error)
        hint = context_hint(text, syntax.span.start)  # what came before explains the mistake
        if hint is not None:
            syntax = InvalidExpression(syntax.message, text, syntax.span, hint)
        raise syntax from None
    except lark.exceptions.LarkError as error:  # pragma: no cover - lark's own failure
        raise InvalidExpression(
            f"cannot parse the expression ({error})", text, Span(0, len(text)), TERM_HINT
        ) from None
    except RecursionError:  # pragma: no cover - the LALR parser does not recurse
        raise InvalidExpression(
            "expression is nested too deeply", text, Span(0, len(text)), "remove parentheses"
        ) from None
    requirement: Requirement = piece.value
    return requirement


def _check_nesting(text: str) -> None:
    """Refuse absurd nesting before the parser sees it: no real requirement needs it, and a
    100,000-deep input would otherwise cost the LALR parser seconds."""
    if text.count("(") <= MAX_DEPTH:  # the usual case, without a Python loop per character
        return
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidExpression(
                    f"expression is nested more than {MAX_DEPTH} parentheses deep",
                    text,
                    Span(index, index + 1),
                    "remove parentheses: (a | b) & c is enough to group",
                )
        elif char == ")":
            depth = max(depth - 1, 0)


# --------------------------------------------------------------------------------------------
# Building the parser


def _cache_file(backend: str, grammar: str) -> Path | None:
    """Where the compiled tables live: ``$XDG_CACHE_HOME/reqsolve`` (None: do not cache)."""
    directory = user_cache_directory()
    if directory is None:
        return None
    # one file per Python and lark version, so that two installations do not keep rebuilding
    # and per grammar: two checkouts (or versions) with different grammars would otherwise
    # keep replacing each other's tables (lark checks the digest inside and rebuilds)
    import hashlib

    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:12]
    version = f"py{sys.version_info[0]}{sys.version_info[1]}-lark{_lark_version()}-{digest}"
    suffix = "" if backend == "lark" else f"-{backend}"
    path = directory / f"requirement-grammar-{version}{suffix}.lark-cache"
    # lark unpickles the file (before checking its digest): one that another user could have
    # written (or replaced, through a directory they can write) is never read, nor written
    # there; the tables are then built in memory (docs/performance.md, "The grammar cache")
    from reqsolve.config.trust import untrusted

    return path if untrusted(path) is None else None


def _lark_version() -> str:
    # lark loads with the first parse (docs/expressions.md): `import reqsolve.parser` stays cheap
    # for processes that never parse
    import lark

    return str(lark.__version__)


def _import_lark() -> None:
    """Import lark without the optional ``regex`` module (20 ms of import, unused here).

    lark uses ``regex`` only for Unicode-category patterns, which this grammar has none of.
    """
    if "lark" in sys.modules or "regex" in sys.modules:
        return
    sys.modules["regex"] = None  # type: ignore[assignment]  # makes `import regex` fail fast
    try:
        import lark  # noqa: F401
    finally:
        del sys.modules["regex"]


BACKENDS = ("lark", "lark-cython")

_backend: str | None = None
"""None: lark-cython when installed, else plain lark; a name of :data:`BACKENDS`: that one
(the tests run the parser's tables once per back-end)."""


def _choose_parser() -> lark.Lark:
    """The compiled back-end when installed (and not overridden), else plain lark."""
    if _backend == "lark":
        return _parser()
    compiled = _compiled_parser()
    return compiled if compiled is not None else _parser()


def compiled_backend_available() -> bool:
    """Whether the lark-cython plugin can be used here (it ships compiled wheels for CPython)."""
    return _compiled_parser() is not None


# built once, under the first-use lock: sixteen threads parsing first in a fresh process would
# otherwise import lark at once and meet its circular imports (issue 24, item 12)
@once
def _parser() -> lark.Lark:
    return _build(plugins=None)


@once
def _compiled_parser() -> lark.Lark | None:
    _import_lark()
    try:
        import lark_cython  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # no wheel for this platform: plain lark serves every parse
        return None
    return _build(plugins=lark_cython.plugins)


def _build(plugins: dict[str, Any] | None) -> lark.Lark:
    _import_lark()
    # lark loads with the first parse (docs/expressions.md): `import reqsolve.parser` stays cheap
    # for processes that never parse
    import lark

    grammar = resource_path("requirement.lark").read_text(encoding="utf-8")
    cache_file = _cache_file("lark-cython" if plugins else "lark", grammar)
    options: dict[str, Any] = {"_plugins": plugins} if plugins else {}
    return lark.Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start="alternatives",
        transformer=_Builder(),
        cache=str(cache_file) if cache_file is not None else False,
        **options,
    )


# --------------------------------------------------------------------------------------------
# Values, built as the parser reduces each rule


def _start(token: lark.Token) -> int:
    return token.start_pos or 0


def _end(token: lark.Token) -> int:
    return token.end_pos if token.end_pos is not None else _start(token)


class _Builder:
    """lark calls the method named after each rule with that rule's children."""

    def alternatives(self, children: list[_Piece]) -> _Piece:
        if len(children) == 1:  # no '|': the conjunction's requirement is the whole one
            return children[0]
        alternatives: list[Alternative] = []
        for child in children:
            alternatives.extend(child.value.alternatives)
        if len(alternatives) > MAX_ALTERNATIVES:
            raise _Located(
                f"expression expands to {len(alternatives)} alternatives "
                f"(at most {MAX_ALTERNATIVES})",
                children[0].start,
                children[-1].end,
                "write fewer alternatives; (a | b) & (c | d) multiplies them",
            )
        return _Piece(Requirement(tuple(alternatives)), children[0].start, children[-1].end)

    def conjunction(self, children: list[_Piece]) -> _Piece:
        start, end = children[0].start, children[-1].end
        combined: tuple[Alternative, ...] = _alternatives_of(children[0].value)
        for child in children[1:]:
            right = _alternatives_of(child.value)
            if len(combined) * len(right) > MAX_ALTERNATIVES:
                raise _Located(
                    f"expression expands to {len(combined) * len(right)} alternatives "
                    f"(at most {MAX_ALTERNATIVES})",
                    start,
                    child.end,
                    "write fewer alternatives; (a | b) & (c | d) multiplies them",
                )
            try:
                combined = tuple(merge(a, b) for a in combined for b in right)
            except InvalidValue as error:
                raise _Located.from_value(
                    error, start, child.end, "a job asks for at most 1024 GPUs on one node"
                ) from None
        return _Piece(Requirement(combined), start, end)

    def group(self, children: list[Any]) -> _Piece:
        lpar, inner, rpar = children
        return _Piece(inner.value, _start(lpar), _end(rpar))

    def duration(self, children: list[lark.Token]) -> _Piece:
        keyword, token = children
        text = token.value
        if _CLOCK_MM_SS.fullmatch(text):
            hours, minutes = text.split(":")
            raise _Located(
                f"duration '{text}' is ambiguous (Slurm reads MM:SS, people mean HH:MM)",
                _start(token),
                _end(token),
                f"write {text}:00 for hours and minutes, or {hours}m{minutes}s",
            )
        try:
            seconds = parse_duration(text)
        except InvalidValue as error:
            raise _Located.from_value(error, _start(token), _end(token)) from None
        return _Piece(Alternative(duration=seconds), _start(keyword), _end(token))

    def mem(self, children: list[lark.Token]) -> _Piece:
        keyword, token = children
        try:
            value = parse_memory(token.value)
        except InvalidValue as error:
            raise _Located.from_value(error, _start(token), _end(token)) from None
        return _Piece(("mem", value), _start(keyword), _end(token))

    def cores(self, children: list[lark.Token]) -> _Piece:
        keyword, token = children
        text = token.value
        try:
            if not text.lstrip("+-").isdigit():
                raise InvalidValue(f"cores must be a whole number >= 1, got '{text}'")
            value = check_cores(_whole_number(text, f"cores={text} is over {MAX_CORES}"))
        except InvalidValue as error:
            raise _Located.from_value(
                error, _start(token), _end(token), "write e.g. cores=4"
            ) from None
        return _Piece(("cores", value), _start(keyword), _end(token))

    def model(self, children: list[lark.Token]) -> _Piece:
        keyword, token = children
        name = token.value
        if name[:1] in ("'", '"'):
            name = name[1:-1]
        try:
            check_model(name)
        except InvalidValue as error:
            raise _Located.from_value(error, _start(token), _end(token)) from None
        return _Piece(("model", name), _start(keyword), _end(token))

    def _arguments(self, keyword: lark.Token, args: list[_Piece]) -> dict[str, Any]:
        seen: dict[str, _Piece] = {}
        for arg in args:
            name, _ = arg.value
            if name in seen:
                raise _Located(
                    f"{name}= is given twice in {keyword}(...)",
                    arg.start,
                    arg.end,
                    f"keep only one {name}=; the first one is at column {seen[name].start + 1}",
                )
            seen[name] = arg
        return {name: piece.value[1] for name, piece in seen.items()}

    def cpu(self, children: list[Any]) -> _Piece:
        keyword, *args, rpar = children
        values = self._arguments(keyword, args[1:])
        cpu = Cpu(values.get("cores", 1), values.get("mem", 0))
        return _Piece(Alternative(cpu=cpu), _start(keyword), _end(rpar))

    def accelerator(self, children: list[Any]) -> _Piece:
        keyword = children[0]
        count_token = children[-1] if children[-1].type == "COUNT" else None
        body = children[1:-1] if count_token is not None else children[1:]
        rpar = body[-1]
        values = self._arguments(keyword, body[1:-1])
        end = _end(rpar)
        count = 1
        if count_token is not None:
            end = _end(count_token)
            text = count_token.value
            try:
                if not text.lstrip("+-").isdigit():
                    raise InvalidValue(
                        f"GPU count must be a whole number, got '{text}'", "write e.g. *2"
                    )
                count = check_gpu_count(_whole_number(text, f"{text} GPUs is over {MAX_GPUS}"))
            except InvalidValue as error:
                raise _Located.from_value(error, _start(count_token), end) from None
        try:
            gpu = Accelerator(values.get("mem", 0), values.get("model"))
        except InvalidValue as error:
            raise _Located.from_value(error, _start(keyword), end) from None
        return _Piece(Alternative(gpus=(gpu,) * count), _start(keyword), end)




def _whole_number(text: str, over: str) -> int:
    """The value of a count written with digits, zeros in front (``0004``) changing nothing; a
    value of over 18 digits is refused with the message ``over`` (Python's ``int`` refuses text
    of over 4,300 digits, and no limit has 18)."""
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) <= 18:
        return int(text[0] + digits if text[0] in "+-" else digits)
    if text.startswith("-"):
        return -1  # refused by the check that follows, as any number below 1
    raise InvalidValue(over, "this looks like a typo")


def _alternatives_of(value: Requirement | Alternative) -> tuple[Alternative, ...]:
    return value.alternatives if isinstance(value, Requirement) else (value,)


class _Located(ReqsolveError):
    """A mistake found while building values; :func:`parse` adds the text around it."""

    def __init__(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint

    @classmethod
    def from_value(
        cls, error: InvalidValue, start: int, end: int, hint: str | None = None
    ) -> _Located:
        """``hint`` is used when the value error has none of its own."""
        return cls(error.message, start, end, error.hint or hint)


# --------------------------------------------------------------------------------------------
# Syntax errors: lark's exceptions -> InvalidExpression saying what was expected, in words


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


def _syntax_error(text: str, error: Any) -> InvalidExpression:
    """Turn a lark ``UnexpectedInput`` into an error a person can act on."""
    # lark loads with the first parse (docs/expressions.md): `import reqsolve.parser` stays cheap
    # for processes that never parse
    import lark

    end_of_text = len(text.rstrip())
    expected: set[str]
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        position = error.pos_in_stream or 0
        expected = set(error.allowed or ())
    elif isinstance(error, lark.exceptions.UnexpectedToken):
        token = error.token
        expected = set(error.expected or ())
        if token.type == "$END" or token.start_pos is None:
            position = end_of_text
        else:
            position = token.start_pos
    else:  # UnexpectedEOF and any future kind
        position = end_of_text
        expected = set(getattr(error, "expected", ()) or ())
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
