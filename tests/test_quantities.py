"""Sizes in messages (issue 20 §4): one unit system per message, the unit of the size asked,
never a raw byte count, and the comparison the message states is true as printed."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqsolve.candidates import ratio_memory
from reqsolve.matching import Ask, evaluate
from reqsolve.parser import parse
from reqsolve.places import GpuKind, Shape
from reqsolve.quantities import human_memory, memory_pair, spelling
from reqsolve.requirement import Alternative, cpu, cuda_gpu
from reqsolve.units import format_memory, parse_memory
from tests.reference import GIB, G

M = 10**6


def node(
    *gpus: GpuKind,
    memory: int | None = None,
    mem_per_cpu: int | None = None,
    constraint: bool = True,
    cores: int | None = None,
) -> Shape:
    option = "mem" if constraint else "mem-per-cpu"  # constraint: use_memory_contraint
    return Shape(cores, memory, mem_per_cpu, option, gpus, None, None, 0, None)


def alt(value: object) -> Alternative:
    assert isinstance(value, Alternative)
    return value


# (id, node, what is asked, --cpus-per-task chosen elsewhere, the detail a person reads)
DETAILS = [
    ("gpu-binary-asked", node(GpuKind(2, 32 * G, 0, "V100")), cuda_gpu(mem="30GiB"), None,
     "GPU memory 29.8GiB < 30GiB asked"),
    ("gpu-binary-asked-80G", node(GpuKind(1, 80 * G, 0, None)), cuda_gpu(mem="79GiB"), None,
     "GPU memory 74.5GiB < 79GiB asked"),
    ("gpu-decimal-asked", node(GpuKind(1, 32 * GIB, 0, None)), cuda_gpu(mem="40G"), None,
     "GPU memory 34.35G < 40G asked"),
    ("memory-few-bytes-over", node(memory=250 * GIB), cpu(mem="250.001GiB"), None,
     "memory 250.001GiB asked, the node has 250GiB"),
    ("memory-decimal", node(memory=30 * GIB), cpu(mem="40G"), None,
     "memory 40G asked, the node has 32.21G"),
    ("memory-whole-mib", node(memory=38146 * 2**20), cpu(mem="40G"), None,
     "memory 40G asked, 38147MiB in whole MiB; the node has 38146MiB"),
    ("mem-per-cpu-chosen-elsewhere", node(mem_per_cpu=3 * G, constraint=False, cores=16),
     cpu(mem="40G"), 7, "7 CPUs (--cpus-per-task, chosen for another node) at 3G per CPU give"
     " 21G, 40G asked"),
    ("mem-per-cpu-odd-bytes", node(mem_per_cpu=2999975936, constraint=False, cores=16),
     cpu(mem="40G"), 7, "7 CPUs (--cpus-per-task, chosen for another node) at 2.99G per CPU"
     " give 20.99G, 40G asked"),
    ("mem-per-cpu-cores", node(mem_per_cpu=2 * GIB, constraint=False, cores=4),
     cpu(mem="10GiB"), None, "10GiB at 2GiB per CPU needs 5 cores, the node has 4"),
    ("min-memory", node(GpuKind(1, 80 * G, 40 * G, None)), cuda_gpu(mem="30GiB"), None,
     "min_memory: this 74.51GiB GPU needs ≥ 37.26GiB, asked 30GiB"),
    ("min-mem-ratio", node(GpuKind(1, 80 * GIB, ratio_memory(80 * GIB, 0.5), None, 0.5)),
     cuda_gpu(mem="30G"), None, "min_mem_ratio 0.5: this 85.9G GPU needs ≥ 42.95G, asked 30G"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "asked", "cpus", "detail"), [d[1:] for d in DETAILS], ids=[d[0] for d in DETAILS]
)
def test_every_detail_with_sizes_reads_in_one_unit(
    shape: Shape, asked: object, cpus: int | None, detail: str
) -> None:
    verdict = evaluate(shape, Ask(alt(asked)), cpus_per_task=cpus)
    assert not verdict.ok
    assert verdict.detail == detail
    assert not re.search(r"\d{7}", verdict.detail)  # no raw byte count
    compared = verdict.detail.split("; ")[-1] if "whole MiB" in detail else verdict.detail
    units = set(re.findall(r"\d(?:\.\d+)?([KMGTP]i?)B?\b", compared))
    assert len({u.endswith("i") for u in units}) == 1  # decimal or binary, not both


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("cpu(mem=250.001GiB)", "cpu(mem=250.001GiB, cores=1)"),
        ("cuda(mem=0.1GiB)", "cuda(mem=0.1GiB)"),
        ("cpu(mem=1.0000001G)", "cpu(mem=1000000100B, cores=1)"),
        ("cpu(mem=12345678901B)", "cpu(mem=12345678901B, cores=1)"),  # as written
        ("cpu(mem=1.5G)", "cpu(mem=1500MB, cores=1)"),  # a whole unit where there is one
        ("cpu(mem=8116MiB)", "cpu(mem=8116MiB, cores=1)"),
    ],
)
def test_canonical_form_writes_no_long_byte_count_and_reads_back(
    expression: str, canonical: str
) -> None:
    requirement = parse(expression)
    assert str(requirement) == canonical
    assert parse(str(requirement)) == requirement


@pytest.mark.parametrize(
    ("value", "text"),
    [(40 * GIB, "40GiB"), (33_600 * M, "33.6G"), (1500, "1.5K"), (12, "12B"),
     (268436529742, "250.001GiB"), (123456789012, "123.46G")],
)  # fmt: skip
def test_human_memory(value: int, text: str) -> None:
    assert human_memory(value) == text


SIZES = st.integers(min_value=1, max_value=10**16)


@given(SIZES)
def test_spelling_reads_back_equal(value: int) -> None:
    assert parse_memory(format_memory(value)) == value
    number, unit, _ = spelling(value)
    assert len(number) + len(unit) <= len(str(value)) + 1


@given(SIZES, SIZES)
def test_pair_states_the_true_comparison(asked: int, other: int) -> None:
    asked_text, other_text = memory_pair(asked, other)
    unit = re.sub(r"[0-9.]", "", asked_text)
    assert re.sub(r"[0-9.]", "", other_text) == unit
    a, b = Fraction(asked_text.removesuffix(unit)), Fraction(other_text.removesuffix(unit))
    assert (a < b, a == b) == (asked < other, asked == other)
