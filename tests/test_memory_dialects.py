"""Memory dialects (docs/semantics.md §6, "Memory dialects"; issue 21 §2 item 4): how a
partition asks for memory (``memory_option: mem | mem-per-cpu | mem-per-gpu``), what is
emitted, and what Slurm then allocates on every node the options admit."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.answers import renderings
from reqsolve.config.loader import check_config, load_config
from reqsolve.config.model import MEMORY_OPTIONS, NodeGroup, Partition, SlurmLauncherConfig
from reqsolve.config.schema import json_schema
from reqsolve.errors import LauncherNotFoundError
from reqsolve.matching import STAGES, allocated_per_gpu, check, mib_per_gpu
from reqsolve.parser import parse
from reqsolve.places import GpuKind, Shape
from reqsolve.requirement import cpu, cuda_gpu
from reqsolve.slurm.convert import launcher_data
from reqsolve.slurm.query import merge_partition
from tests.answering import answer
from tests.reference import (
    MIB,
    G,
    admitted_nodes,
    conf,
    group,
    launcher_file,
    partition,
    reference_candidates,
    reference_satisfies,
    slurm,
    slurm_mib,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "memory_dialects" / "launchers.yaml"
GPU_NODE = conf(cores=64, memory=512 * G, gpus=4, gpu_memory=80 * G)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "launchers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the file: which dialect each partition has, and the load errors


HEAD = "slurm:\n  - id: c\n"
PARTS = (
    "    partitions:\n      a: {nodes: [{hosts: [h1]}]}\n      b:\n        nodes: [{hosts: [h2]}]\n"
)


@pytest.mark.parametrize(
    ("launcher", "partition_b", "expected"),
    [
        pytest.param("", "", ("mem", "mem"), id="default"),
        pytest.param("    use_memory_contraint: false\n", "", ("mem-per-cpu",) * 2,
                     id="experimaestro"),
        pytest.param("    memory_option: mem-per-gpu\n", "", ("mem-per-gpu",) * 2, id="launcher"),
        pytest.param("    memory_option: mem-per-gpu\n", "        memory_option: mem\n",
                     ("mem-per-gpu", "mem"), id="partition-over-launcher"),
        pytest.param("    use_memory_constraint: false\n", "        memory_option: mem-per-gpu\n",
                     ("mem-per-cpu", "mem-per-gpu"), id="partition-over-use_memory_constraint"),
        pytest.param("    use_memory_contraint: true\n    memory_option: mem\n", "",
                     ("mem", "mem"), id="both-agree"),
        pytest.param("    use_memory_contraint: false\n    memory_option: mem-per-cpu\n", "",
                     ("mem-per-cpu",) * 2, id="both-agree-per-cpu"),
    ],
)
def test_each_partition_has_its_dialect(
    tmp_path: Path, launcher: str, partition_b: str, expected: tuple[str, str]
) -> None:
    loaded = load_config(_write(tmp_path, HEAD + launcher + PARTS + partition_b)).launchers[0]
    assert isinstance(loaded, SlurmLauncherConfig)
    assert tuple(loaded.memory_option_of(p) for p in loaded.partitions) == expected


@pytest.mark.parametrize(
    ("launcher", "partition_b", "line", "column", "message", "hint"),
    [
        pytest.param(
            "    memory_option: mem_per_gpu\n", "", 3, 20,
            "memory_option 'mem_per_gpu' is not a way to ask for memory",
            "write mem (--mem, per node), mem-per-cpu", id="unknown-value",
        ),
        pytest.param(
            "", "        memory_option: gpu\n", 7, 24,
            "memory_option 'gpu' is not a way to ask for memory", "mem-per-gpu (--mem-per-gpu",
            id="unknown-value-in-partition",
        ),
        pytest.param(
            "    use_memory_contraint: true\n    memory_option: mem-per-gpu\n", "", 4, 20,
            "memory_option: mem-per-gpu contradicts use_memory_contraint: true (line 3), which"
            " means mem", "remove use_memory_contraint", id="contradiction-true",
        ),
        pytest.param(
            "    memory_option: mem\n    use_memory_constraint: false\n", "", 3, 20,
            "memory_option: mem contradicts use_memory_constraint: false (line 4), which means"
            " mem-per-cpu", "remove use_memory_constraint", id="contradiction-alias",
        ),
    ],
)
def test_bad_memory_options_are_load_errors_at_their_place(
    tmp_path: Path, launcher: str, partition_b: str, line: int, column: int, message: str,
    hint: str,
) -> None:
    model, problems = check_config(_write(tmp_path, HEAD + launcher + PARTS + partition_b))
    errors = [p for p in problems if p.severity == "error"]
    assert model is None and len(errors) == 1, problems
    (error,) = errors
    assert (error.line, error.column, error.message) == (line, column, message)
    assert error.hint is not None and hint in error.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            HEAD + "    memory_option: mem-per-gpu\n" + PARTS,
            "partition 'a' asks for memory with --mem-per-gpu but none of its node groups has a"
            " GPU: a memory request cannot run there", id="gpu-less",
        ),
        pytest.param(
            HEAD + "    memory_option: mem-per-cpu\n" + PARTS,
            "memory_option is mem-per-cpu but no mem_per_cpu is set: memory requests cannot be"
            " satisfied", id="per-cpu-without-mem_per_cpu",
        ),
    ],
)
def test_dialects_that_cannot_serve_warn(tmp_path: Path, text: str, message: str) -> None:
    model, problems = check_config(_write(tmp_path, text))
    assert model is not None
    assert message in [p.message for p in problems if p.severity == "warning"]


def test_the_schema_lists_the_dialects() -> None:
    slurm_props = json_schema()["$defs"]["slurm_launcher"]["properties"]
    assert slurm_props["memory_option"]["enum"] == list(MEMORY_OPTIONS)
    assert json_schema()["$defs"]["partition"]["properties"]["memory_option"]["enum"] == list(
        MEMORY_OPTIONS
    )


def test_convert_writes_the_dialect_and_discovery_keeps_the_files() -> None:
    written = Partition("gpu", memory_option="mem-per-gpu")
    discovered = Partition("gpu", nodes=(NodeGroup(hosts=("n1",)),))
    assert merge_partition(written, discovered).memory_option == "mem-per-gpu"
    launcher = SlurmLauncherConfig(id="c", memory_option="mem", partitions=(written,))
    data = launcher_data(launcher)
    assert data["memory_option"] == "mem"
    assert data["partitions"]["gpu"]["memory_option"] == "mem-per-gpu"
    assert "memory_option" not in launcher_data(SlurmLauncherConfig(id="c"))


# --- the check (§4): what Slurm allocates, in whole MiB


def node(memory: int | None, option: str = "mem-per-gpu") -> Shape:
    return Shape(64, memory, None, option, (GpuKind(8, 80 * G),), None, None, 0)


@pytest.mark.parametrize(
    ("memory", "option", "expression", "code", "reason"),
    [
        # 3001 MiB over 2 GPUs is 1501 MiB each: Slurm allocates 3002 MiB
        (3002 * MIB, "mem-per-gpu", "cpu(mem=3001MiB) & cuda()*2", "ok", ""),
        (3001 * MIB, "mem-per-gpu", "cpu(mem=3001MiB) & cuda()*2", "memory",
         f"memory {3002 * MIB} > {3001 * MIB} (mem-per-gpu x 2 GPU(s))"),
        (3001 * MIB, "mem", "cpu(mem=3001MiB) & cuda()*2", "ok", ""),  # --mem would fit
        (3001 * MIB, "mem-per-gpu", "cpu(mem=3001MiB) & cuda()", "ok", ""),  # one GPU: exact
        (None, "mem-per-gpu", "cpu(mem=3T) & cuda()*3", "ok", ""),  # memory unknown
        (None, "mem-per-gpu", "cpu(mem=1G)", "memory",
         "memory per GPU (memory_option: mem-per-gpu) and no GPU asked"),
        (512 * G, "mem-per-gpu", "cpu(cores=2) & cuda()", "ok", ""),  # no memory asked
        (512 * G, "mem-per-gpu", "cpu(cores=2)", "ok", ""),
    ],
)
def test_memory_per_gpu_counts_what_slurm_allocates(
    memory: int | None, option: str, expression: str, code: str, reason: str
) -> None:
    shape = node(memory, option)
    judgement = check(shape, parse(expression).alternatives[0])
    assert (judgement.code, judgement.reason) == (code, reason)


def test_memory_without_a_gpu_says_why_and_how_to_fix() -> None:
    detail = check(node(None), parse("cpu(mem=10G)").alternatives[0]).detail
    assert "asks for memory per GPU (memory_option: mem-per-gpu" in detail
    assert "ask a GPU (cuda(...)) or use a partition with another memory_option" in detail
    short = check(node(3001 * MIB), parse("cpu(mem=3001MiB) & cuda()*2").alternatives[0])
    assert short.detail == (
        "memory 3001MiB asked as --mem-per-gpu=1501M for 2 GPU(s): Slurm allocates 3002MiB,"
        " the node has 3001MiB"
    )
    assert short.stage == STAGES.index("memory")


# --- the answer (§6)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cpu(mem=40G) & cuda(mem=20G)*2",
         "--partition=gpu --nodes=1 --gpus-per-node=2 --cpus-per-task=1 --mem-per-gpu=19074M"),
        ("cpu(mem=500G) & cuda()*3",
         "--partition=gpu --nodes=1 --gpus-per-node=3 --cpus-per-task=1 --mem-per-gpu=158946M"),
        ("cuda()*2", "--partition=gpu --nodes=1 --gpus-per-node=2"),  # no memory, no option
        ("cpu(mem=40G)", "--partition=cpu --nodes=1 --cpus-per-task=1 --mem=38147M"),
        ("cpu(cores=4)", "--partition=gpu,cpu --nodes=1 --cpus-per-task=4"),
    ],
)
def test_answers_of_the_docs_fixture(expression: str, expected: str) -> None:
    options = answer(FIXTURE, expression).options
    assert options is not None
    assert " ".join(options.args()) == expected


def test_soundness_excludes_a_node_short_of_what_slurm_allocates() -> None:
    """The small node holds 3001 MiB: enough for --mem=3001M, not for 2 x --mem-per-gpu=1501M."""
    gpus = {"gpus": 2, "gpu_memory": 80 * G}
    launcher = slurm(
        "s",
        partition(
            "p",
            group("big", configuration=conf(memory=4000 * MIB, **gpus)),  # type: ignore[arg-type]
            group("small", configuration=conf(memory=3001 * MIB, **gpus)),  # type: ignore[arg-type]
        ),
        memory_option="mem-per-gpu",
    )
    options = answer(launcher_file(launcher), "cpu(mem=3001MiB) & cuda()*2").options
    assert options is not None
    assert (options.mem_per_gpu, options.mem, options.exclude) == ("1501M", None, "small")
    under_mem = answer(
        launcher_file(slurm("s", *(launcher.partitions))), "cpu(mem=3001MiB) & cuda()*2"
    ).options
    assert under_mem is not None and (under_mem.mem, under_mem.exclude) == ("3001M", None)


@pytest.mark.parametrize(
    ("dialects", "expression", "partitions"),
    [
        # memory asked: the first kept candidate's dialect only
        (("mem-per-gpu", "mem"), "cpu(mem=10G) & cuda()", "p0"),
        (("mem", "mem-per-gpu"), "cpu(mem=10G) & cuda()", "p0"),
        (("mem-per-gpu", "mem-per-gpu"), "cpu(mem=10G) & cuda()", "p0,p1"),
        (("mem", None), "cpu(mem=10G) & cuda()", "p0,p1"),  # None: the launcher's, mem
        # no memory asked: the options are the same, both are kept
        (("mem-per-gpu", "mem"), "cpu(cores=2) & cuda()", "p0,p1"),
    ],
)
def test_one_answer_asks_for_memory_one_way(
    dialects: tuple[str | None, ...], expression: str, partitions: str
) -> None:
    launcher = slurm(
        "s",
        *(
            partition(f"p{i}", group(f"h{i}", configuration=GPU_NODE), memory_option=dialect)
            for i, dialect in enumerate(dialects)
        ),
    )
    options = answer(launcher_file(launcher), expression).options
    assert options is not None and options.partition == partitions


def test_a_candidate_of_another_dialect_says_why_it_was_not_kept() -> None:
    """The first kept partition is dropped (a host-less group it cannot run): the other
    dialect's candidate, which fits, says why it was not kept instead."""
    small = conf(memory=8 * G, gpus=1, gpu_memory=80 * G)
    launcher = slurm(
        "s",
        partition(
            "p0",
            group("h0", configuration=GPU_NODE),
            NodeGroup(count=2, configuration=small),
            memory_option="mem-per-gpu",
        ),
        partition("p1", group("h1", configuration=GPU_NODE), memory_option="mem"),
    )
    with pytest.raises(LauncherNotFoundError) as error:
        answer(launcher_file(launcher), "cpu(mem=10G) & cuda()")
    reasons = {(r.partition, r.group): r.reason for r in error.value.reasons}
    assert reasons[("p1", 0)] == (
        "not kept: its partition asks for memory as mem (memory_option), the first kept"
        " candidate's as mem-per-gpu; one answer asks for memory one way"
    )
    assert reasons[("p0", 0)].startswith("partition p0 dropped: its node group 1 cannot run")


