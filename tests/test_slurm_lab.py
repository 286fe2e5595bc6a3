"""Against the real Slurm 22.05 lab: Slurm's own verdict on what reqsolve emits.

Every option set reqsolve emits for the lab's launcher file must be accepted by
``sbatch --test-only``; requests reqsolve calls impossible must be refused by Slurm on every
partition; discovery from the live controller must equal the expected YAML; submit must queue
real jobs.
"""

from __future__ import annotations

import io
import math
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from reqsolve.answers.options import SlurmOptions
from reqsolve.config.model import LauncherFile, SlurmLauncherConfig
from reqsolve.connectors import LocalConnector
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.launchers import SlurmLauncher
from reqsolve.slurm import convert, jobs, query
from tests.cli_run import cli
from tests.paths import LAB_FILE, ROOT
from tests.slurm_lab import FOUND_NOTHING, IMPOSSIBLE_VERDICTS, VERDICTS, SlurmLab

pytestmark = pytest.mark.slurm

EXPECTED_DISCOVERY = ROOT / "fixtures" / "slurm" / "default" / "expected_launchers.yaml"

HOUR, DAY = 3600, 86400
GPU_A6000 = "A6000&GPU3&GPUM48G"
# (RTX&GPU2&GPUM24G) is absorbed by (GPU2&GPUM24G): the same nodes, one term fewer (issue 20 §8)
ALL_GPU = "(A6000&GPU3&GPUM48G)|(GPU2&GPUM24G)"


def mib(size: float) -> str:
    return f"{math.ceil(size / 2**20)}M"


# expression -> the options docs/semantics.md §6 gives for fixtures/slurm/lab/launchers.yaml
FEASIBLE = [
    ("duration=2h & cuda(mem=24G)*2",
     SlurmOptions(partition="gpu,small", constraint=ALL_GPU, gpus_per_node=2, time="02:00:00")),
    ("duration=3 days & cuda(mem=40G)",
     SlurmOptions(partition="gpu", constraint=GPU_A6000, gpus_per_node=1, time="3-00:00:00")),
    ("duration=2 days & cuda(mem=40G)*3",
     SlurmOptions(partition="gpu", constraint=GPU_A6000, gpus_per_node=3, time="2-00:00:00")),
    ("duration=1h & cuda(mem=40G, model=a6000)",
     SlurmOptions(partition="gpu", constraint=GPU_A6000, gpus_per_node=1, time="01:00:00")),
    ("duration=10h & cuda(mem=70G)*4",
     SlurmOptions(partition="a100", constraint="Tesla&a100", gpus_per_node=4, time="10:00:00",
                  qos="qos_gpu-t3", account="iea@a100")),
    ("duration=1h & cuda(mem=70G)",
     SlurmOptions(partition="a100", constraint="Tesla&a100", gpus_per_node=1, time="01:00:00",
                  qos="qos_gpu-dev", account="iea@a100")),
    ("duration=90h & cuda(mem=70G)*8",
     SlurmOptions(partition="a100", constraint="Tesla&a100", gpus_per_node=8, time="3-18:00:00",
                  qos="qos_gpu-t4", account="iea@a100")),
    ("duration=6 days & cpu(cores=8, mem=100G)",
     SlurmOptions(partition="cpu", constraint="intel&skylake", cpus_per_task=8, mem=mib(100e9),
                  time="6-00:00:00")),
    ("duration=12h & cpu(cores=4, mem=4G)",
     SlurmOptions(partition="gpu,small,cpu", constraint=ALL_GPU + "|(intel&skylake)",
                  cpus_per_task=4, mem=mib(4e9), time="12:00:00")),
    ("duration=2 days & cpu(cores=30)",
     SlurmOptions(partition="gpu,cpu", constraint="(A6000&GPU3&GPUM48G)|(intel&skylake)",
                  cpus_per_task=30, time="2-00:00:00")),
    ("duration=30m & cuda(mem=20G)*2 & cpu(cores=16, mem=60G)",
     SlurmOptions(partition="gpu,small", constraint=ALL_GPU, gpus_per_node=2, cpus_per_task=16,
                  mem=mib(60e9), time="00:30:00")),
    ("duration=20h & cuda(mem=12G)*2 & cpu(cores=20)",
     SlurmOptions(partition="gpu", constraint="(A6000&GPU3&GPUM48G)|(RTX&GPU2&GPUM24G)",
                  gpus_per_node=2, cpus_per_task=20, time="20:00:00")),
]

