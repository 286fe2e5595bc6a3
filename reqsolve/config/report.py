"""Problems as people and machines read them: text with the source line, JSON, GitHub annotations.

Text follows compilers (``file:line:col: error: path: message``) so editors and terminals link
the position; the source line and a caret under the value follow, then the hint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from reqsolve.errors import Problem

_STOPS_IN_FLOW = ",]}"


def _token_width(line: str, start: int) -> int:
    """Characters of the key or value starting at ``start`` (0-based) in a YAML line."""
    if start >= len(line):
        return 1
    quote = line[start]
    if quote in " \t[{" or (quote == "-" and line[start + 1 : start + 2] in ("", " ")):
        return 1
    if quote in "'\"":
        end = line.find(quote, start + 1)
        return (end - start + 1) if end != -1 else len(line) - start
    in_flow = any(c in "[{" for c in line[:start])
    end = start
    while end < len(line):
        char = line[end]
        if in_flow and char in _STOPS_IN_FLOW:
            break
        if char == "#" and end > start and line[end - 1] == " ":
            break
        if char == ":" and (end + 1 == len(line) or line[end + 1] == " "):
            break
        end += 1
    return max(len(line[start:end].rstrip()), 1)


def format_text(problem: Problem, source_lines: list[str] | None) -> str:
    if problem.line:
        where = f"{problem.file}:{problem.line}:{problem.column}: {problem.severity}: "
    else:  # the file as a whole (refused, not a file): no line to point at
        where = f"{problem.file}: {problem.severity}: "
    what = f"{problem.path}: {problem.message}" if problem.path else problem.message
    parts = [where + what]
    if source_lines is not None and 0 < problem.line <= len(source_lines):
        line = source_lines[problem.line - 1].rstrip("\r\n")
        start = min(problem.column - 1, len(line))
        width = _token_width(line, start)
        pad = "".join("\t" if c == "\t" else " " for c in line[:start])
        parts.append(f"    {line}")
        parts.append(f"    {pad}^{'~' * (width - 1)}")
    if problem.hint:
        parts.append(f"    hint: {problem.hint}")
    return "\n".join(parts)


def summary(problems: Iterable[Problem]) -> str:
    problems = list(problems)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors

    def plural(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def format_json(problems: Iterable[Problem]) -> str:
    return json.dumps([p.as_json() for p in problems], indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(problem: Problem) -> str:
    """A GitHub Actions workflow command that annotates the line in the pull request."""
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    if problem.hint:
        message += f" (hint: {problem.hint})"
    where = f"file={_escape_property(problem.file)}"
    if problem.line:  # 0: the file itself (not a file, unreadable), no line to point at
        where += f",line={problem.line},col={problem.column}"
    return f"::{problem.severity} {where}::{_escape_data(message)}"
