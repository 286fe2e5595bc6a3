"""Why each candidate does or does not fit: the table behind ``reqsolve explain``.

One row per (alternative, launcher, candidate), launchers in the order the search visits them
(launchers left out by ``--tags`` are listed too, marked as such), each with its verdict and the
first unmet condition in numbers. The row of the answer is marked ``chosen``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reqsolve.candidates import CompiledLauncher, named_offers
from reqsolve.choosing import Answer, as_tags, choose, launcher_order, solve_launcher
from reqsolve.errors import LauncherNotFoundError
from reqsolve.places import Candidate
from reqsolve.refusals import NOT_KEPT, closest_words, no_candidate, threshold_hint
from reqsolve.requirement import Requirement

PASSED_OVER = "fits, not kept (priority, QoS or account)"


@dataclass(frozen=True, slots=True)
class Row:
    alternative: int
    launcher: str
    type: str
    weight: float
    partition: str | None
    group: int | None
    qos: str | None
    account: str | None
    priority: int | None
    verdict: str  # chosen | kept | fits | fails | skipped
    reason: str
    detail: str
    # on a node with several kinds of GPU, the way this candidate asks for them: "any" (an
    # untyped --gpus-per-node) or the GRES type of a typed request; None elsewhere
    gpus: str | None = None
    # the nodes the candidate's node group offers (its hosts, or its count; None: unknown) and
    # its partition's MaxNodes (None: unlimited or unknown): what a nodes=N job can span there
    nodes: int | None = None
    max_nodes: int | None = None
    # the alternative asks several nodes: the table shows the two above
    multinode: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "alternative": self.alternative,
            "launcher": self.launcher,
            "type": self.type,
            "weight": self.weight,
            "partition": self.partition,
            "group": self.group,
            "qos": self.qos,
            "account": self.account,
            "priority": self.priority,
            "verdict": self.verdict,
            "reason": self.reason,
            "detail": self.detail,
            "gpus": self.gpus,
            "nodes": self.nodes,
            "max_nodes": self.max_nodes,
        }


def explain(
    launchers: Sequence[CompiledLauncher], requirement: Requirement, tags: Iterable[str] = ()
) -> tuple[list[Row], Answer | None]:
    """Every candidate's verdict for every alternative, and the answer (None when none)."""
    wanted = as_tags(tags)
    try:
        match: Answer | None = choose(launchers, requirement, wanted)
    except LauncherNotFoundError:
        match = None
    eligible = launcher_order(launchers, wanted)
    skipped = [launcher for launcher in launchers if launcher not in eligible]
    rows: list[Row] = []
    for index, alternative in enumerate(requirement.alternatives):
        for launcher in eligible:
            outcome = solve_launcher(launcher, alternative)
            kept = {id(c) for c in outcome.kept}
            chosen = (
                match is not None
                and match.launcher is launcher
                and match.alternative_index == index
            )
            unsound = {id(candidate): why for candidate, why in outcome.dropped}
            passed_over = NOT_KEPT if outcome.dropped else PASSED_OVER
            if launcher.failure is not None:
                rows.append(_launcher_row(index, launcher, "fails", launcher.failure))
            elif not launcher.candidates:
                why = f"no candidate: {no_candidate(launcher)}"
                rows.append(_launcher_row(index, launcher, "fails", why))
            for position, candidate in enumerate(launcher.candidates):
                verdict = outcome.verdict(position)
                many = alternative.nodes > 1
                if id(candidate) in kept:
                    state = "chosen" if chosen else "kept"
                    rows.append(_row(index, launcher, candidate, state, "", "", many))
                elif verdict.ok:
                    why = unsound.get(id(candidate), passed_over)
                    rows.append(_row(index, launcher, candidate, "fits", why, why, many))
                else:
                    rows.append(_row(
                        index, launcher, candidate, "fails", verdict.reason, verdict.detail, many
                    ))
            rows.extend(_ruled_out_row(index, launcher, *x) for x in launcher.ruled_out)
        for launcher in skipped:
            rows.append(_launcher_row(index, launcher, "skipped", "no tag in common"))
    return rows, match


