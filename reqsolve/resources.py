"""Where the data files of ``grammars/`` are, from a wheel or from a checkout."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


@cache
def grammars_dir() -> Path:
    """The directory holding ``requirement.lark`` and ``units.txt``.

    An installed wheel carries them as ``reqsolve/grammars``; a source checkout has them at the
    top level beside the package.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "grammars", package.parent / "grammars"):
        if (candidate / "units.txt").is_file():
            return candidate
    raise FileNotFoundError(f"reqsolve data files not found next to {package}")


def resource_path(name: str) -> Path:
    return grammars_dir() / name


def user_cache_directory() -> Path | None:
    """``$XDG_CACHE_HOME/reqsolve`` (default ``~/.cache/reqsolve``), made if needed, where the
    tables derived from ``grammars/`` (parser, units) are kept; None when caching is off
    (``REQSOLVE_NO_CACHE``) or the directory cannot be written."""
    if os.environ.get("REQSOLVE_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "reqsolve"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(directory, os.W_OK | os.X_OK):
        return None
    return directory
