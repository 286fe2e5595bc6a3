"""Asking a ``launchers.py``: one alternative at a time, in written order; what it said
(:class:`Asked`) and its answer as the solver's :class:`~reqsolve.choosing.Answer`."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Literal

from reqsolve.choosing import Answer, as_tags
from reqsolve.config.model import (
    LocalLauncherConfig,
    SlurmLauncherConfig,
)
from reqsolve.errors import ConfigError, InvalidValue, Reason
from reqsolve.hostspec import HostRequirement
from reqsolve.launchers import Launcher, LocalLauncher, SlurmLauncher
from reqsolve.pyconfig.usercode import (
    finder_of,
    is_adapter,
    line_in_file,
    load_module,
    located,
    malformed,
    malformed_problem,
    raised_problem,
    returned_problem,
    user_code,
)
from reqsolve.requirement import Alternative, Requirement

PYTHON_FILE = "launchers.py"
YAML_FILE = "launchers.yaml"
SOURCE = "launchers.py"  # what ``find --format json`` says in ``launcher.source``
OnError = Literal["raise", "continue"]
ON_ERROR_CHOICES = ("raise", "continue")
# The search's --offline, seen by solve() calls made from inside a launchers.py
_offline: ContextVar[bool] = ContextVar("reqsolve_offline", default=False)


@dataclass
class _SolverTrace:
    """What solve() calls made from inside one find_launcher call found: why nothing fit, and
    the launchers they returned with their answer's notes (what reqsolve's solver decided)."""

    calls: int = 0
    reasons: list[Reason] = field(default_factory=list)
    answered: list[tuple[Launcher, tuple[str, ...]]] = field(default_factory=list)


_solver_trace: ContextVar[_SolverTrace | None] = ContextVar("reqsolve_trace", default=None)


class PythonLauncherWarning(UserWarning):
    """A launchers.py failed and ``on_error="continue"`` let the search go on without it.

    ``error`` is the :class:`ConfigError` that was not raised (the CLI prints it).
    """

    def __init__(self, message: str, error: ConfigError | None = None) -> None:
        super().__init__(message)
        self.error = error


def check_on_error(on_error: str) -> OnError:
    if on_error == "raise":
        return "raise"
    if on_error == "continue":
        return "continue"
    raise InvalidValue(f"on_error must be 'raise' or 'continue', got {on_error!r}")


@dataclass(frozen=True, slots=True)
class Asked:
    """What ``find_launcher`` said for one alternative: a launcher, None, or the error."""

    index: int
    alternative: Alternative
    launcher: Launcher | None
    error: ConfigError | None = None
    reasons: tuple[Reason, ...] | None = None  # from solve() calls made by find_launcher
    notes: tuple[str, ...] = ()  # of the solve() answer returned as it is, if it was


class PythonLaunchers:
    """A ``launchers.py``, imported on first use and only once; its ``find_launcher`` asked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)  # as given: problems name the file as the user wrote it
        self._lock = threading.Lock()
        self._function: Callable[..., object] | None = None
        self._error: ConfigError | None = None
        self._defers: bool | None = None  # known once the file is loaded

    def function(self) -> Callable[..., object]:
        """The file's ``find_launcher``; raises the (remembered) ConfigError of a bad file."""
        if self._function is not None:
            return self._function
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._function is None:
                try:
                    self._function = finder_of(load_module(self.path), self.path)
                except ConfigError as exc:
                    self._error = exc
                    raise
        return self._function

    def defers(self) -> bool:
        """Whether the file is reqsolve's experimaestro adapter, which leaves reqsolve's own
        search to the launchers.yaml beside it (False when the file cannot be loaded: asking
        it then reports why)."""
        defers = self._defers
        if defers is None:
            try:
                defers = self._defers = is_adapter(self.function())
            except ConfigError:
                return False
        return defers

    def ask(
        self, index: int, alternative: Alternative, tags: Iterable[str], *, offline: bool = False
    ) -> Asked:
        """Call ``find_launcher`` on one alternative; errors are returned, not raised."""
        try:
            function = self.function()
        except ConfigError as exc:
            return Asked(index, alternative, None, exc)
        token = _offline.set(offline)
        trace = _SolverTrace()
        trace_token = _solver_trace.set(trace)
        try:
            with user_code():
                value = function(HostRequirement((alternative,)), set(tags))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # exit() or os._exit() in the file must not end the caller
            problem = raised_problem(exc, self.path, "find_launcher", alternative)
            error = located(problem)
            error.__cause__ = exc
            return Asked(index, alternative, None, error)
        finally:
            _offline.reset(token)
            _solver_trace.reset(trace_token)
        if value is None:
            if not trace.calls:
                return Asked(index, alternative, None)
            found = tuple(replace(r, alternative=index) for r in trace.reasons)
            return Asked(index, alternative, None, reasons=found)
        if not isinstance(value, LocalLauncher | SlurmLauncher):
            line = line_in_file(function, self.path)
            problem = returned_problem(value, self.path, line, alternative)
            return Asked(index, alternative, None, located(problem))
        wrong = malformed(value)
        if wrong is not None:
            line = line_in_file(function, self.path)
            problem = malformed_problem(value, wrong, self.path, line, alternative)
            return Asked(index, alternative, None, located(problem))
        # the notes of reqsolve's answer when find_launcher returns what solve() gave it; a
        # launcher the file built (or changed) is its own: nothing was decided for it
        notes = next((notes for made, notes in trace.answered if made is value), ())
        return Asked(index, alternative, value, notes=notes)

    def each(
        self,
        requirement: Requirement,
        tags: Iterable[str] = (),
        *,
        offline: bool = False,
        on_error: OnError = "raise",
    ) -> Iterator[Asked]:
        """Alternatives in written order until one gets a launcher; a failure raises or warns."""
        wanted = as_tags(tags)
        for index, alternative in enumerate(requirement.alternatives):
            asked = self.ask(index, alternative, wanted, offline=offline)
            if asked.error is not None:
                if on_error == "raise":
                    raise asked.error
                warnings.warn(
                    PythonLauncherWarning(
                        f"{asked.error} (on_error='continue': going on with the YAML launchers)",
                        asked.error,
                    ),
                    stacklevel=3,
                )
            yield asked
            if asked.launcher is not None or (asked.error is not None and self._error):
                return  # answered, or the file itself cannot be loaded: no use asking again


