"""The check "does a node of this shape satisfy this alternative" (docs/semantics.md §4)."""

from __future__ import annotations

import time
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.candidates import ratio_memory
from reqsolve.config.model import MEMORY_OPTIONS
from reqsolve.gpu_placement import assign_gpus, fits
from reqsolve.matching import (
    STAGES,
    Ask,
    Judgement,
    check,
    evaluate,
    misses,
    shortfall,
)
from reqsolve.places import GpuKind, Shape
from reqsolve.requirement import Alternative, cpu, cuda_gpu, duration
from tests.reference import GIB, G


def shape(
    *gpus: GpuKind,
    cores: int | None = None,
    memory: int | None = None,
    mem_per_cpu: int | None = None,
    memory_option: str = "mem",
    max_duration: int | None = None,
    duration_source: str | None = None,
    min_gpu: int = 0,
    min_gpu_source: str | None = None,
) -> Shape:
    return Shape(
        cores,
        memory,
        mem_per_cpu,
        memory_option,
        tuple(gpus),
        max_duration,
        duration_source,
        min_gpu,
        min_gpu_source,
    )


def gpu(memory: int, min_memory: int = 0, count: int = 1, model: str | None = None) -> GpuKind:
    return GpuKind(count, memory, min_memory, model)


def ratio_gpu(memory: int, ratio: float, count: int = 1) -> GpuKind:
    return GpuKind(count, memory, ratio_memory(memory, ratio), None, ratio)


def alt(value: Alternative | object) -> Alternative:
    assert isinstance(value, Alternative)
    return value


# (id, shape, alternative, ok)
MATCHES = [
    # a greedy zip of the sorted request with the host GPUs misses these
    (
        "non-greedy-min-memory",
        shape(gpu(48 * G, 10 * G), gpu(40 * G, 35 * G)),
        cuda_gpu(mem="38G") & cuda_gpu(mem="20G"),
        True,
    ),
    (
        "non-greedy-plain",
        shape(gpu(48 * G), gpu(16 * G)),
        cuda_gpu(mem="16G") & cuda_gpu(mem="40G"),
        True,
    ),
    ("too-many", shape(gpu(48 * G, count=2)), cuda_gpu(mem="1G") * 3, False),
    ("exact-memory", shape(gpu(24 * G)), cuda_gpu(mem="24G"), True),
    ("one-byte-over", shape(gpu(24 * G)), cuda_gpu(mem="24000000001B"), False),
    ("ratio-boundary-in", shape(ratio_gpu(24 * G, 0.7)), cuda_gpu(mem="16800M"), True),
    ("ratio-boundary-out", shape(ratio_gpu(24 * G, 0.7)), cuda_gpu(mem="16799M"), False),
    ("ratio-gib", shape(ratio_gpu(40 * GIB, 0.7)), cuda_gpu(mem="28GiB"), True),
    ("model-casefold", shape(gpu(80 * G, model="A100")), cuda_gpu(mem="1G", model="a100"), True),
    ("model-other", shape(gpu(80 * G, model="A100")), cuda_gpu(model="H100"), False),
    ("unknown-gpu-memory/stated", shape(GpuKind(2, None)), cuda_gpu(mem="80G") * 2, False),
    ("unknown-gpu-memory/unstated", shape(GpuKind(2, None)), cuda_gpu() * 2, True),
    ("no-gpu-asked", shape(), cpu(cores=2), True),
    ("unknown-cores", shape(), cpu(cores=10_000, mem="10T"), True),
    ("cores-equal", shape(cores=8, memory=16 * G), cpu(cores=8, mem="16G"), True),
    ("cores-over", shape(cores=8, memory=16 * G), cpu(cores=9), False),
    ("memory-over", shape(cores=8, memory=16 * G), cpu(mem="17G"), False),
    ("duration-equal", shape(max_duration=7200), duration("2h"), True),
    ("duration-over", shape(max_duration=7200), duration("2h1s"), False),
    ("min-gpu", shape(gpu(10 * G, count=4), min_gpu=2), cuda_gpu(mem="1G"), False),
    ("min-gpu-met", shape(gpu(10 * G, count=4), min_gpu=2), cuda_gpu(mem="1G") * 2, True),
    (
        "mem-per-cpu-fits",
        shape(cores=4, mem_per_cpu=4 * G, memory_option="mem-per-cpu"),
        cpu(mem="16G"),
        True,
    ),
    (
        "mem-per-cpu-needs-more-cores",
        shape(cores=4, mem_per_cpu=4 * G, memory_option="mem-per-cpu"),
        cpu(mem="16000000001B"),
        False,
    ),
    (
        "mem-per-cpu-unknown",
        shape(cores=4, memory_option="mem-per-cpu"),
        cpu(mem="1G"),
        False,
    ),
    ("mem-per-cpu-no-memory", shape(cores=4, memory_option="mem-per-cpu"), cpu(cores=2), True),
]


