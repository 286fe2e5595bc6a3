"""Against a real Slurm lab with GPUs of two types on one node (issue 21 §2): a property.

The cluster (tests/slurm/lab/kinds/nodes.conf) runs in a lab of its own beside the default
one: three nodes with 2 a100 + 2 v100 each (partition ``duo``, MaxNodes=2), two nodes with 4
a100, the two kinds of node together in partition ``all``, and CPU nodes. For random requests
mixing GPU models and memories, several nodes, tasks, cores and memory, discovered live by
``query_slurm``: every answer is accepted by ``sbatch --test-only``, and is sound against the
node table ``scontrol`` prints — every node the options admit and Slurm would pick (as many
GPUs of each type asked as asked) runs the job with any GPUs Slurm may give, each partition
holds the nodes asked within its MaxNodes, and the nodes Slurm says it would start the job on
run it; every "no launcher" is confirmed by brute force over every partition and every way to
ask for the GPUs (untyped, by one type, by every typed list: tests/slurm_brute.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqsolve.config import load_config
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.launchers import SlurmLauncher
from reqsolve.parser import parse
from reqsolve.slurm import query, readers
from reqsolve.slurm.values import expand_hostlist
from tests.paths import ROOT
from tests.slurm_brute import admitted, options_way, runs, ways_of
from tests.slurm_lab import FOUND_NOTHING, LAB_DIR, VERDICTS, SlurmLab, start_lab, stop_lab
from tests.strategies import requirement_text

pytestmark = pytest.mark.slurm

KINDS = ROOT / "tests" / "slurm" / "lab" / "kinds"
LAUNCHERS = KINDS / "launchers.yaml"
START_RE = re.compile(r"on nodes (\S+) in partition (\S+)")
# the GPUs a request may ask: models, memories (a100 40 GB, v100 16 GB), any
GPU_TERMS = ["cuda()", "cuda(model=a100)", "cuda(model=v100)", "cuda(mem=10G)",
             "cuda(mem=20G)", "cuda(mem=48G)"]
COUNTS: dict[str, int] = {}


@dataclass(frozen=True)
class Table:
    """The lab's node table, as scontrol prints it."""

    lab: SlurmLab
    nodes: dict[str, readers.NodeRecord]
    partitions: list[readers.PartitionRecord]
    config: SlurmLauncherConfig


@pytest.fixture(scope="module")
def kinds_lab() -> Iterator[Table]:
    """The kinds cluster in a third lab (``<SLURM_LAB_DIR>3``, port + 2000)."""
    lab_dir = Path(f"{LAB_DIR}3")
    port = int(os.environ.get("SLURM_LAB_PORT", "16817")) + 2000
    lab, _ = start_lab(KINDS, lab_dir=lab_dir, port=port)
    nodes = readers.read_nodes(lab.run("scontrol", "--oneliner", "show", "nodes").stdout)
    partitions = readers.read_partitions(
        lab.run("scontrol", "--oneliner", "show", "partition").stdout)
    config = load_config(LAUNCHERS).launchers[0]
    assert isinstance(config, SlurmLauncherConfig)
    yield Table(lab, {n.name: n for n in nodes}, partitions, config)
    if os.environ.get("SLURM_LAB_KEEP") != "1":
        stop_lab(lab_dir)


@dataclass(frozen=True)
class Need:
    nodes: int
    tasks: int | None
    cores: int | None
    memory_g: int
    gpus: tuple[tuple[str, int], ...]  # (term, count)
    hours: int

    def expression(self) -> str:
        return requirement_text(
            hours=self.hours, nodes=self.nodes if self.nodes > 1 else None, tasks=self.tasks,
            cores=self.cores, memory=f"{self.memory_g}G" if self.memory_g else None,
            gpus=[f"{term}*{count}" for term, count in self.gpus])


needs = st.builds(
    Need,
    nodes=st.sampled_from([1, 1, 2, 3, 4]),
    tasks=st.sampled_from([None, 2]),
    cores=st.sampled_from([None, 4, 16, 40]),
    memory_g=st.sampled_from([0, 0, 30, 300]),
    gpus=st.lists(st.tuples(st.sampled_from(GPU_TERMS), st.integers(1, 2)),
                  max_size=2).map(tuple),
    hours=st.sampled_from([1, 30, 60]),
)