# expression -> the naive options a user might try; Slurm must refuse them everywhere
IMPOSSIBLE = [
    ("cuda(mem=24G)*9", ["--gpus-per-node=9"]),
    ("duration=8 days & cpu(cores=1)", ["--time=8-00:00:00"]),
    ("cpu(mem=600G)", [f"--mem={mib(600e9)}"]),
    ("cpu(cores=65)", ["--cpus-per-task=65"]),
    ("duration=5 days & cuda(mem=20G)*3", ["--time=5-00:00:00", "--gpus-per-node=3"]),
]
ENABLED = {"gpu": [], "small": [], "cpu": [],
           "a100": ["--account=iea@a100", "--qos=qos_gpu-t4"]}


def emitted(expression: str, *, offline: bool = False, tags: tuple[str, ...] = ()) -> SlurmOptions:
    """The options reqsolve answers for the lab's launcher file."""
    launcher = find_launcher(expression, config=str(LAB_FILE), offline=offline, tags=tags)
    assert launcher.type == "slurm"
    assert isinstance(launcher, SlurmLauncher) and launcher.options is not None
    return launcher.options


def clauses(constraint: str | None) -> set[frozenset[str]]:
    """A constraint as a set of feature sets: equal whatever the order of clauses/features."""
    if constraint is None:
        return set()
    return {frozenset(c.strip("()").split("&")) for c in constraint.split("|")}


def same_request(a: SlurmOptions, b: SlurmOptions) -> bool:
    return a.config(constraint=None) == b.config(constraint=None) and clauses(
        a.constraint) == clauses(b.constraint)


@pytest.mark.parametrize(("expression", "hand"), FEASIBLE, ids=[e for e, _ in FEASIBLE])
def test_emitted_options_are_accepted(slurm_lab: SlurmLab, expression: str,
                                      hand: SlurmOptions) -> None:
    ok, message = slurm_lab.test_only(*hand.args())
    VERDICTS.append((f"hand: {expression}", ok))
    assert ok, f"{hand.args()}: {message}"
    options = emitted(expression, offline=True)
    ok, message = slurm_lab.test_only(*options.args())
    VERDICTS.append((f"emitted: {expression}", ok))
    assert ok, f"{options.args()}: {message}"
    assert same_request(options, hand), f"{options.args()} != {hand.args()}"


@pytest.mark.parametrize(("expression", "hand"), FEASIBLE, ids=[e for e, _ in FEASIBLE])
def test_options_from_live_discovery_are_accepted(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch, expression: str, hand: SlurmOptions
) -> None:
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    options = emitted(expression, tags=("discovered",))
    ok, message = slurm_lab.test_only(*options.args())
    VERDICTS.append((f"discovered: {expression}", ok))
    assert ok, f"{options.args()}: {message}"


@pytest.mark.parametrize(("expression", "naive"), IMPOSSIBLE, ids=[e for e, _ in IMPOSSIBLE])
def test_impossible_requests_are_refused_by_slurm(slurm_lab: SlurmLab, expression: str,
                                                  naive: list[str]) -> None:
    for partition, extra in ENABLED.items():
        ok, message = slurm_lab.test_only(f"--partition={partition}", *extra, *naive)
        IMPOSSIBLE_VERDICTS.append((f"{partition} {naive}", not ok))
        assert not ok, f"Slurm accepted {partition} {naive}: {message}"
        assert "allocation failure" in message or "error" in message
    with pytest.raises(LauncherNotFoundError):
        find_launcher(expression, config=str(LAB_FILE), offline=True)


