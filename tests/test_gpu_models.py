"""The GPU model rule (docs/gpu-models.md) on real names: nvidia-smi's, files', GRES types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reqsolve import find_launcher
from reqsolve.errors import LauncherNotFoundError
from reqsolve.gpu_models import model_form, model_matches
from reqsolve.gpu_placement import fits
from reqsolve.hostinfo import parse_nvidia_smi_devices
from reqsolve.hostspec import CudaSpecification, HostRequirement, HostSpecification
from reqsolve.parser import parse
from reqsolve.places import GpuKind
from reqsolve.requirement import Accelerator
from reqsolve.slurm.readers import read_nodes_text
from tests.fake_nvidia_smi import A100_X4, H200, MIXED_X8
from tests.paths import LAB_FILE, ROOT

LAB_NODES = [  # scontrol show nodes of the lab's two clusters
    ROOT / "fixtures" / "slurm" / name / "scontrol_show_nodes.txt" for name in ("default", "custom")
]
MODELS_FILE = ROOT / "fixtures" / "gpu_models" / "launchers.yaml"

# (what a person asks, the GPU's name, matches?) — the table of docs/gpu-models.md and more
TABLE = [
    # nvidia-smi names
    ("H200", "NVIDIA H200", True),
    ("h200", "NVIDIA H200", True),
    ("NVIDIA H200", "NVIDIA H200", True),
    ("H100", "NVIDIA H200", False),
    ("GH200", "NVIDIA H200", False),
    ("H200", "NVIDIA GH200 480GB", False),
    ("A100", "NVIDIA A100-SXM4-80GB", True),
    ("a100", "NVIDIA A100-SXM4-80GB", True),
    ("A100-80GB", "NVIDIA A100-SXM4-80GB", True),
    ("A100 80G", "NVIDIA A100-SXM4-80GB", True),
    ("A100-SXM4", "NVIDIA A100-SXM4-80GB", True),
    ("A100-40GB", "NVIDIA A100-SXM4-80GB", False),
    ("A100 PCIe", "NVIDIA A100-SXM4-80GB", False),
    ("A10", "NVIDIA A100-SXM4-80GB", False),
    ("A10", "NVIDIA A10", True),
    ("A10", "NVIDIA A10G", False),
    ("V100", "Tesla V100-SXM2-32GB", True),
    ("v100", "Tesla V100-SXM2-32GB", True),
    ("Tesla V100", "Tesla V100-SXM2-32GB", True),
    ("V100", "Tesla V100S-PCIE-32GB", False),
    ("RTX4090", "NVIDIA GeForce RTX 4090", True),
    ("RTX 4090", "NVIDIA GeForce RTX 4090", True),
    ("4090", "NVIDIA GeForce RTX 4090", True),
    ("GeForce RTX 4090", "NVIDIA GeForce RTX 4090", True),
    ("4080", "NVIDIA GeForce RTX 4090", False),
    ("GTX4090", "NVIDIA GeForce RTX 4090", False),
    ("H100", "NVIDIA H100 80GB HBM3", True),
    ("H100 80GB", "NVIDIA H100 80GB HBM3", True),
    ("H100", "NVIDIA H100 PCIe", True),
    ("H200", "NVIDIA H100 80GB HBM3", False),
    ("L40", "NVIDIA L40S", False),
    ("L40S", "NVIDIA L40S", True),
    ("GTX1080", "NVIDIA GeForce GTX 1080", True),
    ("GTX1080", "NVIDIA GeForce GTX 1080 Ti", False),
    ("1080ti", "NVIDIA GeForce GTX 1080 Ti", True),
    ("A6000", "NVIDIA RTX A6000", True),
    ("A6000", "NVIDIA RTX 6000 Ada Generation", False),
    ("TITAN X", "NVIDIA TITAN X (Pascal)", True),
    ("titan_x", "NVIDIA TITAN X (Pascal)", True),
    ("titan_v", "NVIDIA TITAN X (Pascal)", False),
    # Slurm GRES types
    ("A100", "a100", True),
    ("a100", "a100", True),
    ("A10", "a100", False),
    ("H100", "h100_80gb", True),
    ("h100_80gb", "h100_80gb", True),
    ("H100-80GB", "h100_80gb", True),
    ("H100-94GB", "h100_80gb", False),
    ("H200", "h100_80gb", False),
    ("A100", "a100_1g.5gb", False),  # a MIG slice is not the GPU
    ("a100_1g.5gb", "a100_1g.5gb", True),
    ("A100 1g.5gb", "a100_1g.5gb", True),
    ("a100_2g.10gb", "a100_1g.5gb", False),
    ("a100_1g.5gb", "a100", False),
    ("1080ti", "1080ti", True),
    ("1080", "1080ti", False),
    ("GTX1080", "1080ti", False),
    ("titan_x", "titan_x", True),
    ("TITAN X", "titan_x", True),
    ("A6000", "a6000", True),
    ("RTX A6000", "a6000", True),  # a name without a line does not contradict one
    ("RTX", "a6000", False),
    # what files write, against nvidia-smi names and each other
    ("GTX1080", "GTX1080", True),
    ("gtx1080", "GTX1080", True),
    ("A100", "A100", True),
    ("NVIDIA A100-SXM4-80GB", "a100", False),  # 80GB and SXM4 cannot be verified on "a100"
    # names without a number: only their words
    ("big", "big", True),
    ("BIG", "big", True),
    ("big", "bigger", False),
    ("nvidia", "NVIDIA H200", False),
]


# similar names of different GPUs (issue 20 §8): a generation a name states (Ada, Blackwell) is
# part of its model, so `RTX 6000` is the Quadro RTX 6000 (Turing) and the RTX 6000 Ada answers
# only `... 6000 Ada`; a size qualifier is verified on the name alone (the A100 rule)
SIMILAR = [
    ("RTX 6000", "Quadro RTX 6000", True),
    ("Quadro RTX 6000", "Quadro RTX 6000", True),
    ("6000", "Quadro RTX 6000", True),
    ("RTX 6000", "NVIDIA RTX 6000 Ada Generation", False),
    ("6000", "NVIDIA RTX 6000 Ada Generation", False),
    ("Quadro RTX 6000", "NVIDIA RTX 6000 Ada Generation", False),
    ("RTX 6000 Ada", "NVIDIA RTX 6000 Ada Generation", True),
    ("RTX 6000 Ada Generation", "NVIDIA RTX 6000 Ada Generation", True),
    ("6000 Ada", "NVIDIA RTX 6000 Ada Generation", True),
    ("RTX 6000 Ada Lovelace", "NVIDIA RTX 6000 Ada Generation", True),
    ("rtx6000ada", "NVIDIA RTX 6000 Ada Generation", True),
    ("RTX 6000 Ada", "Quadro RTX 6000", False),
    ("RTX 6000 Ada", "rtx6000ada", True),  # GRES types
    ("RTX 6000 Ada", "rtx_6000_ada", True),
    ("RTX 6000", "rtx6000ada", False),
    ("RTX 6000", "rtx_6000", True),
    ("RTX 6000 Ada", "rtx_6000", False),  # the type states no generation: not verified
    ("RTX A6000", "NVIDIA RTX 6000 Ada Generation", False),
    ("RTX 6000 Ada", "NVIDIA RTX A6000", False),
    ("A6000", "NVIDIA RTX A6000", True),
    ("RTX 6000", "NVIDIA RTX A6000", False),
    ("RTX 5000 Ada", "NVIDIA RTX 5000 Ada Generation", True),
    ("Quadro RTX 5000", "NVIDIA RTX 5000 Ada Generation", False),
    ("RTX 4000 Ada", "NVIDIA RTX 4000 SFF Ada Generation", True),
    ("RTX 4000", "NVIDIA RTX 4000 SFF Ada Generation", False),
    ("RTX 6000", "NVIDIA RTX PRO 6000 Blackwell Server Edition", False),
    ("RTX PRO 6000 Blackwell", "NVIDIA RTX PRO 6000 Blackwell Server Edition", True),
    ("RTX 6000 Ada", "NVIDIA RTX PRO 6000 Blackwell Server Edition", False),
    ("A100", "NVIDIA A100 80GB PCIe", True),
    ("A100-80GB", "NVIDIA A100 80GB PCIe", True),
    ("A100-80GB", "NVIDIA A100-PCIE-40GB", False),
    ("A100-80GB", "a100", False),  # the GRES type states no size: ask cuda(model=a100, mem=80G)
    ("A100-80GB", "a100_80gb", True),
    ("L40", "NVIDIA L40", True),
    ("L40", "NVIDIA L40S", False),
    ("L4", "NVIDIA L40", False),
    ("TITAN X", "NVIDIA TITAN X (Pascal)", True),  # no number: words only, a generation too
]


@pytest.mark.parametrize(("asked", "name", "expected"), SIMILAR)
def test_similar_names_of_other_gpus(asked: str, name: str, expected: bool) -> None:
    assert model_matches(asked, name) is expected
    assert fits(GpuKind(1, 2**40, 0, name), Accelerator(0, asked)) is expected


@pytest.mark.parametrize(("asked", "name", "expected"), TABLE)
def test_rule_on_real_names(asked: str, name: str, expected: bool) -> None:
    assert model_matches(asked, name) is expected


@pytest.mark.parametrize(("asked", "name", "expected"), TABLE)
def test_fits_uses_the_rule(asked: str, name: str, expected: bool) -> None:
    """The matcher's fits() and a GPU kind's precomputed form decide as the rule does."""
    assert fits(GpuKind(1, 2**40, 0, name), Accelerator(0, asked)) is expected


# what each captured nvidia-smi output answers: (asked, expected number of GPUs matching)
@pytest.mark.parametrize(
    ("output", "asked", "matching"),
    [
        (H200, "H200", 1),
        (H200, "h200", 1),
        (H200, "H100", 0),
        (H200, "GH200", 0),
        (A100_X4, "A100", 4),
        (A100_X4, "a100-80gb", 4),
        (A100_X4, "A10", 0),
        (A100_X4, "A100-40GB", 0),
        (MIXED_X8, "V100", 4),
        (MIXED_X8, "RTX4090", 4),
        (MIXED_X8, "4090", 4),
        (MIXED_X8, "4080", 0),
        (MIXED_X8, "A100", 0),
    ],
)
def test_rule_on_captured_nvidia_smi(output: Path, asked: str, matching: int) -> None:
    gpus = parse_nvidia_smi_devices(output.read_text(encoding="utf-8"))
    assert [gpu.index for gpu in gpus] == list(range(len(gpus)))
    assert all(gpu.uuid is not None and gpu.uuid.startswith("GPU-") for gpu in gpus)
    assert sum(model_matches(asked, gpu.name or "") for gpu in gpus) == matching


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0, GPU-a, NVIDIA H200, 143771 MiB\n", [(0, "GPU-a", "NVIDIA H200", 143771 * 2**20)]),
        ("0, GPU-a, NVIDIA GH200 480GB, [N/A]\n", [(0, "GPU-a", "NVIDIA GH200 480GB", None)]),
        ("3, GPU-b, Tesla T4, 15360 MiB\n", [(3, "GPU-b", "Tesla T4", 15360 * 2**20)]),
        ("Tesla T4, 15360 MiB\n", [(0, None, "Tesla T4", 15360 * 2**20)]),
        ("NVIDIA X, [N/A]\nNo devices were found\n", []),
    ],
    ids=["h200", "memory-na", "index-kept", "two-columns", "garbled"],
)
def test_parse_nvidia_smi_devices(
    text: str, expected: list[tuple[int, str | None, str, int | None]]
) -> None:
    found = parse_nvidia_smi_devices(text)
    assert [(g.index, g.uuid, g.name, g.memory) for g in found] == expected


def test_lab_gres_types() -> None:
    """The GRES types the lab's Slurm reports (captured scontrol output) read as models."""
    nodes = [n for path in LAB_NODES for n in read_nodes_text(path.read_text(encoding="utf-8"))]
    types = sorted({gpu.model for node in nodes for gpu in node.gpus if gpu.model})
    assert types == ["a100", "a6000", "v100"]
    asked = {
        "A100": ["a100"],
        "a100": ["a100"],
        "A6000": ["a6000"],
        "V100": ["v100"],
        "A10": [],
        "A600": [],
        "H100": [],
    }
    for model, expected in asked.items():
        assert [t for t in types if model_matches(model, t)] == expected, model


