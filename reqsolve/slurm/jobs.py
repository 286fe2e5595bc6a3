"""Submitting a command to Slurm and following the job until it ends.

The batch script is generated, never templated from user text: options come from a validated
:class:`SlurmOptions`, ``launcherenv`` names must be shell identifiers and values are quoted,
and the command is an argv joined with :func:`shlex.join`. The script goes to ``sbatch
--parsable`` on stdin, through the launcher's connector, so the same code submits locally and
over ssh.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reqsolve.connectors import Connector
from reqsolve.errors import InvalidValue, SlurmQueryError
from reqsolve.slurm.options import SlurmOptions

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_JOB_NAME = re.compile(r"[A-Za-z0-9_.+@:-]{1,128}")
# Job states after which nothing more happens (squeue/sacct spellings).
FINAL_STATES = frozenset(
    {
        "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
        "OUT_OF_MEMORY", "PREEMPTED", "REVOKED", "TIMEOUT",
    }
)


def batch_script(
    options: SlurmOptions,
    command: Sequence[str],
    *,
    launcherenv: Mapping[str, str] | None = None,
    job_name: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """The ``#!/bin/sh`` batch script: ``#SBATCH`` header, exported environment, the command."""
    if not command:
        raise InvalidValue("no command to run", "write it after --: reqsolve submit EXPR -- cmd")
    lines = ["#!/bin/sh"]
    if job_name is not None:
        if not _JOB_NAME.fullmatch(job_name):
            raise InvalidValue(f"job name {job_name!r} has characters Slurm or a shell would read")
        lines.append(f"#SBATCH --job-name={job_name}")
    lines.extend(f"#SBATCH {arg}" for arg in options.args())
    lines.extend(f"#SBATCH {arg}" for arg in extra)
    for name, value in (launcherenv or {}).items():
        if not _ENV_NAME.fullmatch(name):
            raise InvalidValue(f"launcherenv: {name!r} is not an environment variable name")
        lines.append(f"export {name}={shlex.quote(str(value))}")
    lines.append(f"exec {shlex.join(command)}")
    return "\n".join(lines) + "\n"


def sbatch_argv(binpath: str, *, hold: bool = False, test_only: bool = False) -> list[str]:
    argv = [f"{binpath.rstrip('/')}/sbatch" if binpath else "sbatch", "--parsable"]
    if hold:
        argv.append("--hold")
    if test_only:
        argv.append("--test-only")
    return argv


def submit(connector: Connector, argv: Sequence[str], script: str, *, timeout: float = 60) -> str:
    """Submit ``script`` on stdin; the job id (``--parsable`` prints ``id`` or ``id;cluster``)."""
    result = connector.run(argv, input=script, timeout=timeout)
    first = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    job_id = first.split(";", 1)[0]
    if not job_id.isdigit():
        raise SlurmQueryError(
            tuple(argv), f"unexpected output: no job id in {result.stdout.strip()[:200]!r}"
        )
    return job_id


@dataclass(frozen=True, slots=True)
class JobState:
    state: str  # PENDING, RUNNING, COMPLETED, FAILED, ...
    exit_code: int | None = None  # once final

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def query_state(connector: Connector, binpath: str, job_id: str, timeout: float = 30) -> JobState:
    """Where the job is now: ``squeue`` while queued, then ``sacct``, then ``scontrol``."""
    prefix = binpath.rstrip("/") + "/" if binpath else ""
    queued = connector.run(
        [f"{prefix}squeue", "--noheader", "--format=%T", f"--jobs={job_id}"],
        timeout=timeout,
        check=False,
    )
    state = queued.stdout.strip().split()[0] if queued.stdout.strip() else ""
    if queued.returncode == 0 and state and state not in FINAL_STATES:
        return JobState(state)
    accounted = connector.run(
        [f"{prefix}sacct", "--noheader", "--parsable2", "--allocations",
         "--format=State,ExitCode", f"--jobs={job_id}"],
        timeout=timeout,
        check=False,
    )
    for line in accounted.stdout.splitlines():
        cells = line.strip().split("|")
        if len(cells) >= 2 and cells[0]:
            found = cells[0].split()[0]  # "CANCELLED by 0"
            return JobState(found, _exit_code(cells[1]) if found in FINAL_STATES else None)
    shown = connector.run(
        [f"{prefix}scontrol", "--oneliner", "show", "job", job_id], timeout=timeout, check=False
    )
    match = re.search(r"\bJobState=(\S+)", shown.stdout)
    if match is None:
        if state:
            return JobState(state)
        raise SlurmQueryError(
            (f"{prefix}scontrol", "show", "job", job_id),
            "job not found by squeue, sacct or scontrol",
            returncode=shown.returncode,
            stderr=shown.stderr,
        )
    code = re.search(r"\bExitCode=(\S+)", shown.stdout)
    found = match.group(1)
    exit_code = _exit_code(code.group(1)) if code and found in FINAL_STATES else None
    return JobState(found, exit_code)


def _exit_code(text: str) -> int:
    """Slurm's ``code:signal``: the code, or 128+signal when a signal ended the job."""
    code, _, sig = text.partition(":")
    value = int(code) if code.isdigit() else 1
    if value == 0 and sig.isdigit() and int(sig):
        return 128 + int(sig)
    return value


def wait(
    connector: Connector,
    binpath: str,
    job_id: str,
    *,
    interval: float,
    report: Callable[[JobState], None],
    sleep: Callable[[float], None] = time.sleep,
) -> JobState:
    """Poll every ``interval`` s, reporting each change of state, until a final state."""
    last: str | None = None
    while True:
        state = query_state(connector, binpath, job_id)
        if state.state != last:
            report(state)
            last = state.state
        if state.final:
            if state.exit_code is None:
                return JobState(state.state, 0 if state.state == "COMPLETED" else 1)
            if state.state != "COMPLETED" and state.exit_code == 0:
                return JobState(state.state, 1)
            return state
        sleep(interval)
