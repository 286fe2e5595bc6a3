"""What :func:`reqsolve.find_launcher` returns: a launcher ready to run jobs.

Mirrors experimaestro's objects so that user code written for it reads the same:
``SlurmLauncher(connector=..., options=SlurmOptions(...)).config(gpus_per_node=2)``.

:data:`Launcher` is a union told apart by ``type`` (``Literal["local"]`` or ``Literal["slurm"]``),
so that ``if launcher.type == "slurm": launcher.options.args()`` type-checks under
``mypy --strict`` (docs/api.md); ``isinstance`` works as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from reqsolve.answers.options import SlurmOptions
from reqsolve.config.model import SshConnectorConfig

_OPTION_NAMES = frozenset(f.name for f in fields(SlurmOptions))


@dataclass(frozen=True)
class LocalLauncher:
    """Run on a local (or ssh) host; ``tokens`` says how many of each counter one job takes."""

    id: str = "local"
    tokens: dict[str, int] = field(default_factory=dict)
    connector: str | SshConnectorConfig = "local"

    @property
    def type(self) -> Literal["local"]:
        """``"local"``: tells a :data:`Launcher` apart (narrows the union for a type checker)."""
        return "local"

    def config(self, **changes: Any) -> LocalLauncher:
        """A changed copy."""
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class SlurmLauncher:
    """Submit through Slurm binaries in ``binpath`` with ``options``, through ``connector``.

    ``interval`` (seconds) is how often job states are polled; ``main`` and ``launcherenv`` are
    kept for experimaestro's signature (a parent launcher, environment of the launcher process).
    ``options`` is always a :class:`SlurmOptions` (``options=None``, experimaestro's default, is
    read as ``SlurmOptions()``).
    """

    connector: str | SshConnectorConfig | None = None
    options: SlurmOptions = field(default_factory=SlurmOptions)
    interval: float = 60
    main: SlurmLauncher | None = None
    launcherenv: dict[str, str] | None = None
    binpath: str = "/usr/bin"
    id: str | None = None

    def __post_init__(self) -> None:
        if self.options is None:  # experimaestro's default (options=None): no option set
            object.__setattr__(self, "options", SlurmOptions())

    @property
    def type(self) -> Literal["slurm"]:
        """``"slurm"``: tells a :data:`Launcher` apart (narrows the union for a type checker)."""
        return "slurm"

    def config(self, **changes: Any) -> SlurmLauncher:
        """A changed copy: option names (``gpus_per_node=1``) change the options, others the
        launcher (``binpath=...``)."""
        option_changes = {k: v for k, v in changes.items() if k in _OPTION_NAMES}
        own = {k: v for k, v in changes.items() if k not in _OPTION_NAMES}
        if option_changes:
            own["options"] = self.options.config(**option_changes)
        return replace(self, **own)


Launcher = LocalLauncher | SlurmLauncher
"""What a find answers: ``launcher.type`` (or ``isinstance``) says which."""

