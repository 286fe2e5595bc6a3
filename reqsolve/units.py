"""Sizes and durations: the one pint registry, parsing to integers, formatting for Slurm.

pint's default registry reads ``G`` as gauss, ``M`` as molar and treats bytes as dimensionless, so
reqsolve builds its own registry from ``grammars/units.txt`` only. Everything outside this module
handles plain integers (bytes, seconds).

pint stays the source of truth for what a unit is worth, but importing it costs ~0.3 s, more than
a whole ``reqsolve find``. So the factor of each unit is read from :data:`UNIT_FACTORS`, a table
that a test recomputes with the pint registry from ``grammars/units.txt`` and requires equal.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from reqsolve.errors import InvalidValue
from reqsolve.resources import resource_path

if TYPE_CHECKING:  # pragma: no cover
    from fractions import Fraction

    import pint

MAX_BYTES = 10**18
MAX_SECONDS = 315_576_000  # ten years of 365.25 days
MIB = 2**20
_MM_SS_RE = re.compile(r"[0-9]+:[0-9]{2}")

# Unit spellings accepted in expressions and files (case-insensitive) -> pint unit names.
MEMORY_UNITS: dict[str, str] = {
    "b": "B",
    "k": "KB",
    "kb": "KB",
    "m": "MB",
    "mb": "MB",
    "g": "GB",
    "gb": "GB",
    "t": "TB",
    "tb": "TB",
    "p": "PB",
    "pb": "PB",
    "ki": "KiB",
    "kib": "KiB",
    "mi": "MiB",
    "mib": "MiB",
    "gi": "GiB",
    "gib": "GiB",
    "ti": "TiB",
    "tib": "TiB",
    "pi": "PiB",
    "pib": "PiB",
}
DURATION_UNITS: dict[str, str] = {
    "s": "second",
    "sec": "second",
    "secs": "second",
    "second": "second",
    "seconds": "second",
    "m": "minute",
    "min": "minute",
    "mins": "minute",
    "minute": "minute",
    "minutes": "minute",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "hour": "hour",
    "hours": "hour",
    "d": "day",
    "day": "day",
    "days": "day",
    "w": "week",
    "week": "week",
    "weeks": "week",
}

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only, as the grammar
_SIZE_RE = re.compile(rf"\s*(?P<num>[-+]?{_NUMBER})\s*(?P<unit>[A-Za-z]*)\s*")
_DURATION_PART_RE = re.compile(rf"\s*(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-z]+)")
_CLOCK_RE = re.compile(
    r"\s*(?:(?P<days>[0-9]+)-(?P<dh>[0-9]+)(?::(?P<dm>[0-9]+)(?::(?P<ds>[0-9]+))?)?"
    r"|(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+))\s*",
)


@cache
def registry() -> pint.UnitRegistry[Any]:
    """The unit registry, built on first use from reqsolve's definitions file only."""
    import pint

    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(None, case_sensitive=True)
    ureg.load_definitions(str(resource_path("units.txt")))
    return ureg


# pint unit name -> how many base units (bytes or seconds) one is. Checked against pint by
# tests/test_units.py::test_factor_table_matches_pint; pint_factor() recomputes an entry.
UNIT_FACTORS: dict[str, int] = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 604800,
}


@cache
def pint_factor(unit: str, base: str) -> int:
    """How many ``base`` units one ``unit`` is, asked of pint (all reqsolve units are whole)."""
    magnitude: Any = registry().Quantity(1, unit).to(base).magnitude
    return round(float(magnitude))


def _factor(unit: str, base: str) -> int:
    factor = UNIT_FACTORS.get(unit)
    return factor if factor is not None else pint_factor(unit, base)


