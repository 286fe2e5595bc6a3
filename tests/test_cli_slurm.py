"""``reqsolve slurm convert|discover``, in-process and once as a real subprocess."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from tests.cli_run import cli
from tests.commands import reqsolve_process, write_commands

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slurm"


def convert(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli("slurm", "convert", *argv)


@pytest.mark.parametrize("source", ["scontrol_show_nodes.txt", "scontrol_show_nodes_oneliner.txt",
                                    "sinfo.json"])
def test_convert_any_form(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    code, out, err = convert(monkeypatch, (FIXTURES / "custom" / source).read_text())
    assert (code, err) == (0, "")
    assert out == (FIXTURES / "custom" / "expected_convert.yaml").read_text()


def test_convert_with_partitions_and_qos(monkeypatch: pytest.MonkeyPatch) -> None:
    default = FIXTURES / "default"
    code, out, err = convert(
        monkeypatch, (default / "scontrol_show_nodes.txt").read_text(), "--id", "lab",
        "--partitions", str(default / "scontrol_show_partition.txt"),
        "--qos", str(default / "sacctmgr_show_qos_parsable.txt"),
    )
    assert (code, err) == (0, "")
    assert out == (default / "expected_launchers.yaml").read_text()


@pytest.mark.parametrize(
    ("stdin", "argv", "message"),
    [
        ("", [], "nothing on stdin"),
        ("this is not scontrol\n", [], "unexpected output"),
        ("NodeName=x CPUTot=4\n", ["--id", "a b"], "not allowed"),
        ("NodeName=x CPUTot=4\n", ["--partitions", "/nonexistent"], "cannot read /nonexistent"),
    ],
)
def test_convert_errors(monkeypatch: pytest.MonkeyPatch, stdin: str, argv: list[str],
                        message: str) -> None:
    code, out, err = convert(monkeypatch, stdin, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_convert_output_passes_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reqsolve.config import loader

    code, out, _ = convert(monkeypatch, (FIXTURES / "custom" / "sinfo.json").read_text())
    assert code == 0
    path = tmp_path / "launchers.yaml"
    path.write_text(out, encoding="utf-8")
    launcher_file, problems = loader.check_config(path)
    assert launcher_file is not None
    assert [p for p in problems if p.severity == "error"] == []


def test_convert_as_a_real_subprocess() -> None:
    source = (FIXTURES / "custom" / "scontrol_show_nodes.txt").read_text(encoding="utf-8")
    done = reqsolve_process("slurm", "convert", input=source)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (FIXTURES / "custom" / "expected_convert.yaml").read_text()


def test_slurm_without_subcommand() -> None:
    code, _, err = cli("slurm")
    assert code == 2
    assert "convert or discover" in err


def write_fake_slurm(tmp_path: Path) -> Path:
    default = FIXTURES / "default"
    return write_commands(
        tmp_path / "bin",
        scontrol=f'[ "$1" = --version ] && {{ echo "slurm 22.05.8"; exit 0; }}\n'
        f"cat {default}/scontrol_show_partition_oneliner.txt",
        sinfo=f"cat {default}/sinfo.json",
        sacctmgr=f"cat {default}/sacctmgr_show_qos_parsable.txt",
    )


def test_discover_prints_the_merged_configuration(tmp_path: Path) -> None:
    from reqsolve.slurm import query

    query.clear_cache()
    folder = write_fake_slurm(tmp_path)
    config = tmp_path / "launchers.yaml"
    config.write_text(
        "slurm:\n"
        f"  - id: lab\n    path: {folder}\n    query_slurm: true\n"
        "    partitions:\n      cpu: {disabled: true}\n"
        "  - id: other\n    partitions: {}\n",
        encoding="utf-8",
    )
    code, text, err = cli("slurm", "discover", "--config", str(config))
    assert (code, err) == (0, "")
    assert text.startswith("slurm:\n- id: lab\n")
    assert "    cpu:\n      disabled: true\n" in text
    assert "qos_gpu-t4" in text and "other" not in text
    (folder / "sinfo").write_text("#!/bin/sh\necho garbage\n")
    query.clear_cache()
    code, _, err = cli("slurm", "discover", "--config", str(config))
    assert code == 1
    assert "lab:" in err and "unexpected output" in err
