"""Every example of README.md and docs/*.md runs, and shows what it really prints.

Fenced blocks are extracted from the Markdown:

- ```sh: each command line (a trailing ``\\`` continues it; ``#`` lines are comments) runs with
  bash from the repository root and must exit 0. A leading ``python3 -m pip install ... &&``
  is left out: the test environment is that installation already.
- ```console: ``$ `` lines are commands, the lines after one are what it shows. The shown
  lines must be its stdout (lines of its stderr may be shown among them, as a terminal
  would); JSON is compared by value (it may be wrapped for reading, and ``, ...`` before a
  closing brace leaves the other keys out), and a line ``...`` stands for any number of lines.
  A command whose output is shown may exit non-zero (a "nothing matches" example); one shown
  without output must exit 0.
- ```python: the block runs as a script from the repository root and must exit 0.

A block that cannot run here (it needs a real cluster, installs packages, takes minutes) has
``<!-- not-run: reason -->`` on the line before its fence; the reason must be given.

Commands run with ``reqsolve`` of the test environment first on PATH, in a home with an empty
``~/.config/reqsolve/`` and no ``$REQSOLVE_CONFIG`` (a machine with no launcher file), and
``SLURM_CONF`` pointing nowhere (no Slurm client may look for a controller). README's examples
run a second time with the bundled example file as the user's own
(``~/.config/reqsolve/launchers.yaml``): they must work as written on both machines.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import with_srun
from tests.paths import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGUAGES = ("sh", "console", "python")
BUNDLED = ROOT / "fixtures" / "docs_example"
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>\S.*?)\s*-->\s*$")
PIP_INSTALL = re.compile(r"^python3? -m pip install [^&]*&&\s*")


@dataclasses.dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file (indented ones too: they may sit in a list)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening.group("indent")
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = "\n".join(line.removeprefix(indent) for line in lines[index + 1 : end])
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = NOT_RUN.match(before)
        found.append(Block(path, index + 1, opening.group("lang"), body + "\n",
                           marker.group("reason") if marker else None))
        index = end + 1
    return found


ALL_BLOCKS = [block for path in DOCUMENTS for block in blocks(path)]
RUNNABLE = [b for b in ALL_BLOCKS if b.lang in RUN_LANGUAGES and b.not_run is None]


@pytest.fixture
def machine(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a user of this machine: ``request.param`` says whether the bundled
    example is their launcher file ("bundled") or they have none ("no-file")."""
    home = tmp_path / "home"
    config = home / ".config" / "reqsolve"
    config.mkdir(parents=True)
    if getattr(request, "param", "no-file") == "bundled":
        for name in ("launchers.yaml", "tokens.yaml"):
            shutil.copy(BUNDLED / name, config / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SBATCH_", "REQSOLVE_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        REQSOLVE_TOKENS_DIR=str(tmp_path / "tokens"),
        SLURM_CONF=str(tmp_path / "no-slurm" / "slurm.conf"),
        # srun last: submitit's Slurm executor is made only where it is on PATH (docs/submitit.md),
        # whether or not the Slurm lab installed Slurm's clients earlier in the run
        PATH=with_srun(os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
                       tmp_path / "standins"),
        PYTHONPATH=str(ROOT),
    )
    return env


