"""``answer(file, expr)``: what reqsolve answers, through the public path only.

Tests whose point is the answer (which launcher, which options, which refusal) ask it here, as a
user does: the launcher file (a path, or a :class:`~reqsolve.config.model.LauncherFile` built in
memory by tests/reference.py) is loaded and asked with :func:`reqsolve.find_match`, offline (no
Slurm command runs). They then follow the code through restructurings; only the tests of an
internal (candidate expansion, the matcher, the cache) call it directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from reqsolve import find_match
from reqsolve.choosing import Answer
from reqsolve.config.model import LauncherFile
from reqsolve.requirement import Alternative, Requirement

Expression = str | Alternative | Requirement


def answer(
    file: str | os.PathLike[str] | LauncherFile,
    expr: Expression,
    *,
    tags: str | Iterable[str] = (),
    slurm_only: bool = False,
) -> Answer:
    """The answer to ``expr`` (an expression, or builders' value) from the launcher file
    ``file``; raises :class:`~reqsolve.errors.LauncherNotFoundError` as ``reqsolve find`` does.
    The answer is also turned into its launcher object, as :func:`reqsolve.find_launcher` does,
    so that a refusal on that last step fails the test too."""
    return find_match(expr, config=file, tags=tags, offline=True, slurm_only=slurm_only)[0]