# --- answers from launchers.py as the solver's Answer


@dataclass(frozen=True, slots=True)
class PythonAnswer(Answer):
    """An answer that came from ``launchers.py``: the launcher object it returned, as is."""

    source_launcher: Launcher | None = None
    source: str = SOURCE
    path: str = ""


def described(launcher: Launcher) -> LocalLauncherConfig | SlurmLauncherConfig:
    """The launcher as a configuration entry, so answers print the same whatever their source."""
    connector = launcher.connector
    connector_id = connector if isinstance(connector, str) else getattr(connector, "id", "local")
    if isinstance(launcher, LocalLauncher):
        return LocalLauncherConfig(
            id=launcher.id,
            connector=connector_id,
            tokens=tuple((str(k), int(v)) for k, v in launcher.tokens.items()),
        )
    return SlurmLauncherConfig(
        id=launcher.id or SOURCE, connector=connector_id or "local", path=launcher.binpath
    )


def python_match(asked: Asked, path: str) -> PythonAnswer:
    launcher = asked.launcher
    assert launcher is not None
    options = launcher.options if isinstance(launcher, SlurmLauncher) else None
    return PythonAnswer(
        launcher=None,
        config=described(launcher),
        alternative_index=asked.index,
        alternative=asked.alternative,
        candidates=(),
        options=options,
        source_launcher=launcher,
        path=path,
        notes=asked.notes,
    )


def asked_reasons(asked: Asked) -> list[Reason]:
    """Why ``launchers.py`` gave nothing: the solver's reasons when it used :func:`solve`."""
    return list(asked.reasons) if asked.reasons is not None else [asked_reason(asked)]


def asked_reason(asked: Asked) -> Reason:
    if asked.error is not None:
        code, text = "python_error", str(asked.error)
    else:
        code, text = "python_none", "find_launcher returned None"
    return Reason(
        alternative=asked.index,
        launcher=SOURCE,
        partition=None,
        group=None,
        qos=None,
        account=None,
        reason=text,
        code=code,
        detail=text,
    )
