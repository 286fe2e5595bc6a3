"""``reqsolve submit EXPR [--config F] [--tags a,b] [--dry-run] [--wait] [--on-error P] -- CMD...``

Finds the launcher as ``reqsolve find`` does, then either submits an ``#SBATCH`` script with
``sbatch --parsable`` through the launcher's connector, or runs the command here while holding
the launcher's tokens and the GPUs the solver assigned (``CUDA_VISIBLE_DEVICES`` names them, and
is empty for a job that asked none: :mod:`reqsolve.localjob`). ``--dry-run`` prints what would
run and runs nothing (no token or GPU taken); ``--no-wait`` refuses (exit 75) instead of waiting
for tokens or GPUs other jobs hold.
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from reqsolve.cli.find_cmd import (
    ON_ERROR_CHOICES,
    ON_ERROR_HELP,
    configuration_line,
    configuration_used,
    print_notes,
    python_warnings,
)
from reqsolve.errors import InvalidValue

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.localjob import GpuPlan

BUSY_EXIT = 75  # EX_TEMPFAIL: --no-wait and the tokens or GPUs are held by other jobs


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="launcher file")
    parser.add_argument(
        "--tags", default="", metavar="A,B", help="only launchers having one of these tags"
    )
    parser.add_argument("--offline", action="store_true", help="no Slurm discovery")
    parser.add_argument("--dry-run", action="store_true", help="print what would run, run nothing")
    parser.add_argument("--wait", action="store_true",
                        help="follow a Slurm job until it ends; exit with its exit code")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between two polls with --wait (default: the launcher's)")
    parser.add_argument("--job-name", default=None, help="Slurm job name")
    parser.add_argument("--hold", action="store_true", help="submit the Slurm job held")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help=f"local job: exit {BUSY_EXIT} at once when other jobs hold its tokens or GPUs"
        " (default: wait for them)",
    )
    parser.add_argument(
        "--on-error", choices=ON_ERROR_CHOICES, default=ON_ERROR_CHOICES[0], help=ON_ERROR_HELP
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_options(parser)
    parser.add_argument("expression", metavar="EXPR", help="requirement expression")
    # not "command": the dispatcher keeps the subcommand's name there
    parser.add_argument(
        "rest", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command to run"
    )


def split_command(args: argparse.Namespace) -> list[str]:
    """Options written after EXPR (argparse leaves them in the remainder), then the command.

    ``submit EXPR --dry-run -- cmd -x`` -> options ``--dry-run``, command ``cmd -x``; without
    ``--`` the command starts at the first word that is not an option.
    """
    rest = list(args.rest)
    if "--" in rest:
        cut = rest.index("--")
        before, command = rest[:cut], rest[cut + 1 :]
    else:
        before, command = [], rest
        while command and command[0].startswith("-"):
            before.append(command.pop(0))
            if before[-1] in _VALUED and command:
                before.append(command.pop(0))
    if before:
        extra = argparse.ArgumentParser(prog="reqsolve submit", add_help=False, exit_on_error=False)
        _add_options(extra)
        try:
            parsed, unknown = extra.parse_known_args(before)
        except argparse.ArgumentError as exc:
            raise InvalidValue(f"reqsolve submit: {exc}") from None
        if unknown:
            raise InvalidValue(f"reqsolve submit: unknown option(s) {' '.join(unknown)}",
                               "put the command after --")
        defaults = vars(extra.parse_args([]))
        for key, value in vars(parsed).items():
            if value != defaults[key]:
                setattr(args, key, value)
    return command


_VALUED = {"--config", "--tags", "--interval", "--job-name", "--on-error"}


def _connector(launcher: Any, launcher_file: Any) -> Any:
    # connectors only for a Slurm answer (a local job runs here)
    from reqsolve.config.model import SshConnectorConfig
    from reqsolve.connectors import connector_for

    connector = getattr(launcher, "connector", None)
    if connector is None:
        return connector_for("local")
    if isinstance(connector, SshConnectorConfig):
        return connector_for(connector)
    return connector_for(str(connector), launcher_file)


def _launcher_file(config: str | None) -> Any:
    # imported when a Slurm job is submitted: its launcher file
    from reqsolve.cli.slurm_cmd import load_launcher_file

    return load_launcher_file(config)


def run_slurm(
    launcher: Any,
    command: Sequence[str],
    *,
    connector: Any,
    stdout: TextIO,
    dry_run: bool = False,
    wait: bool = False,
    interval: float | None = None,
    job_name: str | None = None,
    hold: bool = False,
) -> int:
    """Submit ``command`` with the launcher's options; with ``wait``, its exit code."""
    # job submission only for a Slurm answer
    from reqsolve.answers.options import SlurmOptions
    from reqsolve.slurm import jobs

    options = launcher.options or SlurmOptions()
    binpath = getattr(launcher, "binpath", "/usr/bin")
    script = jobs.batch_script(
        options, command, launcherenv=getattr(launcher, "launcherenv", None), job_name=job_name
    )
    argv = jobs.sbatch_argv(binpath, hold=hold)
    if dry_run:
        print(f"# would run: {shlex.join(connector.describe(argv))} <<'EOF'", file=stdout)
        stdout.write(script)
        print("EOF", file=stdout)
        return 0
    job_id = jobs.submit(connector, argv, script)
    print(f"submitted job {job_id}", file=stdout, flush=True)
    if not wait:
        return 0

    def report(state: jobs.JobState) -> None:
        print(f"job {job_id}: {state.state}", file=stdout, flush=True)

    # a launcher with a `main` polls as its main launcher does (one rhythm, one set of binaries)
    poller = getattr(launcher, "main", None) or launcher
    every = interval if interval is not None else float(getattr(poller, "interval", 60))
    poll_path = getattr(poller, "binpath", binpath)
    def retry(error: Exception, failures: int) -> None:
        # a busy controller or an ssh hiccup while the job is queued is not the job's end
        first = str(error).splitlines()[0]
        print(f"job {job_id}: poll failed ({first}); retry {failures} of {jobs.POLL_RETRIES}"
              f" in {every:g} s", file=stdout, flush=True)

    final = jobs.wait(
        connector, poll_path, job_id, interval=every, report=report, on_retry=retry
    )
    print(f"job {job_id} ended: {final.state}, exit code {final.exit_code}", file=stdout)
    return final.exit_code or 0  # 0 to 255, nonzero unless COMPLETED (jobs.wait)


