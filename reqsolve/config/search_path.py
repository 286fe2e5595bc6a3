"""Which launcher file applies: the one named, ``$REQSOLVE_CONFIG``, then the user's own.

``~/.config/experimaestro/launchers.yaml`` comes last so that experimaestro users switch to
reqsolve without moving their file; ``$XDG_CONFIG_HOME`` replaces ``~/.config`` when set.
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
        if candidate.is_file():
            return candidate
    return None
