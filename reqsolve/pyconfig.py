"""``launchers.py``: launchers decided in code, asked before the YAML launchers.

As experimaestro does, a configuration directory may hold a ``launchers.py`` defining
``find_launcher(requirements, tags)``. It is imported once; the search calls it with one
alternative at a time, in written order (a :class:`~reqsolve.requirement.Requirement` holding
that alternative alone, so ``requirements.match(...)`` works), and the first launcher it returns
is the answer. Only when it returns None for every alternative are the YAML launchers of the
same directory searched (docs/semantics.md §5).

The file is the user's code: anything it raises becomes a :class:`ConfigError` naming the file
and the line (taken from the traceback), and so does a return value that is not a launcher.
By default that error ends the search (a broken file should be fixed, not silently bypassed);
``on_error="continue"`` records it, warns, and goes on with the YAML launchers.
"""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import os
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any, Literal

from reqsolve.candidates import CompiledLauncher
from reqsolve.config.model import (
    LauncherFile,
    LocalLauncherConfig,
    SlurmLauncherConfig,
    SshConnector,
)
from reqsolve.errors import ConfigError, InvalidValue, LauncherNotFoundError, Problem, Reason
from reqsolve.hostspec import HostRequirement
from reqsolve.launchers import Launcher, LocalLauncher, SlurmLauncher
from reqsolve.ranking import Match, as_tags, not_found_message
from reqsolve.registry import Compiled, Registry, Spec, as_spec, compile_file, registry_of
from reqsolve.requirement import Alternative, Requirement
from reqsolve.slurm.options import SlurmOptions

PYTHON_FILE = "launchers.py"
YAML_FILE = "launchers.yaml"
SOURCE = "launchers.py"  # what ``find --format json`` says in ``launcher.source``
OnError = Literal["raise", "continue"]
ON_ERROR_CHOICES = ("raise", "continue")
# The search's --offline, seen by solve() calls made from inside a launchers.py
_offline: ContextVar[bool] = ContextVar("reqsolve_offline", default=False)


@dataclass
class _SolverTrace:
    """What solve() calls made from inside one find_launcher call found: why nothing fit."""

    calls: int = 0
    reasons: list[Reason] = field(default_factory=list)


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


# --- errors located in the user's file


def _same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def error_line(exc: BaseException, path: str) -> tuple[int, int]:
    """Line and column (1-based) in ``path`` where ``exc`` happened: the deepest frame in it."""
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, path):
        return exc.lineno or 1, max(exc.offset or 1, 1)
    line = 1
    for frame in traceback.extract_tb(exc.__traceback__):
        if _same_file(frame.filename, path) and frame.lineno is not None:
            line = frame.lineno
    return line, first_column(path, line)


def first_column(path: str, line: int) -> int:
    """Column of the first non-blank character of a line (where editors put the cursor)."""
    text = linecache.getline(os.path.abspath(path), line)
    return len(text) - len(text.lstrip()) + 1 if text.strip() else 1


def located(problem: Problem) -> ConfigError:
    """The error of one problem in a launchers.py, summarised as ``file:line:column: message``
    (its problems have no YAML path to show)."""
    summary = f"{problem.file}:{problem.line}:{problem.column}: {problem.message}"
    return ConfigError([problem], summary)


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # the user's __repr__ is the user's code too
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # an exception whose __str__ raises still deserves a located report
        return "<unprintable exception>"


def raised_problem(
    exc: BaseException, path: str, during: str, alternative: Alternative | None = None
) -> Problem:
    line, column = error_line(exc, path)
    message = f"{during} raised {type(exc).__name__}: {_text(exc)}".splitlines()[0]
    if alternative is not None:
        message += f" (requirement: {alternative})"
    return Problem(path, line, column, "", "error", message, _hint(exc))


def _hint(exc: BaseException) -> str | None:
    if isinstance(exc, ImportError) and "reqsolve" in str(exc):
        return "import the names from reqsolve (from reqsolve import HostSpecification, ...)"
    if isinstance(exc, SyntaxError):
        return "this is Python: fix the syntax at that line"
    return None


def _at_return(path: str, line: int, message: str, hint: str) -> Problem:
    """An error about what find_launcher returned, at the line of its ``return``."""
    return Problem(path, line, first_column(path, line), "", "error", message, hint)


