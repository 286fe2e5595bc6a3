"""Multi-node jobs (issue 21 §1, docs/semantics.md §1, §4, §6): ``nodes=N`` and ``tasks=T``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reqsolve import InvalidExpression, InvalidValue, cpu, cuda_gpu, duration, nodes, tasks
from reqsolve.config.loader import load_config
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.matching import check
from reqsolve.parser import parse
from reqsolve.places import Shape
from reqsolve.requirement import Alternative, Requirement
from reqsolve.slurm import query
from tests.cli_run import cli
from tests.paths import LAB_FILE, ROOT
from tests.slurm_lab import SlurmLab
from tests.test_slurm_query import FILE, fake_slurm

# (expression, canonical form, nodes, tasks)
PARSED = [
    ("nodes=2", "nodes=2", 2, 0),
    ("tasks=4", "tasks=4", 1, 4),
    ("cpu(cores=8) & tasks=4 & nodes=2", "nodes=2 & tasks=4 & cpu(cores=8)", 2, 4),
    ("nodes=4 & cuda(mem=40G)*8", "nodes=4 & cuda(mem=40GB)*8", 4, 0),
    ("nodes=2 & nodes=3", "nodes=3", 3, 0),
    ("tasks=2 & tasks=8", "tasks=8", 1, 8),
    ("nodes=1 & cpu(cores=2)", "cpu(cores=2)", 1, 0),
    ("nodes=0002 & tasks=+3", "nodes=2 & tasks=3", 2, 3),
    ("duration=2h & nodes=100000", "duration=2h & nodes=100000", 100000, 0),
]


@pytest.mark.parametrize(("text", "canonical", "n", "t"), PARSED)
def test_parse_canonical_and_json(text: str, canonical: str, n: int, t: int) -> None:
    requirement = parse(text)
    assert str(requirement) == canonical
    assert parse(canonical) == requirement  # the canonical form reads back
    alternative = requirement.alternatives[0]
    assert (alternative.nodes, alternative.tasks) == (n, t)
    shown = requirement.as_json()["alternatives"][0]
    assert (shown["nodes"], shown["tasks"]) == (n, t or None)


def test_nodes_distribute_over_alternatives() -> None:
    requirement = parse("nodes=2 & (cuda()*4 | cpu(cores=8))")
    assert [a.nodes for a in requirement.alternatives] == [2, 2]
    assert str(requirement) == "nodes=2 & cuda()*4 | nodes=2 & cpu(cores=8)"


@pytest.mark.parametrize(
    ("built", "text"),
    [
        (nodes(2) & tasks(4) & cpu(cores=8), "nodes=2 & tasks=4 & cpu(cores=8)"),
        (nodes(4) & cuda_gpu(mem="40G") * 8, "nodes=4 & cuda(mem=40G)*8"),
        (duration("2h") & nodes(3) | cpu(cores=1), "duration=2h & nodes=3 | cpu()"),
    ],
)
def test_builders_mirror_the_language(built: Alternative | Requirement, text: str) -> None:
    expected = parse(text)
    value = built if isinstance(built, Requirement) else Requirement((built,))
    assert value == expected


# (expression, message, column of the caret's start (1-based), hint)
ERRORS = [
    ("nodes=0", "nodes must be a whole number >= 1, got '0'", 7, "write e.g. nodes=2"),
    ("tasks=0", "tasks must be a whole number >= 1, got '0'", 7, "write e.g. tasks=4"),
    ("cpu() & nodes=-3", "nodes must be a whole number >= 1, got '-3'", 15, "write e.g. nodes=2"),
    ("nodes=2.5", "nodes must be a whole number >= 1, got '2.5'", 7, "write e.g. nodes=2"),
    ("nodes=1000000", "nodes=1000000 is over 100000", 7, "this looks like a typo"),
    ("tasks=2000000", "tasks=2000000 is over 1000000", 7, "this looks like a typo"),
    ("nodes=" + "9" * 40, f"nodes={'9' * 40} is over 100000", 7, "this looks like a typo"),
]


@pytest.mark.parametrize(("text", "message", "column", "hint"), ERRORS)
def test_errors_point_at_the_value(text: str, message: str, column: int, hint: str) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    error = caught.value
    assert error.message == message
    assert error.span.start == column - 1
    assert error.hint == hint
    assert "^" in str(error)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nodes(0), "nodes must be a whole number >= 1, got '0'"),
        (lambda: tasks(0), "tasks must be a whole number >= 1, got '0'"),
        (lambda: nodes(10**9), "nodes=1000000000 is over 100000"),
        (lambda: nodes(True), "nodes must be a whole number >= 1, got 'True'"),
        (lambda: nodes(2) * 2, "only a cuda()/gpu() term can be multiplied by a count"),
    ],
)
def test_builder_errors(build: object, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        build()  # type: ignore[operator]
    assert caught.value.message == message


# --- choosing and emitting (docs/semantics.md §4.5, §6), on the conformance corpus's file

MULTINODE = ROOT / "tests" / "conformance" / "configs" / "multinode" / "launchers.yaml"


def _find(expression: str, fmt: str = "json", config: Path = MULTINODE) -> tuple[int, str]:
    code, out, _ = cli("find", "--config", str(config), "--offline", "--format", fmt, expression)
    return code, out


@pytest.mark.parametrize(
    ("fmt", "expression", "shown"),
    [
        ("args", "nodes=2 & tasks=4 & cpu(cores=16)",
         "--partition=gpu --constraint=a100 --nodes=2 --ntasks-per-node=4 --cpus-per-task=16"),
        ("shell", "nodes=2 & cuda(mem=40G)*4",
         "--partition=gpu --constraint=a100 --nodes=2 --gpus-per-node=4"),
        ("sbatch", "nodes=2 & tasks=4 & cpu(cores=16)",
         "#SBATCH --partition=gpu\n#SBATCH --constraint=a100\n#SBATCH --nodes=2\n"
         "#SBATCH --ntasks-per-node=4\n#SBATCH --cpus-per-task=16"),
        ("submitit", "nodes=2 & tasks=4 & cpu(cores=16)",
         '{"slurm_partition": "gpu", "slurm_constraint": "a100", "slurm_nodes": 2,'
         ' "slurm_ntasks_per_node": 4, "slurm_cpus_per_task": 16}'),
        ("args", "nodes=4 & cpu(cores=32)",
         "--partition=cpu --nodes=4 --exclude=c5,c6 --cpus-per-task=32"),
    ],
)
def test_every_rendering_carries_nodes_and_tasks(fmt: str, expression: str, shown: str) -> None:
    code, out = _find(expression, fmt)
    assert code == 0
    assert out.strip() == shown


def test_json_has_ntasks_per_node_only_when_asked() -> None:
    _, out = _find("nodes=2 & tasks=4 & cpu(cores=16)")
    options = json.loads(out)["options"]
    assert (options["nodes"], options["ntasks_per_node"]) == (2, 4)
    _, out = _find("nodes=2 & cpu(cores=16)")
    assert "ntasks_per_node" not in json.loads(out)["options"]


# (expression, [(where, code, detail)] of the candidates, in order)
REFUSED = [
    ("nodes=3 & cuda()", [
        ("laptop", "nodes", "nodes=3 asked, a local launcher runs on one node"),
        ("cluster/gpu[0]", "nodes", "nodes=3 asked, over MaxNodes 2 of partition gpu"),
        ("cluster/cpu[0]", "gpu_count", "1 GPU(s) asked on one node, the node has 0"),
        ("cluster/cpu[1]", "gpu_count", "1 GPU(s) asked on one node, the node has 0"),
    ]),
    ("nodes=5 & cpu(cores=32)", [
        ("laptop", "nodes", "nodes=5 asked, a local launcher runs on one node"),
        ("cluster/gpu[0]", "nodes", "nodes=5 asked, over MaxNodes 2 of partition gpu"),
        ("cluster/cpu[0]", "unsound",
         "partition cpu dropped: not enough nodes: 4 admitted, 5 asked"),
        ("cluster/cpu[1]", "cores", "32 cores asked, the node has 16"),
    ]),
    ("nodes=2 & tasks=4 & cpu(cores=32)", [
        ("laptop", "nodes", "nodes=2 asked, a local launcher runs on one node"),
        ("cluster/gpu[0]", "cores", "128 cores asked, the node has 64"),
        ("cluster/cpu[0]", "cores", "128 cores asked, the node has 32"),
        ("cluster/cpu[1]", "cores", "128 cores asked, the node has 16"),
    ]),
]


@pytest.mark.parametrize(("expression", "expected"), REFUSED)
def test_refusals_say_why(expression: str, expected: list[tuple[str, str, str]]) -> None:
    code, out = _find(expression)
    assert code == 1
    reasons = json.loads(out)["reasons"]
    got = []
    for r in reasons:
        where = r["launcher"] if r["partition"] is None else (
            f"{r['launcher']}/{r['partition']}[{r['group']}]")
        got.append((where, r["code"], r["detail"]))
    assert got == expected


@pytest.mark.parametrize(
    ("alternative", "cpus", "ok"),
    [
        # 4 GiB per CPU, 64 cores; memory per node is shared by the T tasks' CPUs
        (nodes(2) & tasks(4) & cpu(mem="32GiB", cores=1), 2, True),  # 4 x 2 CPUs x 4 GiB
        (tasks(4) & cpu(mem="36GiB", cores=1), 3, True),  # 9 CPUs needed: 3 per task
        (tasks(16) & cpu(mem="8GiB", cores=4), 4, True),  # cores win: 64 CPUs
        (tasks(16) & cpu(mem="8GiB", cores=5), None, False),  # 80 > 64 cores
        (tasks(32) & cpu(mem="260GiB", cores=1), None, False),  # 65 CPUs -> 3 each: 96 > 64
    ],
)
def test_memory_per_cpu_with_tasks(alternative: Alternative, cpus: int | None, ok: bool) -> None:
    shape = Shape(
        cores=64, memory=None, mem_per_cpu=4 * 2**30, memory_option="mem-per-cpu", gpus=(),
        max_duration=None, duration_source=None, min_gpu=0,
    )
    verdict = check(shape, alternative)
    assert verdict.ok is ok
    assert verdict.cpus_per_task == cpus


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("max_nodes: 0", "max_nodes"),
        ("max_nodes: many", "max_nodes"),
    ],
)
def test_max_nodes_is_checked_in_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(
        "slurm:\n  - id: c\n    partitions:\n      p:\n        " + text + "\n"
        "        nodes: [{hosts: [a], configuration: {cpu: {cores: 4}}}]\n"
    )
    code, out, _ = cli("validate", str(path), "--format", "json")
    assert code == 1
    assert any(problem in item["path"] + item["message"] for item in json.loads(out))


def test_max_nodes_reads_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(
        "slurm:\n  - id: c\n    partitions:\n      p:\n        max_nodes: 3\n"
        "        nodes: [{count: 8, configuration: {cpu: {cores: 4}}}]\n"
    )
    assert _find("nodes=3 & cpu(cores=4)", "args", path) == (0, "--partition=p --nodes=3"
                                                               " --cpus-per-task=4\n")
    code, out = _find("nodes=4 & cpu(cores=4)", "json", path)
    assert code == 1
    assert json.loads(out)["reasons"][0]["reason"] == "nodes 4 > max 3"


# --- discovery reads MaxNodes (scontrol show partition), the file's max_nodes winning


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # the fixture's partition small says MaxNodes=2, gpu MaxNodes=UNLIMITED
        ("        priority: 0\n", {"small": 2, "gpu": None}),
        ("        max_nodes: 5\n", {"small": 2, "gpu": 5}),  # the file wins where it says
    ],
)
def test_discovery_reads_max_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, expected: dict[str, int]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    query.clear_cache()
    path = tmp_path / "launchers.yaml"
    path.write_text(
        f"slurm:\n  - id: lab\n    path: {fake_slurm(tmp_path)}\n    query_slurm: true\n"
        "    partitions:\n      gpu:\n" + written
    )
    written_launcher = load_config(path).launchers[0]
    assert isinstance(written_launcher, SlurmLauncherConfig)
    discovered = query.discover(written_launcher, FILE)
    got = {p.name: p.max_nodes for p in discovered.partitions if p.name in expected}
    assert got == expected


# --- explain shows the nodes each candidate offers (and its partition's MaxNodes)


@pytest.mark.parametrize(
    ("expression", "rows"),
    [
        ("nodes=5 & cpu(cores=32)", [
            ("laptop", None, 1, 1, "fails"),
            ("cluster", "gpu", 3, 2, "fails"),
            ("cluster", "cpu", 4, None, "fits"),
            ("cluster", "cpu", 2, None, "fails"),
        ]),
        ("nodes=2 & cpu(cores=32)", [
            ("laptop", None, 1, 1, "fails"),
            ("cluster", "gpu", 3, 2, "chosen"),
            ("cluster", "cpu", 4, None, "chosen"),
            ("cluster", "cpu", 2, None, "fails"),
        ]),
    ],
)
def test_explain_shows_nodes_offered(
    expression: str, rows: list[tuple[str, str | None, int, int | None, str]]
) -> None:
    code, out, _ = cli("explain", "--config", str(MULTINODE), "--offline", "--format", "json",
                       expression)
    assert code == (1 if rows[1][4] == "fails" else 0)
    got = [(r["launcher"], r["partition"], r["nodes"], r["max_nodes"], r["verdict"])
           for r in json.loads(out)["rows"]]
    assert got == rows
    _, table, _ = cli("explain", "--config", str(MULTINODE), "--offline", expression)
    assert "gpu[0] nodes=3 MaxNodes=2" in table
    assert "cpu[0] nodes=4 " in table


def test_explain_table_unchanged_for_one_node() -> None:
    _, table, _ = cli("explain", "--config", str(MULTINODE), "--offline", "cpu(cores=32)")
    assert "nodes=" not in table and "MaxNodes" not in table


# --- on the Slurm lab (tests/slurm/lab: partition small has MaxNodes=2 and four nodes)

# expression -> the multi-node options reqsolve must answer for the lab's file, by hand
LAB_FEASIBLE = [
    # gpu's five nodes and small's four all fit; small's MaxNodes=2 allows two
    ("duration=1h & nodes=2 & cuda(mem=20G)*2",
     "--partition=gpu,small --constraint=(A6000&GPU3&GPUM48G)|(GPU2&GPUM24G)"
     " --nodes=2 --gpus-per-node=2 --time=01:00:00"),
    # over small's MaxNodes: gpu alone, its five nodes
    ("duration=1h & nodes=4 & cuda(mem=20G)*2",
     "--partition=gpu --constraint=(A6000&GPU3&GPUM48G)|(RTX&GPU2&GPUM24G) --nodes=4"
     " --gpus-per-node=2 --time=01:00:00"),
    # 30 cores: two nodes of gpu only, so gpu cannot hold four; cpu's four nodes can
    ("duration=1h & nodes=4 & cpu(cores=30)",
     "--partition=cpu --constraint=intel&skylake --nodes=4 --cpus-per-task=30 --time=01:00:00"),
    # 4 x 8 = 32 cores per node: yop and yep (two nodes) of gpu, and cpu
    ("duration=1h & nodes=2 & tasks=4 & cpu(cores=8)",
     "--partition=gpu,cpu --constraint=(A6000&GPU3&GPUM48G)|(intel&skylake) --nodes=2"
     " --ntasks-per-node=4 --cpus-per-task=8 --time=01:00:00"),
]


def _meaning(args: list[str]) -> dict[str, object]:
    """Options by name, the constraint as a set of feature sets (clause order is free)."""
    got: dict[str, object] = dict(arg.split("=", 1) for arg in args)
    if "--constraint" in got:
        got["--constraint"] = {
            frozenset(c.strip("()").split("&")) for c in str(got["--constraint"]).split("|")
        }
    return got


@pytest.mark.slurm
@pytest.mark.parametrize(("expression", "hand"), LAB_FEASIBLE, ids=[e for e, _ in LAB_FEASIBLE])
def test_lab_accepts_multinode_options(slurm_lab: SlurmLab, expression: str, hand: str) -> None:
    code, out = _find(expression, "args", LAB_FILE)
    assert code == 0
    args = out.split()
    assert _meaning(args) == _meaning(hand.split()), out
    ok, message = slurm_lab.test_only(*args)
    assert ok, f"{args}: {message}"


@pytest.mark.slurm
def test_lab_over_max_nodes_is_refused_with_the_reason(
    slurm_lab: SlurmLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_CONF", slurm_lab.env["SLURM_CONF"])
    query.clear_cache()
    for tags in ("", "discovered"):  # the file's max_nodes, and MaxNodes read from the lab
        argv = ["explain", "--config", str(LAB_FILE), "--format", "json"]
        argv += ["--tags", tags] if tags else ["--offline"]
        _, out, _ = cli(*argv, "nodes=3 & cuda(mem=20G)*2 & cpu(cores=16)")
        small = [r for r in json.loads(out)["rows"] if r["partition"] == "small"]
        assert small, out
        assert {r["reason"] for r in small} == {"nodes 3 > max 2"}, small
