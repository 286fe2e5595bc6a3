"""docs/matching.md's module tour is the map a newcomer reads first: it names every module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOUR = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8")
MODULES = sorted(
    path.relative_to(ROOT).as_posix()
    for path in (ROOT / "reqsolve").rglob("*.py")
    if path.name != "__init__.py"
)


def _named(module: str) -> bool:
    """Named by its path, or by its package's row naming it (`reqsolve/cli/` ... `find_cmd`)."""
    if f"`{module}`" in TOUR:
        return True
    package, _, name = module.rpartition("/")
    rows = [line for line in TOUR.splitlines() if f"`{package}/`" in line]
    return any(re.search(rf"`{re.escape(Path(name).stem)}`", row) for row in rows)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_in_the_tour(module: str) -> None:
    assert _named(module), f"docs/matching.md's module tour does not name {module}"


def test_every_module_in_the_tour_exists() -> None:
    named = re.findall(r"`(reqsolve/[\w/]+(?:\.py|/))`", TOUR)
    assert named
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing
