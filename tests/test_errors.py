"""The one-line summary of a ConfigError: file:line:column, the YAML path when there is one."""

from __future__ import annotations

import pytest

from reqsolve.errors import ConfigError, Problem


@pytest.mark.parametrize(
    ("problems", "summary"),
    [
        pytest.param(
            [Problem("l.yaml", 3, 5, "slurm[0].id", "error", "id is missing")],
            "l.yaml:3:5: slurm[0].id: id is missing",
            id="with-path",
        ),
        pytest.param(
            [Problem("l.yaml", 1, 1, "", "error", "file is 10485760 bytes (at most 8 MiB)")],
            "l.yaml:1:1: file is 10485760 bytes (at most 8 MiB)",
            id="whole-file-no-path",
        ),
        pytest.param(
            [
                Problem("l.yaml", 1, 1, "a", "warning", "unused"),
                Problem("l.yaml", 2, 1, "b", "error", "bad"),
                Problem("l.yaml", 4, 1, "c", "error", "worse"),
            ],
            "l.yaml:2:1: b: bad (and 1 more)",
            id="errors-before-warnings",
        ),
        pytest.param([], "invalid launcher file", id="none"),
    ],
)
def test_summary(problems: list[Problem], summary: str) -> None:
    assert str(ConfigError(problems)) == summary
