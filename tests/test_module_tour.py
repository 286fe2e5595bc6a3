"""docs/matching.md's module tour names only modules that exist: a map that points at a file
which moved away is wrong. (That it names every module is no longer checked, issue 23 §4: a
new module is added to the tour by its author, not by a test.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOUR = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8")


def test_every_module_in_the_tour_exists() -> None:
    named = re.findall(r"`(reqsolve/[\w/]+(?:\.py|/))`", TOUR)
    assert named
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing
