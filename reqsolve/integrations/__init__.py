"""Plug-ins for the tools that launch jobs: experimaestro, submitit and Snakemake.

Each module imports its tool only when it is used, so ``import reqsolve`` never needs them; they
are installed with the optional extras ``reqsolve[experimaestro]``, ``reqsolve[submitit]`` and
``reqsolve[snakemake]``.
"""
