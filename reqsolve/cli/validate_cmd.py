"""``reqsolve validate FILE...``: every problem of launcher files, for people, editors and CI.

Exit status: 0 clean, 1 problems (errors; warnings too with ``--strict``), 2 usage error (a file
that does not exist, bad options).
"""

from __future__ import annotations

import argparse
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
    from reqsolve.config.loader import check_config
    from reqsolve.config.report import format_github, format_json, format_text, summary
    from reqsolve.errors import Problem

    problems: list[Problem] = []
    missing = False
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"reqsolve validate: {name}: no such file", file=stderr)
            missing = True
            continue
        if path.suffix == ".py":  # pyconfig hook: import it, call it on a few requirements
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


def _source_lines(file: str) -> list[str] | None:
    try:
        return Path(file).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
