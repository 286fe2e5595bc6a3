"""Every Python example of README.md and docs/*.md that is run passes ``mypy --strict``.

A reader copies the examples into typed code: what the docs show must type-check as written
(issue 20, item 12: the README's ``if launcher.type == "slurm": launcher.options.args()`` gave five
errors). The blocks are those tests/test_docs_examples.py runs; a block that shows code written
for another tool, kept verbatim (experimaestro's untyped ``launchers.py``), has
``<!-- untyped: reason -->`` on the line before its fence and is left out, with its reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.test_docs_examples import RUNNABLE, Block

UNTYPED = re.compile(r"^\s*<!--\s*untyped:\s*(?P<reason>\S.*?)\s*-->\s*$")
ERROR = re.compile(r"^(?P<file>[^:\s]+\.py):(?P<line>\d+): (?P<text>error: .*)$")


def untyped_reason(block: Block) -> str | None:
    """The reason of an ``untyped`` marker before the block's fence (None: checked)."""
    lines = block.path.read_text(encoding="utf-8").splitlines()[: block.line - 1]
    before = next((line for line in reversed(lines) if line.strip()), "")
    marker = UNTYPED.match(before)
    return marker.group("reason") if marker else None


PYTHON = [b for b in RUNNABLE if b.lang == "python"]
CHECKED = [b for b in PYTHON if untyped_reason(b) is None]


def module_name(block: Block) -> str:
    """A module name per block: ``docs/submitit.md:42`` -> ``docs_submitit_42``."""
    return re.sub(r"\W", "_", f"{block.path.relative_to(ROOT).with_suffix('')}_{block.line}")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One mypy run over every checked block (a module each): its errors, by block id."""
    folder = tmp_path_factory.mktemp("docs-mypy")
    files = {}
    for block in CHECKED:
        path = folder / f"{module_name(block)}.py"
        path.write_text(block.text, encoding="utf-8")
        files[path.name] = block.id
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
         "--cache-dir", str(folder / ".mypy_cache"), *(str(folder / name) for name in files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    errors: dict[str, list[str]] = {block.id: [] for block in CHECKED}
    for line in done.stdout.splitlines():
        found = ERROR.match(line)
        assert found is not None or not line.strip(), f"mypy said: {line}"
        if found:
            where = files[Path(found["file"]).name]
            # the line of the Markdown file: the block starts after its fence
            number = int(found["line"]) + int(where.rpartition(":")[2])
            errors[where].append(f"{where.rpartition(':')[0]}:{number}: {found['text']}")
    assert done.returncode in (0, 1), done.stderr
    assert done.returncode == 0 or any(errors.values()), done.stdout + done.stderr
    return errors


@pytest.mark.parametrize("block", CHECKED, ids=[b.id for b in CHECKED])
def test_example_type_checks(block: Block, mypy_errors: dict[str, list[str]]) -> None:
    assert not mypy_errors[block.id], "\n".join(mypy_errors[block.id])


def test_the_readme_python_example_is_checked() -> None:
    assert any(b.path.name == "README.md" for b in CHECKED)
    assert len(CHECKED) >= 8, [b.id for b in CHECKED]


def test_every_untyped_block_says_why() -> None:
    """An ``untyped`` marker gives a reason and stands before a Python block that is run."""
    for path in {b.path for b in PYTHON} | {ROOT / "README.md", *(ROOT / "docs").glob("*.md")}:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"<!--\s*untyped", line):
                assert UNTYPED.match(line), f"{path.name}:{number}: write <!-- untyped: reason -->"
    marked = [b for b in PYTHON if untyped_reason(b) is not None]
    assert len(marked) <= 3, f"keep the untyped examples few: {[b.id for b in marked]}"
