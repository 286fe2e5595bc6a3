"""``reqsolve validate FILE...``: every problem of launcher files, for people, editors and CI.

Exit status: 0 clean, 1 problems (errors; warnings too with ``--strict``), 2 usage error (a file
that does not exist or is not a regular file, bad options). A file that cannot be read is also
one problem in the JSON and GitHub outputs, named for what it is (no such file, a directory, a
character device such as /dev/null, a FIFO): a CI step reading stdout never sees ``[]`` then.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import TextIO

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="launcher files to check")
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json (a list of problems) or github (workflow annotations)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings too, not only on errors"
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load the loader
    from reqsolve.config.loader import check_config
    from reqsolve.config.report import format_github, format_json, format_text, summary
    from reqsolve.errors import Problem

    problems: list[Problem] = []
    missing = False
    for name in args.files:
        path = Path(name)
        unreadable = not_a_file(path)
        if unreadable is not None:
            message, hint = unreadable
            print(f"reqsolve validate: {name}: {message} ({hint})", file=stderr)
            problems.append(Problem(name, 0, 0, "", "error", message, hint))
            missing = True
            continue
        if path.suffix == ".py":  # pyconfig hook: import it, call it on a few requirements
            # pyconfig only for a launchers.py among the files
            from reqsolve.pyconfig import check_python_file

            problems.extend(check_python_file(path))
            continue
        _model, found = check_config(path)
        problems.extend(found)
    if args.format == "json":
        print(format_json(problems), file=stdout)
    elif args.format == "github":
        for problem in problems:
            print(format_github(problem), file=stdout)
    else:
        sources: dict[str, list[str] | None] = {}
        for problem in problems:
            if problem.line == 0:
                continue  # not a file: said on stderr
            if problem.file not in sources:
                sources[problem.file] = _source_lines(problem.file)
            print(format_text(problem, sources[problem.file]), file=stdout)
        if problems:
            print(summary(problems), file=stdout)
    if missing:
        return EXIT_USAGE
    errors = any(p.severity == "error" for p in problems)
    if errors or (args.strict and problems):
        return EXIT_PROBLEM
    return EXIT_OK


def not_a_file(path: Path) -> tuple[str, str] | None:
    """(what the path is, what to do) when it is not a launcher file that can be read."""

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file", "check the path"
    except NotADirectoryError:
        return "no such file (a part of the path is not a directory)", "check the path"
    except PermissionError:
        return "permission denied", "make the file readable"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}", "check the path"
    if stat.S_ISDIR(mode):
        return "is a directory, not a launcher file", f"name the file: {path / 'launchers.yaml'}"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "character" if stat.S_ISCHR(mode) else "block"
        return f"is a {kind} device, not a launcher file", "name a launcher file (.yaml or .py)"
    if stat.S_ISFIFO(mode):
        return (
            "is a FIFO (named pipe), not a launcher file",
            "write the content to a file first: a FIFO can be read only once",
        )
    if stat.S_ISSOCK(mode):
        return "is a socket, not a launcher file", "name a launcher file (.yaml or .py)"
    if not stat.S_ISREG(mode):
        return "is not a regular file", "name a launcher file (.yaml or .py)"
    if not os.access(path, os.R_OK):
        return "permission denied", "make the file readable"
    return None


def _source_lines(file: str) -> list[str] | None:
    try:
        return Path(file).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
