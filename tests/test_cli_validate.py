"""``reqsolve validate``: pinned diagnostics for every broken fixture, formats, exit codes."""

from __future__ import annotations

import json
import re
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


LOCAL_ONLY = "local:\n  - cpu: {cores: 4, memory: 16G}\n"
SLURM = """slurm:
  - id: cluster
    partitions:
      gpu: {nodes: [{hosts: [n1], configuration: {cpu: {cores: 8, memory: 64G}}}]}
local:
  - id: box
    cpu: {cores: 4, memory: 16G}
    tokens: {gpus: 1}
"""
TOKENS = "countertoken:\n  gpus: {tokens: 2}\n  licences: {tokens: 5}\n"
ANSWERING = """from reqsolve import LocalLauncher


def find_launcher(requirements, tags=set()):
    return LocalLauncher(id="box")
"""
ADAPTER = "from reqsolve.integrations.experimaestro import find_launcher  # noqa: F401\n"
WRAPPER = """from reqsolve.integrations.experimaestro import Finder

solve = Finder()


def find_launcher(requirements, tags=set()):
    return solve(requirements, tags)
"""


def _files(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / name.replace("_", ".", 1)).write_text(text)
    return folder


@pytest.mark.parametrize(
    ("files", "named", "said"),
    [
        ({"launchers_yaml": LOCAL_ONLY}, "launchers.yaml",
         ["launchers.yaml: ok \u2014 1 launcher (1 local, 0 Slurm), 0 warnings"]),
        ({"launchers_yml": LOCAL_ONLY}, "launchers.yml",
         ["launchers.yml: ok \u2014 1 launcher (1 local, 0 Slurm), 0 warnings"]),
        ({"launchers_yaml": SLURM, "tokens_yaml": TOKENS}, "launchers.yaml",
         ["launchers.yaml: ok \u2014 2 launchers (1 local, 1 Slurm), 2 token counters,"
          " 0 warnings"]),
        ({"tokens_yaml": TOKENS}, "tokens.yaml",
         ["tokens.yaml: ok \u2014 2 token counters, 0 warnings"]),
        ({"launchers_py": ANSWERING}, "launchers.py",
         ["launchers.py: ok \u2014 find_launcher gave a launcher for 7 of 7 representative"
          " requirements, 0 warnings"]),
        ({"launchers_py": ADAPTER, "launchers_yaml": LOCAL_ONLY}, "launchers.py",
         ["launchers.py: ok \u2014 reqsolve's experimaestro adapter: the launchers.yaml beside it"
          " answers reqsolve's own searches, 0 warnings",
          "launchers.yaml: ok \u2014 1 launcher (1 local, 0 Slurm), 0 warnings"]),
        ({"launchers_py": WRAPPER, "launchers_yaml": LOCAL_ONLY}, "launchers.py",
         ["launchers.py: ok \u2014 reqsolve's experimaestro adapter: the launchers.yaml beside it"
          " answers reqsolve's own searches, 0 warnings",
          "launchers.yaml: ok \u2014 1 launcher (1 local, 0 Slurm), 0 warnings"]),
        ({"launchers_py": ANSWERING, "launchers_yaml": LOCAL_ONLY}, "",
         ["launchers.py: ok \u2014 find_launcher gave a launcher for 7 of 7 representative"
          " requirements, 0 warnings",
          "launchers.yaml: ok \u2014 1 launcher (1 local, 0 Slurm), 0 warnings"]),
    ],
    ids=["yaml", "yml", "slurm-and-tokens", "tokens-alone", "launchers-py", "adapter-one-line",
         "adapter-called-by-the-file", "directory"],
)
@pytest.mark.parametrize("strict", [False, True], ids=["", "strict"])
def test_a_clean_file_says_what_was_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], named: str,
    said: list[str], strict: bool
) -> None:
    """Issue 20, item 9: one line per clean file (it printed nothing), a directory is read as
    ``find --config DIR`` reads it, and reqsolve's one-line experimaestro adapter (or a file
    calling its Finder) is recognised: no "never picks a launcher" warning at a line of
    reqsolve's own module."""
    _files(tmp_path, **files)
    monkeypatch.chdir(tmp_path)
    code, out, err = validate(*([named] if named else ["."]), *(["--strict"] if strict else []))
    if not named:
        said = [f"./{line}" for line in said]
    assert (code, out.splitlines(), err) == (0, said, "")


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
        pytest.param(["fixtures"], id="directory-of-no-launcher-file"),
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
        (lambda tmp: str(tmp), "directory holds neither launchers.py nor launchers.yaml"),
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


