"""``reqsolve find`` (cli/find_cmd.py), in-process and as a process: the JSON of docs/semantics.md
§7, the renderings, exit codes, and why nothing is eligible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_run import cli
from tests.commands import reqsolve_process
from tests.paths import DOCS_EXAMPLE

SEED_SPEC = "duration=4 days & cuda(mem=40G)*2 & cpu(mem=400M, cores=4)"


def test_find_json_is_section_7() -> None:
    code, out, _ = cli(
        "find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json", SEED_SPEC
    )
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["launcher", "alternative", "options", "config"]
    assert data["config"] == {"files": [str(DOCS_EXAMPLE)], "this_machine": False}
    assert data["launcher"] == {"id": "manual", "type": "slurm"}
    assert list(data["options"]) == [
        "partition", "constraint", "gpus_per_node", "time", "mem", "cpus_per_task",
        "qos", "account", "exclude", "nodelist", "nodes",
    ]
    assert data["options"]["mem"] == "382M"


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("args", "--partition=gpu_p4"),
        ("sbatch", "#SBATCH --partition=gpu_p4"),
        ("submitit", '"slurm_partition": "gpu_p4"'),
    ],
)
def test_find_renderings(fmt: str, needle: str) -> None:
    code, out, _ = cli(
        "find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", fmt, SEED_SPEC
    )
    assert code == 0
    assert needle in out


@pytest.mark.parametrize(
    ("expression", "code"),
    [("cuda(mem=1000G)", 1), ("cuda(mem=4G", 2), ("duration=4", 2)],
    ids=["no-match", "syntax", "bare-duration"],
)
def test_find_exit_codes(expression: str, code: int) -> None:
    got, out, err = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json",
                        expression)
    assert got == code
    if code == 1:
        data = json.loads(out)
        assert data["launcher"] is None and data["reasons"]
        assert {"alternative", "launcher", "reason", "detail"} <= set(data["reasons"][0])
    else:
        assert out == "" and err


def test_find_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "launchers.yaml"
    bad.write_text("local:\n  - cpus: {cores: 4}\n")
    code, _, err = cli("find", "--config", str(bad), "--offline", "cpu(cores=1)")
    assert code == 2 and "launchers.yaml" in err


def test_find_as_a_process() -> None:
    result = reqsolve_process(
        "find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json", SEED_SPEC
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["options"]["partition"] == "gpu_p4"


@pytest.mark.parametrize("fmt", ["args", "shell", "sbatch", "submitit"])
def test_local_answer_passes_no_slurm_option(fmt: str) -> None:
    """Exit 0 with these formats means "here are Slurm options": a local answer exits 3,
    prints nothing on stdout and names the launcher on stderr (docs/cli.md)."""
    code, out, err = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", fmt,
                         "cpu(cores=1)")
    assert (code, out) == (3, "")
    assert "the answer is the local launcher local-0" in err
    assert "--slurm-only" in err
    # --slurm-only leaves the local launchers out: the answer is Slurm options, exit 0
    code, out, err = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--slurm-only",
                         "--format", fmt, "cpu(cores=1)")
    assert code == 0, err
    assert out.strip()


@pytest.mark.parametrize(
    ("config", "advice"),
    [
        (str(DOCS_EXAMPLE), "or allow only Slurm launchers with --slurm-only"),
        # no launcher file: this machine only, --slurm-only would find nothing (issue 20 §8)
        (None, "describe your Slurm cluster in a launcher file (no file was found"),
        ("local-only", "add a Slurm launcher to the file (it has none"),
    ],
)
def test_local_answer_says_how_to_get_slurm_options(
    config: str | None, advice: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    if config == "local-only":
        config = str(tmp_path / "launchers.yaml")
        Path(config).write_text("local:\n  - id: box\n    cpu: {cores: 4, memory: 4G}\n")
    argv = ["--config", config] if config else []
    code, out, err = cli("find", *argv, "--offline", "cpu(cores=1)")
    assert (code, out) == (3, "")
    assert advice in err
    assert ("allow only Slurm launchers" in err) == (config == str(DOCS_EXAMPLE))


def test_local_answer_in_json_is_exit_0_and_says_local() -> None:
    code, out, _ = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json",
                       "cpu(cores=1)")
    assert code == 0
    assert json.loads(out)["launcher"]["type"] == "local"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--slurm-only"], "closest: manual/"),  # Slurm candidates tried, no local one
        (["--tags", "nope"], "none has the tag(s) nope (tags in the file: slurm)"),
        (["--slurm-only", "--tags", "nope"], "no Slurm launcher is eligible"),
    ],
)
def test_nothing_eligible_says_why(argv: list[str], needle: str) -> None:
    code, _, err = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", *argv, "cuda(mem=1T)")
    assert code == 1
    assert needle in err


def test_offline_on_a_discovery_only_file_says_discovery_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("slurm:\n  - id: auto\n    connector: local\n    query_slurm: true\n")
    code, _, err = cli("find", "--config", str(path), "--offline", "cpu()")
    assert code == 1
    assert "auto: it needs Slurm discovery (query_slurm: true) and --offline" in err
    code, out, _ = cli("explain", "--config", str(path), "--offline", "cpu()")
    assert "it needs Slurm discovery" in out


@pytest.mark.parametrize(
    "expression",
    [
        "cuda(mem=29GiB)",
        "cuda(mem=20G)*2 & duration=2h",
        "cpu(cores=4, mem=400M) & cuda(mem=20G)",
    ],
)
def test_shell_format_is_args_quoted_for_a_shell(expression: str) -> None:
    """--format shell is what --format args says, quoted so that pasting it into a shell gives
    the same words (an unquoted ``&`` in --constraint would background the command)."""
    import shlex

    _, args, _ = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--slurm-only", expression)
    code, shell, _ = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--slurm-only",
                         "--format", "shell", expression)
    assert code == 0
    assert shlex.split(shell) == args.split()
    # a shell sees no operator in it: with punctuation_chars, a bare & or | is a token of its own
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=True)
    assert not {"&", "|", ";", "(", ")"} & set(lexer), shell
