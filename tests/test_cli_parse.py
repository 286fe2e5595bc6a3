"""``reqsolve parse``: in-process through ``run(argv, stdout, stderr)``, once as a real process."""

from __future__ import annotations

import json

import pytest

from tests.cli_run import cli
from tests.commands import reqsolve_process

SEED = "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)"


def test_done_criterion_of_issue_2() -> None:
    code, out, err = cli("parse", "--format", "json", SEED)
    assert (code, err) == (0, "")
    data = json.loads(out)
    [alternative] = data["alternatives"]
    assert alternative["duration_s"] == 345600
    assert alternative["gpus"] == [
        {"memory_bytes": 4000000000, "model": None},
        {"memory_bytes": 4000000000, "model": None},
    ]
    assert alternative["cpu"] == {"cores": 4, "memory_bytes": 400000000}


def test_json_is_exactly_section_7() -> None:
    code, out, _ = cli("parse", "--format", "json", "cuda(model=A100) | duration=2h")
    assert code == 0
    assert json.loads(out) == {
        "alternatives": [
            {"duration_s": 0, "cpu": None, "gpus": [{"memory_bytes": 0, "model": "A100"}],
             "nodes": 1, "tasks": None},
            {"duration_s": 7200, "cpu": None, "gpus": [], "nodes": 1, "tasks": None},
        ],
        "canonical": "cuda(model=A100) | duration=2h",
    }
    assert out.endswith("}\n")


def test_json_canonical_reparses_to_the_same_json() -> None:
    _, first, _ = cli("parse", "--format", "json", SEED + " | gpu(mem=24GiB)*4 & duration=1-12")
    canonical = json.loads(first)["canonical"]
    _, second, _ = cli("parse", "--format", "json", canonical)
    assert json.loads(second) == json.loads(first)


def test_text_format_names_every_term() -> None:
    code, out, err = cli("parse", SEED + " | cpu(cores=8)")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "canonical: duration=4d & cpu(mem=400MB, cores=4) & cuda(mem=4GB)*2 | cpu(cores=8)",
        "alternative 0: duration=4d & cpu(mem=400MB, cores=4) & cuda(mem=4GB)*2",
        "  duration: 4d (345600 s)",
        "  cpu: 4 cores, memory 400MB (400000000 bytes)",
        "  gpus: 2 on one node",
        "    - memory >= 4GB (4000000000 bytes)",
        "    - memory >= 4GB (4000000000 bytes)",
        "alternative 1: cpu(cores=8)",
        "  duration: not limited",
        "  cpu: 8 cores, memory not asked",
        "  gpus: none",
    ]


def test_text_format_of_a_model_and_one_core() -> None:
    _, out, _ = cli("parse", "--format", "text", 'cpu() & gpu(model="RTX 3090")')
    assert "  cpu: 1 core, memory not asked" in out.splitlines()
    assert "    - memory any, model RTX 3090" in out.splitlines()


@pytest.mark.parametrize(
    ("expression", "first_line"),
    [
        ("cuda(mem=4G", "reqsolve: InvalidExpression: expected ')' to close 'cuda('"),
        ("duration=4", "reqsolve: InvalidExpression: duration '4' has no unit"),
        ("", "reqsolve: InvalidExpression: empty requirement expression"),
        ("this is not a requirement", "reqsolve: InvalidExpression: unknown term 'this'"),
    ],
    ids=["unclosed", "bare-duration", "empty", "gibberish"],
)
def test_bad_expression_exits_2_with_the_error_on_stderr(expression: str, first_line: str) -> None:
    code, out, err = cli("parse", expression)
    assert code == 2
    assert out == ""
    assert err.splitlines()[0].startswith(first_line)
    assert err.splitlines()[-1].startswith("hint: ")


def test_bad_expression_in_json_mode_also_exits_2() -> None:
    code, out, err = cli("parse", "--format", "json", "cpu(mem=1000)")
    assert (code, out) == (2, "")
    assert "has no unit" in err


def test_unknown_format_is_a_usage_error() -> None:
    code, _, err = cli("parse", "--format", "yaml", "cpu()")
    assert code == 2
    assert "invalid choice" in err


def test_missing_expression_is_a_usage_error() -> None:
    code, _, err = cli("parse")
    assert code == 2
    assert "EXPR" in err


def test_real_process() -> None:
    """Once through ``python -m reqsolve``: the entry point, encoding, exit status and streams."""
    ok = reqsolve_process("parse", "--format", "json", SEED)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["alternatives"][0]["duration_s"] == 345600
    bad = reqsolve_process("parse", "cpu(cores=0)")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "cores must be a whole number >= 1, got '0'" in bad.stderr