@pytest.mark.parametrize(
    ("expression", "partition"),
    [
        ("cuda(model=A100)", "a100"),
        ("cuda(model=a100)", "a100"),
        ("cuda(model='NVIDIA A100')", "a100"),
        ("cuda(model=A6000)", "gpu"),
        ("cuda(model='RTX A6000')", "gpu"),
        ("cuda(model=A10)", None),
        ("cuda(model=H100)", None),
    ],
)
def test_lab_file_models(expression: str, partition: str | None) -> None:
    """The lab's launcher file writes the GRES types as models (a100, a6000)."""
    if partition is None:
        with pytest.raises(LauncherNotFoundError):
            find_launcher(expression, config=LAB_FILE, offline=True)
        return
    launcher = find_launcher(expression, config=LAB_FILE, offline=True)
    options = getattr(launcher, "options", None)
    assert options is not None and options.partition == partition


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        ("cuda(model=A100)", "box"),  # local launcher, model: NVIDIA A100-SXM4-80GB
        ("cuda(model=A100)*4", "box"),
        ("cuda(model=H100)", "cluster"),  # features_regex: MODEL_h100_80gb
        ("cuda(model=H100-80GB)", "cluster"),
        ("cuda(model=A10)", None),
        ("cuda(model=H200)", None),
        ("cuda(model=A100)*5", None),
    ],
)
def test_yaml_model_and_features_regex(expression: str, answer: str | None) -> None:
    if answer is None:
        with pytest.raises(LauncherNotFoundError):
            find_launcher(expression, config=MODELS_FILE, offline=True)
        return
    assert find_launcher(expression, config=MODELS_FILE, offline=True).id == answer


