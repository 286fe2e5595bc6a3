"""reqsolve/answers/renderings.py: one table of formats that the CLI and the integrations read,
notes made where emit decides, and the answer's last stage kept apart from Slurm (issue 23 §2)."""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import pytest

from reqsolve.answers import emit, renderings
from reqsolve.answers.options import SlurmOptions
from reqsolve.candidates import expand_candidates
from reqsolve.choosing import Answer, choose
from reqsolve.cli import find_cmd
from reqsolve.config.loader import load_config
from reqsolve.config.model import Qos, SlurmLauncherConfig
from reqsolve.finder import find_match
from reqsolve.integrations import experimaestro, submitit
from reqsolve.pyconfig import python_source
from reqsolve.requirement import Alternative, Requirement
from tests.cli_run import cli
from tests.paths import DOCS_EXAMPLE
from tests.reference import conf, group, launcher_file, partition, slurm

ROOT = Path(__file__).resolve().parents[1]
SEED = "duration=4 days & cuda(mem=40G)*2 & cpu(mem=400M, cores=4)"
NO_DURATION = "cuda(mem=29GiB)"
FIXED_TIME = ROOT / "fixtures" / "python" / "fixed_time"


def test_the_cli_offers_the_rows_of_the_table() -> None:
    assert tuple(renderings.FORMATS) == find_cmd.FORMATS
    assert find_cmd.FORMATS == ("args", "shell", "sbatch", "json", "submitit")


def _seed() -> Answer:
    match, _ = find_match(SEED, config=str(DOCS_EXAMPLE), offline=True)
    return match


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("args", lambda o, used: " ".join(o.args())),
        ("shell", lambda o, used: shlex.join(o.args())),
        ("sbatch", lambda o, used: o.sbatch_header().rstrip("\n")),
        ("submitit", lambda o, used: json.dumps(o.to_submitit())),
        ("json", None),
    ],
)
def test_find_prints_what_the_row_renders(fmt: str, expected: object) -> None:
    """Every row, byte for byte what `find --format` prints (and what the options say)."""
    code, out, _ = cli("find", "--config", str(DOCS_EXAMPLE), "--offline", "--format", fmt, SEED)
    assert code == 0
    match = _seed()
    used = json.loads(out)["config"] if fmt == "json" else None
    assert out == renderings.FORMATS[fmt].text(match, used) + "\n"
    if callable(expected):
        assert out == expected(match.options, used) + "\n"


@pytest.mark.parametrize(("fmt", "slurm_only"), [("args", True), ("shell", True),
                                                  ("sbatch", True), ("submitit", True),
                                                  ("json", False)])
def test_a_local_answer_prints_only_in_formats_that_are_not_slurm_options(
    fmt: str, slurm_only: bool
) -> None:
    assert renderings.FORMATS[fmt].slurm_only is slurm_only
    local = ROOT / "fixtures" / "docs_example" / "launchers.yaml"
    code, out, _ = cli("find", "--config", str(local), "--offline", "--format", fmt, "cpu(cores=1)")
    if slurm_only:
        assert (code, out) == (find_cmd.EXIT_LOCAL, "")
    else:
        assert code == 0 and json.loads(out)["options"] is None


def test_the_integrations_render_with_the_table_s_functions() -> None:
    assert submitit.parameters is renderings.submitit_parameters
    assert experimaestro.experimaestro_options is renderings.experimaestro_options
    match = _seed()
    printed = renderings.FORMATS["submitit"].text(match, None)
    assert printed == json.dumps(submitit.parameters(match))


# --- notes: made by emit from the value it chose, never parsed back from options.time


def _one_partition(limit: int | None, qos_limit: int | None = None) -> SlurmLauncherConfig:
    return slurm(
        "c",
        partition("p", group("n0", configuration=conf(max_duration=limit)), qos=("q",)),
        qos=(Qos("q", max_duration=qos_limit),),
        use_features=False,
    )


@pytest.mark.parametrize(
    ("limit", "qos_limit", "duration", "notes"),
    [
        (72000, None, None, ("no duration asked: the job gets the chosen limit, 20h",)),
        (None, 5400, None, ("no duration asked: the job gets the chosen limit, 1h30m",)),
        (None, None, None, ()),  # no limit: no --time, nothing decided
        (72000, None, 3600, ()),  # asked: emitted as asked, nothing decided
    ],
)
def test_emit_notes_the_time_it_chose(
    limit: int | None, qos_limit: int | None, duration: int | None, notes: tuple[str, ...]
) -> None:
    alternative = Alternative(duration=duration) if duration else Alternative()
    match = choose(
        expand_candidates(launcher_file(_one_partition(limit, qos_limit))),
        Requirement((alternative,)),
    )
    assert match.notes == notes


@pytest.mark.parametrize("time", ["20:00:00", "1-00:00:00", "00:01:00"])
def test_an_answer_s_notes_are_not_read_back_from_its_options(time: str) -> None:
    """An Answer holds the notes it was given: options with a --time that emit did not choose
    (a launchers.py's own, or a caller's) are no decision of reqsolve's."""
    answer = Answer(
        None, 0, Alternative(), (), SlurmOptions(partition="gpu", time=time),
        config=SlurmLauncherConfig(id="x"),
    )
    assert answer.notes == ()


@pytest.mark.parametrize("fmt", ["args", "json"])
def test_a_launchers_py_time_is_not_noted(fmt: str) -> None:
    match, _ = find_match(NO_DURATION, config=str(FIXED_TIME), offline=True)
    assert match.options is not None and match.options.time == "20:00:00"
    assert match.notes == ()
    code, out, err = cli("find", "--config", str(FIXED_TIME), "--offline", "--format", fmt,
                         NO_DURATION)
    assert code == 0
    assert ("--time=20:00:00" if fmt == "args" else '"time": "20:00:00"') in out
    assert "note" not in err and "notes" not in out


@pytest.mark.parametrize(
    ("expression", "notes"),
    [
        (NO_DURATION, ("no duration asked: the job gets the chosen limit, 20h",)),
        ("duration=2h & cuda(mem=29GiB)", ()),
    ],
)
def test_a_launchers_py_returning_solve_s_launcher_keeps_its_notes(
    tmp_path: Path, expression: str, notes: tuple[str, ...]
) -> None:
    """A converted launchers.py answers with reqsolve's solver (solve()): what it decided is
    said as it is for the YAML file."""
    (tmp_path / "launchers.py").write_text(python_source(load_config(DOCS_EXAMPLE)))
    from_yaml, _ = find_match(expression, config=str(DOCS_EXAMPLE), offline=True)
    from_python, _ = find_match(expression, config=str(tmp_path), offline=True)
    assert from_python.source == "launchers.py"
    assert from_python.notes == from_yaml.notes == notes


# --- the answer's last stage is not talking to a cluster


def _imports(path: Path) -> set[str]:
    """Every module a file imports, TYPE_CHECKING and function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["config", "answer"])
def test_neither_config_nor_the_answer_imports_slurm(package: str) -> None:
    for path in sorted((ROOT / "reqsolve" / package).rglob("*.py")):
        slurm_imports = sorted(
            name for name in _imports(path)
            if name == "reqsolve.slurm" or name.startswith("reqsolve.slurm.")
        )
        assert not slurm_imports, f"{path.relative_to(ROOT)} imports {slurm_imports}"


def test_emit_notes_function_is_the_one_source_of_the_note() -> None:
    assert emit.notes(72000) == ("no duration asked: the job gets the chosen limit, 20h",)
    assert emit.notes(None) == ()
