"""Load and validate time of a synthetic launcher file with 10,000 hosts.

    python3 benchmarks/bench_config.py [--hosts 10000] [--repeat 5]

The file has one Slurm launcher with features_regex, 50 partitions of node groups with 10 hosts
each (host names listed, three features per group), so every part of the loader, the checks and
the lint rules runs. Prints the best and median of ``--repeat`` runs for: composing the YAML,
``load_config`` (compose + check + build + lint), and ``reqsolve validate`` in-process.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reqsolve.cli import run
from reqsolve.config.loader import compose, load_config

GPUS = [(4, "24G", "RTX3090"), (8, "80G", "A100"), (2, "48G", "A6000"), (4, "16G", "V100")]


def synthetic_file(hosts: int, *, per_group: int = 10, partitions: int = 50) -> str:
    groups = max(hosts // per_group, 1)
    lines = [
        "slurm:",
        "  - id: big",
        "    connector: local",
        "    features_regex:",
        "      - GPU(?P<cuda_count>\\d+)",
        "      - GPUM(?P<cuda_memory>\\d+G)",
        "    configuration:",
        "      cpu: {cores: 64, memory: 512G}",
        "      gpu: {min_mem_ratio: 0.5}",
        "    qos:",
        "      normal: {max_duration: 20h, priority: 1}",
        "    partitions:",
    ]
    per_partition = -(-groups // partitions)
    host = 0
    for p in range(partitions):
        lines.append(f"      part{p}:")
        lines.append("        qos: [normal]")
        lines.append("        nodes:")
        for _ in range(per_partition):
            if host >= hosts:
                break
            count, memory, model = GPUS[host % len(GPUS)]
            names = ", ".join(f"n{host + i:05d}" for i in range(min(per_group, hosts - host)))
            host += per_group
            lines.append(f"          - hosts: [{names}]")
            lines.append(f"            features: [GPU{count}, GPUM{memory}, {model}]")
    return "\n".join(lines) + "\n"


def measure(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "launchers.yaml"
        text = synthetic_file(args.hosts)
        path.write_text(text)
        launcher_file = load_config(path)  # warm: pint registry, regex cache
        hosts = sum(
            len(group.hosts)
            for launcher in launcher_file.launchers
            for partition in getattr(launcher, "partitions", ())
            for group in partition.nodes
        )

        def validate() -> None:
            run(["validate", str(path)], io.StringIO(), io.StringIO())

        rows = [
            ("compose (YAML events -> nodes)", measure(lambda: compose(text), args.repeat)),
            ("load_config (check + build + lint)", measure(lambda: load_config(path), args.repeat)),
            ("reqsolve validate (in-process)", measure(validate, args.repeat)),
        ]
    print(f"{hosts} hosts, {len(text) / 1024:.0f} KiB, {args.repeat} runs")
    print(f"{'step':40} {'best':>9} {'median':>9}")
    for name, (best, median) in rows:
        print(f"{name:40} {best * 1000:8.1f}ms {median * 1000:8.1f}ms")


if __name__ == "__main__":
    main()
