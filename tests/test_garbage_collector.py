"""Loading and compiling pause the cyclic collector, and leave it exactly as they found it (the
command line's freeze before exit is tested in tests/test_cli.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reqsolve.candidates import expand_candidates
from reqsolve.config.loader import load_config
from reqsolve.garbage_collector import collector_paused
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
