"""Sizes and durations: tables derived from units.txt by pint, quantities and timedeltas,
parsing, formatting, monotonicity."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.errors import InvalidValue
from reqsolve.quantities import human_memory
from reqsolve.requirement import cpu, cuda_gpu, duration
from reqsolve.units import (
    DURATION_UNITS,
    MAX_BYTES,
    MAX_SECONDS,
    MEMORY_UNITS,
    UNIT_FACTORS,
    derive_tables,
    format_duration,
    format_mem_mib,
    format_memory,
    format_time,
    memory_bytes,
    memory_factor,
    parse_duration,
    parse_memory,
    parse_slurm_time,
    pint_factor,
    registry,
    unit_tables,
)
from tests.commands import python_process


@pytest.mark.parametrize("unit", sorted(UNIT_FACTORS))
def test_factor_table_matches_pint(unit: str) -> None:
    """The table that spares pint's import time says exactly what pint says from units.txt."""
    base = "B" if unit[-1] == "B" else "second"
    assert UNIT_FACTORS[unit] == pint_factor(unit, base)


# What units.txt says, as pint reads it: the tables a parse uses are derived from it, not written.
EXPECTED_FACTORS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
    "second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800,
}  # fmt: skip
EXPECTED_MEMORY_SPELLINGS = {
    "b", "k", "kb", "m", "mb", "g", "gb", "t", "tb", "p", "pb",
    "ki", "kib", "mi", "mib", "gi", "gib", "ti", "tib", "pi", "pib",
}  # fmt: skip
EXPECTED_DURATION_SPELLINGS = {
    "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes",
    "h", "hr", "hrs", "hour", "hours", "d", "day", "days", "w", "week", "weeks",
}  # fmt: skip


def test_tables_are_derived_from_units_txt() -> None:
    derived = derive_tables()
    assert derived["factors"] == EXPECTED_FACTORS
    assert set(derived["memory"]) == EXPECTED_MEMORY_SPELLINGS
    assert set(derived["duration"]) == EXPECTED_DURATION_SPELLINGS
    assert derived["memory"]["gib"] == "GiB" and derived["duration"]["hrs"] == "hour"
    assert unit_tables() == derived  # the literal table is what pint says


def _old_cache_text(change: Callable[[str], str]) -> str:
    """The units cache as earlier versions wrote it (``table key value`` lines), changed."""
    full = "".join(
        f"{table} {key} {value}\n"
        for table, entries in derive_tables().items()
        for key, value in entries.items()
    )
    return change(full)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: t[: t.index("factors hour")], id="truncated"),
        pytest.param(lambda t: t.replace("GB 1000000000\n", "GB 100000000\n"), id="one-digit"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "garbage line here\nmore\n", id="garbage"),
    ],
)
def test_no_unit_cache_file_is_read(tmp_path: Path, change: Callable[[str], str]) -> None:
    """Issue 24 §10: a truncated units cache made every command fail (``KeyError: 'hour'``) and
    one changed digit made 1G = 10^8 bytes. The tables are literal now: whatever lies in the
    cache directory under the old cache's names, a fresh process parses as pint says."""
    cache = tmp_path / "reqsolve"
    cache.mkdir()
    planted = _old_cache_text(change)
    for name in ("units-b3dd6379.txt", "units-b3dd6378.txt"):
        (cache / name).write_text(planted, encoding="utf-8")
    code = (
        "from reqsolve.units import parse_memory, parse_duration; "
        "print(parse_memory('1G'), parse_duration('2 hours'))"
    )
    result = python_process(code, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(10**9), "7200"]


def _pint() -> Any:
    import pint

    return pint.UnitRegistry()


# (id, builder call on (pint's default registry, reqsolve's), expected canonical text)
QUANTITIES = [
    ("gpu-gib-default", lambda d, u: cuda_gpu(mem=24 * d.GiB), "cuda(mem=24GiB)"),
    ("gpu-gib-reqsolve", lambda d, u: cuda_gpu(mem=24 * u.GiB), "cuda(mem=24GiB)"),
    ("gpu-gb-float", lambda d, u: cuda_gpu(mem=1.5 * d.GB), "cuda(mem=1500MB)"),
    ("cpu-mb", lambda d, u: cpu(mem=400 * d.MB, cores=2), "cpu(mem=400MB, cores=2)"),
    ("duration-hours", lambda d, u: duration(36 * d.hour), "duration=1d12h"),
    ("duration-minutes", lambda d, u: duration(90 * u.minute), "duration=1h30m"),
    ("timedelta", lambda d, u: duration(timedelta(hours=36)), "duration=1d12h"),
    ("timedelta-fraction-up", lambda d, u: duration(timedelta(seconds=1.2)), "duration=2s"),
]


