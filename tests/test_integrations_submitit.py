"""submitit executors configured from reqsolve's answer (reqsolve.integrations.submitit), the
same parameters ``reqsolve find --format submitit`` prints, and a job run on the Slurm lab."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("submitit")

import submitit

from reqsolve.errors import InvalidValue, LauncherNotFoundError
from reqsolve.hostinfo import parse_nvidia_smi_devices
from reqsolve.integrations.submitit import executor, find, parameters
from tests.cli_run import cli
from tests.commands import with_srun
from tests.fake_nvidia_smi import H200, MIXED_X8
from tests.paths import LAB_FILE, ROOT
from tests.slurm_lab import SlurmLab

XPM = ROOT / "fixtures" / "experimaestro" / "launchers.yaml"
# the lab's nodes (tests/slurm/lab/cluster/nodes.conf) by partition
LAB_NODES = {
    "gpu": {"yop", "yep", "yip", "yup", "yap"},
    "small": {"alpha", "beta", "gamma", "delta"},
    "cpu": {"cpu-01", "cpu-02", "cpu-03", "cpu-04"},
}

ANSWERS = [
    (LAB_FILE, "duration=10m & cpu(cores=2, mem=1G)", "slurm"),
    (LAB_FILE, "duration=2 days & cuda(mem=70G)*2 & cpu(cores=8, mem=64G)", "slurm"),
    (LAB_FILE, "duration=30s & cuda(mem=24G)", "slurm"),
    (XPM, "duration=1 days & cuda(mem=24G)*2 & cpu(cores=4, mem=32G)", "slurm"),
    (XPM, "duration=90m & cpu(cores=2)", "local"),
    (XPM, "cpu(cores=2)", "local"),
]


@pytest.mark.parametrize(("config", "text", "kind"), ANSWERS)
def test_cli_prints_the_parameters_executor_uses(config: Path, text: str, kind: str) -> None:
    code, out, err = cli("find", "--config", str(config), "--offline", "--format", "submitit",
                         text)
    match = find(text, config=str(config), offline=True)
    assert (match.options is None) == (kind == "local")
    if kind == "local":  # exit 0 means "here are Slurm options": a local answer has its own code
        assert (code, out) == (3, "")
        assert "local launcher" in err
        return
    assert code == 0
    assert json.loads(out) == parameters(match)


A100 = "duration=2 days & cuda(mem=70G)*2 & cpu(cores=8, mem=64G)"


def test_slurm_parameters_are_submitits_names() -> None:
    match = find(A100, config=str(LAB_FILE), offline=True)
    assert parameters(match) == {
        "slurm_partition": "a100",
        "slurm_constraint": "Tesla&a100",
        "slurm_nodes": 1,
        "slurm_gpus_per_node": 2,
        "slurm_cpus_per_task": 8,
        "slurm_mem": "61036M",
        "slurm_time": 2880,
        "slurm_qos": "qos_gpu-t4",
        "slurm_account": "iea@a100",
    }


@pytest.mark.parametrize(("text", "expected"), [
    ("duration=90m & cpu(cores=2)", {"timeout_min": 90}),
    ("duration=61s", {"timeout_min": 2}),  # rounded up: never less than asked
    ("cpu(cores=2)", {}),
])
def test_local_parameters(text: str, expected: dict[str, int]) -> None:
    assert parameters(find(text, config=str(XPM), offline=True)) == expected


@pytest.fixture
def srun_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """submitit's Slurm executor is made where ``srun`` is on PATH: a stand-in, unless the Slurm
    lab (or the machine) has the real one, so the order of the tests does not matter."""
    monkeypatch.setenv("PATH", with_srun(os.environ.get("PATH", ""), tmp_path / "standins"))


@pytest.mark.usefixtures("srun_on_path")
def test_slurm_executor_has_every_option(tmp_path: Path) -> None:
    made = executor(A100, tmp_path, config=str(LAB_FILE), offline=True)
    assert isinstance(made, submitit.AutoExecutor)
    assert made.cluster == "slurm"
    inner = made._executor
    assert isinstance(inner, submitit.SlurmExecutor)
    wanted = {"partition": "a100", "constraint": "Tesla&a100", "nodes": 1, "gpus_per_node": 2,
              "cpus_per_task": 8, "mem": "61036M", "time": 2880, "qos": "qos_gpu-t4",
              "account": "iea@a100"}
    assert {key: inner.parameters[key] for key in wanted} == wanted
    script = inner._make_submission_file_text("true", "uid")
    for line in ("--partition=a100", "--constraint='Tesla&a100'", "--gpus-per-node=2",
                 "--cpus-per-task=8", "--mem=61036M", "--time=2880", "--qos=qos_gpu-t4",
                 "--account=iea@a100"):
        assert f"#SBATCH {line}\n" in script


NO_FEATURES = """\
slurm:
- id: lab
  use_features: false
  features_regex: ['GPU(?P<cuda_count>\\d+)', 'GPUM(?P<cuda_memory>\\d+G)']
  partitions:
    gpu:
      nodes:
      - hosts: [good1, good2]
        features: [GPU4, GPUM24G]
      - hosts: [small1]
        features: [GPU2, GPUM8G]  # 2 GPUs: Slurm could pick it
