"""``solve()``: reqsolve's YAML solver on launchers declared in a ``launchers.py``."""

from __future__ import annotations

from collections.abc import Iterable

from reqsolve.config.model import (
    LauncherFile,
)
from reqsolve.errors import LauncherNotFoundError
from reqsolve.launchers import Launcher
from reqsolve.pyconfig.asking import _offline, _solver_trace
from reqsolve.registry import Spec, shared_registry

# --- for launchers.py files: the YAML solver on launchers declared in Python


def solve(
    launchers: LauncherFile, requirements: Spec, tags: Iterable[str] = ()
) -> Launcher | None:
    """The launcher reqsolve's solver picks among ``launchers`` (None when none fits).

    What a converted ``launchers.py`` calls (``reqsolve convert --to python``): the
    configuration is code, the solving stays reqsolve's. Compiled once per ``LauncherFile``.
    """
    registry = shared_registry(launchers)
    try:
        found = registry.find(requirements, tags=tags, offline=_offline.get())
    except LauncherNotFoundError as exc:
        trace = _solver_trace.get()
        if trace is not None:
            trace.calls += 1
            trace.reasons.extend(exc.reasons)
        return None
    launcher = registry.launcher_for(found)
    trace = _solver_trace.get()
    if trace is not None:  # its notes follow the launcher into the answer, if returned as is
        trace.answered.append((launcher, found.notes))
    return launcher
