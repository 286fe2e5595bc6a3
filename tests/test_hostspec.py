"""Host specifications (the Python API of launchers.py) and their one meaning of "match".

A host described in Python must be judged exactly as the same host written in YAML: the tables
pin docs/semantics.md §4 case by case, and a property compares ``requirement.match(host)`` with the
full YAML search on the equivalent one-node launcher file.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    LauncherFile,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.errors import InvalidValue, LauncherNotFoundError
from reqsolve.hostspec import (
    CPUSpecification,
    CudaSpecification,
    HostRequirement,
    HostSpecification,
    Match,
    host_shape,
    why_not,
)
from reqsolve.parser import parse
from reqsolve.requirement import Accelerator, Alternative, Cpu, Requirement
from tests import strategies
from tests.answering import answer
from tests.reference import G

GiB = 1024**3

SEED_GPU_HOST = HostSpecification(
    max_duration=100 * 3600,
    cpu=CPUSpecification(cores=32, memory=129 * GiB),
    cuda=[CudaSpecification(memory=24 * GiB) for _ in range(8)],
)

# (id, host, expression, index of the matching alternative or None)
MATCH_CASES = [
    ("no-gpu-host/cpu-job", HostSpecification(cuda=[]), "cpu(cores=4)", 0),
    ("no-gpu-host/gpu-job", HostSpecification(cuda=[]), "cuda(mem=1G)", None),
    ("unknown-cpu-does-not-constrain", HostSpecification(), "cpu(mem=1T, cores=999)", 0),
    ("seed/2-gpus-3-days", SEED_GPU_HOST, "cuda(mem=20G)*2 & duration=3 days", 0),
    ("seed/duration-over-100h", SEED_GPU_HOST, "cuda(mem=20G) & duration=5 days", None),
    ("seed/duration-exactly-100h", SEED_GPU_HOST, "cuda(mem=20G) & duration=100h", 0),
    ("seed/9-gpus", SEED_GPU_HOST, "cuda(mem=1G)*9", None),
    ("seed/gpu-memory-24GiB-ok", SEED_GPU_HOST, "cuda(mem=24GiB)", 0),
    ("seed/gpu-memory-over", SEED_GPU_HOST, "cuda(mem=26G)", None),
    ("seed/cores-over", SEED_GPU_HOST, "cpu(cores=33)", None),
    ("seed/memory-129GiB-ok", SEED_GPU_HOST, "cpu(mem=129GiB)", 0),
    ("seed/memory-over", SEED_GPU_HOST, "cpu(mem=140G)", None),
    ("seed/second-alternative", SEED_GPU_HOST, "cuda(mem=80G) | cuda(mem=16G)*4", 1),
    (
        "heterogeneous/greedy-would-miss",  # docs/semantics.md §8: [48G, 16G], 16G & 40G
        HostSpecification(cuda=[CudaSpecification("48G"), CudaSpecification("16G")]),
        "cuda(mem=16G) & cuda(mem=40G)",
        0,
    ),
    (
        "heterogeneous/too-big-for-second",
        HostSpecification(cuda=[CudaSpecification("48G"), CudaSpecification("16G")]),
        "cuda(mem=40G)*2",
        None,
    ),
    (
        "min-memory/small-request-refused",
        HostSpecification(cuda=[CudaSpecification("80G", min_memory="40G")]),
        "cuda(mem=10G)",
        None,
    ),
    (
        "min-memory/big-request-ok",
        HostSpecification(cuda=[CudaSpecification("80G", min_memory="40G")]),
        "cuda(mem=40G)",
        0,
    ),
    (
        "model/case-insensitive",
        HostSpecification(cuda=[CudaSpecification("40GiB", model="A100")]),
        "cuda(mem=10G, model=a100)",
        0,
    ),
    (
        "model/other-model",
        HostSpecification(cuda=[CudaSpecification("40GiB", model="A100")]),
        "cuda(model=V100)",
        None,
    ),
    (
        "unknown-gpu-memory/stated-memory-refused",
        HostSpecification(cuda=[CudaSpecification()]),
        "cuda(mem=80G)",
        None,
    ),
    (
        "unknown-gpu-memory/any-gpu-fits",
        HostSpecification(cuda=[CudaSpecification()]),
        "cuda()",
        0,
    ),
    ("min-gpu/cpu-job-refused", HostSpecification(min_gpu=1), "cpu()", None),
    (
        "max-duration-0-is-unlimited",  # as the peer's HostSpecification
        HostSpecification(max_duration=0),
        "duration=3650 days",
        0,
    ),
    ("max-duration-as-text", HostSpecification(max_duration="2h"), "duration=90m", 0),
    (
        "max-duration-as-timedelta",
        HostSpecification(max_duration=timedelta(hours=1)),
        "duration=2h",
        None,
    ),
    (
        "mem-per-cpu/enough-cores",
        HostSpecification(
            cpu=CPUSpecification(cores=8, mem_per_cpu="2G"), use_memory_constraint=False
        ),
        "cpu(mem=16G, cores=2)",
        0,
    ),
    (
        "mem-per-cpu/too-many-cores-needed",
        HostSpecification(
            cpu=CPUSpecification(cores=8, mem_per_cpu="2G"), use_memory_constraint=False
        ),
        "cpu(mem=17G)",
        None,
    ),
    (
        "mem-per-cpu/unknown",
        HostSpecification(cpu=CPUSpecification(cores=8), use_memory_constraint=False),
        "cpu(mem=1G)",
        None,
    ),
]


@pytest.mark.parametrize(
    ("host", "expression", "expected"),
    [pytest.param(h, e, x, id=i) for i, h, e, x in MATCH_CASES],
)
def test_match(host: HostSpecification, expression: str, expected: int | None) -> None:
    requirement = HostRequirement(parse(expression).alternatives)
    found = requirement.match(host)
    if expected is None:
        assert found is None
        assert all(why_not(requirement, host)), "a refusal says why"
    else:
        assert found is not None
        assert found.index == expected
        assert found.requirement == requirement.alternatives[expected]


def test_match_exposes_the_seed_fields() -> None:
    asked = parse("duration=2h & cpu(mem=4G, cores=2) & cuda(mem=20G)*2")
    found = HostRequirement(asked.alternatives).match(SEED_GPU_HOST)
    assert found is not None
    assert len(found.requirement.cuda_gpus) == 2
    assert found.requirement.cpu == Cpu(2, 4 * G)
    assert found.requirement.duration == 7200
    assert found.cpus_per_task == 2
    assert sorted(found.assignment) == sorted(set(found.assignment))  # distinct host GPUs


def test_match_takes_fields_or_a_host_not_both() -> None:
    requirement = HostRequirement(parse("cpu(cores=2)").alternatives)
    by_fields = requirement.match(cpu=CPUSpecification(cores=4), priority=3)
    assert by_fields == Match(requirement.alternatives[0], 3, 0, 2, ())
    with pytest.raises(InvalidValue, match="not both"):
        requirement.match(HostSpecification(), cpu=CPUSpecification(cores=4))
    with pytest.raises(InvalidValue, match="cuda_gpus"):
        requirement.match(cuda_gpus=[])


def test_score_is_the_priority() -> None:
    found = HostRequirement(parse("cpu()").alternatives).match(HostSpecification(priority=7))
    assert found is not None and found.score == 7


def test_host_requirement_is_a_requirement() -> None:
    """What a launchers.py receives is a Requirement (equal, same hash) that can also match."""
    parsed = parse("cuda(mem=4G) | cpu()")
    received = HostRequirement(parsed.alternatives)
    assert isinstance(received, Requirement)
    assert received == parsed and parsed == received and hash(received) == hash(parsed)
    assert not hasattr(parsed, "match"), "plain requirements do not reach up to the solver"


# (id, constructor, value in bytes)
SIZES = [
    ("bytes", lambda: CudaSpecification(24 * GiB), 24 * GiB),
    ("binary-text", lambda: CudaSpecification("24GiB"), 24 * GiB),
    ("decimal-text", lambda: CudaSpecification(memory="24G"), 24 * G),
    ("float-rounds-up", lambda: CudaSpecification(10.2), 11),
]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, x, id=i) for i, m, x in SIZES])
def test_sizes(make: object, expected: int) -> None:
    assert make().memory == expected  # type: ignore[operator]


# (id, constructor, message fragment)
BAD_VALUES = [
    ("bare-number-text", lambda: CudaSpecification("24"), "memory: memory size '24' has no unit"),
    ("negative", lambda: CPUSpecification(memory=-1), "negative"),
    ("bool-size", lambda: CPUSpecification(memory=True), "expected a size"),
    ("cores-zero", lambda: CPUSpecification(cores=0), "cores must be"),
    ("duration-no-unit", lambda: HostSpecification(max_duration="100"), "no unit"),
    ("duration-over-10-years", lambda: HostSpecification(max_duration="11000 days"), "10 years"),
    ("min-gpu-negative", lambda: HostSpecification(min_gpu=-1), "min_gpu"),
    ("cuda-not-specs", lambda: HostSpecification(cuda=["24G"]), "CudaSpecification items"),
    ("cpu-not-spec", lambda: HostSpecification(cpu=32), "CPUSpecification"),
    ("priority-text", lambda: HostSpecification(priority="high"), "priority"),
]


@pytest.mark.parametrize(("make", "message"), [pytest.param(m, x, id=i) for i, m, x in BAD_VALUES])
def test_bad_values_are_invalid_value(make: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        make()  # type: ignore[operator]


def test_cpu_specification_is_keyword_only() -> None:
    """The peer's positional order was (memory, cores): refuse rather than swap silently."""
    with pytest.raises(TypeError):
        CPUSpecification(32, 129 * GiB)  # type: ignore[misc]