def returned_problem(value: object, path: str, line: int, alternative: Alternative) -> Problem:
    return _at_return(
        path,
        line,
        f"find_launcher returned {_short(value)} ({type(value).__name__});"
        f" expected a LocalLauncher, a SlurmLauncher or None (requirement: {alternative})",
        "return None when this requirement is not for these launchers",
    )


def malformed(launcher: Launcher) -> str | None:
    """What is wrong in the fields of a launcher built by the user's code (None: nothing).

    The dataclasses do not check their fields; a wrong one would otherwise surface later as a
    bare traceback far from the file (printing the answer, holding tokens, submitting).
    """
    connector = launcher.connector
    if connector is not None and not isinstance(connector, str | SshConnector):
        return f"connector is {_short(connector)}, expected a name or an SshConnector"
    if isinstance(launcher, LocalLauncher):
        if not isinstance(launcher.id, str):
            return f"id is {_short(launcher.id)}, expected a string"
        tokens = launcher.tokens
        if not isinstance(tokens, Mapping):
            return f"tokens is {_short(tokens)}, expected a mapping of counter name to count"
        for name, count in tokens.items():
            if not isinstance(name, str):
                return f"token name {_short(name)} is not a string"
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                return f"token {name!r} takes {_short(count)}, expected a whole number >= 0"
        return None
    if launcher.id is not None and not isinstance(launcher.id, str):
        return f"id is {_short(launcher.id)}, expected a string or None"
    if not isinstance(launcher.options, SlurmOptions):
        return f"options is {_short(launcher.options)}, expected SlurmOptions(...)"
    if not isinstance(launcher.binpath, str):
        return f"binpath is {_short(launcher.binpath)}, expected a directory name"
    return None


def malformed_problem(
    launcher: Launcher, wrong: str, path: str, line: int, alternative: Alternative
) -> Problem:
    return _at_return(
        path,
        line,
        f"find_launcher returned a {type(launcher).__name__} whose {wrong}"
        f" (requirement: {alternative})",
        "fix the arguments given to the launcher at its return",
    )


# --- loading once and calling


def module_name(path: str) -> str:
    import hashlib  # here, not at the top: the CLI's cold start does not need it

    digest = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    return f"reqsolve_launchers_{digest}"


