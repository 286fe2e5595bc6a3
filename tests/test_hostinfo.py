"""This machine (hostinfo.py): cores, memory from /proc/meminfo, GPUs from nvidia-smi."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reqsolve.hostinfo import parse_nvidia_smi, this_machine, total_memory


def test_this_machine() -> None:
    machine = this_machine()
    assert machine.cpu.cores == os.cpu_count()
    assert machine.cpu.memory is None or machine.cpu.memory > 0


def test_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16318480 kB\nMemFree:  1 kB\n")
    assert total_memory(meminfo) == 16318480 * 1024
    assert total_memory(tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NVIDIA A100-SXM4-40GB, 40960 MiB\n", [("NVIDIA A100-SXM4-40GB", 40960 * 2**20)]),
        (
            "Tesla T4, 15360 MiB\nTesla T4, 15360 MiB\n",
            [("Tesla T4", 15360 * 2**20)] * 2,
        ),
        ("garbage\nNVIDIA X, [N/A]\n", []),
    ],
    ids=["a100", "two", "garbled"],
)
def test_parse_nvidia_smi(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(g.model, g.memory) for g in parse_nvidia_smi(text)] == expected
