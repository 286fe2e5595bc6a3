"""3,000 answers as main gave them before the restructure of issue 23 (tests/answer_corpus.py)."""

from __future__ import annotations

import difflib

from tests.answer_corpus import CORPUS, lines


def test_every_answer_is_unchanged() -> None:
    expected = CORPUS.read_text(encoding="utf-8").splitlines()
    got = lines()
    diff = list(difflib.unified_diff(expected, got, "before", "now", n=0, lineterm=""))
    assert not diff, "\n".join(diff[:40])