def possible(table: Table, need: Need) -> list[tuple[str, object, int]]:
    """Brute force: (partition, way, fitting nodes) for each partition and way to ask that
    holds the job (as many fitting nodes as asked, within MaxNodes)."""
    alternative = parse(need.expression()).alternatives[0]
    found = []
    for partition in table.partitions:
        if partition.state != "UP":
            continue
        if partition.max_nodes is not None and need.nodes > partition.max_nodes:
            continue
        nodes = [table.nodes[h] for h in partition.nodes]
        ways = {way for node in nodes for way in ways_of(node, len(alternative.gpus))}
        for way in ways:
            fitting = sum(runs(n, partition, alternative, table.config, way) for n in nodes)
            if fitting >= need.nodes:
                found.append((partition.name, way, fitting))
    return found


def check(table: Table, need: Need) -> None:
    expression = need.expression()
    alternative = parse(expression).alternatives[0]
    try:
        launcher = find_launcher(expression, config=str(LAUNCHERS))
    except LauncherNotFoundError:
        FOUND_NOTHING.append(f"kinds: {expression}")
        ways = possible(table, need)
        assert not ways, f"{expression}: reqsolve found nothing, brute force finds {ways}"
        COUNTS["no launcher"] = COUNTS.get("no launcher", 0) + 1
        return
    assert isinstance(launcher, SlurmLauncher) and launcher.options is not None
    options = launcher.options
    args = options.args()
    way = options_way(options)
    by_name = {p.name: p for p in table.partitions}
    hosts = admitted(table.nodes, table.partitions, options)
    for name in (options.partition or "").split(","):
        partition = by_name[name]
        assert partition.max_nodes is None or need.nodes <= partition.max_nodes, (expression,
                                                                                   args)
        mine = [h for p, h in hosts if p == name]
        assert len(mine) >= need.nodes, f"{expression}: {args}: {name} admits only {mine}"
        for host in mine:
            assert runs(table.nodes[host], partition, alternative, table.config, way), (
                f"{expression}: {args} lets Slurm use {host} in {name}")
    ok, message = table.lab.test_only(*args)
    VERDICTS.append((f"kinds: {expression}", ok))
    assert ok, f"{expression}: sbatch --test-only {' '.join(args)}: {message}"
    started = START_RE.search(message)
    assert started is not None, message
    partition = by_name[started.group(2)]
    for host in expand_hostlist(started.group(1)):
        assert runs(table.nodes[host], partition, alternative, table.config, way), (
            f"{expression}: Slurm would start on {host} ({message})")
    kind = "typed list" if options.gpu_types else "typed" if options.gpu_type else "answered"
    COUNTS[kind] = COUNTS.get(kind, 0) + 1


def test_random_requests_on_nodes_of_two_gpu_types(
    kinds_lab: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_CONF", kinds_lab.lab.env["SLURM_CONF"])
    monkeypatch.setenv("REQSOLVE_NO_DISK_CACHE", "1")
    query.clear_cache()
    COUNTS.clear()

    @settings(max_examples=50, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(needs)
    # one GPU of each type: duo's nodes only; three such nodes: over duo's MaxNodes, in `all`;
    # four: not enough nodes anywhere
    @example(Need(1, None, None, 0, (("cuda(model=a100)", 1), ("cuda(model=v100)", 1)), 1))
    @example(Need(3, None, 4, 30, (("cuda(model=a100)", 2), ("cuda(model=v100)", 1)), 1))
    @example(Need(4, None, None, 0, (("cuda(model=a100)", 1), ("cuda(model=v100)", 1)), 1))
    # 20G fits the a100s only, 10G both: a list on duo nodes, a100 alone on uno's
    @example(Need(1, None, None, 0, (("cuda(mem=20G)", 1), ("cuda(mem=10G)", 3)), 1))
    @example(Need(2, 2, 16, 0, (("cuda(mem=20G)", 2),), 30))
    def prop(need: Need) -> None:
        check(kinds_lab, need)

    prop()
    print(f"kinds property: {dict(sorted(COUNTS.items()))}")
    assert COUNTS.get("typed list", 0) >= 2
    assert COUNTS.get("no launcher", 0) >= 1
