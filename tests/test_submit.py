"""Batch scripts, job polling and tokens, with real commands standing in for Slurm's clients."""

from __future__ import annotations

import argparse
import io
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from reqsolve.cli import submit_cmd
from reqsolve.config.model import SshConnectorConfig
from reqsolve.connectors import LocalConnector, SshConnector
from reqsolve.errors import InvalidValue, SlurmQueryError
from reqsolve.slurm import jobs
from reqsolve.slurm.options import SlurmOptions
from reqsolve.tokens import hold_tokens
from tests.cli_run import split_configuration
from tests.commands import write_commands

OPTIONS = SlurmOptions(
    partition="gpu,small", constraint="(A&B)|(C)", gpus_per_node=2, time="02:00:00"
)


def test_batch_script_is_exactly_this() -> None:
    script = jobs.batch_script(
        OPTIONS,
        ["python", "train.py", "--name", "it's $HOME; `id`"],
        launcherenv={"HF_HOME": "/data/hf cache", "X": "$(reboot)"},
        job_name="train-1",
    )
    assert script == (
        "#!/bin/sh\n"
        "#SBATCH --job-name=train-1\n"
        "#SBATCH --partition=gpu,small\n"
        "#SBATCH --constraint=(A&B)|(C)\n"
        "#SBATCH --nodes=1\n"
        "#SBATCH --gpus-per-node=2\n"
        "#SBATCH --time=02:00:00\n"
        "export HF_HOME='/data/hf cache'\n"
        "export X='$(reboot)'\n"
        "exec python train.py --name 'it'\"'\"'s $HOME; `id`'\n"
    )


