"""slurm/jobs.py: batch scripts, submission and job polling, with real commands standing in for
Slurm's clients."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reqsolve.answers.options import SlurmOptions
from reqsolve.connectors import LocalConnector
from reqsolve.errors import InvalidValue, SlurmQueryError
from reqsolve.slurm import jobs
from tests.commands import polling_bin, write_commands

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


def test_sacct_names_the_newest_job_of_a_reused_id(tmp_path: Path) -> None:
    """A controller restarted with a fresh state reuses job ids while the accounting database
    keeps the old jobs: sacct lists every job 7, oldest first (the lab's submit test got an
    older job's exit code, now and then)."""
    folder = fake_bin(
        tmp_path,
        squeue="exit 0",
        sacct="printf 'COMPLETED|0:0\\nFAILED|4:0\\n'",
    )
    assert jobs.query_state(LocalConnector(), str(folder), "7") == jobs.JobState("FAILED", 4)


@pytest.mark.parametrize(
    ("code", "status"),
    [("0:0", 0), ("3:0", 3), ("0:15", 143), ("256:0", 1), ("512:0", 2), ("65280:0", 255),
     ("9:0", 9), ("265:0", 137), ("65536:0", 1), ("255:0", 255), ("1:0", 1), ("", 1),
     ("x:y", 1), ("9" * 40 + ":0", 1), ("-1:0", 1), ("0:" + "9" * 40, 0)],
)
def test_exit_code_is_what_a_shell_says(code: str, status: int) -> None:
    # issue 24 item 8: a raw wait status (256 = exit 1) was returned as is, and exit(256) is 0
    assert jobs.exit_code(code) == status


@pytest.mark.parametrize(
    ("final", "state", "code"),
    [
        ("FAILED|256:0", "FAILED", 1),  # issue 24 item 8: exited 0
        ("FAILED|0:0", "FAILED", 1),
        ("NODE_FAIL|512:0", "NODE_FAIL", 2),
        ("COMPLETED|0:0", "COMPLETED", 0),
        ("LAUNCH_FAILED|0:0", "LAUNCH_FAILED", 1),  # a state this reqsolve does not know: ended
        ("WEIRD|7:0", "WEIRD", 7),
        ("WEIRD|", "WEIRD", 1),
        ("COMPLETED|", "COMPLETED", 0),
    ],
)
def test_wait_ends_on_any_final_state_with_a_nonzero_code_unless_completed(
    tmp_path: Path, final: str, state: str, code: int
) -> None:
    # squeue no longer lists the job; an unknown state from sacct polled forever before
    folder = polling_bin(tmp_path, ["PENDING"], final)
    sleeps: list[float] = []
    result = jobs.wait(LocalConnector(), str(folder), "7", interval=1, report=lambda s: None,
                       sleep=sleeps.append)
    assert result == jobs.JobState(state, code) and len(sleeps) == 1


def flaky_bin(tmp_path: Path, failing: int) -> Path:
    """Every Slurm client fails (busy controller) for the first ``failing`` polls, then squeue
    says RUNNING once and sacct COMPLETED."""
    counter = tmp_path / "polls"
    counter.write_text("0")
    busy = "echo 'slurm_load_jobs error: Socket timed out on send/recv operation' >&2; exit 1"
    return write_commands(
        tmp_path / "bin",
        squeue=f'n=$(cat {counter}); echo $((n+1)) > {counter}\n'
               f'[ "$n" -lt {failing} ] && {{ {busy}; }}\n[ "$n" -eq {failing} ] && echo RUNNING'
               "\nexit 0",
        sacct=f'n=$(cat {counter}); [ "$n" -le {failing} ] && {{ {busy}; }}\n'
              "echo 'COMPLETED|0:0'",
        scontrol=busy,
    )


@pytest.mark.parametrize("failing", [1, 3, jobs.POLL_RETRIES])
def test_wait_retries_polls_that_fail(tmp_path: Path, failing: int) -> None:
    folder = flaky_bin(tmp_path, failing)
    retried: list[int] = []
    seen: list[str] = []
    result = jobs.wait(LocalConnector(), str(folder), "7", interval=0, report=lambda s:
                       seen.append(s.state), sleep=lambda _: None,
                       on_retry=lambda exc, n: retried.append(n))
    assert result == jobs.JobState("COMPLETED", 0)
    assert retried == list(range(1, failing + 1)) and seen == ["RUNNING", "COMPLETED"]


def test_wait_gives_up_after_the_retries(tmp_path: Path) -> None:
    folder = flaky_bin(tmp_path, jobs.POLL_RETRIES + 1)
    with pytest.raises(SlurmQueryError, match="job not found"):
        jobs.wait(LocalConnector(), str(folder), "7", interval=0, report=lambda s: None,
                  sleep=lambda _: None)
