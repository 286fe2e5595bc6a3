"""Choosing (SEMANTICS.md §5): alternatives in order, launchers by weight, then inside a launcher.

Everything here is a sort key or a filter over compiled launchers and cached verdicts; the one
answer per (launcher, alternative) is remembered on the compiled launcher, so a repeated query
costs a few dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from reqsolve.candidates import Candidate, CandidateClass, CompiledLauncher
from reqsolve.emit import emit, uses_mem_per_cpu
from reqsolve.errors import LauncherNotFoundError, Reason
from reqsolve.model import STAGES, Verdict, check
from reqsolve.requirement import Alternative, Requirement
from reqsolve.slurm.options import SlurmOptions

MAX_CACHED_OUTCOMES = 4096


class Failure(NamedTuple):
    """Why one candidate (None: the whole launcher) does not answer one alternative.

    A named tuple: thousands are made when a big cluster matches nothing, and a tuple is
    several times cheaper to build than a frozen dataclass."""

    candidate: Candidate | None
    code: str
    reason: str
    detail: str
    stage: int
    limit: int = 0  # the capacity that fell short, to rank how close a candidate came

    @classmethod
    def of(cls, candidate: Candidate | None, verdict: Verdict) -> Failure:
        limit = verdict.numbers.get("limit", 0)
        return cls(candidate, verdict.code, verdict.reason, verdict.detail, verdict.stage, limit)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One launcher on one alternative: the kept candidates and options, or every failure.

    The reasons built from the failures are cached per alternative index (``reasons``), so a
    repeated query that matches nothing does not rebuild thousands of them.
    """

    kept: tuple[Candidate, ...]
    options: SlurmOptions | None
    failures: tuple[Failure, ...]
    cache: dict[tuple[int, str], tuple[tuple[Reason, ...], Reason | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def found(self) -> bool:
        return bool(self.kept)

    def reasons(self, index: int, launcher: str) -> tuple[tuple[Reason, ...], Reason | None]:
        """The reasons for alternative ``index``, and the closest of them."""
        key = (index, launcher)
        cached = self.cache.get(key)
        if cached is None:
            shared: dict[int, dict[str, Any]] = {}  # equal details share one (read-only) dict
            reasons = tuple(_reason(index, launcher, f, shared) for f in self.failures)
            cached = self.cache[key] = (reasons, closest(reasons))
        return cached


@dataclass(frozen=True, slots=True)
class Match:
    """The answer: which launcher, for which alternative, with which options (slurm only)."""

    launcher: CompiledLauncher
    alternative_index: int
    alternative: Alternative
    candidates: tuple[Candidate, ...]
    options: SlurmOptions | None

    @property
    def requirement(self) -> Alternative:
        """The alternative that matched (the peer's ``match.requirement``)."""
        return self.alternative


def launcher_order(
    launchers: Iterable[CompiledLauncher], tags: Iterable[str] = ()
) -> list[CompiledLauncher]:
    """By decreasing weight, ties in file order; with tags, only launchers having one of them."""
    wanted = set(tags)
    eligible = [
        launcher
        for launcher in launchers
        if not wanted or wanted.intersection(launcher.config.tags)
    ]
    return sorted(eligible, key=lambda launcher: (-launcher.config.weight, launcher.position))


def keep(
    launcher: CompiledLauncher, alternative: Alternative, satisfying: Sequence[CandidateClass]
) -> list[CandidateClass]:
    """The highest priority tier, then those sharing the first one's QoS, account, mem_per_cpu
    ("first" in file order)."""
    if not satisfying:
        return []
    top = max(k.priority for k in satisfying)
    tier = [k for k in satisfying if k.priority == top]
    first = min(tier, key=lambda k: k.first)
    shapes = launcher.shapes
    per_cpu = uses_mem_per_cpu(shapes[first.shape_id], alternative)
    mem_per_cpu = shapes[first.shape_id].mem_per_cpu

    def same(k: CandidateClass) -> bool:
        if k.qos != first.qos or k.account != first.account:
            return False
        return not per_cpu or shapes[k.shape_id].mem_per_cpu == mem_per_cpu

    return sorted((k for k in tier if same(k)), key=lambda k: k.first)


def solve_launcher(launcher: CompiledLauncher, alternative: Alternative) -> Outcome:
    """The outcome of one launcher on one alternative (cached on the launcher)."""
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
    if launcher.failure is not None:
        failure = launcher.failure
        return Outcome((), None, (Failure(None, "discovery", failure, failure, -1),))
    verdicts = [check(shape, alternative) for shape in launcher.shapes]
    satisfying = [k for k in launcher.classes if verdicts[k.shape_id].ok]
    kept = keep(launcher, alternative, satisfying)
    if not kept:
        # failures are built only here: a found answer never pays for them
        # one template per shape, copied per candidate: thousands of nodes share a few shapes
        templates = [
            (v.code, v.reason, v.detail, v.stage, v.numbers.get("limit", 0)) for v in verdicts
        ]
        failures = tuple(
            Failure(candidate, *templates[index])
            for candidate, index in zip(launcher.candidates, launcher.shape_index, strict=True)
        )
        return Outcome((), None, failures)
    if launcher.kind == "local":
        return Outcome((launcher.candidates[kept[0].first],), None, ())
    emitted = emit(launcher, alternative, kept, verdicts[kept[0].shape_id])
    if emitted.options is not None:
        return Outcome(emitted.kept, emitted.options, ())
    # every partition dropped by the soundness rule: say so for each kept candidate
    unsound = {id(c): why for c, why in emitted.dropped}
    all_failures: list[Failure] = []
    for candidate, index in zip(launcher.candidates, launcher.shape_index, strict=True):
        verdict = verdicts[index]
        if verdict.ok:
            why = unsound.get(
                id(candidate),
                "not kept: a higher priority or another QoS/account was preferred, and that"
                " choice was dropped as unsound",
            )
            all_failures.append(Failure(candidate, "unsound", why, why, len(STAGES)))
        else:
            all_failures.append(Failure.of(candidate, verdict))
    return Outcome((), None, tuple(all_failures))


def find(
    launchers: Sequence[CompiledLauncher],
    requirement: Requirement,
    tags: Iterable[str] = (),
) -> Match:
    """The first launcher (by §5) satisfying the first satisfiable alternative.

    Raises :class:`LauncherNotFoundError` with one reason per candidate tried.
    """
    ordered = launcher_order(launchers, tags)
    reasons: list[Reason] = []
    best: list[Reason] = []
    for index, alternative in enumerate(requirement.alternatives):
        for launcher in ordered:
            outcome = solve_launcher(launcher, alternative)
            if outcome.found:
                return Match(launcher, index, alternative, outcome.kept, outcome.options)
            these, nearest = outcome.reasons(index, launcher.id)
            reasons.extend(these)
            if nearest is not None:
                best.append(nearest)
    raise LauncherNotFoundError(reasons, not_found_message(requirement, best))


def _reason(
    index: int, launcher: str, failure: Failure, shared: dict[int, dict[str, Any]]
) -> Reason:
    candidate = failure.candidate
    key = hash((failure.detail, failure.stage, failure.limit))
    details = shared.get(key)
    if details is None or details["detail"] != failure.detail:
        details = {"detail": failure.detail, "stage": failure.stage, "limit": failure.limit}
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
    """The candidate whose checks went furthest, then with the largest capacity where it fell
    short (first on ties) — jsonschema's best_match idea."""
    best: Reason | None = None
    best_key = (-2, -1)
    for reason in reasons:
        key = (reason.details.get("stage", -1), reason.details.get("limit") or 0)
        if best is None or key > best_key:
            best, best_key = reason, key
    return best


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
