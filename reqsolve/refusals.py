"""Why nothing answers: the reasons of each candidate, the closest one, and the error's message.

Choosing (:mod:`reqsolve.choosing`) decides; this module words its refusals. A :class:`Reason`
carries its :class:`Refusal` in numbers (stage, asked, limit, distance) beside its words, both
made from the matcher's verdict: "closest" compares the numbers, the message is rendered from
the reason's fields, and nothing is ever read back from words.
"Closest" is the candidate a person would change least (docs/matching.md, "No answer").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reqsolve.candidates import CompiledLauncher
from reqsolve.errors import LauncherNotFoundError, Reason, Refusal
from reqsolve.gpu_placement import fits
from reqsolve.matching import STAGES, Judgement
from reqsolve.places import Candidate, where
from reqsolve.quantities import human_memory
from reqsolve.requirement import Accelerator, Requirement
from reqsolve.units import format_memory, parse_memory

# a candidate that fits but was dropped by the soundness rule: past every check, no shortfall
UNSOUND = Refusal(len(STAGES), 0, 0, (0, 0.0))


def refused(index: int, launcher: str, verdict: Judgement) -> Reason:
    """The reason, in words and numbers, of a shape's verdict on alternative ``index``: made
    once per shape, then :func:`placed` for each of its candidates."""
    first = verdict.first
    refusal = Refusal(
        verdict.stage, first.asked if first is not None else 0, verdict.limit, verdict.distance
    )
    return Reason(index, launcher, None, None, None, None, verdict.reason, verdict.code,
                  verdict.detail, refusal)


def placed(template: Reason, candidate: Candidate) -> Reason:
    """The reason ``template`` (made once per shape) for one candidate of that shape."""
    return Reason(template.alternative, template.launcher, candidate.partition, candidate.group,
                  candidate.qos, candidate.account, template.reason, template.code,
                  template.detail, template.refusal)


def unsound(index: int, launcher: str, candidate: Candidate, why: str) -> Reason:
    """A candidate that fits, dropped by the soundness rule (docs/matching.md §4)."""
    return Reason(index, launcher, candidate.partition, candidate.group, candidate.qos,
                  candidate.account, why, "unsound", why, UNSOUND)


def unusable(index: int, launcher: CompiledLauncher, failure: str) -> Reason:
    """A launcher that could not be used at all (its discovery failed): after every candidate."""
    return Reason(index, launcher.id, None, None, None, None, failure, "discovery", failure)


def ruled_out(index: int, launcher: CompiledLauncher) -> tuple[Reason, ...]:
    """The (partition, QoS, account) combinations of ``launcher`` the user may not submit with
    (docs/semantics.md §3), as reasons of code ``access``: after every candidate."""
    return tuple(
        Reason(index, launcher.id, partition, None, qos, account, why, "access", why)
        for partition, qos, account, why in launcher.ruled_out
    )


NOT_KEPT = (
    "not kept: a higher priority or another QoS/account was preferred, and that choice was"
    " dropped as unsound"
)


def other_dialect(chosen: str, own: str) -> str:
    """Why a candidate that fits is not kept: its partition asks for memory in another dialect
    than the first kept candidate's, and one answer has one memory option."""
    return (
        f"not kept: its partition asks for memory as {own} (memory_option), the first kept"
        f" candidate's as {chosen}; one answer asks for memory one way"
    )


def message(
    requirement: Requirement,
    tried: Sequence[tuple[int, CompiledLauncher]],
    launchers: Sequence[CompiledLauncher],
    eligible: Sequence[CompiledLauncher],
    tags: tuple[str, ...],
    slurm_only: bool,
    best: Reason | None,
) -> str:
    """The error's message: the ``best`` (closest) candidate of the (alternative, launcher)
    pairs ``tried``, or why no candidate was even tried."""
    if best is None:
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
    if not eligible and slurm_only and not any(x.type == "slurm" for x in launchers):
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
    if launcher.ruled_out and not launcher.candidates:
        first = launcher.ruled_out[0]
        more = len(launcher.ruled_out) - 1
        return (
            "you may submit with none of its (partition, QoS, account) combinations: "
            + first[3] + (f" (and {more} more)" if more else "")
        )
    if getattr(config, "query_slurm", False):
        return (
            "it needs Slurm discovery (query_slurm: true) and --offline (offline=True)"
            " forbids it: run without --offline, or write its partitions in the file"
        )
    if config.type == "slurm":
        return "no enabled partition with node groups"
    return "no candidate"


def threshold_hint(
    requirement: Requirement, tried: Sequence[tuple[int, CompiledLauncher]]
) -> str:
    """What to write when a GPU asked without memory fits nowhere because of anti-waste rules.

    ``cuda()`` states 0 B of GPU memory (docs/expressions.md), below every ``min_mem_ratio`` /
    ``min_memory`` threshold: the smallest threshold among the GPUs tried that the request
    would fit once it states that much is what to write.
    """

    smallest: int | None = None
    for index, launcher in tried:
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


class NoLauncherFound(LauncherNotFoundError):
    """A :class:`LauncherNotFoundError` whose ``closest``, message and ``reasons`` are made on
    first read.

    A query matching nothing on a cluster of 10,000 node groups has tens of thousands of
    reasons; a caller that only catches the error never pays for them, one that reads the
    message or ``closest`` pays only for the closest candidate of each launcher (found from
    one verdict per shape). Copied or pickled, it becomes a plain LauncherNotFoundError with
    everything made.
    """

    def __init__(
        self,
        reasons: Callable[[], tuple[Reason, ...]],
        nearest: Callable[[], Reason | None],
        message: Callable[[Reason | None], str],
    ) -> None:
        self._build: Callable[[], tuple[Reason, ...]] | None = reasons
        self._reasons: tuple[Reason, ...] | None = None
        self._nearest: Callable[[], Reason | None] | None = nearest
        self._render: Callable[[Reason | None], str] | None = message
        super().__init__((), "")

    def __str__(self) -> str:
        render = self._render
        if render is not None:
            self._render = None
            self.args = (render(self.closest),)
        return super().__str__()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @property
    def closest(self) -> Reason | None:
        nearest = self._nearest
        if nearest is not None:
            self._nearest = None
            self._closest = nearest()
        return self._closest

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
        return (LauncherNotFoundError, (self.reasons, str(self), self.closest))


def not_found_message(requirement: Requirement, best: Reason | None) -> str:
    """The message naming the closest candidate ``best`` (None: no candidate was tried)."""
    if best is None:
        return (
            f"no launcher can run {requirement}: no launcher is eligible"
            " (check --tags and that the launcher file declares launchers)"
        )
    return f"no launcher can run {requirement}; closest: {closest_words(requirement, best)}"


def closest_words(requirement: Requirement, best: Reason) -> str:
    """The closest candidate in words, as the error names it and ``explain`` prints it: where,
    what fell short, and which alternative when it is not the first."""
    place = where(best.launcher, best.partition, best.group, best.qos, best.account)
    # the detail is the reason in words and numbers a person reads (units as asked); the
    # structured reason (bytes, seconds) is for programs: JSON and Reason.reason
    text = f"{place}: {best.detail or best.reason}"
    if len(requirement.alternatives) > 1 and best.alternative:
        text += f" [alternative {best.alternative}]"
    return text
