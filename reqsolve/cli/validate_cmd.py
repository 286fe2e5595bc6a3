"""``reqsolve validate [PATH...]``: every problem of launcher files, for people, editors and CI.

A PATH is a launcher file (``.yaml``/``.yml``), a ``launchers.py``, a ``tokens.yaml`` or
``connectors.yaml`` (checked alone and with the launcher files beside it), or a configuration
directory (its ``launchers.py`` and ``launchers.yaml``, as ``find --config DIR``
reads them); with none, the configuration ``find`` would use (the same search path). Text
output ends with one line per file that has no error, saying what was checked.

Exit status: 0 clean, 1 problems (errors; warnings too with ``--strict``), 2 usage error (a file
that does not exist or is not a regular file, bad options). A file that cannot be read is also
one problem in the JSON and GitHub outputs, named for what it is (no such file, a directory, a
character device such as /dev/null, a FIFO): a CI step reading stdout never sees ``[]`` then.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.config.model import LauncherFile
    from reqsolve.errors import Problem

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
SIDE_FILES = ("tokens.yaml", "connectors.yaml")  # the names the loader reads beside a file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="PATH",
        help="launcher files (.yaml, launchers.py, tokens.yaml, connectors.yaml) or"
        " configuration directories"
        " (default: the configuration find uses)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json (a list of problems) or github (workflow annotations)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings too, not only on errors"
    )


@dataclass
class _Checked:
    """One file checked: its problems and, when it loaded, what it holds (for the ok line)."""

    name: str
    problems: list[Problem] = field(default_factory=list)
    description: str | None = None


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load the loader
    from reqsolve.config.report import format_github, format_json, format_text, summary
    from reqsolve.config.trust import not_a_file
    from reqsolve.errors import ConfigError, Problem

    names: list[str] = list(args.files)
    checked: list[_Checked] = []
    if not names:
        try:
            names = _discovered(stdout if args.format == "text" else stderr)
        except ConfigError as exc:  # a broken file of the search path, or one others can write
            checked.append(_Checked(exc.problems[0].file, list(exc.problems)))
    missing = False
    said: set[int] = set()  # problems already said on stderr (not a file)
    seen: set[str] = set()
    queue = list(names)
    while queue:
        name = queue.pop(0)
        if os.path.isdir(name):
            refused, inside = _directory(name)
            if refused is not None:
                checked.append(refused)
            queue[:0] = inside
            if refused is not None or inside:
                continue
        unreadable = not_a_file(name) if not os.path.isdir(name) else _empty_directory()
        if unreadable is not None:
            message, hint = unreadable
            print(f"reqsolve validate: {name}: {message} ({hint})", file=stderr)
            problem = Problem(name, 0, 0, "", "error", message, hint)
            said.add(id(problem))
            checked.append(_Checked(name, [problem]))
            missing = True
            continue
        if not _first(name, seen):
            continue  # named twice (a directory and its file): checked once
        one, beside = _check(name)
        checked.append(one)
        queue[:0] = beside
    problems = _unique([p for one in checked for p in one.problems])
    if args.format == "json":
        print(format_json(problems), file=stdout)
    elif args.format == "github":
        for problem in problems:
            print(format_github(problem), file=stdout)
    else:
        sources: dict[str, list[str] | None] = {}
        for problem in problems:
            if id(problem) in said:
                continue  # not a file: said on stderr
            if problem.file not in sources:
                sources[problem.file] = _source_lines(problem.file) if problem.line else None
            print(format_text(problem, sources[problem.file]), file=stdout)
        for line in filter(None, (_ok_line(one, args.strict) for one in checked)):
            print(line, file=stdout)
        if problems:
            print(summary(problems), file=stdout)
    if missing:
        return EXIT_USAGE
    errors = any(p.severity == "error" for p in problems)
    if errors or (args.strict and problems):
        return EXIT_PROBLEM
    return EXIT_OK


def _first(path: str, seen: set[str]) -> bool:
    """Whether ``path`` is seen for the first time (by the file it names)."""
    key = os.path.realpath(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def _ok_line(one: _Checked, strict: bool) -> str | None:
    """``FILE: ok — what it holds, N warnings`` for a file without errors (nor warnings with
    ``--strict``); None otherwise."""
    if one.description is None or any(p.severity == "error" for p in one.problems):
        return None
    warnings = sum(1 for p in one.problems if p.severity == "warning")
    if strict and warnings:
        return None
    return f"{one.name}: ok \u2014 {one.description}, {_count(warnings, 'warning')}"


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _discovered(out: TextIO) -> list[str]:
    """The configuration ``find`` would use; none (and why) when it would describe this machine."""
    # imported only when no path is given: the search path of find
    from reqsolve.config.search_path import candidate_files
    from reqsolve.pyconfig import discover_configuration

    found = discover_configuration()
    if found is None:
        looked = ", ".join(str(path) for path in candidate_files())
        print(
            f"reqsolve validate: no launcher file found (looked at {looked}): find describes"
            " this machine; name a file or a directory to check one",
            file=out,
        )
        return []
    return [str(found)]


def _directory(name: str) -> tuple[_Checked | None, list[str]]:
    """A configuration directory as ``find --config DIR`` reads it: refused when others could
    write it, else its launchers.py and launchers.yaml present (the tokens.yaml beside them is
    checked with them)."""
    # imported only for a directory: the names find looks for, and the directory's trust
    from reqsolve.config.trust import untrusted
    from reqsolve.pyconfig import PYTHON_FILE, YAML_FILE

    reason = untrusted(name)
    if reason is not None:
        # the refusal find would give (imported only when a directory is refused)
        from reqsolve.config.trust import refusal

        return _Checked(name, list(refusal(name, reason).problems)), []
    inside = [os.path.join(name, file) for file in (PYTHON_FILE, YAML_FILE)]
    return None, [path for path in inside if os.path.lexists(path)]


def _empty_directory() -> tuple[str, str]:
    """What a directory holding no launcher file is (a usage error, as a path that is not a
    file: find --config refuses it too)."""
    # the names find looks for in a directory
    from reqsolve.pyconfig import PYTHON_FILE, YAML_FILE

    return (
        f"directory holds neither {PYTHON_FILE} nor {YAML_FILE}",
        "name a launcher file, or a directory holding one",
    )


def _check(name: str) -> tuple[_Checked, list[str]]:
    """One file's problems and what it holds; the files it brings along (the launchers.yaml
    beside reqsolve's experimaestro adapter, which that one-line launchers.py stands for)."""
    path = Path(name)
    if path.suffix == ".py":  # pyconfig hook: import it, call it on a few requirements
        # pyconfig only for a launchers.py among the files
        from reqsolve.pyconfig.validate import examine_python_file

        report = examine_python_file(path)
        described = report.description() if report.asked else None
        beside = path.parent / "launchers.yaml"
        brings = [str(beside)] if report.adapter and beside.is_file() else []
        return _Checked(name, report.problems, described), brings
    if path.name in SIDE_FILES:
        # checked alone, and with the launcher files beside it, which read it
        readers = [path.parent / file for file in ("launchers.py", "launchers.yaml")]
        return _side(name), [str(file) for file in readers if file.is_file()]
    # the loader, for a launcher file
    from reqsolve.config.loader import check_config

    model, found = check_config(path)
    return _Checked(name, found, _holds(model) if model is not None else None), []


