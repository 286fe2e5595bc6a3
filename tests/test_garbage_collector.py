"""Loading and compiling pause the cyclic collector, and leave it exactly as they found it; the
command line relaxes it for its short life and freezes what is alive before exiting."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from reqsolve.candidates import expand_candidates
from reqsolve.cli import main
from reqsolve.config.loader import load_config
from reqsolve.garbage_collector import (
    YOUNG_COLLECTION_EVERY,
    collector_paused,
    relax_for_command_line,
)
from tests.paths import DOCS_EXAMPLE


@pytest.fixture
def restore_collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


@pytest.mark.usefixtures("restore_collector")
@pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
@pytest.mark.parametrize("work", ["load", "compile", "nested"])
def test_the_collector_ends_as_it_was(enabled: bool, work: str) -> None:
    (gc.enable if enabled else gc.disable)()
    if work == "load":
        load_config(DOCS_EXAMPLE)
    elif work == "compile":
        expand_candidates(load_config(DOCS_EXAMPLE))
    else:
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():
                load_config(DOCS_EXAMPLE)
            assert not gc.isenabled()  # the inner pause found it off: leaves it off
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("restore_collector")
def test_a_freeze_the_program_made_is_never_undone() -> None:
    gc.enable()
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    load_config(DOCS_EXAMPLE)
    assert gc.get_freeze_count() >= frozen


# the command line's use of the collector (moved here from tests/test_cold_imports.py, retired)


def test_relax_for_command_line_raises_only_the_young_threshold() -> None:
    saved = gc.get_threshold()
    try:
        relax_for_command_line()
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *saved[1:])
    finally:
        gc.set_threshold(*saved)


def test_main_freezes_what_is_alive_before_exiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "argv", ["reqsolve", "find", "--config", str(DOCS_EXAMPLE), "--offline",
                      "duration=4 days & cuda(mem=20G)*2 & cpu(mem=400M, cores=4)"]
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
