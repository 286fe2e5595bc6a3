"""Run the command line in-process, as the tests of every subcommand do."""

from __future__ import annotations

import io

from reqsolve.cli import run


def cli(*argv: str) -> tuple[int, str, str]:
    """``reqsolve ARGV...``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()
