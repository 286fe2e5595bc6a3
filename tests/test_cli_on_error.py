"""``reqsolve find/explain --on-error``: what a failing launchers.py does to the command.

Every case runs the CLI in-process (``reqsolve.cli.run``) on a real configuration directory
under ``fixtures/python/on_error/`` whose ``launchers.py`` fails in one way; one case runs the
installed command as a real process, where an escaping ``SystemExit`` or traceback would show.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from reqsolve import pyconfig
from reqsolve.cli.find_cmd import ON_ERROR_CHOICES
from reqsolve.finder import find_launcher, find_match, registry_for
from tests.cli_run import cli, split_configuration
from tests.paths import ROOT

ON_ERROR = ROOT / "fixtures" / "python" / "on_error"
DOCS = ROOT / "docs" / "python-launchers.md"


# What each broken file says, wherever it is reported: (file:line:column, message)
FAILURES = {
    "raises_in_call": (
        "raises_in_call/launchers.py:12:9",
        "find_launcher raised KeyError: 'a100' (requirement: cuda(mem=20GB))",
    ),
    "raises_on_import": (
        "raises_on_import/launchers.py:5:1",
        "importing launchers.py raised ValueError: invalid literal for int() with base 10: 'four'",
    ),
    "exits": (
        "exits/launchers.py:9:9",
        "find_launcher raised SystemExit: no GPU here (requirement: cuda(mem=20GB))",
    ),
    "bad_launcher": (
        "bad_launcher/launchers.py:6:1",
        "find_launcher returned a LocalLauncher whose token 'gpu' takes 'one', expected a whole"
        " number >= 0 (requirement: cuda(mem=20GB))",
    ),
}
GPU = "cuda(mem=20G)"

# (id, command, fixture, policy or None for the default, expression,
#  exit code, answer expected on stdout (launcher id, or "" for none), warnings on stderr)
CASES = [
    # 'raise' (and the default): the located error, exit 2, nothing on stdout
    ("find-call-default", "find", "raises_in_call", None, GPU, 2, "", 0),
    ("find-call-raise", "find", "raises_in_call", "raise", GPU, 2, "", 0),
    ("find-import-raise", "find", "raises_on_import", "raise", "cpu()", 2, "", 0),
    ("find-exit-raise", "find", "exits", "raise", GPU, 2, "", 0),
    ("find-bad-launcher-raise", "find", "bad_launcher", "raise", GPU, 2, "", 0),
    ("explain-call-raise", "explain", "raises_in_call", "raise", GPU, 2, "", 0),
    ("explain-import-default", "explain", "raises_on_import", None, GPU, 2, "", 0),
    # 'continue': one warning per failure, then the YAML launchers (or nothing: exit 1)
    ("find-call-continue", "find", "raises_in_call", "continue", GPU, 0, "cluster", 1),
    ("find-import-continue", "find", "raises_on_import", "continue", GPU, 0, "cluster", 1),
    ("find-exit-continue-no-yaml", "find", "exits", "continue", GPU, 1, "", 1),
    ("find-bad-launcher-continue", "find", "bad_launcher", "continue", GPU, 1, "", 1),
    ("explain-call-continue", "explain", "raises_in_call", "continue", GPU, 0, "cluster", 1),
    ("explain-import-continue", "explain", "raises_on_import", "continue", GPU, 0, "cluster", 1),
    # the next alternative is asked as if the failing one had returned None
    (
        "find-next-alternative-continue",
        "find", "raises_in_call", "continue", f"{GPU} | cpu()", 0, "workstation", 1,
    ),
    # a file that failed to import is not asked again for the next alternative
    (
        "find-import-once-continue",
        "find", "raises_on_import", "continue", f"{GPU} | cpu()", 0, "cluster", 1,
    ),
    # nothing fails: the policy changes nothing
    ("find-no-failure-continue", "find", "raises_in_call", "continue", "cpu()", 0, "workstation",
     0),
    ("find-no-failure-raise", "find", "raises_in_call", "raise", "cpu()", 0, "workstation", 0),
]


def _answer(command: str, out: str) -> str:
    """The launcher id the command printed ("" when none)."""
    if command == "find":
        data = json.loads(out)
        return data["launcher"]["id"] if data["launcher"] else ""
    answer = json.loads(out)["answer"]
    return answer["launcher"]["id"] if answer else ""


@pytest.mark.parametrize(
    ("command", "fixture", "policy", "expression", "code", "answer", "warned"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_on_error_policies(
    command: str,
    fixture: str,
    policy: str | None,
    expression: str,
    code: int,
    answer: str,
    warned: int,
) -> None:
    option = [] if policy is None else ["--on-error", policy]
    config = str(ON_ERROR / fixture)
    exit_code, out, err = cli(
        command, "--config", config, *option, "--format", "json", expression
    )
    assert exit_code == code, err
    where, message = FAILURES[fixture]
    used, err = split_configuration(err)
    assert used.endswith("launchers.py") or used.endswith("launchers.yaml")
    lines = err.splitlines()
    assert "Traceback" not in err
    if code == 2:
        assert out == ""
        assert lines == [f"reqsolve: ConfigError: {ON_ERROR}/{where}: {message}"]
        return
    assert _answer(command, out) == answer
    warnings = [line for line in lines if line.startswith("reqsolve: warning: ")]
    assert len(warnings) == warned
    if warned:
        assert warnings[0] == (
            f"reqsolve: warning: {ON_ERROR}/{where}: {message}"
            " (--on-error continue: going on without it)"
        )


def test_continue_reasons_name_the_failure() -> None:
    """Nothing else fits: the failure is the reason given, in the JSON and the one-line message."""
    code, out, err = cli(
        "find", "--config", str(ON_ERROR / "exits"), "--on-error", "continue", "--format",
        "json", GPU,
    )
    assert code == 1
    (reason,) = json.loads(out)["reasons"]
    where, message = FAILURES["exits"]
    assert (reason["launcher"], reason["code"]) == ("launchers.py", "python_error")
    assert reason["reason"] == f"{ON_ERROR}/{where}: {message}"
    assert err.splitlines()[-1].startswith("reqsolve: no launcher can run cuda(mem=20GB)")


def test_explain_table_shows_the_failure_then_the_yaml_answer() -> None:
    code, out, _ = cli(
        "explain", "--config", str(ON_ERROR / "raises_in_call"), "--on-error", "continue", GPU
    )
    assert code == 0
    python_row = next(line for line in out.splitlines() if "(python" in line)
    assert "fails" in python_row and "raises_in_call/launchers.py:12:9" in python_row
    assert out.splitlines()[-1] == "answer: cluster (alternative 0)"


@pytest.mark.parametrize("command", ["find", "explain"])
def test_unknown_policy_is_a_usage_error(command: str) -> None:
    code, out, err = cli(command, "--on-error", "ignore", "cpu()")
    assert (code, out) == (2, "")
    assert "argument --on-error: invalid choice: 'ignore'" in err


@pytest.mark.parametrize("command", ["find", "explain"])
def test_help_documents_the_policies(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(command, "--help")[0] == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--on-error {raise,continue}" in text
    assert "'raise' stops with that error" in text and "(exit 2; the default)" in text
    assert "'continue' prints it as a warning on stderr" in text


def test_cli_policies_are_the_apis() -> None:
    """Same values, same default: the CLI spells out pyconfig's list to keep its start fast."""
    assert ON_ERROR_CHOICES == pyconfig.ON_ERROR_CHOICES
    for function in (find_launcher, find_match, registry_for, pyconfig.make_registry):
        assert inspect.signature(function).parameters["on_error"].default == ON_ERROR_CHOICES[0]


