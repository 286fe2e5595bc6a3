"""`slurm convert` on real outputs of `scontrol show nodes` and `sinfo --json` (one per folder of
fixtures/slurm/dumps/, its SOURCE.md naming where it comes from): no crash, GPUs and features
read as Slurm states them, and a launcher file that `validate` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from reqsolve.config import load_config
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.slurm import readers
from reqsolve.slurm.readers import GpuGres
from tests.cli_run import cli

DUMPS = Path(__file__).resolve().parents[1] / "fixtures" / "slurm" / "dumps"

# dump -> the nodes as reqsolve must read them: name, CPUs, RealMemory (MiB), features, GPUs
EXPECTED: dict[str, list[tuple[str, int, int, tuple[str, ...], tuple[GpuGres, ...]]]] = {
    "slurmrestd-host1": [
        ("host1", 32, 127927, (), (GpuGres("fake1", 1), GpuGres("fake2", 1)))],
    "grasp-2080ti": [("dj-2080ti-0.grasp.maas", 64, 244698, (), (GpuGres(None, 8),))],
    "h100-worker": [("worker-1", 128, 1570840, (), (GpuGres("nvidia_h100_80gb_hbm3", 8),))],
    "triton-gpu3": [
        ("gpu3", 8, 316000, (), (GpuGres("v100", 4),)),
        ("csl1", 40, 191000, (), ()),
    ],
    "dgx2-sinfo": [("g001", 96, 1, ("location=local",), (GpuGres("tesla", 16),))],
}


def dump(name: str) -> Path:
    found = [p for p in (DUMPS / name).iterdir() if p.name != "SOURCE.md"]
    assert len(found) == 1 and (DUMPS / name / "SOURCE.md").is_file()
    return found[0]


def test_every_dump_is_checked() -> None:
    assert sorted(p.name for p in DUMPS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nodes_read_as_slurm_states_them(name: str) -> None:
    nodes = readers.read_nodes(dump(name).read_text(encoding="utf-8"))
    assert [(n.name, n.cpus, n.memory // 2**20 if n.memory else None, n.features, n.gpus)
            for n in nodes] == EXPECTED[name]
    assert all(n.unusable is None for n in nodes)  # MIXED+PLANNED, IDLE+DYNAMIC_NORM: usable


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_convert_writes_a_file_validate_accepts(name: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(dump(name).read_text(encoding="utf-8")))
    code, out, err = cli("slurm", "convert", "--id", name)
    assert code == 0, err
    path = tmp_path / "launchers.yaml"
    path.write_text(out, encoding="utf-8")
    assert cli("validate", str(path))[0] == 0
    launcher = load_config(path).launchers[0]
    assert isinstance(launcher, SlurmLauncherConfig)
    expected = {host: gpus for host, _, _, _, gpus in EXPECTED[name]}
    for partition in launcher.partitions:
        for group in partition.nodes:
            kinds = group.gpus or (
                (group.configuration.gpu,) if group.configuration
                and group.configuration.gpu.count else ())
            for host in group.hosts:
                assert [(k.gres_type, k.count) for k in kinds] == [
                    (g.model, g.count) for g in expected[host]]
    if name == "dgx2-sinfo":  # a feature no --constraint can name: left out, and said so
        assert out.startswith("# feature location=local left out")
