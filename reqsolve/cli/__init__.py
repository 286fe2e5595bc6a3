"""The ``reqsolve`` command: ``run(argv, stdout, stderr) -> int``, tested in-process.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``execute(args, stdout, stderr) -> int``; modules are imported only for the subcommand that
runs, so ``reqsolve find`` does not pay for ``reqsolve validate``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO, cast

from reqsolve import __version__
from reqsolve.garbage_collector import freeze_before_exit

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import SupportsWrite

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "parse": ("reqsolve.cli.parse_cmd", "show how a requirement expression is understood"),
    "validate": ("reqsolve.cli.validate_cmd", "check launcher files: every problem, its position"),
    "schema": ("reqsolve.cli.schema_cmd", "print the JSON Schema of launcher files"),
    "find": ("reqsolve.cli.find_cmd", "find the launcher for a requirement, print its options"),
    "explain": ("reqsolve.cli.explain_cmd", "show every launcher/candidate and why it fits or not"),
    "slurm": ("reqsolve.cli.slurm_cmd", "launcher YAML from Slurm (convert, discover)"),
    "submit": ("reqsolve.cli.submit_cmd", "run a command where a requirement fits"),
    "convert": ("reqsolve.cli.convert_cmd", "print a launchers.py equivalent to a launcher file"),
}

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exceptions instead of exiting the process."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message}", self)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise _Exit(status, message)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # Python 3.11.4 and later ignore a failed write of --help or --version (stdout closed
        # early); earlier 3.11 releases (Debian 12 has 3.11.2) raise: end the same way on both.
        with contextlib.suppress(AttributeError, OSError):
            super()._print_message(message, file)


class _UsageError(Exception):
    """A usage error, with the parser that found it: a subcommand's error shows its usage."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.parser = parser


class _Exit(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def build_parser(name: str | None, *, alone: bool = False) -> argparse.ArgumentParser:
    """The parser of every command, with the arguments of command ``name``.

    ``alone``: the command line starts with ``name``, so the other subparsers parse nothing and
    are left out (they only appear in ``reqsolve --help``); building all eight costs a cold
    ``reqsolve find`` a few milliseconds.
    """
    parser = _Parser(
        prog="reqsolve", description="Find where to run a job, and with which options."
    )
    parser.add_argument("--version", action="version", version=f"reqsolve {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, (module_name, help_text) in COMMANDS.items():
        if alone and command != name:
            continue
        child = sub.add_parser(command, help=help_text, description=help_text)
        if command == name:
            importlib.import_module(module_name).add_arguments(child)
    return parser


# C0 controls but tab and newline, DEL, C1 controls: what a terminal may take for a command
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Escaping:
    """A text stream writing control characters as their pictures (ESC as ␛, C1 as ⍰).

    Every line reqsolve writes passes through it, so that a name from a file, a ``launchers.py``
    or the command line (a launcher id, a tag, a path, a command to run) cannot move the
    cursor, retitle the window or hide text (docs/cli.md, "Output"). Tab and newline are
    written as they are; nothing reqsolve prints on purpose holds another control character.
    Everything but ``write`` and ``writelines`` is the wrapped stream's (``fileno``, ``flush``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if _CONTROL.search(text) is not None:
            # imported when a control character is written: after main() relaxed the collector
            from reqsolve.errors import visible

            text = _CONTROL.sub(lambda found: visible(found.group()), text)
        return self.stream.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def escaping(stream: TextIO) -> TextIO:
    """``stream`` behind :class:`Escaping` (once)."""
    return stream if isinstance(stream, Escaping) else cast(TextIO, Escaping(stream))


def run(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = escaping(stdout if stdout is not None else sys.stdout)
    err = escaping(stderr if stderr is not None else sys.stderr)
    name = next((a for a in argv if not a.startswith("-")), None)
    known = name if name in COMMANDS else None
    parser = build_parser(known, alone=known is not None and argv[0] == known)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the subcommand, with its usage (argparse says it at the top)
            _subparser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except _UsageError as exc:
        exc.parser.print_usage(err)
        print(str(exc), file=err)
        return EXIT_USAGE
    except _Exit as exc:
        if exc.message:
            print(exc.message, file=err, end="")
        if exc.status == 0:
            # --help and --version print to stdout through argparse's own stream, which ignores
            # a closed stdout (`reqsolve --help | head -1`): so does the flush of what it wrote
            try:
                sys.stdout.flush()
            except OSError:
                closed_pipe()
            return EXIT_OK
        return EXIT_USAGE
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    module = importlib.import_module(COMMANDS[args.command][0])
    from reqsolve.errors import ReqsolveError  # after main() relaxed the collector

    try:
        code: int = module.execute(args, out, err)
    except ReqsolveError as exc:
        print(f"reqsolve: {type(exc).__name__}: {exc}", file=err)
        return EXIT_USAGE
    except UnicodeEncodeError as exc:
        print(unwritable(exc, out), file=err)
        return EXIT_USAGE
    return code


def unwritable(exc: UnicodeEncodeError, stream: TextIO) -> str:
    """Why the output could not be written: a character its encoding cannot hold (most often
    a byte of an argument or a file name that is not UTF-8, under a strict UTF-8 stdout)."""
    found = exc.object[exc.start : exc.end]
    encoding = getattr(stream, "encoding", None) or exc.encoding
    errors = getattr(stream, "errors", None) or "strict"
    if all(0xDC80 <= ord(char) <= 0xDCFF for char in found):
        what = " ".join(f"0x{ord(char) - 0xDC00:02x}" for char in found)
        cause = f"the byte(s) {what} of an argument or a file name, which are not UTF-8"
        hint = ("name it in UTF-8, or let Python write such bytes as they are"
                " (PYTHONIOENCODING=utf-8:surrogateescape)")
    else:
        cause = f"{found!a}, which {encoding} cannot encode"
        hint = "use a UTF-8 locale, or PYTHONIOENCODING=utf-8"
    return (f"reqsolve: cannot write the output ({encoding}, errors={errors}): it holds {cause};"
            f" nothing more was written\nhint: {hint}")


def closed_pipe() -> int:
    """Stdout was closed early (``reqsolve schema | head -1``): end quietly, as Unix tools do.

    Nothing more can be written there, and Python would report the failed flush at exit: stdout
    is pointed at /dev/null first. The exit code is the one of a process stopped by SIGPIPE
    (docs/cli.md, "Exit codes"), so that ``set -o pipefail`` still sees an unfinished output.
    """

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    return EXIT_CLOSED_PIPE


def _subparser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The innermost (sub)command parser that ``args`` went through (``reqsolve slurm
    convert`` -> the parser of ``slurm convert``); the top parser when there is none."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        choices = action.choices
        name = getattr(args, action.dest, None)
        if isinstance(choices, dict) and name in choices:
            found = choices[name]
            assert isinstance(found, argparse.ArgumentParser)
            return _subparser(found, args)
    return parser


EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell shows for a tool stopped by `| head`


def main() -> None:
    # what a launchers.py prints and Python's warnings go through the same escaping
    sys.stdout, sys.stderr = escaping(sys.stdout), escaping(sys.stderr)
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
    except BrokenPipeError:
        code = closed_pipe()
    freeze_before_exit()  # the process ends here
    sys.exit(code)
