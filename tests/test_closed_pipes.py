"""Every subcommand ends quietly when its stdout is closed early (issue 12, item 5).

``reqsolve schema | head -1`` used to end in a BrokenPipeError traceback, exit 1. Each case
runs the real command in a subprocess whose stdout is a pipe with no reader left (its read end
is closed before the command starts, so the first write fails, whatever the timing): the
command must exit 141 (as a process stopped by SIGPIPE; docs/cli.md) — ``--help`` 0 — and
print no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.paths import ROOT

DOCS = "fixtures/docs_example/launchers.yaml"
NODES = "fixtures/slurm/default/scontrol_show_nodes.txt"

COMMANDS = [
    ["parse", "cpu(cores=2) & cuda(mem=16G)"],
    ["parse", "--format", "json", "cpu(cores=2)"],
    ["validate", "fixtures/broken/duplicate_ids/launchers.yaml"],
    ["validate", "--format", "json", DOCS],
    ["schema"],
    ["schema", "--fields"],
    ["find", "--config", DOCS, "--offline", "cuda(mem=29GiB)"],
    ["find", "--config", DOCS, "--offline", "--format", "json", "cuda(mem=29GiB)"],
    ["find", "--config", DOCS, "--offline", "--format", "json", "cuda(mem=1T)"],
    ["explain", "--config", DOCS, "--offline", "cuda(mem=29GiB)"],
    ["explain", "--config", DOCS, "--offline", "--format", "json", "cuda(mem=29GiB)"],
    ["submit", "--config", DOCS, "--offline", "--dry-run", "cuda(mem=29GiB)", "--", "true"],
    ["slurm", "convert"],
    ["convert", DOCS],
    ["--help"],
    ["find", "--help"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv)[:40])
def test_a_closed_stdout_ends_quietly(argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE
    stdin = (ROOT / NODES).open("rb") if argv[:2] == ["slurm", "convert"] else None
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reqsolve", *argv],
            cwd=ROOT,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
        if stdin is not None:
            stdin.close()
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    # --help is printed by argparse, which ignores a failed write and ends 0
    assert done.returncode == (0 if "--help" in argv else 141), stderr
