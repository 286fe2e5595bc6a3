"""find_config_file: explicit path, $REQSOLVE_CONFIG, then reqsolve's and experimaestro's files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reqsolve.config.search_path import find_config_file
from tests.cli_run import cli


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)
    return tmp_path


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("local: []\n")
    return path


def test_nothing_found(home: Path) -> None:
    assert find_config_file() is None


def test_experimaestro_file_is_used(home: Path) -> None:
    found = touch(home / ".config" / "experimaestro" / "launchers.yaml")
    assert find_config_file() == found


def test_reqsolve_file_wins_over_experimaestro(home: Path) -> None:
    touch(home / ".config" / "experimaestro" / "launchers.yaml")
    found = touch(home / ".config" / "reqsolve" / "launchers.yaml")
    assert find_config_file() == found


def test_xdg_config_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(home / ".config" / "reqsolve" / "launchers.yaml")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    assert find_config_file() is None
    found = touch(home / "xdg" / "experimaestro" / "launchers.yaml")
    assert find_config_file() == found


def test_relative_xdg_is_ignored(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = touch(home / ".config" / "reqsolve" / "launchers.yaml")
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert find_config_file() == found


def test_environment_variable_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(home / ".config" / "reqsolve" / "launchers.yaml")
    chosen = touch(home / "elsewhere.yaml")
    monkeypatch.setenv("REQSOLVE_CONFIG", str(chosen))
    assert find_config_file() == chosen


def test_explicit_path_wins_even_when_missing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQSOLVE_CONFIG", str(touch(home / "env.yaml")))
    missing = home / "missing.yaml"
    # returned, not skipped: loading it then says the file is missing instead of guessing
    assert find_config_file(missing) == missing


def test_missing_environment_file_is_not_skipped(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(home / ".config" / "reqsolve" / "launchers.yaml")
    monkeypatch.setenv("REQSOLVE_CONFIG", str(home / "typo.yaml"))
    assert find_config_file() == home / "typo.yaml"


def _dangling(place: Path) -> None:
    place.symlink_to(place.parent / "moved.yaml")


def _loop(place: Path) -> None:
    place.symlink_to(place)


def _fifo(place: Path) -> None:
    os.mkfifo(place)


@pytest.mark.parametrize(
    ("name", "break_it", "message"),
    [
        ("launchers.yaml", _dangling, "is a dangling symbolic link"),
        ("launchers.yaml", _loop, "cannot be read: Too many levels of symbolic links"),
        ("launchers.yaml", Path.mkdir, "is a directory, not a launcher file"),
        ("launchers.yaml", _fifo, "is a FIFO (named pipe), not a launcher file"),
        ("launchers.py", _dangling, "is a dangling symbolic link"),
        ("launchers.py", _loop, "cannot be read: Too many levels of symbolic links"),
    ],
    ids=["dangling-link", "link-loop", "directory", "fifo", "py-dangling-link", "py-link-loop"],
)
@pytest.mark.parametrize("folder", ["reqsolve", "experimaestro"])
def test_a_broken_file_of_the_search_path_is_an_error(
    home: Path, folder: str, name: str, break_it: Callable[[Path], object], message: str
) -> None:
    """Issue 24, item 14: a broken ~/.config/reqsolve/launchers.yaml used to be passed over
    silently, and find answered from "this machine" instead of the user's clusters."""
    place = home / ".config" / folder / name
    place.parent.mkdir(parents=True)
    break_it(place)
    code, out, err = cli("find", "--offline", "cpu(cores=1)")
    assert (code, out) == (2, "")
    assert f"{place}: {message}" in err
    assert "this machine" not in err


def test_a_file_where_the_configuration_directory_should_be_is_an_error(home: Path) -> None:
    (home / ".config").mkdir()
    (home / ".config" / "reqsolve").write_text("local: []\n")
    code, _, err = cli("find", "--offline", "cpu(cores=1)")
    assert code == 2
    assert f"{home / '.config' / 'reqsolve'}: is not a directory" in err