def run_argv(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run from the repository root in a session of its own: a command that outlives the
    limit is ended with everything it started."""
    with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as child:
        try:
            out, err = child.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            pytest.fail(f"{argv[-1][:200]!r} ran over 120 s: mark it not-run, or make it quicker")
    return subprocess.CompletedProcess(argv, child.returncode, out, err)


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_argv(["bash", "-o", "pipefail", "-c", command], env)


def command_lines(text: str) -> list[str]:
    """Shell lines of an ```sh block, continuations joined, comment lines dropped."""
    commands: list[str] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        commands.append(PIP_INSTALL.sub("", pending + line))
        pending = ""
    assert not pending, "a command ends with a line continuation"
    return commands


def transcript(text: str) -> list[tuple[str, list[str]]]:
    """(command, shown lines) of a ```console block."""
    steps: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("$ "):
            command = line[2:]
            while command.rstrip().endswith("\\") and index < len(lines):
                command = command.rstrip()[:-1] + " " + lines[index]
                index += 1
            steps.append((command, []))
        elif steps:
            steps[-1][1].append(line.rstrip())
    assert steps, "a console block without any '$ ' command"
    return [(command, _trim(shown)) for command, shown in steps]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines.pop()
    return lines


def shows(part: object, whole: object) -> bool:
    """``part`` is ``whole`` with some keys of its objects left out (written ``...``)."""
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(key in whole and shows(value, whole[key]) for key, value in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        return len(part) == len(whole) and all(map(shows, part, whole))
    return part == whole


def assert_shown(shown: list[str], done: subprocess.CompletedProcess[str]) -> None:
    out, err = done.stdout.splitlines(), set(done.stderr.splitlines())
    stdout_part = [line for line in shown if line in out or line not in err]
    text = "\n".join(stdout_part)
    if text.lstrip().startswith(("{", "[")):
        # JSON, perhaps wrapped for reading, perhaps with "..." for keys left out
        part = re.sub(r",\s*\.\.\.\s*(?=[}\]])", "", text)
        try:
            expected = json.loads(part)
        except json.JSONDecodeError:
            pass
        else:
            got = json.loads(done.stdout)
            assert shows(expected, got) if part != text else expected == got, (text, got)
            return
    if "..." in stdout_part:
        pattern = "\n".join(".*?" if line == "..." else re.escape(line) for line in stdout_part)
        assert re.fullmatch(pattern.replace("\n.*?\n", "\n(?:.*\n)*?"), "\n".join(out),
                            re.S), (stdout_part, done.stdout, done.stderr)
        return
    assert stdout_part == out, f"shown:\n{stdout_part}\nprinted:\n{done.stdout}{done.stderr}"


def check_block(block: Block, env: dict[str, str]) -> None:
    if block.lang == "python":
        done = run_argv([sys.executable, "-c", block.text], env)
        assert done.returncode == 0, f"{block.id}:\n{done.stdout}{done.stderr}"
        return
    if block.lang == "sh":
        for command in command_lines(block.text):
            done = run(command, env)
            assert done.returncode == 0, f"{block.id}: {command}\n{done.stdout}{done.stderr}"
        return
    for command, shown in transcript(block.text):
        done = run(command, env)
        if not shown:
            assert done.returncode == 0, f"{block.id}: {command}\n{done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        assert_shown(shown, done)


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_example_runs(block: Block, machine: dict[str, str]) -> None:
    before = sorted(os.listdir(ROOT))
    check_block(block, machine)
    # an example that writes into the checkout would leave files in every clone that runs it
    assert sorted(os.listdir(ROOT)) == before, "the example wrote into the repository root"


README_BLOCKS = [b for b in RUNNABLE if b.path.name == "README.md"]


@pytest.mark.parametrize("machine", ["bundled"], indirect=True)
@pytest.mark.parametrize("block", README_BLOCKS, ids=[b.id for b in README_BLOCKS])
def test_readme_example_with_the_bundled_file_as_mine(block: Block,
                                                      machine: dict[str, str]) -> None:
    check_block(block, machine)


def test_every_block_is_run_or_says_why_not() -> None:
    """A block of a runnable language is either run or marked, and the marker gives a reason;
    a marker before any other block (or a malformed one) is a mistake."""
    for path in DOCUMENTS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if "not-run" in line:
                assert NOT_RUN.match(line), f"{path.name}:{number}: write <!-- not-run: reason -->"
    marked = [b for b in ALL_BLOCKS if b.not_run is not None]
    assert all(b.lang in RUN_LANGUAGES for b in marked), [b.id for b in marked]
    assert len(RUNNABLE) >= 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$ reqsolve --version\nreqsolve 0.1.0\n", [("reqsolve --version", ["reqsolve 0.1.0"])]),
        ("$ a \\\n    b\nout\n$ c\n", [("a      b", ["out"]), ("c", [])]),
    ],
)
def test_transcript_reading(text: str, expected: list[tuple[str, list[str]]]) -> None:
    assert transcript(text) == expected


def test_command_lines_reading() -> None:
    text = "# a comment\npython3 -m pip install . && reqsolve find x\nls \\\n  -l\n"
    assert command_lines(text) == ["reqsolve find x", "ls    -l"]


TEXTS = [*DOCUMENTS, ROOT / "tests" / "conformance" / "README.md",
         *sorted(ROOT.glob("fixtures/**/*.md")), *sorted(ROOT.glob("reqsolve/**/*.py")),
         *sorted(ROOT.glob("tests/**/*.py")), *sorted(ROOT.glob("benchmarks/*.py")),
         ROOT / "benchmarks" / "README.md", ROOT / ".ci" / "run", ROOT / "pyproject.toml"]
LINK = re.compile(r"\]\((?!https?:|mailto:|#)(?P<target>[^)\s#]+)(?:#[^)]*)?\)")
REPOSITORY_PATH = re.compile(
    r"(?<![\w./~-])(?P<path>(?:docs|tests|fixtures|benchmarks|reqsolve|grammars|\.ci)/"
    r"[\w./-]*\w)"
)


def cited(path: Path) -> list[tuple[str, Path]]:
    """(as written, where it must be) for every repository file a text names: in Markdown,
    links (relative to the text) and paths from the repository root; in code, the documents
    (``docs/semantics.md``). Patterns (``tests/test_parser*``) and what a run makes (folders
    starting with a dot, such as ``benchmarks/.work``; ``__pycache__``) are not citations."""
    text = path.read_text(encoding="utf-8")
    found = [(m["target"], path.parent / m["target"]) for m in LINK.finditer(text)
             if path.suffix == ".md"]
    for match in REPOSITORY_PATH.finditer(text):
        written = match["path"]
        if text[match.end():match.end() + 1] in ("*", "<", "{"):
            continue
        if any(part.startswith(".") or part == "__pycache__" for part in written.split("/")[1:]):
            continue
        if path.suffix == ".md" or written.endswith(".md"):
            found.append((written, ROOT / written))
    return found


# what a build or a run writes, named as such by the texts: not in a checkout
MADE = {"reqsolve/grammars", "tests/slurm/lab/captured"}


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_file_exists(path: Path) -> None:
    """Every document, script or fixture a text cites is in the repository (nothing outside it,
    such as a folder beside the checkout, may be needed to read the docs or run the tests)."""
    missing = [written for written, where in cited(path)
               if not where.exists() and written not in MADE]
    assert not missing, f"{path.relative_to(ROOT)} cites what the repository does not hold"


def test_citations_are_found() -> None:
    """The reader above sees a link, a root path and a document named in code."""
    assert ("semantics.md", ROOT / "docs" / "semantics.md") in cited(ROOT / "docs" / "slurm.md")
    assert ("docs/semantics.md", ROOT / "docs" / "semantics.md") in cited(
        ROOT / "reqsolve" / "answers" / "emit.py")
    assert ("tests/slurm/lab/start.sh", ROOT / "tests/slurm/lab/start.sh") in cited(
        ROOT / "docs" / "slurm.md")


@pytest.mark.parametrize(
    ("shown", "stdout", "stderr", "ok"),
    [
        (['{"a": 1,', ' "b": [2]}'], '{"a": 1, "b": [2]}\n', "", True),
        (['{"a": 1, ...}'], '{"a": 1, "b": [2]}\n', "", True),
        (['{"a": 2, ...}'], '{"a": 1, "b": [2]}\n', "", False),
        (['{"a": 1}'], '{"a": 1, "b": [2]}\n', "", False),
        (["x", "note"], "x\n", "note\n", True),
        (["x", "..."], "x\ny\nz\n", "", True),
        (["x"], "x\ny\n", "", False),
    ],
)
def test_shown_output_reading(shown: list[str], stdout: str, stderr: str, ok: bool) -> None:
    done = subprocess.CompletedProcess(["x"], 0, stdout, stderr)
    if ok:
        assert_shown(shown, done)
    else:
        with pytest.raises(AssertionError):
            assert_shown(shown, done)