# --- every rendering carries it


def test_every_rendering_carries_mem_per_gpu() -> None:
    match = answer(FIXTURE, "cpu(mem=40G) & cuda(mem=20G)*2")
    options = match.options
    assert options is not None and options.mem_per_gpu == "19074M"
    assert "--mem-per-gpu=19074M" in options.args()
    assert "#SBATCH --mem-per-gpu=19074M" in options.sbatch_header().splitlines()
    assert "--mem-per-gpu=19074M" in shlex.split(renderings.FORMATS["shell"].text(match, None))
    data = json.loads(renderings.FORMATS["json"].text(match, None))
    assert data["options"]["mem_per_gpu"] == "19074M" and data["options"]["mem"] is None
    assert data["notes"] == [
        "memory asked per GPU (memory_option: mem-per-gpu): --mem-per-gpu=19074M x 2 GPU(s)"
        " = 38148MiB on each node"
    ]
    params = renderings.submitit_parameters(match)
    assert params["slurm_mem_per_gpu"] == "19074M" and "slurm_mem" not in params
    # submitit's sbatch writer takes it under that name (slurm_ is its executor's prefix)
    submitit_slurm = pytest.importorskip("submitit.slurm.slurm")
    script = submitit_slurm._make_sbatch_string(
        command="true", folder="/tmp/x", mem_per_gpu=params["slurm_mem_per_gpu"]
    )
    assert "#SBATCH --mem-per-gpu=19074M" in script.splitlines()
    pytest.importorskip("experimaestro")
    theirs = renderings.experimaestro_options(options)
    assert theirs.mem_per_gpu == "19074M" and theirs.mem is None
    assert "--mem-per-gpu=19074M" in theirs.args()


