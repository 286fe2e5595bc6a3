"""``reqsolve find EXPR``: which launcher runs the job, and with which Slurm options.

Exit 0 with the answer, 1 when nothing matches (the reasons on stdout in JSON), 2 on a bad
expression or launcher file (the error on stderr), 3 when the answer is a local launcher and
the format prints Slurm options (every format but ``json``): nothing is printed on
stdout then, so that ``sbatch $(reqsolve find …) job.sh`` never submits a bare job; stderr
names the launcher (docs/cli.md, "Exit codes").
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from reqsolve.answers.renderings import FORMATS as RENDERINGS

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.registry import Registry

FORMATS = tuple(RENDERINGS)  # the table of formats: one row each
EXIT_LOCAL = 3  # the answer is a local launcher: there are no Slurm options to print
# reqsolve.pyconfig.ON_ERROR_CHOICES, written out so that parsing options imports no solver
# (a test checks both are the same); the first is the default, as in the API
ON_ERROR_CHOICES = ("raise", "continue")
ON_ERROR_HELP = (
    "when the configuration's launchers.py raises or returns something that is not a launcher:"
    " 'raise' stops with that error, located at its file:line (exit 2; the default);"
    " 'continue' prints it as a warning on stderr and goes on as if launchers.py had returned"
    " None (next alternative, then the YAML launchers)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", metavar="EXPR", help="requirement expression")
    add_common(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="args",
        help="how to print the answer: args (for $(...), unquoted), shell (quoted, to paste"
        " into a shell), sbatch (#SBATCH lines), json, submitit (default args)",
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="launcher file (default: discovered)")
    parser.add_argument(
        "--tags", default="", metavar="A,B", help="only launchers having one of these tags"
    )
    parser.add_argument(
        "--slurm-only",
        action="store_true",
        help="only Slurm launchers: an answer is always Slurm options",
    )
    parser.add_argument(
        "--offline", action="store_true", help="run no command: use only what the file says"
    )
    parser.add_argument(
        "--on-error", choices=ON_ERROR_CHOICES, default=ON_ERROR_CHOICES[0], help=ON_ERROR_HELP
    )


@contextmanager
def python_warnings(on_error: str, stderr: TextIO) -> Iterator[None]:
    """With ``--on-error continue``, each launchers.py failure the search went past is printed
    on ``stderr`` as a warning (the API warns with ``PythonLauncherWarning``)."""
    if on_error != "continue":  # nothing is warned: the failure raises
        yield
        return
    # pyconfig only when a launchers.py warns (its warning class)
    from reqsolve.pyconfig import PythonLauncherWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PythonLauncherWarning)
        try:
            yield
        finally:
            others = []
            for warning in caught:
                message = warning.message
                if isinstance(message, PythonLauncherWarning) and message.error is not None:
                    print(
                        f"reqsolve: warning: {message.error}"
                        " (--on-error continue: going on without it)",
                        file=stderr,
                    )
                else:
                    others.append(warning)
    for warning in others:  # not ours: shown as they would have been
        warnings.showwarning(
            warning.message, warning.category, warning.filename, warning.lineno, warning.file,
            warning.line,
        )


def print_notes(registry: Registry, stderr: TextIO, offline: bool) -> tuple[str, ...]:
    """Print the registry's warnings about the file as this machine sees it (a local launcher
    whose GPUs nvidia-smi contradicts); the warnings printed."""
    # imported here: the error tree, only to leave a broken file to the search that reports it
    from reqsolve.errors import ReqsolveError

    try:
        notes = registry.notes(offline=offline)
    except ReqsolveError:  # a broken file: the search itself says what is wrong
        return ()
    for note in notes:
        print(f"reqsolve: warning: {note}", file=stderr)
    return notes


THIS_MACHINE = "this machine (no launcher file found)"


def configuration_used(registry: Registry) -> dict[str, Any]:
    """Which configuration answers: the files read (a launchers.py first), or this machine.

    A surprising answer usually comes from an unexpected file ($REQSOLVE_CONFIG, a forgotten
    ~/.config file, or none at all), so find, explain and submit name it on stderr and in JSON.
    """
    python = getattr(registry, "python", None)  # a directory's or a lone launchers.py
    files = [os.path.abspath(python.path)] if python is not None else []
    if registry.path is not None:
        files.append(os.path.abspath(registry.path))
    elif python is None:
        path = registry.state().launcher_file.path
        if path != "<embedded>":
            files.append(path)
    return {"files": files, "this_machine": not files}


def configuration_line(used: dict[str, Any]) -> str:
    """One short stderr line: ``reqsolve: configuration: FILE[, FILE]`` or this machine."""

    def shown(path: str) -> str:
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else relative

    files = ", ".join(shown(path) for path in used["files"]) or THIS_MACHINE
    return f"reqsolve: configuration: {files}"


def split_tags(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load the solver
    from reqsolve.errors import LauncherNotFoundError
    from reqsolve.finder import registry_for

    registry = registry_for(args.config, on_error=args.on_error)
    used = configuration_used(registry)
    print(configuration_line(used), file=stderr)
    print_notes(registry, stderr, args.offline)
    try:
        with python_warnings(args.on_error, stderr):
            match = registry.find(
                args.expression,
                tags=split_tags(args.tags),
                offline=args.offline,
                slurm_only=args.slurm_only,
            )
    except LauncherNotFoundError as exc:
        if args.format == "json":
            # json only for --format json and the reasons of a failed find
            import json

            reasons = [
                {**reason.as_json(), "detail": reason.detail or reason.reason}
                for reason in exc.reasons
            ]
            print(json.dumps({"launcher": None, "reasons": reasons, "config": used}), file=stdout)
        print(f"reqsolve: {exc}", file=stderr)
        return 1
    config = match.config
    rendering = RENDERINGS[args.format]
    if match.options is None and rendering.slurm_only:
        tokens = ", ".join(f"{k}={v}" for k, v in getattr(config, "tokens", ()))
        print(
            f"reqsolve: the answer is the local launcher {config.id}"
            + (f" (tokens: {tokens})" if tokens else "")
            + f": no Slurm options to print (exit {EXIT_LOCAL}); run the job on this machine"
            f" (reqsolve submit), or {_to_get_slurm_options(registry, used)}",
            file=stderr,
        )
        return EXIT_LOCAL
    text = rendering.text(match, used)
    if text:
        print(text, file=stdout)
    for note in match.notes:  # e.g. the --time chosen when no duration was asked, in any format
        print(f"reqsolve: note: {note}", file=stderr)
    return 0


def _to_get_slurm_options(registry: Registry, used: dict[str, Any]) -> str:
    """How to get Slurm options instead of a local answer: --slurm-only where the configuration
    has a Slurm launcher (or a launchers.py, which may answer one), a launcher file otherwise."""
    if used["this_machine"]:
        return (
            "describe your Slurm cluster in a launcher file (no file was found;"
            " docs/launchers-file.md) and pass it with --config"
        )
    if getattr(registry, "python", None) is None and not any(
        compiled.config.type == "slurm" for compiled in registry.state().launchers
    ):
        return (
            "add a Slurm launcher to the file (it has none, so --slurm-only would find nothing;"
            " docs/launchers-file.md)"
        )
    return "allow only Slurm launchers with --slurm-only"
