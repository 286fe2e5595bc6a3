"""Slurm: emitted options and their renderings, readers of scontrol/sinfo output, connectors."""
