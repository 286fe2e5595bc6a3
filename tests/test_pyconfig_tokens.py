"""tokens.yaml beside a launchers.py that has no launchers.yaml: read as the YAML path reads it.

Real fixture directories under ``fixtures/python/`` (``tokens_only``: a GPU box in Python with a
two-token counter; ``tokens_broken``: a tokens.yaml with mistakes); ``reqsolve submit`` really
runs a command holding the tokens.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from reqsolve.cli.slurm_cmd import load_launcher_file
from reqsolve.config.loader import check_config
from reqsolve.config.tokens_file import read_counters
from reqsolve.errors import ConfigError
from reqsolve.finder import find_match, registry_for
from reqsolve.pyconfig import check_python_file
from tests.cli_run import cli, split_configuration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "python"
TOKENS_ONLY = FIXTURES / "tokens_only"
TOKENS_BROKEN = FIXTURES / "tokens_broken"
WITH_YAML = FIXTURES / "with_yaml"


# (id, --config as written, counters every command sees)
COUNTER_CASES = [
    ("python-only-directory", TOKENS_ONLY, (("gpu", 2),)),
    ("launchers-py-named", TOKENS_ONLY / "launchers.py", (("gpu", 2),)),
    ("directory-with-yaml", WITH_YAML, (("cpu", 4),)),  # the YAML loader's, as before
    ("no-tokens-yaml", FIXTURES / "seed", ()),
]


@pytest.mark.parametrize(
    ("config", "counters"), [pytest.param(*case[1:], id=case[0]) for case in COUNTER_CASES]
)
def test_counters_of_the_configuration(config: Path, counters: tuple[tuple[str, int], ...]) -> None:
    assert registry_for(config).state().launcher_file.token_counters == counters
    assert load_launcher_file(str(config)).token_counters == counters  # what submit reads


def test_python_answer_takes_tokens_from_the_counter() -> None:
    code, out, _ = cli("find", "--config", str(TOKENS_ONLY), "--format", "json", "cuda(mem=20G)*2")
    assert code == 0
    answer = json.loads(out)
    assert answer["launcher"] == {"id": "gpu-box", "type": "local", "source": "launchers.py"}
    assert answer["tokens"] == {"gpu": 2}


# The child checks that both tokens of the 'gpu' counter (bytes 0 and 1 of gpu.tokens) are
# locked by the descriptor reqsolve handed it: its own new descriptor cannot lock either
HOLDS_BOTH_SLOTS = """
import errno, fcntl, os, struct, sys
fd = os.open(os.path.join(sys.argv[1], "gpu.tokens"), os.O_RDWR)
for slot in range(2):
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, slot, 1, 0))
    except OSError as exc:
        assert exc.errno in (errno.EAGAIN, errno.EACCES)
        continue
    sys.exit(10 + slot)  # this slot was free: the token was not held
"""


def test_submit_holds_the_python_launchers_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before tokens.yaml was read for launchers.py alone, this refused: 'gpu' declared by no
    counter. Now the job runs while holding both slots of the counter."""
    slots = tmp_path / "tokens"
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(slots))
    code, _, err = cli(
        "submit", "--config", str(TOKENS_ONLY), "cuda(mem=20G)*2", "--",
        sys.executable, "-c", HOLDS_BOTH_SLOTS, str(slots),
    )  # no nvidia-smi here (conftest): the job's GPUs are left as they are, with a warning
    assert code == 0, err
    assert sorted(p.name for p in slots.iterdir()) == ["gpu.tokens"]  # one file per counter


def test_submit_refuses_more_tokens_than_the_counter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "conf"
    shutil.copytree(TOKENS_ONLY, directory)
    (directory / "tokens.yaml").write_text("countertoken:\n  gpu:\n    tokens: 1\n")
    monkeypatch.setenv("REQSOLVE_TOKENS_DIR", str(tmp_path / "tokens"))
    code, _, err = cli("submit", "--config", str(directory), "cuda(mem=20G)*2", "--", "true")
    assert code == 2
    assert "a job takes 2 'gpu' tokens but the counter has only 1" in err


