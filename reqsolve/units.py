"""Sizes and durations: the one pint registry, parsing to integers, formatting for Slurm.

pint's default registry reads ``G`` as gauss, ``M`` as molar and treats bytes as dimensionless, so
reqsolve builds its own registry from ``grammars/units.txt`` only. Everything outside this module
handles plain integers (bytes, seconds).

``grammars/units.txt`` is the one source of unit names and factors, read by pint. Importing pint
costs ~0.3 s, more than a whole ``reqsolve find``, so the spellings and factors a parse needs are
written out here (:data:`_UNIT_TABLES`), and a test checks them against what pint derives from
units.txt (:func:`derive_tables`): a find never imports pint and reads no cache file.
Quantities of pint and ``datetime.timedelta`` values given to the Python API are read by
:func:`quantity_bytes` and :func:`quantity_seconds`.

Length (~500 lines): the one place that knows units (parsing, the tables, pint quantities,
Slurm's formats, quantities in messages), as STYLE asks: pint's quirks stop here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from reqsolve.errors import InvalidValue
from reqsolve.quantities import spelling
from reqsolve.resources import resource_path

if TYPE_CHECKING:  # pragma: no cover
    from fractions import Fraction

    import pint
    from pint import Quantity as Quantity  # re-exported for the builders: pint stays here

MAX_BYTES = 10**18
MAX_SECONDS = 315_576_000  # ten years of 365.25 days
MIB = 2**20
_MM_SS_RE = re.compile(r"[0-9]+:[0-9]{2}")

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
    # pint loads only to derive the unit tables (once per installation, docs/expressions.md) or for
    # a pint quantity
    import pint

    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(None, case_sensitive=True)
    ureg.load_definitions(str(resource_path("units.txt")))
    return ureg


# --- the fast lookup: a literal copy of what pint derives from units.txt

UnitTables = dict[str, dict[str, Any]]
"""``memory`` and ``duration``: spelling (lower case) -> pint unit name; ``factors``: pint unit
name -> how many base units (bytes or seconds) one is."""

_PREFIXES = ("K", "M", "G", "T", "P")
_UNIT_TABLES: UnitTables = {
    "memory": {
        "b": "B",
        **{p.lower(): f"{p}B" for p in _PREFIXES},
        **{f"{p}b".lower(): f"{p}B" for p in _PREFIXES},
        **{f"{p}i".lower(): f"{p}iB" for p in _PREFIXES},
        **{f"{p}ib".lower(): f"{p}iB" for p in _PREFIXES},
    },
    "duration": {
        **dict.fromkeys(("second", "s", "sec", "secs", "seconds"), "second"),
        **dict.fromkeys(("minute", "m", "min", "mins", "minutes"), "minute"),
        **dict.fromkeys(("hour", "h", "hr", "hrs", "hours"), "hour"),
        **dict.fromkeys(("day", "d", "days"), "day"),
        **dict.fromkeys(("week", "w", "weeks"), "week"),
    },
    "factors": {
        "B": 1,
        **{f"{p}B": 1000 ** (i + 1) for i, p in enumerate(_PREFIXES)},
        **{f"{p}iB": 1024 ** (i + 1) for i, p in enumerate(_PREFIXES)},
        "second": 1,
        "minute": 60,
        "hour": 3600,
        "day": 86400,
        "week": 604800,
    },
}
"""What :func:`derive_tables` asks of pint, written out: a parse never imports pint (~0.3 s) and
reads no cache file that could be truncated or edited. tests/test_units.py checks that this
literal equals pint's derivation from units.txt, so an edit of one without the other fails."""


