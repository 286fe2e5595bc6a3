"""find_config_file: explicit path, $REQSOLVE_CONFIG, then reqsolve's and experimaestro's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reqsolve.config.search_path import find_config_file


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
