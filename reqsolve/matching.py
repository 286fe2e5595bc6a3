"""Does a candidate satisfy an alternative? (docs/semantics.md §4) — the only `constraint` importer.

Cheap integer checks come first, in a fixed order (duration, cores, memory, the mem_per_cpu
coupling, min_gpu), so that the first unmet condition is the one reported. The GPU part is a
real matching problem: each requested GPU is a variable whose domain is the host GPUs it fits
(memory >= asked, min_memory <= asked, same model when asked), all different. A greedy
assignment misses solutions on heterogeneous hosts, so the assignment is left to the constraint
solver, after exact and cheap pre-checks (counts, an empty domain, Hall's condition over the
distinct request kinds) that also keep the solver away from hopeless pigeonhole searches.

Verdicts depend only on the candidate's :class:`~reqsolve.candidates.Shape` and the alternative,
and are cached on that pair: a cluster of 10,000 nodes has a handful of shapes. Choosing a
launcher needs only the decision: :func:`unmet` gives it as two integers (stage, limit), with
exact shortcuts for the usual node (one kind of GPU: the count decides) and a memo of the
matching for the others; :func:`check` adds the words, for reasons and ``explain``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any

from reqsolve.candidates import GpuKind, Shape, ratio_memory
from reqsolve.requirement import Accelerator, Alternative
from reqsolve.units import MIB, format_duration, human_memory

# How far the checks went before failing: a later stage means a closer candidate.
STAGES = ("duration", "cores", "memory", "mem_per_cpu", "min_gpu", "gpu_count", "gpus")
_STAGE_OF = {code: index for index, code in enumerate(STAGES)}
HALL_MAX_KINDS = 12  # 2^12 subsets; more distinct requested GPU kinds go to the solver directly


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check: ``ok``, or the first unmet condition in numbers.

    ``reason`` is the short structured form (``duration 345600s > max 72000s``), ``detail`` the
    same condition for a person (``QoS qos_gpu-t3 max 20h < 4d asked``). ``cpus_per_task`` is
    what to ask Slurm for (None without a ``cpu()`` term); ``assignment`` maps each requested
    GPU (in the alternative's order) to a host GPU index.
    """

    ok: bool
    code: str = "ok"
    reason: str = ""
    detail: str = ""
    cpus_per_task: int | None = None
    assignment: tuple[int, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def stage(self) -> int:
        return _STAGE_OF.get(self.code, len(STAGES))


def _fail(code: str, reason: str, detail: str, **numbers: Any) -> Verdict:
    return Verdict(False, code, reason, detail or reason, numbers=numbers)


def cpus_for(shape: Shape, alternative: Alternative) -> int | None:
    """``--cpus-per-task``: the cores asked, raised to cover memory when memory is per CPU."""
    if alternative.cpu is None:
        return None
    cores = alternative.cpu.cores
    memory = alternative.cpu.memory
    if not shape.use_memory_constraint and memory and shape.mem_per_cpu:
        cores = max(cores, -(-memory // shape.mem_per_cpu))
    return cores


class Ask:
    """An alternative prepared once per query: what :func:`unmet` reads, as plain attributes.

    ``kinds`` are the distinct requested GPUs with their counts (``alternative.gpus`` is
    sorted, so equal requests are adjacent).
    """

    __slots__ = (
        "alternative", "cores", "cpu", "duration", "feasible", "kinds", "memory", "n_gpus"
    )

    def __init__(self, alternative: Alternative) -> None:
        self.alternative = alternative
        self.duration = alternative.duration
        cpu = alternative.cpu
        self.cpu = cpu is not None
        self.cores = cpu.cores if cpu is not None else 0
        self.memory = cpu.memory if cpu is not None else 0
        gpus = alternative.gpus
        self.n_gpus = len(gpus)
        counts: dict[Accelerator, int] = {}
        for gpu in gpus:
            counts[gpu] = counts.get(gpu, 0) + 1
        self.kinds: tuple[tuple[Accelerator, int], ...] = tuple(counts.items())
        # GPU assignments decided during this query, by id() of a node's GPU kinds: the
        # shapes outlive the query, and an id costs no hashing of dataclasses
        self.feasible: dict[int, bool] = {}


# (stage index in STAGES, the capacity that fell short or 0): what ranking needs of a failure
Unmet = tuple[int, int]
_DURATION, _CORES, _MEMORY, _MEM_PER_CPU, _MIN_GPU, _GPU_COUNT, _GPUS = range(len(STAGES))
_GPU_MEMO: dict[tuple[tuple[GpuKind, ...], tuple[tuple[Accelerator, int], ...]], bool] = {}
GPU_MEMO_SIZE = 65536


def unmet(shape: Shape, ask: Ask) -> Unmet | None:
    """The first unmet condition of ``ask`` on a node of ``shape`` as (stage, limit), or None.

    The decision of :func:`check` without its messages: the choice of a launcher calls this
    for every shape it looks at, and only a failure that must be explained pays for words.
    ``limit`` is ``Verdict.numbers["limit"]`` (0 when the verdict has none).
    """
    max_duration = shape.max_duration
    if max_duration is not None and ask.duration > max_duration:
        return (_DURATION, max_duration)
    cores = shape.cores
    if ask.cpu and cores is not None and ask.cores > cores:
        return (_CORES, cores)
    memory = ask.memory
    if memory:
        if shape.memory is not None and memory > shape.memory:
            return (_MEMORY, shape.memory)
        if not shape.use_memory_constraint:
            per_cpu = shape.mem_per_cpu
            if not per_cpu:
                return (_MEM_PER_CPU, 0)
            if cores is not None and max(ask.cores, -(-memory // per_cpu)) > cores:
                return (_MEM_PER_CPU, cores)
    asked = ask.n_gpus
    if asked < shape.min_gpu:
        return (_MIN_GPU, shape.min_gpu)
    if not asked:
        return None
    kinds = shape.gpus
    if len(kinds) == 1:
        # one kind of host GPU (the usual node): any request kind fitting it fits every one of
        # its GPUs, so the count decides (Hall's condition reduces to it)
        kind = kinds[0]
        if asked > kind.count:
            return (_GPU_COUNT, kind.count)
        for gpu, _ in ask.kinds:
            if not fits(kind, gpu):
                return (_GPUS, kind.count)
        return None
    total = sum(kind.count for kind in kinds)
    if asked > total:
        return (_GPU_COUNT, total)
    feasible = ask.feasible.get(id(kinds))
    if feasible is None:
        key = (kinds, ask.kinds)
        feasible = _GPU_MEMO.get(key)
        if feasible is None:
            feasible = not isinstance(assign_gpus(kinds, ask.alternative.gpus), Verdict)
            if len(_GPU_MEMO) >= GPU_MEMO_SIZE:
                _GPU_MEMO.clear()
            _GPU_MEMO[key] = feasible
        ask.feasible[id(kinds)] = feasible
    return None if feasible else (_GPUS, total)


@lru_cache(maxsize=65536)
def check(shape: Shape, alternative: Alternative) -> Verdict:
    """The first unmet condition of ``alternative`` on a node of ``shape``, or ok."""
    found = unmet(shape, Ask(alternative))
    cpus = cpus_for(shape, alternative)
    if found is None:
        if not alternative.gpus:
            return Verdict(True, cpus_per_task=cpus)
        gpus = assign_gpus(shape.gpus, alternative.gpus)
        assert not isinstance(gpus, Verdict), "unmet() and assign_gpus() disagree"
        return Verdict(True, cpus_per_task=cpus, assignment=gpus)
    return describe(shape, alternative, found[0], cpus)


def describe(shape: Shape, alternative: Alternative, stage: int, cpus: int | None) -> Verdict:
    """The failed verdict of ``stage``, in words and numbers."""
    duration = alternative.duration
    cpu = alternative.cpu
    memory = cpu.memory if cpu is not None else 0
    if stage == _DURATION:
        assert shape.max_duration is not None
        return _fail(
            "duration",
            f"duration {duration}s > max {shape.max_duration}s",
            f"{shape.duration_source or 'limit'} max {format_duration(shape.max_duration)}"
            f" < {format_duration(duration)} asked",
            asked=duration,
            limit=shape.max_duration,
        )
    if stage == _CORES:
        assert cpu is not None and shape.cores is not None
        return _fail(
            "cores",
            f"cores {cpu.cores} > {shape.cores}",
            f"{cpu.cores} cores asked, the node has {shape.cores}",
            asked=cpu.cores,
            limit=shape.cores,
        )
    if stage == _MEMORY:
        assert shape.memory is not None
        asked_text = human_memory(memory)
        if memory % MIB and not shape.memory % MIB and memory - shape.memory < MIB:
            # at the boundary: a Slurm node's memory is whole MiB, --mem is rounded up to it
            asked_text += f" ({-(-memory // MIB)}MiB in whole MiB)"
        return _fail(
            "memory",
            f"memory {memory} > {shape.memory}",
            f"memory {asked_text} asked, the node has {human_memory(shape.memory)}",
            asked=memory,
            limit=shape.memory,
        )
    if stage == _MEM_PER_CPU:
        if not shape.mem_per_cpu:
            return _fail(
                "mem_per_cpu",
                "use_memory_contraint: false and mem_per_cpu unknown",
                "memory cannot be asked: use_memory_contraint is false and no mem_per_cpu is"
                " configured to turn it into cores",
            )
        assert cpus is not None and shape.cores is not None
        return _fail(
            "mem_per_cpu",
            f"cores {cpus} > {shape.cores}",
            f"{human_memory(memory)} at {human_memory(shape.mem_per_cpu)} per CPU needs"
            f" {cpus} cores, the node has {shape.cores}",
            asked=cpus,
            limit=shape.cores,
        )
    asked = alternative.gpus
    if stage == _MIN_GPU:
        return _fail(
            "min_gpu",
            f"min_gpu {shape.min_gpu} > {len(asked)} asked",
            f"{shape.min_gpu_source or 'limit'} needs at least {shape.min_gpu} GPU(s),"
            f" {len(asked)} asked",
            asked=len(asked),
            limit=shape.min_gpu,
        )
    failed = assign_gpus(shape.gpus, asked)
    assert isinstance(failed, Verdict), "unmet() and assign_gpus() disagree"
    return failed


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


def assign_gpus(
    kinds: Sequence[GpuKind], asked: Sequence[Accelerator]
) -> tuple[int, ...] | Verdict:
    """A host GPU index for each requested GPU (all different), or why there is none."""
    total = sum(kind.count for kind in kinds)
    reason = f"no assignment of {len(asked)} GPU(s) to {total} host GPU(s)"
    if len(asked) > total:
        return _fail(
            "gpu_count",
            reason,
            f"{len(asked)} GPU(s) asked on one node, the node has {total}",
            asked=len(asked),
            limit=total,
        )
    # request kinds (asked is sorted, so equal requests are adjacent) and the host kinds each fits
    request_kinds: dict[Accelerator, int] = {}
    for gpu in asked:
        request_kinds[gpu] = request_kinds.get(gpu, 0) + 1
    fitting: dict[Accelerator, list[int]] = {}
    for gpu in request_kinds:
        fitting[gpu] = [i for i, kind in enumerate(kinds) if fits(kind, gpu)]
        if not fitting[gpu]:
            return _fail("gpus", reason, misfit(kinds, gpu), asked=len(asked), limit=total)
    if len(request_kinds) <= HALL_MAX_KINDS:
        shortage = hall_shortage(kinds, request_kinds, fitting)
        if shortage is not None:
            return _fail("gpus", reason, shortage, asked=len(asked), limit=total)
    solution = solve_assignment(kinds, asked, fitting)
    if solution is None:
        return _fail(
            "gpus",
            reason,
            f"the {len(asked)} GPU(s) asked cannot all be placed on different host GPUs",
            asked=len(asked),
            limit=total,
        )
    return solution


def hall_shortage(
    kinds: Sequence[GpuKind],
    request_kinds: dict[Accelerator, int],
    fitting: dict[Accelerator, list[int]],
) -> str | None:
    """Hall's condition over request kinds: every set of them must fit enough host GPUs.

    Equal requests have equal neighbourhoods, so checking each set of kinds with all its copies
    is exact: a shortage here means no assignment exists at all.
    """
    items = list(request_kinds.items())
    for size in range(1, len(items) + 1):
        for subset in combinations(items, size):
            wanted = sum(n for _, n in subset)
            hosts = {i for gpu, _ in subset for i in fitting[gpu]}
            available = sum(kinds[i].count for i in hosts)
            if available < wanted:
                what = " & ".join(str(gpu) + (f"*{n}" if n > 1 else "") for gpu, n in subset)
                return f"{what}: {wanted} GPU(s) asked, only {available} host GPU(s) fit"
    return None


def misfit(kinds: Sequence[GpuKind], gpu: Accelerator) -> str:
    """Why no host GPU fits one request, against the host GPU that came closest."""
    asked = human_memory(gpu.memory) if gpu.memory else "0B"
    if not kinds:
        return "the node has no GPU"
    same_model = [k for k in kinds if gpu.model is None or k.accepts_model(gpu.model)]
    if not same_model:
        models = ", ".join(sorted({k.model or "unknown" for k in kinds}))
        return f"model {gpu.model} asked, the node has {models}"
    big = [k for k in same_model if not gpu.memory or (k.memory or 0) >= gpu.memory]
    if not big:
        known = [k.memory for k in same_model if k.memory is not None]
        if not known:
            types = sorted({k.gres for k in same_model if k.gres is not None})
            where = (
                f"gres_memory: {{{types[0]}: <size>}} for its GRES type, "
                if types
                else ""
            )
            return (
                f"GPU memory unknown, {asked} asked: state the GPU's memory in the launcher"
                f" file ({where}gpu memory, or a features_regex capturing cuda_memory)"
            )
        return f"GPU memory {human_memory(max(known))} < {asked} asked"
    closest = min(big, key=lambda k: k.min_memory)
    size = human_memory(closest.memory) if closest.memory is not None else "unknown-size"
    if (
        closest.min_mem_ratio
        and closest.memory is not None
        and ratio_memory(closest.memory, closest.min_mem_ratio) == closest.min_memory
    ):
        return (
            f"min_mem_ratio {closest.min_mem_ratio}: this {size} GPU needs"
            f" ≥ {human_memory(closest.min_memory)}, asked {asked}"
        )
    return f"min_memory: this {size} GPU needs ≥ {human_memory(closest.min_memory)}, asked {asked}"


def solve_assignment(
    kinds: Sequence[GpuKind], asked: Sequence[Accelerator], fitting: dict[Accelerator, list[int]]
) -> tuple[int, ...] | None:
    """The matching as a constraint problem: one variable per requested GPU, all different.

    Host GPUs are numbered kind after kind. Only called once Hall's condition holds, so a
    solution exists; domains list first the host GPUs that fit the fewest kinds of request
    (the scarce ones are left for those who need them), so the first dive nearly always
    succeeds and identical GPUs are never permuted in vain.
    """
    first: list[int] = []
    start = 0
    for kind in kinds:
        first.append(start)
        start += kind.count
    demand = {k: sum(1 for hosts in fitting.values() if k in hosts) for k in range(len(kinds))}
    # python-constraint tries a domain's values from its end: put the scarce host GPUs last
    domains = {
        gpu: [
            first[k] + j
            for k in sorted(hosts, key=lambda k: (-demand[k], -k))
            for j in range(kinds[k].count)
        ]
        for gpu, hosts in fitting.items()
    }
    if len(domains) == 1:
        # one kind of request: any distinct host GPUs of its domain will do
        domain = next(iter(domains.values()))
        return tuple(domain[: len(asked)]) if len(domain) >= len(asked) else None
    # imported here: most queries never reach the solver, and the import costs ~80 ms at start
    from constraint import AllDifferentConstraint, Problem

    problem = Problem()
    for index, gpu in enumerate(asked):
        problem.addVariable(index, domains[gpu])
    problem.addConstraint(AllDifferentConstraint(), list(range(len(asked))))
    solution = problem.getSolution()
    if not solution:
        return None
    return tuple(int(solution[i]) for i in range(len(asked)))


@lru_cache(maxsize=65536)
def distance(shape: Shape, alternative: Alternative) -> tuple[int, float]:
    """How far a node of ``shape`` is from running ``alternative``: (the number of conditions
    unmet, the sum of their relative shortfalls). (0, 0.0) when it fits.

    "closest" in messages is the smallest distance (docs/matching.md, "No answer"): the
    candidate a person would change least. The first unmet condition alone misleads: a 6-day
    GPU job on a file whose GPU partition allows 5 days is one condition short there (1/6 of
    the duration), but one condition short by the whole request on a partition with no GPU.
    A relative shortfall is (asked - capacity) / asked, or 1 where there is no capacity at all.
    """
    count = 0
    shortfall = 0.0

    def miss(asked: int, have: int) -> None:
        nonlocal count, shortfall
        count += 1
        shortfall += (asked - have) / asked if asked > have >= 0 else 1.0

    duration = alternative.duration
    if shape.max_duration is not None and duration > shape.max_duration:
        miss(duration, shape.max_duration)
    cpu = alternative.cpu
    cores = cpu.cores if cpu is not None else 0
    memory = cpu.memory if cpu is not None else 0
    if cpu is not None and shape.cores is not None and cores > shape.cores:
        miss(cores, shape.cores)
    if memory and shape.memory is not None and memory > shape.memory:
        miss(memory, shape.memory)
    if memory and not shape.use_memory_constraint:
        per_cpu = shape.mem_per_cpu
        if not per_cpu:
            miss(1, 0)
        else:
            needed = max(cores, -(-memory // per_cpu))
            if shape.cores is not None and needed > shape.cores:
                miss(needed, shape.cores)
    asked = alternative.gpus
    if len(asked) < shape.min_gpu:
        miss(shape.min_gpu, len(asked))
    if asked:
        total = shape.gpu_count
        too_many = len(asked) > total
        if too_many:
            miss(len(asked), total)
        if shape.gpus and (too_many or isinstance(assign_gpus(shape.gpus, asked), Verdict)):
            # the kinds asked, against the closest host GPU each: a second condition when the
            # count already fails; when every kind fits some GPU but not all at once (a
            # shortage of fitting GPUs), one GPU too many
            gap = max(min(_gpu_gap(kind, gpu) for kind in shape.gpus) for gpu in set(asked))
            if gap or not too_many:
                count += 1
                shortfall += gap or 1 / len(asked)
    return count, shortfall


def _gpu_gap(kind: GpuKind, gpu: Accelerator) -> float:
    """How far one host GPU is from one requested GPU, relatively: 0 when it fits, 1 when its
    model differs or its memory is unknown, else the memory missing over the memory asked, or
    the memory below ``min_memory`` over the GPU's memory."""
    if fits(kind, gpu):
        return 0.0
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
    return 1.0  # the memory fits: the model does not
