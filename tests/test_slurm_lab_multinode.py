"""Against the real Slurm lab: a property over random multi-node requests (issue 21 §1).

For random ``nodes=N`` (1..5) requests with tasks, cores, memory, GPUs and durations, against
the lab's launcher file (offline) and live discovery: every answer is accepted by ``sbatch
--test-only`` and is sound against the lab's node table (every node the options admit runs the
job, each partition of the answer holds N of them within its MaxNodes, and the nodes Slurm
would start the job on are such nodes); every "no launcher" is confirmed by brute force over the
node table, partition by partition — too few fitting nodes ("not enough nodes") or N over the
partition's MaxNodes — and explain gives each partition that same reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqsolve.answers.options import SlurmOptions
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.launchers import SlurmLauncher
from reqsolve.slurm import query
from reqsolve.slurm.values import expand_hostlist
from tests.cli_run import cli
from tests.lab_cluster import NODES, START_RE
from tests.paths import LAB_FILE
from tests.slurm_lab import FOUND_NOTHING, VERDICTS, SlurmLab
from tests.strategies import requirement_text

pytestmark = pytest.mark.slurm

HOUR, DAY = 3600, 86400


@dataclass(frozen=True)
class Partition:
    hosts: tuple[str, ...]
    max_time: int  # seconds (for a100: also the longest QoS it allows, qos_gpu-t4's 100 h)
    max_nodes: int | None


# the partitions a job can use (heavy, maint and legacy are not UP)
PARTITIONS = {
    "gpu": Partition(("yop", "yep", "yip", "yup", "yap"), 4 * DAY, None),
    "small": Partition(("alpha", "beta", "gamma", "delta"), DAY, 2),
    "a100": Partition(("a100-01", "a100-02"), 100 * HOUR, None),
    "cpu": Partition(("cpu-01", "cpu-02", "cpu-03", "cpu-04"), 7 * DAY, None),
}


@dataclass(frozen=True)
class Need:
    """What the request asks of each node (per node, issue 21 §1), and of the job."""

    nodes: int
    tasks: int | None
    cores: int | None  # per task
    memory: float  # bytes per node
    gpus: int
    gpu_memory: float
    seconds: float

    @property
    def node_cores(self) -> int:
        return (self.tasks or 1) * (self.cores or 1)

    def expression(self) -> str:
        return requirement_text(
            hours=self.seconds / HOUR, nodes=self.nodes, tasks=self.tasks, cores=self.cores,
            memory=f"{self.memory / 1e9:g}G" if self.memory else None,
            gpus=[f"cuda(mem={self.gpu_memory / 1e9:g}G)*{self.gpus}"] if self.gpus else [])


def runs(host: str, need: Need) -> bool:
    """Whether this node can run the per-node part of the request."""
    node = NODES[host]
    return (need.node_cores <= node.cores and need.memory <= node.memory
            and need.gpus <= node.gpus and (not need.gpus or need.gpu_memory <= node.gpu_memory))


def verdict(name: str, need: Need) -> str:
    """Brute force: "" when the partition can hold the job, else why not."""
    partition = PARTITIONS[name]
    if partition.max_nodes is not None and need.nodes > partition.max_nodes:
        return "over MaxNodes"
    if need.seconds > partition.max_time:
        return "too long"
    fitting = sum(runs(host, need) for host in partition.hosts)
    if fitting == 0:
        return "no node"
    return "" if fitting >= need.nodes else f"not enough nodes: {fitting}"


def admitted(options: SlurmOptions, partition: str, need: Need) -> list[str]:
    """The nodes of the partition Slurm may pick for these options: the constraint admits them,
    they are not excluded, and they have the GPUs asked (Slurm never picks a node with fewer)."""
    clauses = [frozenset(c.strip("()").split("&")) for c in (options.constraint or "").split("|")]
    excluded = set(expand_hostlist(options.exclude)) if options.exclude else set()
    return [
        host for host in PARTITIONS[partition].hosts
        if (options.constraint is None or any(c <= NODES[host].features for c in clauses))
        and host not in excluded and NODES[host].gpus >= need.gpus
    ]


COUNTS: dict[str, int] = {}  # outcome -> examples (printed by the test when it ends)

needs = st.builds(
    Need,
    nodes=st.integers(1, 5),
    tasks=st.sampled_from([None, 1, 2, 4]),
    cores=st.sampled_from([None, 1, 4, 8, 16, 30]),
    memory=st.sampled_from([0, 2e9, 30e9, 60e9, 101e9]),
    gpus=st.sampled_from([0, 0, 1, 2, 3, 8]),
    gpu_memory=st.sampled_from([8e9, 20e9, 40e9, 70e9]),
    seconds=st.sampled_from([0.5 * HOUR, 2 * HOUR, 30 * HOUR, 72 * HOUR, 150 * HOUR]),
)


def check(lab: SlurmLab, need: Need, where: str) -> None:
    expression = need.expression()
    tags = ("discovered",) if where == "discovered" else ()
    try:
        launcher = find_launcher(expression, config=str(LAB_FILE), offline=not tags, tags=tags)
    except LauncherNotFoundError:
        confirm_impossible(need, where, tags)
        return
    assert isinstance(launcher, SlurmLauncher) and launcher.options is not None
    options = launcher.options
    assert (options.nodes, options.ntasks_per_node) == (need.nodes, need.tasks), expression
    for partition in (options.partition or "").split(","):
        assert verdict(partition, need) == "", f"{expression}: {partition} in {options.args()}"
        hosts = admitted(options, partition, need)
        assert all(runs(h, need) for h in hosts), f"{expression}: {options.args()} admits {hosts}"
        assert len(hosts) >= need.nodes, f"{expression}: {partition} admits only {hosts}"
    ok, message = lab.test_only(*options.args())
    VERDICTS.append((f"multinode {where}: {expression}", ok))
    assert ok, f"{expression}: {options.args()}: {message}"
    found = START_RE.search(message)
    assert found is not None, message
    picked = expand_hostlist(found.group(1))
    assert len(picked) == need.nodes, f"{expression}: Slurm picks {picked} ({message})"
    assert all(runs(h, need) for h in picked), f"{expression}: Slurm picks {picked} ({message})"
    COUNTS["answered"] = COUNTS.get("answered", 0) + 1


def confirm_impossible(need: Need, where: str, tags: tuple[str, ...]) -> None:
    """reqsolve says no launcher: no partition can hold the job, and explain says why for each
    partition as the brute force does."""
    expression = need.expression()
    FOUND_NOTHING.append(f"multinode {where}: {expression}")
    verdicts = {name: verdict(name, need) for name in PARTITIONS}
    assert all(verdicts.values()), f"{expression}: brute force finds {verdicts}"
    argv = ["explain", "--config", str(LAB_FILE), "--format", "json"]
    argv += ["--tags", ",".join(tags)] if tags else ["--offline"]
    _, out, _ = cli(*argv, expression)
    rows = [r for r in json.loads(out)["rows"] if r["partition"] in PARTITIONS]
    for name, why in verdicts.items():
        reasons = {r["reason"] for r in rows if r["partition"] == name}
        assert reasons, f"{expression}: explain has no row for {name}: {out}"
        if why == "over MaxNodes":
            assert reasons == {f"nodes {need.nodes} > max 2"}, (name, reasons)
        elif why.startswith("not enough nodes"):
            fitting = why.removeprefix("not enough nodes: ")
            wanted = f"not enough nodes: {fitting} admitted, {need.nodes} asked"
            # a partition never weighed (a preferred choice was dropped first) says so instead
            assert any(wanted in r or r.startswith("not kept") for r in reasons), (
                expression, name, reasons)
        key = f"no launcher, {name}: {why.split(':')[0]}"
        COUNTS[key] = COUNTS.get(key, 0) + 1


@pytest.mark.parametrize("where", ["offline", "discovered"])
def test_random_multinode_requests_against_the_lab(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    query.clear_cache()
    COUNTS.clear()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(needs)
    # fixed rows: not enough nodes (a100 has two), over small's MaxNodes, both in one request
    @example(Need(3, None, None, 0, 1, 70e9, 2 * HOUR))
    @example(Need(3, None, 16, 0, 2, 20e9, 2 * HOUR))
    @example(Need(5, None, 30, 0, 0, 0, 2 * HOUR))
    @example(Need(3, 4, 8, 101e9, 2, 20e9, 2 * HOUR))
    @example(Need(2, 2, 8, 30e9, 2, 20e9, 30 * HOUR))
    def prop(need: Need) -> None:
        check(slurm_lab, need, where)

    prop()
    print(f"multinode property ({where}): {dict(sorted(COUNTS.items()))}")
    assert COUNTS.get("answered", 0) >= 10
    assert COUNTS.get("no launcher, a100: not enough nodes", 0) >= 1
    assert COUNTS.get("no launcher, small: over MaxNodes", 0) >= 1
