"""Where the data files of ``grammars/`` are, from a wheel or from a checkout."""

from __future__ import annotations

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
