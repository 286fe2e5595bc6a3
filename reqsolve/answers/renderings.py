"""An answer in each of the forms it is given in: one function per format, one row of
:data:`FORMATS` per format.

``reqsolve find --format NAME`` offers the rows of :data:`FORMATS` and prints what the row's
function returns; :func:`submitit_parameters` is also what
``reqsolve.integrations.submitit.executor()`` passes on, and :func:`experimaestro_options` what
``reqsolve.integrations.experimaestro`` hands to experimaestro, so the command line and the
integrations cannot disagree. A new format is one function and one row here; a new Slurm
option is a field of :class:`~reqsolve.answers.options.SlurmOptions` (with its sbatch and
submitit names), a value set by :mod:`~reqsolve.answers.emit`, and a key of
:data:`JSON_OPTION_KEYS` (docs/matching.md, "Module tour").

Nothing here is imported until a format is printed, beyond this module itself: ``json`` and
``shlex`` load only for the formats that print with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.answers.options import SlurmOptions
    from reqsolve.choosing import Answer

# docs/semantics.md §7: the option keys of the JSON answer, in this order
JSON_OPTION_KEYS = (
    "partition",
    "constraint",
    "gpus_per_node",
    "time",
    "mem",
    "cpus_per_task",
    "qos",
    "account",
    "exclude",
    "nodelist",
    "nodes",
)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The §7 object of an answer (``find --format json``, ``explain --json``)."""
    config = answer.config
    data: dict[str, Any] = {
        "launcher": {"id": config.id, "type": config.type},
        "alternative": answer.alternative_index,
    }
    if answer.source is not None:
        data["launcher"]["source"] = answer.source
    if config.type == "local":
        data["tokens"] = dict(getattr(config, "tokens", ()))
        data["options"] = None
    else:
        assert answer.options is not None
        values = answer.options.as_json()
        data["options"] = {key: values.get(key) for key in JSON_OPTION_KEYS}
        # a typed or --gres request: the GPU count alone would not say which GPUs
        # tasks=T (docs/semantics.md §6): only when asked, so that other answers keep their shape
        # memory per GPU (memory_option: mem-per-gpu): only when emitted, for the same reason
        for key in ("ntasks_per_node", "gpu_type", "gpu_types", "gpu_option", "mem_per_gpu"):
            if values.get(key) is not None:
                data["options"][key] = values[key]
    notes = answer.notes
    if notes:
        data["notes"] = list(notes)
    return data


def submitit_parameters(answer: Answer) -> dict[str, Any]:
    """The keyword arguments of ``AutoExecutor.update_parameters`` for an answer.

    Slurm: :meth:`SlurmOptions.to_submitit` (``slurm_partition``, ``slurm_constraint``,
    ``slurm_exclude``, ``slurm_gpus_per_node``, ``slurm_cpus_per_task``, ``slurm_mem``,
    ``slurm_time`` in minutes rounded up, ``slurm_qos``, ``slurm_account``...). Local: the
    generic ``timeout_min`` (the duration asked, rounded up; without it submitit's local executor
    kills the job after its default of 2 minutes) and ``gpus_per_node`` (the local executor
    hides every GPU from a job that asks none), only when the requirement states them.
    """
    if answer.options is not None:
        return answer.options.to_submitit()
    alternative = answer.alternative
    params: dict[str, Any] = {}
    if alternative.duration:
        params["timeout_min"] = max(1, math.ceil(alternative.duration / 60))
    if alternative.gpus:
        params["gpus_per_node"] = len(alternative.gpus)
    if alternative.tasks:
        params["tasks_per_node"] = alternative.tasks
    return params


def experimaestro_options(options: SlurmOptions) -> Any:
    """reqsolve's :class:`~reqsolve.answers.options.SlurmOptions` as experimaestro's, field by
    field (the names are the same); a set field experimaestro has no name for is refused,
    since dropping it would send the job where it may not run."""
    # experimaestro is an optional extra (reqsolve[experimaestro]): imported when called, so that
    # this module imports without it
    from experimaestro.launchers.slurm import SlurmOptions as Theirs

    # the error tree only when an answer is refused: printing a format loads none of reqsolve
    from reqsolve.errors import InvalidValue

    theirs = {field.name for field in fields(Theirs)}
    values = options.as_json()
    if values.pop("gpu_option", None) == "gres":
        raise InvalidValue(
            "experimaestro's SlurmOptions cannot say --gres: this launcher has gpu_option: gres",
            "use gpu_option: gpus-per-node for launchers experimaestro submits to",
        )
    typed = [values.pop("gpu_type", None), values.pop("gpu_types", None)]
    if typed != [None, None]:  # experimaestro writes --gpus-per-node={value}: type:N fits
        values["gpus_per_node"] = options.gpu_request()[1]
    unknown = sorted(name for name, value in values.items() if value is not None
                     and name not in theirs)
    if unknown:
        raise InvalidValue(
            f"experimaestro's SlurmOptions has no field {', '.join(unknown)}",
            "this answer cannot be passed to experimaestro as it is",
        )
    return Theirs(**{name: value for name, value in values.items() if name in theirs})


# --- the formats of `reqsolve find --format`: the answer as text (``used``: the configuration
# files read, which the JSON answer names)


def _slurm(answer: Answer) -> SlurmOptions:
    assert answer.options is not None  # a local answer never reaches a Slurm format (exit 3)
    return answer.options


def args_text(answer: Answer, used: dict[str, Any] | None = None) -> str:
    """Arguments for ``$(...)``, unquoted (every value is a shell word already)."""
    return " ".join(_slurm(answer).args())


def shell_text(answer: Answer, used: dict[str, Any] | None = None) -> str:
    """Arguments quoted, to paste into a shell."""
    # shlex only for --format shell
    import shlex

    return shlex.join(_slurm(answer).args())


def sbatch_text(answer: Answer, used: dict[str, Any] | None = None) -> str:
    """``#SBATCH`` lines."""
    return _slurm(answer).sbatch_header().rstrip("\n")


def json_text(answer: Answer, used: dict[str, Any] | None = None) -> str:
    """The §7 object, with the configuration used under ``config`` when given."""
    # json only for --format json: a find printing arguments never loads it
    # (tests/test_cold_imports.py)
    import json

    data = answer_json(answer)
    if used is not None:
        data["config"] = used
    return json.dumps(data)


def submitit_text(answer: Answer, used: dict[str, Any] | None = None) -> str:
    """Exactly what ``reqsolve.integrations.submitit.executor()`` passes on, in JSON."""
    # json only for --format submitit
    import json

    return json.dumps(submitit_parameters(answer))


@dataclass(frozen=True, slots=True)
class Format:
    """One row: the function printing the answer, and whether the format is Slurm options only
    (a local answer has none: ``find`` prints nothing and exits 3)."""

    text: Callable[[Answer, dict[str, Any] | None], str]
    slurm_only: bool = True


# format name -> its row, in the order `find --help` lists them
FORMATS: dict[str, Format] = {
    "args": Format(args_text),
    "shell": Format(shell_text),
    "sbatch": Format(sbatch_text),
    "json": Format(json_text, slurm_only=False),
    "submitit": Format(submitit_text),
}
