"""Against the Slurm lab: the request forms of issue 21 §2 are accepted by ``sbatch --test-only``.

A launcher file describing lab nodes as a user might (memory turned into CPUs, per-node time
limits) is written here; reqsolve's answers for it must be accepted by the real controller.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reqsolve.finder import find_launcher
from reqsolve.launchers import SlurmLauncher
from tests.slurm_lab import VERDICTS, SlurmLab

pytestmark = pytest.mark.slurm

# the lab's gpu partition (yip/yup/yap: 24 CPUs, 2 GPUs; DefMemPerCPU=3000) and cpu partition
# (cpu-01..04: 40 CPUs; DefMemPerCPU=4000), memory per CPU as the lab's partitions give it; the
# small partition's 2-GPU nodes stated twice, one half with a 1 h limit and one GPU (as a site
# whose file says so): a 2-GPU job is never placed there, so its limit does not count
FORMS = """
slurm:
  - id: lab
    use_features: false
    use_memory_contraint: false
    partitions:
      gpu:
        nodes:
          - hosts: [yip, yup, yap]
            configuration:
              cpu: {cores: 24, memory: 96000MiB, mem_per_cpu: 3000MiB}
              gpu: {count: 2, memory: 24G}
      cpu:
        nodes:
          - hosts: [cpu-01, cpu-02, cpu-03, cpu-04]
            configuration:
              cpu: {cores: 40, memory: 192000MiB, mem_per_cpu: 4000MiB}
      small:
        configuration:
          max_duration: 24h
        nodes:
          - hosts: [alpha, beta]
            configuration:
              cpu: {cores: 16, memory: 64000MiB, mem_per_cpu: 3000MiB}
              gpu: {count: 2, memory: 24G}
          - hosts: [gamma, delta]
            configuration:
              max_duration: 1h
              cpu: {cores: 16, memory: 64000MiB, mem_per_cpu: 3000MiB}
              gpu: {count: 1, memory: 24G}
"""


@pytest.mark.parametrize(
    ("expression", "partition", "cpus", "time"),
    [
        # 60G: 20 CPUs at 3000MiB, 15 at 4000MiB; 20 fit both (24 and 40 cores): both partitions
        ("cpu(mem=60G)", "gpu,cpu", 20, None),
        # 24 cores asked, above the memory's count: the gpu nodes' 24 are every node's need
        ("cpu(mem=20G, cores=24)", "gpu,cpu", 24, None),
        # two GPUs, no duration: the 1-GPU nodes (1 h) are never placed; small's 24 h
        ("cuda()*2 & cpu(cores=4)", "gpu,small", 4, "1-00:00:00"),
        ("cuda()*2", "gpu,small", None, "1-00:00:00"),
    ],
)
def test_forms_are_accepted(slurm_lab: SlurmLab, tmp_path: Path, expression: str,
                            partition: str, cpus: int | None, time: str | None) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(FORMS)
    launcher = find_launcher(expression, config=str(path), offline=True)
    assert isinstance(launcher, SlurmLauncher) and launcher.options is not None
    options = launcher.options
    assert (options.partition, options.cpus_per_task, options.time) == (partition, cpus, time)
    ok, message = slurm_lab.test_only(*options.args())
    VERDICTS.append((f"forms: {expression}", ok))
    assert ok, f"{options.args()}: {message}"