def test_batch_script_runs_the_command_verbatim(tmp_path: Path) -> None:
    words = ["printf", "%s|", "a b", "$HOME", "`id`", "it's", ";", "\\n"]
    script = jobs.batch_script(SlurmOptions(), words, launcherenv={"V": "x y"})
    path = tmp_path / "job.sh"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(["sh", str(path)], capture_output=True, text=True, check=True)
    assert done.stdout == "a b|$HOME|`id`|it's|;|\\n|"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"launcherenv": {"A B": "x"}}, "not an environment variable name"),
        ({"launcherenv": {"A;id": "x"}}, "not an environment variable name"),
        ({"job_name": "a b"}, "job name"),
        ({"job_name": "x\n#SBATCH --wrap=id"}, "job name"),
    ],
)
def test_batch_script_refuses(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        jobs.batch_script(SlurmOptions(), ["true"], **kwargs)  # type: ignore[arg-type]


def test_batch_script_needs_a_command() -> None:
    with pytest.raises(InvalidValue, match="no command"):
        jobs.batch_script(SlurmOptions(), [])


def fake_bin(tmp_path: Path, **bodies: str) -> Path:
    return write_commands(tmp_path / "bin", **bodies)


@pytest.mark.parametrize(("output", "job_id"), [("123\n", "123"), ("456;cluster\n", "456")])
def test_submit_reads_parsable_output(tmp_path: Path, output: str, job_id: str) -> None:
    folder = fake_bin(tmp_path, sbatch=f'cat > {tmp_path}/got.sh; printf "{output}"')
    got = jobs.submit(LocalConnector(), jobs.sbatch_argv(str(folder)), "#!/bin/sh\nexec true\n")
    assert got == job_id
    assert (tmp_path / "got.sh").read_text() == "#!/bin/sh\nexec true\n"


def test_submit_refusal_and_garbage(tmp_path: Path) -> None:
    folder = fake_bin(
        tmp_path, sbatch="echo 'sbatch: error: Invalid qos specification' >&2; exit 1"
    )
    with pytest.raises(SlurmQueryError) as info:
        jobs.submit(LocalConnector(), jobs.sbatch_argv(str(folder)), "x")
    assert info.value.returncode == 1 and "Invalid qos" in info.value.stderr
    folder = fake_bin(tmp_path, sbatch="echo Submitted maybe")
    with pytest.raises(SlurmQueryError, match="no job id"):
        jobs.submit(LocalConnector(), jobs.sbatch_argv(str(folder)), "x")


def polling_bin(tmp_path: Path, states: list[str], final: str) -> Path:
    """squeue prints the next state of ``states`` per call, then nothing; sacct prints final."""
    counter = tmp_path / "count"
    counter.write_text("0")
    cases = "".join(f"  {i}) echo {s};;\n" for i, s in enumerate(states))
    squeue = (
        f'n=$(cat {counter}); echo $((n+1)) > {counter}\ncase "$n" in\n{cases}  *) exit 0;;\nesac'
    )
    return fake_bin(tmp_path, squeue=squeue, sacct=f"echo '{final}'", scontrol="exit 1")


@pytest.mark.parametrize(
    ("final", "state", "code"),
    [
        ("COMPLETED|0:0", "COMPLETED", 0),
        ("FAILED|3:0", "FAILED", 3),
        ("CANCELLED by 0|0:15", "CANCELLED", 143),
        ("TIMEOUT|0:0", "TIMEOUT", 1),
    ],
)
def test_wait_reports_each_change_and_the_exit_code(
    tmp_path: Path, final: str, state: str, code: int
) -> None:
    folder = polling_bin(tmp_path, ["PENDING", "PENDING", "RUNNING", "RUNNING"], final)
    seen: list[str] = []
    sleeps: list[float] = []
    result = jobs.wait(
        LocalConnector(),
        str(folder),
        "7",
        interval=2.5,
        report=lambda s: seen.append(s.state),
        sleep=sleeps.append,
    )
    assert seen == ["PENDING", "RUNNING", state]
    assert result == jobs.JobState(state, code)
    assert sleeps == [2.5] * 4


def test_wait_falls_back_to_scontrol(tmp_path: Path) -> None:
    folder = fake_bin(
        tmp_path,
        squeue="exit 1",
        sacct="exit 1",
        scontrol="echo 'JobId=7 JobName=x JobState=COMPLETED Reason=None ExitCode=0:0'",
    )
    assert jobs.query_state(LocalConnector(), str(folder), "7") == jobs.JobState("COMPLETED", 0)
    folder = fake_bin(tmp_path, scontrol="echo 'slurm_load_jobs error: Invalid job id' >&2; exit 1")
    with pytest.raises(SlurmQueryError, match="job not found"):
        jobs.query_state(LocalConnector(), str(folder), "7")


def test_run_slurm_dry_run_prints_exactly_what_would_run() -> None:
    launcher = SimpleNamespace(
        options=OPTIONS, binpath="/opt/slurm/bin", interval=60, launcherenv={"A": "1"}
    )
    out = io.StringIO()
    code = submit_cmd.run_slurm(
        launcher,
        ["echo", "hi there"],
        connector=LocalConnector(),
        stdout=out,
        dry_run=True,
        job_name="j",
    )
    assert code == 0
    assert out.getvalue() == (
        "# would run: /opt/slurm/bin/sbatch --parsable <<'EOF'\n"
        + jobs.batch_script(OPTIONS, ["echo", "hi there"], launcherenv={"A": "1"}, job_name="j")
        + "EOF\n"
    )
    ssh = SshConnector(SshConnectorConfig(id="front", hostname="front.example.org", user="me"))
    out = io.StringIO()
    submit_cmd.run_slurm(launcher, ["true"], connector=ssh, stdout=out, dry_run=True, hold=True)
    first = out.getvalue().splitlines()[0]
    assert shlex.split(first[len("# would run: ") :])[-3:] == [
        "front.example.org",
        "/opt/slurm/bin/sbatch --parsable --hold",
        "<<EOF",
    ]


def test_run_slurm_submits_and_waits(tmp_path: Path) -> None:
    folder = polling_bin(tmp_path, ["RUNNING"], "FAILED|2:0")
    fake_bin(tmp_path, sbatch="cat > /dev/null; echo 42")
    launcher = SimpleNamespace(
        options=OPTIONS, binpath=str(folder), interval=0.01, launcherenv=None
    )
    out = io.StringIO()
    code = submit_cmd.run_slurm(
        launcher, ["false"], connector=LocalConnector(), stdout=out, wait=True
    )
    assert code == 2
    assert out.getvalue() == (
        "submitted job 42\njob 42: RUNNING\njob 42: FAILED\njob 42 ended: FAILED, exit code 2\n"
    )


def test_run_slurm_polls_through_main_launcher(tmp_path: Path) -> None:
    folder = polling_bin(tmp_path, ["RUNNING"], "COMPLETED|0:0")
    fake_bin(tmp_path, sbatch="cat > /dev/null; echo 43")
    main = SimpleNamespace(binpath=str(folder), interval=0.01)
    launcher = SimpleNamespace(
        options=OPTIONS, binpath=str(folder), interval=3600, launcherenv=None, main=main
    )
    started = time.monotonic()
    code = submit_cmd.run_slurm(
        launcher, ["true"], connector=LocalConnector(), stdout=io.StringIO(), wait=True
    )
    assert code == 0 and time.monotonic() - started < 30


SPLITS = [
    (["--", "ls", "-l"], {}, ["ls", "-l"]),
    (["--dry-run", "--", "ls"], {"dry_run": True}, ["ls"]),
    (
        ["--config", "f.yaml", "--wait", "--", "sh", "-c", "x"],
        {"config": "f.yaml", "wait": True},
        ["sh", "-c", "x"],
    ),
    (["--interval", "5", "ls", "--dry-run"], {"interval": 5.0}, ["ls", "--dry-run"]),
    (["ls"], {}, ["ls"]),
]


@pytest.mark.parametrize(
    ("rest", "changes", "command"), SPLITS, ids=[" ".join(r) for r, _, _ in SPLITS]
)
def test_split_command(rest: list[str], changes: dict[str, object], command: list[str]) -> None:
    parser = argparse.ArgumentParser()
    submit_cmd.add_arguments(parser)
    args = parser.parse_args(["EXPR"])  # every option at its default, as the CLI leaves them
    args.rest = rest
    assert submit_cmd.split_command(args) == command
    for key, value in changes.items():
        assert getattr(args, key) == value


def test_split_command_unknown_option() -> None:
    args = argparse.Namespace(rest=["--colour", "--", "ls"])
    with pytest.raises(InvalidValue, match="unknown option"):
        submit_cmd.split_command(args)


def test_run_local_dry_run_and_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    launcher = SimpleNamespace(tokens={"gpu": 1})
    out = io.StringIO()

    def run_local(command: list[str], *, dry_run: bool = False) -> int:
        return submit_cmd.run_local(
            launcher, command, capacities={"gpu": 2}, stdout=out, stderr=io.StringIO(),
            dry_run=dry_run,
        )

    assert run_local(["rm", "-rf", "x y"], dry_run=True) == 0
    # no GPU plan: the job asked none, so it sees none
    assert out.getvalue() == (
        "# would take tokens: gpu=1\n# would run: CUDA_VISIBLE_DEVICES= rm -rf 'x y'\n"
    )
    assert not (tmp_path / "tokens").exists()
    assert run_local(["sh", "-c", "exit 5"]) == 5
    assert run_local([str(tmp_path / "nope")]) == 127


HOLDER = """
import sys, time, os
from pathlib import Path
from reqsolve.tokens import hold_tokens
folder, log = Path(sys.argv[1]), Path(sys.argv[2])
with hold_tokens({"gpu": 1}, {"gpu": 2}, directory=folder, poll=0.02):
    with open(log, "a") as f:
        f.write(f"start {time.monotonic()}\\n")
    time.sleep(0.4)
    with open(log, "a") as f:
        f.write(f"end {time.monotonic()}\\n")
"""


def test_tokens_bound_concurrency_across_processes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "t"), str(log)], cwd=root)
        for _ in range(5)
    ]
    for proc in procs:
        assert proc.wait(timeout=30) == 0
    events = sorted(
        (float(t), kind) for kind, t in (line.split() for line in log.read_text().splitlines())
    )
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert len(events) == 10
    assert 1 <= peak <= 2  # capacity 2: never three jobs at once


