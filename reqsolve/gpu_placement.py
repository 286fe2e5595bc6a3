"""Can each requested GPU get a host GPU of its own? (docs/semantics.md §4.6) — the only
`constraint` importer.

Each requested GPU must get its own host GPU that it fits (memory >= asked, min_memory <= asked,
same model when asked). Whether such an assignment exists is decided exactly without search, by
Hall's condition over the distinct request kinds (identical requests have identical
neighbourhoods); the assignment itself, needed only to run a local job, is left to the
constraint solver (:func:`assign_gpus`). A greedy zip misses solutions on heterogeneous hosts.
Split from :mod:`reqsolve.matching`, which walks every condition and reads this one's verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from reqsolve.gpu_models import model_gap
from reqsolve.places import GpuKind, Shape
from reqsolve.requirement import Accelerator, Alternative

HALL_MAX_KINDS = 12  # 2^12 subsets; more distinct requested GPU kinds go to the solver directly


@dataclass(frozen=True, slots=True)
class GpuShortfall:
    """Why the GPUs asked cannot each get a host GPU of their own.

    ``why`` is ``count`` (more asked than the node has), ``misfit`` (the one request of
    ``requests`` fits no host GPU), ``hall`` (the requests of ``requests`` need more GPUs than
    the ``available`` host GPUs fitting any of them) or ``solver`` (the solver found none).
    Not a tuple: an assignment is one."""

    why: str
    requests: tuple[tuple[Accelerator, int], ...] = ()
    available: int = 0


def placement(
    kinds: Sequence[GpuKind], requests: Sequence[tuple[Accelerator, int]]
) -> GpuShortfall | None:
    """Why the requests (distinct GPUs asked, with counts) cannot each get their own host GPU,
    or None when they can — decided exactly, without search (the module's docstring)."""
    if len(kinds) == 1:
        # one kind of host GPU (the usual node): the count decides, once every request fits it
        kind = kinds[0]
        room = kind.count
        unfit: GpuShortfall | None = None  # the first request the kind does not fit
        for gpu, n in requests:
            room -= n
            if unfit is None and not fits(kind, gpu):
                unfit = GpuShortfall("misfit", ((gpu, n),))
        return GpuShortfall("count") if room < 0 else unfit
    if sum(n for _, n in requests) > sum(kind.count for kind in kinds):
        return GpuShortfall("count")
    fitting: list[set[int]] = []
    for gpu, n in requests:
        hosts = {i for i, kind in enumerate(kinds) if fits(kind, gpu)}
        if not hosts:
            return GpuShortfall("misfit", ((gpu, n),))
        fitting.append(hosts)
    if len(requests) > HALL_MAX_KINDS:
        found = solve_assignment(kinds, requests, fitting)
        return None if found is not None else GpuShortfall("solver")
    for size in range(1, len(requests) + 1):
        for subset in combinations(range(len(requests)), size):
            want = sum(requests[r][1] for r in subset)
            hosts = set().union(*(fitting[r] for r in subset))
            available = sum(kinds[i].count for i in hosts)
            if available < want:
                return GpuShortfall("hall", tuple(requests[r] for r in subset), available)
    return None


def assign_gpus(
    kinds: Sequence[GpuKind], asked: Sequence[Accelerator]
) -> tuple[int, ...] | GpuShortfall:
    """A host GPU index for each requested GPU (all different), or why there is none.

    Host GPUs are numbered kind after kind."""
    requests: dict[Accelerator, int] = {}
    for gpu in asked:  # asked is sorted: equal requests are adjacent
        requests[gpu] = requests.get(gpu, 0) + 1
    items = tuple(requests.items())
    shortfall = placement(kinds, items)
    if shortfall is not None:
        return shortfall
    fitting = [{i for i, kind in enumerate(kinds) if fits(kind, gpu)} for gpu, _ in items]
    solution = solve_assignment(kinds, items, fitting)
    if solution is None:  # pragma: no cover - Hall's condition holds: an assignment exists
        return GpuShortfall("solver")
    return solution


def solve_assignment(
    kinds: Sequence[GpuKind],
    requests: Sequence[tuple[Accelerator, int]],
    fitting: Sequence[set[int]],
) -> tuple[int, ...] | None:
    """The matching as a constraint problem: one variable per requested GPU, all different.

    ``fitting[r]`` are the host kinds request ``r`` fits. Domains list first the host GPUs
    that fit the fewest kinds of request (the scarce ones are left for those who need them),
    so the first dive nearly always succeeds and identical GPUs are never permuted in vain.
    """
    first: list[int] = []
    start = 0
    for kind in kinds:
        first.append(start)
        start += kind.count
    demand = {k: sum(1 for hosts in fitting if k in hosts) for k in range(len(kinds))}
    # python-constraint tries a domain's values from its end: put the scarce host GPUs last
    domains = [
        [
            first[k] + j
            for k in sorted(hosts, key=lambda k: (-demand[k], -k))
            for j in range(kinds[k].count)
        ]
        for hosts in fitting
    ]
    wanted = [r for r, (_, n) in enumerate(requests) for _ in range(n)]
    if len(domains) == 1:
        # one kind of request: any distinct host GPUs of its domain will do
        domain = domains[0]
        return tuple(domain[: len(wanted)]) if len(domain) >= len(wanted) else None
    # imported here: most queries never reach the solver, and the import costs ~80 ms at start
    from constraint import AllDifferentConstraint, Problem

    problem = Problem()
    for index, request in enumerate(wanted):
        problem.addVariable(index, domains[request])
    problem.addConstraint(AllDifferentConstraint(), list(range(len(wanted))))
    solution = problem.getSolution()
    if not solution:
        return None
    return tuple(int(solution[i]) for i in range(len(wanted)))


def fits(kind: GpuKind, gpu: Accelerator) -> bool:
    """One requested GPU on one host GPU: enough memory, not below its minimum, of the model
    asked (the rule of docs/gpu-models.md: ``A100`` fits ``NVIDIA A100-SXM4-80GB``).

    A GPU whose memory nothing states fits only a request that states none: no scheduler
    enforces GPU memory, so "unknown" cannot be read as "enough" (docs/semantics.md §4.2).
    """
    if gpu.memory and (kind.memory is None or kind.memory < gpu.memory):
        return False
    if kind.min_memory > gpu.memory:
        return False
    return gpu.model is None or kind.accepts_model(gpu.model)


def gpu_gap(shape: Shape, alternative: Alternative) -> float:
    """How far the host GPUs are from the kinds asked: for each kind, its closest host GPU;
    the worst kind counts (0 when each kind fits some host GPU)."""
    return max(min(kind_gap(kind, gpu) for kind in shape.gpus) for gpu in set(alternative.gpus))


def kind_gap(kind: GpuKind, gpu: Accelerator) -> float:
    """How far one host GPU is from one requested GPU, relatively: 0 when it fits, 1 when its
    memory is unknown, the model's gap (:func:`reqsolve.gpu_models.model_gap`) when its model
    differs, else the memory missing over the memory asked, or
    the memory below ``min_memory`` over the GPU's memory."""
    if fits(kind, gpu):
        return 0.0
    if gpu.model is not None and not kind.accepts_model(gpu.model):
        # another model: no amount of memory makes it one; the model asked under a name that
        # does not show all of the ask, or one of its series, is closer than another series
        return 1.0 if kind.model is None else model_gap(gpu.model, kind.model)
    if gpu.memory and kind.memory is None:
        return 1.0
    if gpu.memory and kind.memory is not None and kind.memory < gpu.memory:
        return (gpu.memory - kind.memory) / gpu.memory
    if kind.min_memory > gpu.memory and kind.memory:
        # below the anti-waste threshold: by how much, against the GPU's size (cuda() asks
        # 0 B, and a GPU it nearly fits is closer than a node without GPUs)
        return (kind.min_memory - gpu.memory) / kind.memory
    if kind.min_memory > gpu.memory:
        return (kind.min_memory - gpu.memory) / kind.min_memory
    return 1.0  # pragma: no cover - fits() would have held
