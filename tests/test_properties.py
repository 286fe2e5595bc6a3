"""Invariants of finding, on random small clusters, against the brute-force reference.

The clusters are launcher files drawn by tests/strategies.py and read by reqsolve's loader;
the reference is tests/reference.py.

- the matcher agrees with brute force on every candidate (GPU permutations, no solver);
- every answer is sound: each node that partition + constraint + exclude admit can run the job;
- whenever brute force finds a satisfying candidate (all groups named), reqsolve answers;
- adding an ``&`` term never widens what matches;
- ``a | b`` answers whenever ``a`` does, with ``a``'s answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.answers.emit import uses_mem_per_cpu
from reqsolve.candidates import expand_candidates
from reqsolve.choosing import Answer
from reqsolve.config.model import (
    LauncherFile,
    LocalLauncherConfig,
    SlurmLauncherConfig,
)
from reqsolve.errors import LauncherNotFoundError
from reqsolve.matching import check
from reqsolve.requirement import Alternative, Cpu, Requirement, merge
from reqsolve.units import MIB
from tests import strategies
from tests.answering import answer
from tests.reference import (
    G,
    admitted_nodes,
    conf,
    group,
    listed_satisfies,
    partition,
    reference_candidates,
    reference_satisfies,
    slurm_mib,
    typed,
)

EXAMPLES = 400  # per property; five properties -> 2,000 examples in CI
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ASK_SIZES = [0, 4 * G, 10 * G, 16 * G, 20 * G, 24 * G, 38 * G, 48 * G]

alternatives = strategies.alternatives(
    durations=[0, 3600, 72000, 345600],
    cpu=strategies.cpus(cores=[1, 2, 8, 33], memory=[0, 1 * G, 10 * G, 100 * G]),
    gpus=strategies.accelerators(memory=ASK_SIZES, models=[None, None, "a100"]),
    max_gpus=4,
)


def try_find(
    launcher_file: LauncherFile, requirement: Requirement, tags: tuple[str, ...] = ()
) -> Answer | None:
    try:
        return answer(launcher_file, requirement, tags=tags)
    except LauncherNotFoundError as exc:
        # a refusal gives its reasons, unless no launcher has a candidate (or a tag left all out)
        assert exc.reasons or tags or not any(
            reference_candidates(launcher) for launcher in launcher_file.launchers
        )
        return None


def assert_sound(launcher_file: LauncherFile, match: Answer) -> None:
    config = match.config
    if isinstance(config, LocalLauncherConfig):
        capacity = reference_candidates(config)[0].capacity
        assert reference_satisfies(capacity, match.alternative)
        return
    options = match.options
    assert options is not None
    nodes = admitted_nodes(config, options)
    assert nodes, f"no node admitted by {options}"
    by_key: dict[tuple[Any, ...], Any] = {}
    for c in reference_candidates(config):  # the first of a node: all its GPUs (untyped)
        by_key.setdefault((c.partition, c.group, c.qos, c.account), c)
    asked = options.gpus_per_node or 0
    for name, index, host in nodes:
        candidate = by_key[(name, index, options.qos, options.account)]
        # Slurm picks only nodes with enough GPUs (of the type, for a typed request), and gives
        # any of those
        if options.gpu_types is not None:  # a typed list: None when Slurm never picks it
            fits = listed_satisfies(candidate.capacity, match.alternative, options.gpu_types)
            if fits is None:
                continue
            assert fits, (name, index, host, options.gpu_types)
        else:
            offered = typed(candidate.capacity, options.gpu_type)
            if len(offered.gpus) < asked:
                continue
            assert reference_satisfies(offered, match.alternative), (name, index, host)
        assert (options.gpu_option == "gres") == (config.gpu_option == "gres")
        cpu = match.alternative.cpu
        dialect = candidate.capacity.memory_option
        if cpu is not None and cpu.memory and dialect == "mem-per-cpu":
            per_cpu = candidate.capacity.mem_per_cpu or 0
            assert options.cpus_per_task is not None
            assert options.cpus_per_task * per_cpu >= cpu.memory
            assert options.mem is None and options.mem_per_gpu is None
        elif cpu is not None and cpu.memory and dialect == "mem-per-gpu":
            # what Slurm allocates on this node: n x --mem-per-gpu, at least what was asked
            per_gpu = slurm_mib(options.mem_per_gpu)
            assert per_gpu is not None and options.mem is None
            assert asked * per_gpu * MIB >= cpu.memory
            node = candidate.capacity.memory
            assert node is None or asked * per_gpu * MIB <= node
        elif cpu is not None and cpu.memory:
            assert options.mem is not None and options.mem_per_gpu is None


@SETTINGS
@given(strategies.launcher_files(), alternatives)
def test_matcher_agrees_with_brute_force(
    launcher_file: LauncherFile, alternative: Alternative
) -> None:
    for compiled in expand_candidates(launcher_file):
        reference = reference_candidates(compiled.config)
        assert len(reference) == len(compiled.candidates)
        for mine, theirs in zip(compiled.candidates, reference, strict=True):
            assert (mine.partition, mine.group, mine.qos, mine.account) == (
                theirs.partition, theirs.group, theirs.qos, theirs.account,
            )
            assert mine.priority == theirs.priority
            verdict = check(mine.shape, alternative)
            assert verdict.ok == reference_satisfies(theirs.capacity, alternative), verdict


@SETTINGS
@given(strategies.launcher_files(), alternatives, st.booleans())
def test_every_answer_is_sound(launcher_file: LauncherFile, alternative: Alternative,
                               tagged: bool) -> None:
    match = try_find(launcher_file, Requirement((alternative,)), ("t",) if tagged else ())
    if match is not None:
        assert_sound(launcher_file, match)


@SETTINGS
@given(strategies.launcher_files(named_hosts=True), alternatives)
def test_answers_whenever_brute_force_finds(launcher_file: LauncherFile,
                                            alternative: Alternative) -> None:
    exists = any(
        reference_satisfies(c.capacity, alternative)
        for launcher in launcher_file.launchers
        for c in reference_candidates(launcher)
    )
    match = try_find(launcher_file, Requirement((alternative,)))
    assert (match is not None) == exists
    if match is not None:
        # and it is the first launcher, by weight then file order, that has such a candidate
        best = min(
            (
                (-launcher.weight, position)
                for position, launcher in enumerate(launcher_file.launchers)
                if any(reference_satisfies(c.capacity, alternative)
                       for c in reference_candidates(launcher))
            ),
        )
        assert match.launcher.position == best[1]


@SETTINGS
@given(strategies.launcher_files(), alternatives, alternatives)
def test_and_never_widens(launcher_file: LauncherFile, a: Alternative, b: Alternative) -> None:
    narrower = merge(a, b)
    # min_gpu is a lower bound on what is asked: asking a GPU can satisfy a QoS that needs
    # one, so the invariant holds where ``a`` already asks enough GPUs for the QoS (and, in
    # the mem-per-gpu dialect, where it asks memory with a GPU)
    monotone = True
    for compiled in expand_candidates(launcher_file):
        for candidate in compiled.candidates:
            if candidate.shape.min_gpu > len(a.gpus):
                monotone = False
                continue
            # likewise memory per GPU: memory asked without a GPU cannot be asked there, and
            # with one it can (docs/semantics.md §4.3)
            if (candidate.shape.memory_option == "mem-per-gpu" and not a.gpus
                    and a.cpu is not None and a.cpu.memory):
                monotone = False
                continue
            if check(candidate.shape, narrower).ok:
                assert check(candidate.shape, a).ok
    named = all(
        g.hosts
        for launcher in launcher_file.launchers
        if isinstance(launcher, SlurmLauncherConfig)
        for p in launcher.partitions
        for g in p.nodes
    )
    if named and monotone and try_find(launcher_file, Requirement((a,))) is None:
        assert try_find(launcher_file, Requirement((narrower,))) is None


@SETTINGS
@given(strategies.launcher_files(), alternatives, alternatives)
def test_or_answers_whenever_first_does(launcher_file: LauncherFile, a: Alternative,
                                        b: Alternative) -> None:
    first = try_find(launcher_file, Requirement((a,)))
    both = try_find(launcher_file, Requirement((a, b)))
    if first is not None:
        assert both is not None
        assert both.alternative_index == 0
        assert both.launcher is first.launcher
        assert both.options == first.options
    elif both is not None:
        assert both.alternative_index == 1


@pytest.mark.parametrize("uses", [True, False])
def test_mem_per_cpu_flag(uses: bool) -> None:
    """The grouping key uses mem_per_cpu only when memory is turned into cores."""
    compiled = expand_candidates(
        LauncherFile(
            "<t>",
            (
                SlurmLauncherConfig(
                    id="s",
                    use_memory_constraint=not uses,
                    partitions=(partition("p", group("h", configuration=conf(mem_per_cpu=G))),),
                ),
            ),
        )
    )[0]
    assert uses_mem_per_cpu(compiled.candidates[0].shape, Alternative(cpu=Cpu(1, G))) is uses