def _assignments(env: dict[str, str]) -> list[str]:
    return [f"{name}={shlex.quote(value)}" if value else f"{name}=" for name, value in env.items()]


def run_local(
    launcher: Any,
    command: Sequence[str],
    *,
    capacities: dict[str, int],
    stdout: TextIO,
    stderr: TextIO,
    dry_run: bool = False,
    plan: GpuPlan | None = None,
    gpu_env: bool = True,
    wait: bool = True,
) -> int:
    """Run ``command`` here while holding the launcher's tokens and the job's GPUs (``plan``);
    its exit status. ``gpu_env`` False leaves ``CUDA_VISIBLE_DEVICES`` as it is."""
    # the local job runner only for a local answer
    from reqsolve.localjob import ResourcesBusy, environment, hold_job

    if not command:
        raise InvalidValue("no command to run", "write it after --: reqsolve submit EXPR -- cmd")
    wanted = dict(getattr(launcher, "tokens", {}) or {})
    if dry_run:
        if wanted:
            taken = ", ".join(f"{n}={c}" for n, c in wanted.items())
            print(f"# would take tokens: {taken}", file=stdout)
        chosen = plan.chosen() if plan is not None else ()
        if chosen:
            print(f"# would hold GPUs: {', '.join(d.describe() for d in chosen)}", file=stdout)
        shown = _assignments(environment(chosen)) if gpu_env else []
        print(f"# would run: {' '.join([*shown, shlex.join(command)])}", file=stdout)
        return 0

    def waiting(what: str) -> None:
        print(f"reqsolve: waiting for {what}", file=stderr, flush=True)

    try:
        with hold_job(wanted, capacities, plan, on_wait=waiting, wait=wait) as held:
            env = dict(os.environ)
            if gpu_env:
                env.update(environment(held.gpus))
            try:
                # the job inherits the locks: they stay held while it lives, even if this
                # process is killed, and the kernel drops them when both have ended
                done = subprocess.run(list(command), check=False, env=env, pass_fds=held.fds)
            except OSError as exc:
                status, why = cannot_run(command[0], exc)
                print(f"reqsolve: {why}", file=stderr)
                return status
    except ResourcesBusy as exc:
        print(f"reqsolve: {exc}", file=stderr)
        return BUSY_EXIT
    # a job killed by a signal: 128 + signal, as shells (and submit --wait) say it
    return done.returncode if done.returncode >= 0 else 128 - done.returncode


