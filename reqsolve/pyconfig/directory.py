"""A configuration directory (``launchers.py`` asked first, then ``launchers.yaml``) as a
:class:`~reqsolve.registry.Registry`, and where such a directory is found."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from reqsolve.choosing import Answer, as_tags
from reqsolve.config.model import (
    LauncherFile,
)
from reqsolve.config.trust import check_directory, check_trusted
from reqsolve.errors import LauncherNotFoundError, Problem, closest
from reqsolve.launchers import Launcher, SlurmLauncher
from reqsolve.pyconfig.asking import (
    PYTHON_FILE,
    YAML_FILE,
    Asked,
    PythonAnswer,
    PythonLaunchers,
    asked_reasons,
    check_on_error,
    python_match,
)
from reqsolve.pyconfig.usercode import located
from reqsolve.refusals import not_found_message
from reqsolve.registry import Compiled, Registry, Spec, as_spec, compile_file
from reqsolve.requirement import Requirement


class LauncherDirectory(Registry):
    """A configuration directory: ``launchers.py`` asked first, then ``launchers.yaml``.

    Either file may be absent. The YAML part is the ordinary :class:`Registry` (reloaded when
    the file changes); the Python file is imported once. Without a YAML file, the directory's
    ``tokens.yaml`` (the counters that launchers' tokens take from) is read on first use, as the
    YAML loader would have read it.
    """

    def __init__(
        self,
        *,
        python: str | os.PathLike[str] | None,
        yaml: str | os.PathLike[str] | None,
        on_error: str = "raise",
    ) -> None:
        self._tokens_beside: str | None = None  # a launchers.py whose tokens.yaml is unread
        if yaml is not None:
            super().__init__(yaml)
        else:
            assert python is not None
            super().__init__(LauncherFile(path=os.path.abspath(os.fspath(python))))
            self._tokens_beside = os.fspath(python)
        self.python = PythonLaunchers(python) if python is not None else None
        self.on_error = check_on_error(on_error)

    def state(self) -> Compiled:
        if self._tokens_beside is not None:
            self._read_tokens(self._tokens_beside)
        return super().state()

    def _read_tokens(self, beside: str) -> None:
        """The launchers.py's own (empty) launcher file, with the counters of its tokens.yaml."""
        # imported only when a launchers.py has a tokens.yaml beside it
        from reqsolve.config.tokens_file import read_counters

        with self._lock:
            if self._tokens_beside is None:
                return  # read meanwhile by another thread
            counters = read_counters(beside)  # a broken tokens.yaml raises, every time asked
            if counters:
                launcher_file = replace(super().state().launcher_file, token_counters=counters)
                self._state = compile_file(launcher_file)
            self._tokens_beside = None

    def ask_python(
        self, requirement: Requirement, tags: Iterable[str] = (), *, offline: bool = False
    ) -> list[Asked]:
        if self.python is None or self.python.defers():
            return []  # the adapter would pass: the YAML launchers answer, with their reasons
        return list(self.python.each(requirement, tags, offline=offline, on_error=self.on_error))

    def find(
        self,
        spec: Spec,
        *,
        tags: Iterable[str] = (),
        offline: bool = False,
        slurm_only: bool = False,
    ) -> Answer:
        requirement = as_spec(spec)
        wanted = as_tags(tags)  # a string is one tag
        asked = self.ask_python(requirement, wanted, offline=offline)
        answer = asked[-1].launcher if asked else None
        if answer is not None and (not slurm_only or isinstance(answer, SlurmLauncher)):
            assert self.python is not None
            return python_match(asked[-1], self.python.path)
        try:
            return super().find(
                requirement, tags=wanted, offline=offline, slurm_only=slurm_only
            )
        except LauncherNotFoundError as exc:
            if not asked:
                raise
            reasons = [r for a in asked for r in asked_reasons(a)] + list(exc.reasons)
            best = closest(reasons)
            text = not_found_message(requirement, best)
            raise LauncherNotFoundError(reasons, text, best) from None

    def launcher_for(self, match: Answer) -> Launcher:
        if isinstance(match, PythonAnswer) and match.source_launcher is not None:
            return match.source_launcher
        return super().launcher_for(match)


# --- where launchers.py files are found (hooks called by the registry)


def is_python_config(path: str) -> bool:
    """Whether a configuration path needs this module: a directory or a ``.py`` file."""
    return os.path.isdir(path) or path.endswith(".py")


def make_registry(path: str, on_error: str = "raise") -> Registry:
    """The registry of a configuration path: a directory (its launchers.py and/or
    launchers.yaml), a ``launchers.py`` alone, or a YAML file alone."""
    check_on_error(on_error)
    if os.path.isdir(path):
        check_directory(path)  # a directory others can write could be given a launchers.py
        python = os.path.join(path, PYTHON_FILE)
        yaml = os.path.join(path, YAML_FILE)
        # present, even when not a file: a dangling link or a FIFO is then reported for what it
        # is, not passed over
        has_python, has_yaml = os.path.lexists(python), os.path.lexists(yaml)
        if not has_python and not has_yaml:
            raise located(
                Problem(
                    path,
                    1,
                    1,
                    "",
                    "error",
                    f"directory holds neither {PYTHON_FILE} nor {YAML_FILE}",
                    "point --config at a launcher file or a directory holding one",
                )
            )
        return LauncherDirectory(
            python=python if has_python else None,
            yaml=yaml if has_yaml else None,
            on_error=on_error,
        )
    if path.endswith(".py"):
        if not os.path.lexists(path):
            raise located(Problem(path, 1, 1, "", "error", "no such file"))
        return LauncherDirectory(python=path, yaml=None, on_error=on_error)
    return Registry(path)


def discover_configuration() -> Path | None:
    """The configuration to use when none is named: a user configuration directory holding a
    ``launchers.py`` is used whole (with its YAML, if any); otherwise the discovered file."""
    # imported when no configuration is named: the search path is not read otherwise
    from reqsolve.config.search_path import ENV_VARIABLE, candidate_files, find_config_file, present

    if os.environ.get(ENV_VARIABLE):
        return find_config_file()  # named: a file or a directory, used as named
    for candidate in candidate_files():
        if present(candidate.parent / PYTHON_FILE):
            return candidate.parent  # checked as any directory is, by make_registry
        if present(candidate):
            _check_discovered(candidate)
            return candidate
    return None


_checked: set[Path] = set()
"""Discovered launcher files found trusted in this process (looked at once, not on every find)."""


def _check_discovered(file: Path) -> None:
    """A launcher file found in a configuration directory: refused when another user owns or
    can write it or its directory (it names the commands run for Slurm and over ssh)."""
    if file in _checked:
        return
    check_trusted(file)
    _checked.add(file)
