"""Requirement expressions as text -> :class:`~reqsolve.requirement.Requirement` values.

The grammar is ``grammars/requirement.lark``; lark is imported only here and in the two modules
this one drives, so its exceptions and quirks stop here: every mistake leaves as an
:class:`InvalidExpression` that points at the text, whatever the input. This module holds the
checks made before parsing (length, invisible characters, nesting), the call to lark and the
choice of lark's back-end and table cache; the values are built by
:mod:`reqsolve.expression_builder` during the parse, and syntax errors are put in words by
:mod:`reqsolve.syntax_hints`.

The parser is LALR with the values built *during* the parse (lark's embedded transformer): no
tree is built, which is faster and cannot overflow the stack on deeply nested parentheses. Spans
come from the tokens' own positions. The compiled parser is cached in the user's cache directory
so that a cold ``reqsolve`` does not spend 12-17 ms rebuilding the LALR tables (6-18 % of a
cold ``find``, docs/performance.md), and only when no other user could have written it (it is a
pickle).

Two back-ends run the same grammar and the same builder: lark with the ``lark_cython`` plugin
(lark's own Cython lexer and LALR loop), used whenever it is installed, and plain lark where the
plugin has no wheel. The plugin earns its keep: a warm find over distinct requirements takes
~113 µs with it and ~145 µs without (docs/performance.md); its import costs a cold process nothing
measurable (it is mostly lark's own). Both back-ends are tested against the same tables.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reqsolve.errors import InvalidExpression, ReqsolveError, Span
from reqsolve.expression_builder import MAX_ALTERNATIVES, Builder, Located, Piece
from reqsolve.lazy import once
from reqsolve.requirement import Requirement
from reqsolve.resources import resource_path, user_cache_directory
from reqsolve.syntax_hints import TERM_HINT, syntax_error

if TYPE_CHECKING:  # pragma: no cover
    import lark

__all__ = ["MAX_ALTERNATIVES", "parse"]

MAX_LENGTH = 100_000
MAX_DEPTH = 64
"""Longer text is refused before parsing (a requirement is one line, not a file)."""


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
        piece = cast(Piece, parser.parse(text))  # the builder turns the tree into a Piece
    except Located as error:
        raise InvalidExpression(
            error.message, text, Span(error.start, error.end), error.hint
        ) from None
    except InvalidExpression:
        raise
    except ReqsolveError as error:  # pragma: no cover - every value error is located above
        raise InvalidExpression(str(error), text, Span(0, len(text))) from None
    except lark.exceptions.UnexpectedInput as error:
        raise syntax_error(text, *_stopped_at(text, error)) from None
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


def _stopped_at(text: str, error: lark.exceptions.UnexpectedInput) -> tuple[int, set[str]]:
    """Where lark stopped in ``text`` and the terminals it expected there: the facts
    :func:`~reqsolve.syntax_hints.syntax_error` words (lark's error classes stay here)."""
    # lark is loaded: this runs on one of its errors
    import lark

    end_of_text = len(text.rstrip())
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        return error.pos_in_stream or 0, set(error.allowed or ())
    if isinstance(error, lark.exceptions.UnexpectedToken):
        token = error.token
        at_end = token.type == "$END" or token.start_pos is None
        return (end_of_text if at_end else token.start_pos), set(error.expected or ())
    # UnexpectedEOF and any future kind
    return end_of_text, set(getattr(error, "expected", ()) or ())


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
        transformer=Builder(),
        cache=str(cache_file) if cache_file is not None else False,
        **options,
    )
