"""The language of docs/semantics.md §1: what is accepted, what it means, and every refusal.

Expected values are written as plain integers (bytes, seconds) so that the tables do not trust
the unit code they check.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reqsolve.errors import InvalidExpression, Span
from reqsolve.parser import MAX_DEPTH, parse
from reqsolve.requirement import Accelerator, Alternative, Cpu, Requirement
from tests.commands import python_process
from tests.paths import ROOT

pytestmark = pytest.mark.usefixtures("parser_backend")

K, M, G, T, P = 10**3, 10**6, 10**9, 10**12, 10**15
KI, MI, GI, TI, PI = 2**10, 2**20, 2**30, 2**40, 2**50
MIN, HOUR, DAY, WEEK = 60, 3600, 86400, 7 * 86400


def alt(
    duration: int = 0,
    *,
    cores: int | None = None,
    mem: int = 0,
    gpus: tuple[tuple[int, str | None], ...] = (),
) -> Alternative:
    """An alternative from integers; ``cores=None`` and ``mem=0`` means no cpu() term."""
    cpu = None if cores is None and not mem else Cpu(cores or 1, mem)
    return Alternative(duration, cpu, tuple(Accelerator(m, model) for m, model in gpus))


def req(*alternatives: Alternative) -> Requirement:
    return Requirement(alternatives)


def gpus(
    count: int, memory: int = 0, model: str | None = None
) -> tuple[tuple[int, str | None], ...]:
    return ((memory, model),) * count


SEED = req(alt(4 * DAY, cores=4, mem=400 * M, gpus=gpus(2, 4 * G)))

ACCEPTED: list[tuple[str, str, Requirement]] = [
    # the seed and the peer's own forms
    ("seed", "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)", SEED),
    ("seed-spaced-star", "duration=4 days & cuda(mem=4G) * 2 & cpu(mem=400M, cores=4)", SEED),
    ("seed-4-d", "duration=4 d & cuda(mem=4G) * 2 & cpu(mem=400M, cores=4)", SEED),
    ("seed-no-spaces", "duration=4days&cuda(mem=4G)*2&cpu(mem=400M,cores=4)", SEED),
    ("seed-reordered", "cpu(cores=4, mem=400M) & cuda(mem=4G)*2 & duration=4d", SEED),
    ("seed-newlines", "duration=4 days\n& cuda(mem=4G)*2\n& cpu(mem=400M, cores=4)", SEED),
    ("seed-tabs", "\tduration = 4 days &\tcuda( mem = 4G ) * 2 & cpu( mem=400M , cores=4 ) ", SEED),
    (
        "two-alternatives",
        "duration=4 days & cuda(mem=24G)*2 & cpu(mem=400M, cores=4) | duration=2h & cpu(cores=8)",
        req(alt(4 * DAY, cores=4, mem=400 * M, gpus=gpus(2, 24 * G)), alt(2 * HOUR, cores=8)),
    ),
    # durations
    ("dur-days", "duration=4 days", req(alt(4 * DAY))),
    ("dur-day", "duration=1 day", req(alt(DAY))),
    ("dur-d", "duration=4d", req(alt(4 * DAY))),
    ("dur-d-space", "duration=4 d", req(alt(4 * DAY))),
    ("dur-h", "duration=36h", req(alt(36 * HOUR))),
    ("dur-hours", "duration=36 hours", req(alt(36 * HOUR))),
    ("dur-hour", "duration=1 hour", req(alt(HOUR))),
    ("dur-hr", "duration=2hr", req(alt(2 * HOUR))),
    ("dur-m", "duration=90m", req(alt(90 * MIN))),
    ("dur-min", "duration=90min", req(alt(90 * MIN))),
    ("dur-minutes", "duration=30 minutes", req(alt(30 * MIN))),
    ("dur-s", "duration=30s", req(alt(30))),
    ("dur-seconds", "duration=45 seconds", req(alt(45))),
    ("dur-fraction-h", "duration=1.5h", req(alt(90 * MIN))),
    ("dur-fraction-leading-dot", "duration=.5h", req(alt(30 * MIN))),
    ("dur-fraction-rounds-up", "duration=0.001s", req(alt(1))),
    ("dur-compound-d-h", "duration=1d12h", req(alt(DAY + 12 * HOUR))),
    ("dur-compound-h-m", "duration=2h30m", req(alt(2 * HOUR + 30 * MIN))),
    ("dur-compound-spaced", "duration=1 day 2 hours", req(alt(DAY + 2 * HOUR))),
    ("dur-compound-h-m-s", "duration=1h2m3s", req(alt(HOUR + 2 * MIN + 3))),
    ("dur-week", "duration=1w", req(alt(WEEK))),
    ("dur-weeks", "duration=2 weeks", req(alt(2 * WEEK))),
    ("dur-upper-case-unit", "duration=4H", req(alt(4 * HOUR))),
    ("dur-mixed-case-unit", "duration=4 Days", req(alt(4 * DAY))),
    ("dur-clock", "duration=01:30:00", req(alt(90 * MIN))),
    ("dur-clock-long", "duration=36:00:00", req(alt(36 * HOUR))),
    ("dur-clock-seconds", "duration=00:00:45", req(alt(45))),
    ("dur-slurm-d-hh", "duration=1-12", req(alt(DAY + 12 * HOUR))),
    ("dur-slurm-d-hh-mm", "duration=2-03:30", req(alt(2 * DAY + 3 * HOUR + 30 * MIN))),
    ("dur-slurm-d-hh-mm-ss", "duration=4-00:00:00", req(alt(4 * DAY))),
    ("dur-zero", "duration=0s", req(alt(0))),
    ("dur-ten-years", "duration=3652 days", req(alt(3652 * DAY))),
    ("dur-plus-sign", "duration=+4h", req(alt(4 * HOUR))),
    ("dur-unicode-space", "duration=4\u2009days", req(alt(4 * DAY))),
    # cpu
    ("cpu-cores", "cpu(cores=8)", req(alt(cores=8))),
    ("cpu-mem", "cpu(mem=4G)", req(alt(mem=4 * G))),
    ("cpu-both", "cpu(mem=400M, cores=4)", req(alt(cores=4, mem=400 * M))),
    ("cpu-both-reversed", "cpu(cores=4, mem=400M)", req(alt(cores=4, mem=400 * M))),
    ("cpu-empty", "cpu()", req(alt(cores=1))),
    ("cpu-mem-zero", "cpu(mem=0G)", req(alt(cores=1))),
    ("cpu-large-cores", "cpu(cores=1000000)", req(alt(cores=1_000_000))),
    # sizes
    ("size-K", "cpu(mem=1K)", req(alt(mem=K))),
    ("size-KB", "cpu(mem=1KB)", req(alt(mem=K))),
    ("size-M", "cpu(mem=1M)", req(alt(mem=M))),
    ("size-MB", "cpu(mem=1MB)", req(alt(mem=M))),
    ("size-G", "cpu(mem=1G)", req(alt(mem=G))),
    ("size-GB", "cpu(mem=1GB)", req(alt(mem=G))),
    ("size-T", "cpu(mem=1T)", req(alt(mem=T))),
    ("size-TB", "cpu(mem=2TB)", req(alt(mem=2 * T))),
    ("size-P", "cpu(mem=1P)", req(alt(mem=P))),
    ("size-PB", "cpu(mem=1PB)", req(alt(mem=P))),
    ("size-Ki", "cpu(mem=1Ki)", req(alt(mem=KI))),
    ("size-KiB", "cpu(mem=1KiB)", req(alt(mem=KI))),
    ("size-Mi", "cpu(mem=8116Mi)", req(alt(mem=8116 * MI))),
    ("size-MiB", "cpu(mem=8116MiB)", req(alt(mem=8116 * MI))),
    ("size-Gi", "cpu(mem=4Gi)", req(alt(mem=4 * GI))),
    ("size-GiB", "cpu(mem=4GiB)", req(alt(mem=4 * GI))),
    ("size-TiB", "cpu(mem=1TiB)", req(alt(mem=TI))),
    ("size-PiB", "cpu(mem=1PiB)", req(alt(mem=PI))),
    ("size-bytes", "cpu(mem=1000B)", req(alt(mem=1000))),
    ("size-lower-g", "cpu(mem=4g)", req(alt(mem=4 * G))),
    ("size-lower-gib", "cpu(mem=4gib)", req(alt(mem=4 * GI))),
    ("size-upper-GIB", "cpu(mem=4GIB)", req(alt(mem=4 * GI))),
    ("size-decimal", "cpu(mem=1.5G)", req(alt(mem=1500 * M))),
    ("size-decimal-rounds-up", "cpu(mem=0.0001K)", req(alt(mem=1))),
    ("size-spaced-unit", "cpu(mem=1.5 GB)", req(alt(mem=1500 * M))),
    ("size-exactly-limit", "cpu(mem=1000P)", req(alt(mem=10**18))),
    # accelerators
    ("cuda-mem", "cuda(mem=4G)", req(alt(gpus=gpus(1, 4 * G)))),
    ("cuda-times-2", "cuda(mem=4G)*2", req(alt(gpus=gpus(2, 4 * G)))),
    ("cuda-any", "cuda()", req(alt(gpus=gpus(1)))),
    ("cuda-any-times-8", "cuda()*8", req(alt(gpus=gpus(8)))),
    ("gpu-alias", "gpu(mem=24G)", req(alt(gpus=gpus(1, 24 * G)))),
    ("gpu-alias-times", "gpu(mem=24G) * 4", req(alt(gpus=gpus(4, 24 * G)))),
    ("cuda-model", "cuda(mem=40G, model=A100)", req(alt(gpus=gpus(1, 40 * G, "A100")))),
    ("cuda-model-first", "cuda(model=A100, mem=40G)", req(alt(gpus=gpus(1, 40 * G, "A100")))),
    ("cuda-model-only", "gpu(model=a100-sxm4-80gb)", req(alt(gpus=gpus(1, 0, "a100-sxm4-80gb")))),
    (
        "cuda-model-quoted",
        'cuda(model="NVIDIA GeForce RTX 3090")*2',
        req(alt(gpus=gpus(2, 0, "NVIDIA GeForce RTX 3090"))),
    ),
    (
        "cuda-model-single-quoted",
        "cuda(model='Tesla V100')",
        req(alt(gpus=gpus(1, 0, "Tesla V100"))),
    ),
    ("cuda-max-count", "cuda()*1024", req(alt(gpus=gpus(1024)))),
    # merging with &
    (
        "merge-gpus-concatenate",
        "cuda(mem=4G)*2 & cuda(mem=8G)",
        req(alt(gpus=gpus(2, 4 * G) + gpus(1, 8 * G))),
    ),
    (
        "merge-gpus-sorted",
        "cuda(mem=8G) & cuda(mem=4G)",
        req(alt(gpus=((4 * G, None), (8 * G, None)))),
    ),
    ("merge-duration-max", "duration=2h & duration=3h", req(alt(3 * HOUR))),
    ("merge-cores-max", "cpu(cores=2) & cpu(cores=8)", req(alt(cores=8))),
    ("merge-mem-max", "cpu(mem=1G) & cpu(mem=4G)", req(alt(mem=4 * G))),
    (
        "merge-cpu-fields-max",
        "cpu(mem=8G, cores=2) & cpu(mem=4G, cores=4)",
        req(alt(cores=4, mem=8 * G)),
    ),
    # alternatives and grouping
    (
        "alternatives-ordered",
        "cuda(mem=80G) | cuda(mem=16G)*2",
        req(alt(gpus=gpus(1, 80 * G)), alt(gpus=gpus(2, 16 * G))),
    ),
    (
        "alternatives-three",
        "cpu(cores=1) | cpu(cores=2) | cpu(cores=3)",
        req(alt(cores=1), alt(cores=2), alt(cores=3)),
    ),
    (
        "and-binds-tighter",
        "duration=2 days & cuda(mem=10G) | cuda(mem=20G)*2",
        req(alt(2 * DAY, gpus=gpus(1, 10 * G)), alt(gpus=gpus(2, 20 * G))),
    ),
    (
        "group-distributes",
        "(cuda(mem=4G) | cpu(cores=8)) & duration=2h",
        req(alt(2 * HOUR, gpus=gpus(1, 4 * G)), alt(2 * HOUR, cores=8)),
    ),
    (
        "group-on-right",
        "duration=2h & (cuda(mem=4G) | cpu(cores=8))",
        req(alt(2 * HOUR, gpus=gpus(1, 4 * G)), alt(2 * HOUR, cores=8)),
    ),
    (
        "group-product-order",
        "(cpu(cores=1) | cpu(cores=2)) & (duration=1h | duration=2h)",
        req(alt(HOUR, cores=1), alt(2 * HOUR, cores=1), alt(HOUR, cores=2), alt(2 * HOUR, cores=2)),
    ),
    ("group-nested", "((cpu(cores=2)))", req(alt(cores=2))),
    ("group-alone", "(duration=1h)", req(alt(HOUR))),
    (
        "group-in-alternative",
        "cpu(cores=1) | (cpu(cores=2) | cpu(cores=3)) & duration=1h",
        req(alt(cores=1), alt(HOUR, cores=2), alt(HOUR, cores=3)),
    ),
    ("duplicate-alternatives-kept", "cpu(cores=1) | cpu(cores=1)", req(alt(cores=1), alt(cores=1))),
    # zeros in front change nothing, however many (issue 24 §14: "must be a whole number >= 1")
    *(
        (f"leading-zeros-{n}-{what}", text.format("0" * n), expected)
        for n in (1, 40, 5000)
        for what, text, expected in [
            ("cores", "cpu(cores={}4)", req(alt(cores=4))),
            ("count", "cuda()*{}2", req(alt(gpus=gpus(2, 0)))),
            ("mem", "cpu(mem={}0.5G)", req(alt(mem=G // 2))),
            ("duration", "duration={}2h", req(alt(2 * HOUR))),
        ]
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_accepted(text: str, expected: Requirement) -> None:
    parsed = parse(text)
    assert parsed == expected
    # the canonical form re-parses to the same value
    assert parse(str(parsed)) == parsed


def test_tables_are_large_enough() -> None:
    assert len(ACCEPTED) >= 80
    assert len(REJECTED) >= 50
    assert len({c[0] for c in ACCEPTED}) == len(ACCEPTED)
    assert len({c[0] for c in REJECTED}) == len(REJECTED)


# (id, text, first line of the message, span as written in the text)
REJECTED: list[tuple[str, str, str, tuple[int, int]]] = [
    # the conformance corpus' refusals, word for word
    ("conf-gibberish", "this is not a requirement", "unknown term 'this'", (0, 4)),
    (
        "conf-bare-size",
        "cpu(mem=1000)",
        "memory size '1000' has no unit (ambiguous: bytes or MiB?); write e.g. 1000M",
        (8, 12),
    ),
    (
        "conf-bare-size-cuda",
        "cuda(mem=1)",
        "memory size '1' has no unit (ambiguous: bytes or MiB?); write e.g. 1G",
        (9, 10),
    ),
    (
        "conf-cores-zero",
        "cpu(mem=4G, cores=0)",
        "cores must be a whole number >= 1, got '0'",
        (18, 19),
    ),
    (
        "conf-first-error-wins",
        "cpu(mem=1000, cores=0)",
        "memory size '1000' has no unit (ambiguous: bytes or MiB?); write e.g. 1000M",
        (8, 12),
    ),
    ("conf-gpu-count-zero", "cuda(mem=4G)*0", "GPU count must be at least 1", (13, 14)),
    (
        "conf-bare-duration",
        "duration=4",
        "duration '4' has no unit (Slurm reads minutes, people mean hours); write e.g. 4h or 4m",
        (9, 10),
    ),
    # empty and blank
    ("empty", "", "empty requirement expression", (0, 0)),
    ("blank", "   ", "empty requirement expression", (0, 3)),
    # unknown words
    ("typo-cuda", "cdua(mem=4G)", "unknown term 'cdua'", (0, 4)),
    ("typo-duration", "duraton=4h", "unknown term 'duraton'", (0, 7)),
    ("uppercase-keyword", "CPU(cores=4)", "unknown term 'CPU'", (0, 3)),
    ("keyword-with-suffix", "cudax(mem=4G)", "unknown term 'cudax'", (0, 5)),
    ("plural-cpus", "cpus(cores=4)", "unknown term 'cpus'", (0, 4)),
    ("unknown-after-and", "cpu(cores=4) & memory=4G", "unknown term 'memory'", (15, 21)),
    ("unknown-in-group", "(foo)", "unknown term 'foo'", (1, 4)),
    ("unknown-arg-memory", "cuda(memory=4G)", "unknown argument 'memory' in cuda(...)", (5, 11)),
    (
        "unknown-arg-cores-in-cuda",
        "cuda(cores=2)",
        "unknown argument 'cores' in cuda(...)",
        (5, 10),
    ),
    ("unknown-arg-model-in-cpu", "cpu(model=A100)", "unknown argument 'model' in cpu(...)", (4, 9)),
    (
        "unknown-arg-after-comma",
        "cpu(cores=2, core=3)",
        "unknown argument 'core' in cpu(...)",
        (13, 17),
    ),
    ("unknown-arg-count", "gpu(count=2)", "unknown argument 'count' in gpu(...)", (4, 9)),
    ("missing-and", "cpu(cores=4) cuda()", "expected '&' or '|', got 'cuda'", (13, 17)),
    ("word-and", "cpu(cores=4) and cuda()", "expected '&' or '|', got 'and'", (13, 16)),
    # sizes
    ("size-unknown-unit", "cpu(mem=4X)", "unknown memory unit 'X'", (8, 10)),
    ("size-bits-typo", "cpu(mem=4gbb)", "unknown memory unit 'gbb'", (8, 12)),
    ("size-negative", "cpu(mem=-4G)", "memory size '-4G' is negative", (8, 11)),
    ("size-too-large", "cpu(mem=1001P)", "memory size '1001P' is over 10^18 bytes", (8, 13)),
    (
        "size-huge-digits",
        "cuda(mem=" + "9" * 5000 + "G)",
        "memory size '" + "9" * 5000 + "G' is over 10^18 bytes",
        (9, 5010),
    ),
    ("size-missing", "cpu(mem=)", "expected a memory size such as 4G, got ')'", (8, 9)),
    ("size-word", "cpu(mem=lots)", "expected a memory size such as 4G, got 'lots'", (8, 12)),
    ("size-duration-unit", "cpu(mem=4h)", "unknown memory unit 'h'", (8, 10)),
    # durations
    (
        "dur-bare-decimal",
        "duration=1.5",
        "duration '1.5' has no unit (Slurm reads minutes, people mean hours); "
        "write e.g. 1.5h or 1.5m",
        (9, 12),
    ),
    ("dur-unknown-unit", "duration=4 dayz", "unknown duration unit 'dayz'", (9, 15)),
    ("dur-size-unit", "duration=4G", "unknown duration unit 'G'", (9, 11)),
    ("dur-negative", "duration=-4h", "duration '-4h' is negative", (9, 12)),
    ("dur-too-long", "duration=11 years", "unknown duration unit 'years'", (9, 17)),
    ("dur-over-ten-years", "duration=3653 days", "duration '3653 days' is over 10 years", (9, 18)),
    (
        "dur-mm-ss",
        "duration=12:30",
        "duration '12:30' is ambiguous (Slurm reads MM:SS, people mean HH:MM)",
        (9, 14),
    ),
    ("dur-bad-clock", "duration=1:75:00", "'1:75:00' is not a valid clock time", (9, 16)),
    ("dur-bad-slurm-hours", "duration=1-25", "'1-25' is not a valid clock time", (9, 13)),
    (
        "dur-missing",
        "duration=",
        "expression ends too early: expected a duration such as 4h",
        (8, 9),
    ),
    ("dur-word", "duration=long", "expected a duration such as 4h, got 'long'", (9, 13)),
    ("dur-no-equals", "duration 4h", "expected '=', got '4h'", (9, 11)),
    (
        "dur-huge-digits",
        "duration=" + "1" * 50 + "h",
        "duration '" + "1" * 50 + "h' is over 10 years",
        (9, 60),
    ),
    # cores
    ("cores-negative", "cpu(cores=-2)", "cores must be a whole number >= 1, got '-2'", (10, 12)),
    ("cores-fraction", "cpu(cores=1.5)", "cores must be a whole number >= 1, got '1.5'", (10, 13)),
    ("cores-absurd", "cpu(cores=1000001)", "cores=1000001 is over 1000000", (10, 17)),
    (
        "cores-huge-digits",
        "cpu(cores=" + "9" * 5000 + ")",
        f"cores={'9' * 5000} is over 1000000",
        (10, 5010),
    ),
    ("count-huge-digits", "cuda()*" + "9" * 50, f"{'9' * 50} GPUs is over 1024", (7, 57)),
    ("cores-with-unit", "cpu(cores=4G)", "expected ',' or ')', got 'G'", (11, 12)),
    ("cores-arabic-digit", "cpu(cores=\u0664)", "expected a whole number, got '\u0664'", (10, 11)),
    # GPU counts
    ("count-negative", "cuda(mem=4G)*-1", "GPU count must be at least 1", (13, 15)),
    ("count-fraction", "cuda(mem=4G)*1.5", "GPU count must be a whole number, got '1.5'", (13, 16)),
    ("count-absurd", "cuda()*1025", "1025 GPUs is over 1024", (7, 11)),
    ("count-missing", "cuda()*", "expression ends too early: expected a GPU count", (6, 7)),
    ("count-total-absurd", "cuda()*1000 & cuda()*1000", "2000 GPUs is over 1024", (0, 25)),
    ("count-on-cpu", "cpu(cores=2)*2", "expected '&' or '|', got '*2'", (12, 14)),
    # duplicates
    ("dup-mem", "cpu(mem=1G, mem=2G)", "mem= is given twice in cpu(...)", (12, 18)),
    ("dup-cores", "cpu(cores=1, mem=1G, cores=2)", "cores= is given twice in cpu(...)", (21, 28)),
    ("dup-model", "cuda(model=A, model=B)", "model= is given twice in cuda(...)", (14, 21)),
    ("dup-mem-gpu", "gpu(mem=1G,mem=1G)", "mem= is given twice in gpu(...)", (11, 17)),
    # models
    ("model-empty-quoted", 'cuda(model="")', "GPU model name is empty", (11, 13)),
    ("model-blank-quoted", "cuda(model='  ')", "GPU model name is empty", (11, 15)),
    (
        "model-unclosed-quote",
        'cuda(model="A100)',
        "expected a GPU model name, got '\"A100'",
        (11, 16),
    ),
    # parentheses and operators
    ("unclosed-cuda", "duration=4 days & cuda(mem=4G*2", "expected ')' to close 'cuda('", (22, 31)),
    ("unclosed-cuda-at-end", "cuda(mem=4G", "expected ')' to close 'cuda('", (4, 11)),
    ("unclosed-group", "(cpu(cores=2) | cuda()", "expected ')' to close '('", (0, 22)),
    ("unclosed-nested", "((((cpu()", "expected ')' to close '('", (3, 9)),
    ("unmatched-close", "cpu(cores=4))", "unmatched ')'", (12, 13)),
    (
        "trailing-and",
        "cpu(cores=4) &",
        "expression ends too early: expected a term "
        "(duration=..., cpu(...), cuda(...), gpu(...) or '(')",
        (13, 14),
    ),
    (
        "leading-or",
        "| cpu(cores=4)",
        "expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '('), got '|'",
        (0, 1),
    ),
    (
        "double-and",
        "cpu() && cuda()",
        "expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '('), got '&'",
        (7, 8),
    ),
    (
        "empty-group",
        "()",
        "expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '('), got ')'",
        (1, 2),
    ),
    ("trailing-comma", "cpu(cores=4,)", "expected 'mem=' or 'cores=', got ')'", (12, 13)),
    ("missing-comma", "cpu(mem=4G cores=4)", "expected ',' or ')', got 'cores'", (11, 16)),
    (
        "bare-number",
        "4",
        "expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '('), got '4'",
        (0, 1),
    ),
    (
        "star-before",
        "2*cuda()",
        "expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '('), got '2'",
        (0, 1),
    ),
    ("keyword-without-parens", "cuda", "expression ends too early: expected '('", (3, 4)),
    # combinatorial explosion
    (
        "too-many-alternatives",
        " & ".join(["(cpu(cores=1) | cpu(cores=2))"] * 11),
        "expression expands to 2048 alternatives (at most 1024)",
        (0, 349),
    ),
]


@pytest.mark.parametrize(
    ("text", "message", "span"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_rejected(text: str, message: str, span: tuple[int, int]) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    error = caught.value
    assert error.message == message
    assert (error.span.start, error.span.end) == span
    assert error.hint, "every refusal says how to fix it"
    assert str(error).splitlines()[0] == message
    assert str(error).splitlines()[-1].startswith("hint: ")


# Whole rendered messages (message, caret line, hint) of typical mistakes, pinned.
PINNED: list[tuple[str, str, str]] = [
    (
        "unclosed-paren",
        "duration=4 days & cuda(mem=4G*2",
        """\