@pytest.mark.parametrize(
    ("node", "alternative", "ok"), [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES]
)
def test_check(node: Shape, alternative: Alternative, ok: bool) -> None:
    assert check(node, alternative).ok is ok


# (id, shape, alternative, reason, detail): the first unmet condition, in numbers
FAILURES = [
    (
        "duration-first",
        shape(cores=1, max_duration=72000, duration_source="QoS qos_gpu-t3"),
        duration("4 days") & cpu(cores=2),
        "duration 345600s > max 72000s",
        "QoS qos_gpu-t3 max 20h < 4d asked",
    ),
    ("cores", shape(cores=32), cpu(cores=33), "cores 33 > 32", "33 cores asked, the node has 32"),
    (
        "memory",
        shape(cores=32, memory=256 * G),
        cpu(mem="300G"),
        "memory 300000000000 > 256000000000",
        "memory 300G asked, the node has 256G",
    ),
    (
        "mem-per-cpu-unknown",
        shape(memory_option="mem-per-cpu"),
        cpu(mem="4G"),
        "use_memory_contraint: false and mem_per_cpu unknown",
        "memory cannot be asked: memory is asked per CPU here (use_memory_contraint: false, or"
        " memory_option: mem-per-cpu) and no mem_per_cpu is configured"
        " to turn it into cores",
    ),
    (
        "min-gpu",
        shape(gpu(32 * G, count=4), min_gpu=2, min_gpu_source="QoS gpu_long"),
        cuda_gpu(mem="81G"),
        "min_gpu 2 > 1 asked",
        "QoS gpu_long needs at least 2 GPU(s), 1 asked",
    ),
    (
        "gpu-memory",
        shape(gpu(24 * G, count=2)),
        cuda_gpu(mem="30G"),
        "no assignment of 1 GPU(s) to 2 host GPU(s)",
        "GPU memory 24G < 30G asked",
    ),
    (
        "gpu-ratio",
        shape(ratio_gpu(48 * G, 0.7, count=3)),
        cuda_gpu(mem="24G"),
        "no assignment of 1 GPU(s) to 3 host GPU(s)",
        "min_mem_ratio 0.7: this 48G GPU needs ≥ 33.6G, asked 24G",
    ),
    (
        "gpu-min-memory",
        shape(gpu(48 * G, 40 * G, count=2)),
        cuda_gpu(mem="39G"),
        "no assignment of 1 GPU(s) to 2 host GPU(s)",
        "min_memory: this 48G GPU needs ≥ 40G, asked 39G",
    ),
    (
        "gpu-count",
        shape(gpu(48 * G, count=2)),
        cuda_gpu(mem="1G") * 3,
        "no assignment of 3 GPU(s) to 2 host GPU(s)",
        "3 GPU(s) asked on one node, the node has 2",
    ),
    (
        "gpu-hall",
        shape(gpu(11 * G, count=4)),
        cuda_gpu(mem="11G") * 3 & cuda_gpu(mem="20G"),
        "no assignment of 4 GPU(s) to 4 host GPU(s)",
        "GPU memory 11G < 20G asked",
    ),
    (
        "gpu-hall-shortage",
        shape(gpu(48 * G), gpu(16 * G, count=3)),
        cuda_gpu(mem="40G") * 2 & cuda_gpu(mem="1G"),
        "no assignment of 3 GPU(s) to 4 host GPU(s)",
        "cuda(mem=40GB)*2: 2 GPU(s) asked, only 1 host GPU(s) fit",
    ),
    (
        "gpu-model",
        shape(gpu(80 * G, model="A100")),
        cuda_gpu(model="H100"),
        "no assignment of 1 GPU(s) to 1 host GPU(s)",
        "model H100 asked, the node has A100",
    ),
]


