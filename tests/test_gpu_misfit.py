"""A GPU model nothing matches (issue 20 §5): "closest" names a node of the model (or series)
asked, says why its name does not match and how to make it (docs/gpu-models.md), and a node of
several GPU kinds asked without a GRES type is named by its kinds, not "unknown"."""

from __future__ import annotations

import pytest

from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_match
from reqsolve.gpu_models import model_gap
from tests.cli_run import cli
from tests.paths import ROOT

CLOSEST = ROOT / "fixtures" / "gpu_models" / "closest" / "launchers.yaml"
GRES = ROOT / "fixtures" / "slurm" / "gres" / "launchers.yaml"


def _closest(expression: str) -> str:
    """The error's "closest: ..." part."""
    with pytest.raises(LauncherNotFoundError) as error:
        find_match(expression, config=CLOSEST, offline=True)
    return str(error.value).split("closest: ", 1)[1]


# (asked, the node named closest (its first host's group), words the detail holds): the V100,
# T4 and mixed nodes come first in the file, and are never named for an A100 or H100 ask
@pytest.mark.parametrize(
    ("expression", "group", "says"),
    [
        ("cuda(model=a100-80gb)", "gpu[4]", [
            "the node has a100, whose name does not state 80gb",
            "whatever memory the file gives it",
            "to match, ask cuda(model=a100, mem=80G), or name the model a100-80gb in the"
            " launcher file (gpu model, or gres_memory's model for GRES type a100)",
        ]),
        ("cuda(model=A100-SXM4-80GB, mem=60G)", "gpu[4]", [
            "does not state 80gb sxm4", "ask cuda(model=a100, mem=80G)",
        ]),
        ("cuda(model='A100 PCIe')", "gpu[4]", [
            "does not state pcie (a qualifier asked must be in the GPU's name)",
            "ask cuda(model=a100)",
        ]),
        ("cuda(model=a100-80gb, mem=90G)", "gpu[4]", ["its GPUs have 80G, 90G asked"]),
        ("cuda(model=a100_2g.10gb)", "gpu[5]", [
            "the node has a100_1g.5gb, which is a MIG slice (1g.5gb), 2g.10gb asked",
            'to ask for this GPU: cuda(model="a100_1g.5gb")',
        ]),
        ("cuda(model=H100)", "gpu[6]", ["model H100 asked, the node has h200"]),
        ("cuda(model=A40)", "gpu[4]", ["model A40 asked, the node has a100"]),
        ("cuda(model='RTX 6000', mem=100G)", "gpu[7]", [  # the 48GB Ada beats the 24GB one
            "the node has rtx6000ada, whose name states the generation ada, none asked",
            'cuda(model="rtx6000ada")',
        ]),
        ("cuda(model='RTX 6000 Blackwell')", "gpu[3]", [
            "the node has rtx_6000, whose name states no generation, blackwell asked",
        ]),
    ],
)
def test_closest_names_a_node_of_the_model_asked(
    expression: str, group: str, says: list[str]
) -> None:
    closest = _closest(expression)
    assert closest.startswith(f"cluster/{group}: "), closest
    for words in says:
        assert words in closest


def test_the_suggested_ask_matches() -> None:
    """What the message says to ask is answered by the node it named."""
    answer, _ = find_match("cuda(model=a100, mem=80G)", config=CLOSEST, offline=True)
    assert answer.options is not None and answer.options.gpu_type == "a100"


@pytest.mark.parametrize(
    ("asked", "names"),  # names from closest to farthest
    [
        ("A100-80GB", ["NVIDIA A100-SXM4-80GB", "a100", "a100_1g.5gb", "A40", "V100"]),
        ("RTX 6000", ["Quadro RTX 6000", "rtx6000ada", "RTX 5000", "A6000"]),
        ("H100", ["h100_80gb", "NVIDIA H200", "A100"]),
    ],
)
def test_model_gap_orders_names(asked: str, names: list[str]) -> None:
    gaps = [model_gap(asked, name) for name in names]
    assert gaps == sorted(gaps) and len(set(gaps)) == len(gaps), gaps


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("cuda(model=a100-80gb)", "model a100-80gb asked, the node has 8 1080ti and 2 titan_x"),
        ("cuda(model=1080ti)", "model 1080ti asked, the node has 8 1080ti and 2 titan_x, and asked"
         " without a GRES type Slurm may hand out any of them"),
        ("cuda(model=titan_x)", "the node has 8 1080ti and 2 titan_x, and asked"),
    ],
)
def test_explain_names_the_kinds_of_a_node_asked_without_a_type(
    expression: str, why: str
) -> None:
    _, out, _ = cli("explain", "--offline", "--config", str(GRES), expression)
    rows = [line for line in out.splitlines() if "gpus=any" in line]
    assert rows and all(why in row for row in rows), rows
    assert "unknown" not in out
