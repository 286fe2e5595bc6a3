"""Does a candidate satisfy an alternative? (docs/semantics.md §4)

One walk over the conditions decides: :func:`misses` yields each unmet condition, in a fixed
order (duration, cores, memory, the mem_per_cpu coupling, min_gpu, the GPUs), as numbers — the
stage, what was asked, the capacity that fell short, how far short. Choosing a launcher reads
only the first (:func:`evaluate`, which stops there); "closest" in messages reads them all
(:attr:`Judgement.distance`); words are rendered from a miss only when someone reads them
(:attr:`Judgement.reason`, :attr:`Judgement.detail`). So the decision and its explanation cannot
disagree: there is one of each condition.

Whether the GPUs asked can each get a host GPU of their own is a matching problem of its own:
:mod:`reqsolve.gpu_placement` decides it (exactly, without search) and finds the assignment.

Nothing here is cached: a verdict depends on (shape, alternative) only, and the one cache is the
chooser's, per launcher and alternative (:mod:`reqsolve.choosing`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from reqsolve.gpu_misfit import misfit
from reqsolve.gpu_placement import GpuShortfall, assign_gpus, gpu_gap, placement
from reqsolve.places import Shape
from reqsolve.quantities import human_memory, memory_pair
from reqsolve.requirement import Accelerator, Alternative
from reqsolve.units import MIB, format_duration

# How far the checks went before failing: a later stage means a closer candidate.
# "nodes" (nodes=N over the most one job may span there) is checked first, and numbered last so
# that the single-node stages keep their numbers
STAGES = ("duration", "cores", "memory", "mem_per_cpu", "min_gpu", "gpu_count", "gpus", "nodes")
DURATION, CORES, MEMORY, MEM_PER_CPU, MIN_GPU, GPU_COUNT, GPUS, NODES = range(len(STAGES))


class Miss(NamedTuple):
    """One unmet condition, in numbers: its stage (an index of :data:`STAGES`), what was
    asked and the capacity that fell short (0 when there is none).

    ``about`` says more where a stage has several ways to fail: the :class:`GpuShortfall` of
    the GPU stage, the ``--cpus-per-task`` chosen for another node whose memory per CPU
    falls short here (mem_per_cpu stage), or, when memory is asked per GPU (memory stage,
    ``memory_option: mem-per-gpu``), the GPUs asked per node: ``asked`` is then what Slurm
    allocates for them, and 0 GPUs means memory that cannot be asked at all.
    """

    stage: int
    asked: int
    limit: int
    about: GpuShortfall | int | None = None


class Judgement(NamedTuple):
    """The outcome of one check: ``ok``, or the first unmet condition (``first``).

    A tuple, cheap to make: choosing makes one per distinct node it looks at. Everything else
    is read from it on demand: the words (:attr:`reason`, the structured form ``duration
    345600s > max 72000s``; :attr:`detail`, the same for a person, ``QoS qos_gpu-t3 max 20h <
    4d asked``), how far the node is (:attr:`distance`), and what to ask Slurm for.
    """

    shape: Shape
    alternative: Alternative
    first: Miss | None = None

    @property
    def ok(self) -> bool:
        return self.first is None

    @property
    def code(self) -> str:
        return "ok" if self.first is None else STAGES[self.first.stage]

    @property
    def stage(self) -> int:
        return len(STAGES) if self.first is None else self.first.stage

    @property
    def limit(self) -> int:
        """The capacity that fell short (0 when ok, or when there is none)."""
        return 0 if self.first is None else self.first.limit

    @property
    def distance(self) -> tuple[int, float]:
        """How far the node is from running the alternative: (the number of conditions unmet,
        the sum of their relative shortfalls); (0, 0.0) when it fits.

        "closest" in messages is the smallest distance (docs/matching.md, "No answer"): the
        candidate a person would change least. The first unmet condition alone misleads: a
        6-day GPU job on a file whose GPU partition allows 5 days is one condition short there
        (1/6 of the duration), but one condition short by the whole request on a partition
        with no GPU.
        """
        if self.first is None:
            return (0, 0.0)
        every = tuple(misses(self.shape, Ask(self.alternative)))
        return (len(every), sum(shortfall(self.shape, self.alternative, m) for m in every))

    @property
    def reason(self) -> str:
        return "" if self.first is None else _reason(self.shape, self.first)

    @property
    def detail(self) -> str:
        return "" if self.first is None else _detail(self.shape, self.alternative, self.first)

    @property
    def cpus_per_task(self) -> int | None:
        """``--cpus-per-task`` on this node (ok only): None without a ``cpu()`` term."""
        return None if self.first is not None else cpus_for(self.shape, self.alternative)

    @property
    def assignment(self) -> tuple[int, ...]:
        """A host GPU index for each requested GPU, in the alternative's order (ok only)."""
        if self.first is not None or not self.alternative.gpus:
            return ()
        found = assign_gpus(self.shape.gpus, self.alternative.gpus)
        assert isinstance(found, tuple), f"Hall's condition held but no assignment: {found}"
        return found


