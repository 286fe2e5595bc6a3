"""Which registry answers a configuration, and ``find_launcher``: the library's front door.

The one module that knows every kind of configuration: a YAML launcher file
(:class:`reqsolve.registry.Registry`), a loaded :class:`LauncherFile`, a configuration
directory or ``launchers.py`` (:mod:`reqsolve.pyconfig`), or nothing (the discovered file, else
this machine). It sits above both, so neither reaches back up to dispatch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, overload

from reqsolve.choosing import Answer
from reqsolve.config.model import LauncherFile
from reqsolve.lazy import FIRST_USE
from reqsolve.registry import ConfigSpec, Registry, Spec, shared_registry

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.launchers import Launcher, SlurmLauncher

_registries: dict[str, Registry] = {}
_registries_lock = threading.Lock()


def registry_for(config: ConfigSpec = None, *, on_error: str = "raise") -> Registry:
    """The shared registry of a path, of a :class:`LauncherFile`, or of the discovered file.

    With nothing given and no launcher file found anywhere, the registry holds one local
    launcher describing this machine. A directory or a ``launchers.py`` is served by
    :mod:`reqsolve.pyconfig` (``on_error``: what a failing ``launchers.py`` does, "raise" or
    "continue" with the YAML launchers).
    """
    if isinstance(config, LauncherFile):
        return shared_registry(config)
    if config is None:
        # imported here: a cold ``find --config FILE`` never looks for a configuration directory
        from reqsolve.pyconfig import discover_configuration

        path = discover_configuration()
        if path is None:
            # imported here: only the no-configuration fallback describes this machine
            from reqsolve.hostinfo import embedded_launcher_file

            return shared_registry(embedded_launcher_file())
        config = path
    key = os.path.abspath(os.fspath(config))
    if os.path.isdir(key) or key.endswith(".py") or on_error != "raise":
        return _python_registry(key, on_error)
    found = _registries.get(key)
    if found is None:
        with _registries_lock:
            found = _registries.setdefault(key, Registry(key))
    return found


def _python_registry(key: str, on_error: str) -> Registry:
    """A directory (launchers.py and/or launchers.yaml) or a launchers.py."""
    # imported here: a YAML-only process never imports the launchers.py machinery
    from reqsolve.pyconfig import make_registry

    cache_key = f"{key}\0{on_error}"
    found = _registries.get(cache_key)
    if found is None:
        # one thread runs the user's launchers.py, once: the others wait for its registry
        with FIRST_USE:
            found = _registries.get(cache_key)
            if found is None:
                found = _registries[cache_key] = make_registry(key, on_error)
    return found


def find_match(
    spec: Spec,
    *,
    tags: Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    on_error: str = "raise",
    slurm_only: bool = False,
) -> tuple[Answer, Launcher]:
    """The full answer (which alternative, which candidates, options) and its launcher; the
    arguments are :func:`find_launcher`'s."""
    registry = registry_for(config, on_error=on_error)
    match = registry.find(spec, tags=tags, offline=offline, slurm_only=slurm_only)
    return match, registry.launcher_for(match)


@overload
def find_launcher(
    spec: Spec,
    *,
    tags: Iterable[str] = ...,
    config: ConfigSpec = ...,
    offline: bool = ...,
    on_error: str = ...,
    slurm_only: Literal[True],
) -> SlurmLauncher: ...


@overload
def find_launcher(
    spec: Spec,
    *,
    tags: Iterable[str] = ...,
    config: ConfigSpec = ...,
    offline: bool = ...,
    on_error: str = ...,
    slurm_only: bool = ...,
) -> Launcher: ...


def find_launcher(
    spec: Spec,
    *,
    tags: Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    on_error: str = "raise",
    slurm_only: bool = False,
) -> Launcher:
    """The launcher to run a job needing ``spec`` (an expression, or builders' value).

    ``config``: a launcher file path, a loaded :class:`LauncherFile`, or None to look for the
    file the usual way (and fall back to this machine). ``tags``: launchers having one of them;
    a string is one tag (``tags="cluster"``). ``offline``: run no Slurm command (``query_slurm``
    launchers answer from the file alone). ``slurm_only``: leave local launchers out, as the
    command line's ``--slurm-only``: the answer is then a :class:`SlurmLauncher` (so typed, for a
    type checker). Raises :class:`~reqsolve.errors.LauncherNotFoundError` with one reason per
    candidate. A configuration directory's ``launchers.py`` is asked first (with
    ``slurm_only``, a local launcher it returns is passed over); when it raises,
    ``on_error="continue"`` goes on with the YAML launchers instead of raising ConfigError.
    Safe to call from several threads, from the first call on (docs/api.md).
    """
    return find_match(
        spec, tags=tags, config=config, offline=offline, on_error=on_error, slurm_only=slurm_only
    )[1]