def derive_tables() -> UnitTables:
    """Every unit spelling of ``grammars/units.txt`` and its factor, asked of pint.

    The names come from the definitions file (``name = value = symbol = alias ...``, prefixes
    ``name- = value = symbol- = alias-``); pint says what each is worth and of which dimension.
    Memory is the byte with each prefix (``K``/``KB``, ``Gi``/``GiB``, any case), durations the
    time units with their aliases. Run by the tests only, to check :data:`_UNIT_TABLES`.
    """
    ureg = registry()
    text = resource_path("units.txt").read_text(encoding="utf-8")
    prefixes: list[str] = []
    units: list[list[str]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        names = [part.strip() for part in line.split("=")]
        if names[0].endswith("-"):
            prefixes.extend(n[:-1] for n in names[2:])  # the symbols (K, Ki, k ...)
        else:
            units.append([names[0], *(n for n in names[2:] if not n.startswith("["))])
    memory: dict[str, str] = {}
    duration: dict[str, str] = {}
    factors: dict[str, int] = {}
    for names in units:
        quantity = ureg.Quantity(1, names[0])
        if quantity.check("[memory]"):
            symbol = names[1] if len(names) > 1 else names[0]  # byte = [memory] = B
            memory[symbol.lower()] = symbol
            factors[symbol] = pint_factor(symbol, symbol)
            for prefix in prefixes:
                name = f"{prefix.upper() if len(prefix) == 1 else prefix}{symbol}"
                memory.setdefault(prefix.lower(), name)
                memory.setdefault(f"{prefix}{symbol}".lower(), name)
                factors[name] = pint_factor(name, symbol)
        elif quantity.check("[time]"):
            for spelling in names:
                duration[spelling.lower()] = names[0]
            factors[names[0]] = pint_factor(names[0], "second")
    return {"memory": memory, "duration": duration, "factors": factors}


def unit_tables() -> UnitTables:
    """The spellings and factors of units.txt (the literal :data:`_UNIT_TABLES`)."""
    return _UNIT_TABLES


def __getattr__(name: str) -> dict[str, Any]:
    """``MEMORY_UNITS``, ``DURATION_UNITS``, ``UNIT_FACTORS``: the tables, on first use."""
    key = {"MEMORY_UNITS": "memory", "DURATION_UNITS": "duration", "UNIT_FACTORS": "factors"}
    if name in key:
        return unit_tables()[key[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def pint_factor(unit: str, base: str) -> int:
    """How many ``base`` units one ``unit`` is, asked of pint (all reqsolve units are whole)."""
    magnitude: Any = registry().Quantity(1, unit).to(base).magnitude
    return round(float(magnitude))


def _factor(unit: str) -> int:
    factor: int = unit_tables()["factors"][unit]
    return factor


def _did_you_mean(unit: str, spellings: dict[str, str]) -> str:
    # difflib only for a misspelt unit's suggestion (an error path)
    import difflib

    close = difflib.get_close_matches(unit.lower(), list(spellings), n=1, cutoff=0.7)
    return f"did you mean `{close[0]}`? " if close else ""


def memory_factor(unit: str) -> int:
    """Bytes in one ``unit`` (a spelling of ``MEMORY_UNITS``, any case)."""
    spellings = unit_tables()["memory"]
    try:
        name = spellings[unit.lower()]
    except KeyError:
        raise InvalidValue(
            f"unknown memory unit '{unit}'",
            _did_you_mean(unit, spellings)
            + "use K, M, G, T, P (decimal) or Ki, Mi, Gi, Ti, Pi (binary), optionally + B",
        ) from None
    return _factor(name)


def duration_factor(unit: str) -> int:
    """Seconds in one ``unit`` (a spelling of ``DURATION_UNITS``, any case)."""
    spellings = unit_tables()["duration"]
    try:
        name = spellings[unit.lower()]
    except KeyError:
        raise InvalidValue(
            f"unknown duration unit '{unit}'",
            _did_you_mean(unit, spellings) + "use s, m/min, h, d/days or w",
        ) from None
    return _factor(name)


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


def _any_case(spellings: dict[str, str]) -> str:
    """A regular expression alternative of the spellings in any case (JSON Schema patterns take
    no flags), longest first."""
    ordered = sorted(spellings, key=lambda s: (-len(s), s))
    return "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in s) for s in ordered)


def memory_pattern() -> str:
    """What a size written as text looks like, for the JSON Schema: the unit spellings are
    those a parse accepts."""
    units = _any_case(unit_tables()["memory"])
    return rf"^\s*\+?(\d+(\.\d*)?|\.\d+)\s*({units})\s*$"


def duration_pattern() -> str:
    """What a duration written as text looks like, for the JSON Schema (``4 days``, ``1d12h``,
    ``2-12:00``, ``36:00:00``), with the unit spellings a parse accepts."""
    units = _any_case(unit_tables()["duration"])
    return (
        rf"^\s*((\d+(\.\d*)?|\.\d+)\s*({units})\s*)+$"
        r"|^\s*\d+-\d+(:\d+(:\d+)?)?\s*$"
        r"|^\s*\d+:\d+:\d+\s*$"
    )


def is_quantity(value: object) -> bool:
    """A pint quantity, from any registry (told by its shape: pint is not imported for this)."""
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "to")


def _quantity(
    value: Any, factor_of: Callable[[str], int], dimensions: tuple[str, ...], expected: str
) -> tuple[int, str]:
    kind = "memory size" if "[memory]" in dimensions else "duration"
    """(base units rounded up, the quantity as text) of a pint quantity: its unit is read by its
    symbol (``24 * ureg.GiB`` is ``GiB``), so any registry's byte and time units are understood
    (reqsolve's registry has a ``[memory]`` dimension, pint's default none)."""
    # fractions only for a non-integer number (2.5G, 1.5h): whole numbers, nearly all, never load
    # it
    from fractions import Fraction

    symbol = format(value.units, "~").replace(" ", "")
    text = f"{value.magnitude}{symbol}"
    if str(value.dimensionality) not in dimensions:
        raise InvalidValue(f"'{text}' is not a {kind}", f"write e.g. {expected}")
    magnitude = value.magnitude
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float | Fraction):
        raise InvalidValue(f"'{text}': expected a number of units, got {magnitude!r}")
    if isinstance(magnitude, float) and not math.isfinite(magnitude):
        raise InvalidValue(f"'{text}' is not a finite quantity")
    return math.ceil(Fraction(magnitude) * factor_of(symbol)), text


def quantity_bytes(value: Any) -> int:
    """Bytes of a pint memory quantity (``24 * ureg.GiB``); a fraction of a byte rounds up."""
    # pint's own default registry makes bytes dimensionless: its symbol then says what it is
    dimensions = ("[memory]", "[information]", "dimensionless")
    number, text = _quantity(value, memory_factor, dimensions, "24 * ureg.GiB")
    return check_memory(number, text)


def quantity_seconds(value: Any) -> int:
    """Seconds of a pint time quantity (``2 * ureg.hour``); a fraction of a second rounds up."""
    number, text = _quantity(value, duration_factor, ("[time]",), "36 * ureg.hour")
    return check_duration(number, text)


def _long_number(number: str, limit: int) -> Fraction:
    """The exact value of a number written with over 40 characters (``0.000…01``, ``000…4``),
    or ``limit + 1`` when its whole part alone is over ``limit`` (a typo, refused by the check that
    follows). Python's ``int`` refuses text of over 4,300 digits; ``Decimal`` reads any length."""
    # decimal and fractions only for such a number: a rare path (typos, attacks)
    from decimal import Decimal
    from fractions import Fraction

    whole = number.partition(".")[0].lstrip("0")
    if len(whole) > len(str(limit)):
        return Fraction(limit + 1)
    return Fraction(Decimal(number))


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
    factor = memory_factor(unit)
    # whole numbers (nearly all sizes) need no Fraction, which costs ~10 µs to build
    if len(number) > 40:
        value = math.ceil(_long_number(number, MAX_BYTES) * factor)
    elif number.isdecimal():
        value = int(number) * factor
    else:
        # fractions only for a non-integer number (2.5G, 1.5h): whole numbers, nearly all, never
        # load it
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
    if re.search(r"[0-9]{40}", raw) and not _DURATION_PART_RE.match(raw):
        # a clock form (``D-HH:MM:SS``) with a field of 40 digits: the zeros in front of a
        # field's value change nothing, and a field's value is below 10^12 or over the limit
        if all(len(field.lstrip("0")) < 13 for field in re.findall("[0-9]+", raw)):
            raw = re.sub("[0-9]+", lambda m: m[0].lstrip("0").zfill(2), raw)
        else:
            raise InvalidValue(
                f"duration '{stripped}' is over 10 years",
                "this looks like a typo: write e.g. 4 days",
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
        if len(number) > 40:
            total += _long_number(number, MAX_SECONDS) * factor
        elif number.isdecimal():
            total += int(number) * factor
        else:
            # fractions only for a non-integer number (2.5G, 1.5h): whole numbers, nearly all,
            # never load it
            from fractions import Fraction

            total += Fraction(number) * factor
        position = part.end()
    if position == 0:
        raise InvalidValue(f"'{stripped}' is not a duration", "write e.g. 4h")
    return check_duration(math.ceil(total), stripped)


def format_memory(value: int) -> str:
    """Shortest spelling of a byte count that re-parses equal: a whole number of a unit
    (``4GB``, ``8116MiB``, ``1B``), else the fewest decimals (``250.001GiB`` for 268436529742
    bytes: a fraction of a byte rounds up), never a long raw byte count."""
    number, unit, _ = spelling(value, canonical=True)
    return f"{number}{unit}"


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
