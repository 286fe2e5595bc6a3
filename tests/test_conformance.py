"""Every case of tests/conformance/, run through ``reqsolve find --format json``.

Answers are compared by meaning (tests/conformance/README.md): the launcher, the alternative, the
partitions as a set, and the set of (partition, host) pairs that partition + constraint +
exclude + nodelist admit — evaluated here, independently of reqsolve, over the node groups
of the file — then the scalar options by value.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli_run import cli
from tests.reference import MIB, holds, parse_constraint, slurm_mib, slurm_seconds

CONFORMANCE = Path(__file__).resolve().parent / "conformance"


def _cases() -> list[Any]:
    cases = []
    for path in sorted((CONFORMANCE / "expected").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                case = (path.stem, json.loads(line))
                cases.append(pytest.param(case, id=f"{path.stem}:{number}"))
    return cases


# --- an independent reading of the file's node groups (constraints: tests/reference.py)


@cache
def node_groups(config: str) -> dict[str, dict[str, list[tuple[list[str], set[str]]]]]:
    """launcher id -> partition -> [(hosts or one pseudo-host, features)]."""
    data = yaml.safe_load((CONFORMANCE / "configs" / config / "launchers.yaml").read_text())
    result: dict[str, dict[str, list[tuple[list[str], set[str]]]]] = {}
    for item in (data or {}).get("slurm") or []:
        partitions: dict[str, list[tuple[list[str], set[str]]]] = {}
        for name, partition in (item.get("partitions") or {}).items():
            groups = []
            for index, group in enumerate((partition or {}).get("nodes") or []):
                hosts = [str(h) for h in group.get("hosts") or []] or [f"<{name}:{index}>"]
                groups.append((hosts, {str(f) for f in group.get("features") or []}))
            partitions[str(name)] = groups
        result[str(item["id"])] = partitions
    return result


def admitted(config: str, launcher: str, options: dict[str, Any]) -> set[tuple[str, str]]:
    partitions = options["partition"].split(",")
    tree = parse_constraint(options["constraint"]) if options.get("constraint") else None
    exclude = set((options.get("exclude") or "").split(",")) - {""}
    nodelist = set((options.get("nodelist") or "").split(",")) - {""}
    pairs = set()
    for partition in partitions:
        for hosts, features in node_groups(config)[launcher][partition]:
            if tree is not None and not holds(tree, features):
                continue
            for host in hosts:
                if host in exclude or (nodelist and host not in nodelist):
                    continue
                pairs.add((partition, host))
    return pairs


_MEMORY_REASON = re.compile(r"memory (\d+) > (\d+)")
_DURATION_REASON = re.compile(r"duration (\d+)s > max (\d+)s")


def in_slurm_units(reason: str) -> str:
    """A corpus reason with the capacity as Slurm holds it (docs/deviations.md, "Slurm's
    units"): node memory in whole MiB, time limits in whole minutes."""
    reason = _MEMORY_REASON.sub(
        lambda m: f"memory {m[1]} > {int(m[2]) // MIB * MIB}", reason
    )
    return _DURATION_REASON.sub(
        lambda m: f"duration {m[1]}s > max {int(m[2]) // 60 * 60}s", reason
    )


def reason_keys(reasons: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("alternative", "launcher", "partition", "group", "qos", "account")
    return [(*(r[k] for k in keys), in_slurm_units(r["reason"])) for r in reasons]


# the mem_per_cpu config's three partitions, kept with one --cpus-per-task (issue 21 §2)
ONE_COUNT = {"partition": "cpu,gpu,bigmem", "constraint": "(BIGMEM)|(CPU)|(GPU4&GPUM32G)"}

# Where the corpus's answer breaks a rule decided after it (docs/deviations.md): the corpus
# files are not edited; each case says what reqsolve answers instead, and why.
# (config, requirement, tags) -> {option: value} replacing the corpus's, or "memory": refused
# because the memory emitted (whole MiB, rounded up) exceeds what Slurm holds (rounded down).
SLURM_UNITS: dict[tuple[str, str, tuple[str, ...]], dict[str, Any] | str] = {
    # 64G = 61035.16 MiB: Slurm holds 61035, --mem would be 61036M
    ("disabled_partitions", "cpu(mem=64G, cores=16)", ("dis",)): "memory",
    ("mem_per_cpu", "cpu(mem=256G, cores=64)", ("mpc",)): "memory",
    ("mem_per_cpu", "cpu(mem=256G, cores=64)", ("memc",)): "memory",
    ("mem_per_cpu", "cpu(cores=64, mem=256G)", ("mpc",)): "memory",
    # refused in the corpus too, but memory (64G > 61035 MiB) is now the first unmet condition
    ("mem_per_cpu", "cpu(mem=64G, cores=16)", ("nompc",)): "memory",
    # mem_per_cpu 4G = 3814 MiB to Slurm: 3 CPUs give 11.998 GB < 12 GB, so 4 CPUs
    ("mem_per_cpu", "cpu(mem=12G, cores=1)", ("mpc",)): {"cpus_per_task": 4, **ONE_COUNT},
    # 8G = 7629 MiB per CPU on the GPU partition: one CPU gives 7.9998 GB < 8 GB
    ("mem_per_cpu", "cpu(mem=8G) & cuda(mem=1G)", ("mpc",)): {"cpus_per_task": 2},
    # 4G asked, 3814 MiB per CPU: two CPUs
    ("mem_per_cpu", "duration=3h & cpu(mem=4G)", ("mpc",)): {"cpus_per_task": 2, **ONE_COUNT},
    ("mem_per_cpu", "cpu(mem=4G)", ()): {"cpus_per_task": 2, **ONE_COUNT},
    # the same rule decided after the corpus (issue 21 §2; docs/semantics.md §6 cpus_per_task):
    # with memory turned into CPUs, partitions of other mem_per_cpu are kept too when the count
    # the cpu partition (4G per CPU) needs fits their cores (gpu: 8G, 64; bigmem: 16G, 32)
    ("mem_per_cpu", "cpu(mem=10G, cores=1)", ("mpc",)): ONE_COUNT,
    ("mem_per_cpu", "cpu(mem=12001M, cores=1)", ("mpc",)): ONE_COUNT,
    ("mem_per_cpu", "cpu(mem=10G, cores=8)", ("mpc",)): ONE_COUNT,
    ("mem_per_cpu", "cpu(mem=4096M)", ("mpc",)): ONE_COUNT,
}


@pytest.mark.parametrize("case", _cases())
def test_conformance(case: tuple[str, dict[str, Any]]) -> None:
    config, data = case
    argv = ["find", "--config", str(CONFORMANCE / "configs" / config / "launchers.yaml")]
    if data["tags"]:
        argv += ["--tags", ",".join(data["tags"])]
    argv += ["--offline", "--format", "json", data["requirement"]]
    code, out, err = cli(*argv)
    expected = data["answer"]

    if "error" in expected:
        assert code == 2, out
        assert err.strip()
        return
    got = json.loads(out)
    deviation = SLURM_UNITS.get((config, data["requirement"], tuple(data["tags"])))
    if deviation == "memory":
        assert code == 1, got
        assert got["reasons"][0]["code"] == "memory", got["reasons"][0]
        return
    if expected["launcher"] is None:
        assert code == 1, got
        assert got["launcher"] is None
        # one reason per candidate, and the first unmet condition in the corpus's words
        assert reason_keys(got["reasons"]) == reason_keys(expected["reasons"])
        return
    assert code == 0, err
    assert got["launcher"] == expected["launcher"]
    assert got["alternative"] == expected["alternative"]
    if expected["launcher"]["type"] == "local":
        assert got["tokens"] == expected["tokens"]
        assert got["options"] is None
        return
    mine, theirs = got["options"], {**expected["options"], **(deviation or {})}
    assert set(mine["partition"].split(",")) == set(theirs["partition"].split(","))
    launcher = expected["launcher"]["id"]
    assert admitted(config, launcher, mine) == admitted(config, launcher, theirs)
    for key in ("gpus_per_node", "cpus_per_task", "qos", "account", "nodes"):
        assert mine[key] == theirs[key], key
    # tasks=T (docs/semantics.md §6): the key is there only when asked
    assert mine.get("ntasks_per_node") == theirs.get("ntasks_per_node")
    # a typed list (§6): there only when set; the older cases state no GPU type or dialect
    assert mine.get("gpu_types") == theirs.get("gpu_types")
    for key in ("gpu_type", "gpu_option"):
        if key in theirs:
            assert mine.get(key) == theirs[key], key
    if theirs["time"] is None and mine["time"] is not None:
        # no duration asked: the job asks for the chosen limit instead of leaving Slurm to
        # apply a partition default that the QoS may refuse (docs/deviations.md)
        assert "duration" not in data["requirement"], mine["time"]
        seconds = slurm_seconds(mine["time"])
        assert seconds is not None and seconds > 0 and seconds % 60 == 0, mine["time"]
    else:
        assert slurm_seconds(mine["time"]) == slurm_seconds(theirs["time"])
    assert slurm_mib(mine["mem"]) == slurm_mib(theirs["mem"])
    # memory per GPU (memory_option: mem-per-gpu): the key is there only when emitted
    assert slurm_mib(mine.get("mem_per_gpu")) == slurm_mib(theirs.get("mem_per_gpu"))


def _written_cases(path: Path) -> list[tuple[str, list[str]]]:
    """``requirements/<name>.txt`` as (requirement, tags); tags follow as ``  # tags=a,b``."""
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, _, comment = line.partition("  # ")
        tags = comment.removeprefix("tags=").split(",") if comment.startswith("tags=") else []
        cases.append((requirement.strip(), tags))
    return cases


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFORMANCE / "configs").iterdir()))
def test_corpus_is_complete(name: str) -> None:
    """Each config has its requirements and its expected answers, the same cases in the same
    order: a case added to one file and not the other is caught here, not silently skipped."""
    expected = [json.loads(line) for line in
                (CONFORMANCE / "expected" / f"{name}.jsonl").read_text().splitlines() if line]
    written = _written_cases(CONFORMANCE / "requirements" / f"{name}.txt")
    assert written == [(case["requirement"], case["tags"]) for case in expected]
