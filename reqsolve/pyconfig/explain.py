"""``reqsolve explain`` on a configuration whose ``launchers.py`` answers first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reqsolve.choosing import Answer
from reqsolve.pyconfig.asking import SOURCE, python_match
from reqsolve.pyconfig.directory import LauncherDirectory
from reqsolve.registry import Registry
from reqsolve.requirement import Requirement

# --- reqsolve explain


def explain_python(
    registry: Registry, requirement: Requirement, tags: Iterable[str] = (), *, offline: bool = False
) -> tuple[list[Any], Answer | None]:
    """Rows for what ``launchers.py`` said (one per alternative asked), and its answer."""
    if not isinstance(registry, LauncherDirectory) or registry.python is None:
        return [], None
    # imported when explain runs on a launchers.py: reqsolve.explain imports the solver
    from reqsolve.explain import Row

    if registry.python.defers():
        reason = (
            "reqsolve's experimaestro adapter: it leaves reqsolve's own search to the"
            " launchers.yaml beside it"
        )
        row = Row(0, SOURCE, "python", 0, None, None, None, None, None, "skipped", reason, "")
        return [row], None
    asked = registry.ask_python(requirement, tags, offline=offline)
    rows: list[Any] = []
    for item in asked:
        if item.launcher is not None:
            name = item.launcher.id or SOURCE
            reason = f"find_launcher returned {item.launcher.type} launcher {name}"
            verdict = "chosen"
        elif item.error is not None:
            reason, verdict = str(item.error), "fails"
        else:
            reason, verdict = "find_launcher returned None", "fails"
        rows.append(
            Row(item.index, SOURCE, "python", 0, None, None, None, None, None, verdict, reason, "")
        )
    if asked and asked[-1].launcher is not None:
        return rows, python_match(asked[-1], registry.python.path)
    return rows, None