@pytest.mark.parametrize(
    ("folder", "files", "checked"),
    [
        ("reqsolve", {"launchers_yaml": LOCAL_ONLY}, ["reqsolve/launchers.yaml"]),
        ("experimaestro", {"launchers_yaml": LOCAL_ONLY}, ["experimaestro/launchers.yaml"]),
        ("experimaestro", {"launchers_py": ADAPTER, "launchers_yaml": LOCAL_ONLY},
         ["experimaestro/launchers.py", "experimaestro/launchers.yaml"]),
    ],
    ids=["reqsolve", "experimaestro", "experimaestro-adapter"],
)
def test_no_path_checks_what_find_would_use(
    home: Path, folder: str, files: dict[str, str], checked: list[str]
) -> None:
    """Issue 20, item 9: without a path, validate reads the search path find reads (it was a
    usage error)."""
    conf = home / ".config" / folder
    conf.mkdir(parents=True)
    _files(conf, **files)
    code, out, err = validate()
    assert (code, err) == (0, "")
    assert [line.split(": ok")[0] for line in out.splitlines()] == [
        str(home / ".config" / name) for name in checked
    ]


def test_no_path_and_no_launcher_file_says_where_it_looked(home: Path) -> None:
    code, out, _ = validate()
    assert code == 0
    assert "no launcher file found" in out and str(home / ".config/reqsolve/launchers.yaml") in out
    assert "find describes this machine" in out


@pytest.mark.parametrize(
    "break_it",
    [lambda place: place.symlink_to(place.parent / "gone.yaml"), lambda place: place.mkdir()],
    ids=["dangling-link", "directory"],
)
def test_no_path_and_a_broken_search_path_file_is_an_error(
    home: Path, break_it: Any
) -> None:
    place = home / ".config" / "reqsolve" / "launchers.yaml"
    place.parent.mkdir(parents=True)
    break_it(place)
    code, out, _ = validate()
    assert code == 1
    assert out.startswith(f"{place}: error: ")


HOOKED = ["launchers.yaml", "launchers.yml", "launchers.py", "tokens.yaml", "connectors.yaml",
          "conf/cluster/launchers.yaml", "experimaestro/launchers.py", "conf/tokens.yaml"]
NOT_HOOKED = ["setup.py", "other.yaml", "mylaunchers.yaml", "launchers.yaml.bak",
              "launchers.json", "tokens.json", "launchers.md"]


def test_the_pre_commit_hook_checks_every_launcher_file_name() -> None:
    """Issue 20, item 10: the hook ran only on files named launchers.yaml (and ``types: [yaml]``
    would keep launchers.py out even with a wider pattern)."""
    import re

    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    files = re.compile(hook["files"])  # pre-commit matches with re.search
    assert [name for name in HOOKED if not files.search(name)] == []
    assert [name for name in NOT_HOOKED if files.search(name)] == []
    assert set(hook.get("types", ["file"])) <= {"file", "text"}
    assert hook["entry"] == "reqsolve validate"


def test_every_file_the_hook_passes_is_accepted_by_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What pre-commit would run on a commit touching each kind of file, all at once."""
    _files(tmp_path, launchers_py=ADAPTER, launchers_yaml=SLURM, tokens_yaml=TOKENS,
           connectors_yaml="ssh:\n  front: {hostname: front.example.org}\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "launchers.yml").write_text(LOCAL_ONLY)
    monkeypatch.chdir(tmp_path)
    names = ["launchers.py", "launchers.yaml", "tokens.yaml", "connectors.yaml",
             "other/launchers.yml"]
    code, out, err = validate(*names)
    assert (code, err) == (0, "")
    assert [line.split(": ok")[0] for line in out.splitlines()] == names


PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES)
def test_pre_commit_docs_pin_a_revision_that_exists(page: str) -> None:
    """The docs said ``rev: <tag>`` and the repository has no tags: every page that shows a
    pre-commit ``rev:`` says to pin a commit, and the launcher-file page (where the hook is
    documented) shows one."""
    text = (ROOT / page).read_text(encoding="utf-8")
    revs = re.findall(r"^\s*rev: (.*)$", text, flags=re.M)
    assert all(rev.startswith("<full commit SHA>") for rev in revs), revs
    if page == "docs/launchers-file.md":
        assert revs