@pytest.mark.parametrize(
    ("build", "expected"), [pytest.param(b, e, id=i) for i, b, e in QUANTITIES]
)
def test_builders_take_pint_quantities_and_timedeltas(build: Any, expected: str) -> None:
    assert str(build(_pint(), registry())) == expected


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda d: cuda_gpu(mem=3 * d.meter), "'3m' is not a memory size", id="length"),
        pytest.param(lambda d: duration(3 * d.GiB), "'3GiB' is not a duration", id="bytes"),
        pytest.param(lambda d: cuda_gpu(mem=3 * d.rad), "unknown memory unit 'rad'", id="angle"),
        pytest.param(lambda d: cuda_gpu(mem=-1 * d.GiB), "'-1GiB' is negative", id="negative"),
    ],
)
def test_quantities_of_the_wrong_kind_are_refused(build: Any, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        build(_pint())


def test_every_spelling_has_a_factor() -> None:
    assert set(MEMORY_UNITS.values()) | set(DURATION_UNITS.values()) == set(UNIT_FACTORS)


def test_registry_reads_prefixes_as_reqsolve_means_them() -> None:
    ureg = registry()
    assert ureg.Quantity(1, "GB").to("B").magnitude == 10**9
    assert ureg.Quantity(1, "GiB").to("B").magnitude == 2**30
    assert ureg.Quantity(1, "day").to("second").magnitude == 86400


MEMORY = [
    ("400M", 400_000_000),
    ("8116MiB", 8116 * 2**20),
    ("4G", 4 * 10**9),
    ("4g", 4 * 10**9),
    ("4gb", 4 * 10**9),
    ("4GiB", 4 * 2**30),
    ("4 GiB", 4 * 2**30),
    ("1.5 GB", 1_500_000_000),
    ("1K", 1000),
    ("1Ki", 1024),
    ("1T", 10**12),
    ("1Ti", 2**40),
    ("1P", 10**15),
    ("1Pi", 2**50),
    ("12B", 12),
    ("0.5B", 1),
    ("+2M", 2 * 10**6),
    ("1000P", 10**18),
    ("0G", 0),
]


@pytest.mark.parametrize(("text", "expected"), MEMORY, ids=[m[0] for m in MEMORY])
def test_parse_memory(text: str, expected: int) -> None:
    assert parse_memory(text) == expected


MEMORY_ERRORS = [
    ("1000", "memory size '1000' has no unit (ambiguous: bytes or MiB?); write e.g. 1000M"),
    ("-4G", "memory size '-4G' is negative"),
    ("1001P", "memory size '1001P' is over 10^18 bytes"),
    ("4X", "unknown memory unit 'X'"),
    ("lots", "'lots' is not a memory size"),
    ("4G4", "'4G4' is not a memory size"),
]


@pytest.mark.parametrize(("text", "message"), MEMORY_ERRORS, ids=[m[0] for m in MEMORY_ERRORS])
def test_parse_memory_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_memory(text)
    assert caught.value.message == message


@pytest.mark.parametrize("value", [True, 4.5, None, [1]], ids=["bool", "float", "none", "list"])
def test_parse_memory_refuses_non_text(value: object) -> None:
    with pytest.raises(InvalidValue, match="expected a memory size"):
        parse_memory(value)  # type: ignore[arg-type]


def test_int_memory_is_refused_as_bare_number() -> None:
    with pytest.raises(InvalidValue, match="has no unit"):
        parse_memory(1000)


DURATIONS = [
    ("4 days", 4 * 86400),
    ("4d", 4 * 86400),
    ("36h", 36 * 3600),
    ("36 hours", 36 * 3600),
    ("90m", 5400),
    ("90min", 5400),
    ("30s", 30),
    ("1.5h", 5400),
    ("1d12h", 36 * 3600),
    ("2h30m", 9000),
    ("1w", 7 * 86400),
    ("01:30:00", 5400),
    ("1-12", 36 * 3600),
    ("1-12:30", 36 * 3600 + 1800),
    ("1-12:30:15", 36 * 3600 + 1815),
    ("0.4s", 1),
    ("+4h", 4 * 3600),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS, ids=[d[0] for d in DURATIONS])
def test_parse_duration(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


DURATION_ERRORS = [
    ("4", "duration '4' has no unit (Slurm reads minutes, people mean hours); write e.g. 4h or 4m"),
    ("-4", "duration '-4' is negative"),
    ("-4h", "duration '-4h' is negative"),
    ("3653 days", "duration '3653 days' is over 10 years"),
    ("4 fortnights", "unknown duration unit 'fortnights'"),
    ("soon", "'soon' is not a duration"),
    ("1:60:00", "'1:60:00' is not a valid clock time"),
    ("1-24", "'1-24' is not a valid clock time"),
    ("9" * 60 + "h", "duration '" + "9" * 60 + "h' is over 10 years"),
]


@pytest.mark.parametrize(
    ("text", "message"), DURATION_ERRORS, ids=[d[0][:12] for d in DURATION_ERRORS]
)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_duration(text)
    assert caught.value.message == message


def test_huge_size_digits_are_refused_not_crashing() -> None:
    with pytest.raises(InvalidValue, match="over 10\\^18"):
        memory_bytes("9" * 5000, "G")


FORMATS = [
    (0, "0B"),
    (1, "1B"),
    (4 * 10**9, "4GB"),
    (4 * 2**30, "4GiB"),
    (8116 * 2**20, "8116MiB"),
    (1500 * 10**6, "1500MB"),
    (10**18, "1000PB"),
]


@pytest.mark.parametrize(("value", "text"), FORMATS, ids=[f[1] for f in FORMATS])
def test_format_memory(value: int, text: str) -> None:
    assert format_memory(value) == text
    assert parse_memory(text) == value


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (30, "30s"),
        (5400, "1h30m"),
        (86400, "1d"),
        (129600, "1d12h"),
        (90061, "1d1h1m1s"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00"),
        (5400, "01:30:00"),
        (86399, "23:59:59"),
        (86400, "1-00:00:00"),
        (4 * 86400, "4-00:00:00"),
        (36 * 3600 + 5, "1-12:00:05"),
    ],
)
def test_format_time_is_slurm_time(seconds: int, text: str) -> None:
    assert format_time(seconds) == text
    assert parse_slurm_time(text) == seconds
    assert parse_duration(text) == seconds


def test_format_time_refuses_negative() -> None:
    with pytest.raises(InvalidValue):
        format_time(-1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("UNLIMITED", None),
        ("infinite", None),
        ("30", 1800),
        ("30:15", 1815),
        ("2:00:00", 7200),
        ("1-00", 86400),
        ("1-02:03", 93780),
        ("1-02:03:04", 93784),
    ],
)
def test_parse_slurm_time(text: str, seconds: int | None) -> None:
    assert parse_slurm_time(text) == seconds