@pytest.mark.parametrize(
    ("node", "alternative", "reason", "detail"),
    [f[1:] for f in FAILURES],
    ids=[f[0] for f in FAILURES],
)
def test_first_unmet_condition(
    node: Shape, alternative: Alternative, reason: str, detail: str | None
) -> None:
    verdict = check(node, alternative)
    assert not verdict.ok
    assert verdict.reason == reason
    assert verdict.detail == (detail or reason)


@pytest.mark.parametrize(
    ("node", "alternative", "cpus"),
    [
        (shape(), cpu(cores=3), 3),
        (shape(), duration("1h"), None),
        (shape(mem_per_cpu=4 * G, memory_option="mem-per-cpu"), cpu(mem="10G"), 3),
        (shape(mem_per_cpu=4 * G, memory_option="mem-per-cpu"), cpu(mem="10G", cores=8), 8),
        (shape(mem_per_cpu=4 * G), cpu(mem="10G"), 1),  # memory constraint used: no coupling
    ],
    ids=["cores", "no-cpu-term", "from-memory", "cores-win", "memory-constraint"],
)
def test_cpus_per_task(node: Shape, alternative: Alternative, cpus: int | None) -> None:
    assert check(node, alternative).cpus_per_task == cpus


def test_assignment_is_injective_and_fits() -> None:
    kinds = (gpu(48 * G, 10 * G), gpu(40 * G, 35 * G), gpu(16 * G, count=2))
    asked = alt(cuda_gpu(mem="38G") & cuda_gpu(mem="20G") & cuda_gpu(mem="16G") * 2).gpus
    result = assign_gpus(kinds, asked)
    assert isinstance(result, tuple)
    assert len(set(result)) == len(asked)
    flat = [k for k in kinds for _ in range(k.count)]
    for request, host in zip(asked, result, strict=True):
        assert flat[host].min_memory <= request.memory <= (flat[host].memory or 0)


def test_hopeless_pigeonhole_is_fast() -> None:
    """64 identical requests on 63 GPUs plus one too-small one: no exponential search."""
    node = shape(gpu(80 * G, count=63), gpu(1 * G))
    request = alt(cuda_gpu(mem="40G") * 64)
    start = time.perf_counter()
    assert not check(node, request).ok
    big_mixed = alt(cuda_gpu(mem="40G") * 30 & cuda_gpu(mem="1G") * 2)
    assert check(node, big_mixed).ok
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    ("node", "alternative"),
    [m[1:3] for m in MATCHES] + [f[1:3] for f in FAILURES],
    ids=[m[0] for m in MATCHES] + [f"fail-{f[0]}" for f in FAILURES],
)
def test_the_verdict_is_the_first_miss(node: Shape, alternative: Alternative) -> None:
    """Choosing reads the first unmet condition, "closest" reads them all: one walk."""
    every = list(misses(node, Ask(alternative)))
    verdict = check(node, alternative)
    assert verdict.first == (every[0] if every else None)
    assert verdict.distance == (len(every), sum(shortfall(node, alternative, m) for m in every))
    assert [m.stage for m in every] == sorted(m.stage for m in every)


