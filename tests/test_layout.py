"""Where a test goes: the tests of ``reqsolve/a/b.py`` are in ``tests/test_a_b.py``.

The name of a module's test module is its path under ``reqsolve/`` with ``_`` for ``/``; a
package's ``__init__.py`` is tested by the package's name (``test_config.py``) and
``cli/<command>_cmd.py`` by ``test_cli_<command>.py``. A test module may add an aspect after the
name (``test_parser_properties.py``: properties of the parser). A module tested elsewhere says
where and why in :data:`ELSEWHERE`; a test module about behaviour across modules says what in
:data:`CROSS_CUTTING`. Shared generators are in tests/strategies.py, helpers in tests/reference.py
(model builders, brute force, Slurm's units), tests/cli_run.py, tests/commands.py and
tests/paths.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "reqsolve"

# module -> (the test modules holding its tests, why it has none of its own)
ELSEWHERE: dict[str, tuple[tuple[str, ...], str]] = {
    "reqsolve": (("test_public_api",), "the package's names are the public API"),
    "reqsolve.__main__": (("test_cli",), "calls cli.main; every reqsolve_process runs it"),
    "reqsolve.cli.schema_cmd": (("test_config_schema",), "prints config/schema.py's output"),
    "reqsolve.config": (("test_config_loader",), "lazy re-exports of the loader's functions"),
    "reqsolve.config.build": (("test_config_loader",), "a stage of load_config"),
    "reqsolve.config.check": (("test_config_loader", "test_config_bad_input"),
                              "a stage of load_config"),
    "reqsolve.config.nodes": (("test_config_bad_input",), "a stage of load_config"),
    "reqsolve.config.lint": (("test_config_loader", "test_cli_validate"),
                             "load_config's cross-references, pinned by fixtures/broken"),
    "reqsolve.config.connector_rules": (("test_connectors", "test_validate_is_load"),
                                        "the rules ssh and validate share"),
    "reqsolve.config.model": (("test_config_loader",), "frozen data that every test builds"),
    "reqsolve.config.tokens_file": (("test_pyconfig_tokens", "test_config_loader"),
                                    "tokens.yaml is read beside a launcher file"),
    "reqsolve.explain": (("test_cli_explain", "test_ranking"), "what reqsolve explain prints"),
    "reqsolve.integrations.submitit_local": (("test_integrations_submitit",),
                                             "the local executor executor() returns"),
    "reqsolve.launchers": (("test_finder", "test_pyconfig"), "what find_launcher returns"),
    "reqsolve.lazy": (("test_public_api", "test_cold_imports"), "what an import loads"),
    "reqsolve.pyconfig.asking": (("test_pyconfig",), "part of the Python launcher files"),
    "reqsolve.pyconfig.codegen": (("test_cli_convert",), "what reqsolve convert prints"),
    "reqsolve.pyconfig.directory": (("test_pyconfig",), "part of the Python launcher files"),
    "reqsolve.pyconfig.explain": (("test_pyconfig",), "part of the Python launcher files"),
    "reqsolve.pyconfig.solver": (("test_pyconfig",), "part of the Python launcher files"),
    "reqsolve.pyconfig.usercode": (("test_pyconfig",), "part of the Python launcher files"),
    "reqsolve.pyconfig.validate": (("test_pyconfig", "test_pyconfig_tokens"),
                                   "part of the Python launcher files"),
    "reqsolve.resources": (("test_wheel",), "where data files are, in a wheel or a checkout"),
    "reqsolve.search_index": (("test_ranking", "test_properties"),
                              "the chooser's index, used by ranking.find"),
    "reqsolve.slurm": (("test_slurm_query",), "a package docstring only"),
    "reqsolve.syntax_hints": (("test_parser",), "the hints of parse's syntax errors"),
    "reqsolve.answers": (("test_answers_options",), "a package docstring only"),
    "reqsolve.answers.names": (("test_answers_options", "test_injection"),
                              "the alphabet SlurmOptions and the loader check names against"),
}

# test module (not named after a module) -> the behaviour across modules it checks
CROSS_CUTTING: dict[str, str] = {
    "test_answer_corpus": "3,000 answers over seven launcher files, unchanged by restructuring",
    "test_closed_pipes": "every command on a closed stdout",
    "test_cold_imports": "what each command imports",
    "test_concurrency": "one registry shared by threads",
    "test_conformance": "the corpus of tests/conformance/, answer by answer",
    "test_docs_examples": "every example of README.md and docs/ runs as shown",
    "test_docs_mypy": "every Python example of README.md and docs/ passes mypy --strict",
    "test_fuzz": "random text never crashes the parser or the loader",
    "test_gres": "typed GRES from Slurm's output to the emitted request",
    "test_import_graph": "the layers of the package",
    "test_injection": "hostile names never reach a shell or an #SBATCH line",
    "test_layout": "this file: where tests go",
    "test_messages": "every message the user reads",
    "test_module_tour": "docs/matching.md's module tour names every module",
    "test_no_duration": "a request without duration, from matching to options",
    "test_properties": "matching and ranking against a brute-force reference",
    "test_public_api": "the names `import reqsolve` offers",
    "test_readme": "README.md is what a newcomer needs; the figures live in performance.md",
    "test_validate_is_load": "validate refuses exactly what loading refuses",
    "test_wheel": "the built wheel and sdist, installed",
}


def _modules() -> dict[str, str]:
    """Dotted module name -> the name of its test module."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        test_parts = parts[1:]
        if test_parts[:1] == ["cli"] and test_parts[-1].endswith("_cmd"):
            test_parts[-1] = test_parts[-1].removesuffix("_cmd")
        names[".".join(parts)] = "test_" + "_".join(test_parts)
    return names


MODULES = _modules()
TEST_MODULES = sorted(path.stem for path in TESTS.glob("test_*.py"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_its_test_module_or_says_where_its_tests_are(module: str) -> None:
    own = MODULES[module]
    if module not in ELSEWHERE:
        assert own in TEST_MODULES, f"{module}: write {own}.py, or say where in ELSEWHERE"
        return
    assert own not in TEST_MODULES, f"{module} has {own}.py: remove it from ELSEWHERE"
    holders, why = ELSEWHERE[module]
    assert why
    for holder in holders:
        assert holder in TEST_MODULES, f"{module}: {holder}.py does not exist"


def test_every_exception_names_a_module_or_a_test_module_that_exists() -> None:
    assert set(ELSEWHERE) <= set(MODULES), set(ELSEWHERE) - set(MODULES)
    assert set(CROSS_CUTTING) <= set(TEST_MODULES), set(CROSS_CUTTING) - set(TEST_MODULES)


@pytest.mark.parametrize("test_module", TEST_MODULES)
def test_every_test_module_is_named_after_a_module_or_says_what_it_crosses(
    test_module: str,
) -> None:
    named = [own for own in MODULES.values() if test_module == own or
             test_module.startswith(own + "_")]
    if test_module in CROSS_CUTTING:
        assert not named, f"{test_module} is named after {named}: remove it from CROSS_CUTTING"
        return
    assert named, f"{test_module}: name it after the module it tests, or add it to CROSS_CUTTING"
