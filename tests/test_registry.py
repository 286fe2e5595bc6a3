"""The registry (registry.py): a launcher file loaded once, reloaded on change, never seen half
loaded, and Slurm discovery used or skipped."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from reqsolve import registry as registry_module
from reqsolve.config.model import SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError, SlurmQueryError
from reqsolve.registry import Registry
from tests.reference import group, launcher_file, local, partition, slurm


def write(path: Path, cores: int) -> None:
    """Replace the file atomically, as editors and config managers do (a reader of a file being
    truncated and rewritten in place would see it empty: that is the writer's race)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"local:\n  - id: box\n    cpu: {{cores: {cores}}}\n")
    os.replace(temporary, path)


def test_registry_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    write(path, 4)
    registry = Registry(path)
    first = registry.state()
    assert registry.state() is first  # loaded once
    with pytest.raises(LauncherNotFoundError):
        registry.find("cpu(cores=16)")
    write(path, 16)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert registry.find("cpu(cores=16)").launcher.id == "box"
    assert registry.state() is not first


def test_registry_never_serves_half_loaded_state(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    write(path, 4)
    registry = Registry(path)
    errors: list[BaseException] = []
    stop = threading.Event()

    def query() -> None:
        while not stop.is_set():
            try:
                registry.find("cpu(cores=2)")
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=query) for _ in range(4)]
    for thread in threads:
        thread.start()
    for cores in range(4, 40):
        write(path, cores)
        os.utime(path, ns=(cores, cores))
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []


def test_query_slurm_discovery_failure_skips_the_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queried = slurm(
        "auto", partition("p", group("h")), query_slurm=True, weight=5
    )
    file = launcher_file(queried, local("fallback"))

    def failing(config: SlurmLauncherConfig, _: object) -> SlurmLauncherConfig:
        raise SlurmQueryError(["sinfo", "--json"], "command not found", returncode=127)

    monkeypatch.setattr(registry_module, "_discovery_hook", lambda: failing)
    registry = Registry(file)
    match = registry.find("cpu(cores=1)")
    assert match.launcher.id == "fallback"
    with pytest.raises(LauncherNotFoundError) as error:
        registry.find("cpu(cores=1)", tags=("nothing",))
    assert error.value.reasons == ()
    # offline: the discovery hook is never called, the file's partitions are used
    assert registry.find("cpu(cores=1)", offline=True).launcher.id == "auto"


def test_query_slurm_discovery_result_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    queried = slurm("auto", query_slurm=True)

    def discover(config: SlurmLauncherConfig, _: object) -> SlurmLauncherConfig:
        return slurm("auto", partition("found", group("n1", features=("F",))))

    monkeypatch.setattr(registry_module, "_discovery_hook", lambda: discover)
    options = Registry(launcher_file(queried)).find("cpu(cores=1)").options
    assert options is not None and options.partition == "found"
