"""Snakemake resources from reqsolve's answer (reqsolve.integrations.snakemake): the mapping to
snakemake-executor-plugin-slurm's resources, one answer per attempt, the errors raised while a
Snakefile is parsed, and real Snakemake runs (no Slurm: a dry run, and the local executor
retrying a rule). The run on the Slurm lab is tests/test_slurm_lab_snakemake.py."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("snakemake")
pytest.importorskip("snakemake_executor_plugin_slurm")

from reqsolve.answers.options import SlurmOptions
from reqsolve.errors import InvalidValue, LauncherNotFoundError
from reqsolve.integrations.snakemake import (
    PerAttempt,
    answers,
    mem_mib,
    plugin_resources,
    slurm_resources,
)
from tests.cli_run import cli
from tests.paths import FIXTURES, ROOT

LAUNCHERS = FIXTURES / "snakemake" / "launchers.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

# SlurmOptions -> the plugin's resources; cpus_per_task is always set (-1: no --cpus-per-task,
# else the plugin adds --cpus-per-task=<threads>)
MAPPING: list[tuple[str, SlurmOptions, dict[str, Any]]] = [
    ("cpu", SlurmOptions(partition="cpu", cpus_per_task=4, mem="7630M", time="00:20:00"),
     {"slurm_partition": "cpu", "runtime": 20, "nodes": 1, "cpus_per_task": 4, "mem_mb": 7630}),
    ("no cpus, no time", SlurmOptions(partition="a,b"),
     {"slurm_partition": "a,b", "nodes": 1, "cpus_per_task": -1}),
    ("gpu untyped", SlurmOptions(partition="gpu", gpus_per_node=2),
     {"slurm_partition": "gpu", "nodes": 1, "cpus_per_task": -1, "gres": "gpu:2"}),
    ("gpu typed", SlurmOptions(partition="gpu", gpus_per_node=2, gpu_type="a100"),
     {"slurm_partition": "gpu", "nodes": 1, "cpus_per_task": -1, "gres": "gpu:a100:2"}),
    ("gres dialect", SlurmOptions(gpus_per_node=1, gpu_type="a100_3g.20gb", gpu_option="gres"),
     {"nodes": 1, "cpus_per_task": -1, "gres": "gpu:a100_3g.20gb:1"}),
    # the plugin's gres check refuses '-' in a type: asked per node in slurm_extra instead
    ("gpu type the plugin refuses", SlurmOptions(gpus_per_node=2, gpu_type="rtx-6000"),
     {"nodes": 1, "cpus_per_task": -1, "slurm_extra": "--gpus-per-node=rtx-6000:2"}),
    ("gpus per job", SlurmOptions(gpus=4, nodes=None),
     {"cpus_per_task": -1, "gpu": 4}),
    ("exclude and nodelist", SlurmOptions(exclude="n-[01-02],m1", nodelist="k1"),
     {"nodes": 1, "cpus_per_task": -1, "slurm_extra": "--exclude=n-[01-02],m1 --nodelist=k1"}),
    ("account, qos, constraint",
     SlurmOptions(partition="a100", account="iea@a100", qos="qos_gpu-t4", constraint="Tesla&a100",
                  time="4-00:00:00"),
     {"slurm_partition": "a100", "slurm_account": "iea@a100", "qos": "qos_gpu-t4",
      "constraint": "Tesla&a100", "runtime": 5760, "nodes": 1, "cpus_per_task": -1}),
    # without GPUs the plugin adds --ntasks=<tasks>: the total, beside --ntasks-per-node
    ("nodes and tasks", SlurmOptions(nodes=2, ntasks_per_node=4, cpus_per_task=8),
     {"nodes": 2, "tasks": 8, "cpus_per_task": 8, "slurm_extra": "--ntasks-per-node=4"}),
    # with GPUs it would read tasks as --ntasks-per-gpu: no tasks resource
    ("nodes, tasks and gpus", SlurmOptions(nodes=2, ntasks_per_node=2, gpus_per_node=2),
     {"nodes": 2, "cpus_per_task": -1, "gres": "gpu:2", "slurm_extra": "--ntasks-per-node=2"}),
    ("mem per gpu", SlurmOptions(gpus_per_node=1, mem_per_gpu="20G"),
     {"nodes": 1, "cpus_per_task": -1, "gres": "gpu:1", "slurm_extra": "--mem-per-gpu=20G"}),
    # whole minutes rounded up: never less than asked
    ("seconds round up", SlurmOptions(time="00:00:30", nodes=None), {"runtime": 1,
                                                                     "cpus_per_task": -1}),
    ("a day and a second", SlurmOptions(time="1-00:00:01", nodes=None),
     {"runtime": 1441, "cpus_per_task": -1}),
]


@pytest.mark.parametrize(("options", "expected"), [m[1:] for m in MAPPING],
                         ids=[m[0] for m in MAPPING])
def test_plugin_resources(options: SlurmOptions, expected: dict[str, Any]) -> None:
    # mem_mb is always said: 0 when the answer has no --mem (Snakemake's default would be one)
    assert plugin_resources(options) == {"mem_mb": 0, **expected}


@pytest.mark.parametrize(("text", "mib"), [
    ("382M", 382), ("382", 382), ("2G", 2048), ("1T", 1024 * 1024), ("1537K", 2), ("1024K", 1),
])
def test_memory_in_whole_mib_rounded_up(text: str, mib: int) -> None:
    assert mem_mib(text) == mib


@pytest.mark.parametrize(("options", "words"), [
    # --mem=0 (all the node's memory) cannot be mem_mb: 0 is how the plugin leaves --mem out
    (SlurmOptions(mem="0"), "cannot be given to the Slurm plugin"),
    # the plugin refuses a slurm_extra holding "-J" anywhere (its job-name check)
    (SlurmOptions(exclude="rack-J1"), "would be refused by the Slurm plugin"),
])
def test_options_the_plugin_cannot_take(options: SlurmOptions, words: str) -> None:
    with pytest.raises(InvalidValue, match=words):
        plugin_resources(options)


def plain(resources: dict[str, Any]) -> dict[str, Any]:
    """A resource that differs between attempts as the tuple of its values."""
    return {k: v.values if isinstance(v, PerAttempt) else v for k, v in resources.items()}


SOLVED = [
    ("duration=20m & cpu(cores=4, mem=8G)",
     {"slurm_partition": "cpu", "runtime": 20, "nodes": 1, "cpus_per_task": 4, "mem_mb": 7630}),
    # the gpu partition mixes 80G and 24G GPUs: the small ones are excluded by name
    ("duration=2h & cuda(mem=40G)*2 & cpu(cores=8)",
     {"slurm_partition": "gpu", "slurm_account": "proj-gpu", "qos": "short", "runtime": 120,
      "nodes": 1, "cpus_per_task": 8, "gres": "gpu:2",
      "slurm_extra": "--exclude=small-01,small-02"}),
    # no duration: the chosen limit (docs/matching.md), here the cpu partition's 2 days
    ("cpu(cores=8)", {"slurm_partition": "cpu", "runtime": 2880, "nodes": 1, "cpus_per_task": 8}),
    # attempt 1 on the GPU, attempt 2 on CPUs: a resource one answer does not set is UNSET there
    ("duration=1h & cuda(mem=20G) | duration=6h & cpu(cores=16, mem=32G)",
     {"slurm_partition": ("gpu", "cpu"), "slurm_account": ("proj-gpu", None),
      "qos": ("short", None), "runtime": (60, 360), "nodes": 1, "cpus_per_task": (-1, 16),
      "mem_mb": (0, 30518), "gres": ("gpu:1", None)}),
    # the first alternative fits only the workstation: attempt 1 is the second one
    ("cpu(cores=64) & duration=1h | cpu(cores=32) & duration=3h | cpu(cores=16) & duration=20h",
     {"slurm_partition": "cpu", "runtime": (180, 1200), "nodes": 1, "cpus_per_task": (32, 16)}),
    ("nodes=2 & tasks=4 & cpu(cores=8) & duration=1h",
     {"slurm_partition": "cpu", "runtime": 60, "nodes": 2, "tasks": 8, "cpus_per_task": 8,
      "slurm_extra": "--ntasks-per-node=4"}),
]


@pytest.mark.parametrize(("requirement", "expected"), SOLVED)
def test_slurm_resources(requirement: str, expected: dict[str, Any]) -> None:
    assert plain(slurm_resources(requirement, config=str(LAUNCHERS))) == {"mem_mb": 0,
                                                                          **expected}


@pytest.mark.parametrize(("requirement", "used"), [
    ("cpu(cores=4)", [0]),
    ("cuda(mem=20G) & duration=1h | cpu(cores=16) & duration=6h", [0, 1]),
    # an alternative no Slurm launcher can run is skipped: attempts use 1, then 3
    ("cpu(cores=64) | cpu(cores=32) | cuda(mem=200G) | cpu(cores=16)", [1, 3]),
    ("cuda(mem=70G)*2 | cuda(mem=20G) & duration=2h | cuda(mem=20G) & duration=5h", [0, 1, 2]),
])
def test_each_attempt_takes_the_next_alternative(requirement: str, used: list[int]) -> None:
    chain = answers(requirement, config=str(LAUNCHERS))
    assert [match.alternative_index for match in chain] == used
    assert all(match.options is not None for match in chain)


def test_attempts_past_the_last_answer_keep_it() -> None:
    runtime = slurm_resources("cuda(mem=20G) & duration=1h | cpu(cores=16) & duration=6h",
                              config=str(LAUNCHERS))["runtime"]
    assert isinstance(runtime, PerAttempt)
    assert [runtime({}, attempt) for attempt in (1, 2, 3, 9)] == [60, 360, 360, 360]


def test_nothing_fits_raises_with_reasons_and_the_command_that_explains() -> None:
    with pytest.raises(LauncherNotFoundError) as caught:
        slurm_resources("cuda(mem=200G) & duration=2h | cpu(cores=500)", config=str(LAUNCHERS))
    error = caught.value
    text = str(error)
    assert error.closest is not None and error.closest.partition == "gpu"
    assert {r.alternative for r in error.reasons} == {0, 1}
    assert "closest: cluster/gpu[0] qos=short account=proj-gpu: GPU memory 80G < 200G" in text
    assert "  1: cluster/cpu[0]: 500 cores asked, the node has 48" in text
    hint = text.rsplit("every candidate and its verdict: ", 1)[1]
    argv = shlex.split(hint)
    assert argv[:2] == ["reqsolve", "explain"]
    code, out, err = cli(*argv[1:])
    assert code == 1 and "answer: none" in out, (argv, code, out, err)


def test_a_local_answer_is_an_error_naming_the_launcher() -> None:
    with pytest.raises(LauncherNotFoundError) as caught:
        slurm_resources("cpu(cores=64) & duration=1h", config=str(LAUNCHERS))
    text = str(caught.value)
    assert "only the local launcher workstation can run it" in text
    assert "local=True" in text and "localrule: True" in text
    assert caught.value.reasons  # the Slurm candidates' reasons, as reqsolve gives them


def test_a_local_answer_asked_for_gives_no_resource() -> None:
    assert slurm_resources("cpu(cores=64) & duration=1h", config=str(LAUNCHERS), local=True) == {}
    # a rule a Slurm launcher can run gets its Slurm resources, local=True or not
    assert slurm_resources("cpu(cores=4)", config=str(LAUNCHERS), local=True)["slurm_partition"]


# --- real Snakemake, no Slurm


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "REQSOLVE_"))}
    env.update(HOME=str(workdir / "home"), PYTHONPATH=str(ROOT),
               SLURM_CONF=str(workdir / "no-slurm.conf"))
    return subprocess.run([str(SNAKEMAKE), *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def write_snakefile(where: Path, rule: str) -> Path:
    path = where / "Snakefile"
    path.write_text(
        "from reqsolve.integrations.snakemake import slurm_resources\n"
        f"LAUNCHERS = {str(LAUNCHERS)!r}\n\n" + rule
    )
    return path


def test_snakemake_stops_at_parse_time_with_the_reasons(tmp_path: Path) -> None:
    write_snakefile(tmp_path, (
        "rule train:\n"
        "    output: 'model.txt'\n"
        "    resources: **slurm_resources('cuda(mem=200G) & duration=2h', config=LAUNCHERS)\n"
        "    shell: 'touch {output}'\n"
    ))
    done = snakemake(tmp_path, "--executor", "slurm", "--jobs", "1", "--dry-run")
    shown = done.stdout + done.stderr
    assert done.returncode != 0
    assert "LauncherNotFoundError" in shown and 'Snakefile", line 6' in shown
    assert "closest: cluster/gpu[0] qos=short account=proj-gpu: GPU memory 80G < 200G" in shown
    assert "  0: cluster/gpu[1] qos=short account=proj-gpu: GPU memory 24G < 200G" in shown


def test_a_retried_rule_gets_the_next_alternative(tmp_path: Path) -> None:
    """Snakemake's local executor retries a rule that fails on its first attempt: the second
    attempt's resources are all the second answer's."""
    write_snakefile(tmp_path, (
        "rule retried:\n"
        "    output: 'retried.txt'\n"
        "    resources: **slurm_resources('cuda(mem=20G) & duration=1h"
        " | cpu(cores=16, mem=32G) & duration=6h', config=LAUNCHERS)\n"
        "    shell:\n"
        "        'echo {resources.slurm_partition} {resources.runtime} {resources.cpus_per_task}"
        " {resources.mem_mb} >> attempts.txt;'\n"
        "        ' test -e attempts.done || {{ touch attempts.done; exit 1; }}; touch {output}'\n"
    ))
    done = snakemake(tmp_path, "--cores", "1", "--retries", "2")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "attempts.txt").read_text().splitlines() == [
        "gpu 60 -1 0", "cpu 360 16 30518",
    ]


def test_dry_run_of_the_docs_snakefile_shows_the_answers(tmp_path: Path) -> None:
    done = snakemake(tmp_path, "--snakefile", str(FIXTURES / "snakemake" / "Snakefile"),
                     "--executor", "slurm", "--jobs", "3", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "slurm_partition=cpu, runtime=20, nodes=1, cpus_per_task=4, mem_mb=7630" in done.stdout
    assert ("slurm_partition=gpu, slurm_account=proj-gpu, qos=short, runtime=120, nodes=1,"
            " cpus_per_task=8, gres=gpu:2, slurm_extra=--exclude=small-01,small-02") in done.stdout


def test_the_docs_show_the_snakefile_of_the_fixtures() -> None:
    page = (ROOT / "docs" / "snakemake.md").read_text(encoding="utf-8")
    snakefile = (FIXTURES / "snakemake" / "Snakefile").read_text(encoding="utf-8")
    assert f"```snakemake\n{snakefile}```" in page
