"""Bounded readers of the values inside Slurm's outputs: numbers, times, host lists, JSON.

Slurm's outputs (and the disk cache that keeps them) are read as untrusted text: a broken or
hostile ``scontrol`` could print ``Nodes=x[1-1000]y[1-1000]z[1-1000]`` (10⁹ names), a
4,301-digit number (Python refuses to read it with a bare ValueError) or JSON nested thousands
of levels deep (RecursionError). Each reader here bounds its work first and raises ValueError
with what it refused; :mod:`reqsolve.slurm.readers` turns that into a
:class:`~reqsolve.errors.SlurmQueryError`, so the discovery fails with the reason (docs/slurm.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reqsolve.units import parse_slurm_time

# The most host names one host list (a partition's Nodes=) may expand to, and all the host lists
# of one Slurm output together: a hostile or broken `x[1-1000]y[1-1000]` would otherwise take
# gigabytes. The largest clusters have tens of thousands of nodes (docs/slurm.md).
MAX_HOSTS = 100_000
MAX_HOSTS_PER_OUTPUT = 1_000_000
# Digits of a number Slurm prints (counts, MiB, minutes, range bounds): 10^18 is beyond any real
# value, and Python refuses to read integers of more than 4,300 digits with a bare ValueError.
MAX_DIGITS = 18


def whole(text: str, what: str) -> int:
    """A non-negative integer of ASCII digits, at most :data:`MAX_DIGITS` of them."""
    if len(text) <= MAX_DIGITS and text.isdigit() and text.isascii():
        return int(text)  # the usual case, first
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{what}: expected a number, got {text[:40]!r}")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise ValueError(f"{what}: a number of {len(text):,} digits is too large")
    return int(text)


def bounded(value: int, what: str) -> int:
    """An int from JSON, refused when it has more than :data:`MAX_DIGITS` digits."""
    if abs(value) >= 10**MAX_DIGITS:
        raise ValueError(f"{what}: a number of more than {MAX_DIGITS} digits is too large")
    return value


_SLURM_TIME_RE = re.compile(r"(?:\d{1,9}-)?\d{1,9}(?::\d{1,9}){0,2}")


def slurm_time(text: str, what: str) -> int | None:
    """A Slurm time limit in seconds (None = unlimited), refusing what Slurm never prints
    (negative, non-ASCII or absurdly long numbers)."""
    value = text.strip()
    if value.upper() in ("UNLIMITED", "INFINITE", "NONE", "(NULL)", ""):
        return None
    if not (value.isascii() and _SLURM_TIME_RE.fullmatch(value)):
        raise ValueError(f"{what}: unreadable time {value[:40]!r}")
    return parse_slurm_time(value)


@dataclass(frozen=True, slots=True)
class GpuGres:
    """One ``gpu`` item of a node's Gres: ``gpu:a100:8(S:0-1)`` -> model a100, count 8."""

    model: str | None
    count: int


def parse_gres(text: str) -> tuple[GpuGres, ...]:
    """GPU items of a Gres string, one per GRES type in order of first appearance.

    ``gpu:4`` (untyped), ``gpu:a100:4``, ``gpu:a100_1g.5gb:7`` (a MIG profile is a type),
    ``gpu:a6000:3(S:0-1),mps:100`` (socket suffix dropped, non-GPU GRES ignored),
    ``gpu:1080ti:8,gpu:titan_x:2`` (two types), ``gpu:a100:2(S:0),gpu:a100:2(S:1)`` (one type
    split over sockets: counted once, 4).
    """
    value = text.strip()
    if value in ("", "(null)", "N/A"):
        return ()
    counts: dict[str | None, int] = {}
    for raw in split_outside(value, "(", ")"):
        item = raw.split("(", 1)[0].strip()
        parts = item.split(":")
        if parts[0] != "gpu":
            continue
        if len(parts) == 2:
            model, count_text = None, parts[1]
        elif len(parts) == 3:
            model, count_text = parts[1] or None, parts[2]
        else:
            raise ValueError(f"unreadable gres item {raw!r}")
        if not (count_text.isdigit() and count_text.isascii()):
            raise ValueError(f"unreadable gres count in {raw[:80]!r}")
        count = int(count_text) if len(count_text) <= MAX_DIGITS else whole(
            count_text, f"gres count in {raw[:80]!r}"
        )
        counts[model] = counts.get(model, 0) + count
    return tuple(GpuGres(model, count) for model, count in counts.items())


_KEY_RE = re.compile(r"(?:(?<=\s)|^)([A-Z][A-Za-z0-9_]*)=")


def parse_key_values(text: str, record_key: str) -> list[dict[str, str]]:
    """``scontrol show`` text (multi-line or ``--oneliner``) to one dict per record.

    A record starts at ``record_key=`` at the beginning of a line; a value runs to the next
    ``Key=`` on its line, so values with spaces (``OS=Linux 6.1 #1 SMP``, ``Reason=fan
    failure [root@...]``) are kept whole.
    """
    records: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(record_key + "="):
            current = {}
            records.append(current)
        elif current is None:
            raise ValueError(f"text before the first {record_key}= record: {line.strip()[:80]!r}")
        keys = list(_KEY_RE.finditer(line))
        if not keys:
            raise ValueError(f"line without Key=Value: {line.strip()[:80]!r}")
        if line[: keys[0].start()].strip():
            raise ValueError(f"text before Key=Value: {line.strip()[:80]!r}")
        for index, match in enumerate(keys):
            end = keys[index + 1].start() if index + 1 < len(keys) else len(line)
            current[match.group(1)] = line[match.end() : end].strip()
    return records


