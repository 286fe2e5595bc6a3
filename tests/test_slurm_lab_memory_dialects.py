"""Against the real Slurm lab: memory asked per GPU (``memory_option: mem-per-gpu``, issue 21
§2 item 4) is what Slurm allocates.

A launcher file describes the lab's GPU partitions with ``memory_option: mem-per-gpu`` and its
cpu partition with ``mem``. For random requests (cores, memory, GPUs, GPU memory, duration):
every answer is accepted by ``sbatch --test-only``, asks for memory in its partitions' dialect,
and is sound against the node table (every node the options admit holds what Slurm allocates
there: n x ``--mem-per-gpu`` MiB, or ``--mem``; and the nodes Slurm would start the job on are
such nodes); every "no launcher" is confirmed by brute force over the node table, and
``explain`` gives a GPU partition asked memory without a GPU the reason that says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqsolve.answers.options import SlurmOptions
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.launchers import SlurmLauncher
from reqsolve.slurm.values import expand_hostlist
from tests.cli_run import cli
from tests.lab_cluster import MIB, NODES, START_RE
from tests.reference import slurm_mib
from tests.slurm_lab import FOUND_NOTHING, VERDICTS, SlurmLab
from tests.strategies import requirement_text

pytestmark = pytest.mark.slurm

HOUR = 3600

# the lab's gpu and small partitions ask for memory per GPU, its cpu partition with --mem (the
# a100 partition needs an account: left out here)
MEMORY_DIALECTS = """
slurm:
  - id: lab
    memory_option: mem-per-gpu
    partitions:
      gpu:
        configuration: {max_duration: 4 days}
        nodes:
          - hosts: [yop, yep]
            features: [A6000, GPU3, GPUM48G]
            configuration:
              cpu: {cores: 32, memory: 128000MiB}
              gpu: {count: 3, memory: 48G}
          - hosts: [yip, yup, yap]
            features: [RTX, GPU2, GPUM24G]
            configuration:
              cpu: {cores: 24, memory: 96000MiB}
              gpu: {count: 2, memory: 24G}
      small:
        max_nodes: 2
        configuration: {max_duration: 24h}
        nodes:
          - hosts: [alpha, beta, gamma, delta]
            features: [GPU2, GPUM24G]
            configuration:
              cpu: {cores: 16, memory: 64000MiB}
              gpu: {count: 2, memory: 24G}
      cpu:
        memory_option: mem
        configuration: {max_duration: 7 days}
        nodes:
          - hosts: [cpu-01, cpu-02, cpu-03, cpu-04]
            features: [intel, skylake]
            configuration:
              cpu: {cores: 40, memory: 192000MiB}
