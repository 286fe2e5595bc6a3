"""``reqsolve slurm convert|discover``, in-process and once as a real subprocess."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from reqsolve.config import loader
from reqsolve.config.model import SlurmLauncherConfig
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
        sacctmgr=f'case "$*" in *" show assoc "*) sed "s/|root|/|$(id -un)|/"'
        f' {default}/sacctmgr_show_assoc_user_root.txt;;\n'
        f'*) cat {default}/sacctmgr_show_qos_parsable.txt;; esac',
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


# issue 24 item 14: every file `slurm convert` writes passes `validate` — on every captured
# output it reads (each node form, with and without each partition and QoS form) ...
NODE_FORMS = ["scontrol_show_nodes.txt", "scontrol_show_nodes_oneliner.txt", "sinfo.json"]
CAPTURED = [
    (folder, nodes, partitions, qos)
    for folder, partition_forms, qos_forms in [
        ("default", [None, "scontrol_show_partition.txt", "scontrol_show_partition_oneliner.txt",
                     "restd_partitions.json"],
         [None, "sacctmgr_show_qos_parsable.txt", "restd_qos.json"]),
        ("custom", [None, "scontrol_show_partition.txt", "scontrol_show_partition_oneliner.txt"],
         [None]),
    ]
    for nodes in NODE_FORMS for partitions in partition_forms for qos in qos_forms
]


def convert_and_validate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, nodes: str,
                         *argv: str) -> str:
    code, out, err = convert(monkeypatch, nodes, *argv)
    assert code == 0, err
    path = tmp_path / "launchers.yaml"
    path.write_text(out, encoding="utf-8")
    validated, shown, problems = cli("validate", str(path))
    assert validated == 0, shown + problems
    return out


@pytest.mark.parametrize(("folder", "nodes", "partitions", "qos"), CAPTURED)
def test_convert_of_every_captured_output_passes_validate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folder: str, nodes: str,
    partitions: str | None, qos: str | None,
) -> None:
    argv = [] if partitions is None else ["--partitions", str(FIXTURES / folder / partitions)]
    argv += [] if qos is None else ["--qos", str(FIXTURES / folder / qos)]
    convert_and_validate(monkeypatch, tmp_path, (FIXTURES / folder / nodes).read_text(), *argv)


NODE = ("NodeName={host} CPUTot=8 RealMemory={memory} Gres=gpu:{gres}:{gpus} State=IDLE"
        " Partitions=gpu Features=A100\n")
GOOD = NODE.format(host="n1", memory=16000, gres="a100", gpus=2)
PARTITION = "PartitionName=gpu Nodes=n1 State=UP {}\n"


# ... and on outputs with values no launcher file can state: the node is left out with the
# reason (a comment), a limit beyond what a file states is written as none
@pytest.mark.parametrize(
    ("node", "partitions", "qos", "left_out"),
    [
        (NODE.format(host="n2", memory=10**15, gres="a100", gpus=2), None, None,
         "is over 10^18 bytes"),
        (NODE.format(host="n2", memory=16000, gres="a100", gpus=5000), None, None,
         "more than 1024 on one node"),
        (NODE.format(host="n$2", memory=16000, gres="a100", gpus=2), None, None,
         "reqsolve never writes"),
        (NODE.format(host="n2", memory=16000, gres="a;b", gpus=2), None, None,
         "reqsolve never writes"),
        ("", PARTITION.format("MaxTime=99999-00:00:00 DefMemPerCPU=999999999999999"), None, None),
        ("", '{"partitions": [{"name": "gpu", "nodes": "n1", "max_time_limit": 999999999}]}',
         None, None),
        ("", None, "Name|MaxWall\nq|99999-00:00:00\n", None),
    ],
    ids=["memory", "gpus", "host-name", "gres-type", "partition-limits", "partition-json",
         "qos-wall"],
)
def test_convert_of_values_no_file_states_passes_validate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, node: str, partitions: str | None,
    qos: str | None, left_out: str | None,
) -> None:
    argv = []
    for option, text in (("--partitions", partitions), ("--qos", qos)):
        if text is not None:
            (tmp_path / option[2:]).write_text(text, encoding="utf-8")
            argv += [option, str(tmp_path / option[2:])]
    out = convert_and_validate(monkeypatch, tmp_path, GOOD + node, *argv)
    comments = [line for line in out.splitlines() if line.startswith("# left out:")]
    if left_out is None:
        assert "n1" in out and not comments
    else:
        (comment,) = comments
        assert left_out in comment and "n1" in out.split("slurm:", 1)[1]


@pytest.mark.parametrize(
    ("nodes", "partitions", "message"),
    [(GOOD, PARTITION.format("AllowQos=a;b"), "partition gpu AllowQos 'a;b'"),
     (GOOD.replace("Partitions=gpu", "Partitions=g$u"), None, "partition 'g$u'"),
     (GOOD, "PartitionName=g=u Nodes=n1\n", "partition 'g=u'"),
     # issue 24 item 5: took 14 GB and ended in a MemoryError traceback
     (GOOD, "PartitionName=gpu Nodes=x[1-1000]y[1-1000]z[1-1000]\n", "more than 1,000,000"),
     (GOOD, "PartitionName=gpu Nodes=n1 MaxTime=" + "9" * 4301 + "\n", "unreadable time")],
    ids=["allow-qos", "node-partitions", "partition-name", "huge-hostlist", "huge-number"],
)
def test_convert_refuses_hostile_input_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, nodes: str, partitions: str | None,
    message: str,
) -> None:
    argv = []
    if partitions is not None:
        (tmp_path / "p").write_text(partitions, encoding="utf-8")
        argv = ["--partitions", str(tmp_path / "p")]
    code, out, err = convert(monkeypatch, nodes, *argv)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


# issue 21 §1: a partition's MaxNodes is written as `max_nodes:`, and the file reads it back;
# UNLIMITED (or a negative JSON value) writes nothing, so the partition stays unlimited
@pytest.mark.parametrize(
    ("folder", "partitions", "expected"),
    [
        ("default", "scontrol_show_partition.txt", {"small": 2, "gpu": None, "cpu": None}),
        ("default", "scontrol_show_partition_oneliner.txt", {"small": 2, "gpu": None}),
        ("default", "restd_partitions.json", {"small": 2, "a100": None}),
        (None, PARTITION.format("MaxNodes=3"), {"gpu": 3}),
        (None, PARTITION.format("MaxNodes=UNLIMITED"), {"gpu": None}),
        (None, '{"partitions": [{"name": "gpu", "nodes": "n1", "maximum_nodes_per_job": 1}]}',
         {"gpu": 1}),
        (None, '{"partitions": [{"name": "gpu", "nodes": "n1", "maximum_nodes_per_job": -1}]}',
         {"gpu": None}),
    ],
    ids=["scontrol", "oneliner", "restd", "text-3", "text-unlimited", "json-1", "json-unlimited"],
)
def test_convert_writes_max_nodes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folder: str | None, partitions: str,
    expected: dict[str, int | None],
) -> None:
    if folder is None:
        nodes, source = GOOD, tmp_path / "partitions"
        source.write_text(partitions, encoding="utf-8")
    else:
        nodes = (FIXTURES / folder / "scontrol_show_nodes.txt").read_text()
        source = FIXTURES / folder / partitions
    out = convert_and_validate(monkeypatch, tmp_path, nodes, "--partitions", str(source))
    launcher_file, _ = loader.check_config(tmp_path / "launchers.yaml")
    assert launcher_file is not None
    (launcher,) = launcher_file.launchers
    assert isinstance(launcher, SlurmLauncherConfig)
    got = {p.name: p.max_nodes for p in launcher.partitions}
    assert {name: got[name] for name in expected} == expected, out
    assert out.count("max_nodes:") == sum(v is not None for v in got.values()), out
