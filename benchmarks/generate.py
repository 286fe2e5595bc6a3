"""Synthetic launcher files for the benchmarks, identical for reqsolve and the peer.

A file describes one Slurm cluster (plus one small local host) the way a real site writes it:
~50 partitions, 5 QoS with time limits / minimum GPU counts / priorities, accounts, and
heterogeneous GPU nodes whose count, memory and model are encoded in their *features*
(``GPU4``, ``GPUM24G``, ``A100``) and decoded by ``features_regex``. Every key used is one the
peer (experimaestro 1.5.7) reads, and every value is written so that its YAML loader and ours
agree (no bare numbers as names, a top-level ``configuration`` on the slurm item because the
peer crashes without one, ``min_mem_ratio`` at launcher level where the peer honours it).

Two layouts:

* grouped: hosts of one partition with the same hardware form one node group (what people write);
* one group per host: every host is its own node group, the peer's worst case (its first find
  deep-copies the whole launcher once per node group, so its cost is quadratic in hosts).

The output is deterministic for a given (hosts, layout, seed), so two runs measure the same file.

Usage::

    python3 benchmarks/generate.py --hosts 1000 [--one-group-per-host] [--seed 7] OUT_DIR
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

N_PARTITIONS = 50

# name -> (max_duration, min_gpu, priority)
QOS: dict[str, tuple[str, int, int]] = {
    "qos_short": ("2h", 0, 2),
    "qos_day": ("24h", 0, 1),
    "qos_week": ("168h", 0, 0),
    "qos_gpu": ("100h", 1, 1),
    "qos_gpu_long": ("720h", 2, -1),
}

ACCOUNTS = ("lab_vision", "lab_nlp", "lab_rl", "proj_a100", "proj_shared", "teaching")


@dataclass(frozen=True)
class GpuKind:
    """One kind of accelerator node: what its features say."""

    model: str
    memory_g: int
    counts: tuple[int, ...]
    cores: int
    memory: str


GPU_KINDS: tuple[GpuKind, ...] = (
    GpuKind("P100", 12, (2, 4), 24, "128G"),
    GpuKind("TITANX", 12, (4, 8), 32, "192G"),
    GpuKind("V100", 16, (4, 8), 40, "384G"),
    GpuKind("T4", 16, (1, 2, 4), 32, "192G"),
    GpuKind("V100", 32, (4, 8), 40, "384G"),
    GpuKind("RTX6000", 24, (2, 4, 8), 48, "384G"),
    GpuKind("A5000", 24, (2, 3, 4), 48, "256G"),
    GpuKind("A100", 40, (4, 8), 64, "512G"),
    GpuKind("A6000", 48, (2, 3, 4), 64, "512G"),
    GpuKind("L40S", 48, (4, 8), 64, "768G"),
    GpuKind("A100", 80, (4, 8), 128, "1024G"),
    GpuKind("H100", 80, (4, 8), 128, "1536G"),
)

CPU_KINDS: tuple[tuple[str, int, str], ...] = (
    ("SKYLAKE", 40, "192G"),
    ("CASCADELAKE", 48, "384G"),
    ("ROME", 128, "512G"),
    ("MILAN", 128, "1024G"),
)


def _partition_plan(rng: random.Random) -> list[dict[str, Any]]:
    """The ~50 partitions: which hardware, QoS, accounts, priority and limits each one has."""
    plans = []
    for index in range(N_PARTITIONS):
        gpu_partition = index % 5 != 4  # one partition in five is CPU-only
        if gpu_partition:
            kinds: list[Any] = rng.sample(GPU_KINDS, k=rng.choice((1, 2, 3)))
        else:
            kinds = rng.sample(CPU_KINDS, k=rng.choice((1, 2)))
        qos_names = sorted(QOS)
        qos = rng.sample(qos_names, k=rng.choice((0, 1, 2)))
        accounts = rng.sample(ACCOUNTS, k=rng.choice((0, 1, 1, 2)))
        plan: dict[str, Any] = {
            "name": f"{'gpu' if gpu_partition else 'cpu'}_p{index:02d}",
            "kinds": kinds,
            "qos": qos,
            "accounts": accounts,
            "priority": rng.choice((0, 0, 0, 1, 2)),
            "max_duration": rng.choice((None, None, "48h", "168h", "20 days")),
            "disabled": index == 13,
        }
        plans.append(plan)
    return plans


def _node_features(kind: Any, rng: random.Random) -> tuple[list[str], dict[str, Any]]:
    """Features (and the per-group configuration) for one node of a GPU or CPU kind."""
    if isinstance(kind, GpuKind):
        count = rng.choice(kind.counts)
        features = [f"GPU{count}", f"GPUM{kind.memory_g}G", kind.model]
        configuration = {"cpu": {"cores": kind.cores, "memory": kind.memory}}
    else:
        name, cores, memory = kind
        features = [name, "CPUONLY"]
        configuration = {"cpu": {"cores": cores, "memory": memory}}
    if rng.random() < 0.1:
        features.append("IB")
    return features, configuration


def generate(hosts: int, *, one_group_per_host: bool, seed: int = 7) -> dict[str, Any]:
    """The launcher file as plain YAML data (deterministic for the arguments)."""
    rng = random.Random(seed)
    plans = _partition_plan(rng)
    partitions: dict[str, Any] = {}
    # Hosts spread round-robin over partitions, so every partition has hosts even at 100.
    per_partition = [hosts // N_PARTITIONS + (1 if i < hosts % N_PARTITIONS else 0)
                     for i in range(N_PARTITIONS)]
    host_number = 0
    for plan, n_hosts in zip(plans, per_partition, strict=True):
        groups: dict[tuple[str, ...], dict[str, Any]] = {}
        ordered: list[dict[str, Any]] = []
        for _ in range(n_hosts):
            kind = rng.choice(plan["kinds"])
            features, configuration = _node_features(kind, rng)
            name = f"n{host_number:05d}"
            host_number += 1
            key = tuple(features)
            if one_group_per_host or key not in groups:
                group = {"hosts": [], "features": features, "configuration": configuration}
                groups[key] = group
                ordered.append(group)
            groups[key]["hosts"].append(name)
        partition: dict[str, Any] = {"nodes": ordered, "priority": plan["priority"]}
        if plan["qos"]:
            partition["qos"] = plan["qos"]
        if plan["accounts"]:
            partition["accounts"] = plan["accounts"]
        if plan["max_duration"]:
            partition["configuration"] = {"max_duration": plan["max_duration"]}
        if plan["disabled"]:
            partition["disabled"] = True
        partitions[plan["name"]] = partition

    slurm = {
        "id": "synthetic",
        "connector": "local",
        "tags": ["slurm", "synthetic"],
        "weight": 2,
        "features_regex": [r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)"],
        "features": {
            # a feature that carries configuration (precedence: features: before regexes)
            "IB": {"configuration": {"cpu": {"cores": 64}}},
        },
        "qos": {
            name: {"max_duration": duration, "min_gpu": min_gpu, "priority": priority}
            for name, (duration, min_gpu, priority) in QOS.items()
        },
        "configuration": {
            "cpu": {"mem_per_cpu": "4G"},
            "gpu": {"min_mem_ratio": 0.3},
        },
        "partitions": partitions,
    }
    local = {  # no `id`: the peer rejects that key on local items (ours defaults to local-0)
        "connector": "local",
        "weight": 1,
        "cpu": {"cores": 8, "memory": "32G"},
        "gpus": [{"model": "RTX3090", "count": 1, "memory": "24G"}],
    }
    return {"local": [local], "slurm": [slurm]}


def write(directory: Path, hosts: int, *, one_group_per_host: bool, seed: int = 7) -> Path:
    """Write ``directory/launchers.yaml`` (the peer reads that name from its config dir)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "launchers.yaml"
    data = generate(hosts, one_group_per_host=one_group_per_host, seed=seed)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    layout = "one node group per host" if one_group_per_host else "grouped node groups"
    header = f"# Synthetic cluster: {hosts} hosts, {layout}, seed {seed} (benchmarks/generate.py)\n"
    path.write_text(header + text, encoding="utf-8")
    return path


