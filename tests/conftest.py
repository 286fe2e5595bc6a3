"""Shared fixtures: the real Slurm lab (tests marked ``slurm``)."""

from __future__ import annotations

import pytest

from tests.slurm_lab import START_TIMES, VERDICTS, SlurmLab, slurm_lab

__all__ = ["SlurmLab", "slurm_lab"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in START_TIMES:
        terminalreporter.write_line(f"slurm lab: start.sh took {seconds:.1f} s")
    if VERDICTS:
        accepted = sum(ok for _, ok in VERDICTS)
        terminalreporter.write_line(
            f"slurm lab: sbatch --test-only accepted {accepted}/{len(VERDICTS)} option sets"
        )
