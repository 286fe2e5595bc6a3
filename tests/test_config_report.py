"""Rendering of problems: the caret under the value, JSON, GitHub annotations."""

from __future__ import annotations

import pytest

from reqsolve.config.report import format_github, format_text, summary
from reqsolve.errors import Problem


def problem(line: int, column: int, *, path: str = "a.b", hint: str | None = None) -> Problem:
    return Problem("f.yaml", line, column, path, "error", "bad", hint)


@pytest.mark.parametrize(
    ("source", "column", "marker"),
    [
        pytest.param("    memory: 4 days", 13, "            ^~~~~~", id="value-with-space"),
        pytest.param("    memory: 4 days  # why", 13, "            ^~~~~~", id="before-comment"),
        pytest.param("  key: value", 3, "  ^~~", id="key"),
        pytest.param('  id: "a b"', 7, "      ^~~~~", id="quoted"),
        pytest.param("  hosts: [a, bb, c]", 14, "             ^~", id="flow-item"),
        pytest.param("  - cpu: {}", 3, "  ^", id="dash"),
        pytest.param("  nodes: [{hosts: []}]", 11, "          ^", id="flow-mapping"),
        pytest.param("short", 40, "     ^", id="past-the-end"),
    ],
)
def test_caret_under_the_token(source: str, column: int, marker: str) -> None:
    text = format_text(problem(1, column), [source])
    assert text.splitlines()[1:] == [f"    {source}", f"    {marker}"]


def test_without_source_or_past_the_last_line() -> None:
    assert format_text(problem(3, 1, hint="do this"), None) == (
        "f.yaml:3:1: error: a.b: bad\n    hint: do this"
    )
    assert format_text(problem(9, 1), ["one line"]) == "f.yaml:9:1: error: a.b: bad"


def test_whole_file_problem_has_no_path() -> None:
    assert format_text(problem(1, 1, path=""), None) == "f.yaml:1:1: error: bad"


def test_summary_counts() -> None:
    warning = Problem("f", 1, 1, "", "warning", "w")
    assert summary([problem(1, 1), warning, warning]) == "1 error, 2 warnings"
    assert summary([]) == "0 errors, 0 warnings"


def test_github_escapes() -> None:
    odd = Problem("a,b:c.yaml", 2, 3, "p", "warning", "50%\nnext", "h")
    assert (
        format_github(odd)
        == "::warning file=a%2Cb%3Ac.yaml,line=2,col=3::p: 50%25%0Anext (hint: h)"
    )