_kinds = st.builds(
    GpuKind,
    count=st.integers(1, 4),
    memory=st.sampled_from([None, 12 * G, 24 * G, 48 * G, 80 * G]),
    min_memory=st.sampled_from([0, 10 * G, 20 * G]),
    model=st.sampled_from([None, "A100", "h100"]),
)
_shapes = st.builds(
    shape,
    cores=st.sampled_from([None, 4, 32]),
    memory=st.sampled_from([None, 16 * G, 256 * G]),
    mem_per_cpu=st.sampled_from([None, 0, 4 * G]),
    memory_option=st.sampled_from(MEMORY_OPTIONS),
    max_duration=st.sampled_from([None, 3600, 86400]),
    min_gpu=st.integers(0, 2),
).flatmap(
    lambda base: st.lists(_kinds, max_size=3).map(
        lambda kinds: Shape(
            base.cores, base.memory, base.mem_per_cpu, base.memory_option, tuple(kinds),
            base.max_duration, base.duration_source, base.min_gpu, base.min_gpu_source,
        )
    )
)
_asked = st.builds(
    lambda model, memory, count: cuda_gpu(mem=f"{memory}G", model=model) * count,
    st.sampled_from([None, "A100", "H100"]),
    st.sampled_from([1, 12, 20, 24, 40, 80]),
    st.integers(1, 4),
)
_alternatives = st.builds(
    lambda hours, cores, memory, gpus: alt(
        duration(f"{hours}h") & cpu(cores=cores, mem=f"{memory}G") & _product(gpus)
    ),
    st.sampled_from([1, 2, 24, 48]),
    st.sampled_from([1, 4, 8, 64]),
    st.sampled_from([0, 8, 20, 300]),
    st.lists(_asked, max_size=3),
)


def _product(gpus: list[object]) -> object:
    result: object = duration("0s") if not gpus else gpus[0]
    for more in gpus[1:]:
        result = result & more  # type: ignore[operator]
    return result


def _brute_force_gpus(node: Shape, alternative: Alternative) -> bool:
    """Some injective placement of the asked GPUs on the host GPUs, by trying them all (each
    set of used host GPUs once)."""
    host = [kind for kind in node.gpus for _ in range(kind.count)]
    asked = alternative.gpus

    @cache
    def place(i: int, used: frozenset[int]) -> bool:
        if i == len(asked):
            return True
        return any(
            place(i + 1, used | {h})
            for h in range(len(host))
            if h not in used and fits(host[h], asked[i])
        )

    return len(asked) <= len(host) and place(0, frozenset())


@settings(max_examples=300, deadline=None)
@given(_shapes, _alternatives)
def test_verdict_agrees_with_brute_force(node: Shape, alternative: Alternative) -> None:
    """The GPU decision is exact (Hall's condition, no search) and its assignment is real."""
    verdict = check(node, alternative)
    gpu_stages = {STAGES.index("gpu_count"), STAGES.index("gpus")}
    gpus_fit = _brute_force_gpus(node, alternative)
    assert gpus_fit == all(m.stage not in gpu_stages for m in misses(node, Ask(alternative)))
    if verdict.ok and alternative.gpus:
        placed = verdict.assignment
        host = [kind for kind in node.gpus for _ in range(kind.count)]
        assert len(set(placed)) == len(alternative.gpus)
        assert all(fits(host[i], g) for i, g in zip(placed, alternative.gpus, strict=True))


def test_evaluate_with_cpus_chosen_elsewhere() -> None:
    """The soundness rule's question: the --cpus-per-task of another node, on this one."""
    node = shape(cores=8, mem_per_cpu=2 * G, memory_option="mem-per-cpu")
    ask = Ask(alt(cpu(mem="10G")))
    assert evaluate(node, ask).ok  # 5 CPUs of its own would do
    short = evaluate(node, ask, cpus_per_task=3)  # 3 x 2G < 10G
    assert short.code == "mem_per_cpu"
    assert short.reason == "memory 6000000000 < 10000000000 with 3 cpus"
    wide = evaluate(node, ask, cpus_per_task=9)
    assert (wide.code, wide.reason) == ("cores", "cores 9 > 8")
    assert isinstance(wide, Judgement) and not wide.ok
