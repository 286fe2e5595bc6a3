"""The ``reqsolve`` entry point: one subparser is built when the command comes first, yet help
and usage errors still know every command."""

from __future__ import annotations

import io

import pytest

from reqsolve.cli import COMMANDS, build_parser, run


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
