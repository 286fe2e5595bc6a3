"""slurm/convert.py: what Slurm's outputs (read by slurm/readers.py) become, a launcher file and its
YAML: the captured clusters of fixtures/slurm/ convert to the expected files."""

from __future__ import annotations

from pathlib import Path

from reqsolve.slurm import convert, readers
from tests.paths import SLURM_CUSTOM, SLURM_DEFAULT
from tests.reference import MIB


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_convert_default_cluster_matches_expected_yaml() -> None:
    discovered = convert.build(
        readers.read_nodes(text(SLURM_DEFAULT / "sinfo.json")),
        readers.read_partitions(text(SLURM_DEFAULT / "scontrol_show_partition.txt")),
        readers.read_qos(text(SLURM_DEFAULT / "sacctmgr_show_qos_parsable.txt")),
    )
    produced = convert.launcher_yaml([convert.launcher_from(discovered, id="lab")])
    assert produced == text(SLURM_DEFAULT / "expected_launchers.yaml")
    parts = {p.name: p for p in discovered.partitions}
    assert [p.name for p in discovered.partitions if p.disabled] == ["heavy", "maint", "legacy"]
    gpu = parts["gpu"]
    assert [g.hosts for g in gpu.nodes] == [("yap", "yip", "yup"), ("yep", "yop")]
    assert gpu.configuration is not None
    assert gpu.configuration.cpu.mem_per_cpu == 3000 * MIB
    assert gpu.configuration.max_duration == 4 * 86400
    assert parts["a100"].accounts == ("iea@a100",)
    assert discovered.left_out == ()


def test_convert_leaves_out_unusable_nodes_with_reasons() -> None:
    discovered = convert.build(readers.read_nodes(text(SLURM_CUSTOM / "scontrol_show_nodes.txt")))
    assert [(x.host, x.reason) for x in discovered.left_out] == [
        ("big", "down (fan failure)"), ("n3", "drained (bad gpu)")]
    main = discovered.partitions[0]
    assert [(g.hosts, g.features) for g in main.nodes] == [
        (("n1", "n2"), ("v100", "GPUM16G", "cuda11.8")), (("plain01",), ())]
    produced = convert.launcher_yaml([convert.launcher_from(discovered)], discovered.left_out)
    assert produced == text(SLURM_CUSTOM / "expected_convert.yaml")
    assert produced.startswith("# left out: big: down (fan failure)\n")


def test_every_configuration_field_is_written_in_model_order() -> None:
    from reqsolve.config import model

    everything = model.Configuration(
        max_duration=90000,
        cpu=model.CpuConfig(cores=8, memory=64 * 2**30, mem_per_cpu=4 * 10**9, cpu_per_gpu=2),
        gpu=model.GpuConfig(model="a100", count=4, memory=80 * 10**9, min_memory=2**34,
                            min_mem_ratio=0.5),
    )
    partition = model.Partition(
        name="p",
        configuration=model.Configuration(cpu=model.CpuConfig(cores=2)),
        nodes=(model.NodeGroup(count=1),),
    )
    launcher = model.SlurmLauncherConfig(id="x", configuration=everything,
                                         partitions=(partition,))
    assert convert.launcher_yaml([launcher]) == (
        "slurm:\n- id: x\n  configuration:\n    max_duration: 1d1h\n    cpu:\n      cores: 8\n"
        "      memory: 64GiB\n      mem_per_cpu: 4GB\n      cpu_per_gpu: 2\n    gpu:\n"
        "      model: a100\n      count: 4\n      memory: 80GB\n      min_memory: 16GiB\n"
        "      min_mem_ratio: 0.5\n  partitions:\n    p:\n      configuration:\n        cpu:\n"
        "          cores: 2\n      nodes:\n      - count: 1\n"
    )
