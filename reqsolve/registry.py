"""Where launchers come from, once: load, compile, cache, reload on change.

A :class:`Registry` holds one launcher file compiled into candidates. It checks the file's
mtime and size on each query (one ``stat``) and rebuilds when they change; the new state is
built completely and then swapped in, so a concurrent query sees either the old or the new
state, never half of one. ``query_slurm`` launchers are completed by the Slurm discovery hook
(when installed and not offline); a discovery that fails skips that launcher with the failure
as its reason (docs/semantics.md §5.5).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from reqsolve.candidates import CompiledLauncher, compile_launcher, expand_candidates
from reqsolve.choosing import Answer, choose
from reqsolve.config.model import (
    EMBEDDED_PATH,
    LauncherFile,
    LocalLauncherConfig,
    SlurmLauncherConfig,
)
from reqsolve.errors import SlurmQueryError
from reqsolve.lazy import FIRST_USE, once
from reqsolve.requirement import Alternative, Requirement, as_requirement
from reqsolve.units import unit_tables

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.launchers import Launcher

DISCOVERY_INTERVAL = 60.0  # seconds a Slurm discovery result is reused
Spec = str | Requirement | Alternative
ConfigSpec = str | os.PathLike[str] | LauncherFile | None


@lru_cache(maxsize=1024)
def parse_spec(text: str) -> Requirement:
    """The parsed requirement of an expression (cached: users repeat the same few)."""
    # imported on first use: the CLI's cold start must not pay for the grammar when unused
    from reqsolve.parser import parse

    return parse(text)


def as_spec(spec: Spec) -> Requirement:
    if isinstance(spec, str):
        return parse_spec(spec)
    return as_requirement(spec)


def _load(path: str) -> LauncherFile:
    with FIRST_USE:  # threads loading their first files import PyYAML (and pint) once
        # the loader (PyYAML) loads with the first file read: a registry built from a
        # LauncherFile never needs it
        from reqsolve.config.loader import load_config

        unit_tables()  # every launcher file states sizes: built here, not raced by threads
    return load_config(path)


@once
def _discovery_hook() -> Callable[[SlurmLauncherConfig, LauncherFile], SlurmLauncherConfig]:
    """Slurm discovery for ``query_slurm`` launchers (imported only when one is asked)."""
    # imported only when a launcher asks for Slurm discovery (query_slurm: true)
    from reqsolve.slurm.query import discover

    return discover


@dataclass(frozen=True, slots=True)
class Compiled:
    """A launcher file and its compiled launchers (file order). Immutable: swapped whole."""

    launcher_file: LauncherFile
    launchers: tuple[CompiledLauncher, ...]
    signature: tuple[int, int] | None = None  # (mtime_ns, size) of the file
    discovered: dict[int, tuple[float, CompiledLauncher]] = field(default_factory=dict)
    # the launchers as this machine's nvidia-smi sees them, and warnings (on_this_machine),
    # computed on the first query that is not offline
    machine: list[tuple[tuple[CompiledLauncher, ...], tuple[str, ...]]] = field(
        default_factory=list
    )

    def checked(self) -> tuple[tuple[CompiledLauncher, ...], tuple[str, ...]]:
        if not self.machine:
            self.machine.append(on_this_machine(self))
        return self.machine[0]


def compile_file(launcher_file: LauncherFile, signature: tuple[int, int] | None = None) -> Compiled:
    return Compiled(launcher_file, expand_candidates(launcher_file), signature)


def on_this_machine(state: Compiled) -> tuple[tuple[CompiledLauncher, ...], tuple[str, ...]]:
    """The launchers as this machine's nvidia-smi sees them (asked once per process, only for
    a file describing local GPUs, or this machine's own launcher), and warnings to print:
    a local launcher whose GPUs nvidia-smi contradicts is matched on the hardware."""
    launcher_file = state.launcher_file
    notes: list[str] = []
    launchers = state.launchers
    if launcher_file.path == EMBEDDED_PATH:
        # imported here: only this machine's own launcher says why its GPUs are unknown
        from reqsolve.hostinfo import machine_probe

        failure = machine_probe().failure
        if failure is not None:
            notes.append(f"{failure}: this machine's GPUs are unknown; a job asking GPUs fails")
    elif any(isinstance(c, LocalLauncherConfig) and c.gpus for c in launcher_file.launchers):
        launchers = tuple(_on_this_machine(compiled, notes) for compiled in launchers)
    return launchers, tuple(notes)


def _on_this_machine(compiled: CompiledLauncher, notes: list[str]) -> CompiledLauncher:
    """A local launcher describing this machine's GPUs is matched on what nvidia-smi reports
    when the two contradict (docs/local-gpus.md), with a note naming both; its config stays
    as the file wrote it."""
    # imported here: only a file describing local GPUs asks nvidia-smi (once per process)
    from reqsolve.hostinfo import describes_this_machine, matched_as

    config = compiled.config
    if not describes_this_machine(config):
        return compiled
    assert isinstance(config, LocalLauncherConfig)
    seen, note = matched_as(config)
    if note is not None:
        notes.append(note)
    if seen is config:
        return compiled
    return replace(compile_launcher(seen, compiled.position), config=config)


class Registry:
    """One launcher file (or a given :class:`LauncherFile`), compiled once, reloaded on change."""

    def __init__(self, source: str | os.PathLike[str] | LauncherFile) -> None:
        self._lock = threading.Lock()
        if isinstance(source, LauncherFile):
            self.path: str | None = None
            self._state: Compiled | None = compile_file(source)
        else:
            self.path = os.fspath(source)
            self._state = None

    def _signature(self) -> tuple[int, int] | None:
        assert self.path is not None
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def state(self) -> Compiled:
        """The compiled file, reloaded first when the file changed on disk."""
        state = self._state
        if self.path is None:
            assert state is not None
            return state
        signature = self._signature()
        if state is not None and state.signature == signature:
            return state
        with self._lock:
            state = self._state
            if state is None or state.signature != signature:
                state = compile_file(_load(self.path), signature)
                self._state = state  # swap in only once fully built
        return state

    def launchers(self, *, offline: bool = False) -> tuple[CompiledLauncher, ...]:
        """Compiled launchers; ``query_slurm`` ones completed by discovery unless offline."""
        state = self.state()
        if offline:
            return state.launchers
        hook = None
        result: list[CompiledLauncher] = []
        for compiled in state.checked()[0]:
            config = compiled.config
            if not (isinstance(config, SlurmLauncherConfig) and config.query_slurm):
                result.append(compiled)
                continue
            if hook is None:
                hook = _discovery_hook()
            result.append(self._discovered(state, compiled, hook))
        return tuple(result)

    def _discovered(
        self,
        state: Compiled,
        compiled: CompiledLauncher,
        hook: Callable[[SlurmLauncherConfig, LauncherFile], SlurmLauncherConfig],
    ) -> CompiledLauncher:
        now = time.monotonic()
        cached = state.discovered.get(compiled.position)
        if cached is not None and now - cached[0] < DISCOVERY_INTERVAL:
            return cached[1]
        config = compiled.config
        assert isinstance(config, SlurmLauncherConfig)
        try:
            found = compile_launcher(hook(config, state.launcher_file), compiled.position)
        except SlurmQueryError as exc:
            found = replace(
                compile_launcher(replace(config, partitions=()), compiled.position),
                failure=f"Slurm discovery failed: {exc}".splitlines()[0],
            )
        state.discovered[compiled.position] = (now, found)
        return found

    def find(
        self,
        spec: Spec,
        *,
        tags: Iterable[str] = (),
        offline: bool = False,
        slurm_only: bool = False,
    ) -> Answer:
        """The highest-ranked answer for ``spec`` (an expression, or builders' value) among this
        file's launchers, as :func:`reqsolve.choosing.choose` ranks them (docs/semantics.md §5).

        ``tags``: only launchers having one of them (a string is one tag); ``offline``: no Slurm
        command runs, ``query_slurm`` launchers answer from the file alone; ``slurm_only``:
        local launchers are left out (``--slurm-only``). The file is reloaded first when it
        changed on disk. Raises :class:`~reqsolve.errors.InvalidExpression` for a bad
        expression, :class:`~reqsolve.errors.ConfigError` for a bad file, and
        :class:`~reqsolve.errors.LauncherNotFoundError` (one reason per candidate) when nothing
        matches. :meth:`launcher_for` turns the answer into a launcher object.
        """
        return choose(self.launchers(offline=offline), as_spec(spec), tags, slurm_only=slurm_only)

    def notes(self, *, offline: bool = False) -> tuple[str, ...]:
        """Warnings for a person about the file as this machine sees it (a local launcher
        whose GPUs nvidia-smi contradicts: matching follows nvidia-smi); none offline (the
        file as written is used, and no command is run)."""
        return () if offline else self.state().checked()[1]

    def launcher_for(self, match: Answer) -> Launcher:
        """The runnable launcher object (:class:`~reqsolve.launchers.SlurmLauncher` or
        :class:`~reqsolve.launchers.LocalLauncher`) of an answer of :meth:`find`."""
        return to_launcher(match, self.state().launcher_file)


def to_launcher(match: Answer, launcher_file: LauncherFile | None) -> Launcher:
    """The runnable launcher object for an answer."""
    # imported here: ``reqsolve find`` prints the options and never builds a launcher object
    from reqsolve.connectors import resolve_connector
    from reqsolve.launchers import LocalLauncher, SlurmLauncher

    config = match.config
    if isinstance(config, LocalLauncherConfig):
        return LocalLauncher(
            id=config.id,
            tokens=dict(config.tokens),
            connector=resolve_connector(config.connector, launcher_file),
        )
    assert match.options is not None, "a Slurm launcher's answer always has its options"
    return SlurmLauncher(
        connector=resolve_connector(config.connector, launcher_file),
        options=match.options,
        binpath=config.path,
        id=config.id,
    )


# --- registries of LauncherFile objects (what a launchers.py's ``solve()`` passes)

_by_object: dict[int, tuple[LauncherFile, Registry]] = {}
_by_object_lock = threading.Lock()
MAX_OBJECT_REGISTRIES = 16


def shared_registry(launcher_file: LauncherFile) -> Registry:
    """The shared registry of a loaded :class:`LauncherFile` (compiled once per object).

    Keyed by identity on purpose: a LauncherFile is a big immutable value built once by its
    owner; hashing it by value on every query would cost more than compiling it. The entry
    holds the object, so its id cannot be reused while cached; at most 16 are kept.
    """
    entry = _by_object.get(id(launcher_file))
    if entry is not None and entry[0] is launcher_file:
        return entry[1]
    registry = Registry(launcher_file)
    with _by_object_lock:
        if len(_by_object) >= MAX_OBJECT_REGISTRIES:
            _by_object.clear()
        _by_object[id(launcher_file)] = (launcher_file, registry)
    return registry