def test_identical_gpus_make_one_kind() -> None:
    shape = host_shape(SEED_GPU_HOST)
    assert [(k.count, k.memory) for k in shape.gpus] == [(8, 24 * GiB)]
    assert shape.max_duration == 100 * 3600 and shape.cores == 32


# --- one meaning of "match": the Python host and the same host in YAML answer alike


def yaml_twin(
    host: HostSpecification, gpu_count: int, memory: int | None, min_memory: int
) -> LauncherFile:
    """The one-node slurm launcher file equivalent to a host with ``gpu_count`` equal GPUs."""
    cpu = host.cpu or CPUSpecification()
    configuration = Configuration(
        cpu=CpuConfig(cores=cpu.cores, memory=cpu.memory, mem_per_cpu=cpu.mem_per_cpu),
        gpu=GpuConfig(count=gpu_count, memory=memory, min_memory=min_memory),
    )
    qos = Qos("q", max_duration=host.max_duration, min_gpu=host.min_gpu)
    launcher = SlurmLauncherConfig(
        id="twin",
        use_memory_constraint=host.use_memory_constraint,
        qos=(qos,),
        configuration=configuration,
        partitions=(Partition("p", nodes=(NodeGroup(hosts=("n1",)),), qos=("q",)),),
    )
    return LauncherFile(path="<twin>", launchers=(launcher,))


