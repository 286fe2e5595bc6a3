"""Names of a package resolved on first use (PEP 562), so importing it stays cheap; and the one
lock under which whatever is built or imported on first use is built, so that threads asking
at once from a fresh process do not race on it (docs/api.md, "Threads")."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

FIRST_USE = threading.RLock()
"""Held while a lazily imported library (lark, PyYAML, pint, a ``launchers.py``) is imported or
a one-time value built from it: two threads importing a library whose modules import each other
would otherwise meet Python's import ``_DeadlockError``, or one would use the other's
half-imported module. Re-entrant: a build may need another (the parser needs the unit tables)."""


def once(build: Callable[[], T]) -> Callable[[], T]:
    """``build()``, called once, under :data:`FIRST_USE`; later calls return its value without
    taking the lock (a :func:`functools.cache` for a function of no argument that threads may
    call first at the same time)."""
    done: list[T] = []

    def get() -> T:
        if done:
            return done[0]
        with FIRST_USE:
            if not done:
                done.append(build())
        return done[0]

    get.__doc__ = build.__doc__
    get.__name__ = build.__name__
    get.__qualname__ = build.__qualname__
    get.__wrapped__ = build  # type: ignore[attr-defined]
    return get


def lazy_attributes(
    package: str, table: dict[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``table[name]`` when ``name`` is first read.

    The value is stored in ``namespace`` (the package's globals), so later reads are plain
    attribute lookups.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
