"""Requirement values: the merge rules of §1, builders, canonical text, hashing, JSON."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.errors import InvalidValue
from reqsolve.parser import parse
from reqsolve.requirement import (
    Accelerator,
    Alternative,
    Cpu,
    Requirement,
    as_requirement,
    cpu,
    cuda_gpu,
    duration,
    gpu,
    merge,
    quote_model,
)
from tests.reference import G


def test_and_takes_the_maximum_duration() -> None:
    assert (duration("2h") & duration("3h")) == Alternative(duration=3 * 3600)


def test_and_takes_the_maximum_of_each_cpu_field() -> None:
    left = cpu(mem="8G", cores=2)
    right = cpu(mem="4G", cores=4)
    assert (left & right) == Alternative(cpu=Cpu(cores=4, memory=8 * G))


def test_and_with_one_cpu_keeps_it() -> None:
    assert (duration("1h") & cpu(cores=3)).cpu == Cpu(cores=3)
    assert (cpu(cores=3) & duration("1h")).cpu == Cpu(cores=3)


def test_and_concatenates_gpus() -> None:
    result = cuda_gpu(mem="4G") * 2 & cuda_gpu(mem="8G")
    assert isinstance(result, Alternative)
    assert result.gpus == (Accelerator(4 * G), Accelerator(4 * G), Accelerator(8 * G))


def test_gpus_are_sorted_so_order_does_not_matter() -> None:
    assert cuda_gpu(mem="8G") & cuda_gpu(mem="4G") == cuda_gpu(mem="4G") & cuda_gpu(mem="8G")


def test_or_keeps_the_order_of_preference() -> None:
    first, second = cuda_gpu(mem="80G"), cuda_gpu(mem="16G") * 2
    assert (first | second).alternatives == (first, second)
    assert (second | first).alternatives == (second, first)


def test_and_distributes_over_or_keeping_order() -> None:
    a, b, c = cuda_gpu(mem="4G"), cpu(cores=8), duration("2h")
    assert ((a | b) & c) == ((a & c) | (b & c))
    assert (c & (a | b)) == ((c & a) | (c & b))
    assert ((a | b) & c) == parse("(cuda(mem=4G) | cpu(cores=8)) & duration=2h")


def test_requirement_and_requirement_is_the_product_in_order() -> None:
    left = cpu(cores=1) | cpu(cores=2)
    right = duration("1h") | duration("2h")
    assert [str(a) for a in (left & right).alternatives] == [
        "duration=1h & cpu(cores=1)",
        "duration=2h & cpu(cores=1)",
        "duration=1h & cpu(cores=2)",
        "duration=2h & cpu(cores=2)",
    ]


def test_requirement_or_alternative_and_back() -> None:
    req = cpu(cores=1) | cpu(cores=2)
    assert (req | cpu(cores=3)).alternatives[-1] == cpu(cores=3)
    assert (cpu(cores=3) | req).alternatives[0] == cpu(cores=3)
    assert (duration("1h") & req) == (req & duration("1h"))


def test_gpu_is_an_alias_of_cuda_gpu() -> None:
    assert gpu(mem="4G") == cuda_gpu(mem="4G")


def test_multiplying_by_count_on_either_side() -> None:
    assert cuda_gpu(mem="4G") * 3 == 3 * cuda_gpu(mem="4G")
    assert len((cuda_gpu() * 3).gpus) == 3


def test_builders_accept_integers_as_base_units() -> None:
    assert duration(90) == Alternative(duration=90)
    assert cpu(mem=1000) == Alternative(cpu=Cpu(1, 1000))
    assert cuda_gpu(mem=4 * G) == cuda_gpu(mem="4G")


def test_cuda_gpus_alias() -> None:
    alternative = cuda_gpu(mem="4G") * 2
    assert alternative.cuda_gpus == alternative.gpus


def test_merge_function_is_the_and_operator() -> None:
    a, b = cpu(cores=2) & duration("1h"), cuda_gpu(mem="4G") & cpu(mem="2G")
    assert merge(a, b) == (a & b)


def test_as_requirement() -> None:
    alternative = cpu(cores=2)
    assert as_requirement(alternative) == Requirement((alternative,))
    requirement = alternative | cpu(cores=3)
    assert as_requirement(requirement) is requirement


BUILDER_ERRORS = [
    ("cores-zero", lambda: cpu(cores=0), "cores must be a whole number >= 1, got '0'"),
    ("cores-bool", lambda: cpu(cores=True), "cores must be a whole number >= 1, got 'True'"),
    ("cores-absurd", lambda: cpu(cores=10**7), "cores=10000000 is over 1000000"),
    (
        "mem-bare-text",
        lambda: cpu(mem="1000"),
        "memory size '1000' has no unit (ambiguous: bytes or MiB?); write e.g. 1000M",
    ),
    ("mem-negative-int", lambda: cpu(mem=-1), "memory size '-1' is negative"),
    ("count-zero", lambda: cuda_gpu() * 0, "GPU count must be at least 1"),
    ("count-absurd", lambda: cuda_gpu() * 1025, "1025 GPUs is over 1024"),
    (
        "multiply-non-gpu",
        lambda: cpu(cores=2) * 2,
        "only a cuda()/gpu() term can be multiplied by a count",
    ),
    ("too-many-gpus", lambda: cuda_gpu() * 1000 & cuda_gpu() * 1000, "2000 GPUs is over 1024"),
    (
        "duration-bare",
        lambda: duration("4"),
        "duration '4' has no unit (Slurm reads minutes, people mean hours); write e.g. 4h or 4m",
    ),
    ("duration-negative-int", lambda: duration(-5), "duration '-5' is negative"),
    ("model-empty", lambda: cuda_gpu(model=""), "GPU model name is empty"),
    ("model-blank", lambda: cuda_gpu(model="  "), "GPU model name is empty"),
    (
        "model-control",
        lambda: cuda_gpu(model="a\nb"),
        "GPU model name 'a\\nb' cannot be written in an expression",
    ),
    (
        "model-both-quotes",
        lambda: cuda_gpu(model="a'b\"c"),
        "GPU model name 'a\\'b\"c' cannot be written in an expression",
    ),
    ("no-alternatives", lambda: Requirement(()), "a requirement needs at least one alternative"),
]


@pytest.mark.parametrize(
    ("build", "message"), [c[1:] for c in BUILDER_ERRORS], ids=[c[0] for c in BUILDER_ERRORS]
)
def test_builder_errors(build: object, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        build()  # type: ignore[operator]
    assert caught.value.message == message


CANONICAL = [
    ("empty-alternative", Alternative(), "duration=0s"),
    ("duration", duration("36h"), "duration=1d12h"),
    ("cpu-default", cpu(), "cpu(cores=1)"),
    ("cpu-mem", cpu(mem="400M", cores=4), "cpu(mem=400MB, cores=4)"),
    ("gpu-any", cuda_gpu(), "cuda()"),
    ("gpu-run", cuda_gpu(mem="4G") * 2 & cuda_gpu(mem="8G"), "cuda(mem=4GB)*2 & cuda(mem=8GB)"),
    ("gpu-model-bare", cuda_gpu(model="A100"), "cuda(model=A100)"),
    ("gpu-model-quoted", cuda_gpu(model="RTX 3090"), 'cuda(model="RTX 3090")'),
    ("gpu-model-single-quoted", cuda_gpu(model='say "hi"'), "cuda(model='say \"hi\"')"),
    ("order", cuda_gpu() & cpu(cores=2) & duration("1h"), "duration=1h & cpu(cores=2) & cuda()"),
    ("alternatives", cpu(cores=1) | cpu(cores=2), "cpu(cores=1) | cpu(cores=2)"),
]


@pytest.mark.parametrize(
    ("value", "text"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL]
)
def test_canonical_text(value: Alternative | Requirement, text: str) -> None:
    assert str(value) == text
    assert parse(text) == as_requirement(value)


@pytest.mark.parametrize(
    ("model", "written"),
    [
        ("A100", "A100"),
        ("a100-sxm4_80gb", "a100-sxm4_80gb"),
        ("RTX 3090", '"RTX 3090"'),
        ("x,y", '"x,y"'),
        ('5"', "'5\"'"),
    ],
)
def test_quote_model(model: str, written: str) -> None:
    assert quote_model(model) == written


def test_as_json_is_semantics_section_7() -> None:
    requirement = duration("4 days") & cuda_gpu(mem="4G") * 2 & cpu(mem="400M", cores=4)
    assert as_requirement(requirement).as_json() == {
        "alternatives": [
            {
                "duration_s": 345600,
                "cpu": {"cores": 4, "memory_bytes": 400000000},
                "gpus": [
                    {"memory_bytes": 4000000000, "model": None},
                    {"memory_bytes": 4000000000, "model": None},
                ],
                "nodes": 1,
                "tasks": None,
            }
        ],
        "canonical": "duration=4d & cpu(mem=400MB, cores=4) & cuda(mem=4GB)*2",
    }


def test_as_json_of_absent_terms() -> None:
    assert Alternative().as_json() == {
        "duration_s": 0, "cpu": None, "gpus": [], "nodes": 1, "tasks": None
    }


small_alternatives = st.builds(
    Alternative,
    st.sampled_from([0, 60, 3600]),
    st.one_of(st.none(), st.builds(Cpu, st.integers(1, 4), st.sampled_from([0, G, 2 * G]))),
    st.lists(
        st.builds(
            Accelerator, st.sampled_from([0, G, 2 * G]), st.sampled_from([None, "A100", "a100"])
        ),
        max_size=3,
    ).map(tuple),
)


@given(small_alternatives, small_alternatives)
@settings(deadline=None)
def test_hash_agrees_with_equality(a: Alternative, b: Alternative) -> None:
    if a == b:
        assert hash(a) == hash(b)
    assert (a == b) == (str(a) == str(b))
    assert hash(Requirement((a, b))) == hash(Requirement((a, b)))


@given(small_alternatives, small_alternatives, small_alternatives)
@settings(deadline=None)
def test_and_is_commutative_and_associative(a: Alternative, b: Alternative, c: Alternative) -> None:
    assert (a & b) == (b & a)
    assert ((a & b) & c) == (a & (b & c))


@given(small_alternatives, small_alternatives)
@settings(deadline=None)
def test_and_never_asks_less(a: Alternative, b: Alternative) -> None:
    both = merge(a, b)
    assert both.duration >= max(a.duration, b.duration)
    assert len(both.gpus) == len(a.gpus) + len(b.gpus)
    for part in (a, b):
        if part.cpu is not None:
            assert both.cpu is not None
            assert both.cpu.cores >= part.cpu.cores
            assert both.cpu.memory >= part.cpu.memory