GPU_MEMORIES = (4, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80)


def requirement_stream(count: int, *, seed: int = 11) -> Iterator[str]:
    """``count`` distinct requirement texts, in a syntax both reqsolve and the peer accept.

    The peer's grammar knows only ``\\d+(G|M)`` sizes and ``h``/``d`` durations, so the stream
    stays inside it. Distinct texts defeat any answer cache: every find is real work. About one
    in five has two alternatives; a few ask for more than any node has (no match, the slowest
    path for a solver that must look at every candidate).
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        text = _one_alternative(rng)
        if rng.random() < 0.2:
            text = f"{text} | {_one_alternative(rng)}"
        if text not in seen:
            seen.add(text)
            yield text


def _one_alternative(rng: random.Random) -> str:
    terms = []
    if rng.random() < 0.5:
        hours = rng.randint(1, 240)
        terms.append(f"duration={hours}h" if hours % 24 else f"duration={hours // 24} days")
    if rng.random() < 0.8:
        memory = rng.choice(GPU_MEMORIES)
        count = rng.choice((1, 1, 1, 2, 2, 4, 8, 16))
        gpu = f"cuda(mem={memory}G)"
        terms.append(gpu if count == 1 else f"{gpu}*{count}")
    if rng.random() < 0.6 or not terms:
        cores = rng.choice((1, 2, 4, 8, 16, 32, 64, 256))
        if rng.random() < 0.5:
            memory_text = f"{rng.randint(1, 600)}G" if rng.random() < 0.7 else \
                f"{rng.randint(100, 9000)}M"
            terms.append(f"cpu(mem={memory_text}, cores={cores})")
        else:
            terms.append(f"cpu(cores={cores})")
    rng.shuffle(terms)
    return " & ".join(terms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--one-group-per-host", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    path = write(args.directory, args.hosts, one_group_per_host=args.one_group_per_host,
                 seed=args.seed)
    print(path)


if __name__ == "__main__":
    main()