def _did_you_mean(unit: str, spellings: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(unit.lower(), list(spellings), n=1, cutoff=0.7)
    return f"did you mean `{close[0]}`? " if close else ""


def memory_factor(unit: str) -> int:
    """Bytes in one ``unit`` (a spelling of :data:`MEMORY_UNITS`, any case)."""
    try:
        name = MEMORY_UNITS[unit.lower()]
    except KeyError:
        raise InvalidValue(
            f"unknown memory unit '{unit}'",
            _did_you_mean(unit, MEMORY_UNITS)
            + "use K, M, G, T, P (decimal) or Ki, Mi, Gi, Ti, Pi (binary), optionally + B",
        ) from None
    return _factor(name, "B")


def duration_factor(unit: str) -> int:
    """Seconds in one ``unit`` (a spelling of :data:`DURATION_UNITS`, any case)."""
    try:
        name = DURATION_UNITS[unit.lower()]
    except KeyError:
        raise InvalidValue(
            f"unknown duration unit '{unit}'",
            _did_you_mean(unit, DURATION_UNITS) + "use s, m/min, h, d/days or w",
        ) from None
    return _factor(name, "second")


def check_memory(value: int, text: str) -> int:
    if value < 0:
        raise InvalidValue(f"memory size '{text}' is negative", "write a size such as 4G")
    if value > MAX_BYTES:
        raise InvalidValue(
            f"memory size '{text}' is over 10^18 bytes",
            "this looks like a typo: no job needs an exabyte",
        )
    return value


def check_duration(value: int, text: str) -> int:
    if value < 0:
        raise InvalidValue(f"duration '{text}' is negative", "write a duration such as 4h")
    if value > MAX_SECONDS:
        raise InvalidValue(
            f"duration '{text}' is over 10 years", "this looks like a typo: write e.g. 4 days"
        )
    return value


def _plausible_unit(number: str) -> str:
    """G for a small number (``16`` is 16G of GPU or node memory), M from 1000 on (``4000``
    is 4000M, Slurm's MiB habit): the unit a bare number most likely meant."""
    try:
        return "G" if float(number) < 1000 else "M"
    except ValueError:
        return "M"


def memory_bytes(number: str, unit: str) -> int:
    """Exact bytes of ``number`` (decimal text) times ``unit``; a fraction of a byte rounds up."""
    if not unit:
        raise InvalidValue(
            f"memory size '{number}' has no unit (ambiguous: bytes or MiB?); write e.g."
            f" {number}{_plausible_unit(number)}",
            "experimaestro read bytes and Slurm reads MiB, so reqsolve does not guess; "
            "K M G T P are decimal (1G = 10^9 bytes), Ki Mi Gi Ti Pi binary",
        )
    if len(number) > 40:
        raise InvalidValue(
            f"memory size '{number}{unit}' is over 10^18 bytes",
            "this looks like a typo: no job needs an exabyte",
        )
    factor = memory_factor(unit)
    # whole numbers (nearly all sizes) need no Fraction, which costs ~10 µs to build
    if number.isdecimal():
        value = int(number) * factor
    else:
        from fractions import Fraction

        value = math.ceil(Fraction(number) * factor)
    return check_memory(value, f"{number}{unit}")


def parse_memory(text: str | int) -> int:
    """Bytes of a size written as text (``400M``, ``8116MiB``, ``1.5 GB``).

    A bare number is refused: experimaestro reads bytes where Slurm reads MiB.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidValue(f"expected a memory size such as 4G, got {text!r}")
    raw = str(text)
    match = _SIZE_RE.fullmatch(raw)
    if match is None:
        raise InvalidValue(f"'{raw}' is not a memory size", "write a number and a unit, e.g. 4G")
    number, unit = match["num"], match["unit"]
    if number.startswith("-"):
        raise InvalidValue(f"memory size '{raw.strip()}' is negative", "write e.g. 4G")
    return memory_bytes(number.lstrip("+"), unit)


def parse_duration(text: str | int) -> int:
    """Seconds of a duration: ``4 days``, ``36h``, ``1d12h``, ``1.5h``, ``HH:MM:SS``, ``D-HH``.

    A bare number is refused: Slurm reads minutes where users mean hours.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidValue(f"expected a duration such as 4h, got {text!r}")
    raw = str(text)
    stripped = raw.strip()
    if re.fullmatch(rf"[-+]?{_NUMBER}", stripped):
        if stripped.startswith("-"):
            raise InvalidValue(f"duration '{stripped}' is negative", "write e.g. 4h")
        raise InvalidValue(
            f"duration '{stripped}' has no unit (Slurm reads minutes, people mean hours); "
            f"write e.g. {stripped}h or {stripped}m",
            f"Slurm's --time={stripped} would mean {stripped} minute"
            f"{'' if stripped == '1' else 's'}; reqsolve does not guess: "
            "write the unit, e.g. 90m or 2h",
        )
    if stripped.startswith("-"):
        raise InvalidValue(f"duration '{stripped}' is negative", "write e.g. 4h")
    if stripped.startswith("+"):
        raw = stripped = stripped[1:]
    if re.search(r"[0-9]{40}", raw):
        raise InvalidValue(
            f"duration '{stripped}' is over 10 years", "this looks like a typo: write e.g. 4 days"
        )
    if _MM_SS_RE.fullmatch(raw):  # the same rule as in expressions (reqsolve.parser)
        first, second = raw.split(":")
        raise InvalidValue(
            f"duration '{stripped}' is ambiguous (Slurm reads MM:SS, people mean HH:MM)",
            f"write {raw}:00 for hours and minutes, or {first}m{second}s",
        )
    clock = _CLOCK_RE.fullmatch(raw)
    if clock is not None:
        if clock["days"] is not None:
            days, hours = int(clock["days"]), int(clock["dh"])
            minutes, seconds = int(clock["dm"] or 0), int(clock["ds"] or 0)
        else:
            days, hours = 0, int(clock["h"])
            minutes, seconds = int(clock["m"]), int(clock["s"])
        if minutes >= 60 or seconds >= 60 or (clock["days"] is not None and hours >= 24):
            raise InvalidValue(f"'{stripped}' is not a valid clock time", "write e.g. 1-12:00:00")
        return check_duration(((days * 24 + hours) * 60 + minutes) * 60 + seconds, stripped)
    total: int | Fraction = 0
    position = 0
    while position < len(raw):
        part = _DURATION_PART_RE.match(raw, position)
        if part is None:
            if raw[position:].strip() == "":
                break
            raise InvalidValue(
                f"'{stripped}' is not a duration", "write e.g. 4h, 90m, 1d12h or 2-00:00:00"
            )
        number = part["num"]
        factor = duration_factor(part["unit"])
        if number.isdecimal():
            total += int(number) * factor
        else:
            from fractions import Fraction

            total += Fraction(number) * factor
        position = part.end()
    if position == 0:
        raise InvalidValue(f"'{stripped}' is not a duration", "write e.g. 4h")
    return check_duration(math.ceil(total), stripped)


_MEMORY_CANONICAL = (
    ("PiB", 2**50),
    ("PB", 10**15),
    ("TiB", 2**40),
    ("TB", 10**12),
    ("GiB", 2**30),
    ("GB", 10**9),
    ("MiB", 2**20),
    ("MB", 10**6),
    ("KiB", 2**10),
    ("KB", 10**3),
)


def format_memory(value: int) -> str:
    """Shortest exact spelling of a byte count (``4GB``, ``8116MiB``, ``1B``); re-parses equal."""
    if value == 0:
        return "0B"
    best = f"{value}B"
    for unit, factor in _MEMORY_CANONICAL:
        if value % factor == 0:
            candidate = f"{value // factor}{unit}"
            if len(candidate) < len(best):
                best = candidate
    return best


def human_memory(value: int) -> str:
    """Approximate size for messages (``33.6G``, ``40GiB``): readable, not exact."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20)):
        if value >= factor and value % factor == 0:
            return f"{value // factor}{unit}"
    for unit, factor in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= factor:
            text = f"{value / factor:.2f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return f"{value}B"


def format_duration(seconds: int) -> str:
    """Compact exact spelling of a duration (``4d``, ``1d12h``, ``1h30m``); re-parses equal."""
    if seconds == 0:
        return "0s"
    parts = []
    rest = seconds
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, rest = divmod(rest, factor)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def format_time(seconds: int) -> str:
    """Slurm ``--time``: ``HH:MM:SS`` below one day, ``D-HH:MM:SS`` from one day on."""
    if seconds < 0:
        raise InvalidValue(f"negative time {seconds}")
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def parse_slurm_time(text: str) -> int | None:
    """Seconds of a Slurm time limit as printed by scontrol (``UNLIMITED`` -> None).

    Accepts ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS``.
    """
    value = text.strip()
    if value.upper() in ("UNLIMITED", "INFINITE", "NONE", "(NULL)", ""):
        return None
    days = 0
    if "-" in value:
        day_text, value = value.split("-", 1)
        days = int(day_text)
        fields = [int(x) for x in value.split(":")]
        fields += [0] * (3 - len(fields))
        hours, minutes, seconds = fields[:3]
    else:
        fields = [int(x) for x in value.split(":")]
        if len(fields) == 1:
            hours, minutes, seconds = 0, fields[0], 0
        elif len(fields) == 2:
            hours, minutes, seconds = 0, fields[0], fields[1]
        else:
            hours, minutes, seconds = fields[:3]
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def format_mem_mib(value: int) -> str:
    """Slurm ``--mem``: whole MiB rounded **up** with suffix ``M`` (``400M`` -> ``382M``)."""
    return f"{-(-value // MIB)}M"