def number(value: Any, what: str) -> int | None:
    """An int from text or from the ``{"set", "infinite", "number"}`` objects of newer JSON."""
    if isinstance(value, Mapping):
        if value.get("infinite") or value.get("set") is False:
            return None
        value = value.get("number")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return bounded(value, what)
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "N/A", "(null)", "UNLIMITED", "NONE"):
            return None
        if text.isdigit():
            return whole(text, what)
        if text.startswith("-") and text[1:].isdigit():
            return -whole(text[1:], what)
    raise ValueError(f"{what}: expected a number, got {str(value)[:40]!r}")


def _shown(expression: str) -> str:
    text = expression.strip()
    return repr(text if len(text) <= 80 else text[:77] + "...")


def hostlist_size(expression: str) -> int:
    """How many names :func:`expand_hostlist` would give, without building them (ValueError for
    a malformed list). Counting stops past :data:`MAX_HOSTS_PER_OUTPUT`."""
    text = expression.strip()
    if text in ("", "(null)"):
        return 0
    total = 0
    for item in split_outside(text, "[", "]", strict=f"host list {_shown(expression)}"):
        if not item:
            raise ValueError(f"empty item in host list {_shown(expression)}")
        count = 1
        for ranges in re.findall(r"\[([^\]]*)\]", item):
            count *= sum(high - low + 1 for low, high, _ in _ranges(ranges, item))
            if count > MAX_HOSTS_PER_OUTPUT:
                break
        total += count
        if total > MAX_HOSTS_PER_OUTPUT:
            break
    return total


def expand_hostlist(expression: str, limit: int = MAX_HOSTS) -> tuple[str, ...]:
    """Slurm hostlist expression to names: ``yip,a100-0[1-2],n[1,3-4]`` -> yip a100-01 ...

    Zero padding is kept as Slurm does (``[08-10]`` -> 08 09 10); several brackets in one name
    multiply (``r[1-2]n[1-2]``). A list naming more than ``limit`` hosts raises ValueError
    before any name is built.
    """
    size = hostlist_size(expression)
    if size > limit:
        over = size > MAX_HOSTS_PER_OUTPUT
        count = f"more than {MAX_HOSTS_PER_OUTPUT:,}" if over else f"{size:,}"
        raise ValueError(
            f"host list {_shown(expression)} names {count} hosts, more than reqsolve reads"
            f" ({limit:,}; docs/slurm.md)"
        )
    text = expression.strip()
    if text in ("", "(null)"):
        return ()
    names: list[str] = []
    for item in split_outside(text, "[", "]"):
        names.extend(_expand_one(item))
    return tuple(names)


def _ranges(ranges: str, item: str) -> list[tuple[int, int, int]]:
    """``1-3,7`` -> (1, 3, width 1), (7, 7, 1); ValueError for anything else."""
    found = []
    for part in ranges.split(","):
        low, _, high = part.partition("-") if "-" in part else (part, "", part)
        try:
            first, last = whole(low, "range"), whole(high, "range")
        except ValueError:
            raise ValueError(f"bad range {part[:40]!r} in host list item {item[:80]!r}") from None
        if last < first:
            raise ValueError(f"bad range {part[:40]!r} in host list item {item[:80]!r}")
        found.append((first, last, len(low)))
    return found


def split_outside(
    text: str, opening: str, closing: str, *, strict: str | None = None
) -> list[str]:
    """``text`` cut at the commas outside the brackets: ``a[1,2],b`` -> ``a[1,2]``, ``b``.

    Host lists must balance: with ``strict`` (what the text is, for the message) a stray bracket
    raises ValueError. Gres strings are read leniently, as they always were.
    """
    items: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth < 0 and strict is not None:
                raise ValueError(f"unbalanced {closing!r} in {strict}")
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    if depth != 0 and strict is not None:
        raise ValueError(f"unbalanced {opening!r} in {strict}")
    items.append(text[start:])
    return items


def _expand_one(item: str) -> list[str]:
    """One item's names, bracket by bracket from the left (no recursion: an item may have
    thousands of brackets of one value each)."""
    names = [""]
    rest = item
    while (open_at := rest.find("[")) >= 0:
        close_at = rest.index("]", open_at)
        values = [
            str(n).zfill(width)
            for low, high, width in _ranges(rest[open_at + 1 : close_at], item)
            for n in range(low, high + 1)
        ]
        prefix = rest[:open_at]
        names = [name + prefix + value for name in names for value in values]
        rest = rest[close_at + 1 :]
    return [name + rest for name in names]


def load_json(text: str) -> Any:
    """JSON text to Python values; ValueError when invalid, nested deeper than Python's parser
    recurses, or holding a number Python will not read (over 4,300 digits)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:  # a 4,301-digit number
        raise ValueError(f"unreadable JSON ({str(exc)[:100]})") from None
