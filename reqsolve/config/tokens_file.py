"""The ``tokens.yaml`` file: which counters a configuration declares, and their capacities.

Reading the file is the configuration's business; holding the tokens while a job runs is
:mod:`reqsolve.tokens`'s (locks under the tokens directory), so each module is one concept.
"""

from __future__ import annotations

import os
from pathlib import Path

from reqsolve.errors import ConfigError, Problem

TOKENS_FILE_NAME = "tokens.yaml"


def read_counters(beside: str | os.PathLike[str]) -> tuple[tuple[str, int], ...]:
    """The counters (name, capacity) of the ``tokens.yaml`` beside a configuration file; none
    when there is no such file. :class:`ConfigError` with every problem when it is broken.

    For configuration directories without a ``launchers.yaml`` (a ``launchers.py`` alone): the
    file is read by the launcher-file loader's own reader, so it is parsed, checked and reported
    exactly as when it sits beside a ``launchers.yaml``.
    """
    if not (Path(beside).parent / TOKENS_FILE_NAME).is_file():
        return ()
    # imported here: the loader brings PyYAML, and most commands never read tokens
    from reqsolve.config.build import build_counters
    from reqsolve.config.loader import _side_file
    from reqsolve.config.spec import TOKENS_FILE

    problems: list[Problem] = []
    data = _side_file(Path(beside), TOKENS_FILE_NAME, TOKENS_FILE, problems)
    if any(problem.severity == "error" for problem in problems):
        raise ConfigError(problems)
    return build_counters(data)

