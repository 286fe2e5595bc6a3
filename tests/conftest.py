"""Shared fixtures: the real Slurm lab (tests marked ``slurm``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.slurm_lab import (
    FOUND_NOTHING,
    IMPOSSIBLE_VERDICTS,
    START_TIMES,
    VERDICTS,
    SlurmLab,
    slurm_lab,
)

__all__ = ["SlurmLab", "slurm_lab"]


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Discovery caches and token slots of the test run stay out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


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
