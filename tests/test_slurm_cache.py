"""slurm/cache.py and the disk cache of discovery (issue 24 item 10): the key names the cluster
(the machine asking, the ssh target), and a cache is checked before it is believed — a file
another user owns or can write, a link, or one that does not read is asked again, never trusted
and never disabling the launcher."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from reqsolve.config.model import LauncherFile, SshConnectorConfig
from reqsolve.connectors import LocalConnector
from reqsolve.slurm import cache, query
from tests.test_slurm_query import FILE, calls, fake_slurm, launcher


@pytest.fixture(autouse=True)
def fresh_memory() -> None:
    query.clear_cache()


def stored(folder: Path) -> Path:
    (path,) = folder.glob("slurm-lab-*.json")
    return path


def test_the_key_names_the_machine_asking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = launcher(fake_slurm(tmp_path))
    folder = tmp_path / "cache"
    query.discover(written, FILE, cache_dir=folder)
    asked = len(calls(tmp_path))
    query.clear_cache()
    monkeypatch.setattr(socket, "gethostname", lambda: "login-of-cluster-b")
    assert not query.discover_details(written, FILE, cache_dir=folder).cached
    assert len(calls(tmp_path)) == 2 * asked
    query.clear_cache()
    monkeypatch.setenv("SLURM_CONF", "/etc/slurm-b/slurm.conf")
    assert not query.discover_details(written, FILE, cache_dir=folder).cached


@pytest.mark.parametrize(
    "other",
    [{"hostname": "cluster-b"}, {"user": "someone"}, {"port": 2222},
     {"options": ("ProxyJump=gate-b",)}],
    ids=["hostname", "user", "port", "options"],
)
def test_the_key_names_the_ssh_target(tmp_path: Path, other: dict[str, object]) -> None:
    written = replace(launcher(fake_slurm(tmp_path)), connector="front")
    front = SshConnectorConfig(id="front", hostname="cluster-a")
    first = LauncherFile(path="/shared/launchers.yaml", connectors=(front,))
    second = replace(first, connectors=(replace(front, **other),))  # type: ignore[arg-type]
    folder = tmp_path / "cache"
    runner = LocalConnector()  # the commands run here; the key is what is compared
    query.discover_details(written, first, cache_dir=folder, runner=runner)
    query.clear_cache()
    assert query.discover_details(written, first, cache_dir=folder, runner=runner).cached
    query.clear_cache()
    assert not query.discover_details(written, second, cache_dir=folder, runner=runner).cached


def garble_nodes(path: Path) -> None:
    data = json.loads(path.read_text())
    data["nodes"][1] = '{"nodes": [{"name": 3}]}'
    path.write_text(json.dumps(data))


def nest(path: Path) -> None:
    path.write_text('{"format": 2, "time": 1, "nodes": ' + "[" * 100_000 + "]" * 100_000 + "}")


def huge_number(path: Path) -> None:
    text = path.read_text()
    path.write_text(text.replace('"time": ', '"time": ' + "9" * 5000 + ", \"x\": "))


def group_writable(path: Path) -> None:
    path.chmod(0o620)


def world_writable(path: Path) -> None:
    path.chmod(0o602)


def a_link(path: Path) -> None:
    real = path.with_name("elsewhere.json")
    path.rename(real)
    path.symlink_to(real)


def another_owner(path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to give a file to another user")
    os.chown(path, 65534, -1)


def wrong_types(path: Path) -> None:
    data = json.loads(path.read_text())
    data["nodes"] = [[1, 2], {"x": 1}]
    path.write_text(json.dumps(data))


def not_utf8(path: Path) -> None:
    path.write_bytes(b'{"format": 2, "time": \xff}')


DAMAGE: list[Callable[[Path], None]] = [garble_nodes, nest, huge_number, wrong_types, not_utf8,
                                         group_writable, world_writable, a_link, another_owner]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_a_cache_not_to_be_believed_is_asked_again(tmp_path: Path,
                                                   damage: Callable[[Path], None]) -> None:
    written = launcher(fake_slurm(tmp_path))
    folder = tmp_path / "cache"
    first = query.discover(written, FILE, cache_dir=folder)
    asked = len(calls(tmp_path))
    damage(stored(folder))
    query.clear_cache()
    again = query.discover_details(written, FILE, cache_dir=folder)
    assert not again.cached and again.launcher == first  # asked, never disabled nor trusted
    assert len(calls(tmp_path)) == 2 * asked


def test_a_planted_answer_of_another_user_is_not_believed(tmp_path: Path) -> None:
    # another user writes a valid answer (their cluster's nodes) where ours would be
    if os.getuid() != 0:
        pytest.skip("needs root to give a file to another user")
    written = launcher(fake_slurm(tmp_path))
    folder = tmp_path / "cache"
    query.discover(written, FILE, cache_dir=folder)
    path = stored(folder)
    planted = json.loads(path.read_text())
    planted["partitions"][1] = planted["partitions"][1].replace("gpu", "evil")
    path.write_text(json.dumps(planted))
    os.chown(path, 65534, -1)
    query.clear_cache()
    result = query.discover_details(written, FILE, cache_dir=folder)
    assert not result.cached and "evil" not in {p.name for p in result.launcher.partitions}


def test_files_are_written_for_this_user_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cache.write(tmp_path / "sub" / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "x.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "sub").stat().st_mode & 0o777 == 0o700
    assert cache.read(tmp_path / "sub" / "x.json") == {"a": 1}
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.json"]  # no partial file left


@pytest.mark.parametrize("content", ["[1, 2]", "", "null", "{"], ids=["list", "empty", "null",
                                                                       "broken"])
def test_read_is_an_object_or_none(tmp_path: Path, content: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    path.chmod(0o600)
    assert cache.read(path) is None
    assert cache.read(tmp_path / "absent.json") is None
    assert cache.read(tmp_path) is None  # a directory
