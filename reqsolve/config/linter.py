"""Where the whole-file rules put what they find: :class:`Linter` places each problem at its
YAML path's line and column (or the closest written ancestor's). Shared by the rules of
:mod:`reqsolve.config.lint` and :mod:`reqsolve.config.lint_slurm`."""

from __future__ import annotations

from collections.abc import Mapping

from reqsolve.config.model import written_position
from reqsolve.errors import Problem


class Linter:
    """Problems of one file, each placed at the line and column of its YAML path."""

    def __init__(self, file: str, positions: Mapping[str, tuple[int, int]]) -> None:
        self.file = file
        self.positions = positions
        self.problems: list[Problem] = []

    def at(self, path: str) -> tuple[int, int]:
        return written_position(self.positions, path) or (1, 1)

    def report(self, severity: str, path: str, message: str, hint: str | None = None) -> None:
        line, column = self.at(path)
        self.problems.append(Problem(self.file, line, column, path, severity, message, hint))

    def top(self) -> str:
        """The first top-level key written: where file-wide findings point."""
        written = [key for key in ("local", "slurm", "connectors") if key in self.positions]
        return min(written, key=lambda key: self.positions[key], default="")

    def warn(self, path: str, message: str, hint: str | None = None) -> None:
        self.report("warning", path, message, hint)

    def error(self, path: str, message: str, hint: str | None = None) -> None:
        self.report("error", path, message, hint)
