"""tokens.py: counters held across processes (the tokens of a local launcher), released at the
end of the block, refused when they can never be held."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from reqsolve.errors import InvalidValue
from reqsolve.tokens import hold_tokens

HOLDER = """
import sys, time, os
from pathlib import Path
from reqsolve.tokens import hold_tokens
folder, log = Path(sys.argv[1]), Path(sys.argv[2])
with hold_tokens({"gpu": 1}, {"gpu": 2}, directory=folder, poll=0.02):
    with open(log, "a") as f:
        f.write(f"start {time.monotonic()}\\n")
    time.sleep(0.4)
    with open(log, "a") as f:
        f.write(f"end {time.monotonic()}\\n")
"""


def test_tokens_bound_concurrency_across_processes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "t"), str(log)], cwd=root)
        for _ in range(5)
    ]
    for proc in procs:
        assert proc.wait(timeout=30) == 0
    events = sorted(
        (float(t), kind) for kind, t in (line.split() for line in log.read_text().splitlines())
    )
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert len(events) == 10
    assert 1 <= peak <= 2  # capacity 2: never three jobs at once


def test_tokens_released_when_the_block_ends(tmp_path: Path) -> None:
    waited: list[str] = []
    with hold_tokens({"a": 2}, {"a": 2}, directory=tmp_path):
        pass
    started = time.monotonic()
    with hold_tokens({"a": 2}, {"a": 2}, directory=tmp_path, on_wait=waited.append):
        pass
    assert waited == [] and time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("wanted", "capacities", "message"),
    [
        ({"x": 1}, {}, "declared by no counter"),
        ({"x": 3}, {"x": 2}, "could never run"),
        ({"../x": 1}, {"../x": 1}, "cannot be a file name"),
    ],
)
def test_tokens_refuse(
    tmp_path: Path, wanted: dict[str, int], capacities: dict[str, int], message: str
) -> None:
    with (
        pytest.raises(InvalidValue, match=message),
        hold_tokens(wanted, capacities, directory=tmp_path),
    ):
        pass