sizes = st.sampled_from([None, 0, 2 * G, 8 * G, 16 * G, 24 * G, 40 * G])
asked_sizes = st.sampled_from([0, 1 * G, 8 * G, 16 * G, 24 * G, 32 * G])


@st.composite
def homogeneous_hosts(draw: st.DrawFn) -> tuple[HostSpecification, int, int | None, int]:
    count = draw(st.integers(0, 4))
    memory = draw(sizes)
    min_memory = draw(st.sampled_from([0, 8 * G]))
    cores = draw(st.sampled_from([None, 1, 4, 16, 32]))
    host = HostSpecification(
        cpu=CPUSpecification(
            cores=cores,
            memory=draw(st.sampled_from([None, 2 * G, 64 * G, 128 * G])),
            mem_per_cpu=draw(st.sampled_from([None, 2 * G, 8 * G])),
        ),
        cuda=[CudaSpecification(memory, min_memory=min_memory) for _ in range(count)],
        max_duration=draw(st.sampled_from([None, 3600, 86400])),
        min_gpu=draw(st.sampled_from([0, 0, 0, 1, 2])),
        use_memory_constraint=draw(st.booleans()),
    )
    return host, count, memory, min_memory


alternatives = strategies.alternatives(
    durations=[0, 1800, 7200, 2 * 86400],
    cpu=st.one_of(
        strategies.cpus(cores=st.integers(1, 20), memory=[0, 4 * G, 30 * G]),
        strategies.cpus(cores=st.integers(1, 4), memory=[4 * G, 30 * G]),
    ),
    gpus=strategies.accelerators(memory=asked_sizes),
    max_gpus=5,
)