"""


@pytest.mark.usefixtures("srun_on_path")
def test_exclude_and_partition_list_reach_submitit(tmp_path: Path) -> None:
    config = tmp_path / "launchers.yaml"
    config.write_text(NO_FEATURES)
    made = executor("cuda(mem=16G)*2 & duration=10h", tmp_path / "logs", config=str(config),
                    offline=True)
    inner = made._executor
    assert (inner.parameters["partition"], inner.parameters["exclude"]) == ("gpu", "small1")
    assert "constraint" not in inner.parameters
    assert "#SBATCH --exclude=small1\n" in inner._make_submission_file_text("true", "uid")


TWO_PARTITIONS = """\
slurm:
- id: lab
  partitions:
    gpu:
      nodes:
      - hosts: [g1, g2]
        configuration: {gpu: {count: 4, memory: 80GiB, model: H100}}
    h100:
      nodes:
      - hosts: [h1]
        configuration: {gpu: {count: 4, memory: 80GiB, model: H100}}
    cpu:
      nodes:
      - hosts: [c1]
        configuration: {cpu: {cores: 64, memory: 256G}}
"""


@pytest.mark.usefixtures("srun_on_path")
@pytest.mark.parametrize(("text", "partition"), [
    ("cuda(mem=40G)*2 & duration=1h", "gpu,h100"),  # several partitions: one string
    ("cuda(model=H100)", "gpu,h100"),
    ("cpu(cores=32) & duration=1h", "gpu,h100,cpu"),  # in file order
])
def test_several_partitions_are_one_comma_separated_string(
    tmp_path: Path, text: str, partition: str
) -> None:
    """``slurm_partition`` is ``'gpu,h100'`` (sbatch's list), never a Python list: what
    parameters(), the executor and ``--format submitit`` give, and what docs/submitit.md says
    (it said "a list", issue 20 item 12)."""
    config = tmp_path / "launchers.yaml"
    config.write_text(TWO_PARTITIONS)
    assert parameters(find(text, config=str(config), offline=True))["slurm_partition"] == partition
    made = executor(text, tmp_path / "logs", config=str(config), offline=True)
    assert made._executor.parameters["partition"] == partition
    code, out, _ = cli("find", "--config", str(config), "--offline", "--format", "submitit", text)
    assert (code, json.loads(out)["slurm_partition"]) == (0, partition)
    page = " ".join((ROOT / "docs" / "submitit.md").read_text(encoding="utf-8").split())
    assert "`slurm_partition` (one string;" in page and "`'gpu,h100'`, never a list" in page


def test_local_answer_runs_with_the_local_executor(tmp_path: Path) -> None:
    made = executor("duration=5m & cpu(cores=2)", tmp_path, config=str(XPM), offline=True)
    assert made.cluster == "local"
    assert made._executor.parameters["timeout_min"] == 5
    job = made.submit(sum, [20, 22])
    assert job.result() == 42


def test_nothing_matches_raises_the_reasons_of_find() -> None:
    text = "cuda(mem=40G)*4"
    with pytest.raises(LauncherNotFoundError) as raised:
        executor(text, "/nonexistent", config=str(XPM), offline=True)
    code, out, _ = cli("find", "--config", str(XPM), "--offline", "--format", "json", text)
    assert code == 1
    found = [reason.as_json() for reason in raised.value.reasons]
    assert found == [{k: v for k, v in r.items() if k != "detail"}
                     for r in json.loads(out)["reasons"]]
    assert not Path("/nonexistent").exists()


def test_slurm_through_ssh_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "launchers.yaml"
    (tmp_path / "tokens.yaml").write_text((XPM.parent / "tokens.yaml").read_text())
    config.write_text(XPM.read_text().replace("    connector: local\n    tags: [slurm]",
                                              "    connector: front\n    tags: [slurm]")
                      + "\nconnectors:\n  ssh:\n    front: {hostname: front.example.org}\n")
    with pytest.raises(InvalidValue, match="through connector 'front'"):
        executor("cuda(mem=40G)*3", tmp_path / "logs", config=str(config), offline=True)


@pytest.mark.slurm
def test_submitit_job_runs_on_the_lab(slurm_lab: SlurmLab, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A function submitted through executor(...) runs as a real Slurm job on the lab's nodes
    (on this machine: the job's Python is this venv's, and tmp_path is readable there)."""
    for name in [n for n in os.environ if n.startswith(("SLURM_", "SBATCH_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    text = "duration=10m & cpu(cores=2, mem=1G)"
    match = find(text, config=str(LAB_FILE), offline=True)
    assert match.options is not None
    made = executor(text, tmp_path / "%j", config=str(LAB_FILE), offline=True)

    def job_facts(numbers: list[int]) -> dict[str, object]:
        """Runs inside the Slurm job (defined here: cloudpickle sends it by value, the job's
        Python cannot import this test module)."""
        return {"sum": sum(numbers), "cpus": os.environ.get("SLURM_CPUS_PER_TASK"),
                "partition": os.environ.get("SLURM_JOB_PARTITION"),
                "node": os.environ.get("SLURMD_NODENAME")}

    job = made.submit(job_facts, [20, 22])
    facts = job.result()
    assert facts["sum"] == 42
    assert facts["cpus"] == "2"
    assert facts["partition"] == match.options.partition  # what the job asked: the list
    shown = slurm_lab.run("scontrol", "--oneliner", "show", "job", job.job_id).stdout
    assert "TimeLimit=00:10:00" in shown and "JobState=COMPLETED" in shown, shown
    ran_in = re.search(r" Partition=(\S+)", shown)
    assert ran_in is not None and ran_in.group(1) in match.options.partition.split(",")
    assert facts["node"] in LAB_NODES[ran_in.group(1)]


# --- a local answer's job gets exactly its GPUs, held while it runs (issue 20, item 1)

MIXED_FILE = (
    "local:\n  - id: box\n    gpus:\n"
    "      - {model: V100, count: 2}\n      - {model: RTX4090, count: 2}\n"
    "      - {model: V100, count: 2}\n      - {model: RTX4090, count: 2}\n"
)
WAIT_FOR_GATE = 'echo "$CUDA_VISIBLE_DEVICES"; while [ ! -e "$0" ]; do sleep 0.05; done'


@pytest.fixture
def faked_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """This process sees the machine an nvidia-smi output describes (fixtures/nvidia-smi)."""
    from reqsolve.hostinfo import machine_probe
    from tests.fake_nvidia_smi import install

    def fake(output: Path) -> None:
        monkeypatch.setenv("REQSOLVE_NVIDIA_SMI", str(install(tmp_path, output) / "nvidia-smi"))
        monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "locks"))
        machine_probe.cache_clear()

    yield fake
    machine_probe.cache_clear()


@pytest.mark.parametrize(
    ("output", "gpus", "expression", "model"),
    [
        (MIXED_X8, MIXED_FILE, "cuda(model=4090) & duration=2m", "NVIDIA GeForce RTX 4090"),
        (MIXED_X8, MIXED_FILE, "cuda(mem=30G) & duration=2m", "Tesla V100-SXM2-32GB"),
        (H200, "local:\n  - id: box\n    gpus:\n      - {model: H200, count: 1}\n",
         "cuda() & duration=2m", "NVIDIA H200"),
    ],
    ids=["4090", "v100", "h200"],
)
def test_local_job_sees_and_holds_exactly_its_gpus(
    tmp_path: Path, faked_machine: Any, output: Path, gpus: str, expression: str, model: str
) -> None:
    """The local executor used to give every job CUDA_VISIBLE_DEVICES=0 (a V100 for a 4090
    request) and hold nothing: now two jobs at once get two GPUs of the model asked, by UUID,
    and a job of a one-GPU machine holds it until it ends."""
    import subprocess

    from reqsolve.finder import find_match
    from reqsolve.localjob import ResourcesBusy, gpu_plan, hold_job

    faked_machine(output)
    config = tmp_path / "launchers.yaml"
    config.write_text(gpus)
    # not offline: nvidia-smi completes the file (the V100s' memory)
    made = executor(expression, tmp_path / "logs", config=str(config))
    assert made.cluster == "local"
    found = {g.uuid: g.name for g in parse_nvidia_smi_devices(output.read_text())}
    jobs = [
        made.submit(subprocess.check_output, ["sh", "-c", WAIT_FOR_GATE, str(tmp_path / "gate")])
        for _ in range(1 if len(found) == 1 else 2)
    ]
    match, launcher = find_match(expression, config=str(config))
    plan, _ = gpu_plan(match, launcher)
    if len(found) == 1:  # the one GPU is held by the running job
        time.sleep(0.5)
        with pytest.raises(ResourcesBusy), hold_job({}, {}, plan, wait=False):
            pass
    (tmp_path / "gate").touch()
    seen = [job.result().decode().strip() for job in jobs]
    assert all(found.get(uuid) == model for uuid in seen), (seen, found)
    assert len(set(seen)) == len(seen)
    with hold_job({}, {}, plan, wait=False):  # released when the jobs ended
        pass


def test_a_failed_nvidia_smi_refuses_before_submitting(
    tmp_path: Path, faked_machine: Any
) -> None:
    from reqsolve.localjob import GpuDetectionFailed
    from tests.fake_nvidia_smi import BROKEN, install_broken

    faked_machine(H200)
    install_broken(tmp_path, BROKEN["fails"])
    config = tmp_path / "launchers.yaml"
    config.write_text("local:\n  - id: box\n    gpus:\n      - {model: H200, count: 1}\n")
    with pytest.raises(GpuDetectionFailed, match="cannot tell which GPUs"):
        executor("cuda()", tmp_path / "logs", config=str(config))


@pytest.mark.slurm
def test_submitit_multinode_job_runs_on_the_lab(slurm_lab: SlurmLab, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """nodes=2 & tasks=2 reaches submitit as nodes/ntasks_per_node (issue 21 §1): the job spans
    two of the lab's nodes and runs the function in its four tasks, each seeing SLURM_NNODES=2."""
    for name in [n for n in os.environ if n.startswith(("SLURM_", "SBATCH_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    text = "duration=10m & nodes=2 & tasks=2 & cpu(cores=1, mem=1G)"
    match = find(text, config=str(LAB_FILE), offline=True)
    assert match.options is not None
    assert (match.options.nodes, match.options.ntasks_per_node) == (2, 2)
    made = executor(text, tmp_path / "%j", config=str(LAB_FILE), offline=True)
    inner = made._executor
    assert isinstance(inner, submitit.SlurmExecutor)
    assert (inner.parameters["nodes"], inner.parameters["ntasks_per_node"]) == (2, 2)

    def task_facts() -> dict[str, object]:
        """Runs in each task of the job (by value: the job cannot import this module)."""
        return {name: os.environ.get(name) for name in
                ("SLURM_NNODES", "SLURM_NTASKS", "SLURM_PROCID", "SLURMD_NODENAME",
                 "SLURM_JOB_PARTITION")}

    job = made.submit(task_facts)
    facts = job.results()
    assert len(facts) == 4, facts
    assert {f["SLURM_NNODES"] for f in facts} == {"2"}
    assert {f["SLURM_NTASKS"] for f in facts} == {"4"}
    assert sorted(str(f["SLURM_PROCID"]) for f in facts) == ["0", "1", "2", "3"]
    assert {f["SLURM_JOB_PARTITION"] for f in facts} == {match.options.partition}
    # the tasks' results can be read before the controller has recorded the job's end
    deadline = time.monotonic() + 60
    while True:
        shown = slurm_lab.run("scontrol", "--oneliner", "show", "job", job.job_id).stdout
        if "JobState=RUNNING" not in shown and "JobState=COMPLETING" not in shown:
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)
    assert "NumNodes=2" in shown and "JobState=COMPLETED" in shown, shown
    ran_in = re.search(r" Partition=(\S+)", shown)
    assert ran_in is not None and ran_in.group(1) in match.options.partition.split(",")
    nodes = {f["SLURMD_NODENAME"] for f in facts}
    assert len(nodes) == 2 and nodes <= LAB_NODES[ran_in.group(1)], facts