def test_discovery_from_live_controller(slurm_lab: SlurmLab) -> None:
    query.clear_cache()
    launcher = SlurmLauncherConfig(id="lab", query_slurm=True)
    runner = LocalConnector(env={"SLURM_CONF": slurm_lab.env["SLURM_CONF"]})
    result = query.discover_details(launcher, LauncherFile(path=str(LAB_FILE)),
                                        runner=runner, ttl=0)
    produced = convert.launcher_yaml([replace(result.launcher, query_slurm=False)],
                                     result.left_out)
    assert produced == EXPECTED_DISCOVERY.read_text(encoding="utf-8")
    assert [c[0] for c in result.commands] == ["/usr/bin/sinfo", "/usr/bin/scontrol",
                                               "/usr/bin/sacctmgr", "/usr/bin/sacctmgr"]


def test_submit_queues_a_held_job(slurm_lab: SlurmLab, tmp_path: Path) -> None:
    connector = LocalConnector(env={"SLURM_CONF": slurm_lab.env["SLURM_CONF"]}, cwd=tmp_path)
    options = SlurmOptions(partition="cpu", cpus_per_task=1, time="00:05:00")
    script = jobs.batch_script(options, ["sh", "-c", "echo never"], launcherenv={"A": "b c"},
                               job_name="reqsolve-held")
    job_id = jobs.submit(connector, jobs.sbatch_argv("/usr/bin", hold=True), script)
    try:
        state = jobs.query_state(connector, "/usr/bin", job_id)
        assert state.state == "PENDING" and not state.final
        shown = slurm_lab.run("scontrol", "--oneliner", "show", "job", job_id).stdout
        assert "JobName=reqsolve-held" in shown and "Partition=cpu" in shown
        assert "TimeLimit=00:05:00" in shown
    finally:
        slurm_lab.run("scancel", job_id)


WAITED = [
    (["true"], 0, "COMPLETED"),
    (["sh", "-c", "exit 3"], 3, "FAILED"),
    (["sh", "-c", '[ "$REQSOLVE_TEST" = "a b" ]'], 0, "COMPLETED"),  # launcherenv exported
]


@pytest.mark.parametrize(("command", "code", "state"), WAITED, ids=["true", "exit3", "env"])
def test_submit_and_wait_returns_exit_code(slurm_lab: SlurmLab, tmp_path: Path,
                                           command: list[str], code: int, state: str) -> None:
    from reqsolve.cli.submit_cmd import run_slurm

    connector = LocalConnector(env={"SLURM_CONF": slurm_lab.env["SLURM_CONF"]}, cwd=tmp_path)
    launcher = SlurmLauncher(options=SlurmOptions(partition="cpu", time="00:01:00"),
                             interval=0.5, launcherenv={"REQSOLVE_TEST": "a b"})
    out = io.StringIO()
    assert run_slurm(launcher, command, connector=connector, stdout=out, wait=True) == code
    assert f"ended: {state}, exit code {code}" in out.getvalue()


