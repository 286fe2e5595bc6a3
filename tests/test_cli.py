"""The ``reqsolve`` entry point: one subparser is built when the command comes first, yet help
and usage errors still know every command."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reqsolve.cli import COMMANDS, build_parser, run
from tests.cli_run import cli
from tests.paths import DOCS_EXAMPLE, ROOT


def _subcommands(alone: bool) -> list[str]:
    parser = build_parser("find", alone=alone)
    [action] = [a for a in parser._actions if a.dest == "command"]
    return list(action.choices)  # type: ignore[arg-type]


def test_a_command_first_builds_only_its_subparser() -> None:
    assert _subcommands(alone=True) == ["find"]
    assert _subcommands(alone=False) == list(COMMANDS)


@pytest.mark.parametrize("argv", [["-h", "find"], ["--help"]], ids=["help-before-command", "help"])
def test_top_level_help_lists_every_command(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv, io.StringIO(), io.StringIO()) == 0
    shown = capsys.readouterr().out
    for command in COMMANDS:
        assert command in shown


def test_an_unknown_command_names_the_known_ones() -> None:
    err = io.StringIO()
    assert run(["finx", "cpu(cores=1)"], io.StringIO(), err) == 2
    assert "invalid choice: 'finx'" in err.getvalue()
    assert all(f"'{command}'" in err.getvalue() for command in COMMANDS)


# --- what reaches the terminal (issue 24, items 13 and 14; docs/cli.md, "Output")

DOCS_EXAMPLE_FILE = str(DOCS_EXAMPLE)
EVIL = "\x1b]0;owned\x07\x1b[2J\x1b[31m\r\x9b1m\x08"  # retitle, clear, colour, CR, CSI, BS
@pytest.fixture
def python_dir(tmp_path: Path) -> Path:
    """A launchers.py whose launcher id and token hold terminal escapes."""
    folder = tmp_path / "py"
    folder.mkdir()
    (folder / "launchers.py").write_text(
        "from reqsolve.launchers import LocalLauncher\n\n"
        "def find_launcher(requirements, tags=set()):\n"
        f"    return LocalLauncher(id={'w' + EVIL!a}, tokens={{{'t' + EVIL!a}: 1}})\n",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("argv", [
    ["find", "--config", "{py}", "cpu(cores=1)"],  # the id and token on stderr (exit 3)
    ["explain", "--config", "{py}", "cpu(cores=1)"],  # in the table, on stdout
    ["submit", "--config", "{py}", "--dry-run", "cpu(cores=1)", "--", "echo", EVIL],
    ["find", "--config", DOCS_EXAMPLE_FILE, "--offline", "--tags", EVIL, "cpu(cores=1)"],
    ["find", "--config", "{py}/nothing" + EVIL + ".yaml", "cpu(cores=1)"],  # a path
    ["validate", "{py}/nothing" + EVIL + ".yaml"],
    ["find", "--config", DOCS_EXAMPLE_FILE, "--offline", "cpu(cores=1" + EVIL + ")"],
])
def test_no_control_character_reaches_the_terminal(argv: list[str], python_dir: Path) -> None:
    code, out, err = cli(*(arg.replace("{py}", str(python_dir)) for arg in argv))
    assert code in (0, 1, 2, 3), (code, out, err)
    written = out + err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", written), ascii(written)
    assert "␛" in written  # shown, not dropped


def test_json_keeps_its_own_escapes(python_dir: Path) -> None:
    code, out, _ = cli("find", "--config", str(python_dir), "--format", "json", "cpu(cores=1)")
    assert code == 0 and json.loads(out)["launcher"]["id"] == "w" + EVIL


def test_the_process_escapes_what_python_writes_too(python_dir: Path) -> None:
    """The entry point wraps sys.stdout/sys.stderr: Python's warnings and a launchers.py's own
    prints pass through the same escaping as reqsolve's lines."""
    (python_dir / "launchers.py").write_text(
        "import sys, warnings\n"
        f"print({EVIL!a}, file=sys.stderr)\n"
        f"warnings.warn({EVIL!a})\n"
        "def find_launcher(requirements, tags=set()):\n    return None\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "reqsolve", "explain", "--config",
                           str(python_dir), "cpu(cores=1)"], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=60)
    assert b"\x1b" not in done.stdout + done.stderr, done.stderr
    assert "␛".encode() in done.stderr


NOT_UTF8 = b"\xff"


@pytest.mark.parametrize(("argv", "expected"), [
    ([b"parse", b'cuda(model="A' + NOT_UTF8 + b'")'], 2),  # canonical form on stdout
    ([b"submit", b"--config", str(DOCS_EXAMPLE).encode(), b"--offline", b"--dry-run",
      b"cpu(cores=1)", b"--", b"echo", NOT_UTF8], 2),  # the command shown on stdout
    ([b"validate", b"{bad}"], 2),  # the file's problems, with its path, on stdout
    ([b"validate", b"--format", b"json", b"{bad}"], 2),
    ([b"convert", b"{bad}", b"--to", b"python"], 2),  # the generated file names its source
    ([b"find", b"--config", b"{bad}", b"--offline", b"--format", b"json", b"cpu(cores=1)"], 0),
    ([b"find", b"--config", str(DOCS_EXAMPLE).encode(), b"--offline", b"--tags", NOT_UTF8,
      b"cpu(cores=1)"], 1),  # nothing matches: the reason on stderr, escaped
])
def test_a_non_utf8_argument_under_a_strict_utf8_stdout(
    tmp_path: Path, argv: list[bytes], expected: int
) -> None:
    """Exit 2 with the bytes named when stdout cannot write them; never a traceback, never
    exit 1 ("nothing matches") for it (issue 24, item 13)."""
    folder = os.fsencode(tmp_path) + b"/config" + NOT_UTF8
    os.mkdir(folder)
    bad = folder + b"/launchers" + NOT_UTF8 + b".yaml"  # its tokens.yaml beside it
    for name, path in ((b"tokens.yaml", folder + b"/tokens.yaml"), (b"launchers.yaml", bad)):
        with open(path, "wb") as copy:
            copy.write((DOCS_EXAMPLE.parent / name.decode()).read_bytes())
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"reqsolve",
         *(arg.replace(b"{bad}", bad) for arg in argv)],
        capture_output=True, cwd=ROOT, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"},
    )
    err = done.stderr.decode("utf-8")
    assert "Traceback" not in err and done.returncode == expected, err
    done.stdout.decode("utf-8")  # what was written is UTF-8
    if expected == 2:
        assert "0xff" in err and "not UTF-8" in err and "surrogateescape" in err, err


# --- issue 23 §3: the command line keeps Python's collection thresholds (raising the young one
# earned under 1 % of a cold find) and freezes the heap before exit (11 % on 1,000 node groups)


@pytest.mark.parametrize(
    "argv",
    [
        ["reqsolve", "find", "--config", "fixtures/docs_example/launchers.yaml", "--offline",
         "cuda(mem=20G)*2 & duration=4 days"],
        ["reqsolve", "parse", "cpu(cores=4)"],
        ["reqsolve", "find", "--config", "fixtures/docs_example/launchers.yaml", "--offline",
         "cuda(mem=9000G)"],
    ],
)
def test_main_keeps_the_thresholds_and_freezes_before_exit(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc  # only this test looks at the collector

    from reqsolve.cli import main  # the entry point itself (run() is what the others test)

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    monkeypatch.setattr(sys, "argv", argv)
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit):
            main()
        assert gc.get_threshold() == thresholds
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
