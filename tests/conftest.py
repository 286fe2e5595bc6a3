"""Shared fixtures: the real Slurm lab (tests marked ``slurm``), private caches and homes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slurm_lab import (
    FOUND_NOTHING,
    IMPOSSIBLE_VERDICTS,
    START_TIMES,
    VERDICTS,
    SlurmLab,
    skip_when_unavailable,
    slurm_lab,
)

__all__ = ["SlurmLab", "slurm_lab"]


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Discovery caches and the token and GPU locks of the test run stay out of the user's
    ~/.cache and ~/.local/state, and in-process tests see no GPU of the machine running them
    (tests/fake_nvidia_smi.py fakes machines with GPUs in subprocesses)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        patch.setenv("REQSOLVE_NVIDIA_SMI", "")
        yield


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home (mode 700, as a real one) whose ~/.config is the one looked at: no
    $XDG_CONFIG_HOME or $REQSOLVE_CONFIG of the machine running the tests."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)
    return home


@pytest.fixture(scope="module", params=("lark", "lark-cython"))
def parser_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a parser test module once per back-end (plain lark, lark with the Cython plugin):
    both must give the same values and the same errors, byte for byte."""
    from reqsolve import parser

    if request.param == "lark-cython" and not parser.compiled_backend_available():
        pytest.skip("lark-cython has no wheel for this platform; plain lark serves every parse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_backend", request.param)
        yield request.param


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    skip_when_unavailable(item)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in START_TIMES:
        terminalreporter.write_line(f"slurm lab: start.sh took {seconds:.1f} s")
    if VERDICTS:
        accepted = sum(ok for _, ok in VERDICTS)
        terminalreporter.write_line(
            f"slurm lab: sbatch --test-only accepted {accepted}/{len(VERDICTS)} option sets"
        )
    if IMPOSSIBLE_VERDICTS:
        refused = sum(ok for _, ok in IMPOSSIBLE_VERDICTS)
        terminalreporter.write_line(
            f"slurm lab: Slurm refused {refused}/{len(IMPOSSIBLE_VERDICTS)} option sets of "
            f"requests reqsolve calls impossible (+{len(FOUND_NOTHING)} grid requests "
            "reqsolve found impossible, checked against the node table)"
        )
