"""A cold ``reqsolve find --offline`` imports (and compiles) only what it uses (issue 6: < 0.25 s
per process).

Each check runs a fresh interpreter and looks at ``sys.modules``, never at the clock: a module
that comes back on the find path (pint, the constraint solver, the Slurm discovery, ...) fails
here whatever the machine's speed.
"""

from __future__ import annotations

import gc
import json
import sys

import pytest

from reqsolve.cli import main
from tests.commands import python_process
from tests.paths import DOCS_EXAMPLE

SEED_REQUIREMENT = "duration=4 days & cuda(mem=20G)*2 & cpu(mem=400M, cores=4)"

# What the offline find of the seed example must not import, and why.
NEVER_ON_FIND = {
    "pint": "units are parsed by reqsolve.units' own tables; pint only converts unusual units",
    "constraint": "the general GPU assignment solver; the seed's GPUs are matched directly",
    "subprocess": "--offline runs no command",
    "reqsolve.slurm.query": "--offline asks Slurm nothing",
    "reqsolve.connectors": "find runs nothing, on no host",
    "reqsolve.launchers": "find prints options; it builds no launcher object",
    "reqsolve.pyconfig": "a YAML file was given: no launchers.py to look for",
    "reqsolve.explain": "explain's tables are not find's",
    "reqsolve.hostspec": "the launchers.py API",
    "difflib": "suggestions are made on errors only",
    "regex": "lark's optional Unicode regex engine; the grammar needs none",
}

# What ``import reqsolve.cli`` alone (the console script's first line) must not import: the CLI
# relaxes the garbage collector in main() before the heavy imports start.
NEVER_BEFORE_MAIN = ("reqsolve.errors", "reqsolve.requirement", "dataclasses", "yaml", "lark")


def _imported(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter on this checkout; the JSON it prints last (the unit
    tables are literal: a first run imports no more than a later one)."""
    done = python_process(code, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _find(*options: str) -> dict[str, list[str]]:
    """Modules a fresh ``reqsolve find`` of the seed imports (``new``), its exit and output."""
    argv = ["find", "--config", str(DOCS_EXAMPLE), "--offline", *options, SEED_REQUIREMENT]
    code = (
        "import sys, io\n"
        "before = set(sys.modules)\n"
        "from reqsolve.cli import run\n"
        "out = io.StringIO()\n"
        f"code = run({argv!r}, out, sys.stderr)\n"
        "new = sorted(set(sys.modules) - before)\n"
        "import json\n"
        "print(json.dumps({'code': [str(code)], 'answer': [out.getvalue()], 'new': new}))\n"
    )
    return _imported(code)


@pytest.fixture(scope="module")
def find_modules() -> dict[str, list[str]]:
    return _find("--format", "json")


def test_the_seed_find_answers(find_modules: dict[str, list[str]]) -> None:
    assert find_modules["code"] == ["0"]
    answer = json.loads(find_modules["answer"][0])
    assert answer["launcher"] == {"id": "manual", "type": "slurm"}


@pytest.mark.parametrize("module", sorted(NEVER_ON_FIND), ids=sorted(NEVER_ON_FIND))
def test_offline_find_does_not_import(module: str, find_modules: dict[str, list[str]]) -> None:
    assert module not in find_modules["new"], NEVER_ON_FIND[module]


def test_offline_find_imports_what_it_needs(find_modules: dict[str, list[str]]) -> None:
    # the guard above means something only if the find really ran through these
    for module in ("reqsolve.parser", "reqsolve.config.loader", "reqsolve.ranking", "lark"):
        assert module in find_modules["new"]


def test_the_default_format_does_not_import_json() -> None:
    found = _find()
    assert found["answer"][0].startswith("--partition=biggpus,smallgpus ")
    assert "json" not in found["new"]


def test_the_cli_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, json\n"
        "import reqsolve.cli\n"
        f"print(json.dumps({{'new': sorted(m for m in {NEVER_BEFORE_MAIN!r} "
        "if m in sys.modules)}))\n"
    )
    assert _imported(code)["new"] == []


def test_main_freezes_what_is_alive_before_exiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "argv", ["reqsolve", "find", "--config", str(DOCS_EXAMPLE), "--offline",
                      SEED_REQUIREMENT]
    )
    saved = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