expected ')' to close 'cuda('
    duration=4 days & cuda(mem=4G*2
                          ~~~~~~~~^
hint: add the missing ')'""",
    ),
    (
        "typo-keyword",
        "duration=2h & cdua(mem=4G)",
        """\
unknown term 'cdua'
    duration=2h & cdua(mem=4G)
                  ~~~^
hint: did you mean `cuda`?""",
    ),
    (
        "bare-size",
        "cpu(mem=1000)",
        """\
memory size '1000' has no unit (ambiguous: bytes or MiB?); write e.g. 1000M
    cpu(mem=1000)
            ~~~^
hint: experimaestro read bytes and Slurm reads MiB, so reqsolve does not guess; K M G T P are \
decimal (1G = 10^9 bytes), Ki Mi Gi Ti Pi binary""",
    ),
    (
        "bare-duration",
        "duration=90 & cpu(cores=2)",
        """\
duration '90' has no unit (Slurm reads minutes, people mean hours); write e.g. 90h or 90m
    duration=90 & cpu(cores=2)
             ~^
hint: Slurm's --time=90 would mean 90 minutes; reqsolve does not guess: write the unit, e.g. 90m \
or 2h""",
    ),
    (
        "gpu-count-zero",
        "cuda(mem=4G)*0",
        """\
GPU count must be at least 1
    cuda(mem=4G)*0
                 ^
hint: got '0'; drop the cuda(...) term to ask for no GPU""",
    ),
    (
        "cores-zero",
        "cpu(mem=4G, cores=0)",
        """\
cores must be a whole number >= 1, got '0'
    cpu(mem=4G, cores=0)
                      ^
hint: write e.g. cores=4""",
    ),
    (
        "duplicate-mem",
        "cpu(mem=1G, mem=2G)",
        """\
mem= is given twice in cpu(...)
    cpu(mem=1G, mem=2G)
                ~~~~~^
hint: keep only one mem=; the first one is at column 5""",
    ),
    (
        "unknown-argument",
        "cuda(memory=4G)",
        """\
unknown argument 'memory' in cuda(...)
    cuda(memory=4G)
         ~~~~~^
hint: did you mean `mem`?""",
    ),
    (
        "gibberish",
        "this is not a requirement",
        """\
unknown term 'this'
    this is not a requirement
    ~~~^
hint: a term is duration=..., cpu(...), cuda(...) or gpu(...)""",
    ),
    (
        "absurd-size",
        "cuda(mem=2000P)",
        """\
memory size '2000P' is over 10^18 bytes
    cuda(mem=2000P)
             ~~~~^
hint: this looks like a typo: no job needs an exabyte""",
    ),
    (
        "absurd-duration",
        "duration=4000 days",
        """\
duration '4000 days' is over 10 years
    duration=4000 days
             ~~~~~~~~^
hint: this looks like a typo: write e.g. 4 days""",
    ),
    (
        "trailing-operator",
        "cpu(cores=4) |",
        """\
expression ends too early: expected a term (duration=..., cpu(...), cuda(...), gpu(...) or '(')
    cpu(cores=4) |
                 ^
hint: finish with a term, e.g. cpu(cores=4), or remove the trailing operator""",
    ),
    (
        "unmatched-paren",
        "cpu(cores=4))",
        """\
unmatched ')'
    cpu(cores=4))
                ^
hint: remove it or add its '('""",
    ),
    (
        "mm-ss-clock",
        "duration=12:30",
        """\
duration '12:30' is ambiguous (Slurm reads MM:SS, people mean HH:MM)
    duration=12:30
             ~~~~^
hint: write 12:30:00 for hours and minutes, or 12m30s""",
    ),
    (
        "unknown-unit",
        "duration=4 dayz",
        """\
unknown duration unit 'dayz'
    duration=4 dayz
             ~~~~~^
hint: did you mean `day`? use s, m/min, h, d/days or w""",
    ),
]