@settings(max_examples=200, deadline=None)
@given(homogeneous_hosts(), st.lists(alternatives, min_size=1, max_size=3))
def test_python_host_matches_as_its_yaml_twin(
    drawn: tuple[HostSpecification, int, int | None, int], alts: list[Alternative]
) -> None:
    host, count, memory, min_memory = drawn
    requirement = HostRequirement(tuple(alts))
    found = requirement.match(host)
    try:
        index: int | None = answer(yaml_twin(host, count, memory, min_memory),
                                   requirement).alternative_index
    except LauncherNotFoundError:
        index = None
    assert (found.index if found else None) == index


def brute_force_fits(host: list[tuple[int, int]], asked: list[int]) -> bool:
    """Some injective placement of the asked GPUs on host GPUs (memory, min_memory) fits."""
    return any(
        all(host[j][1] <= a <= host[j][0] for a, j in zip(asked, chosen, strict=True))
        for chosen in permutations(range(len(host)), len(asked))
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([8, 16, 24, 48]), st.sampled_from([0, 12])), max_size=5),
    st.lists(st.sampled_from([4, 8, 16, 20, 40]), min_size=1, max_size=4),
)
def test_heterogeneous_gpus_are_a_real_matching(
    host: list[tuple[int, int]], asked: list[int]
) -> None:
    spec = HostSpecification(cuda=[CudaSpecification(m * G, min_memory=n * G) for m, n in host])
    alternative = Alternative(gpus=tuple(Accelerator(a * G) for a in asked))
    assert (HostRequirement((alternative,)).match(spec) is not None) == brute_force_fits(
        [(m * G, n * G) for m, n in host], [a * G for a in asked]
    )


CONVERSIONS = [
    ("bytes-nan", "bytes", float("nan"), "W: nan is not a size"),
    ("bytes-inf", "bytes", float("inf"), "W: inf is not a size"),
    ("bytes-negative", "bytes", -1.5,
     "memory size '-1.5' is negative\nhint: write a size such as 4G"),
    ("bytes-fraction", "bytes", 1.5, 2),
    ("bytes-huge", "bytes", 2 * 10**18, "memory size '2000000000000000000' is over 10^18 "
     "bytes\nhint: this looks like a typo: no job needs an exabyte"),
    ("bytes-text", "bytes", "4 days", "W: unknown memory unit 'days'\nhint: use K, M, G, T, P "
     "(decimal) or Ki, Mi, Gi, Ti, Pi (binary), optionally + B"),
    ("bytes-bool", "bytes", True, "W: expected a size such as 24GiB or bytes, got True"),
    ("bytes-list", "bytes", [1], "W: expected a size such as 24GiB or a number of bytes, "
     "got [1]"),
    ("seconds-inf", "seconds", float("-inf"), "W: -inf is not a duration"),
    ("seconds-fraction", "seconds", 0.2, 1),
    ("seconds-timedelta-negative", "seconds", timedelta(seconds=-3),
     "duration '-3.0s' is negative\nhint: write a duration such as 4h"),
    ("seconds-huge", "seconds", 10**10,
     "duration '10000000000s' is over 10 years\nhint: this looks like a typo: write e.g. 4 days"),
    ("seconds-text", "seconds", "4G",
     "W: unknown duration unit 'G'\nhint: use s, m/min, h, d/days or w"),
    ("seconds-bool", "seconds", False, "W: expected a duration such as 100h or seconds, got False"),
    ("seconds-dict", "seconds", {}, "W: expected a duration such as 100h or seconds, got {}"),
    ("seconds-timedelta", "seconds", timedelta(hours=1.5), 5400),
]


@pytest.mark.parametrize(("kind", "value", "outcome"), [c[1:] for c in CONVERSIONS],
                         ids=[c[0] for c in CONVERSIONS])
def test_size_and_duration_conversions(kind: str, value: object, outcome: object) -> None:
    from reqsolve.hostspec import as_bytes, as_seconds

    convert = as_bytes if kind == "bytes" else as_seconds
    if isinstance(outcome, int):
        assert convert(value, "W") == outcome  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidValue) as info:
            convert(value, "W")  # type: ignore[arg-type]
        assert str(info.value) == outcome
