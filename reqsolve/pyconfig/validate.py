"""``reqsolve validate launchers.py``: import it, call it on representative requirements,
report every problem at its line (return lines recorded through ``sys.setprofile``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import FrameType

from reqsolve.config.model import (
    LauncherFile,
)
from reqsolve.errors import ConfigError, Problem
from reqsolve.launchers import LocalLauncher
from reqsolve.pyconfig.asking import PythonLaunchers, described
from reqsolve.pyconfig.usercode import ADAPTER_MODULE, first_column, is_adapter, line_in_file

# --- reqsolve validate launchers.py

# A few requirements of every kind a find_launcher should handle without crashing.
REPRESENTATIVE = (
    "cpu(cores=1)",
    "duration=2h & cpu(mem=4G, cores=4)",
    "duration=4 days & cpu(mem=400G, cores=64)",
    "cuda(mem=16G)",
    "duration=2 days & cuda(mem=24G)*2 & cpu(mem=64G, cores=8)",
    "duration=7 days & cuda(mem=80G)*8",
    "cuda(mem=40G, model=A100)*4",
)


@dataclass
class _Calls:
    """What a profile of one find_launcher call saw: its return lines, and whether it went
    through reqsolve's experimaestro adapter (a function of the user's calling ``Finder``)."""

    lines: list[int] = field(default_factory=list)
    adapter: bool = False


@contextmanager
def _profiled(code: object, calls: _Calls) -> Iterator[None]:
    """Record the line of each ``return`` executed by ``code`` (to locate a bad return value),
    and whether the adapter's module ran."""

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "return" and frame.f_code is code:
            calls.lines.append(frame.f_lineno)
        elif event == "call" and frame.f_globals.get("__name__") == ADAPTER_MODULE:
            calls.adapter = True

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


@dataclass(frozen=True)
class PythonReport:
    """``reqsolve validate`` on a launchers.py: its problems and what it did."""

    problems: list[Problem]
    answered: int = 0  # representative requirements that got a launcher
    asked: int = 0  # representative requirements asked (0: the file could not be loaded)
    adapter: bool = False  # reqsolve's experimaestro adapter, alone or called by the file

    def description(self) -> str:
        """What was checked, for the line ``validate`` prints for a file without errors."""
        if self.adapter and not self.answered:
            return (
                "reqsolve's experimaestro adapter: the launchers.yaml beside it answers"
                " reqsolve's own searches"
            )
        return (
            f"find_launcher gave a launcher for {self.answered} of {self.asked}"
            " representative requirements"
        )


def check_python_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Import a launchers.py and call it on representative requirements: every problem."""
    return examine_python_file(path).problems


def examine_python_file(path: str | os.PathLike[str]) -> PythonReport:
    """Import a launchers.py and call it on representative requirements: every problem, and
    how many requirements it answered.

    Exceptions and non-launcher return values are errors at their line; so are tokens taken
    from no counter of the ``tokens.yaml`` beside it (or more than a counter holds), and that
    file's own problems. A function that returns None for everything gets a warning (it would
    never be used), unless it is (or calls) reqsolve's experimaestro adapter, which returns
    None to reqsolve on purpose: the launchers.yaml beside it answers.
    """
    file = os.fspath(path)
    python = PythonLaunchers(file)
    try:
        function = python.function()
    except ConfigError as exc:
        return PythonReport(list(exc.problems))
    # imported once the launchers.py imported cleanly: a broken file is reported without them
    from reqsolve.config.tokens_file import TOKENS_FILE_NAME, read_counters
    from reqsolve.parser import parse

    token_file = os.path.isfile(os.path.join(os.path.dirname(file), TOKENS_FILE_NAME))
    counters: tuple[tuple[str, int], ...] | None = None
    try:
        counters = read_counters(file)
    except ConfigError as exc:
        broken_tokens = list(exc.problems)  # reported as the YAML loader reports them
    else:
        broken_tokens = []

    # the same mistake for several requirements is one problem: (line, message) -> problem, count
    found: dict[tuple[int, str], tuple[Problem, int]] = {}
    answered = 0
    adapter = is_adapter(function)
    code = getattr(function, "__code__", None)
    where = line_in_file(function, file)
    for text in REPRESENTATIVE:
        alternative = parse(text).alternatives[0]
        calls = _Calls()
        with _profiled(code, calls):
            asked = python.ask(0, alternative, (), offline=True)
        adapter = adapter or calls.adapter
        lines = calls.lines
        if asked.launcher is not None:
            answered += 1
        reported = list(asked.error.problems) if asked.error is not None else []
        if isinstance(asked.launcher, LocalLauncher) and counters is not None:
            line = lines[-1] if lines else where
            reported += [
                replace(problem, message=f"{problem.message} (requirement: {alternative})")
                for problem in token_problems(asked.launcher, counters, token_file, file, line)
            ]
        for problem in reported:
            if problem.message.startswith("find_launcher returned") and lines:
                problem = replace(problem, line=lines[-1], column=first_column(file, lines[-1]))
            # the same mistake asked with another requirement: its message less that suffix
            key = (problem.line, problem.message.removesuffix(f" (requirement: {alternative})"))
            first, count = found.get(key, (problem, 0))
            found[key] = (first, count + 1)
    problems = [
        problem
        if count == 1
        else replace(
            problem,
            message=problem.message.replace(
                " (requirement: ", f" (for {count} of {len(REPRESENTATIVE)} requirements, e.g. "
            ),
        )
        for problem, count in found.values()
    ]
    problems = broken_tokens + problems
    if not problems and not answered and not adapter:
        problems.append(
            Problem(
                file,
                where,
                first_column(file, where),
                "",
                "warning",
                f"find_launcher returned None for all {len(REPRESENTATIVE)} representative"
                " requirements (e.g. cpu(cores=1)): it never picks a launcher",
            )
        )
    return PythonReport(problems, answered, len(REPRESENTATIVE), adapter)


def token_problems(
    launcher: LocalLauncher,
    counters: tuple[tuple[str, int], ...],
    token_file: bool,
    file: str,
    line: int,
) -> list[Problem]:
    """The YAML file's token rules (undeclared token, more than the counter holds) applied to a
    launcher returned at ``line``: the launcher-file linter itself, on that one launcher."""
    # the launcher-file linter, only when a launcher returned by launchers.py takes tokens
    from reqsolve.config.lint import lint

    checked = LauncherFile(path=file, launchers=(described(launcher),), token_counters=counters)
    column = first_column(file, line)
    return [
        replace(problem, line=line, column=column, path="")
        for problem in lint(checked, {}, file=file, tokens_file=token_file)
        if ".tokens." in problem.path
    ]
