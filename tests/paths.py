"""Where the files tests read lie: the repository, its fixtures and the launcher files many
tests share (one spelling of each path)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
# the launcher file of docs/ (the seed example), and the one describing the Slurm lab's clusters
DOCS_EXAMPLE = FIXTURES / "docs_example" / "launchers.yaml"
LAB_FILE = FIXTURES / "slurm" / "lab" / "launchers.yaml"
# captured outputs of Slurm's clients: a default 22.05 cluster, and one with custom features
SLURM_DEFAULT = FIXTURES / "slurm" / "default"
SLURM_CUSTOM = FIXTURES / "slurm" / "custom"
