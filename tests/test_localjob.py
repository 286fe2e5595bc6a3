"""Local jobs get exactly their GPUs (docs/local-gpus.md), on machines faked by nvidia-smi.

Every test runs the real ``reqsolve`` command in a subprocess whose ``PATH`` starts with a fake
``nvidia-smi`` printing a captured output (fixtures/nvidia-smi), with no launcher file anywhere
(so the embedded launcher describes the faked machine) or with the file the test names.
Concurrent jobs are real processes contending for real ``flock`` locks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reqsolve.hostinfo import parse_nvidia_smi_devices
from tests.cli_run import split_configuration
from tests.fake_nvidia_smi import (
    A100_X4,
    BROKEN,
    DUPLICATED_UUID,
    H200,
    INF_MEMORY,
    MIXED_X8,
    install_broken,
    machine_env,
)

BUSY_EXIT = 75
DEADLINE = 60.0  # seconds a test waits for a process to reach a state before failing

# A job: logs "start NAME CUDA_VISIBLE_DEVICES PID", waits until GATE exists ("-": no wait),
# logs "end NAME". Whether two jobs overlapped is read from the log's order, not from clocks.
JOB = """
import os, sys, time
log, name, gate = sys.argv[1:4]
with open(log, "a") as f:
    f.write(f"start {name} {os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')} {os.getpid()}\\n")
stop = os.path.join(os.path.dirname(log), "gate-all")  # the test ended: stop waiting
while gate != "-" and not os.path.exists(gate) and not os.path.exists(stop):
    time.sleep(0.02)
with open(log, "a") as f:
    f.write(f"end {name}\\n")
