"""``query_slurm: true``: ask Slurm for nodes, partitions and QoS, then merge with the file.

The launcher file wins, field by field: a partition written in the YAML keeps what it writes
(``heavy: {disabled: true}`` disables a partition Slurm reports), and takes from Slurm what it
leaves out. Answers are cached per launcher for ``ttl`` seconds in this process, and optionally
on disk (raw outputs, re-read on load), so a burst of ``reqsolve find`` calls asks Slurm once.
A failure anywhere raises :class:`SlurmQueryError` before anything is cached or merged.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reqsolve.config.model import (
    LauncherFile,
    Partition,
    Qos,
    SlurmLauncherConfig,
    SshConnectorConfig,
)
from reqsolve.connectors import CommandResult, Connector, connector_for, resolve_connector
from reqsolve.errors import SlurmQueryError
from reqsolve.slurm import access, cache, readers
from reqsolve.slurm.convert import Discovered, LeftOut, build

DEFAULT_TTL = 300.0
# How long a failed discovery is remembered on disk: the next `reqsolve find` processes skip
# the launcher at once instead of each waiting for a dead controller (docs/slurm.md).
FAILURE_TTL = 60.0
_CACHE_FORMAT = 3  # 3: the user's associations (docs/semantics.md §3)
# JSON output of scontrol/sacctmgr appeared in 23.02; sinfo --json in 21.08.
_SCONTROL_JSON_SINCE = (23, 2)
_SINFO_JSON_SINCE = (21, 8)


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    launcher: SlurmLauncherConfig  # merged with the file
    discovered: Discovered  # what Slurm said, before the merge
    commands: tuple[tuple[str, ...], ...]  # what was run (empty when served from a cache)
    cached: bool = False

    @property
    def left_out(self) -> tuple[LeftOut, ...]:
        return self.discovered.left_out


@dataclass(frozen=True, slots=True)
class _Outputs:
    version: tuple[int, int]
    nodes: tuple[tuple[str, ...], str]
    partitions: tuple[tuple[str, ...], str]
    qos: tuple[tuple[str, ...], str] | None  # None: no accounting database
    user: str = ""
    associations: tuple[tuple[str, ...], str] | None = None  # None: no accounting database

    @property
    def commands(self) -> tuple[tuple[str, ...], ...]:
        found = [self.nodes[0], self.partitions[0]]
        if self.qos is not None:
            found.append(self.qos[0])
        if self.associations is not None:
            found.append(self.associations[0])
        return tuple(found)

    def discovered(self) -> Discovered:
        nodes = readers.read_nodes(self.nodes[1], self.nodes[0])
        partitions = readers.read_partitions(self.partitions[1], self.partitions[0])
        qos = [] if self.qos is None else readers.read_qos(self.qos[1], self.qos[0])
        if not nodes:
            raise SlurmQueryError(self.nodes[0], "Slurm reported no node")
        associations = None if self.associations is None else access.read_associations(
            self.associations[1], self.associations[0], self.user
        )
        lists = tuple(
            access.partition_access(p.name, p.allow_accounts, p.deny_accounts, p.allow_qos,
                                    p.deny_qos)
            for p in partitions
        )
        return replace(build(nodes, partitions, qos),
                       access=access.Access(self.user, associations, lists))


_memory: dict[str, tuple[float, _Outputs]] = {}


def clear_cache() -> None:
    """Forget every in-process answer (tests, or after changing the cluster)."""
    _memory.clear()


default_cache_dir = cache.default_cache_dir


def _key(launcher: SlurmLauncherConfig, launcher_file: LauncherFile) -> str:
    """Which cluster answers: the launcher, the machine asking, and where its commands run
    (the ssh target, or this machine's SLURM_CONF): a $HOME shared by two clusters' login nodes
    never answers one with the other's nodes."""
    connector = resolve_connector(launcher.connector, launcher_file)
    if isinstance(connector, SshConnectorConfig):
        target = "\0".join(
            ("ssh", connector.user or "", connector.hostname, str(connector.port),
             *connector.options)
        )
    else:
        target = f"{connector}\0{os.environ.get('SLURM_CONF', '')}"
    raw = "\0".join(
        (launcher_file.path, launcher.id, launcher.path, socket.gethostname(), target,
         user_of(launcher, launcher_file))
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def user_of(launcher: SlurmLauncherConfig, launcher_file: LauncherFile) -> str:
    """Whose associations: an ssh connector's ``user``, else this process's user (by uid, as
    Slurm knows it; docs/slurm.md)."""
    connector = resolve_connector(launcher.connector, launcher_file)
    if isinstance(connector, SshConnectorConfig) and connector.user:
        return connector.user
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid without a passwd entry (containers)
        return str(os.getuid())


def _binary(launcher: SlurmLauncherConfig, name: str) -> str:
    return f"{launcher.path.rstrip('/')}/{name}" if launcher.path else name


def parse_version(text: str) -> tuple[int, int]:
    """``slurm 22.05.8`` / ``slurm-wlm 22.05.8`` -> (22, 5)."""
    match = re.search(r"(\d+)\.(\d+)", text)
    if match is None:
        raise ValueError(f"no version number in {text.strip()[:80]!r}")
    return int(match.group(1)), int(match.group(2))


class _Deadline:
    """One time limit for all the commands of one discovery (four slow commands no longer take
    four times the limit)."""

    def __init__(self, connector: Connector, timeout: float) -> None:
        self.connector = connector
        self.timeout = timeout
        self.end = time.monotonic() + timeout

    def run(self, argv: tuple[str, ...], *, check: bool = True) -> CommandResult:
        spent = f"the discovery took more than its {self.timeout:g} s (one limit for all" \
            " its commands)"
        left = self.end - time.monotonic()
        if left <= 0:
            raise SlurmQueryError(argv, f"not run: {spent}")
        try:
            return self.connector.run(argv, timeout=left, check=check)
        except SlurmQueryError as exc:
            if self.end - time.monotonic() > 0 or not exc.timed_out:
                raise
            raise SlurmQueryError(argv, f"timed out: {spent}", stderr=exc.stderr) from None


def _query(
    launcher: SlurmLauncherConfig, connector: Connector, timeout: float, user: str
) -> _Outputs:
    scontrol, sinfo = _binary(launcher, "scontrol"), _binary(launcher, "sinfo")
    sacctmgr = _binary(launcher, "sacctmgr")
    deadline = _Deadline(connector, timeout)
    version_command = (scontrol, "--version")
    version_text = deadline.run(version_command).stdout
    try:
        version = parse_version(version_text)
    except ValueError as exc:
        raise SlurmQueryError(version_command, f"unexpected output: {exc}") from None
    if version >= _SCONTROL_JSON_SINCE:
        nodes_command: tuple[str, ...] = (scontrol, "show", "nodes", "--json")
        partitions_command: tuple[str, ...] = (scontrol, "show", "partition", "--json")
        qos_command: tuple[str, ...] = (sacctmgr, "show", "qos", "--json")
    else:
        if version >= _SINFO_JSON_SINCE:
            nodes_command = (sinfo, "--json")
        else:
            nodes_command = (scontrol, "--oneliner", "show", "nodes")
        partitions_command = (scontrol, "--oneliner", "show", "partition")
        qos_command = (sacctmgr, *readers.QOS_COMMAND[1:])
    nodes = deadline.run(nodes_command).stdout
    partitions = deadline.run(partitions_command).stdout
    qos_result = deadline.run(qos_command, check=False)
    qos: tuple[tuple[str, ...], str] | None = (qos_command, qos_result.stdout)
    if qos_result.returncode != 0:
        if "accounting_storage/slurmdbd" in qos_result.stderr:
            qos = None  # no accounting database: Slurm enforces no QoS at all
        else:
            raise SlurmQueryError(
                qos_command, "failed", returncode=qos_result.returncode, stderr=qos_result.stderr
            )
    associations = None
    if qos is not None:  # with an accounting database, what the user may submit with
        assoc_command = access.assoc_command(sacctmgr, user)
        associations = (assoc_command, deadline.run(assoc_command).stdout)
    return _Outputs(version, (nodes_command, nodes), (partitions_command, partitions), qos,
                    user, associations)


def _outputs(data: dict[str, Any]) -> _Outputs:
    """A stored answer back to outputs (KeyError, TypeError... when damaged)."""
    qos = data["qos"]
    associations = data["associations"]

    def command(value: Any) -> tuple[tuple[str, ...], str]:
        argv, text = value
        if not (isinstance(text, str) and all(isinstance(word, str) for word in argv)):
            raise TypeError("not a command and its output")
        return tuple(argv), text

    return _Outputs(
        version=(int(data["version"][0]), int(data["version"][1])),
        nodes=command(data["nodes"]),
        partitions=command(data["partitions"]),
        qos=None if qos is None else command(qos),
        user=str(data["user"]),
        associations=None if associations is None else command(associations),
    )


def _read_disk(path: Path, ttl: float, now: float) -> tuple[float, _Outputs] | None:
    """The stored answer when fresh; raises the stored failure when it is younger than
    :data:`FAILURE_TTL`; None when absent, stale, not believable or damaged (ask Slurm)."""
    data = cache.read(path)
    if data is None or data.get("format") != _CACHE_FORMAT:
        return None
    try:
        written = float(data["time"])
        age = now - written
        failure = data.get("failure")
        if failure is not None:
            if 0 <= age <= min(ttl, FAILURE_TTL):
                raise _remembered(failure, age)
            return None
        if not 0 <= age <= ttl:
            return None
        return written, _outputs(data)
    except (ValueError, KeyError, TypeError, IndexError, OverflowError):
        return None  # damaged: ask Slurm again


def _remembered(failure: dict[str, Any], age: float) -> SlurmQueryError:
    code = failure.get("returncode")
    return SlurmQueryError(
        tuple(str(word) for word in failure["command"]),
        f"{str(failure['message'])[:500]} [remembered from {age:.0f} s ago: asked again"
        f" {FAILURE_TTL - age:.0f} s from now; `reqsolve slurm discover` asks at once]",
        returncode=code if isinstance(code, int) and not isinstance(code, bool) else None,
        stderr=str(failure.get("stderr", ""))[:2000],
    )


def _write_disk(path: Path, outputs: _Outputs, now: float) -> None:
    cache.write(path, {
        "format": _CACHE_FORMAT,
        "time": now,
        "version": list(outputs.version),
        "nodes": [list(outputs.nodes[0]), outputs.nodes[1]],
        "partitions": [list(outputs.partitions[0]), outputs.partitions[1]],
        "qos": None if outputs.qos is None else [list(outputs.qos[0]), outputs.qos[1]],
        "user": outputs.user,
        "associations": None if outputs.associations is None
        else [list(outputs.associations[0]), outputs.associations[1]],
    })


def _write_failure(path: Path, error: SlurmQueryError, now: float) -> None:
    """Remember ``error`` for :data:`FAILURE_TTL` s."""
    cache.write(path, {
        "format": _CACHE_FORMAT,
        "time": now,
        "failure": {"command": list(error.command), "message": error.message,
                    "returncode": error.returncode, "stderr": error.stderr[:2000]},
    })


def merge_qos(written: tuple[Qos, ...], discovered: tuple[Qos, ...]) -> tuple[Qos, ...]:
    """The file's QoS entries (file order) over Slurm's, then Slurm's others in Slurm's order."""
    found = {q.name: q for q in discovered}
    merged = []
    for qos in written:
        slurm = found.get(qos.name)
        if slurm is None:
            merged.append(qos)
            continue
        merged.append(
            Qos(
                name=qos.name,
                max_duration=qos.max_duration if qos.max_duration is not None
                else slurm.max_duration,
                min_gpu=qos.min_gpu or slurm.min_gpu,
                priority=qos.priority or slurm.priority,
            )
        )
    names = {q.name for q in written}
    merged.extend(q for q in discovered if q.name not in names)
    return tuple(merged)


def merge_partition(written: Partition, discovered: Partition) -> Partition:
    """One partition, the file's fields winning over Slurm's.

    Node groups, QoS and account lists are taken whole from the file when it writes them.
    ``disabled`` is true when either side says so: the file cannot re-enable a partition that
    Slurm reports down (a job sent there would only pend).
    """
    if discovered.configuration is None:
        configuration = written.configuration
    else:
        configuration = discovered.configuration.merged(written.configuration)
    return Partition(
        name=written.name,
        nodes=written.nodes or discovered.nodes,
        configuration=configuration,
        qos=written.qos or discovered.qos,
        accounts=written.accounts or discovered.accounts,
        priority=written.priority or discovered.priority,
        disabled=written.disabled or discovered.disabled,
        max_nodes=written.max_nodes if written.max_nodes is not None else discovered.max_nodes,
        # Slurm cannot say it (a site's job_submit plugin decides): the file's alone
        memory_option=written.memory_option,
    )


def merge(launcher: SlurmLauncherConfig, discovered: Discovered) -> SlurmLauncherConfig:
    """The launcher as written, completed by discovery.

    Partition order is Slurm's: a partition the file writes refines Slurm's without moving it
    (preference between partitions is ``priority``'s job), and the partitions only the file
    knows come after, in file order. The order decides the order of ``--partition`` in answers.
    """
    written = {p.name: p for p in launcher.partitions}
    partitions = []
    for slurm in discovered.partitions:
        partition = written.get(slurm.name)
        partitions.append(slurm if partition is None else merge_partition(partition, slurm))
    names = {p.name for p in discovered.partitions}
    partitions.extend(p for p in launcher.partitions if p.name not in names)
    return replace(
        launcher, qos=merge_qos(launcher.qos, discovered.qos), partitions=tuple(partitions),
        access=discovered.access,
    )


def discover_details(
    launcher: SlurmLauncherConfig,
    launcher_file: LauncherFile,
    *,
    ttl: float = DEFAULT_TTL,
    runner: Connector | None = None,
    timeout: float = 30.0,
    cache_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> DiscoveryResult:
    """Discovery with what was run and which hosts were left out (see :func:`discover`)."""
    key = _key(launcher, launcher_file)
    now = clock()
    found = _memory.get(key)
    if found is not None and not 0 <= now - found[0] <= ttl:
        found = None
    disk_path = None
    if cache_dir is not None:
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", launcher.id)[:40]
        disk_path = cache_dir / f"slurm-{safe_id}-{key}.json"
        if found is None:
            found = _read_disk(disk_path, ttl, now)  # raises a failure remembered briefly
    if found is not None:
        written, outputs = found
        try:
            discovered = outputs.discovered()
        except SlurmQueryError:
            pass  # a stored answer that no longer reads: ask Slurm again, as if absent
        else:
            _memory[key] = (written, outputs)
            return DiscoveryResult(merge(launcher, discovered), discovered, (), cached=True)
    connector = runner if runner is not None else connector_for(launcher.connector, launcher_file)
    try:
        outputs = _query(launcher, connector, timeout, user_of(launcher, launcher_file))
        discovered = outputs.discovered()  # raises on garbled output, before anything is kept
    except SlurmQueryError as exc:
        if disk_path is not None:
            _write_failure(disk_path, exc, now)
        raise
    _memory[key] = (now, outputs)
    if disk_path is not None:
        _write_disk(disk_path, outputs, now)
    return DiscoveryResult(merge(launcher, discovered), discovered, outputs.commands)


def left_out(
    launcher: SlurmLauncherConfig, launcher_file: LauncherFile
) -> tuple[LeftOut, ...]:
    """Hosts the last discovery of this launcher (in this process) left out, with reasons.

    For ``explain``: a drained or down node is not a candidate, and this says why it is
    missing. Empty when the launcher was never discovered here.
    """
    found = _memory.get(_key(launcher, launcher_file))
    if found is None:
        return ()
    try:
        return found[1].discovered().left_out
    except SlurmQueryError:  # pragma: no cover - cached outputs were read once already
        return ()


def discover(
    launcher: SlurmLauncherConfig,
    launcher_file: LauncherFile,
    *,
    ttl: float = DEFAULT_TTL,
    runner: Connector | None = None,
    timeout: float = 30.0,
    cache_dir: Path | None = None,
    disk_cache: bool = True,
) -> SlurmLauncherConfig:
    """The launcher completed by what its Slurm reports (``query_slurm: true``).

    Runs ``scontrol``/``sinfo``/``sacctmgr`` from ``launcher.path`` through the launcher's
    connector (or ``runner``); raises :class:`SlurmQueryError` when any of them fails or prints
    something unreadable — the caller skips the launcher with that reason. Answers are kept
    ``ttl`` seconds in this process and, unless ``disk_cache`` is false or
    ``REQSOLVE_NO_DISK_CACHE=1``, under ``cache_dir`` (default ``~/.cache/reqsolve``), so
    successive ``reqsolve find`` processes ask Slurm once.
    """
    if cache_dir is None and disk_cache and os.environ.get("REQSOLVE_NO_DISK_CACHE") != "1":
        cache_dir = default_cache_dir()
    return discover_details(
        launcher, launcher_file, ttl=ttl, runner=runner, timeout=timeout, cache_dir=cache_dir
    ).launcher
