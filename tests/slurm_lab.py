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

from tests.paths import ROOT

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


def _already_running(lab_dir: Path = LAB_DIR) -> bool:
    pid_file = lab_dir / "run" / "slurmctld.pid"
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def second_lab() -> tuple[Path, int]:
    """The directory and port of a second lab beside the default one (another cluster shape
    while the default lab keeps running): ``<SLURM_LAB_DIR>2`` and ``<SLURM_LAB_PORT> + 1000``."""
    return Path(f"{LAB_DIR}2"), int(os.environ.get("SLURM_LAB_PORT", "16817")) + 1000


@dataclasses.dataclass(frozen=True)
class Unavailable:
    """start.sh exited 3: Slurm cannot run on this machine; the lab tests are skipped."""

    reason: str


@dataclasses.dataclass(frozen=True)
class Broken:
    """start.sh failed otherwise: the lab tests fail, with its log."""

    message: str


Outcome = tuple[SlurmLab, bool] | Unavailable | Broken
_default: list[Outcome] = []  # the default lab: start.sh runs once per session


def default_lab() -> Outcome:
    """The default cluster in SLURM_LAB_DIR, started once per session whatever the outcome."""
    if not _default:
        _default.append(_start())
    return _default[0]


def start_lab(
    cluster: Path | None = None, *, lab_dir: Path | None = None, port: int | None = None
) -> tuple[SlurmLab, bool]:
    """Start (or reuse) a lab cluster; (lab, whether it was already running).

    Without arguments: the default cluster in SLURM_LAB_DIR. ``cluster`` is a directory with
    a ``nodes.conf`` (see docs/slurm.md); ``lab_dir``/``port`` run it in another lab.
    """
    if cluster is None and lab_dir is None and port is None:
        outcome = default_lab()
    else:
        outcome = _start(cluster, lab_dir=lab_dir, port=port)
    if isinstance(outcome, Unavailable):
        pytest.skip(outcome.reason)
    if isinstance(outcome, Broken):
        pytest.fail(outcome.message, pytrace=False)
    return outcome


def _start(
    cluster: Path | None = None, *, lab_dir: Path | None = None, port: int | None = None
) -> Outcome:
    script = LAB_HOME / "start.sh"
    if not script.is_file():
        return Broken(f"Slurm lab scripts not found in {LAB_HOME} (set SLURM_LAB_HOME)")
    environment = dict(os.environ)
    if lab_dir is not None:
        environment["SLURM_LAB_DIR"] = str(lab_dir)
    if port is not None:
        environment["SLURM_LAB_PORT"] = str(port)
    was_running = _already_running(lab_dir or LAB_DIR)
    started = time.monotonic()
    # cwd "/": the daemons start.sh leaves running keep their working directory, and a test
    # checkout or temporary folder may be deleted while they still run jobs (slurmstepd then
    # writes "Unable to get current working directory" into every job's output).
    argv = ["bash", str(script)] + ([str(cluster)] if cluster is not None else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL, check=False, cwd="/", env=environment)
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
    """Called by conftest.py before each test: a test of the lab (marked ``slurm``, or using
    the ``slurm_lab`` fixture) is skipped here, in one place, so that the summary gives the
    reason on one line ("SKIPPED [60] tests/slurm_lab.py:...") rather than once per test."""
    if item.get_closest_marker("slurm") or "slurm_lab" in getattr(item, "fixturenames", ()):
        outcome = default_lab()
        if isinstance(outcome, Unavailable):
            pytest.skip(outcome.reason)


def stop_lab(lab_dir: Path | None = None) -> None:
    """Stop the daemons of a lab (the default one unless ``lab_dir``)."""
    environment = dict(os.environ)
    if lab_dir is not None:
        environment["SLURM_LAB_DIR"] = str(lab_dir)
    subprocess.run(["bash", str(LAB_HOME / "stop.sh")], capture_output=True, timeout=120,
                   check=False, env=environment)


@pytest.fixture(scope="session")
def slurm_lab() -> Iterator[SlurmLab]:
    lab, was_running = start_lab()
    yield lab
    if not was_running and os.environ.get("SLURM_LAB_KEEP") != "1":
        stop_lab()
