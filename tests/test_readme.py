"""README.md is what a newcomer needs (issue 20, item 11), and the figures live in one place.

What it does, how to install it (no package index has reqsolve: a clone or a git URL, extras
included), a launcher file of about ten lines to start from (the very file the examples run on,
and a clean one), the commands, where to go next; no benchmark figures, which are in
docs/performance.md as one table of one dated run (benchmarks/results.md's latest). The
README's examples themselves run in tests/test_docs_examples.py and type-check in
tests/test_docs_mypy.py; the two set-up commands are what .ci/run runs.
"""

from __future__ import annotations

import re

import pytest

from reqsolve.config.loader import load_config
from tests.paths import FIXTURES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
STARTER = FIXTURES / "starter" / "launchers.yaml"


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section (up to the next ``## ``)."""
    found = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert found is not None, f"no '## {title}' section"
    return found.group(1)


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def test_the_starter_file_is_shown_whole_and_loads_clean() -> None:
    [shown] = fenced(section(README, "A launcher file to start from"), "yaml")
    assert shown == STARTER.read_text(encoding="utf-8")
    assert len(shown.splitlines()) <= 12, "a file to start from is about ten lines"
    loaded = load_config(STARTER)
    assert not loaded.warnings, loaded.warnings
    assert {launcher.id for launcher in loaded.launchers} == {"workstation", "cluster"}


@pytest.mark.parametrize("written", [
    "pip install -e '.[experimaestro]'",  # from a clone, with an extra
    "'reqsolve[experimaestro,submitit] @ git+https://",  # from a git URL, with extras
    "'reqsolve @ git+https://",
    "python3 -m pip install .",
])
def test_install_says_how_without_a_package_index(written: str) -> None:
    assert written in section(README, "Install")


@pytest.mark.parametrize("command", ["reqsolve find", "reqsolve validate", "reqsolve submit",
                                     "reqsolve explain", "find_launcher("])
def test_the_commands_are_shown(command: str) -> None:
    assert command in README


def test_setup_keeps_the_two_commands_ci_runs() -> None:
    """.ci/run reads the ```sh blocks of "## Set-up": exactly two, one line each, the second
    running pytest (the same reading as .ci/run's)."""
    blocks = fenced(section(README, "Set-up"), "sh")
    lines = [[line for line in block.splitlines() if line.strip() and not line.startswith("#")]
             for block in blocks]
    assert [len(block) for block in lines] == [1, 1]
    assert "reqsolve find --config fixtures/docs_example/launchers.yaml" in lines[0][0]
    assert "pytest" in lines[1][0]


# a measured figure: "162 ms", "1.93 ms", "315 µs", "84.50 s", "204×"
FIGURE = re.compile(r"\d[\d,.]*\s?(?:ms|µs|us|s|×)(?![\w])")


def test_no_benchmark_figures_in_the_readme() -> None:
    assert not FIGURE.findall(README), "figures live in docs/performance.md"
    assert "docs/performance.md" in README


def test_performance_has_one_table_of_the_latest_run() -> None:
    """docs/performance.md's current figures are benchmarks/results.md's targets, dated as it
    is (the README quoted a run older than the latest, with other figures)."""
    results = (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8")
    measured = re.search(r"Measured (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", results)
    assert measured is not None
    current = section((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"),
                      "Current figures")
    rows = [line for line in current.splitlines() if line.startswith("|")]
    targets = [line for line in section(results, "Targets").splitlines() if line.startswith("|")]
    assert rows == targets
    assert measured.group(1).replace(" UTC", "") in " ".join(current.split()).replace("**", "")
    dates = set(re.findall(r"\d{4}-\d\d-\d\d", current))
    assert dates == {measured.group(1)[:10]}, "one table, one date"
