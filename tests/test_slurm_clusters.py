"""Real clusters' shapes in the Slurm lab: discovery, typed GRES, Slurm's verdict, brute force.

Each cluster of ``fixtures/slurm/clusters/`` (node and partition shapes of a real cluster, its
source named in its ``nodes.conf``) runs in a second lab beside the default one. For each, a
launcher file saying little more than ``query_slurm: true`` (and the GPU memory of each GRES
type) answers a set of requirements:

- every answer is accepted by ``sbatch --test-only``;
- every answer is sound against the node table the live controller prints: each node Slurm may
  pick for the options (partition, constraint, exclusions, and for a typed request, enough
  GPUs of that type) runs the job with any of the GPUs Slurm may give it;
- every "no launcher" agrees with brute force over the node table (no node and no way to ask
  for its GPUs — untyped or by one of its types — runs the job).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqsolve.config import load_config
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.parser import parse
from reqsolve.requirement import Alternative
from reqsolve.slurm import query, readers
from tests.paths import ROOT
from tests.slurm_brute import GpuWay, admitted, options_way, runs, ways_of
from tests.slurm_lab import VERDICTS, SlurmLab, second_lab, start_lab, stop_lab

pytestmark = pytest.mark.slurm

CLUSTERS = ROOT / "fixtures" / "slurm" / "clusters"

# requirement -> the options expected (None: no launcher), per cluster
CASES: dict[str, list[tuple[str, list[str] | None]]] = {
    # GPU type only in GRES, non-GPU GRES beside it, GRES dialect
    "puhti": [
        ("cuda(mem=16G)*2", ["--partition=gpu,gputest", "--gres=gpu:2"]),
        ("cuda(model=v100)*4 & duration=2 days", ["--partition=gpu", "--gres=gpu:4"]),
        ("cpu(cores=40, mem=300G) & duration=1 day",
         ["--partition=small,gpu", "--exclude=r01c01,r01c02,r01c03,r01c04"]),
        ("cuda(mem=40G)", None),  # a V100 has 32 GB
        ("cuda()*5", None),
        ("duration=4 days", None),
    ],
    # three GPU types mixed in gpu-debug: typed requests instead of excluded hosts
    "triton": [
        ("cuda(mem=40G)", ["--partition=gpu-debug,gpu-a100-80g", "--gpus-per-node=a100:1"]),
        ("cuda(model=a100)*2 & duration=1 day", ["--partition=gpu-a100-80g"]),
        # only the K80 nodes have 8 GPUs: Slurm picks no other, nothing to exclude or type
        ("cuda()*8", ["--partition=gpu-debug", "--gpus-per-node=8"]),
        ("cuda(mem=20G)*4 & duration=10min",
         ["--partition=gpu-debug,gpu-v100-32g,gpu-a100-80g", "--exclude=gpu20,gpu21"]),
        ("cuda(mem=12G)", ["--partition=gpu-debug,gpu-v100-32g,gpu-a100-80g",
                           "--exclude=gpu20,gpu21"]),  # a K80's memory is not stated
        ("cuda(model=k80)*2 & duration=1 day", None),  # K80s are in gpu-debug only (15 min)
        ("cuda(mem=100G)", None),
    ],
    # MIG slices as GRES types, two of them on one node; a type written A100
    "grete": [
        ("cuda(model=3g.20gb)*4", ["--partition=grete:interactive",
                                   "--gpus-per-node=3g.20gb:4"]),
        ("cuda(model=2g.10gb)*8", ["--gpus-per-node=2g.10gb:8"]),
        ("cuda(model=a100)*4", ["--partition=grete,grete:shared", "--gpus-per-node=4"]),
        ("cuda(mem=8G)", ["--partition=grete,grete:shared,grete:interactive"]),
        ("cuda(mem=15G)*2 & duration=1h", ["--partition=grete,grete:shared"]),
        ("cuda(model=2g.10gb)*9", None),
        ("cuda(mem=30G)*5", None),
        # two types on one node: a typed list
        ("cuda(model=3g.20gb) & cuda(model=2g.10gb)",
         ["--partition=grete:interactive", "--gpus-per-node=2g.10gb:1,3g.20gb:1"]),
        ("cuda(model=3g.20gb)*5 & cuda(model=2g.10gb)", None),  # 4 3g.20gb on the node
    ],
}


@dataclass(frozen=True)
class Cluster:
    name: str
    lab: SlurmLab
    launchers: Path
    config: SlurmLauncherConfig
    nodes: dict[str, readers.NodeRecord]
    partitions: list[readers.PartitionRecord]


@pytest.fixture(scope="module")
def second() -> Iterator[tuple[Path, int]]:
    lab_dir, port = second_lab()
    yield lab_dir, port
    if not _keep():
        stop_lab(lab_dir)


def _keep() -> bool:
    import os

    return os.environ.get("SLURM_LAB_KEEP") == "1"


_STARTED: dict[str, Cluster] = {}


def cluster(name: str, second: tuple[Path, int]) -> Cluster:
    """The lab running cluster ``name`` (one cluster at a time: switching restarts Slurm)."""
    found = _STARTED.get(name)
    if found is not None and _STARTED.get("current") is found:
        return found
    lab, _ = start_lab(CLUSTERS / name, lab_dir=second[0], port=second[1])
    nodes = readers.read_nodes(lab.run("scontrol", "--oneliner", "show", "nodes").stdout)
    partitions = readers.read_partitions(
        lab.run("scontrol", "--oneliner", "show", "partition").stdout
    )
    launchers = CLUSTERS / name / "launchers.yaml"
    config = load_config(launchers).launchers[0]
    assert isinstance(config, SlurmLauncherConfig)
    found = Cluster(name, lab, launchers, config, {n.name: n for n in nodes}, partitions)
    _STARTED[name] = _STARTED["current"] = found
    query.clear_cache()
    return found


# --------------------------------------------------------------------------- brute force


def brute_force(found: Cluster, alternative: Alternative) -> list[tuple[str, str, GpuWay]]:
    """Every (partition, node, way to ask) that runs the job."""
    ways = []
    for partition in found.partitions:
        if partition.state != "UP":
            continue
        for host in partition.nodes:
            node = found.nodes[host]
            if node.unusable:
                continue
            for way in ways_of(node, len(alternative.gpus)):
                if runs(node, partition, alternative, found.config, way):
                    ways.append((partition.name, host, way))
    return ways


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize(
    ("name", "expression", "expected"),
    [(name, expression, expected) for name, cases in CASES.items()
     for expression, expected in cases],
    ids=[f"{name}: {expression}" for name, cases in CASES.items() for expression, _ in cases],
)
def test_real_cluster_answers(name: str, expression: str, expected: list[str] | None,
                              second: tuple[Path, int],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    found = cluster(name, second)
    monkeypatch.setenv("SLURM_CONF", found.lab.env["SLURM_CONF"])
    monkeypatch.setenv("REQSOLVE_NO_DISK_CACHE", "1")
    requirement = parse(expression)
    try:
        launcher = find_launcher(expression, config=str(found.launchers))
    except LauncherNotFoundError:
        ways = [w for a in requirement.alternatives for w in brute_force(found, a)]
        assert ways == [], f"reqsolve found nothing, brute force found {ways[:5]}"
        assert expected is None, f"{expression}: expected {expected}, found nothing"
        return
    options = launcher.options
    assert options is not None
    args = options.args()
    assert expected is not None, f"{expression}: expected nothing, got {args}"
    missing = [arg for arg in expected if arg not in args]
    assert not missing, f"{expression}: {missing} not in {args}"
    ok, message = found.lab.test_only(*args)
    VERDICTS.append((f"{name}: {expression}", ok))
    assert ok, f"{name}: sbatch --test-only {' '.join(args)}: {message}"
    alternative = requirement.alternatives[0]
    picked = admitted(found.nodes, found.partitions, options)
    assert picked, f"no node admitted by {args}"
    by_name = {p.name: p for p in found.partitions}
    for partition, host in picked:
        assert runs(found.nodes[host], by_name[partition], alternative, found.config,
                    options_way(options)), (
            f"{args} lets Slurm use {host} in {partition}")


def test_discovery_keeps_slurms_order_and_reads_gres(second: tuple[Path, int]) -> None:
    """Slurm's partition order, GRES types as models, several types on one node."""
    found = cluster("grete", second)
    from reqsolve.connectors import LocalConnector

    runner = LocalConnector(env={"SLURM_CONF": found.lab.env["SLURM_CONF"]})
    launcher_file = load_config(found.launchers)
    result = query.discover_details(found.config, launcher_file, runner=runner, ttl=0)
    parts = result.launcher.partitions
    assert [p.name for p in parts] == [
        "standard96", "grete", "grete:shared", "grete:interactive"]
    whole = parts[1].nodes[0]
    assert whole.configuration is not None
    assert (whole.configuration.gpu.model, whole.configuration.gpu.gres_type,
            whole.configuration.gpu.count) == ("A100", "A100", 4)
    sliced = parts[3].nodes[0]
    assert [(g.gres_type, g.count) for g in sliced.gpus] == [("2g.10gb", 8), ("3g.20gb", 4)]
