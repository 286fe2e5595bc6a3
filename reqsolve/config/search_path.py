"""Which launcher file applies: the one named, ``$REQSOLVE_CONFIG``, then the user's own.

``~/.config/experimaestro/launchers.yaml`` comes last so that experimaestro users switch to
reqsolve without moving their file; ``$XDG_CONFIG_HOME`` replaces ``~/.config`` when set.
Something broken at one of these places (a dangling link, a directory) is an error, not a
reason to go on to the next place.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VARIABLE = "REQSOLVE_CONFIG"


def config_home() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg)
    return Path.home() / ".config"


def candidate_files(explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """The places looked at, in order (an explicit path or ``$REQSOLVE_CONFIG`` alone wins)."""
    if explicit is not None:
        return [Path(explicit).expanduser()]
    from_env = os.environ.get(ENV_VARIABLE)
    if from_env:
        return [Path(from_env).expanduser()]
    home = config_home()
    return [home / "reqsolve" / "launchers.yaml", home / "experimaestro" / "launchers.yaml"]


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The launcher file to use, or ``None`` when there is none (the embedded default applies).

    An explicit path or ``$REQSOLVE_CONFIG`` is returned even when it does not exist, so that
    loading it reports the mistake instead of silently falling back to this machine.
    """
    candidates = candidate_files(explicit)
    if explicit is not None or os.environ.get(ENV_VARIABLE):
        return candidates[0]
    for candidate in candidates:
        if present(candidate):
            return candidate
    return None


def present(candidate: Path) -> bool:
    """Whether a file of the search path is there: True for a regular file, False when nothing
    is there; :class:`~reqsolve.errors.ConfigError` naming the path when something broken is
    (a dangling link, a link loop, a directory, a FIFO...): falling back to this machine then
    would silently answer from the wrong configuration."""
    if candidate.is_file():
        return True
    parent = candidate.parent
    if os.path.lexists(candidate):
        broken = candidate
    elif os.path.lexists(parent) and not parent.is_dir():
        broken = parent
    else:
        return False
    # imported only when a file of the search path is broken
    from reqsolve.config.trust import not_a_file
    from reqsolve.errors import ConfigError, Problem

    wrong = not_a_file(broken)
    message, hint = wrong if wrong is not None else ("cannot be read", "check the path")
    if broken is parent:
        message = "is not a directory"
        hint = f"remove it or make it a directory holding {candidate.name}"
    else:
        hint = f"{hint}, or remove it to use the next place of the search path"
    file = str(broken)
    problem = Problem(file, 0, 0, "", "error", message, hint)
    raise ConfigError([problem], f"{file}: {message}\nhint: {hint}")
