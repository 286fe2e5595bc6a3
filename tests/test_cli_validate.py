"""``reqsolve validate``: pinned diagnostics for every broken fixture, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_run import cli
from tests.commands import reqsolve_process
from tests.paths import ROOT

BROKEN = sorted(p.parent for p in (ROOT / "fixtures" / "broken").glob("*/launchers.yaml"))
GOOD = sorted(p for p in (ROOT / "fixtures").glob("*/launchers.yaml") if p.parent.name != "broken")
PINNED = sorted(
    path.parent
    for pattern in ("*/expected.txt", "broken/*/expected.txt")
    for path in (ROOT / "fixtures").glob(pattern)
)


def validate(*argv: str) -> tuple[int, str, str]:
    return cli("validate", *argv)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # file names in the pinned outputs are relative to the repository


def test_enough_broken_fixtures() -> None:
    assert len(BROKEN) >= 15


def test_every_fixture_is_pinned() -> None:
    assert set(BROKEN) | {p.parent for p in GOOD} <= set(PINNED)


@pytest.mark.parametrize("case", PINNED, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_fixture_prints_exactly_the_pinned_diagnostics(case: Path) -> None:
    relative = case.relative_to(ROOT) / "launchers.yaml"
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    code, out, err = validate(str(relative))
    assert out == expected
    assert err == ""
    assert code == (1 if ": error: " in expected else 0)


@pytest.mark.parametrize("case", BROKEN, ids=lambda p: p.name)
def test_strict_fails_on_warnings_too(case: Path) -> None:
    code, _, _ = validate(str(case / "launchers.yaml"), "--strict")
    assert code == 1


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.parent.name)
def test_good_fixtures_have_no_error(path: Path) -> None:
    code, out, _ = validate(str(path), "--format", "json")
    assert code == 0
    assert all(problem["severity"] == "warning" for problem in json.loads(out))


def test_clean_file_prints_nothing(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("local:\n  - cpu: {cores: 4, memory: 16G}\n")
    assert validate(str(path)) == (0, "", "")
    assert validate(str(path), "--strict") == (0, "", "")


def test_json_format_is_section_7() -> None:
    path = "fixtures/broken/unknown_keys/launchers.yaml"
    code, out, _ = validate(path, "--format", "json")
    assert code == 1
    problems = json.loads(out)
    assert problems[0] == {
        "file": path,
        "line": 3,
        "column": 21,
        "path": "local[0].cpu.memry",
        "severity": "error",
        "message": "unknown key 'memry' in a local cpu",
        "hint": "did you mean 'memory'?",
    }
    assert {tuple(sorted(p)) for p in problems} <= {
        ("column", "file", "hint", "line", "message", "path", "severity"),
        ("column", "file", "line", "message", "path", "severity"),
    }


def test_github_format() -> None:
    code, out, _ = validate("fixtures/broken/duplicate_ids/launchers.yaml", "--format", "github")
    assert code == 1
    assert out.splitlines()[0] == (
        "::error file=fixtures/broken/duplicate_ids/launchers.yaml,line=4,col=9::"
        "local[1].id: launcher id 'local-0' is already used by local[0] "
        "(hint: give each launcher its own id: answers name launchers by id)"
    )
    code, out, _ = validate("fixtures/broken/no_launcher/launchers.yaml", "--format", "github")
    assert code == 0
    assert out.startswith("::warning file=fixtures/broken/no_launcher/launchers.yaml,line=2,")


def test_github_escapes_newlines_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "a,b.yaml"
    path.write_text('local:\n  - cpu: {cores: 1, memory: 1G}\n    tags: "x"\n')
    _, out, _ = validate(str(path), "--format", "github")
    assert "file=" + str(path).replace(",", "%2C") + ",line=3" in out
    assert "\n" not in out.rstrip("\n")


def test_several_files_all_reported() -> None:
    code, out, _ = validate(
        "fixtures/broken/units/launchers.yaml",
        "fixtures/broken/duplicate_ids/launchers.yaml",
        "--format",
        "json",
    )
    assert code == 1
    assert {p["file"] for p in json.loads(out)} == {
        "fixtures/broken/units/launchers.yaml",
        "fixtures/broken/duplicate_ids/launchers.yaml",
    }


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["does/not/exist.yaml"], id="missing-file"),
        pytest.param(["fixtures"], id="directory"),
        pytest.param([], id="no-file"),
        pytest.param(["fixtures/upstream_test/launchers.yaml", "--format", "xml"], id="format"),
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    code, _, err = validate(*argv)
    assert code == 2
    assert err


def test_missing_file_still_checks_the_others() -> None:
    code, out, err = validate("nope.yaml", "fixtures/broken/units/launchers.yaml")
    assert code == 2
    assert "nope.yaml: no such file" in err
    assert "units/launchers.yaml:5:21: error:" in out


def test_real_subprocess() -> None:
    result = reqsolve_process("validate", "fixtures/broken/tabs/launchers.yaml")
    assert result.returncode == 1
    assert result.stdout == (ROOT / "fixtures/broken/tabs/expected.txt").read_text()
    assert "Traceback" not in result.stderr


def _fifo(tmp_path: Path) -> str:
    import os

    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: str(tmp / "nope.yaml"), "no such file"),
        (lambda tmp: str(tmp), "is a directory, not a launcher file"),
        (lambda tmp: "/dev/null", "is a character device, not a launcher file"),
        (_fifo, "is a FIFO (named pipe), not a launcher file"),
        (lambda tmp: str(tmp / "nope" / "launchers.yaml"), "no such file"),
    ],
    ids=["missing", "directory", "dev-null", "fifo", "missing-dir"],
)
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_path_that_is_not_a_file_is_named_in_every_format(
    tmp_path: Path, make: Any, message: str, fmt: str
) -> None:
    """A CI step reading validate's stdout must never see "no problem" (``[]``) for a file it
    could not read; and /dev/null, a directory or a FIFO are named for what they are."""
    name = make(tmp_path)
    code, out, err = validate("--format", fmt, name)
    assert code == 2
    assert f"{name}: {message}" in err
    if fmt == "json":
        problems = json.loads(out)
        assert [(p["file"], p["severity"], p["message"]) for p in problems] == [
            (name, "error", message)
        ]
    elif fmt == "github":
        assert out.startswith(f"::error file={name}::{message}")


@pytest.mark.parametrize("spelling", ["use_memory_contraint", "use_memory_constraint"])
def test_a_warning_points_at_the_spelling_written(tmp_path: Path, spelling: str) -> None:
    """experimaestro's misspelt key and its correct spelling (an alias in config/spec.py) are
    both accepted; the warning names the one the file has, on its line."""
    path = tmp_path / "launchers.yaml"
    path.write_text(
        "slurm:\n  - id: s\n    " + spelling + ": false\n"
        "    partitions: {p: {nodes: [{hosts: [h]}]}}\n"
    )
    _, out, _ = validate(str(path))
    column = len(f"    {spelling}: ") + 1
    assert f"{path}:3:{column}: warning: slurm[0].{spelling}: " in out
    assert "no mem_per_cpu is set" in out