def test_tokens_released_when_the_block_ends(tmp_path: Path) -> None:
    waited: list[str] = []
    with hold_tokens({"a": 2}, {"a": 2}, directory=tmp_path):
        pass
    started = time.monotonic()
    with hold_tokens({"a": 2}, {"a": 2}, directory=tmp_path, on_wait=waited.append):
        pass
    assert waited == [] and time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("wanted", "capacities", "message"),
    [
        ({"x": 1}, {}, "declared by no counter"),
        ({"x": 3}, {"x": 2}, "could never run"),
        ({"../x": 1}, {"../x": 1}, "cannot be a file name"),
    ],
)
def test_tokens_refuse(
    tmp_path: Path, wanted: dict[str, int], capacities: dict[str, int], message: str
) -> None:
    with (
        pytest.raises(InvalidValue, match=message),
        hold_tokens(wanted, capacities, directory=tmp_path),
    ):
        pass


ROOT = Path(__file__).resolve().parents[1]
LAB_FILE = ROOT / "fixtures" / "slurm" / "lab" / "launchers.yaml"


def submit(*argv: str) -> tuple[int, str, str]:
    from reqsolve.cli import run

    out, err = io.StringIO(), io.StringIO()
    code = run(["submit", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_dry_run_slurm_prints_the_script() -> None:
    code, out, err = submit(
        "--config",
        str(LAB_FILE),
        "--offline",
        "duration=3 days & cuda(mem=40G)",
        "--dry-run",
        "--job-name",
        "t",
        "--",
        "python",
        "train.py",
        "--lr",
        "0.1",
    )
    assert (code, split_configuration(err)) == (0, (str(LAB_FILE), ""))
    assert out == (
        "# would run: /usr/bin/sbatch --parsable <<'EOF'\n"
        "#!/bin/sh\n"
        "#SBATCH --job-name=t\n"
        "#SBATCH --partition=gpu\n"
        "#SBATCH --constraint=A6000&GPU3&GPUM48G\n"
        "#SBATCH --nodes=1\n"
        "#SBATCH --gpus-per-node=1\n"
        "#SBATCH --time=3-00:00:00\n"
        "exec python train.py --lr 0.1\n"
        "EOF\n"
    )


def test_cli_dry_run_local_with_tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    config = ROOT / "fixtures" / "docs_example" / "launchers.yaml"
    code, out, err = submit(
        "--config", str(config), "cuda(mem=8G)", "--dry-run", "--", "nvidia-smi", "-L"
    )
    assert (code, split_configuration(err)) == (0, (str(config), ""))
    # the launcher file's one GPU, by index: the tests see no nvidia-smi (conftest)
    assert out == (
        "# would take tokens: localtoken=1\n# would hold GPUs: 0 (GTX1080)\n"
        "# would run: CUDA_VISIBLE_DEVICES=0 CUDA_DEVICE_ORDER=PCI_BUS_ID nvidia-smi -L\n"
    )
    code, out, err = submit("--config", str(config), "cuda(mem=8G)", "--", "sh", "-c", "exit 6")
    assert code == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cpu(cores=1)"], "no command to run"),
        (["cpu(cores=1)", "--bogus", "--", "ls"], "unknown option"),
        (["cpu(cores=", "--", "ls"], "InvalidExpression"),
    ],
)
def test_cli_errors(argv: list[str], message: str) -> None:
    code, out, err = submit("--config", str(LAB_FILE), "--offline", *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_cli_no_launcher_found() -> None:
    code, _, err = submit(
        "--config", str(LAB_FILE), "--offline", "cuda(mem=24G)*9", "--dry-run", "--", "true"
    )
    assert code == 1
    _, err = split_configuration(err)
    assert err.startswith("reqsolve: no launcher can run") and "8 host GPU" in err


@pytest.mark.parametrize("as_directory", [False, True], ids=["file", "directory"])
def test_submit_dry_run_reads_tokens_from_a_file_or_a_configuration_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_directory: bool
) -> None:
    from reqsolve.cli import run

    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "docs_example"
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    for name in ("launchers.yaml", "tokens.yaml"):
        (config_dir / name).write_text((fixture / name).read_text())
    config = config_dir if as_directory else config_dir / "launchers.yaml"
    out, err = io.StringIO(), io.StringIO()
    code = run(
        [
            "submit",
            "--config",
            str(config),
            "--offline",
            "--dry-run",
            "cuda(mem=8G)",
            "--",
            "echo",
            "hi",
        ],
        out,
        err,
    )
    used = str(config_dir / "launchers.yaml")
    assert (code, split_configuration(err.getvalue())) == (0, (used, ""))
    assert out.getvalue() == (
        "# would take tokens: localtoken=1\n# would hold GPUs: 0 (GTX1080)\n"
        "# would run: CUDA_VISIBLE_DEVICES=0 CUDA_DEVICE_ORDER=PCI_BUS_ID echo hi\n"
    )