def test_reqsolve_submit_command_line(slurm_lab: SlurmLab, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    monkeypatch.chdir(tmp_path)  # where sbatch writes slurm-<id>.out
    code, out, err = cli("submit", "--config", str(LAB_FILE), "--offline",
                         "duration=1h & cpu(cores=2)", "--wait", "--interval", "0.5",
                         "--job-name", "reqsolve-cli", "--",
                         "sh", "-c", "echo $SLURM_CPUS_PER_TASK; exit 4")
    assert code == 4, out + err
    lines = out.splitlines()
    job_id = lines[0].removeprefix("submitted job ")
    assert job_id.isdigit()
    assert lines[-1] == f"job {job_id} ended: FAILED, exit code 4"
    assert (tmp_path / f"slurm-{job_id}.out").read_text() == "2\n"


# The lab's nodes as Slurm knows them, plus GPU memory from the GPUM features: (hosts, cores,
# memory bytes, GPU count, GPU memory bytes, partitions with their MaxTime in seconds).
LAB_NODES = [
    (("yop", "yep"), 32, 128000 * 2**20, 3, 48e9, {"gpu": 4 * DAY}),
    (("yip", "yup", "yap"), 24, 96000 * 2**20, 2, 24e9, {"gpu": 4 * DAY}),
    (("alpha", "beta", "gamma", "delta"), 16, 64000 * 2**20, 2, 24e9, {"small": DAY}),
    (("a100-01", "a100-02"), 64, 500000 * 2**20, 8, 80e9, {"a100": 100 * HOUR}),
    (("cpu-01", "cpu-02", "cpu-03", "cpu-04"), 40, 192000 * 2**20, 0, 0, {"cpu": 7 * DAY}),
]


def grid() -> list[tuple[str, dict[str, float]]]:
    """A fixed, varied sample of requirements (seeded: the same cases every run)."""
    rng = random.Random(20261125)
    cases = []
    for _ in range(80):
        hours = rng.choice([0.5, 2, 10, 30, 72, 99, 150])
        cores = rng.choice([None, 1, 4, 16, 24, 33, 48, 64])
        memory = rng.choice([None, 2, 30, 90, 120, 200, 400])  # GB
        gpus = rng.choice([0, 0, 1, 2, 3, 4, 8])
        gpu_memory = rng.choice([8, 16, 24, 40, 70])  # GB
        terms = [f"duration={hours}h"]
        if cores is not None or memory is not None:
            inside = [x for x in (f"cores={cores}" if cores else None,
                                  f"mem={memory}G" if memory else None) if x]
            terms.append(f"cpu({', '.join(inside)})")
        if gpus:
            terms.append(f"cuda(mem={gpu_memory}G)*{gpus}")
        need = {"seconds": hours * HOUR, "cores": cores or 1, "memory": (memory or 0) * 1e9,
                "gpus": gpus, "gpu_memory": gpu_memory * 1e9 if gpus else 0}
        cases.append((" & ".join(terms), need))
    return cases


def fits(host: str, partition: str, need: dict[str, float]) -> bool:
    for hosts, cores, memory, gpus, gpu_memory, partitions in LAB_NODES:
        if host in hosts and partition in partitions:
            return (need["cores"] <= cores and need["memory"] <= memory
                    and need["gpus"] <= gpus and need["gpu_memory"] <= gpu_memory
                    and need["seconds"] <= partitions[partition])
    return False


START_RE = re.compile(r"on nodes (\S+) in partition (\S+)")


@pytest.mark.parametrize("where", ["offline", "discovered"])
def test_grid_every_answer_is_accepted_and_lands_on_a_fitting_node(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Slurm accepts every option set, and the node it would start the job on can run it."""
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    offline = where == "offline"
    tags = () if offline else ("discovered",)
    answered = refused = 0
    for expression, need in grid():
        try:
            options = emitted(expression, offline=offline, tags=tags)
        except LauncherNotFoundError:
            refused += 1
            FOUND_NOTHING.append(expression)
            # reqsolve says impossible: no node of the lab can run it
            assert not any(fits(h, p, need) for hosts, *_, parts in LAB_NODES
                           for h in hosts for p in parts), expression
            continue
        answered += 1
        ok, message = slurm_lab.test_only(*options.args())
        VERDICTS.append((f"grid {where}: {expression}", ok))
        assert ok, f"{expression}: {options.args()}: {message}"
        found = START_RE.search(message)
        assert found is not None, message
        nodes, partition = found.groups()
        for node in nodes.split(","):
            assert fits(node, partition, need), f"{expression}: Slurm picks {node} ({message})"
    assert answered >= 30 and refused >= 10  # the sample exercises both outcomes
