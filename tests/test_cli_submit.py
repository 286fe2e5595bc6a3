"""``reqsolve submit`` (cli/submit_cmd.py): running a job on the launcher found, on Slurm (dry run,
submit and wait) or here (tokens, GPUs), with real commands standing in for Slurm's clients."""

from __future__ import annotations

import argparse
import io
import shlex
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from reqsolve.cli import submit_cmd
from reqsolve.config.model import SshConnectorConfig
from reqsolve.connectors import LocalConnector, SshConnector
from reqsolve.errors import InvalidValue
from reqsolve.slurm import jobs
from tests.cli_run import cli, split_configuration
from tests.commands import polling_bin, write_commands
from tests.paths import DOCS_EXAMPLE, LAB_FILE
from tests.test_slurm_jobs import OPTIONS  # the same options as the batch scripts there


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
    write_commands(tmp_path / "bin", sbatch="cat > /dev/null; echo 42")
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
    write_commands(tmp_path / "bin", sbatch="cat > /dev/null; echo 43")
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


def test_cli_dry_run_slurm_prints_the_script() -> None:
    code, out, err = cli(
        "submit",
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


NO_NVIDIA_SMI = (
    "reqsolve: warning: launcher 'local-1' describes 1 GPU(s) but there is no nvidia-smi to"
    " check them: they are named and locked by index, in file order\n"
)


def test_cli_dry_run_local_with_tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    config = DOCS_EXAMPLE
    code, out, err = cli(
        "submit", "--config", str(config), "cuda(mem=8G)", "--dry-run", "--", "nvidia-smi", "-L"
    )
    # the launcher file's one GPU, by index, with a warning: the tests see no nvidia-smi
    assert (code, split_configuration(err)) == (0, (str(config), NO_NVIDIA_SMI))
    assert out == (
        "# would take tokens: localtoken=1\n# would hold GPUs: 0 (GTX1080)\n"
        "# would run: CUDA_VISIBLE_DEVICES=0 CUDA_DEVICE_ORDER=PCI_BUS_ID nvidia-smi -L\n"
    )
    code, out, err = cli(
        "submit", "--config", str(config), "cuda(mem=8G)", "--", "sh", "-c", "exit 6"
    )
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
    code, out, err = cli("submit", "--config", str(LAB_FILE), "--offline", *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_cli_no_launcher_found() -> None:
    code, _, err = cli(
        "submit", "--config", str(LAB_FILE), "--offline", "cuda(mem=24G)*9", "--dry-run", "--",
        "true",
    )
    assert code == 1
    _, err = split_configuration(err)
    assert err.startswith("reqsolve: no launcher can run") and "the node has 8" in err


@pytest.mark.parametrize("as_directory", [False, True], ids=["file", "directory"])
def test_submit_dry_run_reads_tokens_from_a_file_or_a_configuration_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_directory: bool
) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    fixture = DOCS_EXAMPLE.parent
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    for name in ("launchers.yaml", "tokens.yaml"):
        (config_dir / name).write_text((fixture / name).read_text())
    config = config_dir if as_directory else config_dir / "launchers.yaml"
    code, out, err = cli(
        "submit", "--config", str(config), "--offline", "--dry-run", "cuda(mem=8G)", "--",
        "echo", "hi",
    )
    used = str(config_dir / "launchers.yaml")
    assert (code, split_configuration(err)) == (0, (used, NO_NVIDIA_SMI))
    assert out == (
        "# would take tokens: localtoken=1\n# would hold GPUs: 0 (GTX1080)\n"
        "# would run: CUDA_VISIBLE_DEVICES=0 CUDA_DEVICE_ORDER=PCI_BUS_ID echo hi\n"
    )


@pytest.mark.parametrize(
    ("final", "code"),
    [("FAILED|256:0", 1), ("FAILED|512:0", 2), ("WEIRD|0:0", 1), ("COMPLETED|0:0", 0)],
)
def test_run_slurm_wait_exit_status_is_the_jobs(tmp_path: Path, final: str, code: int) -> None:
    # issue 24 item 8: FAILED with 256 exited 0; an unknown final state polled forever
    folder = polling_bin(tmp_path, [], final)
    write_commands(tmp_path / "bin", sbatch="cat > /dev/null; echo 44")
    launcher = SimpleNamespace(options=OPTIONS, binpath=str(folder), interval=0.01,
                               launcherenv=None)
    out = io.StringIO()
    assert submit_cmd.run_slurm(launcher, ["x"], connector=LocalConnector(), stdout=out,
                                wait=True) == code
    assert out.getvalue().endswith(f", exit code {code}\n")


def test_run_slurm_wait_survives_a_busy_controller(tmp_path: Path) -> None:
    from tests.test_slurm_jobs import flaky_bin

    folder = flaky_bin(tmp_path, 1)
    write_commands(tmp_path / "bin", sbatch="cat > /dev/null; echo 45")
    launcher = SimpleNamespace(options=OPTIONS, binpath=str(folder), interval=0.01,
                               launcherenv=None)
    out = io.StringIO()
    assert submit_cmd.run_slurm(launcher, ["x"], connector=LocalConnector(), stdout=out,
                                wait=True) == 0
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("job 45: poll failed (") and "retry 1 of 5" in lines[1]
    assert lines[-1] == "job 45 ended: COMPLETED, exit code 0"


# --- a command that cannot start: one line, as a shell says it (issue 20, item 3)

NOT_RUNNABLE = [
    ("no-exec-bit", "#!/bin/sh\necho hi\n", 0o644, 126, "permission denied (not executable"),
    ("no-shebang", "echo hi\n", 0o755, 126, "no '#!' line"),
    ("directory", None, 0o755, 126, "is a directory"),
    ("absent", "", None, 127, "no such file"),
]


@pytest.mark.parametrize(
    ("name", "text", "mode", "code", "said"), NOT_RUNNABLE, ids=[r[0] for r in NOT_RUNNABLE]
)
def test_a_command_that_cannot_start_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str | None,
    mode: int | None, code: int, said: str,
) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    script = tmp_path / "train.sh"
    if text is None:
        script.mkdir()
    elif mode is not None:
        script.write_text(text)
        script.chmod(mode)
    got, out, err = cli("submit", "--config", str(DOCS_EXAMPLE), "cpu(cores=1)", "--", str(script))
    _, rest = split_configuration(err)
    assert (got, out) == (code, "")
    assert rest == f"reqsolve: {script}: " + rest.split(": ", 2)[2] and said in rest
    assert rest.count("\n") == 1 and "Traceback" not in rest


def test_command_not_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    got, _, err = cli("submit", "--config", str(DOCS_EXAMPLE), "cpu(cores=1)", "--", "no-such-x")
    assert got == 127
    assert split_configuration(err)[1] == "reqsolve: no-such-x: command not found\n"


@pytest.mark.parametrize(
    "argv",
    [["--", "echo", "hi"], ["echo", "hi"], ["--dry-run", "--", "ls", "-l"], ["--", "./train.sh"]],
)
def test_a_missing_expression_is_named(argv: list[str]) -> None:
    got, out, err = cli("submit", "--config", str(DOCS_EXAMPLE), *argv)
    assert (got, out) == (2, "")
    assert "the requirement expression is missing" in err, err
    assert "unknown term" not in err and "Traceback" not in err


@pytest.mark.parametrize("expression", ["cpuu", "cpu(cores=", "cuda"])
def test_a_wrong_expression_is_still_a_parse_error(expression: str) -> None:
    got, _, err = cli("submit", "--config", str(DOCS_EXAMPLE), expression, "--", "echo", "hi")
    assert got == 2 and "InvalidExpression" in err
    assert "the requirement expression is missing" not in err
