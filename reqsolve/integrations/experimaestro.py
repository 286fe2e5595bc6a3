"""experimaestro's ``launchers.py``, solved by reqsolve on the ``launchers.yaml`` beside it.

experimaestro (since 1.5.8) asks a ``find_launcher(requirement, tags)`` function defined in
``launchers.py`` of its configuration directory (``~/.config/experimaestro`` unless
``--xpm-config-dir``/``LauncherRegistry.set_config_dir`` names another) and no longer reads
``launchers.yaml``. With this module the whole ``launchers.py`` is one line::

    from reqsolve.integrations.experimaestro import find_launcher

and the ``launchers.yaml`` (with ``tokens.yaml`` and ``connectors.yaml``) of that directory is
solved by reqsolve. :func:`find_launcher` takes experimaestro's own requirement objects (a
parsed string, or its ``cuda_gpu(mem="14G") * 2 & cpu(cores=4)`` builders: sizes in bytes and
durations in seconds, as experimaestro gives them), and returns experimaestro's own launchers:
``SlurmLauncher(options=SlurmOptions(...), connector=...)`` for a Slurm answer, a
``DirectLauncher`` for a local one (taking the tokens the launcher declares), or None when
nothing matches, with reqsolve's reasons in experimaestro's log (logger ``xpm.reqsolve``).

experimaestro is imported inside the functions only: ``import reqsolve`` never needs it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reqsolve.answers.renderings import experimaestro_options
from reqsolve.config.model import LauncherFile, LocalLauncherConfig, SshConnectorConfig
from reqsolve.errors import InvalidValue, LauncherNotFoundError
from reqsolve.requirement import Accelerator, Alternative, Cpu, Requirement

# A child of experimaestro's own logger ("xpm"): its handlers and level apply.
logger = logging.getLogger("xpm.reqsolve")

LAUNCHERS_FILE = "launchers.yaml"
DEFAULT_CONFIG_DIR = "~/.config/experimaestro"
OFFLINE_VARIABLE = "REQSOLVE_OFFLINE"


class Unsupported(InvalidValue):
    """A requirement experimaestro can state and reqsolve cannot (Apple MPS GPUs)."""


def config_directory() -> Path:
    """The configuration directory experimaestro is using (its ``LauncherRegistry``'s)."""
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launcherfinder.registry import LauncherRegistry

    current = LauncherRegistry.CURRENT_CONFIG_DIR
    return Path(current if current is not None else DEFAULT_CONFIG_DIR).expanduser()


# --- experimaestro's requirement -> reqsolve's


def _simple_requirements(requirement: Any) -> Iterator[Any]:
    """The alternatives of an experimaestro requirement, in its order (unions flattened)."""
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launcherfinder.specs import HostSimpleRequirement, RequirementUnion

    if isinstance(requirement, RequirementUnion):
        for item in requirement.requirements:
            yield from _simple_requirements(item)
    elif isinstance(requirement, HostSimpleRequirement):
        yield requirement
    else:
        raise InvalidValue(
            f"not an experimaestro requirement: {requirement!r}",
            "pass a string such as 'duration=4h & cuda(mem=24G)*2' or experimaestro's"
            " builders (experimaestro.launcherfinder.cuda_gpu, cpu, duration)",
        )


def to_alternative(requirement: Any) -> Alternative:
    """One of experimaestro's ``HostSimpleRequirement`` as reqsolve's alternative.

    Sizes are bytes and durations seconds on both sides (experimaestro's ``4G`` is 4x10^9
    bytes, as reqsolve's). experimaestro writes "no cpu() term" as 0 cores and 0 bytes; a
    ``cpu()`` term has at least one core (``cores=0`` with a memory is refused, as reqsolve's
    own syntax refuses it). ``gpu()`` (any accelerator) is a CUDA GPU for
    reqsolve, whose launchers have no other kind; ``mps()`` raises :class:`Unsupported`.
    """
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launcherfinder.specs import MPSSpecification

    gpus = []
    for accelerator in requirement.accelerators:
        if isinstance(accelerator, MPSSpecification):
            raise Unsupported(
                "mps() asks for an Apple GPU: reqsolve's launchers describe CUDA GPUs only",
                "ask gpu(...) or cuda(...) for a launcher of launchers.yaml",
            )
        gpus.append(Accelerator(int(accelerator.memory), accelerator.model or None))
    cores, memory = int(requirement.cpu.cores), int(requirement.cpu.memory)
    if memory and not cores:
        raise InvalidValue(
            f"cpu(mem=..., cores={cores}): cores must be a whole number >= 1",
            "write e.g. cores=4, or leave cores out (one core)",
        )
    cpu = Cpu(cores, memory) if cores else None
    return Alternative(duration=int(requirement.duration), cpu=cpu, gpus=tuple(gpus))


def to_requirement(requirement: Any) -> Requirement:
    """experimaestro's requirement (a string in its syntax, parsed by its own parser, or its
    objects) as reqsolve's :class:`Requirement`, alternatives in the same order.

    An alternative reqsolve cannot state (``mps()``) is left out, and logged; when no
    alternative is left, :class:`Unsupported` is raised.
    """
    if isinstance(requirement, str):
        # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so
        # that this module imports without it
        from experimaestro.launcherfinder.parser import parse

        requirement = parse(requirement)
    alternatives = []
    skipped: list[Unsupported] = []
    for simple in _simple_requirements(requirement):
        try:
            alternatives.append(to_alternative(simple))
        except Unsupported as exc:
            skipped.append(exc)
            logger.info("reqsolve: alternative %r left out: %s", simple, exc.message)
    if not alternatives:
        raise skipped[0] if skipped else InvalidValue("empty experimaestro requirement")
    return Requirement(tuple(alternatives))


# --- reqsolve's answer -> experimaestro's launcher


def connector(name: str | SshConnectorConfig, launcher_file: LauncherFile | None) -> Any:
    """experimaestro's connector for a launcher's ``connector:``.

    ``local`` is experimaestro's local connector; a connector of ``connectors.yaml`` is
    experimaestro's ``SshConnector`` (``user@host:port``; it needs ``experimaestro[ssh]``).
    """
    # imported when called: launchers (and its connectors) load only when experimaestro asks for a
    # launcher
    from reqsolve.connectors import resolve_connector

    found = resolve_connector(name, launcher_file) if isinstance(name, str) else name
    if found == "local":
        # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so
        # that this module imports without it
        from experimaestro.connectors.local import LocalConnector

        return LocalConnector.instance()
    if isinstance(found, SshConnectorConfig):
        try:
            import fabric  # noqa: F401
        except ImportError:
            raise InvalidValue(
                f"connector {found.id}: experimaestro's SshConnector needs fabric",
                "pip install 'experimaestro[ssh]'",
            ) from None
        # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so
        # that this module imports without it
        from experimaestro.connectors.ssh import SshConnector as XpmSshConnector

        host = found.hostname if found.user is None else f"{found.user}@{found.hostname}"
        if found.port is not None:
            host += f":{found.port}"
        if found.options:
            logger.warning(
                "reqsolve: connector %s: ssh options %s are not passed to experimaestro's"
                " SshConnector (put them in ~/.ssh/config)", found.id, ", ".join(found.options)
            )
        return XpmSshConnector.get(host)
    raise InvalidValue(
        f"unknown connector {found!r}",
        "write connector: local, or declare it in connectors.yaml (ssh: {name: {hostname}})",
    )


def _take_tokens(directory: Path, name: str, count: int, job: Any) -> None:
    """experimaestro's submit listener: the job holds ``count`` tokens of the counter ``name``
    while it runs. The counter is made here, at submission: finding a launcher writes nothing."""
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launcherfinder.registry import LauncherRegistry

    registry = LauncherRegistry.INSTANCES.get(directory) or LauncherRegistry(directory)
    try:
        token = registry.getToken(name)
    except AssertionError:
        raise InvalidValue(
            f"token {name!r} is not declared in {directory / 'tokens.yaml'}",
            f"declare it: countertoken: {{{name}: {{tokens: N}}}}",
        ) from None
    job.dependencies.add(token.dependency(count))


def local_launcher(config: LocalLauncherConfig, launcher_file: LauncherFile | None,
                   directory: Path, gpus: dict[str, str] | None = None) -> Any:
    """experimaestro's ``DirectLauncher``; each token of the launcher is experimaestro's
    counter token of the same name, declared in the directory's ``tokens.yaml``; ``gpus``
    (``CUDA_VISIBLE_DEVICES``, and ``CUDA_DEVICE_ORDER`` for GPUs named by index) go into the
    environment of its jobs (``Launcher.setenv``)."""
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launchers.direct import DirectLauncher

    launcher = DirectLauncher(connector(config.connector, launcher_file))
    for name, count in config.tokens:
        launcher.addListener(functools.partial(_take_tokens, directory, name, count))
    for name, value in (gpus or {}).items():
        launcher.setenv(name, value)
    return launcher


@functools.cache
def _unlocked_gpus_warning(path: str, launcher: str) -> None:
    """Said once per launcher of a file: not on every task experimaestro asks about."""
    logger.warning(
        "reqsolve: the jobs of local launcher %s (%s) see the GPUs the matching chose"
        " (CUDA_VISIBLE_DEVICES), but experimaestro runs them: reqsolve holds no lock on those"
        " GPUs, so jobs sharing one launcher share its GPUs (docs/experimaestro.md)",
        launcher, path,
    )


def job_gpus(registry: Any, match: Any) -> dict[str, str] | None:
    """What a local answer's job environment gets: its GPUs (none asked: none visible, as
    ``reqsolve submit`` does); None when they cannot be told (a warning is logged)."""
    # imported when a local answer is returned: the GPU matching of local jobs
    from reqsolve.errors import ReqsolveError
    from reqsolve.localjob import environment, gpu_plan

    if not match.alternative.gpus:
        return environment(())
    try:
        plan, warning = gpu_plan(match, registry.launcher_for(match))
    except ReqsolveError as exc:
        logger.warning("reqsolve: local launcher %s refused: %s", match.config.id, exc)
        return None
    if warning is not None:
        logger.warning("reqsolve: %s", warning)
    if plan is None:  # no GPU reported here: the variable is left as it is
        return {}
    _unlocked_gpus_warning(str(registry.path), match.config.id)
    return environment(plan.chosen())


# --- the function launchers.py exports


class Finder:
    """A ``find_launcher`` for experimaestro, solving on one launcher file.

    ``config``: a ``launchers.yaml`` or a directory holding one; None (the default) is the
    configuration directory experimaestro is using, looked up at each call. ``offline``: do not
    query Slurm for ``query_slurm`` launchers (use only what the file says); None (the default)
    is offline when the environment has ``REQSOLVE_OFFLINE=1``, the switch a one-line
    ``launchers.py`` leaves to its user.
    """

    def __init__(self, config: str | os.PathLike[str] | None = None, *,
                 offline: bool | None = None) -> None:
        self.config = None if config is None else Path(config).expanduser()
        self.offline = offline

    def is_offline(self) -> bool:
        if self.offline is not None:
            return self.offline
        return os.environ.get(OFFLINE_VARIABLE) == "1"

    def launcher_file(self) -> Path:
        where = self.config if self.config is not None else config_directory()
        return where / LAUNCHERS_FILE if where.is_dir() or self.config is None else where

    def __call__(self, requirement: Any, tags: Iterable[str] = frozenset()) -> Any:
        if isinstance(requirement, Requirement | Alternative):
            # reqsolve's own search asking a configuration directory's launchers.py (this
            # one-liner): passing lets it go on with the launchers.yaml beside it, which is
            # what this function would have solved
            return None
        # imported when called: the solver loads only when experimaestro asks for a launcher
        from reqsolve.finder import registry_for

        wanted = to_requirement(requirement)
        path = self.launcher_file()
        if not path.is_file():
            logger.warning("reqsolve: no launcher file %s: no launcher for %s", path, wanted)
            return None
        # the file itself, not its directory: the directory's launchers.py is this function
        registry = registry_for(path)
        try:
            match = registry.find(wanted, tags=tuple(tags), offline=self.is_offline())
        except LauncherNotFoundError as exc:
            lines = [f"reqsolve: no launcher of {path} for {wanted}: {exc}"]
            for reason in exc.reasons:
                where = reason.launcher + (f"/{reason.partition}" if reason.partition else "")
                if reason.group is not None:
                    where += f"[{reason.group}]"
                for key in ("qos", "account"):
                    if getattr(reason, key) is not None:
                        where += f" {key}={getattr(reason, key)}"
                lines.append(f"  alternative {reason.alternative}: {where}: {reason.reason}")
            logger.warning("\n".join(lines))
            return None
        launcher_file = registry.state().launcher_file
        config = match.config
        logger.info("reqsolve: %s answers %s", config.id, match.alternative)
        if isinstance(config, LocalLauncherConfig):
            gpus = job_gpus(registry, match)
            if gpus is None:
                return None
            return local_launcher(config, launcher_file, path.parent, gpus)
        # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so
        # that this module imports without it
        from experimaestro.launchers.slurm import SlurmLauncher

        assert match.options is not None
        return SlurmLauncher(
            connector=connector(config.connector, launcher_file),
            options=experimaestro_options(match.options),
            binpath=config.path,
        )


def find_launcher(requirement: Any, tags: Iterable[str] = frozenset()) -> Any:
    """What experimaestro asks ``launchers.py`` for: the launcher for ``requirement``, or None.

    Solves on the ``launchers.yaml`` of the configuration directory experimaestro is using.
    """
    return Finder()(requirement, tags)