def _problems_as_yaml_sees_them(tmp_path: Path) -> list[tuple[int, int, str, str]]:
    """The same tokens.yaml beside a minimal launchers.yaml, through the YAML loader."""
    shutil.copy(TOKENS_BROKEN / "tokens.yaml", tmp_path / "tokens.yaml")
    (tmp_path / "launchers.yaml").write_text("local:\n  - id: here\n")
    _, problems = check_config(tmp_path / "launchers.yaml")
    return [
        (p.line, p.column, p.path, p.message) for p in problems if p.file.endswith("tokens.yaml")
    ]


def test_broken_tokens_yaml_is_reported_as_for_yaml(tmp_path: Path) -> None:
    expected = _problems_as_yaml_sees_them(tmp_path)
    assert [(line, path) for line, _, path, _ in expected] == [
        (4, "countertoken.cpu.tokens"),
        (6, "countertoken.gpu.tokns"),
        (6, "countertoken.gpu"),
    ]
    with pytest.raises(ConfigError) as caught:
        read_counters(TOKENS_BROKEN / "launchers.py")
    got = [(p.line, p.column, p.path, p.message) for p in caught.value.problems]
    assert got == expected
    assert all(p.file == str(TOKENS_BROKEN / "tokens.yaml") for p in caught.value.problems)


def test_broken_tokens_yaml_stops_a_search_that_needs_the_directory() -> None:
    """Read on first use, like the launchers.yaml of a mixed directory: an answer from
    launchers.py needs neither; reaching the (here empty) YAML part or submitting does."""
    _, launcher = find_match("cpu()", config=TOKENS_BROKEN)
    assert launcher.id == "here"
    code, out, err = cli("find", "--config", str(TOKENS_BROKEN), "cuda()")
    assert (code, out) == (2, "")
    used, err = split_configuration(err)
    assert used == str(TOKENS_BROKEN / "launchers.py")
    assert err.startswith(
        f"reqsolve: ConfigError: {TOKENS_BROKEN}/tokens.yaml:4:13: countertoken.cpu.tokens:"
    )
    code, _, err = cli("submit", "--config", str(TOKENS_BROKEN), "cpu()", "--", "true")
    assert code == 2 and "tokens.yaml:4:13" in err


# validate launchers.py: the YAML linter's token rules on what find_launcher returned
# (id, directory contents besides launchers.py, [(line, severity, fragment)])
VALIDATE_CASES = [
    ("declared", {"tokens.yaml": "countertoken:\n  gpu:\n    tokens: 2\n"}, []),
    (
        "no-tokens-yaml",
        {},
        [(18, "error", "token 'gpu' is not declared (for 4 of 7 requirements, e.g. cpu(cores=1))")],
    ),
    (
        "counter-too-small",
        {"tokens.yaml": "countertoken:\n  gpu:\n    tokens: 1\n"},
        [(18, "error", "one job takes 2 'gpu' tokens but the counter has only 1")],
    ),
    (
        "undeclared-in-tokens-yaml",
        {"tokens.yaml": "countertoken:\n  cpu:\n    tokens: 1\n"},
        [(18, "error", "token 'gpu' is not declared")],
    ),
    (
        "broken-tokens-yaml",
        {"tokens.yaml": "countertoken:\n  gpu:\n    tokens: -1\n"},
        [(3, "error", "countertoken.gpu.tokens")],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [pytest.param(*case[1:], id=case[0]) for case in VALIDATE_CASES]
)
def test_validate_checks_tokens_against_tokens_yaml(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[int, str, str]]
) -> None:
    shutil.copy(TOKENS_ONLY / "launchers.py", tmp_path / "launchers.py")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    problems = check_python_file(tmp_path / "launchers.py")
    assert len(problems) == len(expected), problems
    for problem, (line, severity, fragment) in zip(problems, expected, strict=True):
        assert (problem.line, problem.severity) == (line, severity)
        assert fragment in f"{problem.path}: {problem.message}"


def test_validate_hint_says_how_to_declare(tmp_path: Path) -> None:
    assert cli("validate", str(TOKENS_ONLY / "launchers.py"))[0] == 0
    shutil.copy(TOKENS_ONLY / "launchers.py", tmp_path / "launchers.py")
    code, out, _ = cli("validate", str(tmp_path / "launchers.py"))
    assert code == 1
    assert "launchers.py:18:9: error: token 'gpu' is not declared" in out
    assert "hint: create tokens.yaml beside this file with: countertoken: {gpu: {tokens: 1}}" in out
