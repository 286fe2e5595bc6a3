"""``reqsolve convert --to python``: a launcher file as an equivalent ``launchers.py``."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields, is_dataclass, replace
from pathlib import Path

from reqsolve.config.model import (
    LauncherFile,
)
from reqsolve.units import format_duration, format_memory

# --- reqsolve convert launchers.yaml --to python

# Fields written with their unit, so that the generated file reads like the YAML it came from
_SIZE_FIELDS = frozenset({"memory", "min_memory", "mem_per_cpu"})
_DURATION_FIELDS = frozenset({"max_duration"})
_WIDTH = 99


def _value_source(name: str | None, value: object, indent: int) -> str:
    """Python source of a configuration value: dataclasses with their non-default fields."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if name in _SIZE_FIELDS:
            return f'parse_memory("{format_memory(value)}")'
        if name in _DURATION_FIELDS:
            return f'parse_duration("{format_duration(value)}")'
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else f'float("{value}")'
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, tuple):
        items = [_value_source(None, item, indent + 4) for item in value]
        return _call("", items, indent, tuple_=True)
    if is_dataclass(value) and not isinstance(value, type):
        arguments = []
        for spec in fields(value):
            if not spec.init or not spec.compare or spec.name == "kind":
                continue
            current = getattr(value, spec.name)
            if spec.default is not MISSING and current == spec.default:
                continue
            if spec.default_factory is not MISSING and current == spec.default_factory():
                continue
            arguments.append(f"{spec.name}={_value_source(spec.name, current, indent + 4)}")
        return _call(type(value).__name__, arguments, indent)
    raise TypeError(f"cannot write {type(value).__name__} values as Python")  # pragma: no cover


def _string(text: str) -> str:
    """A double-quoted literal; raw when that spares backslashes (regexes)."""
    if "\\" in text and text.isprintable() and '"' not in text and not text.endswith("\\"):
        return f'r"{text}"'
    return json.dumps(text)


def _call(head: str, items: list[str], indent: int, *, tuple_: bool = False) -> str:
    """``Head(a, b)`` on one line when it fits, else one item per line."""
    joined = ", ".join(items)
    one_line = f"({joined},)" if tuple_ and len(items) == 1 else f"{head}({joined})"
    if not items or (len(one_line) + indent <= _WIDTH and "\n" not in one_line):
        return one_line
    inner = " " * (indent + 4)
    body = "".join(f"{inner}{item},\n" for item in items)
    return f"{head}(\n{body}{' ' * indent})"


def python_source(launcher_file: LauncherFile, *, origin: str | None = None) -> str:
    """A ``launchers.py`` equivalent to a launcher file: its launchers as Python values, the
    solving left to reqsolve (:func:`solve`). Edit ``find_launcher`` to decide in code."""
    origin = origin or launcher_file.path
    names = sorted(_class_names(launcher_file))
    value = _value_source(None, _without_path(launcher_file, origin), 0)
    header = f'''"""Launchers of {Path(origin).name}, converted by ``reqsolve convert --to python``.

``find_launcher`` is asked by reqsolve with one alternative of the requirement at a time, in
written order; return a launcher, or None to let the next alternative (then the YAML launchers
of the same directory, if any) be tried. The launchers below are those of the YAML file, and
``solve`` is reqsolve's own solver: add your rules before or after it.
"""

from __future__ import annotations

from collections.abc import Set

from reqsolve.config.model import (
{"".join(f"    {name},{chr(10)}" for name in names)})
from reqsolve.launchers import Launcher
from reqsolve.pyconfig import solve
from reqsolve.requirement import Requirement
from reqsolve.units import parse_duration, parse_memory

'''
    body = f'''LAUNCHERS = {value}


def find_launcher(requirements: Requirement, tags: Set[str] = frozenset()) -> Launcher | None:
    return solve(LAUNCHERS, requirements, tags)
'''
    return header + body


def _without_path(launcher_file: LauncherFile, origin: str) -> LauncherFile:
    return replace(launcher_file, path=str(origin))


def _class_names(value: object) -> set[str]:
    found: set[str] = set()
    if isinstance(value, tuple):
        for item in value:
            found |= _class_names(item)
    elif is_dataclass(value) and not isinstance(value, type):
        found.add(type(value).__name__)
        for spec in fields(value):
            if spec.compare:
                found |= _class_names(getattr(value, spec.name))
    return found