"""


@dataclass(frozen=True)
class Partition:
    hosts: tuple[str, ...]
    max_time: int  # seconds
    dialect: str


PARTITIONS = {
    "gpu": Partition(("yop", "yep", "yip", "yup", "yap"), 96 * HOUR, "mem-per-gpu"),
    "small": Partition(("alpha", "beta", "gamma", "delta"), 24 * HOUR, "mem-per-gpu"),
    "cpu": Partition(("cpu-01", "cpu-02", "cpu-03", "cpu-04"), 168 * HOUR, "mem"),
}


@dataclass(frozen=True)
class Need:
    cores: int | None
    memory_mib: int  # per node, in MiB (0: none asked)
    gpus: int
    gpu_memory: float
    seconds: float

    def expression(self) -> str:
        return requirement_text(
            hours=self.seconds / HOUR, cores=self.cores,
            memory=f"{self.memory_mib}MiB" if self.memory_mib else None,
            gpus=[f"cuda(mem={self.gpu_memory / 1e9:g}G)*{self.gpus}"] if self.gpus else [])


def allocated_mib(need: Need, dialect: str) -> int | None:
    """What Slurm allocates on a node in this dialect, in MiB; None: it cannot be asked."""
    if not need.memory_mib:
        return 0
    if dialect == "mem":
        return need.memory_mib
    if not need.gpus:
        return None  # memory per GPU, and no GPU
    return need.gpus * -(-need.memory_mib // need.gpus)


def runs(host: str, need: Need, dialect: str) -> bool:
    """Brute force: this node runs the request in this dialect."""
    node = NODES[host]
    allocated = allocated_mib(need, dialect)
    return (
        allocated is not None and allocated * MIB <= node.memory
        and (need.cores or 1) <= node.cores and need.gpus <= node.gpus
        and (not need.gpus or need.gpu_memory <= node.gpu_memory)
    )


def fits(name: str, need: Need) -> bool:
    partition = PARTITIONS[name]
    return need.seconds <= partition.max_time and any(
        runs(host, need, partition.dialect) for host in partition.hosts
    )


def admitted(options: SlurmOptions, name: str, need: Need) -> list[str]:
    """The nodes of the partition Slurm may pick for these options."""
    clauses = [frozenset(c.strip("()").split("&")) for c in (options.constraint or "").split("|")]
    excluded = set(expand_hostlist(options.exclude)) if options.exclude else set()
    return [
        host for host in PARTITIONS[name].hosts
        if (options.constraint is None or any(c <= NODES[host].features for c in clauses))
        and host not in excluded and NODES[host].gpus >= need.gpus
    ]


COUNTS: dict[str, int] = {}

needs = st.builds(
    Need,
    cores=st.sampled_from([None, 1, 4, 16, 30]),
    # around the lab's node sizes: 64000, 96000, 128000 and 192000 MiB, and odd counts that
    # round up per GPU (96000 = 2 x 48000; 95999 -> 2 x 48000; 96001 -> 2 x 48001)
    memory_mib=st.sampled_from([0, 0, 2000, 30001, 63999, 64000, 64001, 95999, 96000, 96001,
                                127999, 128000, 128001, 150000, 192000, 200000]),
    gpus=st.sampled_from([0, 0, 1, 2, 3]),
    gpu_memory=st.sampled_from([8e9, 20e9, 40e9]),
    seconds=st.sampled_from([0.5 * HOUR, 30 * HOUR, 150 * HOUR]),
)


def check(lab: SlurmLab, path: Path, need: Need) -> None:
    expression = need.expression()
    try:
        launcher = find_launcher(expression, config=str(path), offline=True)
    except LauncherNotFoundError:
        confirm_impossible(path, need)
        return
    assert isinstance(launcher, SlurmLauncher) and launcher.options is not None
    options = launcher.options
    names = (options.partition or "").split(",")
    dialects = {PARTITIONS[name].dialect for name in names}
    if need.memory_mib:  # one answer asks for memory one way, its partitions' way
        assert len(dialects) == 1, f"{expression}: {options.args()}"
        per_gpu, mem = slurm_mib(options.mem_per_gpu), slurm_mib(options.mem)
        if dialects == {"mem-per-gpu"}:
            assert mem is None and per_gpu is not None, options.args()
            assert need.gpus * per_gpu == allocated_mib(need, "mem-per-gpu"), options.args()
        else:
            assert (mem, per_gpu) == (need.memory_mib, None), options.args()
    else:
        assert options.mem is None and options.mem_per_gpu is None, options.args()
    for name in names:
        assert fits(name, need), f"{expression}: {name} in {options.args()}"
        hosts = admitted(options, name, need)
        dialect = PARTITIONS[name].dialect
        assert hosts and all(runs(h, need, dialect) for h in hosts), (
            f"{expression}: {options.args()} admits {hosts}")
    ok, message = lab.test_only(*options.args())
    VERDICTS.append((f"memory dialects: {expression}", ok))
    assert ok, f"{expression}: {options.args()}: {message}"
    found = START_RE.search(message)
    assert found is not None, message
    picked, partition = expand_hostlist(found.group(1)), found.group(2)
    assert all(runs(h, need, PARTITIONS[partition].dialect) for h in picked), (
        f"{expression}: Slurm picks {picked} ({message})")
    key = "answered, mem-per-gpu" if options.mem_per_gpu else "answered"
    COUNTS[key] = COUNTS.get(key, 0) + 1


def confirm_impossible(path: Path, need: Need) -> None:
    expression = need.expression()
    FOUND_NOTHING.append(f"memory dialects: {expression}")
    assert not any(fits(name, need) for name in PARTITIONS), f"{expression}: brute force fits"
    if need.memory_mib and not need.gpus:
        _, out, _ = cli("explain", "--config", str(path), "--offline", "--format", "json",
                        expression)
        rows = [r for r in json.loads(out)["rows"] if r["partition"] in ("gpu", "small")]
        assert rows and all(
            r["reason"] == "memory per GPU (memory_option: mem-per-gpu) and no GPU asked"
            for r in rows if need.seconds <= PARTITIONS[r["partition"]].max_time
        ), rows
        COUNTS["no launcher, memory without a GPU"] = (
            COUNTS.get("no launcher, memory without a GPU", 0) + 1)
    COUNTS["no launcher"] = COUNTS.get("no launcher", 0) + 1


@pytest.mark.parametrize(
    ("per_gpu", "accepted"),
    [("48000M", True), ("48001M", False)],  # yip's 96000 MiB over its 2 GPUs
)
def test_slurm_allocates_the_gpus_times_mem_per_gpu(
    slurm_lab: SlurmLab, per_gpu: str, accepted: bool
) -> None:
    """The rule checked against Slurm itself: 2 x --mem-per-gpu must fit the node's memory."""
    ok, message = slurm_lab.test_only("--partition=gpu", "--constraint=RTX", "--nodes=1",
                                      "--gpus-per-node=2", f"--mem-per-gpu={per_gpu}")
    assert ok is accepted, message


def test_random_requests_in_the_memory_dialects_against_the_lab(
    slurm_lab: SlurmLab, tmp_path: Path
) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(MEMORY_DIALECTS)
    COUNTS.clear()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(needs)
    # fixed rows: the per-GPU boundary on yip (2 x 48000 MiB fits 96000 MiB, 2 x 48001 does
    # not: the A6000 nodes take it), memory without a GPU (only the cpu partition), too much
    @example(Need(None, 96000, 2, 20e9, 0.5 * HOUR))
    @example(Need(None, 96001, 2, 20e9, 0.5 * HOUR))
    @example(Need(4, 30001, 0, 8e9, 0.5 * HOUR))
    @example(Need(None, 200000, 0, 8e9, 0.5 * HOUR))
    @example(Need(None, 128001, 3, 8e9, 0.5 * HOUR))
    def prop(need: Need) -> None:
        check(slurm_lab, path, need)

    prop()
    print(f"memory dialects property: {dict(sorted(COUNTS.items()))}")
    assert COUNTS.get("answered, mem-per-gpu", 0) >= 5
    assert COUNTS.get("no launcher, memory without a GPU", 0) >= 1
