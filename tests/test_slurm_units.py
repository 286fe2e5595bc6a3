"""Matching and emission agree on Slurm's units (issue 12, item 1; docs/matching.md).

Slurm holds node memory and memory per CPU in whole MiB and time limits in whole minutes;
reqsolve emits ``--mem`` rounded up to the MiB and ``--time`` in seconds that Slurm rounds up
to the minute. The property: for every answer, each emitted quantity is at most every admitted
node's capacity in Slurm's own unit — computed here from the raw configuration values, not
from reqsolve's shapes. Sizes are drawn around MiB and minute boundaries (``1000M`` is
953.67 MiB), where rounding in the wrong direction shows.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.config.model import Qos, SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError
from reqsolve.requirement import Alternative, Cpu, Requirement
from tests import strategies
from tests.answering import answer
from tests.reference import (
    MIB,
    _merge,
    admitted_nodes,
    conf,
    group,
    launcher_file,
    partition,
    slurm_mib,
    slurm_minutes,
)

# node memory and memory per CPU around MiB boundaries: decimal sizes, exact MiB, MiB - 1 B
NODE_MEMORY = [10**9, 1000 * MIB, 1000 * MIB - 1, 16 * 10**9, 16 * 1024 * MIB]
PER_CPU = [10**9, 1000 * MIB, 4 * 10**9, 4096 * MIB, 3 * MIB // 2]
ASKED_MEMORY = [10**9, 1000 * MIB, 1000 * MIB - 1, 953 * MIB, 954 * MIB, 16 * 10**9, 2 * 10**9]
# limits around minute boundaries, and durations asked around them
LIMITS = [None, 90, 3600, 3599, 3661, 7200]
DURATIONS = [0, 60, 61, 90, 3600, 3601, 3660]


@st.composite
def clusters(draw: st.DrawFn) -> SlurmLauncherConfig:
    groups = [
        group(
            f"n{i}",
            configuration=conf(
                cores=draw(st.sampled_from([None, 2, 8])),
                memory=draw(st.sampled_from([None, *NODE_MEMORY])),
                mem_per_cpu=draw(st.sampled_from([None, *PER_CPU])),
                max_duration=draw(st.sampled_from(LIMITS)),
            ),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    qos_limit = draw(st.sampled_from(LIMITS))
    return SlurmLauncherConfig(
        id="c",
        use_features=False,
        use_memory_constraint=draw(st.booleans()),
        qos=(Qos("q", max_duration=qos_limit),),
        partitions=(
            partition("p", *groups, qos=draw(st.sampled_from([(), ("q",)]))),
        ),
    )


ALTERNATIVES = strategies.alternatives(
    durations=DURATIONS, cpu=strategies.cpus(cores=[1, 2], memory=ASKED_MEMORY)
)


def slurm_capacity(config: SlurmLauncherConfig, name: str, index: int, qos: str | None) -> Any:
    """(memory MiB, mem_per_cpu MiB, cores, limit minutes) of a node as Slurm holds them."""
    part = next(p for p in config.partitions if p.name == name)
    values = _merge([config.configuration, part.configuration, part.nodes[index].configuration])
    limits = [values.get("max_duration")]
    if qos is not None:
        limits.append(next(q for q in config.qos if q.name == qos).max_duration)
    known = [x for x in limits if x is not None]

    def floor(value: int | None, unit: int) -> int | None:
        return None if value is None else value // unit

    return (
        floor(values.get("memory"), MIB),
        floor(values.get("mem_per_cpu"), MIB),
        values.get("cores"),
        floor(min(known), 60) if known else None,
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), ALTERNATIVES)
def test_emitted_quantities_fit_every_admitted_node_in_slurm_units(
    config: SlurmLauncherConfig, alternative: Alternative
) -> None:
    try:
        match = answer(launcher_file(config), Requirement((alternative,)))
    except LauncherNotFoundError:
        return
    options = match.options
    assert options is not None
    nodes = admitted_nodes(config, options)
    assert nodes
    asked_memory = alternative.cpu.memory if alternative.cpu else 0
    for name, index, host in nodes:
        memory, per_cpu, cores, limit = slurm_capacity(config, name, index, options.qos)
        where = (name, index, host, options)
        if options.mem is not None and memory is not None:
            assert slurm_mib(options.mem) <= memory, where
        if options.mem is not None:
            assert slurm_mib(options.mem) * MIB >= asked_memory, where  # and never less than asked
        if asked_memory and not config.use_memory_constraint:
            assert per_cpu, where
            assert options.cpus_per_task is not None
            assert options.cpus_per_task * per_cpu * MIB >= asked_memory, where
        if options.cpus_per_task is not None and cores is not None:
            assert options.cpus_per_task <= cores, where
        if options.time is not None and limit is not None:
            assert slurm_minutes(options.time) <= limit, where


@pytest.mark.parametrize(
    ("node", "asked", "answers"),
    [
        # 1000M = 953.67 MiB: Slurm holds 953; 1000M asked is 954M emitted
        (10**9, 10**9, False),
        (10**9, 953 * MIB, True),
        (1000 * MIB, 1000 * MIB, True),
        (1000 * MIB, 1000 * MIB - 1, True),
        (1000 * MIB - 1, 1000 * MIB - 1, False),
    ],
)
def test_memory_fits_only_in_whole_mib(node: int, asked: int, answers: bool) -> None:
    config = SlurmLauncherConfig(
        id="c",
        partitions=(partition("p", group("n1", configuration=conf(cores=4, memory=node))),),
    )
    file = launcher_file(config)
    requirement = Requirement((Alternative(cpu=Cpu(memory=asked)),))
    if answers:
        options = answer(file, requirement).options
        assert options is not None and options.mem is not None
        assert slurm_mib(options.mem) <= node // MIB
    else:
        with pytest.raises(LauncherNotFoundError, match=f"the node has {node // MIB}MiB"):
            answer(file, requirement)


def test_memory_per_cpu_counts_whole_mib() -> None:
    """4G per CPU is 3814 MiB to Slurm: 12G needs 4 CPUs, not 3."""
    config = SlurmLauncherConfig(
        id="c",
        use_memory_constraint=False,
        partitions=(
            partition("p", group("n1", configuration=conf(cores=8, mem_per_cpu=4 * 10**9))),
        ),
    )
    requirement = Requirement((Alternative(cpu=Cpu(memory=12 * 10**9)),))
    options = answer(launcher_file(config), requirement).options
    assert options is not None and options.cpus_per_task == 4


def test_a_limit_of_90s_is_one_minute_to_slurm() -> None:
    config = SlurmLauncherConfig(
        id="c", partitions=(partition("p", group("n1", configuration=conf(max_duration=90))),)
    )
    file = launcher_file(config)
    with pytest.raises(LauncherNotFoundError):
        answer(file, Requirement((Alternative(duration=90),)))
    options = answer(file, Requirement((Alternative(duration=60),))).options
    assert options is not None and options.time == "00:01:00"
