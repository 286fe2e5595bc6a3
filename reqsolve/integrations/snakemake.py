"""Snakemake rules whose Slurm resources reqsolve answers (docs/snakemake.md).

In a Snakefile, ``resources: **slurm_resources("duration=2h & cuda(mem=24G)*2")`` gives the rule
the resources of snakemake-executor-plugin-slurm (``slurm_partition``, ``runtime``, ``gres``, ...)
that make ``snakemake --executor slurm`` submit exactly the options of reqsolve's answer. The
plugin's own partition selection works per partition and falls back to the default partition
when nothing fits; here the rule fails while the Snakefile is parsed, with reqsolve's reasons.

Retries: Snakemake passes ``attempt`` (1, 2, ...) to resource callables. Attempt 1 gets
reqsolve's normal answer (the first alternative a Slurm launcher satisfies); each next attempt
the next alternative after the previous attempt's one that a Slurm launcher satisfies; once
they run out, the last one again. Every resource of an attempt comes from that attempt's one
answer: a resource that differs between attempts is a callable, one that does not is a value.

Nothing here imports Snakemake: the mapping needs only reqsolve (the plugin is imported, when
installed, to check ``slurm_extra`` against the options it refuses).
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reqsolve.errors import InvalidValue, LauncherNotFoundError, Reason
from reqsolve.places import where

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.answers.options import SlurmOptions
    from reqsolve.choosing import Answer
    from reqsolve.registry import ConfigSpec, Registry, Spec
    from reqsolve.requirement import Requirement

__all__ = ["PerAttempt", "answers", "plugin_resources", "slurm_resources"]

# What a resource is for an attempt whose answer does not set it: a value the plugin turns
# into no option at all. ``mem_mb`` must be a number (Snakemake refuses None for sizes) and
# 0 adds no --mem; ``cpus_per_task`` below 0 adds no --cpus-per-task (without it, the plugin
# would add --cpus-per-task=<threads>). Every other resource: None, which Snakemake drops.
UNSET: dict[str, int | None] = {"mem_mb": 0, "cpus_per_task": -1}

# snakemake-executor-plugin-slurm's check of the gres resource (utils.set_gres_string): a GPU
# request it refuses (several types, a type with '-') goes to slurm_extra as --gpus-per-node
_PLUGIN_GRES = re.compile(r"[a-zA-Z0-9_]+(:[a-zA-Z0-9_\.]+)?(:\d+[TGM]?)?")
_MEM = re.compile(r"([1-9]\d*)([KMGT]?)")
_MIB_PER_UNIT = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 * 1024}
MAX_LISTED_REASONS = 12


@dataclass(frozen=True, slots=True)
class PerAttempt:
    """A resource whose value depends on Snakemake's ``attempt``: attempt k gets
    ``values[min(k, len(values)) - 1]``. Snakemake reads the parameter names of a resource
    callable and passes ``attempt`` (and ``wildcards``) by name."""

    name: str
    values: tuple[Any, ...]

    def __call__(self, wildcards: object, attempt: int) -> Any:
        return self.values[min(max(attempt, 1), len(self.values)) - 1]


def slurm_resources(
    requirement: Spec,
    *,
    tags: str | Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    local: bool = False,
) -> dict[str, Any]:
    """The plugin's resources for a rule needing ``requirement``, to splat into ``resources:``.

    ``tags``, ``config``, ``offline``: as :func:`reqsolve.find_launcher`. Only Slurm launchers
    answer. When none can run any alternative, raises
    :class:`~reqsolve.errors.LauncherNotFoundError` (its message names the closest candidate and
    lists reasons), so Snakemake stops before submitting anything. When only a local launcher
    can run it, that is an error too (naming the launcher) unless ``local=True``: the rule then
    gets no resource at all, and must be a ``localrule``.
    """
    chain = answers(requirement, tags=tags, config=config, offline=offline, local=local)
    per_answer = [plugin_resources(match.options) for match in chain if match.options is not None]
    if not per_answer:
        return {}
    names = [name for name in RESOURCE_ORDER if any(name in one for one in per_answer)]
    merged: dict[str, Any] = {}
    for name in names:
        values = tuple(one.get(name, UNSET.get(name)) for one in per_answer)
        merged[name] = values[0] if len(set(values)) == 1 else PerAttempt(name, values)
    return merged


def answers(
    requirement: Spec,
    *,
    tags: str | Iterable[str] = (),
    config: ConfigSpec = None,
    offline: bool = False,
    local: bool = False,
) -> tuple[Answer, ...]:
    """The answer of each attempt, in order (the last one serves every later attempt); their
    ``alternative_index`` is the alternative's place in the whole requirement.

    A ``local=True`` rule that only a local launcher can run has that one (local) answer.
    """
    # imported when called: the solver loads when a Snakefile asks for resources
    from reqsolve.finder import registry_for
    from reqsolve.registry import as_spec
    from reqsolve.requirement import Requirement

    registry = registry_for(config)
    whole = as_spec(requirement)
    try:
        first = registry.find(whole, tags=tags, offline=offline, slurm_only=True)
    except LauncherNotFoundError as nothing:
        explain = _explain_command(whole, tags, config, offline)
        return (_local_answer(registry, whole, tags, offline, local, nothing, explain),)
    chain = [first]
    alternatives = whole.alternatives
    used = first.alternative_index
    while used + 1 < len(alternatives):
        rest = Requirement(alternatives[used + 1 :])
        try:
            following = registry.find(rest, tags=tags, offline=offline, slurm_only=True)
        except LauncherNotFoundError:
            break
        used += 1 + following.alternative_index
        chain.append(replace(following, alternative_index=used))
    return tuple(chain)


def _local_answer(
    registry: Registry,
    whole: Requirement,
    tags: str | Iterable[str],
    offline: bool,
    local: bool,
    nothing: LauncherNotFoundError,
    explain: str,
) -> Answer:
    """No Slurm launcher answers: the local launcher that does, when ``local`` allows it; else
    the error, naming that local launcher when there is one."""
    try:
        match = registry.find(whole, tags=tags, offline=offline)
    except LauncherNotFoundError:
        raise _explained(nothing, "", explain) from None
    if local and match.options is None:
        return match
    only_here = (
        f"; only the local launcher {match.config.id} can run it, and a Snakemake rule with"
        " Slurm resources is submitted to Slurm"
    )
    raise _explained(nothing, only_here, explain) from None


def _explain_command(
    whole: Requirement, tags: str | Iterable[str], config: ConfigSpec, offline: bool
) -> str:
    """The ``reqsolve explain`` command line that shows every candidate of this search."""
    # imported here: only a failed search words a command
    from reqsolve.choosing import as_tags

    words = ["reqsolve", "explain", "--slurm-only"]
    if isinstance(config, str | os.PathLike):
        words += ["--config", os.fspath(config)]
    if offline:
        words.append("--offline")
    chosen = as_tags(tags)
    if chosen:
        words += ["--tags", ",".join(chosen)]
    return shlex.join([*words, str(whole)])


def _explained(
    nothing: LauncherNotFoundError, only_here: str, explain: str
) -> LauncherNotFoundError:
    """reqsolve's error for a Snakefile: its message, the reasons (a dozen at most, one per
    place) and how to go on; ``reasons`` and ``closest`` as reqsolve gave them."""
    reasons = nothing.reasons
    lines = [f"slurm_resources: {nothing}{only_here}"]
    listed = _distinct(reasons)
    if listed:
        lines.append("reasons (alternative: where: why):")
        lines += [
            f"  {r.alternative}: {where(r.launcher, r.partition, r.group, r.qos, r.account)}:"
            f" {r.detail or r.reason}"
            for r in listed[:MAX_LISTED_REASONS]
        ]
        if len(listed) > MAX_LISTED_REASONS:
            lines.append(f"  ... and {len(listed) - MAX_LISTED_REASONS} more")
    fix = "change the rule's requirement or the launcher file"
    if only_here:
        fix += ", or pass local=True and mark the rule `localrule: True`"
    lines.append(f"hint: {fix}; every candidate and its verdict: {explain}")
    return LauncherNotFoundError(reasons, "\n".join(lines), nothing.closest)


def _distinct(reasons: Iterable[Reason]) -> list[Reason]:
    """One reason per (alternative, place, words): QoS and account variants of one refusal
    would otherwise fill the list."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for reason in reasons:
        key = (reason.alternative, reason.launcher, reason.partition, reason.group,
               reason.detail or reason.reason)
        if key not in seen:
            seen.add(key)
            kept.append(reason)
    return kept