def cpus_for(shape: Shape, alternative: Alternative) -> int | None:
    """``--cpus-per-task``: the cores asked, raised to cover memory when memory is per CPU
    (memory is per node: with ``tasks=T``, the T tasks' CPUs together cover it)."""
    if alternative.cpu is None:
        return None
    cores = alternative.cpu.cores
    memory = alternative.cpu.memory
    if shape.memory_option == "mem-per-cpu" and memory and shape.mem_per_cpu:
        cores = max(cores, -(-memory // (shape.mem_per_cpu * (alternative.tasks or 1))))
    return cores


class Ask:
    """An alternative prepared once per query: what :func:`misses` reads, as plain attributes.

    ``kinds`` are the distinct requested GPUs with their counts (``alternative.gpus`` is
    sorted, so equal requests are adjacent)."""

    __slots__ = ("alternative", "cores", "cpu", "duration", "kinds", "memory", "n_gpus", "nodes",
                 "tasks")

    def __init__(self, alternative: Alternative) -> None:
        self.alternative = alternative
        self.duration = alternative.duration
        self.nodes = alternative.nodes
        # tasks per node (1 when not asked): cpu(cores=C) is per task, a node needs T x C cores
        self.tasks = alternative.tasks or 1
        cpu = alternative.cpu
        self.cpu = cpu is not None
        self.cores = cpu.cores * self.tasks if cpu is not None else 0
        self.memory = cpu.memory if cpu is not None else 0
        gpus = alternative.gpus
        self.n_gpus = len(gpus)
        counts: dict[Accelerator, int] = {}
        for gpu in gpus:
            counts[gpu] = counts.get(gpu, 0) + 1
        self.kinds: tuple[tuple[Accelerator, int], ...] = tuple(counts.items())


def misses(shape: Shape, ask: Ask, cpus_per_task: int | None = None) -> Iterator[Miss]:
    """Every condition of ``ask`` that a node of ``shape`` does not meet, in stage order.

    A generator: the decision reads the first and stops, "closest" reads them all.
    ``cpus_per_task`` is the ``--cpus-per-task`` chosen for another node (the soundness rule of
    docs/matching.md §4): with memory per CPU, this node must then give the memory asked on
    that many CPUs, on cores it has.
    """
    if ask.nodes > 1 and shape.max_nodes is not None and ask.nodes > shape.max_nodes:
        yield Miss(NODES, ask.nodes, shape.max_nodes)
    max_duration = shape.max_duration
    if not within_duration(max_duration, ask):
        yield Miss(DURATION, ask.duration, max_duration or 0)
    cores = shape.cores
    if ask.cpu and cores is not None and ask.cores > cores:
        yield Miss(CORES, ask.cores, cores)
    memory = ask.memory
    if memory and shape.memory_option == "mem-per-gpu":
        # Slurm gives each GPU of the node --mem-per-gpu: n x that per node, in whole MiB
        gpus = ask.n_gpus
        if not gpus:
            yield Miss(MEMORY, memory, 0, 0)  # memory per GPU, and no GPU: cannot be asked
        elif shape.memory is not None:
            allocated = allocated_per_gpu(memory, gpus)
            if allocated > shape.memory:
                yield Miss(MEMORY, allocated, shape.memory, gpus)
    elif memory:
        if shape.memory is not None and memory > shape.memory:
            yield Miss(MEMORY, memory, shape.memory)
        if shape.memory_option == "mem-per-cpu":
            per_cpu = shape.mem_per_cpu
            if not per_cpu:
                yield Miss(MEM_PER_CPU, 1, 0)
            else:
                # T tasks of --cpus-per-task CPUs each: T x that many CPUs on the node
                tasks = ask.tasks
                needed = max(ask.cores, -(-memory // (per_cpu * tasks)) * tasks)
                given = cpus_per_task * tasks if cpus_per_task is not None else None
                if cores is not None and needed > cores:
                    yield Miss(MEM_PER_CPU, needed, cores)
                elif given is not None and given * per_cpu < memory:
                    yield Miss(MEM_PER_CPU, memory, given * per_cpu, given)
                elif given is not None and cores is not None and given > cores:
                    yield Miss(CORES, given, cores)
    asked = ask.n_gpus
    if not enough_gpus(shape.min_gpu, ask):
        yield Miss(MIN_GPU, asked, shape.min_gpu)
    if not asked:
        return
    kinds = shape.gpus
    total = shape.gpu_count
    too_many = asked > total
    if too_many:
        yield Miss(GPU_COUNT, asked, total)
    if not kinds:
        return
    found = GpuShortfall("count") if too_many else placement(kinds, ask.kinds)
    # the kinds asked on the closest host GPU each: a second condition when the count already
    # fails and some kind fits no host GPU
    if found is not None and (not too_many or gpu_gap(shape, ask.alternative)):
        yield Miss(GPUS, asked, total, found)


def mib_per_gpu(memory: int, gpus: int) -> int:
    """``--mem-per-gpu`` in whole MiB: the memory asked per node shared by its ``gpus`` GPUs,
    rounded up (Slurm holds memory in MiB; rounding down would give the node less than asked).
    """
    return -(-memory // (gpus * MIB))


def allocated_per_gpu(memory: int, gpus: int) -> int:
    """The memory Slurm allocates on a node for ``--mem-per-gpu=`` :func:`mib_per_gpu` and
    ``gpus`` GPUs there, in bytes: at least ``memory``, less than ``memory + gpus`` MiB."""
    return gpus * mib_per_gpu(memory, gpus) * MIB


def within_duration(max_duration: int | None, ask: Ask) -> bool:
    """The duration asked is within a limit (None: unlimited): the duration stage's rule.

    It and :func:`enough_gpus` are the rules of a shape's limits apart from its node, which
    choosing checks before judging the node once (:func:`reqsolve.choosing._solve`)."""
    return max_duration is None or ask.duration <= max_duration


def enough_gpus(min_gpu: int, ask: Ask) -> bool:
    """At least ``min_gpu`` GPUs asked (a QoS's or configuration's minimum): the min_gpu
    stage's rule."""
    return ask.n_gpus >= min_gpu


def shortfall(shape: Shape, alternative: Alternative, miss: Miss) -> float:
    """How far short a miss falls, relatively: ``(asked - capacity) / asked``, 1 where there
    is no capacity at all; for the GPUs, how far the closest host GPU is from each kind asked
    (the worst of them), or one GPU too many when each kind fits some GPU but not all at once.
    """
    if miss.stage == GPUS:
        return gpu_gap(shape, alternative) or 1 / miss.asked
    asked, have = miss.asked, miss.limit
    if miss.stage == MIN_GPU:  # too few GPUs asked: short of the minimum
        asked, have = have, asked
    return (asked - have) / asked if asked > have >= 0 else 1.0


def evaluate(shape: Shape, ask: Ask, cpus_per_task: int | None = None) -> Judgement:
    """The first unmet condition of ``ask`` on a node of ``shape``, or ok: what choosing reads.

    ``cpus_per_task``: see :func:`misses`.
    """
    return Judgement(shape, ask.alternative, next(misses(shape, ask, cpus_per_task), None))


def check(shape: Shape, alternative: Alternative) -> Judgement:
    """:func:`evaluate` for one alternative, prepared here (a caller asking once)."""
    return evaluate(shape, Ask(alternative))


# --- words, rendered from a miss when someone reads them


def _reason(shape: Shape, miss: Miss) -> str:
    """The structured form of a miss (the conformance corpus compares these)."""
    stage, asked, limit = miss.stage, miss.asked, miss.limit
    if stage == NODES:
        return f"nodes {asked} > max {limit}"
    if stage == DURATION:
        return f"duration {asked}s > max {limit}s"
    if stage == CORES:
        return f"cores {asked} > {limit}"
    if stage == MEMORY and isinstance(miss.about, int):
        if not miss.about:
            return "memory per GPU (memory_option: mem-per-gpu) and no GPU asked"
        return f"memory {asked} > {limit} (mem-per-gpu x {miss.about} GPU(s))"
    if stage == MEMORY:
        return f"memory {asked} > {limit}"
    if stage == MEM_PER_CPU:
        if not limit:
            return "use_memory_contraint: false and mem_per_cpu unknown"
        if isinstance(miss.about, int):
            return f"memory {limit} < {asked} with {miss.about} cpus"
        return f"cores {asked} > {limit}"
    if stage == MIN_GPU:
        return f"min_gpu {limit} > {asked} asked"
    return f"no assignment of {asked} GPU(s) to {limit} host GPU(s)"


def _detail(shape: Shape, alternative: Alternative, miss: Miss) -> str:
    """A miss for a person: what was asked, what the node has, and where the limit comes from."""
    stage, asked, limit = miss.stage, miss.asked, miss.limit
    if stage == NODES:
        if limit == 1 and shape.nodes_source == "a local launcher":
            return f"nodes={asked} asked, a local launcher runs on one node"
        return f"nodes={asked} asked, over MaxNodes {limit} of {shape.nodes_source or 'limit'}"
    if stage == DURATION:
        return (
            f"{shape.duration_source or 'limit'} max {format_duration(limit)}"
            f" < {format_duration(asked)} asked"
        )
    if stage == CORES:
        return f"{asked} cores asked, the node has {limit}"
    if stage == MEMORY and isinstance(miss.about, int):
        return _per_gpu_detail(alternative, miss)
    if stage == MEMORY:
        asked_text, limit_text = memory_pair(asked, limit)
        if asked % MIB and not limit % MIB and asked - limit < MIB:
            # at the boundary: a Slurm node's memory is whole MiB, --mem is rounded up to it;
            # the comparison is in MiB then, both sides
            return (
                f"memory {human_memory(asked)} asked, {-(-asked // MIB)}MiB in whole MiB;"
                f" the node has {limit // MIB}MiB"
            )
        return f"memory {asked_text} asked, the node has {limit_text}"
    if stage == MEM_PER_CPU:
        if not limit:
            return (
                "memory cannot be asked: memory is asked per CPU here (use_memory_contraint:"
                " false, or memory_option: mem-per-cpu) and no mem_per_cpu is configured to turn"
                " it into cores"
            )
        if isinstance(miss.about, int):
            asked_text, limit_text = memory_pair(asked, limit)
            return (
                f"{miss.about} CPUs (--cpus-per-task, chosen for another node) at"
                f" {memory_pair(asked, shape.mem_per_cpu or 0)[1]} per CPU give {limit_text},"
                f" {asked_text} asked"
            )
        memory = alternative.cpu.memory if alternative.cpu is not None else 0
        memory_text, per_cpu = memory_pair(memory, shape.mem_per_cpu or 0)
        return (
            f"{memory_text} at {per_cpu} per CPU needs {asked} cores, the node has {limit}"
        )
    if stage == MIN_GPU:
        return (
            f"{shape.min_gpu_source or 'limit'} needs at least {limit} GPU(s), {asked} asked"
        )
    shortfall = miss.about if stage == GPUS else None
    if not isinstance(shortfall, GpuShortfall) or shortfall.why == "count":
        return f"{asked} GPU(s) asked on one node, the node has {limit}"
    if shortfall.why == "misfit":
        return misfit(shape.gpus, shortfall.requests[0][0])
    if shortfall.why == "hall":
        what = " & ".join(str(gpu) + (f"*{n}" if n > 1 else "") for gpu, n in shortfall.requests)
        wanted = sum(n for _, n in shortfall.requests)
        return f"{what}: {wanted} GPU(s) asked, only {shortfall.available} host GPU(s) fit"
    return f"the {asked} GPU(s) asked cannot all be placed on different host GPUs"


def _per_gpu_detail(alternative: Alternative, miss: Miss) -> str:
    """A memory miss under ``memory_option: mem-per-gpu``, for a person: what ``--mem-per-gpu``
    would say and what Slurm would allocate, or why memory cannot be asked at all."""
    memory = alternative.cpu.memory if alternative.cpu is not None else 0
    if not miss.about:
        return (
            f"memory {human_memory(memory)} asked without a GPU: this partition asks for memory"
            " per GPU (memory_option: mem-per-gpu, --mem-per-gpu), so a job without GPUs"
            " cannot ask for any; ask a GPU (cuda(...)) or use a partition with another"
            " memory_option"
        )
    gpus = miss.about
    assert isinstance(gpus, int)
    return (
        f"memory {human_memory(memory)} asked as --mem-per-gpu={mib_per_gpu(memory, gpus)}M"
        f" for {gpus} GPU(s): Slurm allocates {miss.asked // MIB}MiB, the node has"
        f" {miss.limit // MIB}MiB"
    )