def test_other_answers_keep_their_json_shape() -> None:
    match = answer(FIXTURE, "cpu(mem=40G)")
    data = json.loads(renderings.FORMATS["json"].text(match, None))
    assert "mem_per_gpu" not in data["options"] and "notes" not in data


# --- the invariant: what is emitted covers what was asked and fits every admitted node


@settings(max_examples=300, deadline=None)
@given(
    memory=st.integers(1, 600 * 2**30),
    gpus=st.integers(1, 8),
    node_memories=st.lists(st.integers(1, 700 * 2**30), min_size=1, max_size=4),
)
def test_emitted_per_gpu_memory_covers_the_ask_and_fits_every_admitted_node(
    memory: int, gpus: int, node_memories: list[int]
) -> None:
    assert allocated_per_gpu(memory, gpus) == gpus * mib_per_gpu(memory, gpus) * MIB
    assert memory <= allocated_per_gpu(memory, gpus) < memory + gpus * MIB
    launcher = slurm(
        "s",
        partition(
            "p",
            *(
                group(f"n{i}", configuration=conf(memory=m, gpus=8, gpu_memory=80 * G))
                for i, m in enumerate(node_memories)
            ),
        ),
        memory_option="mem-per-gpu",
    )
    alternative = cpu(mem=memory) & cuda_gpu() * gpus
    fitting = [c for c in reference_candidates(launcher) if reference_satisfies(c.capacity,
                                                                                alternative)]
    try:
        options = answer(launcher_file(launcher), alternative).options
    except LauncherNotFoundError:
        assert not fitting  # a refusal: no node can, by brute force
        return
    assert options is not None and options.mem is None
    per_gpu = slurm_mib(options.mem_per_gpu)
    assert per_gpu is not None
    assert gpus * per_gpu * MIB >= memory
    assert per_gpu == -(-memory // (gpus * MIB))  # whole MiB, rounded up
    admitted = admitted_nodes(launcher, options)
    assert admitted
    for _, index, _host in admitted:
        node_mib = node_memories[index] // MIB
        assert gpus * per_gpu <= node_mib


def test_partitions_sharing_a_configuration_keep_their_own_dialect(tmp_path: Path) -> None:
    """Two partitions whose nodes are described by the launcher's configuration alone share
    one configuration object: each still asks for memory its own way (the shape of the
    second was the first's, in the first's dialect: found by the soundness property)."""
    text = (
        "slurm:\n"
        "  - id: s\n"
        "    memory_option: mem-per-gpu\n"
        "    configuration: {cpu: {cores: 8, memory: 64G}}\n"
        "    partitions:\n"
        "      gpu: {nodes: [{hosts: [g1]}]}\n"
        "      cpu:\n"
        "        memory_option: mem\n"
        "        nodes: [{hosts: [c1]}]\n"
    )
    options = answer(_write(tmp_path, text), "cpu(mem=1G) & duration=1h").options
    assert options is not None
    assert (options.partition, options.mem, options.mem_per_gpu) == ("cpu", "954M", None)