# the resources :func:`plugin_resources` may set, in the order a Snakefile reader expects
RESOURCE_ORDER = (
    "slurm_partition",
    "slurm_account",
    "qos",
    "constraint",
    "runtime",
    "nodes",
    "tasks",
    "cpus_per_task",
    "mem_mb",
    "gres",
    "gpu",
    "slurm_extra",
)


def plugin_resources(options: SlurmOptions) -> dict[str, Any]:
    """snakemake-executor-plugin-slurm's resources that make it submit exactly ``options``.

    Each option goes to the plugin's own resource; ``slurm_extra`` carries only those without
    one (``--exclude``, ``--nodelist``, ``--mem-per-gpu``, ``--ntasks-per-node``, and a GPU
    request the plugin's ``gres`` check refuses). GPUs are asked per node (``gres``): the
    plugin's ``gpu``/``gpu_model`` become ``--gpus``, which counts GPUs per job.
    """
    found: dict[str, Any] = {}
    extra: list[str] = []
    if options.partition is not None:
        found["slurm_partition"] = options.partition
    if options.account is not None:
        found["slurm_account"] = options.account
    if options.qos is not None:
        found["qos"] = options.qos
    if options.constraint is not None:
        found["constraint"] = options.constraint
    seconds = options.time_seconds
    if seconds is not None:
        found["runtime"] = max(1, math.ceil(seconds / 60))  # whole minutes, never less
    if options.nodes is not None:
        found["nodes"] = options.nodes
    found["cpus_per_task"] = options.cpus_per_task or -1  # UNSET: no --cpus-per-task
    # always said: without it Snakemake gives the rule its default mem_mb, which the plugin
    # turns into a --mem the answer does not have (and Slurm refuses beside --mem-per-gpu)
    found["mem_mb"] = mem_mib(options.mem) if options.mem is not None else 0  # UNSET: no --mem
    if options.mem_per_gpu is not None:
        extra.append(f"--mem-per-gpu={options.mem_per_gpu}")
    if options.gpus_per_node is not None:
        _, gres = options.config(gpu_option="gres").gpu_request()
        if _PLUGIN_GRES.fullmatch(gres):
            found["gres"] = gres
        else:
            option, text = options.config(gpu_option="gpus-per-node").gpu_request()
            extra.append(f"{option}={text}")
    if options.gpus is not None:
        found["gpu"] = options.gpus
    if options.ntasks_per_node is not None:
        extra.append(f"--ntasks-per-node={options.ntasks_per_node}")
        if "gres" not in found and "gpu" not in found:
            # the plugin adds --ntasks=<tasks or 1> to a job without GPU (for a GPU job it
            # would make tasks --ntasks-per-gpu): the total, so that --ntasks-per-node rules
            found["tasks"] = (options.nodes or 1) * options.ntasks_per_node
    for name, hosts in (("exclude", options.exclude), ("nodelist", options.nodelist)):
        if hosts is not None:
            extra.append(f"--{name}={hosts}")
    if extra:
        found["slurm_extra"] = _checked_extra(" ".join(extra))
    return found


