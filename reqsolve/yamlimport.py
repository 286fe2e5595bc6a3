"""PyYAML, imported without compiling the regexes its modules compile as they load.

PyYAML's modules compile ten regexes at import: the pure-Python reader's class of printable
characters (a large Unicode class, ~10 ms alone), the resolver's implicit types and the
constructor's timestamp. That is half of ``import yaml`` and ~7 % of a cold ``reqsolve find``,
yet the loader reads libyaml's parser events and needs none of them (the reader's class only
when libyaml is missing). Here they are compiled the first time they are used: while
``import yaml`` runs, ``re.compile`` called from a ``yaml`` module returns a
:class:`DeferredPattern`; any other caller (another thread included) gets a compiled pattern as
usual. Nothing changes when PyYAML was imported before.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_compile = re.compile


class DeferredPattern:
    """A regex compiled the first time one of its attributes (``match``, ``search``, ...) is
    read; each attribute read is then kept on the instance, so later reads are plain lookups."""

    def __init__(self, pattern: Any, flags: int = 0) -> None:
        self.source: tuple[Any, int] = (pattern, flags)
        self.compiled: re.Pattern[Any] | None = None

    def __getattr__(self, name: str) -> Any:  # called only for attributes not set yet
        if name.startswith("__") or name in ("source", "compiled"):
            raise AttributeError(name)  # copy/pickle probing: not a pattern attribute
        compiled = self.compiled
        if compiled is None:
            compiled = self.compiled = _compile(*self.source)
        value = getattr(compiled, name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"DeferredPattern({self.source[0]!r})"


def _compile_deferring_yaml(pattern: Any, flags: int = 0) -> Any:
    caller = str(sys._getframe(1).f_globals.get("__name__", ""))
    if caller == "yaml" or caller.startswith("yaml."):
        return DeferredPattern(pattern, flags)
    return _compile(pattern, flags)


def _import_yaml() -> None:
    if "yaml" in sys.modules or re.compile is not _compile or not hasattr(sys, "_getframe"):
        return
    re.compile = _compile_deferring_yaml
    try:
        import yaml  # noqa: F401
    finally:
        re.compile = _compile


_import_yaml()

import yaml  # noqa: E402  (after _import_yaml, which imported it with deferred regexes)

__all__ = ["yaml"]
