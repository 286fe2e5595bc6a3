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

from reqsolve.answers.options import SlurmOptions
from reqsolve.connectors import Connector
from reqsolve.errors import InvalidValue, SlurmQueryError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_JOB_NAME = re.compile(r"[A-Za-z0-9_.+@:-]{1,128}")
# Job states after which nothing more happens (squeue/sacct spellings).
FINAL_STATES = frozenset(
    {
        "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
        "OUT_OF_MEMORY", "PREEMPTED", "REVOKED", "TIMEOUT",
    }
)
# States of a job that is still queued, running or about to be (squeue/sacct/scontrol). A state
# sacct or scontrol reports for a job squeue no longer lists that is in neither set is final
# (a new Slurm's, or a broken reply): waiting for it to change would poll forever.
ACTIVE_STATES = frozenset(
    {
        "PENDING", "RUNNING", "SUSPENDED", "COMPLETING", "CONFIGURING", "RESIZING", "REQUEUED",
        "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SIGNALING", "STAGE_OUT", "STOPPED",
        "SPECIAL_EXIT", "POWER_UP_NODE", "UPDATE_DB",
    }
)
# Polls in a row that may fail (a busy controller, an ssh hiccup) before --wait gives up.
POLL_RETRIES = 5


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
    lines.extend(options.sbatch_header().splitlines())  # the one rendering of #SBATCH lines
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
    # A job id can name several jobs in the accounting database (a controller restarted with a
    # fresh state, ids wrapping around): sacct lists them oldest first, so the last is this one.
    records = [
        cells for line in accounted.stdout.splitlines()
        if len(cells := line.strip().split("|")) >= 2 and cells[0].strip()
    ]
    if records:
        found = records[-1][0].split()[0]  # "CANCELLED by 0"
        return _state(found, records[-1][1])
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
    return _state(found, code.group(1) if code else "")


def _state(state: str, code: str) -> JobState:
    """A state sacct or scontrol reports: active, or ended with its exit code (a missing code
    is 0 for COMPLETED, 1 otherwise)."""
    if state in ACTIVE_STATES:
        return JobState(state)
    if not code.strip():
        return JobState(state, 0 if state == "COMPLETED" else 1)
    return JobState(state, exit_code(code))


def exit_code(text: str) -> int:
    """Slurm's ``code:signal`` as a shell says it, 0 to 255: the code, or 128+signal when a
    signal ended the job. A code over 255 is a raw wait status (``256:0`` is status 1, ``9:0``
    from some plugins is 9): decoded, never taken modulo 256 (256 would read as success).
    Anything unreadable is 1."""
    code, _, sig = text.strip().partition(":")
    if not (code.isascii() and code.isdigit() and len(code) <= 10):
        return 1
    value = int(code)
    if value > 255:  # a wait status: exit code in bits 8-15, signal in bits 0-6
        value, signal = (value >> 8) & 0xFF, value & 0x7F
        if signal:
            return 128 + signal
        return value or 1
    if value == 0 and sig.isascii() and sig.isdigit() and 0 < int(sig[:3]) < 128:
        return 128 + int(sig[:3])
    return value


def wait(
    connector: Connector,
    binpath: str,
    job_id: str,
    *,
    interval: float,
    report: Callable[[JobState], None],
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[SlurmQueryError, int], None] | None = None,
) -> JobState:
    """Poll every ``interval`` s, reporting each change of state, until the job has ended; its
    final state with an exit code from 0 to 255 (0 only for COMPLETED).

    A poll that fails (a busy controller, an ssh hiccup) is retried: :data:`POLL_RETRIES`
    failures in a row, and ``on_retry`` told of each, before the last one is raised.
    """
    last: str | None = None
    failures = 0
    while True:
        try:
            state = query_state(connector, binpath, job_id)
        except SlurmQueryError as exc:
            failures += 1
            if failures > POLL_RETRIES:
                raise
            if on_retry is not None:
                on_retry(exc, failures)
            sleep(interval)
            continue
        failures = 0
        if state.state != last:
            report(state)
            last = state.state
        if state.exit_code is not None or state.final:
            code = state.exit_code if state.exit_code is not None else 1
            if state.state == "COMPLETED" and state.exit_code is None:
                code = 0
            if state.state != "COMPLETED" and code == 0:
                code = 1
            return JobState(state.state, code)
        sleep(interval)
