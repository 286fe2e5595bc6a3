"""submitit executors configured from reqsolve's answer.

``executor("duration=2h & cuda(mem=24G)*2", "logs/%j")`` solves the requirement on the launcher
file (as ``reqsolve find`` does) and returns ``submitit.AutoExecutor`` already set up: the Slurm
executor with every option of the answer under submitit's own parameter names, or the local
executor when the answer is a local launcher. :func:`parameters` computes those parameters
(:func:`reqsolve.answers.renderings.submitit_parameters`, the row of ``reqsolve find --format
submitit``), so the two cannot disagree.

A local answer's jobs get what ``reqsolve submit`` gives a job: each submitted job waits for
the launcher's tokens and for free GPUs of the solver's matching, and its job controller
starts holding their locks (handed down, as ``submit`` hands them to its job) with
``CUDA_VISIBLE_DEVICES`` naming exactly those GPUs, by UUID. submitit's own local executor
would give it GPUs ``0..n-1`` (its ``visible_gpus`` takes indices only, and holds nothing).

submitit is imported by :func:`executor` only: computing parameters needs nothing but reqsolve.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reqsolve.answers.renderings import submitit_parameters as parameters
from reqsolve.errors import InvalidValue

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.choosing import Answer
    from reqsolve.registry import ConfigSpec, Spec

__all__ = ["cluster", "executor", "find", "parameters"]

SLURM = "slurm"
LOCAL = "local"


def cluster(match: Answer) -> str:
    """submitit's name of the executor that runs the answer: ``slurm`` or ``local``."""
    return LOCAL if match.options is None else SLURM


def find(
    requirement: Spec,
    *,
    tags: Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    on_error: str = "raise",
) -> Answer:
    """The answer :func:`executor` uses: the same search as ``reqsolve find`` (same file
    discovery, same :class:`~reqsolve.errors.LauncherNotFoundError` and reasons)."""
    # imported when called: the solver loads only when an executor is asked for
    from reqsolve.finder import registry_for

    return registry_for(config, on_error=on_error).find(requirement, tags=tags, offline=offline)


def executor(
    requirement: Spec,
    folder: str | os.PathLike[str],
    *,
    tags: Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    on_error: str = "raise",
) -> Any:
    """A ``submitit.AutoExecutor`` writing into ``folder``, configured from the answer.

    ``requirement``: an expression or reqsolve's builders' value; ``config``: a launcher file,
    a configuration directory, or None for the usual discovery. Raises
    :class:`~reqsolve.errors.LauncherNotFoundError` (one reason per candidate) when nothing
    matches, and :class:`~reqsolve.errors.InvalidValue` for an answer submitit cannot submit
    (a Slurm launcher reached through an ssh connector: submitit runs this machine's sbatch).
    """
    # imported when called: the solver loads only when an executor is asked for
    from reqsolve.finder import registry_for

    registry = registry_for(config, on_error=on_error)
    match = registry.find(requirement, tags=tags, offline=offline)
    config_of = match.config
    if match.options is not None and config_of.connector != "local":
        raise InvalidValue(
            f"launcher {config_of.id} reaches Slurm through connector {config_of.connector!r};"
            " submitit submits with the sbatch of this machine",
            "run on a machine where sbatch reaches that cluster, or use --tags to pick a"
            " launcher whose connector is local",
        )
    # submitit is an optional extra (reqsolve[submitit]): imported when called
    import submitit

    made = submitit.AutoExecutor(folder=folder, cluster=cluster(match))
    if match.options is None:
        # imported here: the local executor holding GPUs, only for a local answer
        from reqsolve.integrations.submitit_local import held_executor

        made._executor = held_executor(match, registry, made._executor.folder)
    made.update_parameters(**parameters(match))
    return made
