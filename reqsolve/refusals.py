"""Why nothing answers: the reasons of each candidate, the closest one, and the error's message.

Choosing (:mod:`reqsolve.ranking`) decides; this module words its refusals — only when someone
reads them: a caller that catches :class:`NoLauncherFound` to try something else pays for none.
"Closest" is the candidate a person would change least (docs/matching.md, "No answer").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from reqsolve.candidates import Candidate, CompiledLauncher, where
from reqsolve.errors import LauncherNotFoundError, Reason
from reqsolve.matching import Verdict, fits
from reqsolve.quantities import human_memory
from reqsolve.requirement import Accelerator, Requirement
from reqsolve.units import format_memory, parse_memory

if TYPE_CHECKING:  # annotations only: ranking builds outcomes and imports this module
    from reqsolve.ranking import Outcome

FAR = 1 << 30  # the distance of a launcher that could not be used at all (discovery failed)


class Failure(NamedTuple):
    """Why one candidate (None: the whole launcher) does not answer one alternative, in words.

    A named tuple: thousands are made when a big cluster matches nothing, and a tuple is
    several times cheaper to build than a frozen dataclass."""

    candidate: Candidate | None
    code: str
    reason: str
    detail: str
    stage: int
    limit: int = 0  # the capacity that fell short
    # (conditions unmet, summed relative shortfall): how close the candidate came (the
    # smallest is "closest"); a launcher that could not be used at all comes last
    distance: tuple[int, float] = (FAR, 0.0)

    @classmethod
    def of(cls, candidate: Candidate | None, verdict: Verdict) -> Failure:
        """A verdict rendered in words (the verdict of ``candidate``'s shape)."""
        return cls(
            candidate,
            verdict.code,
            verdict.reason,
            verdict.detail,
            verdict.stage,
            verdict.limit,
            verdict.distance,
        )


NOT_KEPT = (
    "not kept: a higher priority or another QoS/account was preferred, and that choice was"
    " dropped as unsound"
)


def message(
    requirement: Requirement,
    tried: list[tuple[int, Outcome]],
    launchers: Sequence[CompiledLauncher],
    eligible: Sequence[CompiledLauncher],
    tags: tuple[str, ...],
    slurm_only: bool = False,
) -> str:
    best = [
        nearest
        for index, outcome in tried
        if (nearest := outcome.closest(index)) is not None
    ]
    if not best:
        return (
            f"no launcher can run {requirement}: "
            + no_candidate_why(launchers, eligible, tags, slurm_only)
        )
    return not_found_message(requirement, best) + threshold_hint(requirement, tried)


def no_candidate_why(
    launchers: Sequence[CompiledLauncher],
    eligible: Sequence[CompiledLauncher],
    tags: tuple[str, ...],
    slurm_only: bool = False,
) -> str:
    """Why no candidate was even tried: no launcher at all, no launcher with the tags asked
    (and the tags that exist), or each eligible launcher and why it has no candidate."""
    if not launchers:
        return "the launcher file declares no launcher"
    if not eligible and slurm_only and not any(x.kind == "slurm" for x in launchers):
        return "no launcher is eligible: --slurm-only, and the file declares no Slurm launcher"
    if not eligible:
        known = sorted({tag for launcher in launchers for tag in launcher.config.tags})
        exist = "tags in the file: " + ", ".join(known)
        if not known:
            exist = "no launcher of the file has a tag"
        which = "Slurm launcher" if slurm_only else "launcher"
        return f"no {which} is eligible: none has the tag(s) {', '.join(tags)} ({exist})"
    whys = "; ".join(f"{launcher.id}: {no_candidate(launcher)}" for launcher in eligible)
    return f"no launcher has a candidate ({whys})"


def no_candidate(launcher: CompiledLauncher) -> str:
    """Why a launcher has no candidate at all (``explain`` and the error say the same)."""
    config = launcher.config
    if launcher.failure is not None:
        return launcher.failure
    if config.disabled:
        return "disabled"
    if getattr(config, "query_slurm", False):
        return (
            "it needs Slurm discovery (query_slurm: true) and --offline (offline=True)"
            " forbids it: run without --offline, or write its partitions in the file"
        )
    if config.kind == "slurm":
        return "no enabled partition with node groups"
    return "no candidate"


def threshold_hint(
    requirement: Requirement, tried: list[tuple[int, Outcome]]
) -> str:
    """What to write when a GPU asked without memory fits nowhere because of anti-waste rules.

    ``cuda()`` states 0 B of GPU memory (docs/expressions.md), below every ``min_mem_ratio`` /
    ``min_memory`` threshold: the smallest threshold among the GPUs tried that the request
    would fit once it states that much is what to write.
    """

    smallest: int | None = None
    for index, outcome in tried:
        launcher = outcome.launcher
        asked = requirement.alternatives[index].gpus
        for gpu in set(asked):
            if gpu.memory:
                continue
            for shape in launcher.shapes:
                if shape.gpu_count < len(asked):
                    continue  # too few GPUs whatever the memory written
                for kind in shape.gpus:
                    if fits(kind, gpu):
                        return ""  # a GPU takes it as written: something else is missing
                    threshold = kind.min_memory
                    if threshold and fits(kind, Accelerator(threshold, gpu.model)):
                        smallest = threshold if smallest is None else min(smallest, threshold)
    if smallest is None:
        return ""
    text = human_memory(smallest)
    if parse_memory(text) < smallest:
        text = format_memory(smallest)
    return (
        f"; cuda() without mem= asks 0B of GPU memory, below every GPU's anti-waste threshold"
        f" (min_mem_ratio/min_memory): write cuda(mem={text}) or more"
    )


def all_reasons(tried: list[tuple[int, Outcome]]) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    for index, outcome in tried:
        reasons.extend(outcome.reasons(index))
    return tuple(reasons)


class NoLauncherFound(LauncherNotFoundError):
    """A :class:`LauncherNotFoundError` whose ``reasons`` and message are built on first read.

    A query matching nothing on a cluster of 10,000 node groups has tens of thousands of
    reasons; a caller that only catches the error never pays for them, one that reads the
    message pays only for the closest candidate of each launcher.
    Copied or pickled, it becomes a plain LauncherNotFoundError with both built.
    """

    def __init__(
        self, build: Callable[[], tuple[Reason, ...]], message: Callable[[], str]
    ) -> None:
        self._build: Callable[[], tuple[Reason, ...]] | None = build
        self._reasons: tuple[Reason, ...] | None = None
        self._message: Callable[[], str] | str = message
        super().__init__((), "")

    def __str__(self) -> str:
        message = self._message
        if not isinstance(message, str):
            message = self._message = message()
            self.args = (message,)
        return message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @property
    def reasons(self) -> tuple[Reason, ...]:
        if self._reasons is None:
            build = self._build
            self._reasons = build() if build is not None else ()
        return self._reasons

    @reasons.setter
    def reasons(self, value: tuple[Reason, ...]) -> None:
        # the base class stores () first; anything else written later replaces the builder
        if value or self._reasons is not None:
            self._build = None
            self._reasons = tuple(value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LauncherNotFoundError, (self.reasons, str(self)))


def reason_of(
    index: int, launcher: str, failure: Failure, shared: dict[int, dict[str, Any]]
) -> Reason:
    candidate = failure.candidate
    key = hash((failure.detail, failure.stage, failure.limit, failure.distance))
    details = shared.get(key)
    if details is None or details["detail"] != failure.detail:
        details = {
            "detail": failure.detail,
            "stage": failure.stage,
            "limit": failure.limit,
            "unmet": failure.distance[0],
            "shortfall": failure.distance[1],
        }
        shared[key] = details
    return Reason(
        alternative=index,
        launcher=launcher,
        partition=candidate.partition if candidate else None,
        group=candidate.group if candidate else None,
        qos=candidate.qos if candidate else None,
        account=candidate.account if candidate else None,
        reason=failure.reason,
        code=failure.code,
        details=details,
    )


def closest(reasons: Sequence[Reason]) -> Reason | None:
    """The candidate a person would change least: the fewest unmet conditions, then the
    smallest relative shortfall over them, then the first (docs/matching.md, "No answer").

    ``explain`` names the same candidate (its ``closest:`` line). A reason without a distance
    (a launcher that could not be used) comes after every candidate that could.
    """
    best: Reason | None = None
    best_key: tuple[int, float, int, int] = (FAR + 1, 0.0, 0, 0)
    for reason in reasons:
        details = reason.details
        key = _closeness(
            (details.get("unmet", FAR), details.get("shortfall", 0.0)),
            details.get("stage", -1),
            details.get("limit") or 0,
        )
        if best is None or key < best_key:
            best, best_key = reason, key
    return best


def _closeness(
    away: tuple[int, float], stage: int, limit: int
) -> tuple[int, float, int, int]:
    """The sort key of "closest" (smallest first): fewest unmet conditions, smallest relative
    shortfall, then — on a tie — the checks that went furthest (a node whose GPUs are of the
    wrong model is closer to a GPU job than a node without GPUs) and the largest capacity
    where it fell short."""
    return (away[0], round(away[1], 9), -stage, -limit)


def not_found_message(requirement: Requirement, reasons: Sequence[Reason]) -> str:
    best = closest(reasons)
    if best is None:
        return (
            f"no launcher can run {requirement}: no launcher is eligible"
            " (check --tags and that the launcher file declares launchers)"
        )
    place = where(best.launcher, best.partition, best.group, best.qos, best.account)
    # the detail is the reason in words and numbers a person reads (units as asked); the
    # structured reason (bytes, seconds) is for programs: JSON and Reason.reason
    detail = best.details.get("detail") or best.reason
    text = f"no launcher can run {requirement}; closest: {place}: {detail}"
    if len(requirement.alternatives) > 1 and best.alternative:
        text += f" [alternative {best.alternative}]"
    return text