def load_module(path: str) -> ModuleType:
    """Import ``path`` as a module of its own (not on ``sys.path``); errors point at the file."""
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise located(Problem(path, 1, 1, "", "error", "cannot be imported as a Python file"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up by module name
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # exit() in the file must not end the caller
        sys.modules.pop(name, None)
        raise located(raised_problem(exc, path, f"importing {Path(path).name}")) from exc
    return module


def finder_of(module: ModuleType, path: str) -> Callable[..., object]:
    function: Callable[..., object] | None = getattr(module, "find_launcher", None)
    if function is None or not callable(function):
        raise located(
            Problem(
                path,
                1,
                1,
                "",
                "error",
                "defines no find_launcher(requirements, tags) function",
                "add: def find_launcher(requirements, tags=set()): ... return a launcher or None",
            )
        )
    try:
        inspect.signature(function).bind(Requirement((Alternative(),)), set())
    except TypeError as exc:
        raise located(
            Problem(
                path,
                definition_line(function),
                1,
                "",
                "error",
                f"find_launcher cannot be called as find_launcher(requirements, tags): {exc}",
                "write: def find_launcher(requirements, tags=set())",
            )
        ) from None
    except ValueError:  # no signature (a builtin): let the call tell
        pass
    return function


def definition_line(function: object) -> int:
    code = getattr(function, "__code__", None)
    return int(getattr(code, "co_firstlineno", 1))


@dataclass(frozen=True, slots=True)
class Asked:
    """What ``find_launcher`` said for one alternative: a launcher, None, or the error."""

    index: int
    alternative: Alternative
    launcher: Launcher | None
    error: ConfigError | None = None
    reasons: tuple[Reason, ...] | None = None  # from solve() calls made by find_launcher


class PythonLaunchers:
    """A ``launchers.py``, imported on first use and only once; its ``find_launcher`` asked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)  # as given: problems name the file as the user wrote it
        self._lock = threading.Lock()
        self._function: Callable[..., object] | None = None
        self._error: ConfigError | None = None

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
            value = function(HostRequirement((alternative,)), set(tags))
        except (Exception, SystemExit) as exc:  # exit() in the file must not end the caller
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
            problem = returned_problem(value, self.path, definition_line(function), alternative)
            return Asked(index, alternative, None, located(problem))
        wrong = malformed(value)
        if wrong is not None:
            line = definition_line(function)
            problem = malformed_problem(value, wrong, self.path, line, alternative)
            return Asked(index, alternative, None, located(problem))
        return Asked(index, alternative, value)

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


# --- answers from launchers.py as the solver's Match


@dataclass(frozen=True, slots=True)
class PythonMatch(Match):
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


def python_match(asked: Asked, path: str) -> PythonMatch:
    launcher = asked.launcher
    assert launcher is not None
    options = launcher.options if isinstance(launcher, SlurmLauncher) else None
    return PythonMatch(
        launcher=CompiledLauncher(config=described(launcher), position=-1, candidates=()),
        alternative_index=asked.index,
        alternative=asked.alternative,
        candidates=(),
        options=options,
        source_launcher=launcher,
        path=path,
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
        details={"detail": text, "stage": -1, "limit": 0},
    )


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
        from reqsolve.tokens import read_counters

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
        if self.python is None:
            return []
        return list(self.python.each(requirement, tags, offline=offline, on_error=self.on_error))

    def find(
        self,
        spec: Spec,
        *,
        tags: Iterable[str] = (),
        offline: bool = False,
        slurm_only: bool = False,
    ) -> Match:
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
            raise LauncherNotFoundError(reasons, not_found_message(requirement, reasons)) from None

    def launcher_for(self, match: Match) -> Launcher:
        if isinstance(match, PythonMatch) and match.source_launcher is not None:
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
        python = os.path.join(path, PYTHON_FILE)
        yaml = os.path.join(path, YAML_FILE)
        has_python, has_yaml = os.path.isfile(python), os.path.isfile(yaml)
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
        if not os.path.isfile(path):
            raise located(Problem(path, 1, 1, "", "error", "no such file"))
        return LauncherDirectory(python=path, yaml=None, on_error=on_error)
    return Registry(path)


def discover_configuration() -> Path | None:
    """The configuration to use when none is named: a user configuration directory holding a
    ``launchers.py`` is used whole (with its YAML, if any); otherwise the discovered file."""
    from reqsolve.config.discovery import ENV_VARIABLE, candidate_files, find_config_file

    if os.environ.get(ENV_VARIABLE):
        return find_config_file()  # named: a file or a directory, used as named
    for candidate in candidate_files():
        if (candidate.parent / PYTHON_FILE).is_file():
            return candidate.parent
        if candidate.is_file():
            return candidate
    return None


# --- for launchers.py files: the YAML solver on launchers declared in Python


def solve(
    launchers: LauncherFile, requirements: Spec, tags: Iterable[str] = ()
) -> Launcher | None:
    """The launcher reqsolve's solver picks among ``launchers`` (None when none fits).

    What a converted ``launchers.py`` calls (``reqsolve convert --to python``): the
    configuration is code, the solving stays reqsolve's. Compiled once per ``LauncherFile``.
    """
    registry = registry_of(launchers)
    try:
        found = registry.find(requirements, tags=tags, offline=_offline.get())
    except LauncherNotFoundError as exc:
        trace = _solver_trace.get()
        if trace is not None:
            trace.calls += 1
            trace.reasons.extend(exc.reasons)
        return None
    return registry.launcher_for(found)


# --- reqsolve explain


def explain_python(
    registry: Registry, requirement: Requirement, tags: Iterable[str] = (), *, offline: bool = False
) -> tuple[list[Any], Match | None]:
    """Rows for what ``launchers.py`` said (one per alternative asked), and its answer."""
    if not isinstance(registry, LauncherDirectory) or registry.python is None:
        return [], None
    from reqsolve.explain import Row

    asked = registry.ask_python(requirement, tags, offline=offline)
    rows: list[Any] = []
    for item in asked:
        if item.launcher is not None:
            name = item.launcher.id or SOURCE
            reason = f"find_launcher returned {item.launcher.type} launcher {name}"
            verdict = "chosen"
        elif item.error is not None:
            reason, verdict = str(item.error), "fails"
        else:
            reason, verdict = "find_launcher returned None", "fails"
        rows.append(
            Row(item.index, SOURCE, "python", 0, None, None, None, None, None, verdict, reason, "")
        )
    if asked and asked[-1].launcher is not None:
        return rows, python_match(asked[-1], registry.python.path)
    return rows, None


# --- reqsolve validate launchers.py

# A few requirements of every kind a find_launcher should handle without crashing.
REPRESENTATIVE = (
    "cpu(cores=1)",
    "duration=2h & cpu(mem=4G, cores=4)",
    "duration=4 days & cpu(mem=400G, cores=64)",
    "cuda(mem=16G)",
    "duration=2 days & cuda(mem=24G)*2 & cpu(mem=64G, cores=8)",
    "duration=7 days & cuda(mem=80G)*8",
    "cuda(mem=40G, model=A100)*4",
)


@contextmanager
def _return_lines(code: object, lines: list[int]) -> Iterator[None]:
    """Record the line of each ``return`` executed by ``code`` (to locate a bad return value)."""

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "return" and frame.f_code is code:
            lines.append(frame.f_lineno)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def check_python_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Import a launchers.py and call it on representative requirements: every problem.

    Exceptions and non-launcher return values are errors at their line; so are tokens taken
    from no counter of the ``tokens.yaml`` beside it (or more than a counter holds), and that
    file's own problems. A function that returns None for everything gets a warning (it would
    never be used).
    """
    file = os.fspath(path)
    python = PythonLaunchers(file)
    try:
        function = python.function()
    except ConfigError as exc:
        return list(exc.problems)
    from reqsolve.parser import parse
    from reqsolve.tokens import TOKENS_FILE_NAME, read_counters

    token_file = os.path.isfile(os.path.join(os.path.dirname(file), TOKENS_FILE_NAME))
    counters: tuple[tuple[str, int], ...] | None = None
    try:
        counters = read_counters(file)
    except ConfigError as exc:
        broken_tokens = list(exc.problems)  # reported as the YAML loader reports them
    else:
        broken_tokens = []

    # the same mistake for several requirements is one problem: (line, message) -> problem, count
    found: dict[tuple[int, str], tuple[Problem, int]] = {}
    answered = 0
    code = getattr(function, "__code__", None)
    for text in REPRESENTATIVE:
        alternative = parse(text).alternatives[0]
        lines: list[int] = []
        with _return_lines(code, lines):
            asked = python.ask(0, alternative, (), offline=True)
        if asked.launcher is not None:
            answered += 1
        reported = list(asked.error.problems) if asked.error is not None else []
        if isinstance(asked.launcher, LocalLauncher) and counters is not None:
            line = lines[-1] if lines else definition_line(function)
            reported += [
                replace(problem, message=f"{problem.message} (requirement: {alternative})")
                for problem in token_problems(asked.launcher, counters, token_file, file, line)
            ]
        for problem in reported:
            if problem.message.startswith("find_launcher returned") and lines:
                problem = replace(problem, line=lines[-1], column=first_column(file, lines[-1]))
            key = (problem.line, problem.message.split(" (requirement: ")[0])
            first, count = found.get(key, (problem, 0))
            found[key] = (first, count + 1)
    problems = [
        problem
        if count == 1
        else replace(
            problem,
            message=problem.message.replace(
                " (requirement: ", f" (for {count} of {len(REPRESENTATIVE)} requirements, e.g. "
            ),
        )
        for problem, count in found.values()
    ]
    problems = broken_tokens + problems
    if not problems and not answered:
        problems.append(
            Problem(
                file,
                definition_line(function),
                first_column(file, definition_line(function)),
                "",
                "warning",
                f"find_launcher returned None for all {len(REPRESENTATIVE)} representative"
                " requirements (e.g. cpu(cores=1)): it never picks a launcher",
            )
        )
    return problems


def token_problems(
    launcher: LocalLauncher,
    counters: tuple[tuple[str, int], ...],
    token_file: bool,
    file: str,
    line: int,
) -> list[Problem]:
    """The YAML file's token rules (undeclared token, more than the counter holds) applied to a
    launcher returned at ``line``: the launcher-file linter itself, on that one launcher."""
    from reqsolve.config.lint import lint

    checked = LauncherFile(path=file, launchers=(described(launcher),), token_counters=counters)
    column = first_column(file, line)
    return [
        replace(problem, line=line, column=column, path="")
        for problem in lint(checked, {}, file=file, tokens_file=token_file)
        if ".tokens." in problem.path
    ]


# --- reqsolve convert launchers.yaml --to python

# Fields written with their unit, so that the generated file reads like the YAML it came from
_SIZE_FIELDS = frozenset({"memory", "min_memory", "mem_per_cpu"})
_DURATION_FIELDS = frozenset({"max_duration"})
_WIDTH = 99


def _value_source(name: str | None, value: object, indent: int) -> str:
    """Python source of a configuration value: dataclasses with their non-default fields."""
    from dataclasses import MISSING, fields, is_dataclass

    from reqsolve.units import format_duration, format_memory

    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if name in _SIZE_FIELDS:
            return f'parse_memory("{format_memory(value)}")'
        if name in _DURATION_FIELDS:
            return f'parse_duration("{format_duration(value)}")'
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else f'float("{value}")'
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, tuple):
        items = [_value_source(None, item, indent + 4) for item in value]
        return _call("", items, indent, tuple_=True)
    if is_dataclass(value) and not isinstance(value, type):
        arguments = []
        for spec in fields(value):
            if not spec.init or not spec.compare or spec.name == "kind":
                continue
            current = getattr(value, spec.name)
            if spec.default is not MISSING and current == spec.default:
                continue
            if spec.default_factory is not MISSING and current == spec.default_factory():
                continue
            arguments.append(f"{spec.name}={_value_source(spec.name, current, indent + 4)}")
        return _call(type(value).__name__, arguments, indent)
    raise TypeError(f"cannot write {type(value).__name__} values as Python")  # pragma: no cover


def _string(text: str) -> str:
    """A double-quoted literal; raw when that spares backslashes (regexes)."""
    import json
    if "\\" in text and text.isprintable() and '"' not in text and not text.endswith("\\"):
        return f'r"{text}"'
    return json.dumps(text)


def _call(head: str, items: list[str], indent: int, *, tuple_: bool = False) -> str:
    """``Head(a, b)`` on one line when it fits, else one item per line."""
    joined = ", ".join(items)
    one_line = f"({joined},)" if tuple_ and len(items) == 1 else f"{head}({joined})"
    if not items or (len(one_line) + indent <= _WIDTH and "\n" not in one_line):
        return one_line
    inner = " " * (indent + 4)
    body = "".join(f"{inner}{item},\n" for item in items)
    return f"{head}(\n{body}{' ' * indent})"


def python_source(launcher_file: LauncherFile, *, origin: str | None = None) -> str:
    """A ``launchers.py`` equivalent to a launcher file: its launchers as Python values, the
    solving left to reqsolve (:func:`solve`). Edit ``find_launcher`` to decide in code."""
    origin = origin or launcher_file.path
    names = sorted(_class_names(launcher_file))
    value = _value_source(None, _without_path(launcher_file, origin), 0)
    header = f'''"""Launchers of {Path(origin).name}, converted by ``reqsolve convert --to python``.

``find_launcher`` is asked by reqsolve with one alternative of the requirement at a time, in
written order; return a launcher, or None to let the next alternative (then the YAML launchers
of the same directory, if any) be tried. The launchers below are those of the YAML file, and
``solve`` is reqsolve's own solver: add your rules before or after it.
"""

from __future__ import annotations

from collections.abc import Set

from reqsolve.config.model import (
{"".join(f"    {name},{chr(10)}" for name in names)})
from reqsolve.launchers import Launcher
from reqsolve.pyconfig import solve
from reqsolve.requirement import Requirement
from reqsolve.units import parse_duration, parse_memory

'''
    body = f'''LAUNCHERS = {value}


def find_launcher(requirements: Requirement, tags: Set[str] = frozenset()) -> Launcher | None:
    return solve(LAUNCHERS, requirements, tags)
'''
    return header + body


def _without_path(launcher_file: LauncherFile, origin: str) -> LauncherFile:
    return replace(launcher_file, path=str(origin))


def _class_names(value: object) -> set[str]:
    from dataclasses import fields, is_dataclass

    found: set[str] = set()
    if isinstance(value, tuple):
        for item in value:
            found |= _class_names(item)
    elif is_dataclass(value) and not isinstance(value, type):
        found.add(type(value).__name__)
        for spec in fields(value):
            if spec.compare:
                found |= _class_names(getattr(value, spec.name))
    return found
