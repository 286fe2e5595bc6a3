"""Messages a new user meets (issue 12, item 11): each says what, where and how to fix, in the
user's terms. Table-driven; each table covers the class, not only the case that was reported.
"""

from __future__ import annotations

import argparse
import importlib
import io
import tokenize
from pathlib import Path

import pytest

from reqsolve.answers.options import SlurmOptions
from reqsolve.cli import COMMANDS, build_parser
from reqsolve.errors import InvalidExpression, InvalidValue
from reqsolve.parser import parse
from tests.cli_run import cli
from tests.paths import ROOT


@pytest.mark.parametrize(
    ("text", "message", "caret_under"),
    [
        ("cpu(mem=1e9B)", "'1e9B' is a number in exponent notation", "1e9B"),
        ("cpu(mem=2.5E3M)", "'2.5E3M' is a number in exponent notation", "2.5E3M"),
        ("duration=1e2h", "'1e2h' is a number in exponent notation", "1e2h"),
        ("cpu(cores=2)\x01 & cuda()", "invisible character U+0001 at column 13", "\u2401"),
        ("cpu(cores=\u200b2)", "invisible character U+200B at column 11", "\u2370"),
        ("\ufeffcpu()", "invisible character U+FEFF at column 1", "\u2370"),
        ("cuda(mem=16G)\x7f", "invisible character U+007F at column 14", "\u2421"),
    ],
)
def test_expression_errors_name_what_was_written(
    text: str, message: str, caret_under: str
) -> None:
    with pytest.raises(InvalidExpression) as error:
        parse(text)
    rendered = str(error.value)
    assert error.value.message.startswith(message)
    line, marker = rendered.splitlines()[1:3]
    start = line.index(caret_under)
    assert marker.rstrip().endswith("^")
    assert start <= len(marker.rstrip()) - 1 < start + len(caret_under), rendered


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("cuda(mem=16)", "write e.g. 16G"),  # a GPU of 16 bytes or 16 MiB is implausible
        ("cpu(mem=4000)", "write e.g. 4000M"),
        ("cpu(mem=1.5.5G)", "at most one decimal point"),
        ("duration=1.5.h", "at most one decimal point"),
        ("cpu(cores=4)*2", "*N repeats a cuda(...) or gpu(...) term only"),
        ("cpu(cores=1e3)", "write the whole number 1000 in digits"),
        ("cuda()*1e1", "write the whole number 10 in digits"),
    ],
)
def test_expression_hints_fit_what_was_written(text: str, hint: str) -> None:
    with pytest.raises(InvalidExpression) as error:
        parse(text)
    assert hint in str(error.value)


def test_a_model_name_with_digits_and_e_is_not_an_exponent() -> None:
    assert parse("cuda(model=H100e5)").alternatives[0].gpus[0].model == "H100e5"


@pytest.mark.parametrize("depth", [100, 5000])
@pytest.mark.parametrize("where", ["start", "end"])
def test_a_long_line_is_shown_as_a_window_around_the_caret(depth: int, where: str) -> None:
    text = "(" * depth + "cpu()" + ")" * depth
    if where == "end":
        text = "cpu() & " * 500 + "cpu(cores=0)"
    with pytest.raises(InvalidExpression) as error:
        parse(text)
    lines = str(error.value).splitlines()
    assert all(len(line) < 120 for line in lines), [len(line) for line in lines]
    # the caret still points into the shown text
    shown, marker = lines[1], lines[2]
    assert len(marker.rstrip()) <= len(shown)


@pytest.mark.parametrize(
    ("yaml_text", "hint"),
    [
        # a bare number gets the unit that makes it plausible for its field
        ("slurm:\n  - id: c\n    configuration: {cpu: {mem_per_cpu: 4000}}\n",
         "e.g. 4000M (decimal)"),
        ("slurm:\n  - id: c\n    configuration: {cpu: {mem_per_cpu: 4}}\n", "e.g. 4G (decimal)"),
        ("slurm:\n  - id: c\n    configuration: {cpu: {memory: 192000}}\n",
         "e.g. 192000M (decimal)"),
        ("slurm:\n  - id: c\n    configuration: {cpu: {memory: 64}}\n", "e.g. 64G (decimal)"),
        ("slurm:\n  - id: c\n    configuration: {gpu: {memory: 16}}\n", "e.g. 16G (decimal)"),
        ("slurm:\n  - id: c\n    configuration: {gpu: {memory: 16000}}\n",
         "e.g. 16000M (decimal)"),
        ("local:\n  - cpu: {memory: 2}\n", "e.g. 2G (decimal)"),
        ("local:\n  - cpu: {memory: 0.5}\n", "e.g. 0.5T (decimal)"),
        # a list of launchers written as a scalar
        ("slurm: 5\n", "a list of slurm launcher mappings"),
        ("local: x\n", "a list of local launcher mappings"),
        # typos: the correct spelling, and the field before an alias otherwise
        ("slurm:\n  - id: c\n    use_memory_constrant: true\n",
         "did you mean 'use_memory_constraint'?"),
        ("slurm:\n  - id: c\n    use_memory_contrant: true\n",
         "did you mean 'use_memory_contraint'?"),
        ("local:\n  - gpuz: []\n", "did you mean 'gpus'?"),
        # a list where a mapping of names is expected
        ("slurm:\n  - id: c\n    partitions:\n      - name: p\n",
         "write 'name: value' entries without '- '"),
        ("slurm:\n  - id: c\n    qos: [short]\n", "write 'name: value' entries without '- '"),
        # the same duration rule as in expressions
        ("slurm:\n  - id: c\n    configuration: {max_duration: '25:00'}\n",
         "'25:00' is ambiguous (Slurm reads MM:SS, people mean HH:MM)"),
        # a capacity of 0 cores fits nothing
        ("local:\n  - cpu: {cores: 0, memory: 8G}\n", "cores: 0 means no core at all"),
    ],
)
def test_validate_hints(tmp_path: Path, yaml_text: str, hint: str) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(yaml_text)
    _, out, _ = cli("validate", str(path))
    assert hint in out, out


