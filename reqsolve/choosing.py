"""Choosing (docs/semantics.md §5): alternatives in order, launchers by weight, then inside one.

Everything here is a sort key or a filter over compiled launchers and the matcher's verdicts;
the one outcome per (launcher, alternative) is remembered on the compiled launcher, so a
repeated query costs a few dictionary look-ups. When nothing answers, the same verdicts are
rendered into reasons, and "closest" is their smallest distance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from reqsolve.answers.emit import emit, uses_mem_per_cpu
from reqsolve.answers.options import SlurmOptions
from reqsolve.candidates import CompiledLauncher
from reqsolve.config.model import LauncherConfig
from reqsolve.errors import Reason, closest
from reqsolve.matching import (
    Ask,
    Judgement,
    cpus_for,
    enough_gpus,
    evaluate,
    misses,
    within_duration,
)
from reqsolve.places import Candidate, Shape
from reqsolve.refusals import (
    NOT_KEPT,
    NoLauncherFound,
    message,
    other_dialect,
    placed,
    refused,
    ruled_out,
    unsound,
    unusable,
)
from reqsolve.requirement import Alternative, Requirement
from reqsolve.search_index import CandidateClass

MAX_CACHED_OUTCOMES = 4096


class Outcome:
    """One launcher on one alternative: the kept candidates and options, or why not.

    Why not is read from one verdict per distinct shape of the launcher (:attr:`verdicts`,
    made when first read), so a launcher that does not answer costs nothing more when another
    one does, and a cluster of 10,000 nodes with a few shapes is explained from a few verdicts.
    ``dropped`` says why each candidate that fits was dropped by the soundness rule, when
    that rule left no partition.
    """

    __slots__ = ("_verdicts", "alternative", "dropped", "kept", "launcher", "notes", "options")

    def __init__(
        self,
        launcher: CompiledLauncher,
        alternative: Alternative,
        kept: tuple[Candidate, ...] = (),
        options: SlurmOptions | None = None,
        dropped: tuple[tuple[Candidate, str], ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        self.launcher = launcher
        self.alternative = alternative
        self.kept = kept
        self.options = options
        self.dropped = dropped
        self.notes = notes
        self._verdicts: tuple[Judgement, ...] | None = None

    @property
    def found(self) -> bool:
        return bool(self.kept)

    @property
    def verdicts(self) -> tuple[Judgement, ...]:
        """The verdict of each distinct shape of the launcher (``launcher.shapes`` order)."""
        if self._verdicts is None:
            ask = Ask(self.alternative)
            self._verdicts = tuple(evaluate(shape, ask) for shape in self.launcher.shapes)
        return self._verdicts

    def verdict(self, position: int) -> Judgement:
        """The verdict of the launcher's candidate at ``position``."""
        return self.verdicts[self.launcher.shape_index[position]]

    def reasons(self, index: int) -> tuple[Reason, ...]:
        """Why each candidate does not answer this outcome's alternative, numbered ``index``
        in its requirement (empty when the launcher answers): rendered once per shape, placed
        per candidate."""
        launcher = self.launcher
        if launcher.failure is not None:
            return (unusable(index, launcher, launcher.failure),)
        if self.found:
            return ()
        dropped = {id(candidate): why for candidate, why in self.dropped}
        rendered = [
            None if verdict.ok else refused(index, launcher.id, verdict)
            for verdict in self.verdicts
        ]
        reasons = []
        for candidate, shape_id in zip(launcher.candidates, launcher.shape_index, strict=True):
            template = rendered[shape_id]
            if template is not None:
                reasons.append(placed(template, candidate))
            elif self.dropped:
                why = dropped.get(id(candidate), NOT_KEPT)
                reasons.append(unsound(index, launcher.id, candidate, why))
        return (*reasons, *ruled_out(index, launcher))

    def closest(self, index: int) -> Reason | None:
        """The closest of :meth:`reasons` (:func:`reqsolve.errors.closest`), found from one
        verdict per shape when nothing fits: every candidate of a shape is as close as its
        first."""
        launcher = self.launcher
        if launcher.failure is not None or self.dropped or self.found:
            return closest(self.reasons(index))
        return closest((
            *(
                placed(refused(index, launcher.id, self.verdicts[shape_id]),
                       launcher.candidates[first])
                for shape_id, first in sorted(launcher.index.shape_first.items(),
                                              key=lambda x: x[1])
            ),
            *ruled_out(index, launcher),
        ))


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
    notes: tuple[str, ...] = field(default=(), kw_only=True)
    """What the answer decided that the expression did not say, for a person: made by
    :func:`~reqsolve.answers.emit.emit` where it decides (with no duration asked, the job gets
    the chosen limit: docs/matching.md, "No duration asked"). A ``launchers.py`` answer has
    those of the ``solve()`` answer it returned as it is, and none for a launcher it built:
    its options are what that file wrote, reqsolve decided nothing."""

    @property
    def requirement(self) -> Alternative:
        """The alternative that matched (experimaestro's ``match.requirement``)."""
        return self.alternative



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
        and (not slurm_only or launcher.type == "slurm")
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
    # a shape fits when its limits (duration, min_gpu) and its node (the rest) do; a handful
    # of QoS share each node, which is judged once per query
    on_node: dict[int, bool] = {}

    def fits(shape_id: int) -> bool:
        max_duration, min_gpu, node = parts[shape_id]
        if not (within_duration(max_duration, ask) and enough_gpus(min_gpu, ask)):
            return False
        known = on_node.get(node)
        if known is None:
            known = on_node[node] = next(misses(hardware[node], ask), None) is None
        return known

    first = next((klass for shape_id, klass in launcher.index.search if fits(shape_id)), None)
    if first is None:  # every shape was tried and failed
        return Outcome(launcher, alternative)
    if launcher.type == "local":
        return Outcome(launcher, alternative, (launcher.candidates[first.first],))
    first_shape = shapes[first.shape_id]
    kept = [
        klass
        for klass in launcher.index.tiers[(first.priority, first.qos, first.account)]
        if fits(klass.shape_id)
    ]
    other_dialect: list[tuple[Candidate, str]] = []
    if ask.memory:
        kept, other_dialect = _one_dialect(launcher, kept, first_shape)
    cpus = cpus_for(first_shape, alternative)
    if uses_mem_per_cpu(first_shape, alternative):
        kept, cpus = _one_count(shapes, kept, first_shape, alternative, cpus)
    emitted = emit(launcher, alternative, kept, cpus, ask)
    if emitted.options is not None:
        return Outcome(launcher, alternative, emitted.kept, emitted.options, notes=emitted.notes)
    return Outcome(launcher, alternative, dropped=(*emitted.dropped, *other_dialect))


