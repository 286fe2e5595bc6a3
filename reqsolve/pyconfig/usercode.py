"""The user's ``launchers.py`` as a module: imported once, its ``find_launcher`` found, and
anything it raises or returns wrongly turned into a :class:`ConfigError` at the file's line."""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO, cast

from reqsolve.answers.options import SlurmOptions
from reqsolve.config.model import (
    SshConnectorConfig,
)
from reqsolve.config.trust import check_trusted
from reqsolve.errors import ConfigError, Problem
from reqsolve.launchers import Launcher, LocalLauncher
from reqsolve.requirement import Alternative, Requirement

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
    text = _text(exc)
    if isinstance(exc, ProcessEnded):
        message = f"{during} tried to end the process: {text}"
    else:
        message = f"{during} raised {type(exc).__name__}" + (f": {text}" if text else "")
    message = message.splitlines()[0]
    if alternative is not None:
        message += f" (requirement: {alternative})"
    return Problem(path, line, column, "", "error", message, _hint(exc))


def _hint(exc: BaseException) -> str | None:
    if isinstance(exc, SystemExit | ProcessEnded):
        return "return a launcher or None: a launchers.py must not end the process"
    if isinstance(exc, ImportError) and (exc.name or "").partition(".")[0] == "reqsolve":
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
    if connector is not None and not isinstance(connector, str | SshConnectorConfig):
        return f"connector is {_short(connector)}, expected a name or an SshConnectorConfig"
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


# --- running the user's code: its prints go to stderr, and it cannot end the process


class ProcessEnded(BaseException):
    """The user's code called ``os._exit`` or an ``os.exec*`` function: stopped, so that a
    ``reqsolve find`` never ends with exit 0 and no answer (a bare ``sbatch $opts``)."""


class _Running(threading.local):
    depth = 0  # how deep this thread is in the user's code


_running = _Running()
_install_lock = threading.Lock()
_threads_inside = 0
_GUARDED = ("_exit", "execv", "execve")  # every os.exec* function ends in execv or execve
_guarded_os = False


def _inside() -> bool:
    return _running.depth > 0


def _guard(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _inside():
            shown = repr(args[0]) if args else ""
            raise ProcessEnded(f"os.{name}({shown})")
        return original(*args, **kwargs)

    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


class _StdoutOfThisThread:
    """``sys.stdout`` while user code runs: a thread inside it writes to stderr (a print in a
    launchers.py must not land in ``$(reqsolve find)``), every other thread to stdout."""

    def __init__(self) -> None:
        self.stdout: Any = None

    def _target(self) -> Any:
        return sys.stderr if _inside() else self.stdout

    def write(self, text: str) -> int:
        return int(self._target().write(text))

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


_router = _StdoutOfThisThread()


class _UserCode:
    """See :func:`user_code` (a class: entered on every find asking a launchers.py, it must
    cost next to nothing)."""

    def __enter__(self) -> None:
        global _threads_inside, _guarded_os
        depth = _running.depth
        if depth == 0:
            with _install_lock:
                if not _guarded_os:  # once per process: they pass through outside user code
                    for name in _GUARDED:
                        setattr(os, name, _guard(name, getattr(os, name)))
                    _guarded_os = True
                if _threads_inside == 0 and sys.stdout is not _router:
                    _router.stdout = sys.stdout
                    sys.stdout = cast(TextIO, _router)
                _threads_inside += 1
        _running.depth = depth + 1

    def __exit__(self, *_exc: object) -> None:
        global _threads_inside
        depth = _running.depth - 1
        _running.depth = depth
        if depth == 0:
            with _install_lock:
                _threads_inside -= 1
                if _threads_inside == 0 and sys.stdout is _router:  # unless replaced meanwhile
                    sys.stdout = _router.stdout
                    _router.stdout = None


_user_code = _UserCode()


def user_code() -> _UserCode:
    """Run the user's code (importing a launchers.py, calling its find_launcher) inside
    ``with user_code():``: what it prints goes to stderr, and ``os._exit`` and ``os.exec*``
    raise :class:`ProcessEnded` instead of ending the process. Both hold only for the calling
    thread: sys.stdout is routed while a thread is inside (the first one in installs the router,
    the last one out removes it); the os functions are wrapped once per process and pass
    through everywhere else."""
    return _user_code


# --- loading once and calling


def module_name(path: str) -> str:
    import hashlib  # here, not at the top: the CLI's cold start does not need it

    digest = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    return f"reqsolve_launchers_{digest}"


def load_module(path: str) -> ModuleType:
    """Import ``path`` as a module of its own (not on ``sys.path``); errors point at the file.

    Refused first when it is not a regular file or another user owns or can write it, or a
    directory above it (:mod:`reqsolve.config.trust`): its code would run as whoever runs us."""
    check_trusted(path)
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise located(Problem(path, 1, 1, "", "error", "cannot be imported as a Python file"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up by module name
    try:
        with user_code():
            spec.loader.exec_module(module)
    except KeyboardInterrupt:
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # exit() or os._exit() in the file must not end the caller
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
                line_in_file(function, path),
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


ADAPTER_MODULE = "reqsolve.integrations.experimaestro"
"""Where reqsolve's experimaestro adapter lives: a ``launchers.py`` of one line imports its
``find_launcher`` (docs/experimaestro.md). Asked by reqsolve itself, it returns None so that
the ``launchers.yaml`` beside it answers: that None is not a failure."""


def is_adapter(function: object) -> bool:
    """Whether ``find_launcher`` is reqsolve's experimaestro adapter (its function or a
    ``Finder``), imported as is by the launchers.py."""
    return getattr(function, "__module__", None) == ADAPTER_MODULE


def line_in_file(function: object, path: str) -> int:
    """The line of ``path`` to point at for ``function``: where it is defined, or for a function
    imported from elsewhere (reqsolve's adapter), the first line naming ``find_launcher``
    (a line of another module would be shown with this file's text)."""
    code = getattr(function, "__code__", None)
    if code is not None and _same_file(code.co_filename, path):
        return int(code.co_firstlineno)
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 1
    for number, text in enumerate(lines, 1):
        if "find_launcher" in text and not text.lstrip().startswith("#"):
            return number
    return 1