@pytest.mark.parametrize(
    ("value", "text"),
    [(400 * 10**6, "382M"), (2**20, "1M"), (2**20 + 1, "2M"), (0, "0M"), (4 * 2**30, "4096M")],
)
def test_format_mem_mib_rounds_up(value: int, text: str) -> None:
    assert format_mem_mib(value) == text
    assert int(text[:-1]) * 2**20 >= value


@pytest.mark.parametrize(
    ("value", "text"),
    [(40 * 2**30, "40GiB"), (33_600_000_000, "33.6G"), (1500, "1.5K"), (12, "12B")],
)
def test_human_memory(value: int, text: str) -> None:
    assert human_memory(value) == text


# ---- properties ------------------------------------------------------------------------------

numbers = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@given(numbers, numbers, st.sampled_from(sorted(MEMORY_UNITS)))
@settings(deadline=None)
def test_memory_is_monotone_in_the_number(a: object, b: object, unit: str) -> None:
    low, high = sorted([Fraction(str(a)), Fraction(str(b))])
    low_text, high_text = f"{float(low):.3f}", f"{float(high):.3f}"
    try:
        high_bytes = parse_memory(high_text + unit)
    except InvalidValue:
        return  # over the limit
    assert parse_memory(low_text + unit) <= high_bytes


