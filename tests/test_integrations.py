"""experimaestro and submitit are optional: ``import reqsolve``, the integration modules
themselves and ``reqsolve find --format submitit`` never import them (checked in a fresh
interpreter, whether the extras are installed or not)."""

from __future__ import annotations

import json

from tests.commands import python_process

PROBE = """
import io, json, sys
import reqsolve
import reqsolve.integrations.experimaestro, reqsolve.integrations.submitit
from reqsolve.cli import run
out, err = io.StringIO(), io.StringIO()
code = run(["find", "--config", "fixtures/slurm/lab/launchers.yaml", "--offline",
            "--format", "submitit", "duration=1h & cuda(mem=24G)"], out, err)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("experimaestro", "submitit"))
print(json.dumps({"code": code, "out": out.getvalue(), "loaded": loaded}))
"""


def test_integrations_import_their_tool_only_when_used() -> None:
    done = python_process(PROBE)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["loaded"] == []
    assert result["code"] == 0
    assert json.loads(result["out"])["slurm_gpus_per_node"] == 1