@pytest.mark.parametrize(
    ("asked", "expected"), [("H200", True), ("h200", True), ("H100", False), ("200", False)]
)
def test_python_launcher_path(asked: str, expected: bool) -> None:
    """``requirement.match`` of a launchers.py judges a CudaSpecification's model alike."""
    host = HostSpecification(cuda=[CudaSpecification("141GiB", model="NVIDIA H200")])
    requirement = HostRequirement(parse(f"cuda(model={asked})").alternatives)
    assert (requirement.match(host) is not None) is expected


# --- properties

SERIES = st.sampled_from(["", "a", "h", "v", "l", "t", "p", "k", "b"])
NUMBERS = st.integers(1, 9999)
VARIANTS = st.sampled_from(["", "s", "g", "ti", "x"])
LINES = st.sampled_from(["", "RTX ", "GTX ", "Quadro "])
VENDORS = st.sampled_from(["", "NVIDIA ", "Tesla ", "NVIDIA GeForce "])
SUFFIXES = st.sampled_from(["", "-SXM4-80GB", " 80GB HBM3", "-PCIE-40GB", " PCIe", "_80gb"])


@st.composite
def gpu_names(draw: st.DrawFn) -> tuple[tuple[str, int, str], str]:
    """A realistic GPU name and its model (series, number, variant)."""
    series, number, variant = draw(SERIES), draw(NUMBERS), draw(VARIANTS)
    model = f"{series}{number}{variant}"
    if draw(st.booleans()):
        model = model.upper()
    name = f"{draw(VENDORS)}{draw(LINES)}{model}{draw(SUFFIXES)}"
    return (series, number, variant), name


