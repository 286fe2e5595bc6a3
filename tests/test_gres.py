"""GRES as Slurm states it: typed and untyped GPU GRES, several types on one node, MIG types;
the launcher's ``gres_memory`` map; typed requests in both dialects (``--gpus-per-node`` and
``--gres``); Slurm's partition order after discovery."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reqsolve.answers.options import SlurmOptions
from reqsolve.candidates import expand_candidates
from reqsolve.config import load_config
from reqsolve.config.effective import group_gpus
from reqsolve.config.model import (
    GpuConfig,
    GresType,
    LauncherFile,
    NodeGroup,
    Partition,
    SlurmLauncherConfig,
)
from reqsolve.config.schema import json_schema
from reqsolve.errors import InvalidValue, LauncherNotFoundError
from reqsolve.finder import find_launcher
from reqsolve.slurm import convert, readers
from reqsolve.slurm.query import merge
from reqsolve.slurm.readers import GpuGres
from tests.cli_run import cli
from tests.paths import ROOT
from tests.reference import GIB

MIXED = ROOT / "fixtures" / "slurm" / "gres" / "launchers.yaml"


@pytest.mark.parametrize(
    ("gres", "gpus"),
    [
        ("gpu:4", [GpuGres(None, 4)]),
        ("gpu:a100:4", [GpuGres("a100", 4)]),
        ("gpu:a100:4(S:0-1)", [GpuGres("a100", 4)]),
        ("gpu:a6000:3(S:0-1),mps:100", [GpuGres("a6000", 3)]),
        ("gpu:1080ti:8,gpu:titan_x:2", [GpuGres("1080ti", 8), GpuGres("titan_x", 2)]),
        ("gpu:a100_1g.5gb:7", [GpuGres("a100_1g.5gb", 7)]),
        ("gpu:2g.10gb:8(S:0-1),gpu:3g.20gb:4(S:0-1)",
         [GpuGres("2g.10gb", 8), GpuGres("3g.20gb", 4)]),
        ("gpu:a100:2(S:0),gpu:a100:2(S:1)", [GpuGres("a100", 4)]),  # one type, two sockets
        ("gpu:v100:4(S:0-1),nvme:3600", [GpuGres("v100", 4)]),
        ("gpu:v100:4(S:0-1),min-vram:no_consume:32G", [GpuGres("v100", 4)]),
        ("lscratch:3570,gpu:A100:4(S:0-1)", [GpuGres("A100", 4)]),
        ("nvme:3600", []),
        ("(null)", []),
    ],
)
def test_gres_as_slurm_prints_it(gres: str, gpus: list[GpuGres]) -> None:
    assert list(readers.parse_gres(gres)) == gpus


def test_a_node_of_two_types_converts_to_two_kinds_and_back(tmp_path: Path) -> None:
    text = ("NodeName=t01 CPUTot=24 RealMemory=128000 State=IDLE Partitions=gpu "
            "Gres=gpu:1080ti:8(S:0-1),gpu:titan_x:2(S:1),mps:400\n")
    discovered = convert.build(readers.read_nodes(text))
    group = discovered.partitions[0].nodes[0]
    assert [(g.model, g.gres_type, g.count) for g in group.gpus] == [
        ("1080ti", "1080ti", 8), ("titan_x", "titan_x", 2)]
    path = tmp_path / "launchers.yaml"
    path.write_text(convert.launcher_yaml([convert.launcher_from(discovered)]), encoding="utf-8")
    loaded = load_config(path).launchers[0]
    assert isinstance(loaded, SlurmLauncherConfig)
    assert loaded.partitions[0].nodes[0].gpus == group.gpus
    assert cli("validate", str(path))[0] == 0
    launcher = find_launcher("cuda(model=titan_x)*2", config=str(path))
    assert launcher.options is not None
    assert launcher.options.args() == [
        "--partition=gpu", "--nodes=1", "--gpus-per-node=titan_x:2"]


@pytest.mark.parametrize(
    ("written", "memory", "model"),
    [
        ("v100: 16GiB", 16 * GIB, "V100"),  # the map's key matches any case
        ("V100: {memory: 16GiB, model: Tesla-V100}", 16 * GIB, "Tesla-V100"),
        ("v100: {model: Tesla-V100}", None, "Tesla-V100"),
    ],
)
def test_gres_memory_is_applied_by_type(tmp_path: Path, written: str, memory: int | None,
                                        model: str) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(
        "slurm:\n  - id: c\n    gres_memory:\n      " + written + "\n"
        "    partitions:\n      gpu:\n        nodes:\n"
        "          - {hosts: [g1], configuration: {gpu: {count: 2, model: V100}}}\n"
        "          - {hosts: [g2], configuration: {gpu: {count: 2, model: V100, memory: 32GiB}}}\n",
        encoding="utf-8",
    )
    launcher = load_config(path).launchers[0]
    assert isinstance(launcher, SlurmLauncherConfig)
    partition = launcher.partitions[0]
    first = group_gpus(launcher, partition, partition.nodes[0])[0].gpu
    assert (first.memory, first.model) == (memory, model)
    stated = group_gpus(launcher, partition, partition.nodes[1])[0].gpu
    assert stated.memory == 32 * GIB  # what the group states wins over the map


def test_gres_memory_shorthand_in_the_schema() -> None:
    schema = json.dumps(json_schema())
    assert '"gres_memory"' in schema and '"gpu_option"' in schema and '"anyOf"' in schema


@pytest.mark.parametrize(
    ("expression", "tags", "args"),
    [
        # the A100 is the only type with 40 GiB: asked by type, nothing excluded
        ("cuda(mem=40G)", (), ["--partition=gpu", "--nodes=1", "--gpus-per-node=a100:1"]),
        ("cuda(mem=40G)", ("gres",), ["--partition=gpu", "--nodes=1", "--gres=gpu:a100:1"]),
        # the display model of the a100 type
        ("cuda(model=A100)*4", (), ["--partition=gpu", "--nodes=1", "--gpus-per-node=a100:4"]),
        ("cuda(model=titan_x)*2", ("gres",),
         ["--partition=gpu", "--nodes=1", "--gres=gpu:titan_x:2"]),
        ("cuda(model=1080ti)*8", (),
         ["--partition=gpu", "--nodes=1", "--gpus-per-node=1080ti:8"]),
        # only t01 has 8 GPUs, all of 11 GB or more: Slurm picks no other node
        ("cuda(mem=11G)*8", (), ["--partition=gpu", "--nodes=1", "--gpus-per-node=8"]),
        # every GPU of every node fits: untyped, as before
        ("cuda(mem=10G)*2", (), ["--partition=gpu", "--nodes=1", "--gpus-per-node=2"]),
        ("cuda(mem=10G)*2", ("gres",), ["--partition=gpu", "--nodes=1", "--gres=gpu:2"]),
        # the V100s and the A100 share no type: untyped, the others excluded
        ("cuda(mem=16G)*4", (),
         ["--partition=gpu", "--nodes=1", "--exclude=t01", "--gpus-per-node=4"]),
    ],
)
def test_typed_requests(expression: str, tags: tuple[str, ...], args: list[str]) -> None:
    launcher = find_launcher(expression, config=str(MIXED), tags=tags)
    assert launcher.options is not None
    # no duration asked: the job gets the partition's limit (2 days)
    assert launcher.options.args() == [*args, "--time=2-00:00:00"]


@pytest.mark.parametrize(
    "expression",
    ["cuda(mem=12G)*8", "cuda(model=titan_x)*3", "cuda(model=titan_x)*3 & cuda(model=1080ti)"],
)
def test_no_way_to_ask(expression: str) -> None:
    with pytest.raises(LauncherNotFoundError):
        find_launcher(expression, config=str(MIXED))


def test_unknown_gpu_memory_is_never_enough_and_says_how_to_state_it() -> None:
    launcher_file = load_config(MIXED)
    bare = tuple(
        replace(launcher, gres_memory=(), partitions=tuple(
            replace(p, nodes=p.nodes[:2]) for p in launcher.partitions))
        for launcher in launcher_file.launchers
        if isinstance(launcher, SlurmLauncherConfig)
    )
    without = LauncherFile(path=launcher_file.path, launchers=bare)
    with pytest.raises(LauncherNotFoundError) as info:
        find_launcher("cuda(mem=8G)*4", config=without)
    assert "gres_memory: {v100: <size>}" in str(info.value)
    assert find_launcher("cuda(model=a100)", config=without).options is not None


OPTIONS = [
    (SlurmOptions(partition="gpu", gpus_per_node=2, gpu_type="a100"),
     ["--partition=gpu", "--nodes=1", "--gpus-per-node=a100:2"],
     {"slurm_gpus_per_node": "a100:2"}),
    (SlurmOptions(partition="gpu", gpus_per_node=2, gpu_type="a100", gpu_option="gres"),
     ["--partition=gpu", "--nodes=1", "--gres=gpu:a100:2"], {"slurm_gres": "gpu:a100:2"}),
    (SlurmOptions(partition="gpu", gpus_per_node=7, gpu_type="a100_1g.5gb", gpu_option="gres"),
     ["--partition=gpu", "--nodes=1", "--gres=gpu:a100_1g.5gb:7"],
     {"slurm_gres": "gpu:a100_1g.5gb:7"}),
    (SlurmOptions(partition="gpu", gpus_per_node=2, gpu_option="gres"),
     ["--partition=gpu", "--nodes=1", "--gres=gpu:2"], {"slurm_gres": "gpu:2"}),
    # a typed list: GPUs of two types on one node
    (SlurmOptions(partition="gpu", gpus_per_node=3, gpu_types=(("a100", 1), ("v100", 2))),
     ["--partition=gpu", "--nodes=1", "--gpus-per-node=a100:1,v100:2"],
     {"slurm_gpus_per_node": "a100:1,v100:2"}),
    (SlurmOptions(partition="gpu", gpus_per_node=3, gpu_types=(("a100", 1), ("v100", 2)),
                  gpu_option="gres"),
     ["--partition=gpu", "--nodes=1", "--gres=gpu:a100:1,gpu:v100:2"],
     {"slurm_gres": "gpu:a100:1,gpu:v100:2"}),
]


@pytest.mark.parametrize(("options", "args", "submitit"), OPTIONS)
def test_every_format_renders_the_request(options: SlurmOptions, args: list[str],
                                          submitit: dict[str, object]) -> None:
    assert options.args() == args
    assert options.sbatch_header() == "".join(f"#SBATCH {a}\n" for a in args)
    produced = options.to_submitit()
    assert {k: v for k, v in produced.items() if "gpu" in k or "gres" in k} == submitit
    data = options.as_json()
    assert (data["gpu_type"], data["gpu_types"], data["gpu_option"]) == (
        options.gpu_type, options.gpu_types, options.gpu_option)
    # what the JSON answer gives back builds the same options (pairs come back as lists)
    assert SlurmOptions(**json.loads(json.dumps(data))) == options


def test_json_answer_names_the_type() -> None:
    code, out, _ = cli("find", "--config", str(MIXED), "--format", "json", "cuda(mem=40G)")
    assert code == 0
    options = json.loads(out)["options"]
    assert (options["gpus_per_node"], options["gpu_type"]) == (1, "a100")
    code, out, _ = cli("find", "--config", str(MIXED), "--format", "json", "cuda(mem=10G)")
    assert "gpu_type" not in json.loads(out)["options"]
    assert "gpu_types" not in json.loads(out)["options"]


@pytest.mark.parametrize(
    ("expression", "tags", "args"),
    [
        # one GPU of each type of the node with 8 1080ti and 2 titan_x: only a typed list
        ("cuda(model=1080ti) & cuda(model=titan_x)", [],
         ["--partition=gpu", "--nodes=1", "--gpus-per-node=1080ti:1,titan_x:1",
          "--time=2-00:00:00"]),
        ("cuda(model=1080ti)*3 & cuda(model=titan_x)*2", ["--tags", "gres"],
         ["--partition=gpu", "--nodes=1", "--gres=gpu:1080ti:3,gpu:titan_x:2",
          "--time=2-00:00:00"]),
        # by memory: 12G fits titan_x alone, 11G both: the list the node's GPUs allow
        ("cuda(mem=12G) & cuda(mem=10G)*8", [],
         ["--partition=gpu", "--nodes=1", "--gpus-per-node=1080ti:8,titan_x:1",
          "--time=2-00:00:00"]),
        # what one type does is still asked by that type alone
        ("cuda(model=titan_x)*2", [],
         ["--partition=gpu", "--nodes=1", "--gpus-per-node=titan_x:2", "--time=2-00:00:00"]),
    ],
)
def test_gpus_of_two_types_on_one_node_are_asked_by_a_typed_list(
        expression: str, tags: list[str], args: list[str]) -> None:
    code, out, err = cli("find", "--config", str(MIXED), *tags, expression)
    assert code == 0, err
    assert out.split() == args


def test_a_typed_list_beyond_the_node_says_why() -> None:
    code, _, err = cli("find", "--config", str(MIXED), "cuda(model=1080ti)*9 & cuda(model=titan_x)")
    assert code != 0
    assert "no launcher can run" in err
    code, out, _ = cli("explain", "--config", str(MIXED),
                       "cuda(model=1080ti) & cuda(model=titan_x)")
    assert "gpus=by type" in out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gpus_per_node": 2, "gpu_type": "a100:1"}, "has a ':'"),
        ({"gpu_type": "a100"}, "a GPU type without gpus_per_node"),
        ({"gpus_per_node": 2, "gpu_type": "a100;x"}, "not allowed"),
        ({"gpus_per_node": 2, "gpu_option": "gpus"}, "is not a GPU option"),
        ({"gpus_per_node": 2, "gpu_types": (("a100", 1), ("v100", 2))}, "sum to 3"),
        ({"gpus_per_node": 2, "gpu_types": (("a100", 1), ("a100", 1))}, "a type twice"),
        ({"gpus_per_node": 2, "gpu_types": (("a100", 2),), "gpu_type": "a100"}, "with gpu_type"),
        ({"gpus_per_node": 2, "gpu_types": (("a100:1", 2),)}, "has a ':'"),
        ({"gpus_per_node": 2, "gpu_types": (("a1;0", 2),)}, "not allowed"),
        ({"gpus_per_node": 2, "gpu_types": (("a100", 0), ("v100", 2))}, "positive count"),
        ({"gpus_per_node": 2, "gpu_types": ()}, "expected"),
        ({"gpus_per_node": 2, "gpu_types": "a100:2"}, "expected"),
    ],
)
def test_options_refuse_a_bad_request(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        SlurmOptions(**changes)  # type: ignore[arg-type]


def test_discovery_keeps_slurms_partition_order() -> None:
    discovered = (Partition("gpu"), Partition("small"), Partition("a100"), Partition("cpu"))
    written = SlurmLauncherConfig(
        id="c",
        query_slurm=True,
        partitions=(Partition("a100", qos=("q",)), Partition("ghost", nodes=(NodeGroup(count=1),)),
                    Partition("gpu", priority=2)),
    )
    merged = merge(written, convert.Discovered(partitions=discovered, qos=()))
    assert [p.name for p in merged.partitions] == ["gpu", "small", "a100", "cpu", "ghost"]
    assert merged.partitions[0].priority == 2 and merged.partitions[2].qos == ("q",)


def test_several_kinds_are_one_candidate_per_way_to_ask() -> None:
    launcher = SlurmLauncherConfig(
        id="c",
        gres_memory=(GresType("a", 10 * GIB), GresType("b", 20 * GIB)),
        partitions=(Partition("p", nodes=(NodeGroup(hosts=("n",), gpus=(
            GpuConfig(count=2, model="a", gres_type="a"),
            GpuConfig(count=1, model="b", gres_type="b"))),)),),
    )
    compiled = expand_candidates(LauncherFile(path="<test>", launchers=(launcher,)))[0]
    kinds = [c.shape.gpus for c in compiled.candidates]
    # untyped, by each type, then by a typed list (one kind per type)
    assert [[(k.count, k.memory, k.gres) for k in way] for way in kinds] == [
        [(3, 10 * GIB, None)], [(2, 10 * GIB, "a")], [(1, 20 * GIB, "b")],
        [(2, 10 * GIB, "a"), (1, 20 * GIB, "b")]]