def _side(name: str) -> _Checked:
    """A tokens.yaml or connectors.yaml alone (as pre-commit passes it), read as the loader
    reads it beside a launcher file."""
    # the loader's reader of files beside a launcher file, and what they build
    from reqsolve.config.build import build_connectors, build_counters
    from reqsolve.config.loader import _side_file
    from reqsolve.config.spec import CONNECTORS, TOKENS_FILE

    path = Path(name)
    tokens = path.name.startswith("tokens.")
    problems: list[Problem] = []
    data = _side_file(path, path.name, TOKENS_FILE if tokens else CONNECTORS, problems)
    if any(p.severity == "error" for p in problems):
        return _Checked(name, problems)
    if tokens:
        return _Checked(name, problems, _count(len(build_counters(data)), "token counter"))
    return _Checked(name, problems, _count(len(build_connectors(data)), "ssh connector"))


def _holds(model: LauncherFile) -> str:
    """What a launcher file holds, in a few words: ``3 launchers (1 local, 2 Slurm)``."""
    local = sum(1 for launcher in model.launchers if launcher.type == "local")
    slurm = len(model.launchers) - local
    disabled = sum(1 for launcher in model.launchers if launcher.disabled)
    parts = [f"{local} local", f"{slurm} Slurm"] + ([f"{disabled} disabled"] if disabled else [])
    text = f"{_count(len(model.launchers), 'launcher')} ({', '.join(parts)})"
    if model.token_counters:
        text += f", {_count(len(model.token_counters), 'token counter')}"
    if model.connectors:
        text += f", {_count(len(model.connectors), 'ssh connector')}"
    return text


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (a tokens.yaml named and read beside its launcher file)."""
    seen: set[tuple[str, int, int, str]] = set()
    kept = []
    for problem in problems:
        key = (os.path.realpath(problem.file), problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _source_lines(file: str) -> list[str] | None:
    try:
        return Path(file).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