"""


def uuids(output: Path) -> list[str]:
    return [g.uuid or "" for g in parse_nvidia_smi_devices(output.read_text(encoding="utf-8"))]


def names(output: Path) -> dict[str, str]:
    gpus = parse_nvidia_smi_devices(output.read_text(encoding="utf-8"))
    return {g.uuid or "": g.name or "" for g in gpus}


class Machine:
    """A faked machine: runs ``reqsolve`` there, and jobs that log to ``log``."""

    def __init__(self, folder: Path, output: Path | None) -> None:
        self.folder = folder
        self.env = machine_env(folder, output)
        self.log = folder / "jobs.log"
        self.processes: list[subprocess.Popen[str]] = []

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "reqsolve", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=DEADLINE,
            check=False, cwd=self.folder,
        )

    def job(self, name: str, gate: str = "-") -> list[str]:
        return [sys.executable, "-c", JOB, str(self.log), name, gate]

    def start(self, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            self.argv(*args), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=self.folder,
        )
        self.processes.append(process)
        return process

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def wait_for_line(self, prefix: str) -> str:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            for line in self.lines():
                if line.startswith(prefix):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no log line {prefix!r}: {self.lines()}")

    def release(self, gate: str) -> None:
        (self.folder / gate).touch()


def stderr_line(process: subprocess.Popen[str]) -> str:
    """The first line ``process`` writes on stderr (it is still running) after the line naming
    the configuration it uses (``reqsolve: configuration: ...``)."""
    assert process.stderr is not None
    stream = process.stderr
    lines: list[str] = []

    def read() -> None:
        while not lines or lines[-1].startswith("reqsolve: configuration: "):
            line = stream.readline()
            lines.append(line)
            if not line:
                return

    reader = threading.Thread(target=read, daemon=True)  # readline has no timeout of its own
    reader.start()
    reader.join(DEADLINE)
    assert not reader.is_alive() and lines and lines[-1], f"nothing more on stderr: {lines}"
    return lines[-1]


MachineFactory = Callable[[Path | None], Machine]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[MachineFactory]:
    """Faked machines in ``tmp_path``; the processes they started are killed at the end."""
    made: list[Machine] = []

    def factory(output: Path | None) -> Machine:
        machine = Machine(tmp_path, output)
        made.append(machine)
        return machine

    yield factory
    for machine in made:
        for process in machine.processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
    (tmp_path / "gate-all").touch()


# --- the "done when", on one H200


@pytest.mark.parametrize(("model", "answered"), [("H200", True), ("h200", True), ("H100", False)])
def test_h200_models_answer_the_local_launcher(
    make: MachineFactory, model: str, answered: bool
) -> None:
    machine = make(H200)
    done = machine.run("find", "--format", "json", f"cuda(model={model})")
    answer = json.loads(done.stdout)
    if answered:
        assert answer["launcher"] == {"id": "local", "type": "local"}
    else:
        assert answer["launcher"] is None
        assert answer["reasons"][0]["detail"] == "model H100 asked, the node has NVIDIA H200"


def test_submit_env_shows_the_one_gpu(make: MachineFactory) -> None:
    machine = make(H200)
    done = machine.run("submit", "cuda(mem=10G)", "--", "env")
    assert done.returncode == 0, done.stderr
    assert f"CUDA_VISIBLE_DEVICES={uuids(H200)[0]}" in done.stdout.splitlines()


def test_a_cpu_job_sees_no_gpu(make: MachineFactory) -> None:
    machine = make(H200)
    done = machine.run("submit", "cpu(cores=1)", "--", "env")
    assert done.returncode == 0, done.stderr
    assert "CUDA_VISIBLE_DEVICES=" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("cuda()", f"CUDA_VISIBLE_DEVICES={uuids(H200)[0]} env"),
        ("cpu(cores=2)", "CUDA_VISIBLE_DEVICES= env"),
    ],
)
def test_dry_run_shows_the_variable(make: MachineFactory, expression: str, shown: str) -> None:
    machine = make(H200)
    done = machine.run("submit", expression, "--dry-run", "--", "env")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"# would run: {shown}"


def test_two_jobs_on_one_gpu_run_one_after_the_other(make: MachineFactory) -> None:
    machine = make(H200)
    first = machine.start("submit", "cuda()", "--", *machine.job("A", "gate-A"))
    machine.wait_for_line("start A")
    second = machine.start("submit", "cuda()", "--", *machine.job("B"))
    assert stderr_line(second).startswith("reqsolve: waiting for 1 free GPU(s) for cuda()")
    assert not any(line.startswith("start B") for line in machine.lines())
    machine.release("gate-A")
    assert first.wait(DEADLINE) == 0 and second.wait(DEADLINE) == 0
    gpu = uuids(H200)[0]
    order = [line.split()[:3] for line in machine.lines()]
    assert order == [["start", "A", gpu], ["end", "A"], ["start", "B", gpu], ["end", "B"]]


def test_no_wait_refuses_while_the_gpu_is_held(make: MachineFactory) -> None:
    machine = make(H200)
    first = machine.start("submit", "cuda()", "--", *machine.job("A", "gate-A"))
    machine.wait_for_line("start A")
    refused = machine.run("submit", "--no-wait", "cuda()", "--", *machine.job("B"))
    assert refused.returncode == BUSY_EXIT
    assert "not started: other jobs hold what it needs" in refused.stderr
    assert not any(line.startswith("start B") for line in machine.lines())
    machine.release("gate-A")
    assert first.wait(DEADLINE) == 0
    assert machine.run("submit", "--no-wait", "cuda()", "--", *machine.job("C")).returncode == 0


# --- released however the job ends


@pytest.mark.parametrize("how", ["exit 3", "SIGSEGV", "SIGKILL"])
def test_gpus_are_released_when_the_job_crashes(make: MachineFactory, how: str) -> None:
    machine = make(H200)
    if how == "exit 3":
        crashed = machine.run("submit", "cuda()", "--", sys.executable, "-c", "exit(3)")
        assert crashed.returncode == 3
    elif how == "SIGSEGV":
        crashed = machine.run("submit", "cuda()", "--", "sh", "-c", "kill -SEGV $$")
        assert crashed.returncode == 128 + signal.SIGSEGV
    else:
        first = machine.start("submit", "cuda()", "--", *machine.job("A", "gate-A"))
        pid = int(machine.wait_for_line("start A").split()[3])
        os.kill(pid, signal.SIGKILL)  # the job, not reqsolve
        assert first.wait(DEADLINE) == 128 + signal.SIGKILL
    again = machine.run("submit", "--no-wait", "cuda()", "--", *machine.job("B"))
    assert again.returncode == 0, again.stderr


def test_the_job_keeps_its_gpu_when_submit_is_killed(make: MachineFactory) -> None:
    """SIGKILL of reqsolve itself: the job it started still runs, and still holds the GPU."""
    machine = make(H200)
    first = machine.start("submit", "cuda()", "--", *machine.job("A", "gate-A"))
    machine.wait_for_line("start A")
    first.kill()
    first.wait(DEADLINE)
    refused = machine.run("submit", "--no-wait", "cuda()", "--", *machine.job("B"))
    assert refused.returncode == BUSY_EXIT
    machine.release("gate-A")
    machine.wait_for_line("end A")
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:  # the orphaned job exits just after logging its end
        again = machine.run("submit", "--no-wait", "cuda()", "--", *machine.job("C"))
        if again.returncode != BUSY_EXIT:
            break
    assert again.returncode == 0, again.stderr


def test_a_background_child_of_the_job_keeps_its_gpu(make: MachineFactory) -> None:
    """docs/local-gpus.md: a job's nohup child inherits the locks; the GPU is held until the
    child ends, though the job and submit have ended (issue 24, item 14)."""
    machine = make(H200)
    child = shlex.join(machine.job("A", "gate-A"))
    done = machine.run("submit", "cuda()", "--", "sh", "-c", f"nohup {child} >/dev/null 2>&1 &")
    assert done.returncode == 0, done.stderr
    machine.wait_for_line("start A")
    refused = machine.run("submit", "--no-wait", "cuda()", "--", "true")
    assert refused.returncode == BUSY_EXIT
    machine.release("gate-A")
    machine.wait_for_line("end A")
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:  # the child exits just after logging its end
        again = machine.run("submit", "--no-wait", "cuda()", "--", "true")
        if again.returncode != BUSY_EXIT:
            break
    assert again.returncode == 0, again.stderr


# --- 4 and 8 GPUs


def test_a_busy_assignment_gives_way_to_another_of_free_gpus(make: MachineFactory) -> None:
    """4 x A100: while one job holds two GPUs, another asking two gets the other two at once."""
    machine = make(A100_X4)
    first = machine.start("submit", "cuda(model=A100)*2", "--", *machine.job("A", "gate-A"))
    line_a = machine.wait_for_line("start A")
    second = machine.run("submit", "--no-wait", "cuda(model=a100)*2", "--", *machine.job("B"))
    assert second.returncode == 0, second.stderr
    line_b = machine.wait_for_line("start B")
    gpus_a, gpus_b = line_a.split()[2].split(","), line_b.split()[2].split(",")
    assert len(gpus_a) == len(gpus_b) == 2
    assert sorted(gpus_a + gpus_b) == sorted(uuids(A100_X4))
    third = machine.run("submit", "--no-wait", "cuda()*3", "--", *machine.job("C"))
    assert third.returncode == BUSY_EXIT  # A holds two of the four
    machine.release("gate-A")
    assert first.wait(DEADLINE) == 0


@pytest.mark.parametrize(
    ("expression", "model", "count"),
    [
        ("cuda(model=V100)", "Tesla V100-SXM2-32GB", 1),
        ("cuda(model=RTX4090)*2", "NVIDIA GeForce RTX 4090", 2),
        ("cuda(model=4090)*4", "NVIDIA GeForce RTX 4090", 4),
        ("cuda(mem=30G)*3", "Tesla V100-SXM2-32GB", 3),
    ],
)
def test_mixed_machine_gets_gpus_of_the_model_asked(
    make: MachineFactory, expression: str, model: str, count: int
) -> None:
    machine = make(MIXED_X8)
    done = machine.run("submit", expression, "--", *machine.job("A"))
    assert done.returncode == 0, done.stderr
    got = machine.wait_for_line("start A").split()[2].split(",")
    assert len(set(got)) == count
    assert {names(MIXED_X8)[uuid] for uuid in got} == {model}


def test_mixed_machine_concurrent_jobs_never_share(make: MachineFactory) -> None:
    """Four RTX 4090s, three jobs of two each: two run at once on disjoint GPUs, the third
    waits, then gets the two GPUs the first to end released."""
    machine = make(MIXED_X8)
    jobs = {
        name: machine.start(
            "submit", "cuda(model=4090)*2", "--", *machine.job(name, f"gate-{name}")
        )
        for name in "ABC"
    }
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end and sum(x.startswith("start") for x in machine.lines()) < 2:
        time.sleep(0.02)
    started = {x.split()[1]: set(x.split()[2].split(",")) for x in machine.lines()}
    assert len(started) == 2
    (a, gpus_a), (_, gpus_b) = started.items()
    assert len(gpus_a) == len(gpus_b) == 2 and not gpus_a & gpus_b
    assert {names(MIXED_X8)[uuid] for uuid in gpus_a | gpus_b} == {"NVIDIA GeForce RTX 4090"}
    (waiting,) = set(jobs) - set(started)
    assert stderr_line(jobs[waiting]).startswith("reqsolve: waiting for 2 free GPU(s)")
    machine.release(f"gate-{a}")
    assert set(machine.wait_for_line(f"start {waiting}").split()[2].split(",")) == gpus_a
    for name in jobs:
        machine.release(f"gate-{name}")
    assert [job.wait(DEADLINE) for job in jobs.values()] == [0, 0, 0]


# --- a GPU booked twice (issue 24, items 1 and 3)

ONE_H200 = "local:\n  - id: box\n    gpus:\n      - {model: H200, count: 1}\n"


@pytest.mark.parametrize("with_file", [False, True], ids=["no-file", "launcher-file"])
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_broken_nvidia_smi_refuses_a_gpu_job_never_guesses(
    make: MachineFactory, how: str, with_file: bool
) -> None:
    """Job A holds the H200; nvidia-smi then fails, hangs or crashes for job B: B is refused
    with the reason (it used to lock index-0 while A held the UUID lock: both ran on it)."""
    machine = make(H200)
    config = machine.folder / "launchers.yaml"
    config.write_text(ONE_H200)
    where = ["--config", str(config)] if with_file else []
    first = machine.start("submit", *where, "cuda()", "--", *machine.job("A", "gate-A"))
    machine.wait_for_line("start A")
    install_broken(machine.folder, BROKEN[how])
    second = machine.run("submit", *where, "cuda()", "--", *machine.job("B"))
    if with_file:
        assert second.returncode == 2, second.stderr
        assert "GpuDetectionFailed: cannot tell which GPUs this machine has: " in second.stderr
    else:  # this machine's own launcher: its GPUs are unknown, and the warning says why
        assert second.returncode == 1, second.stderr
        assert "this machine's GPUs are unknown; a job asking GPUs fails" in second.stderr
    assert "nvidia-smi --query-gpu=index,uuid,name,memory.total" in second.stderr
    assert "Traceback" not in second.stderr
    assert not any(line.startswith("start B") for line in machine.lines())
    cpu_job = machine.run("submit", *where, "cpu(cores=1)", "--", "true")  # needs no GPU
    assert cpu_job.returncode == 0, cpu_job.stderr
    machine.release("gate-A")
    assert first.wait(DEADLINE) == 0


def test_a_second_launcher_file_with_other_models_uses_the_same_uuid_lock(
    make: MachineFactory,
) -> None:
    """Job A through this machine's own launcher; job B through a file calling the GPU a
    GTX1080: nvidia-smi wins, B is told the GPU is busy (it used to take index-0)."""
    machine = make(H200)
    first = machine.start("submit", "cuda()", "--", *machine.job("A", "gate-A"))
    machine.wait_for_line("start A")
    config = machine.folder / "launchers.yaml"
    config.write_text("local:\n  - id: old\n    gpus:\n      - {model: GTX1080, count: 1}\n")
    second = machine.run("submit", "--no-wait", "--config", str(config), "cuda()", "--", "true")
    assert second.returncode == BUSY_EXIT, second.stderr
    assert "the file says 1 x GTX1080, nvidia-smi says 1 x NVIDIA H200" in second.stderr
    machine.release("gate-A")
    assert first.wait(DEADLINE) == 0
    locks = sorted(p.name for p in (machine.folder / "tokens" / "gpus").iterdir())
    assert locks == ["index-0.lock", f"uuid-{uuids(H200)[0]}.lock"]


def test_a_duplicated_uuid_is_refused_not_waited_for(make: MachineFactory) -> None:
    machine = make(DUPLICATED_UUID)
    done = machine.run("submit", "cuda()*2", "--", "true")  # it used to wait for itself
    assert done.returncode == 1, done.stderr
    assert "reports the UUID GPU-3f1c2b7e-9a4d-5c8e-b1f0-6d2a8e4c7b91 twice" in done.stderr
    config = machine.folder / "launchers.yaml"
    config.write_text("local:\n  - id: box\n    gpus:\n      - {model: H200, count: 2}\n")
    done = machine.run("submit", "--config", str(config), "cuda()*2", "--", "true")
    assert done.returncode == 2, done.stderr
    assert "GpuDetectionFailed" in done.stderr and "twice" in done.stderr


@pytest.mark.parametrize(("expression", "code"), [("cuda()", 0), ("cuda(mem=1G)", 1)])
def test_an_infinite_memory_is_unknown(make: MachineFactory, expression: str, code: int) -> None:
    machine = make(INF_MEMORY)
    done = machine.run("submit", expression, "--", "env")
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "OverflowError" not in done.stderr


# --- the job's GPUs in the order written (issue 20, item 8)


@pytest.mark.parametrize(
    ("expression", "models"),
    [
        ("cuda(model=V100) & cuda(model=RTX4090)", ["Tesla V100-SXM2-32GB", "RTX 4090"]),
        ("cuda(model=RTX4090) & cuda(model=V100)", ["RTX 4090", "Tesla V100-SXM2-32GB"]),
        (
            "cuda(model=V100) & cuda(model=4090)*2 & cuda(mem=30G)",
            ["Tesla V100-SXM2-32GB", "RTX 4090", "RTX 4090", "Tesla V100-SXM2-32GB"],
        ),
    ],
)
def test_the_job_sees_its_gpus_in_the_order_written(
    make: MachineFactory, expression: str, models: list[str]
) -> None:
    machine = make(MIXED_X8)
    for dry_run in (["--dry-run"], []):
        done = machine.run("submit", *dry_run, expression, "--", "env")
        assert done.returncode == 0, done.stderr
        line = next(x for x in done.stdout.splitlines() if "CUDA_VISIBLE_DEVICES=" in x)
        visible = line.split("CUDA_VISIBLE_DEVICES=", 1)[1].split()[0].split(",")
        got = [names(MIXED_X8)[uuid] for uuid in visible]
        assert [m.replace("RTX 4090", "NVIDIA GeForce RTX 4090") for m in models] == got


# --- launcher files and launchers.py


def test_launcher_file_gpus_get_the_machines_uuids(make: MachineFactory) -> None:
    machine = make(A100_X4)
    config = machine.folder / "launchers.yaml"
    config.write_text(
        "local:\n  - id: box\n    gpus:\n      - {model: A100, count: 4, memory: 80GiB}\n"
    )
    done = machine.run("submit", "--config", str(config), "cuda(model=A100)*3", "--", "env")
    assert done.returncode == 0, done.stderr
    visible = [x for x in done.stdout.splitlines() if x.startswith("CUDA_VISIBLE_DEVICES=")]
    assert len(visible) == 1
    assert set(visible[0].split("=", 1)[1].split(",")) <= set(uuids(A100_X4))
    used, rest = split_configuration(done.stderr)  # shown relative to the job's folder
    assert (Path(used).name, rest) == ("launchers.yaml", "")


CONTRADICTIONS = [
    # (machine, the file's gpus:, asked, exit, models the job gets, the file as the warning says)
    (H200, "{model: GTX1080, count: 2}", "cuda()*2", 1, None, "2 x GTX1080"),
    (H200, "{model: A100, count: 1, memory: 80GiB}", "cuda(model=A100)", 1, None,
     "1 x A100 (80GiB)"),
    (H200, "{model: A100, count: 1, memory: 80GiB}", "cuda(mem=100G)", 0, {"NVIDIA H200"},
     "1 x A100 (80GiB)"),
    (MIXED_X8, "{model: A100, count: 8, memory: 80GiB}", "cuda(model=4090)*2", 0,
     {"NVIDIA GeForce RTX 4090"}, "8 x A100 (80GiB)"),
    (A100_X4, "{model: A100, count: 2, memory: 80GiB}", "cuda(model=A100)*4", 0,
     {"NVIDIA A100-SXM4-80GB"}, "2 x A100 (80GiB)"),
    (A100_X4, "{model: A100, count: 4, memory: 40GiB}", "cuda(mem=60G)", 0,
     {"NVIDIA A100-SXM4-80GB"}, "4 x A100 (40GiB)"),
]


@pytest.mark.parametrize(
    ("output", "gpus", "expression", "code", "models", "says"),
    CONTRADICTIONS,
    ids=["count", "model", "model-mem", "mixed", "fewer", "memory"],
)
def test_nvidia_smi_contradicting_the_file_wins_and_both_are_named(
    make: MachineFactory, output: Path, gpus: str, expression: str, code: int,
    models: set[str] | None, says: str,
) -> None:
    """The file says one thing, the machine another: matching and the job's GPUs follow the
    machine (named by UUID), and the warning names both (issue 20, item 2)."""
    machine = make(output)
    config = machine.folder / "launchers.yaml"
    config.write_text(f"local:\n  - id: box\n    gpus:\n      - {gpus}\n")
    done = machine.run("submit", "--config", str(config), expression, "--", "env")
    assert done.returncode == code, done.stderr
    warnings = [x for x in done.stderr.splitlines() if x.startswith("reqsolve: warning:")]
    found = names(output)
    assert len(warnings) == 1, done.stderr
    assert f"launcher 'box': the file says {says}, nvidia-smi says " in warnings[0]
    assert next(iter(found.values())) in warnings[0]
    if models is None:
        assert "CUDA_VISIBLE_DEVICES" not in done.stdout
        return
    visible = next(x for x in done.stdout.splitlines() if x.startswith("CUDA_VISIBLE_DEVICES="))
    got = visible.split("=", 1)[1].split(",")
    assert {found[uuid] for uuid in got} == models


def test_find_names_the_contradiction_too(make: MachineFactory) -> None:
    machine = make(H200)
    config = machine.folder / "launchers.yaml"
    config.write_text("local:\n  - id: box\n    gpus:\n      - {model: A100, count: 1}\n")
    done = machine.run("find", "--config", str(config), "cuda(model=A100)")
    assert done.returncode == 1
    assert "the file says 1 x A100, nvidia-smi says 1 x NVIDIA H200 (" in done.stderr
    assert "model A100 asked, the node has NVIDIA H200" in done.stderr


def test_no_nvidia_smi_names_declared_gpus_by_index(make: MachineFactory) -> None:
    machine = make(None)
    config = machine.folder / "launchers.yaml"
    config.write_text("local:\n  - id: box\n    gpus:\n      - {model: GTX1080, count: 2}\n")
    done = machine.run("submit", "--config", str(config), "cuda(model=gtx1080)", "--", "env")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "CUDA_VISIBLE_DEVICES=0" in lines and "CUDA_DEVICE_ORDER=PCI_BUS_ID" in lines
    # as docs/local-gpus.md says: a warning, naming the launcher (issue 20, item 2)
    assert (
        "reqsolve: warning: launcher 'box' describes 2 GPU(s) but there is no nvidia-smi to"
        " check them" in done.stderr
    )


PYTHON_LAUNCHERS = """
from reqsolve import LocalLauncher

