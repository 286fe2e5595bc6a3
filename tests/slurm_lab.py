"""The real Slurm lab (tests/slurm/lab/, docs/slurm.md) as a pytest session fixture.

The lab is started once per session by ``start.sh`` (idempotent: 0.2 s when already up), when
the first test needing it runs. Tests skip only when start.sh exits 3 (Slurm cannot be installed
or run here: not root, no apt-get), with that one reason; any other failure fails them. The run
that started the lab stops it at the end, unless SLURM_LAB_KEEP=1; a lab that was already
running is left running.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# start.sh, stop.sh and the cluster description; SLURM_LAB_HOME points elsewhere to try another
LAB_HOME = Path(os.environ.get("SLURM_LAB_HOME", ROOT / "tests" / "slurm" / "lab"))
LAB_DIR = Path(os.environ.get("SLURM_LAB_DIR", "/tmp/slurm-lab"))
UNAVAILABLE = 3  # start.sh: Slurm cannot be installed or run on this machine
START_TIMES: list[float] = []  # seconds taken by start.sh in this session (reported)
VERDICTS: list[tuple[str, bool]] = []  # (option set, accepted by sbatch --test-only)
IMPOSSIBLE_VERDICTS: list[tuple[str, bool]] = []  # (naive option set, refused by Slurm)
FOUND_NOTHING: list[str] = []  # grid requirements reqsolve answered "impossible"


@dataclasses.dataclass(frozen=True)
class SlurmLab:
    """A running lab: ``env`` is what every Slurm client needs (SLURM_CONF, no SLURM_* leak)."""

    conf: Path
    env: dict[str, str]
    start_seconds: float

    def run(self, *argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60,
                              check=False, cwd="/tmp", input=input)

    def test_only(self, *options: str) -> tuple[bool, str]:
        """``sbatch --test-only OPTIONS --wrap true`` -> (accepted, Slurm's message)."""
        done = self.run("sbatch", "--test-only", *options, "--wrap", "true")
        return done.returncode == 0, (done.stdout + done.stderr).strip()


def _already_running() -> bool:
    pid_file = LAB_DIR / "run" / "slurmctld.pid"
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Unavailable:
    """start.sh exited 3: Slurm cannot run on this machine; the lab tests are skipped."""

    reason: str


@dataclasses.dataclass(frozen=True)
class Broken:
    """start.sh failed otherwise: the lab tests fail, with its log."""

    message: str


_outcome: list[tuple[SlurmLab, bool] | Unavailable | Broken] = []  # start.sh runs once


def start_lab() -> tuple[SlurmLab, bool] | Unavailable | Broken:
    """Start (or reuse) the default lab cluster, once per session: (lab, whether it was
    already running), or why it cannot be used."""
    if not _outcome:
        _outcome.append(_start())
    return _outcome[0]


def _start() -> tuple[SlurmLab, bool] | Unavailable | Broken:
    script = LAB_HOME / "start.sh"
    if not script.is_file():
        return Broken(f"Slurm lab scripts not found in {LAB_HOME} (set SLURM_LAB_HOME)")
    was_running = _already_running()
    started = time.monotonic()
    # cwd "/": the daemons start.sh leaves running keep their working directory, and a test
    # checkout or temporary folder may be deleted while they still run jobs (slurmstepd then
    # writes "Unable to get current working directory" into every job's output).
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL, check=False, cwd="/")
    seconds = time.monotonic() - started
    if done.returncode == UNAVAILABLE:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "exit 3"
        return Unavailable("real Slurm unavailable here (start.sh exit 3): " + last)
    if done.returncode != 0:
        return Broken(f"start.sh failed (exit {done.returncode}):\n{done.stderr}")
    conf = next(line.split("=", 1)[1] for line in done.stdout.splitlines()
                if line.startswith("export SLURM_CONF="))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_"))}
    env["SLURM_CONF"] = conf
    START_TIMES.append(seconds)
    return SlurmLab(conf=Path(conf), env=env, start_seconds=seconds), was_running


def skip_when_unavailable(item: pytest.Item) -> None:
    """Called by conftest.py before each test: a test of the lab is skipped here, in one
    place, so that the summary gives the reason once ("SKIPPED [31] tests/slurm_lab.py:...")
    rather than once per test function."""
    if "slurm_lab" in getattr(item, "fixturenames", ()):
        outcome = start_lab()
        if isinstance(outcome, Unavailable):
            pytest.skip(outcome.reason)


@pytest.fixture(scope="session")
def slurm_lab() -> Iterator[SlurmLab]:
    outcome = start_lab()
    if isinstance(outcome, Unavailable):  # pragma: no cover - skipped before, by conftest.py
        pytest.skip(outcome.reason)
    if isinstance(outcome, Broken):
        pytest.fail(outcome.message, pytrace=False)
    lab, was_running = outcome
    yield lab
    if not was_running and os.environ.get("SLURM_LAB_KEEP") != "1":
        subprocess.run(["bash", str(LAB_HOME / "stop.sh")], capture_output=True, timeout=120,
                       check=False)