@given(
    st.integers(min_value=0, max_value=10**5),
    st.sampled_from(sorted(MEMORY_UNITS)),
    st.sampled_from(sorted(MEMORY_UNITS)),
)
@settings(deadline=None)
def test_memory_is_monotone_in_the_unit(number: int, unit_a: str, unit_b: str) -> None:
    small, large = sorted([unit_a, unit_b], key=memory_factor)
    try:
        large_bytes = parse_memory(f"{number}{large}")
    except InvalidValue:
        return  # over the limit
    assert parse_memory(f"{number}{small}") <= large_bytes


@given(
    st.integers(min_value=0, max_value=10**5),
    st.integers(min_value=0, max_value=10**5),
    st.sampled_from(sorted(DURATION_UNITS)),
)
@settings(deadline=None)
def test_duration_is_monotone(a: int, b: int, unit: str) -> None:
    low, high = sorted([a, b])
    try:
        high_seconds = parse_duration(f"{high}{unit}")
    except InvalidValue:
        return  # over ten years
    assert parse_duration(f"{low}{unit}") <= high_seconds


@given(st.integers(min_value=0, max_value=MAX_BYTES))
@settings(deadline=None)
def test_format_memory_round_trips(value: int) -> None:
    assert parse_memory(format_memory(value)) == value


@given(st.integers(min_value=0, max_value=MAX_SECONDS))
@settings(deadline=None)
def test_format_duration_and_time_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
    assert parse_slurm_time(format_time(seconds)) == seconds


@given(st.integers(min_value=0, max_value=MAX_BYTES))
@settings(deadline=None)
def test_mem_mib_never_asks_less(value: int) -> None:
    mib = int(format_mem_mib(value)[:-1])
    assert mib * 2**20 >= value > (mib - 1) * 2**20 or value == mib == 0


ZEROS = "0" * 5000  # more than the 4,300 digits Python's int() reads
LONG_NUMBERS = [
    # written with many digits, worth little: the exact value, rounded up as any fraction
    ("0." + "0" * 50 + "1G", parse_memory, 1),
    ("0." + ZEROS + "1B", parse_memory, 1),
    (ZEROS + "4G", parse_memory, 4 * 10**9),
    ("4." + ZEROS + "G", parse_memory, 4 * 10**9),
    ("0.5" + ZEROS + "1KiB", parse_memory, 513),
    ("1" + "0" * 18 + "." + ZEROS + "B", parse_memory, 10**18),
    ("0." + "0" * 50 + "1h", parse_duration, 1),
    (ZEROS + "4h", parse_duration, 4 * 3600),
    ("1h" + ZEROS + "30m", parse_duration, 5400),
    ("0.5" + ZEROS + "h", parse_duration, 1800),
    (ZEROS + "1-00:00:00", parse_duration, 86400),
    ("0" * 50 + "1:00:" + "0" * 50, parse_duration, 3600),
]


@pytest.mark.parametrize(
    ("text", "parse", "expected"), LONG_NUMBERS, ids=[f"{t[:6]}-{len(t)}" for t, *_ in LONG_NUMBERS]
)
def test_long_numbers_are_read_exactly(
    text: str, parse: Callable[[str], int], expected: int
) -> None:
    """Zeros in front or behind change nothing (issue 24 §14: ``0.000…1G`` was "over 10^18
    bytes", and over 4,300 digits was a ValueError)."""
    assert parse(text) == expected


LONG_NUMBER_ERRORS = [
    ("9" * 5000 + "G", parse_memory, "is over 10^18 bytes"),
    ("1" + "0" * 18 + ".1B", parse_memory, "is over 10^18 bytes"),
    ("0" * 50 + "12:30", parse_duration, "is ambiguous (Slurm reads MM:SS, people mean HH:MM)"),
    ("1" * 50 + "-00", parse_duration, "is over 10 years"),
    ("1h" + "9" * 5000 + "m", parse_duration, "is over 10 years"),
]


@pytest.mark.parametrize(
    ("text", "parse", "message"),
    LONG_NUMBER_ERRORS,
    ids=[f"{t[:6]}-{len(t)}" for t, *_ in LONG_NUMBER_ERRORS],
)
def test_long_numbers_over_the_limits(
    text: str, parse: Callable[[str], int], message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse(text)
    assert caught.value.message.endswith(message)