def test_docs_describe_the_option() -> None:
    text = DOCS.read_text()
    assert "--on-error {raise,continue}" in text
    for name in FAILURES:  # the broken examples exist where the docs say
        assert (ON_ERROR / name / "launchers.py").is_file()


def test_real_process_reports_sys_exit_in_launchers_py() -> None:
    """In a real process a SystemExit from the user's file would end reqsolve with its text."""
    done = subprocess.run(
        [sys.executable, "-m", "reqsolve", "find", "--config", str(ON_ERROR / "exits"), GPU],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    where, message = FAILURES["exits"]
    assert (done.returncode, done.stdout) == (2, "")
    used, rest = split_configuration(done.stderr)
    assert used == str(ON_ERROR / "exits" / "launchers.py")
    assert rest == f"reqsolve: ConfigError: {ON_ERROR}/{where}: {message}\n"


@pytest.mark.parametrize(
    ("policy", "code", "stdout_has", "stderr_has"),
    [
        pytest.param("raise", 2, "", FAILURES["raises_in_call"][1], id="raise"),
        pytest.param("continue", 0, "echo hi", "--on-error continue: going on", id="continue"),
    ],
)
def test_submit_takes_the_same_policy(
    policy: str, code: int, stdout_has: str, stderr_has: str
) -> None:
    """``reqsolve submit --dry-run`` finds as ``find`` does, so it obeys --on-error too."""
    got, out, err = cli(
        "submit", GPU, "--config", str(ON_ERROR / "raises_in_call"), "--offline",
        "--dry-run", "--on-error", policy, "--", "echo", "hi",
    )
    assert got == code, err
    assert stdout_has in out
    assert stderr_has in err
    assert "Traceback" not in err