@given(gpu_names(), gpu_names())
def test_never_matches_another_model(
    first: tuple[tuple[str, int, str], str], second: tuple[tuple[str, int, str], str]
) -> None:
    """A name never matches an ask of another family letter, number or variant."""
    (model_a, name_a), (model_b, name_b) = first, second
    assume(model_a != model_b)
    assert not model_matches(name_a, name_b)
    series, number, variant = model_a
    assert not model_matches(f"{series}{number}{variant}", name_b)


@given(gpu_names())
def test_the_bare_model_matches_every_way_of_writing_it(
    generated: tuple[tuple[str, int, str], str],
) -> None:
    """``A100`` (any case) matches each way nvidia-smi, a file or a GRES type writes an A100."""
    (series, number, variant), name = generated
    bare = f"{series}{number}{variant}"
    assert model_matches(bare, name)
    assert model_matches(bare.upper(), name)
    assert model_matches(name, name)


@given(st.text(min_size=1, max_size=40))
def test_exact_case_insensitive_names_always_match(name: str) -> None:
    """The old behaviour is kept: equal names (ignoring case) match, whatever they are."""
    assert model_matches(name, name)
    assert model_matches(name.casefold(), name)
    assert model_matches(name, name.casefold())


@given(st.text(max_size=40), st.text(max_size=40))
def test_the_rule_is_a_pure_function_of_the_forms(asked: str, name: str) -> None:
    """Deterministic, and a form is the same object each time (computed once per name)."""
    assert model_matches(asked, name) == model_matches(asked, name)
    assert model_form(name) is model_form(name)


def _doc_table() -> list[tuple[str, str, bool]]:
    """The rows of docs/gpu-models.md's table: (asked, name, matches?) for each name cited."""
    text = (ROOT / "docs" / "gpu-models.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        cells = line.split("|")[1:-1]
        if len(cells) != 4 or not cells[0].strip().startswith("`"):
            continue
        names, _, matched, unmatched = (re.findall(r"`([^`]+)`", c) for c in cells)
        for name in names:
            rows += [(asked, name, True) for asked in matched]
            rows += [(asked, name, False) for asked in unmatched]
    return rows


def test_the_docs_table_is_the_rule() -> None:
    """Every row of docs/gpu-models.md's table holds (the table is what users read)."""
    rows = _doc_table()
    assert len(rows) > 80
    wrong = [row for row in rows if model_matches(row[0], row[1]) is not row[2]]
    assert wrong == []
