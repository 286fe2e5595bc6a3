"""``reqsolve explain EXPR``: every launcher and candidate, its verdict and why, in numbers."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from reqsolve.answers.renderings import answer_json
from reqsolve.cli.find_cmd import (
    add_common,
    configuration_line,
    configuration_used,
    print_notes,
    python_warnings,
    split_tags,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", metavar="EXPR", help="requirement expression")
    add_common(parser)
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: aligned columns for people; json: the answer and every row (default table)",
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load the solver
    from reqsolve.explain import closest_reason, explain, render_table
    from reqsolve.finder import registry_for
    from reqsolve.registry import as_spec

    registry = registry_for(args.config, on_error=args.on_error)
    used = configuration_used(registry)
    print(configuration_line(used), file=stderr)
    print_notes(registry, stderr, args.offline)
    requirement = as_spec(args.expression)
    # pyconfig hook: a launchers.py is asked first; its answer stops the search
    from reqsolve.pyconfig import explain_python

    tags = split_tags(args.tags)
    with python_warnings(args.on_error, stderr):
        rows, match = explain_python(registry, requirement, tags, offline=args.offline)
    nearest = None
    if match is None:
        launchers = registry.launchers(offline=args.offline)
        if args.slurm_only:
            launchers = tuple(launcher for launcher in launchers if launcher.type == "slurm")
        yaml_rows, match = explain(launchers, requirement, tags)
        rows += yaml_rows
        if match is None:
            nearest = closest_reason(launchers, requirement, tags)
    if args.format == "json":
        data = {
            "requirement": str(requirement),
            "answer": answer_json(match) if match is not None else None,
            "rows": [row.as_json() for row in rows],
            "config": used,
        }
        if nearest is not None:
            data["closest"] = nearest
        print(json.dumps(data), file=stdout)
    else:
        print(f"requirement: {requirement}", file=stdout)
        print(render_table(rows), file=stdout)
        if match is None:
            print("answer: none", file=stdout)
            if nearest is not None:
                print(f"closest: {nearest}", file=stdout)
        else:
            chosen = f"{match.config.id} (alternative {match.alternative_index})"
            if match.source is not None:
                chosen += f" from {match.source}"
            print(f"answer: {chosen}", file=stdout)
            for note in match.notes:
                print(f"note: {note}", file=stdout)
    return 0 if match is not None else 1