@pytest.mark.parametrize(("text", "rendered"), [c[1:] for c in PINNED], ids=[c[0] for c in PINNED])
def test_pinned_error_text(text: str, rendered: str) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    assert str(caught.value) == rendered


def test_error_carries_text_and_span() -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse("cpu(cores=2) & cuda(mem=1)")
    assert caught.value.text == "cpu(cores=2) & cuda(mem=1)"
    assert caught.value.span == Span(24, 25)
    assert caught.value.span.column == 25


def test_multiline_error_shows_the_line_of_the_mistake() -> None:
    text = "cpu(cores=2)\n& cuda(mem=1)"
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    assert str(caught.value).splitlines()[1:3] == ["    & cuda(mem=1)", "               ^"]


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidExpression, match="expected a requirement expression as text"):
        parse(42)  # type: ignore[arg-type]


def test_overlong_text_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidExpression, match="characters long"):
        parse("cpu() & " * 20_000 + "cpu()")


def test_deep_nesting_does_not_overflow_the_stack() -> None:
    depth = MAX_DEPTH - 1  # cpu( is one more level
    assert parse("(" * depth + "cpu(cores=3)" + ")" * depth) == req(alt(cores=3))


def test_nesting_beyond_the_limit_is_refused_at_the_first_extra_parenthesis() -> None:
    text = "(" * (MAX_DEPTH + 1) + "cpu(cores=3)" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    assert caught.value.span == Span(MAX_DEPTH, MAX_DEPTH + 1)
    assert "nested more than" in caught.value.message