def find_launcher(requirements, tags=set()):
    return LocalLauncher()
"""


@pytest.mark.parametrize(
    ("expression", "model", "count"),
    [("cuda(model=RTX4090)*2", "NVIDIA GeForce RTX 4090", 2), ("cuda(model=v100)", None, 1)],
)
def test_python_launcher_jobs_get_gpus_assigned_here(
    make: MachineFactory, expression: str, model: str | None, count: int
) -> None:
    machine = make(MIXED_X8)
    (machine.folder / "conf").mkdir()
    (machine.folder / "conf" / "launchers.py").write_text(PYTHON_LAUNCHERS)
    done = machine.run("submit", "--config", str(machine.folder / "conf"), expression, "--", "env")
    assert done.returncode == 0, done.stderr
    visible = next(x for x in done.stdout.splitlines() if x.startswith("CUDA_VISIBLE_DEVICES="))
    got = visible.split("=", 1)[1].split(",")
    assert len(set(got)) == count
    assert {names(MIXED_X8)[uuid] for uuid in got} == {model or "Tesla V100-SXM2-32GB"}


def test_python_launcher_asking_gpus_this_machine_lacks_is_refused(make: MachineFactory) -> None:
    machine = make(H200)
    (machine.folder / "conf").mkdir()
    (machine.folder / "conf" / "launchers.py").write_text(PYTHON_LAUNCHERS)
    config = str(machine.folder / "conf")
    done = machine.run("submit", "--config", config, "cuda(model=A100)", "--", "env")
    assert done.returncode != 0
    assert "GPUs of this machine (GPU-3f1c2b7e" in done.stderr
    assert "CUDA_VISIBLE_DEVICES" not in done.stdout


def test_the_device_check_script_passes_on_a_faked_h200(make: MachineFactory) -> None:
    """tests/device/check_local_gpu.sh (run once on a real H200) works, here on a faked one."""
    machine = make(H200)
    script = Path(__file__).resolve().parent / "device" / "check_local_gpu.sh"
    env = dict(machine.env, PYTHON=sys.executable, CHECK_SKIP_CUDA="1")
    done = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = [line.split(":")[0] for line in done.stdout.splitlines() if line[:1].isupper()]
    assert statuses.count("PASS") == 9 and "FAIL" not in statuses, done.stdout
    assert done.stdout.rstrip().endswith("ALL PASSED")


# --- the library (in-process: the tests see no nvidia-smi, conftest)

MODELS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "gpu_models" / "launchers.yaml"


@pytest.mark.parametrize(
    ("expression", "first", "alternatives"),
    [
        ("cuda(model=A100)", (0,), [(1,), (2,), (3,)]),
        ("cuda(model=A100)*2", (0, 1), [(2, 3)]),
        ("cuda(model=A100)*3", (0, 1, 2), []),
    ],
)
def test_hold_job_takes_the_first_choice_then_free_gpus(
    tmp_path: Path, expression: str, first: tuple[int, ...], alternatives: list[tuple[int, ...]]
) -> None:
    """4 GPUs: jobs holding at once get disjoint GPUs until none is left; then --no-wait."""
    from reqsolve.finder import find_match
    from reqsolve.localjob import GpuPlan, ResourcesBusy, gpu_plan, hold_job

    match, launcher = find_match(expression, config=MODELS_FILE, offline=True)
    assert launcher.id == "box"
    plan, warning = gpu_plan(match, launcher)
    assert isinstance(plan, GpuPlan) and plan.first == first
    assert warning is not None and "there is no nvidia-smi to check them" in warning
    assert [d.visible for d in plan.chosen()] == [str(i) for i in first]  # no nvidia-smi: index
    with contextlib.ExitStack() as stack:
        got = [stack.enter_context(hold_job({}, {}, plan, directory=tmp_path, wait=False))]
        for _ in alternatives:
            got.append(stack.enter_context(hold_job({}, {}, plan, directory=tmp_path, wait=False)))
        assert [tuple(d.position for d in held.gpus) for held in got] == [first, *alternatives]
        with pytest.raises(ResourcesBusy, match="other jobs hold what it needs"):
            stack.enter_context(hold_job({}, {}, plan, directory=tmp_path, wait=False))
    with hold_job({}, {}, plan, directory=tmp_path, wait=False) as again:  # all released
        assert tuple(d.position for d in again.gpus) == first


def test_a_job_without_gpus_has_no_plan() -> None:
    from reqsolve.finder import find_match
    from reqsolve.localjob import environment, gpu_plan

    match, launcher = find_match("cpu(cores=2)", config=MODELS_FILE, offline=True)
    assert gpu_plan(match, launcher) == (None, None)
    assert environment(()) == {"CUDA_VISIBLE_DEVICES": ""}
