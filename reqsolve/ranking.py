"""Choosing (docs/semantics.md §5): alternatives in order, launchers by weight, then inside one.

Everything here is a sort key or a filter over compiled launchers and the matcher's verdicts;
the one outcome per (launcher, alternative) is remembered on the compiled launcher, so a
repeated query costs a few dictionary look-ups. When nothing answers, the same verdicts are
rendered into reasons, and "closest" is their smallest distance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from reqsolve.candidates import Candidate, CompiledLauncher
from reqsolve.config.model import LauncherConfig
from reqsolve.errors import LauncherNotFoundError, Reason
from reqsolve.matching import STAGES, Ask, Verdict, cpus_for, evaluate, misses
from reqsolve.requirement import Alternative, Requirement
from reqsolve.slurm.emit import emit, uses_mem_per_cpu
from reqsolve.slurm.options import SlurmOptions

MAX_CACHED_OUTCOMES = 4096
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


class Outcome:
    """One launcher on one alternative: the kept candidates and options, or why not.

    Why not is read from one verdict per distinct shape of the launcher (:attr:`verdicts`,
    made when first read), so a launcher that does not answer costs nothing more when another
    one does, and a cluster of 10,000 nodes with a few shapes is explained from a few verdicts.
    ``dropped`` says why each candidate that fits was dropped by the soundness rule, when
    that rule left no partition.
    """

    __slots__ = ("_verdicts", "alternative", "dropped", "kept", "launcher", "options")

    def __init__(
        self,
        launcher: CompiledLauncher,
        alternative: Alternative,
        kept: tuple[Candidate, ...] = (),
        options: SlurmOptions | None = None,
        dropped: tuple[tuple[Candidate, str], ...] = (),
    ) -> None:
        self.launcher = launcher
        self.alternative = alternative
        self.kept = kept
        self.options = options
        self.dropped = dropped
        self._verdicts: tuple[Verdict, ...] | None = None

    @property
    def found(self) -> bool:
        return bool(self.kept)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """The verdict of each distinct shape of the launcher (``launcher.shapes`` order)."""
        if self._verdicts is None:
            ask = Ask(self.alternative)
            self._verdicts = tuple(evaluate(shape, ask) for shape in self.launcher.shapes)
        return self._verdicts

    def verdict(self, position: int) -> Verdict:
        """The verdict of the launcher's candidate at ``position``."""
        return self.verdicts[self.launcher.shape_index[position]]

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Why each candidate does not answer (empty when the launcher answers): rendered once
        per shape, copied per candidate."""
        launcher = self.launcher
        if launcher.failure is not None:
            return (Failure(None, "discovery", launcher.failure, launcher.failure, -1),)
        if self.found:
            return ()
        unsound = {id(candidate): why for candidate, why in self.dropped}
        rendered = [
            None if verdict.ok else Failure.of(None, verdict) for verdict in self.verdicts
        ]
        failures = []
        for candidate, shape_id in zip(launcher.candidates, launcher.shape_index, strict=True):
            failure = rendered[shape_id]
            if failure is not None:
                failures.append(failure._replace(candidate=candidate))
            elif self.dropped:
                why = unsound.get(id(candidate), NOT_KEPT)
                failures.append(Failure(candidate, "unsound", why, why, len(STAGES), 0, (0, 0.0)))
        return tuple(failures)

    def reasons(self, index: int) -> tuple[Reason, ...]:
        """The reasons for this outcome's alternative, numbered ``index`` in its requirement."""
        shared: dict[int, dict[str, Any]] = {}  # equal details share one (read-only) dict
        return tuple(_reason(index, self.launcher.id, f, shared) for f in self.failures)

    def closest(self, index: int) -> Reason | None:
        """The closest of :meth:`reasons` (:func:`closest`), found from one verdict per shape
        when nothing fits: every candidate of a shape is as close as its first."""
        launcher = self.launcher
        if launcher.failure is not None or self.dropped or self.found:
            return closest(self.reasons(index))
        firsts = [
            Failure.of(launcher.candidates[first], self.verdicts[shape_id])
            for shape_id, first in sorted(launcher.index.shape_first.items(), key=lambda x: x[1])
        ]
        shared: dict[int, dict[str, Any]] = {}
        return closest([_reason(index, launcher.id, f, shared) for f in firsts])