CANNOT_EXECUTE = 126  # as a shell: found but not executable
NOT_FOUND = 127  # as a shell: no such command


def cannot_run(program: str, exc: OSError) -> tuple[int, str]:
    """The exit status and the one line a shell would give for a command that cannot start."""
    if isinstance(exc, FileNotFoundError):
        if os.sep in program:
            return NOT_FOUND, f"{program}: no such file"
        return NOT_FOUND, f"{program}: command not found"
    if os.path.isdir(program):
        return CANNOT_EXECUTE, f"{program}: is a directory"
    if exc.errno == errno.ENOEXEC:
        return CANNOT_EXECUTE, (
            f"{program}: cannot execute: not a program and no '#!' line"
            " (add '#!/bin/sh' as its first line, or run it with its interpreter)"
        )
    if isinstance(exc, PermissionError) and os.path.isfile(program):
        return CANNOT_EXECUTE, (
            f"{program}: permission denied (not executable: chmod +x {shlex.quote(program)})"
        )
    return CANNOT_EXECUTE, f"{program}: cannot execute: {exc.strerror or exc}"


_TERMS = frozenset({"cpu", "cuda", "gpu", "mps", "duration"})


def _missing_expression(expression: str, command: Sequence[str]) -> InvalidValue | None:
    """``reqsolve submit -- echo hi`` reads ``echo`` as the expression: when the "expression"
    does not parse and is a command's name, say that the expression is missing."""
    word = expression.strip()
    if not word or word.casefold() in _TERMS or any(c in word for c in "()=&|*<>, "):
        return None
    if os.sep not in word and shutil.which(word) is None:
        return None
    # imported here: the parser, to tell a missing expression from a wrong one
    from reqsolve.errors import InvalidExpression
    from reqsolve.registry import as_spec

    try:
        as_spec(word)
    except InvalidExpression:
        return InvalidValue(
            f"reqsolve submit: the requirement expression is missing ({word!r} is a command,"
            " not an expression)",
            f"write it first: reqsolve submit 'cpu(cores=1)' -- {shlex.join([word, *command])}",
        )
    return None


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    missing = _missing_expression(args.expression, [w for w in args.rest if w != "--"])
    if missing is not None:
        raise missing
    command = split_command(args)
    if not command:
        raise InvalidValue("no command to run", "write it after --: reqsolve submit EXPR -- cmd")
    # imported when the command runs: `--help` and usage errors do not load the solver
    from reqsolve.errors import LauncherNotFoundError
    from reqsolve.finder import find_match, registry_for

    registry = registry_for(args.config, on_error=args.on_error)  # the one find_match asks
    print(configuration_line(configuration_used(registry)), file=stderr)
    notes = print_notes(registry, stderr, args.offline)
    tags = [t for t in args.tags.split(",") if t]
    try:
        with python_warnings(args.on_error, stderr):
            match, launcher = find_match(
                args.expression,
                tags=tags,
                config=args.config,
                offline=args.offline,
                on_error=args.on_error,
            )
    except LauncherNotFoundError as exc:
        print(f"reqsolve: {exc}", file=stderr)
        return 1
    if getattr(launcher, "type", None) == "slurm":
        launcher_file = _launcher_file(args.config) if isinstance(
            getattr(launcher, "connector", None), str
        ) and launcher.connector != "local" else None
        return run_slurm(
            launcher,
            command,
            connector=_connector(launcher, launcher_file),
            stdout=stdout,
            dry_run=args.dry_run,
            wait=args.wait,
            interval=args.interval,
            job_name=args.job_name,
            hold=args.hold,
        )
    capacities: dict[str, int] = {}
    if getattr(launcher, "tokens", None):
        capacities = dict(_launcher_file(args.config).token_counters)
    # the GPU plan only for a local answer
    from reqsolve.localjob import gpu_plan

    plan, warning = gpu_plan(match, launcher)
    if warning is not None and warning not in notes:
        print(f"reqsolve: warning: {warning}", file=stderr)
    stdout.flush()
    return run_local(
        launcher,
        command,
        capacities=capacities,
        stdout=stdout,
        stderr=stderr,
        dry_run=args.dry_run,
        plan=plan,
        gpu_env=not (match.alternative.gpus and plan is None),
        wait=not args.no_wait,
    )