def _one_dialect(
    launcher: CompiledLauncher, kept: list[CandidateClass], first: Shape
) -> tuple[list[CandidateClass], list[tuple[Candidate, str]]]:
    """With memory asked, the kept candidates that ask for it as the first one does (one
    answer has one memory option: docs/semantics.md §6, "Memory dialects"), and the others
    with why they are not kept."""
    dialect = first.memory_option
    same: list[CandidateClass] = []
    left: list[tuple[Candidate, str]] = []
    for klass in kept:
        own = launcher.shapes[klass.shape_id].memory_option
        if own == dialect:
            same.append(klass)
        else:
            why = other_dialect(dialect, own)
            left.extend((launcher.candidates[i], why) for i in klass.members)
    return same, left


def _one_count(
    shapes: Sequence[Shape],
    kept: list[CandidateClass],
    first: Shape,
    alternative: Alternative,
    cpus: int | None,
) -> tuple[list[CandidateClass], int | None]:
    """With memory turned into CPUs, the kept candidates that one ``--cpus-per-task`` serves,
    and that count (docs/semantics.md §6, ``cpus_per_task``): the largest count any of them
    needs, when every one has that many cores (times the tasks) for sure; otherwise, as for
    one ``mem_per_cpu``, those sharing the first one's, with its count."""
    per_cpu = first.mem_per_cpu
    if all(shapes[k.shape_id].mem_per_cpu == per_cpu for k in kept):
        return kept, cpus
    counts = [cpus_for(shapes[k.shape_id], alternative) or 0 for k in kept]
    most = max(counts)
    on_node = most * (alternative.tasks or 1)
    if all((cores := shapes[k.shape_id].cores) is not None and on_node <= cores for k in kept):
        return kept, most
    return [k for k in kept if shapes[k.shape_id].mem_per_cpu == per_cpu], cpus


def choose(
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
                    config=launcher.config, notes=outcome.notes,
                )
            tried.append((index, outcome))
    # nothing answers: the message names the closest candidate, the reasons are one per
    # candidate (thousands on a big cluster); all are made when first read, so a caller that
    # catches the error to try something else pays for none
    pairs = [(index, outcome.launcher) for index, outcome in tried]
    raise NoLauncherFound(
        partial(all_reasons, tried),
        partial(nearest, tried),
        partial(message, requirement, pairs, launchers, ordered, wanted, slurm_only),
    )


def nearest(tried: Sequence[tuple[int, Outcome]]) -> Reason | None:
    """The closest candidate of all (alternative, outcome) tried: the closest of each."""
    return closest(best for index, outcome in tried if (best := outcome.closest(index)) is not None)


def all_reasons(tried: Sequence[tuple[int, Outcome]]) -> tuple[Reason, ...]:
    """Every candidate's reason, for each (alternative, outcome) tried."""
    return tuple(reason for index, outcome in tried for reason in outcome.reasons(index))


