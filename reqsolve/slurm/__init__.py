"""Slurm itself: readers of scontrol/sinfo output, discovery, conversion and jobs."""