def mem_mib(text: str) -> int:
    """Slurm's memory text (``382M``, ``2G``; MiB without a suffix) in whole MiB, rounded up:
    the plugin passes ``mem_mb`` to ``--mem`` as a plain number, which Slurm reads as MiB."""
    found = _MEM.fullmatch(text)
    if found is None:
        # "0" (every byte of the node) has no mem_mb: 0 is how the plugin leaves --mem out
        raise InvalidValue(
            f"slurm_resources: memory {text!r} cannot be given to the Slurm plugin as mem_mb",
            "state the memory the job needs in the requirement (cpu(mem=...))",
        )
    return math.ceil(int(found.group(1)) * _MIB_PER_UNIT[found.group(2)])


def _checked_extra(text: str) -> str:
    """``text`` unless the plugin would refuse it as ``slurm_extra`` (a host name can look
    like one of the options it manages: ``-J`` anywhere, ``-e `` ...): refused here, at parse
    time, with the words of the plugin."""
    try:
        from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options
    except ImportError:  # the plugin is not installed: it will not read this either
        return text
    for pattern, what in get_forbidden_slurm_options().items():
        if re.search(pattern, text):
            raise InvalidValue(
                f"slurm_resources: slurm_extra {text!r} would be refused by the Slurm plugin"
                f" (it reads {what} there)",
                "leave the host out of the launcher file, or list it under another name",
            )
    return text