def test_a_captured_number_gets_its_unit_from_the_group_name(tmp_path: Path) -> None:
    """A Slurm feature cannot be renamed: ``MEM16`` is read as 16G by (?P<cuda_memory_G>...)."""
    base = (
        "slurm:\n  - id: c\n"
        "    features_regex: ['GPU(?P<cuda_count>\\d+)', 'MEM(?P<{group}>\\d+)']\n"
        "    configuration: {{cpu: {{cores: 4, memory: 16G}}}}\n"
        "    partitions: {{p: {{nodes: [{{hosts: [a], features: [GPU1, MEM16]}}]}}}}\n"
    )
    path = tmp_path / "launchers.yaml"
    path.write_text(base.format(group="cuda_memory"))
    code, out, _ = cli("validate", str(path))
    assert code == 1
    assert "(?P<cuda_memory_G>\\d+) reads '16' as 16G" in out
    assert "write e.g. 16M" not in out
    for group, fits in [("cuda_memory_G", True), ("cuda_memory_GiB", True),
                        ("cuda_memory_M", False)]:
        path.write_text(base.format(group=group))
        assert cli("validate", str(path))[0] == 0
        code, _, _ = cli("find", "--config", str(path), "--offline", "cuda(mem=16G)")
        assert (code == 0) == fits, group
    path.write_text(base.format(group="cuda_memory_X"))
    assert "'X' is not a unit" in cli("validate", str(path))[1]


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("time", 86400, "format_time(seconds)"),
        ("mem", 1000, "format_mem_mib(bytes)"),
        ("partition", 5, "partition='5'"),
    ],
)
def test_slurm_options_of_the_wrong_type_say_how_to_make_them(
    field: str, value: object, pointer: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        SlurmOptions(**{field: value})  # type: ignore[arg-type]
    assert pointer in str(error.value)


@pytest.mark.parametrize(
    "command", [*sorted(COMMANDS), "slurm convert", "slurm discover"]
)
def test_a_subcommand_argument_error_prints_the_subcommand_usage(command: str) -> None:
    code, _, err = cli(*command.split(), "--no-such-option")
    assert code == 2
    assert err.startswith(f"usage: reqsolve {command} "), err


def _options(command: str) -> list[argparse.Action]:
    parser = build_parser(command, alone=True)
    sub = next(
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ).choices[command]
    # a nested subcommand's choices carry their own help (reqsolve slurm --help lists them)
    skip = (argparse._HelpAction, argparse._SubParsersAction)
    return [a for a in sub._actions if not isinstance(a, skip)]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help(command: str) -> None:
    missing = [a.option_strings or a.dest for a in _options(command) if not a.help]
    assert not missing, missing


def test_tags_read_alike_in_every_command() -> None:
    seen = {}
    for command in sorted(COMMANDS):
        for action in _options(command):
            if "--tags" in action.option_strings:
                seen[command] = (action.metavar, action.help)
    assert set(seen) == {"find", "explain", "submit"}
    assert len(set(seen.values())) == 1, seen


def _strings(path: Path) -> list[tuple[int, str]]:
    with path.open("rb") as handle:
        return [
            (token.start[0], token.string)
            for token in tokenize.tokenize(handle.readline)
            if token.type == tokenize.STRING
        ]


def test_no_internal_jargon_in_user_facing_text() -> None:
    """Messages and docstrings (help(), API docs) say experimaestro, not "the peer"."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "reqsolve").rglob("*.py"))
        for line, text in _strings(path)
        if "the peer" in text.lower() or "peer's" in text.lower()
    ]
    assert not found, found


def test_modules_import() -> None:
    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    assert io  # the cli helper's streams