def test_model_keeps_its_case_and_spelling() -> None:
    parsed = parse("cuda(model=A100-SXM4-80GB)")
    assert parsed.alternatives[0].gpus[0].model == "A100-SXM4-80GB"


def test_canonical_form_of_the_seed() -> None:
    assert str(parse("duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)")) == (
        "duration=4d & cpu(mem=400MB, cores=4) & cuda(mem=4GB)*2"
    )


# ---- the compiled-table cache ---------------------------------------------------------------

_PARSE_SEED = (
    "from reqsolve.parser import parse; "
    "print(parse('duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)'))"
)


def _parse_in_fresh_process(cache_home: Path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    env.pop("REQSOLVE_NO_CACHE", None)
    result = python_process(_PARSE_SEED, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.strip()


def test_tables_are_cached_in_the_user_cache_and_reused(tmp_path: Path) -> None:
    expected = "duration=4d & cpu(mem=400MB, cores=4) & cuda(mem=4GB)*2"
    assert _parse_in_fresh_process(tmp_path) == expected
    [cached] = (tmp_path / "reqsolve").glob("*.lark-cache")
    assert cached.stat().st_size > 0
    assert _parse_in_fresh_process(tmp_path) == expected  # loads the cache


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    _parse_in_fresh_process(tmp_path)
    [cached] = (tmp_path / "reqsolve").glob("*.lark-cache")
    cached.write_bytes(b"garbage\n\x80\x04")
    assert _parse_in_fresh_process(tmp_path).startswith("duration=4d")
    assert cached.read_bytes() != b"garbage\n\x80\x04"  # written again


def test_an_unusable_cache_directory_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    assert _parse_in_fresh_process(blocker).startswith("duration=4d")


class _Planted:
    """A pickle that makes a directory when unpickled: proof that a cache file was read."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def _plant(cache_home: Path, marker: Path) -> list[Path]:
    """Replace every cache file by lark's format (digest line, then pickles) with a payload."""
    import pickle

    _parse_in_fresh_process(cache_home)
    planted = sorted((cache_home / "reqsolve").glob("*.lark-cache"))
    for cached in planted:
        cached.write_bytes(b"0\n" + pickle.dumps(_Planted(marker)))
    return planted


def _world_writable_file(cache_home: Path, planted: list[Path]) -> None:
    for cached in planted:
        cached.chmod(0o666)


def _world_writable_directory(cache_home: Path, planted: list[Path]) -> None:
    (cache_home / "reqsolve").chmod(0o777)


def _world_writable_cache_home(cache_home: Path, planted: list[Path]) -> None:
    cache_home.chmod(0o777)


def _file_of_other_uid(cache_home: Path, planted: list[Path]) -> None:
    for cached in planted:
        os.chown(cached, 65534, 65534)


@pytest.mark.parametrize(
    "expose",
    [
        _world_writable_file,
        _world_writable_directory,
        _world_writable_cache_home,
        pytest.param(_file_of_other_uid, marks=pytest.mark.skipif(
            os.geteuid() != 0, reason="giving a file to another uid needs root")),
    ],
)
def test_a_cache_file_another_user_could_have_written_is_never_unpickled(
    tmp_path: Path, expose: Callable[[Path, list[Path]], None]
) -> None:
    """Issue 24, item 4: lark unpickles the cache file before checking its digest, so a file
    planted in a shared XDG_CACHE_HOME ran code as whoever parsed next. Such a file is not read
    (the tables are built in memory); the parse is unchanged."""
    cache_home = tmp_path / "cache"
    cache_home.mkdir()
    marker = tmp_path / "UNPICKLED"
    planted = _plant(cache_home, marker)
    assert planted
    expose(cache_home, planted)
    assert _parse_in_fresh_process(cache_home).startswith("duration=4d")
    assert not marker.exists()


def test_a_planted_cache_file_of_your_own_is_read(tmp_path: Path) -> None:
    """The check above is what stops it: the same file, private, is unpickled (lark's own
    behaviour, which this project cannot change)."""
    cache_home = tmp_path / "cache"
    cache_home.mkdir()
    marker = tmp_path / "UNPICKLED"
    _plant(cache_home, marker)
    _parse_in_fresh_process(cache_home)
    assert marker.exists()


# ---- the error catalogue of docs/expressions.md stays true ------------------------------------


def _catalogue() -> list[tuple[str, str, str]]:
    text = (ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
    table = text.split("### Catalogue", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")]
        wrote, message, hint = cells
        if wrote.startswith("`") and wrote.endswith("`") and message.startswith("`"):
            rows.append((wrote[1:-1], message[1:-1], hint))
    return rows


CATALOGUE = _catalogue()


def test_catalogue_is_not_empty() -> None:
    assert len(CATALOGUE) >= 25


@pytest.mark.parametrize(("text", "message", "hint"), CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_documented_error(text: str, message: str, hint: str) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    assert caught.value.message == message
    assert caught.value.hint is not None
    if hint.endswith("…"):
        assert caught.value.hint.startswith(hint[:-1].rstrip())
    else:
        assert caught.value.hint == hint


# A mistake explained by what comes before it: the hint says what to write (issue 20 §6)
CONTEXT_HINTS = [
    ("cuda(model=NVIDIA A100)", 'quoted: model="NVIDIA A100"'),
    ("cuda(model=NVIDIA A100 80GB, mem=4G)*2", 'quoted: model="NVIDIA A100 80GB"'),
    ("gpu(mem=4G, model=RTX 6000) & duration=2h", 'quoted: model="RTX 6000"'),
    ("cuda(model = Tesla  V100)", 'quoted: model="Tesla  V100"'),
    ("duration=1h30", "write duration=1h30m"),
    ("duration=1d12 & cpu()", "write duration=1d12h"),
    ("cpu() & duration=2h15 | cpu(cores=2)", "write duration=2h15m"),
    ("duration=1 h 30", "write duration=1 h 30m"),
    ("duration=2w3", "write duration=2w3d"),
    ("duration=90min30", "write duration=90min30s"),
    ("duration=1.5days 6", "write duration=1.5days 6h"),
    ("duration=30s15", "each number of a duration has its unit, e.g. duration=1h30m"),
]


@pytest.mark.parametrize(("text", "hint"), CONTEXT_HINTS, ids=[c[0] for c in CONTEXT_HINTS])
def test_hint_from_what_comes_before(text: str, hint: str) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    assert caught.value.hint is not None and caught.value.hint.endswith(hint)


# --- issue 23 §3: a speed trick stays only where it earns >= 10 % of a user-visible figure
# (docs/performance.md, "Speed tricks kept"). Deferred imports of cheap standard modules in
# modules that a cold ``reqsolve find`` never imports before it needs them earned nothing.


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("reqsolve/pyconfig/codegen.py", "json"),
        ("reqsolve/cli/schema_cmd.py", "json"),
        ("reqsolve/parser.py", "hashlib"),
    ],
)
def test_cheap_standard_modules_are_imported_at_the_top(module: str, name: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    nested = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Import) and node not in tree.body
        and any(alias.name == name for alias in node.names)
    ]
    assert name in top and nested == []
