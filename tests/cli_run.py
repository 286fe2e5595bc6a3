"""Run the command line in-process, as the tests of every subcommand do."""

from __future__ import annotations

import io
import os

from reqsolve.cli import run


def cli(*argv: str) -> tuple[int, str, str]:
    """``reqsolve ARGV...``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


CONFIGURATION = "reqsolve: configuration: "


def split_configuration(err: str) -> tuple[str, str]:
    """find, explain and submit first name the configuration they use on stderr (one line):
    (what that line names, files made absolute, comma-separated; the rest of stderr)."""
    first, _, rest = err.partition("\n")
    assert first.startswith(CONFIGURATION), err
    named = first.removeprefix(CONFIGURATION)
    if named != "this machine (no launcher file found)":
        named = ", ".join(os.path.abspath(path) for path in named.split(", "))
    return named, rest
