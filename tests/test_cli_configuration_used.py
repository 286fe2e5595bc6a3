"""``reqsolve --version``, and find / explain / submit naming the configuration they used.

An answer that surprises usually comes from an unexpected file ($REQSOLVE_CONFIG, a forgotten
~/.config file, or no file at all), so each of the three says which on stderr, in one line, and
``--format json`` carries it as ``"config"``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reqsolve
from tests.cli_run import cli, split_configuration
from tests.paths import DOCS_EXAMPLE, ROOT

WITH_YAML = ROOT / "fixtures" / "python" / "with_yaml"
THIS_MACHINE = "this machine (no launcher file found)"


@pytest.fixture
def no_launcher_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user without any launcher file: discovery falls back to this machine."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)


def test_version_is_the_package_version() -> None:
    done = subprocess.run([sys.executable, "-m", "reqsolve", "--version"], capture_output=True,
                          text=True, check=False, timeout=60, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"reqsolve {reqsolve.__version__}\n",
                                                           "")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["find", "--offline", "cuda(mem=20G)*2"], 0),
        (["find", "--offline", "cuda(mem=20G)*9"], 1),
        (["explain", "--offline", "cuda(mem=20G)*2"], 0),
        (["submit", "--offline", "cuda(mem=20G)*2", "--dry-run", "--", "true"], 0),
    ],
    ids=["find", "find-nothing", "explain", "submit"],
)
@pytest.mark.parametrize(
    ("config", "named"),
    [
        (DOCS_EXAMPLE, [DOCS_EXAMPLE]),
        (WITH_YAML, [WITH_YAML / "launchers.py", WITH_YAML / "launchers.yaml"]),
    ],
    ids=["yaml", "directory"],
)
def test_stderr_names_the_files(argv: list[str], code: int, config: Path,
                                named: list[Path]) -> None:
    command, *rest = argv
    got, _, err = cli(command, "--config", str(config), *rest)
    used, _ = split_configuration(err)
    assert used == ", ".join(str(path) for path in named)
    assert err.splitlines()[0] == err.splitlines()[0].strip() and len(err.splitlines()[0]) < 200
    if config == DOCS_EXAMPLE:
        assert got == code


def test_relative_path_shown_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, _, err = cli("find", "--config", "fixtures/docs_example/launchers.yaml", "--offline",
                    "cuda(mem=20G)*2")
    assert err.splitlines()[0] == "reqsolve: configuration: fixtures/docs_example/launchers.yaml"


@pytest.mark.usefixtures("no_launcher_file")
@pytest.mark.parametrize("command", ["find", "explain", "submit"])
def test_no_file_names_this_machine(command: str) -> None:
    extra = ["--dry-run", "--", "true"] if command == "submit" else []
    _, _, err = cli(command, "cpu(cores=1)", *extra)
    assert err.splitlines()[0] == f"reqsolve: configuration: {THIS_MACHINE}"


@pytest.mark.usefixtures("no_launcher_file")
def test_discovered_file_is_named(tmp_path: Path) -> None:
    target = tmp_path / "config" / "reqsolve" / "launchers.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(DOCS_EXAMPLE, target)
    shutil.copy(DOCS_EXAMPLE.parent / "tokens.yaml", target.parent / "tokens.yaml")
    _, _, err = cli("find", "--offline", "cuda(mem=20G)*2")
    assert split_configuration(err)[0] == str(target)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["find", "--format", "json", "cuda(mem=20G)*2"], 0),
        (["find", "--format", "json", "cuda(mem=20G)*9"], 1),
        (["explain", "--format", "json", "cuda(mem=20G)*2"], 0),
    ],
    ids=["find", "find-nothing", "explain"],
)
def test_json_carries_the_configuration(argv: list[str], code: int) -> None:
    got, out, _ = cli(argv[0], "--config", str(DOCS_EXAMPLE), "--offline", *argv[1:])
    assert got == code
    assert json.loads(out)["config"] == {"files": [str(DOCS_EXAMPLE)], "this_machine": False}


@pytest.mark.usefixtures("no_launcher_file")
def test_json_without_file_says_this_machine() -> None:
    _, out, _ = cli("find", "--format", "json", "cuda(mem=1000G)")  # nothing here has that
    assert json.loads(out)["config"] == {"files": [], "this_machine": True}