NOT_KEPT = (
    "not kept: a higher priority or another QoS/account was preferred, and that choice was"
    " dropped as unsound"
)


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer: which launcher, for which alternative, with which options (slurm only)."""

    launcher: CompiledLauncher | None
    """The compiled launcher the solver chose; None when a ``launchers.py`` chose (it compiles
    nothing: :attr:`config` then describes the launcher object it returned)."""
    alternative_index: int
    alternative: Alternative
    candidates: tuple[Candidate, ...]
    options: SlurmOptions | None
    source: str | None = None
    """Where the answer came from: None for reqsolve's solver on launcher files, "launchers.py"
    for the launcher a ``launchers.py`` returned (:class:`reqsolve.pyconfig.PythonAnswer`)."""
    config: LauncherConfig = field(kw_only=True)
    """The chosen launcher as a launcher-file entry, whatever chose it: what printers read."""

    @property
    def requirement(self) -> Alternative:
        """The alternative that matched (experimaestro's ``match.requirement``)."""
        return self.alternative

    @property
    def notes(self) -> tuple[str, ...]:
        """What the answer decided that the expression did not say, for a person.

        With no duration asked, the job asks for the chosen limit (docs/matching.md, "No
        duration asked"): Slurm would otherwise apply the partition's default time, which the
        chosen QoS may refuse.
        """
        options = self.options
        if options is None or options.time is None or self.alternative.duration:
            return ()
        from reqsolve.units import format_duration, parse_slurm_time

        seconds = parse_slurm_time(options.time)
        limit = format_duration(seconds) if seconds is not None else options.time
        return (f"no duration asked: the job gets the chosen limit, {limit}",)


def as_tags(tags: str | Iterable[str]) -> tuple[str, ...]:
    """Tags as given to the API: a string is one tag (``tags="cluster"``), not its letters."""
    if isinstance(tags, str):
        return (tags,) if tags else ()
    return tuple(tags)


def launcher_order(
    launchers: Iterable[CompiledLauncher],
    tags: str | Iterable[str] = (),
    *,
    slurm_only: bool = False,
) -> list[CompiledLauncher]:
    """By decreasing weight, ties in file order; with tags, only launchers having one of them;
    with ``slurm_only``, only Slurm launchers (an answer is then always Slurm options)."""
    wanted = set(as_tags(tags))
    eligible = [
        launcher
        for launcher in launchers
        if (not wanted or wanted.intersection(launcher.config.tags))
        and (not slurm_only or launcher.kind == "slurm")
    ]
    return sorted(eligible, key=lambda launcher: (-launcher.config.weight, launcher.position))


def solve_launcher(launcher: CompiledLauncher, alternative: Alternative) -> Outcome:
    """The outcome of one launcher on one alternative, remembered on the launcher: the one
    cache of answers, keyed by the alternative's value."""
    cached = launcher.outcomes.get(alternative)
    if cached is not None:
        assert isinstance(cached, Outcome)
        return cached
    outcome = _solve(launcher, alternative)
    if len(launcher.outcomes) >= MAX_CACHED_OUTCOMES:
        launcher.outcomes.clear()
    launcher.outcomes[alternative] = outcome
    return outcome


def _solve(launcher: CompiledLauncher, alternative: Alternative) -> Outcome:
    """The highest priority tier of satisfying candidates, then those sharing the QoS, account
    and — when memory becomes cores — mem_per_cpu of the first one in file order.

    Shapes are tried in the order of their first class by (decreasing priority, file order), so
    the first shape that fits gives that first candidate; only its tier is looked at further.
    """
    if launcher.failure is not None:
        return Outcome(launcher, alternative)
    ask = Ask(alternative)
    shapes = launcher.shapes
    parts = launcher.index.parts
    hardware = launcher.index.hardware
    duration = ask.duration
    n_gpus = ask.n_gpus
    # a shape fits when its limits (duration, min_gpu) and its node (the rest) do; a handful
    # of QoS share each node, which is judged once per query
    on_node: dict[int, bool] = {}

    def fits(shape_id: int) -> bool:
        max_duration, min_gpu, node = parts[shape_id]
        if (max_duration is not None and duration > max_duration) or n_gpus < min_gpu:
            return False
        known = on_node.get(node)
        if known is None:
            known = on_node[node] = next(misses(hardware[node], ask), None) is None
        return known

    first = next((klass for shape_id, klass in launcher.index.search if fits(shape_id)), None)
    if first is None:  # every shape was tried and failed
        return Outcome(launcher, alternative)
    if launcher.kind == "local":
        return Outcome(launcher, alternative, (launcher.candidates[first.first],))
    first_shape = shapes[first.shape_id]
    per_cpu = uses_mem_per_cpu(first_shape, alternative)
    kept = [
        klass
        for klass in launcher.index.tiers[(first.priority, first.qos, first.account)]
        if fits(klass.shape_id)
        and (not per_cpu or shapes[klass.shape_id].mem_per_cpu == first_shape.mem_per_cpu)
    ]
    emitted = emit(launcher, alternative, kept, cpus_for(first_shape, alternative), ask)
    if emitted.options is not None:
        return Outcome(launcher, alternative, emitted.kept, emitted.options)
    return Outcome(launcher, alternative, dropped=emitted.dropped)


def find(
    launchers: Sequence[CompiledLauncher],
    requirement: Requirement,
    tags: str | Iterable[str] = (),
    *,
    slurm_only: bool = False,
) -> Answer:
    """The first launcher (by §5) satisfying the first satisfiable alternative.

    Raises :class:`LauncherNotFoundError` with one reason per candidate tried. ``tags``: a
    string is one tag; ``slurm_only``: local launchers are left out.
    """
    wanted = as_tags(tags)
    ordered = launcher_order(launchers, wanted, slurm_only=slurm_only)
    tried: list[tuple[int, Outcome]] = []
    for index, alternative in enumerate(requirement.alternatives):
        for launcher in ordered:
            outcome = solve_launcher(launcher, alternative)
            if outcome.found:
                return Answer(
                    launcher, index, alternative, outcome.kept, outcome.options,
                    config=launcher.config,
                )
            tried.append((index, outcome))
    # nothing answers: the message names the closest candidate, the reasons are one per
    # candidate (thousands on a big cluster); both are built when first read, so a caller that
    # catches the error to try something else pays for neither
    raise NoLauncherFound(
        partial(_all_reasons, tried),
        partial(_message, requirement, tried, launchers, ordered, wanted, slurm_only),
    )


def _message(
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
    return not_found_message(requirement, best) + _threshold_hint(requirement, tried)


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


def _threshold_hint(
    requirement: Requirement, tried: list[tuple[int, Outcome]]
) -> str:
    """What to write when a GPU asked without memory fits nowhere because of anti-waste rules.

    ``cuda()`` states 0 B of GPU memory (docs/expressions.md), below every ``min_mem_ratio`` /
    ``min_memory`` threshold: the smallest threshold among the GPUs tried that the request
    would fit once it states that much is what to write.
    """
    from reqsolve.matching import fits
    from reqsolve.requirement import Accelerator
    from reqsolve.units import format_memory, human_memory, parse_memory

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


def _all_reasons(tried: list[tuple[int, Outcome]]) -> tuple[Reason, ...]:
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


def _reason(
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
    where = best.launcher
    if best.partition is not None:
        where += f"/{best.partition}[{best.group}]"
    if best.qos is not None:
        where += f" qos={best.qos}"
    if best.account is not None:
        where += f" account={best.account}"
    detail = best.details.get("detail") or best.reason
    text = f"no launcher can run {requirement}; closest: {where}: {best.reason}"
    if detail != best.reason:
        text += f" ({detail})"
    if len(requirement.alternatives) > 1 and best.alternative:
        text += f" [alternative {best.alternative}]"
    return text
