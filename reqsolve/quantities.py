"""Sizes as people read them: in messages, one unit system per message, never a raw byte count.

A requirement holds bytes; the unit its author wrote is gone. The unit a size "reads best" in is
the one of its shortest spelling that reads back to the same byte count (``30GiB``, ``40G``,
``250.001GiB``: a fraction of a byte rounds up, docs/expressions.md). A message comparing two
sizes writes both in the unit of the one asked (:func:`memory_pair`), rounded to two decimals
in the direction that keeps the comparison true (``GPU memory 29.8GiB < 30GiB asked``, not
``32G < 30GiB``). Nothing here imports anything: :mod:`reqsolve.units` uses it for the
canonical form.
"""

from __future__ import annotations

import math
from fractions import Fraction

# (unit as a message writes it, as the canonical form writes it, bytes), largest first
_UNITS = (
    ("PiB", "PiB", 2**50),
    ("P", "PB", 10**15),
    ("TiB", "TiB", 2**40),
    ("T", "TB", 10**12),
    ("GiB", "GiB", 2**30),
    ("G", "GB", 10**9),
    ("MiB", "MiB", 2**20),
    ("M", "MB", 10**6),
    ("KiB", "KiB", 2**10),
    ("K", "KB", 10**3),
)


def _decimal(number: Fraction) -> str:
    """A fraction with a finite decimal expansion, written without trailing zeros."""
    if number.denominator == 1:
        return str(number.numerator)
    decimals = 0
    while (number * 10**decimals).denominator != 1:
        decimals += 1
    scaled = int(number * 10**decimals)
    whole, fraction = divmod(scaled, 10**decimals)
    return f"{whole}.{fraction:0{decimals}d}".rstrip("0")


def _shortest_reading_back(value: int, factor: int) -> str:
    """The shortest decimal ``x`` with ⌈x × factor⌉ = ``value`` (``250.001`` GiB for
    268436529742 bytes): the interval ((value - 1) / factor, value / factor] holds one of few
    decimals when the factor is large."""
    for decimals in range(20):
        scale = 10**decimals
        candidate = value * scale // factor  # the largest with this many decimals ≤ the top
        if candidate * factor > (value - 1) * scale:
            return _decimal(Fraction(candidate, scale))
    return _decimal(Fraction(value, factor))  # pragma: no cover - 20 decimals always suffice


def spelling(value: int, *, canonical: bool = False) -> tuple[str, str, int]:
    """(number, unit, bytes in the unit) of the shortest spelling of ``value`` bytes that reads
    back equal; the unit as a message writes it (``G``), or with ``canonical`` as the canonical
    form does (``GB``). The canonical form takes a whole number of a unit where there is one
    (``1500MB``), decimals only when no unit above the byte divides ``value``; a message takes
    the shortest (``1.5G``)."""
    if value <= 0:
        return "0", "B", 1
    best = (str(value), "B", 1)
    for shown, written, factor in _UNITS:
        unit = written if canonical else shown
        if value % factor == 0 and len(str(value // factor)) + len(unit) < len(best[0]) + len(
            best[1]
        ):
            best = (str(value // factor), unit, factor)
    if (canonical and best[1] != "B") or value < 1000:
        return best
    for shown, written, factor in _UNITS:
        number = _shortest_reading_back(value, factor)
        unit = written if canonical else shown
        if len(number) + len(unit) < len(best[0]) + len(best[1]):
            best = (number, unit, factor)
    return best


def _approximate(value: int) -> tuple[str, int]:
    """The decimal unit of a byte count with no short spelling (123456789012): the largest
    not above it (``G``), and its bytes."""
    for shown, _, factor in _UNITS:
        if factor % 1000 == 0 and value >= factor:
            return shown, factor
    return "B", 1


def _rounded(exact: Fraction, up: bool, decimals: int) -> Fraction:
    scale = 10**decimals
    return Fraction((math.ceil if up else math.floor)(exact * scale), scale)


def human_memory(value: int) -> str:
    """A size alone in a message, in the unit it reads best in (``40G``, ``30GiB``, ``33.6G``);
    a byte count with no short spelling to two decimals (``123.46G``)."""
    number, unit, _ = spelling(value)
    if unit == "B" and value >= 1000:
        unit, factor = _approximate(value)
        number = _decimal(Fraction(round(Fraction(value, factor) * 100), 100))
    return f"{number}{unit}"


def memory_pair(asked: int, other: int) -> tuple[str, str]:
    """``asked`` as :func:`human_memory` writes it, and ``other`` in the same unit, to two
    decimals (more where the two would read equal), each rounded away from the other, so that
    ``<`` or ``>`` between the texts is true: (``30GiB``, ``29.8GiB``) for 30GiB asked and 32G
    held, never ``32G < 30GiB``."""
    number, unit, factor = spelling(asked)
    exact_asked = Fraction(asked, factor)
    if unit == "B" and asked >= 1000:
        unit, factor = _approximate(asked)
        exact_asked, number = Fraction(asked, factor), ""
    exact = Fraction(other, factor)
    decimals = 2
    while 0 < exact < Fraction(1, 10) and exact * 10**decimals < 100 and decimals < 18:
        decimals += 1  # a small size keeps three digits: 0.00466GiB, not 0GiB
    while True:
        shown = _rounded(exact, other > asked, decimals)
        shown_asked = _rounded(exact_asked, asked > other, decimals)
        if number:
            shown_asked = Fraction(number)
        truthful = (shown < shown_asked, shown == shown_asked) == (other < asked, other == asked)
        if truthful or decimals >= 20:
            break
        decimals += 1
    return f"{number or _decimal(shown_asked)}{unit}", f"{_decimal(shown)}{unit}"
