"""``reqsolve explain`` (cli/explain_cmd.py): the table of every candidate and its verdict, and
its JSON."""

from __future__ import annotations

import json

import pytest

from tests.cli_run import cli
from tests.paths import DOCS_EXAMPLE, FIXTURES


def test_explain_table_and_json() -> None:
    spec = "cuda(mem=24G)*2 & duration=4 days"
    code, out, _ = cli("explain", "--config", str(DOCS_EXAMPLE), "--offline", spec)
    assert code == 0
    assert "min_mem_ratio 0.7: this 48G GPU needs ≥ 33.6G, asked 24G" in out
    assert "QoS qos_gpu-t3 max 20h < 4d asked" in out
    assert "chosen" in out
    code, out, _ = cli(
        "explain", "--config", str(DOCS_EXAMPLE), "--offline", "--format", "json", spec
    )
    data = json.loads(out)
    verdicts = {(r["launcher"], r["partition"], r["qos"]): r["verdict"] for r in data["rows"]}
    assert verdicts[("manual", "smallgpus", None)] == "chosen"
    assert verdicts[("manual", "gpu_p4", "qos_gpu-t3")] == "fails"
    assert data["answer"]["launcher"]["id"] == "manual"


def test_a_node_of_several_gpu_kinds_is_one_row_per_way_to_ask() -> None:
    """A node with GPUs of several GRES types is one candidate per way to ask for them
    (untyped, then by type, then by a typed list): each row says which, in the table and in
    the JSON."""
    config = str(FIXTURES / "slurm" / "gres" / "launchers.yaml")
    code, out, _ = cli(
        "explain", "--config", config, "--offline", "--format", "json", "cuda(mem=12G)*8"
    )
    assert code == 1
    rows = [r for r in json.loads(out)["rows"] if r["launcher"] == "mixed"]
    assert [(r["group"], r["gpus"]) for r in rows] == [
        (0, None), (1, None), (2, "any"), (2, "1080ti"), (2, "titan_x"), (2, "by type")
    ]
    code, out, _ = cli("explain", "--config", config, "--offline", "cuda(mem=12G)*8")
    assert "gpu[2] gpus=1080ti" in out and "gpu[0] " in out and "gpu[0] gpus" not in out


@pytest.mark.parametrize("alternatives", ["cpu(cores=1)", "cuda(mem=900G) | cpu(cores=1)"])
def test_reqsolves_experimaestro_adapter_is_not_a_failing_launcher(alternatives: str) -> None:
    """Issue 20, item 9: the documented one-line launchers.py (reqsolve's experimaestro adapter)
    returns None to reqsolve on purpose, so that the launchers.yaml beside it answers: explain
    labelled it "fails" and find listed "find_launcher returned None" among its reasons."""
    config = str(FIXTURES / "experimaestro")
    code, out, _ = cli("explain", "--offline", "--config", config, "--format", "json", alternatives)
    assert code == 0
    rows = [row for row in json.loads(out)["rows"] if row["type"] == "python"]
    assert [(row["verdict"], row["reason"].split(":")[0]) for row in rows] == [
        ("skipped", "reqsolve's experimaestro adapter")
    ]
    code, out, _ = cli("find", "--offline", "--config", config, "--format", "json", "cuda(mem=9T)")
    assert code == 1
    assert not [r for r in json.loads(out)["reasons"] if r["launcher"] == "launchers.py"]