def closest_reason(
    launchers: Sequence[CompiledLauncher], requirement: Requirement, tags: Iterable[str] = ()
) -> str | None:
    """The closest candidate as the error of ``find`` names it (``where: detail``, and the
    threshold hint), or None when something answers or no candidate was tried: ``explain``
    prints it under its table, so that the table and the error agree on which candidate came
    closest."""
    wanted = as_tags(tags)
    try:
        choose(launchers, requirement, wanted)
    except LauncherNotFoundError as error:
        if error.closest is None:
            return None
        # nothing answered: every alternative was tried on every eligible launcher
        eligible = launcher_order(launchers, wanted)
        tried = [(index, x) for index in range(len(requirement.alternatives)) for x in eligible]
        return closest_words(requirement, error.closest) + threshold_hint(requirement, tried)
    return None


def _row(
    index: int,
    launcher: CompiledLauncher,
    candidate: Candidate,
    verdict: str,
    reason: str,
    detail: str,
    multinode: bool = False,
) -> Row:
    offered, max_nodes = nodes_offered(launcher, candidate)
    return Row(
        alternative=index,
        launcher=launcher.id,
        type=launcher.type,
        weight=launcher.config.weight,
        partition=candidate.partition,
        group=candidate.group,
        qos=candidate.qos,
        account=candidate.account,
        priority=candidate.priority if candidate.partition is not None else None,
        verdict=verdict,
        reason=reason,
        detail=detail,
        gpus=way_to_ask(launcher, candidate),
        nodes=offered,
        max_nodes=max_nodes,
        multinode=multinode,
    )


def nodes_offered(
    launcher: CompiledLauncher, candidate: Candidate
) -> tuple[int | None, int | None]:
    """The nodes a candidate's group offers and its partition's MaxNodes (docs/semantics.md
    §6, "Node count"); a local launcher is one node."""
    config = launcher.config
    if config.type != "slurm" or candidate.partition_index is None or candidate.group is None:
        return 1, 1
    partition = config.partitions[candidate.partition_index]
    group = partition.nodes[candidate.group]
    return (len(group.hosts) if group.hosts else group.count or None), partition.max_nodes


def way_to_ask(launcher: CompiledLauncher, candidate: Candidate) -> str | None:
    """How a candidate of a node with several kinds of GPU asks for them (the node is one
    candidate per way: :func:`reqsolve.candidates.named_offers`); None for any other candidate."""
    if candidate.partition_index not in launcher.index.mixed or candidate.group is None:
        return None
    slot = launcher.index.by_partition[candidate.partition_index][candidate.group]
    node = slot.shapes[(candidate.qos, candidate.account)]
    ways = named_offers(node)
    if len(ways) == 1:
        return None
    return next((name for name, offer in ways if offer == candidate.shape), None)


def _ruled_out_row(
    index: int,
    launcher: CompiledLauncher,
    partition: str,
    qos: str | None,
    account: str | None,
    why: str,
) -> Row:
    """A combination the user may not submit with (docs/semantics.md §3): never a candidate."""
    return replace(_launcher_row(index, launcher, "fails", why), partition=partition, qos=qos,
                   account=account)


def _launcher_row(index: int, launcher: CompiledLauncher, verdict: str, reason: str) -> Row:
    return Row(
        alternative=index,
        launcher=launcher.id,
        type=launcher.type,
        weight=launcher.config.weight,
        partition=None,
        group=None,
        qos=None,
        account=None,
        priority=None,
        verdict=verdict,
        reason=reason,
        detail=reason,
    )


def render_table(rows: Sequence[Row]) -> str:
    """Aligned text columns; the detail column says the unmet condition in numbers."""
    header = ("ALT", "LAUNCHER", "WHERE", "PRIO", "VERDICT", "WHY")
    lines = [header]
    for row in rows:
        where = ""
        if row.partition is not None:
            where = f"{row.partition}[{row.group}]"
            if row.qos is not None:
                where += f" qos={row.qos}"
            if row.account is not None:
                where += f" account={row.account}"
            if row.gpus is not None:
                where += f" gpus={row.gpus}"
        if row.multinode:  # nodes=N asked: what each candidate can hold
            where = (where or "-") + f" nodes={'?' if row.nodes is None else row.nodes}"
            if row.max_nodes is not None and row.partition is not None:
                where += f" MaxNodes={row.max_nodes}"
        why = row.detail or row.reason  # in words and units as asked; JSON has both
        lines.append(
            (
                str(row.alternative),
                f"{row.launcher} ({row.type}, w={row.weight:g})",
                where or "-",
                "-" if row.priority is None else str(row.priority),
                row.verdict,
                why,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        + "  "
        + line[-1]
        for line in lines
    )
