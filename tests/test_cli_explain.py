"""``reqsolve explain`` (cli/explain_cmd.py): the table of every candidate and its verdict, and
its JSON."""

from __future__ import annotations

import json

from tests.cli_run import cli
from tests.paths import DOCS_EXAMPLE


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
