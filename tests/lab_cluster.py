"""The Slurm lab's node table (tests/slurm/lab/cluster/nodes.conf), as the lab properties'
brute force reads it, and how ``sbatch --test-only`` names the nodes a job would start on.
Shared by tests/test_slurm_lab_multinode.py and tests/test_slurm_lab_memory_dialects.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

MIB = 2**20

# "Job 12 to start at ... using 4 processors on nodes yip in partition gpu"
START_RE = re.compile(r"on nodes (\S+) in partition (\S+)")


@dataclass(frozen=True)
class Node:
    """One node of tests/slurm/lab/cluster/nodes.conf, GPU memory from its GPUM feature (the
    A100s': the lab file's 80G)."""

    features: frozenset[str]
    cores: int
    memory: int  # bytes
    gpus: int
    gpu_memory: float  # bytes per GPU


def _nodes(hosts: str, features: str, cores: int, memory_mib: int, gpus: int,
           gpu_memory: float) -> dict[str, Node]:
    node = Node(frozenset(features.split(",")), cores, memory_mib * MIB, gpus, gpu_memory)
    return {host: node for host in hosts.split(",")}


NODES = {
    **_nodes("yop,yep", "A6000,GPU3,GPUM48G", 32, 128000, 3, 48e9),
    **_nodes("yip,yup,yap", "RTX,GPU2,GPUM24G", 24, 96000, 2, 24e9),
    **_nodes("alpha,beta,gamma,delta", "GPU2,GPUM24G", 16, 64000, 2, 24e9),
    **_nodes("a100-01,a100-02", "Tesla,a100", 64, 500000, 8, 80e9),
    **_nodes("cpu-01,cpu-02,cpu-03,cpu-04", "intel,skylake", 40, 192000, 0, 0),
}
