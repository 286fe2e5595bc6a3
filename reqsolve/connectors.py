"""Where Slurm commands run: on this machine, or through the system ``ssh`` client.

A command is always an argv list. Locally it is executed without a shell; over ssh the remote
side necessarily has one, so every argument is quoted with :func:`shlex.quote` and the remote
shell splits the line back into exactly that argv. Every failure (command not found, timeout,
non-zero exit, ssh refused) becomes a :class:`SlurmQueryError` naming the command, its exit
status and its stderr.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from reqsolve.config.connector_rules import ssh_problems
from reqsolve.config.model import LauncherFile, SshConnectorConfig
from reqsolve.errors import InvalidValue, SlurmQueryError

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class CommandResult:
    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Connector(Protocol):
    """Runs an argv somewhere and returns its output, or raises :class:`SlurmQueryError`."""

    name: str

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        input: str | None = None,
        check: bool = True,
    ) -> CommandResult: ...

    def describe(self, argv: Sequence[str]) -> list[str]:
        """The argv that :meth:`run` would execute on this machine (for ``--dry-run``)."""
        ...


def _execute(
    shown: Sequence[str],
    argv: Sequence[str],
    *,
    timeout: float,
    input: str | None,
    env: Mapping[str, str] | None,
    not_found: str = "command not found",
    cwd: str | None = None,
) -> CommandResult:
    """Run ``argv`` in its own session so a timeout kills the whole process group.

    ``subprocess.run`` kills only the child on timeout and then waits for the pipes, which a
    grandchild (``sleep`` in a wrapper script) may hold open: it would hang anyway. The exit
    status is returned, not judged: :meth:`_Connector.run` does that once for every connector.
    """
    command = tuple(shown)
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=dict(env) if env is not None else None,
            start_new_session=True,
            cwd=cwd,
        )
    except FileNotFoundError:
        raise SlurmQueryError(command, not_found, returncode=127) from None
    except PermissionError as exc:
        raise SlurmQueryError(command, f"cannot execute ({exc.strerror})", returncode=126) from None
    except OSError as exc:
        raise SlurmQueryError(command, f"cannot start ({exc})") from None
    try:
        stdout, stderr = process.communicate(input, timeout=max(timeout, 0.001))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        stderr = _leftover(process)
        raise SlurmQueryError(
            command, f"timed out after {timeout:g} s", stderr=stderr, timed_out=True
        ) from None
    return CommandResult(command, process.returncode, stdout or "", stderr or "")


# Seconds to collect what a killed command printed: a process that left its group (`setsid`)
# may hold the pipes open forever, and the deadline has passed already.
_DRAIN_SECONDS = 0.2


def _leftover(process: subprocess.Popen[str]) -> str:
    """The stderr of a command just killed, without waiting for EOF past :data:`_DRAIN_SECONDS`
    (a grandchild in its own session may still hold the pipes: they are closed on it)."""
    try:
        _, stderr = process.communicate(timeout=_DRAIN_SECONDS)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        stderr = ""
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_DRAIN_SECONDS)
    return stderr or ""


class _Connector:
    """What every connector does around its own way of starting a command."""

    name: str

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        input: str | None = None,
        check: bool = True,
    ) -> CommandResult:
        if not argv:
            raise InvalidValue("empty command")
        result = self._start(argv, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise SlurmQueryError(
                result.command, "failed", returncode=result.returncode, stderr=result.stderr
            )
        return result

    def _start(self, argv: Sequence[str], *, timeout: float, input: str | None) -> CommandResult:
        raise NotImplementedError


class LocalConnector(_Connector):
    """Runs commands on this machine, without a shell.

    The environment is this process's (so ``SLURM_CONF`` reaches the Slurm clients) with
    ``env`` on top; ``cwd`` is where commands start (sbatch writes ``slurm-<id>.out`` there).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        name: str = "local",
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.name = name
        self.extra_env = dict(env or {})
        self.cwd = None if cwd is None else os.fspath(cwd)

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.extra_env}

    def describe(self, argv: Sequence[str]) -> list[str]:
        return list(argv)

    def _start(self, argv: Sequence[str], *, timeout: float, input: str | None) -> CommandResult:
        return _execute(
            argv, argv, timeout=timeout, input=input, env=self.environment(), cwd=self.cwd
        )


class SshConnector(_Connector):
    """Runs commands on another machine through the system ``ssh`` client.

    ``BatchMode=yes`` makes ssh fail instead of asking for a password (nobody is there to type
    it); ``ConnectTimeout`` bounds an unreachable host. ssh's own failures exit with 255.
    """

    def __init__(
        self,
        config: SshConnectorConfig,
        *,
        ssh: str = "ssh",
        connect_timeout: int = 10,
        env: Mapping[str, str] | None = None,
    ) -> None:
        # the rules validate reports at file:line:column (reqsolve.config.connector_rules)
        for _, message, hint in ssh_problems(config)[:1]:
            raise InvalidValue(f"connector {config.id}: {message}", hint)
        self.config = config
        self.name = config.id
        self.ssh = ssh
        self.connect_timeout = connect_timeout
        self.env = dict(env) if env is not None else None

    def ssh_argv(self, argv: Sequence[str]) -> list[str]:
        """The local argv: ``ssh -o BatchMode=yes ... -- host 'quoted' 'remote' 'words'``."""
        command = [self.ssh, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout}"]
        for option in self.config.options:
            command += ["-o", option]
        if self.config.port is not None:
            command += ["-p", str(self.config.port)]
        if self.config.user is not None:
            command += ["-l", self.config.user]
        command += ["--", self.config.hostname, shlex.join(argv)]
        return command

    def describe(self, argv: Sequence[str]) -> list[str]:
        return self.ssh_argv(argv)

    def _start(self, argv: Sequence[str], *, timeout: float, input: str | None) -> CommandResult:
        result = _execute(
            [f"{self.name}:", *argv],
            self.ssh_argv(argv),
            timeout=timeout,
            input=input,
            env=self.env,
            not_found=f"ssh client {self.ssh!r} not found",
        )
        if result.returncode == 255:  # ssh itself failed, whatever ``check`` says
            raise SlurmQueryError(
                result.command,
                f"ssh to {self.config.hostname} failed",
                returncode=255,
                stderr=result.stderr,
            )
        return result


def resolve_connector(name: str, launcher_file: LauncherFile | None) -> str | SshConnectorConfig:
    """A named ssh connector of the file, or the name itself (``local``)."""
    if launcher_file is not None:
        for connector in launcher_file.connectors:
            if connector.id == name:
                return connector
    return name


def connector_for(
    name: str | SshConnectorConfig, launcher_file: LauncherFile | None = None
) -> Connector:
    """The connector a launcher names: ``local``, or one of the file's ``connectors:`` (by name,
    or already resolved to its configuration)."""

    if isinstance(name, str) and name != "local":  # `local` is this machine, whatever the file
        name = resolve_connector(name, launcher_file)
    if isinstance(name, SshConnectorConfig):
        return SshConnector(name)
    if name == "local":
        return LocalConnector()
    known = ["local"] + [c.id for c in (launcher_file.connectors if launcher_file else ())]
    raise InvalidValue(
        f"unknown connector {name!r}", f"declare it under connectors:, known: {', '.join(known)}"
    )
