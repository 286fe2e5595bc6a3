"""Whose files are obeyed (issue 24, item 4): a launchers.py, a configuration directory or a
discovered launcher file that another user owns or can write is refused with the reason, as
ssh's StrictModes does; and a path that is not a regular file (a FIFO, a device, a directory)
is named for what it is instead of blocking a reader forever (item 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reqsolve.config.trust import not_a_file, untrusted
from tests.cli_run import cli
from tests.paths import ROOT

ROOT_USER = os.geteuid() == 0
NOBODY = 65534  # another uid, and a group that is no one's private group
needs_root = pytest.mark.skipif(not ROOT_USER, reason="giving a file to another uid needs root")

YAML = "local:\n  - id: here\n    cpu: {cores: 4, memory: 8G}\n"
PLANTED = "import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('ran')\n"
PYTHON = PLANTED + "def find_launcher(requirements, tags=set()):\n    return None\n"


def _file(home: Path, mode: int = 0o644, dir_mode: int = 0o755) -> Path:
    folder = home / "conf"
    folder.mkdir()
    folder.chmod(dir_mode)
    path = folder / "launchers.yaml"
    path.write_text(YAML)
    path.chmod(mode)
    return path


def _owned_by_nobody(home: Path) -> Path:
    path = _file(home)
    os.chown(path, NOBODY, NOBODY)
    return path


def _directory_owned_by_nobody(home: Path) -> Path:
    path = _file(home)
    os.chown(path.parent, NOBODY, NOBODY)
    return path


def _group_writable_other_group(home: Path) -> Path:
    path = _file(home, mode=0o664)
    os.chown(path, os.geteuid(), NOBODY)
    return path


def _link_into_world_writable(home: Path) -> Path:
    target = _file(home, dir_mode=0o777)
    link = home / "launchers.yaml"
    link.symlink_to(target)
    return link


def _link_in_world_writable(home: Path) -> Path:
    target = _file(home)
    shared = home / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    link = shared / "launchers.yaml"
    link.symlink_to(target)
    return link


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda home: _file(home), None, id="yours"),
        pytest.param(lambda home: _file(home, dir_mode=0o1777), None, id="sticky-directory"),
        pytest.param(lambda home: _file(home, mode=0o666), "can be written by every user",
                     id="world-writable-file"),
        pytest.param(lambda home: _file(home, dir_mode=0o777), "conf can be written by every user",
                     id="world-writable-directory"),
        pytest.param(lambda home: _file(home, dir_mode=0o775), None,
                     id="group-writable-by-root-only", marks=needs_root),
        pytest.param(_link_into_world_writable, "conf can be written by every user",
                     id="link-to-world-writable"),
        pytest.param(_link_in_world_writable, "shared can be written by every user",
                     id="link-in-world-writable"),
        pytest.param(_owned_by_nobody, "launchers.yaml belongs to nobody", id="file-of-other-uid",
                     marks=needs_root),
        pytest.param(_directory_owned_by_nobody, "conf belongs to nobody",
                     id="directory-of-other-uid", marks=needs_root),
        pytest.param(_group_writable_other_group, "can be written by its group",
                     id="group-writable-shared-group", marks=needs_root),
    ],
)
def test_who_else_could_write_it(
    home: Path, make: Callable[[Path], Path], reason: str | None
) -> None:
    found = untrusted(make(home))
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.yaml"
    os.mkfifo(path)
    return path


def _loop(folder: Path) -> Path:
    path = folder / "loop.yaml"
    path.symlink_to(path)
    return path


def _dangling(folder: Path) -> Path:
    path = folder / "dangling.yaml"
    path.symlink_to(folder / "gone.yaml")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_fifo, "is a FIFO (named pipe), not a launcher file"),
        (lambda folder: Path("/dev/null"), "is a character device, not a launcher file"),
        (lambda folder: folder, "is a directory, not a launcher file"),
        (_loop, "cannot be read: Too many levels of symbolic links"),
        (_dangling, "is a dangling symbolic link"),
    ],
    ids=["fifo", "device", "directory", "link-loop", "dangling-link"],
)
def test_what_a_path_is_when_not_a_file(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    found = not_a_file(make(tmp_path))
    assert found is not None and found[0].startswith(message)


def _fifo_in_directory(folder: Path, name: str) -> Path:
    os.mkfifo(folder / name)
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_fifo, "pipe.yaml:1:1: is a FIFO (named pipe), not a launcher file"),
        (lambda folder: _fifo_in_directory(folder, "launchers.yaml"),
         "launchers.yaml:1:1: is a FIFO (named pipe), not a launcher file"),
        (lambda folder: _fifo_in_directory(folder, "launchers.py"),
         "launchers.py: is a FIFO (named pipe), not a launcher file"),
        (lambda folder: Path("/dev/null"), "/dev/null:1:1: is a character device"),
    ],
    ids=["fifo", "fifo-yaml-in-directory", "fifo-python-in-directory", "device"],
)
@pytest.mark.parametrize("command", ["find", "explain", "submit"])
def test_a_configuration_that_is_not_a_file_never_blocks(
    tmp_path: Path, make: Callable[[Path], Path], message: str, command: str
) -> None:
    """``--config FIFO`` used to block forever in open(); now exit 2 with what the path is."""
    config = make(tmp_path)
    extra = ["--dry-run", "--", "true"] if command == "submit" else []
    done = subprocess.run(
        [sys.executable, "-m", "reqsolve", command, "--config", str(config), "--offline",
         "cpu(cores=1)", *extra],
        capture_output=True, text=True, timeout=20, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def _world_writable_directory(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "launchers.py").write_text(PYTHON)
    folder.chmod(0o777)
    return folder


def _world_writable_python(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "launchers.py"
    path.write_text(PYTHON)
    path.chmod(0o666)
    return path


def _python_of_other_uid(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "launchers.py"
    path.write_text(PYTHON)
    os.chown(path, NOBODY, NOBODY)
    return folder


def _python_in_directory_of_other_uid(tmp_path: Path) -> Path:
    folder = tmp_path / "theirs"
    folder.mkdir()
    (folder / "launchers.py").write_text(PYTHON)
    os.chown(folder, NOBODY, NOBODY)
    return folder / "launchers.py"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(_world_writable_directory, "shared can be written by every user",
                     id="world-writable-directory"),
        pytest.param(_world_writable_python, "launchers.py can be written by every user",
                     id="world-writable-launchers-py"),
        pytest.param(_python_of_other_uid, "launchers.py belongs to nobody",
                     id="launchers-py-of-other-uid", marks=needs_root),
        pytest.param(_python_in_directory_of_other_uid, "theirs belongs to nobody",
                     id="directory-of-other-uid", marks=needs_root),
    ],
)
@pytest.mark.parametrize("command", ["find", "explain", "validate"])
def test_a_launchers_py_others_could_write_never_runs(
    home: Path, tmp_path: Path, make: Callable[[Path], Path], reason: str, command: str
) -> None:
    config = make(tmp_path)
    argv = ["--config", str(config), "--offline", "cpu(cores=1)"]
    code, out, err = cli(command, *(argv if command != "validate" else [str(config)]))
    assert code == (1 if command == "validate" else 2), err
    said = out + err
    assert "refused: " in said and reason in said
    assert "chmod go-w" in said  # how to fix it
    folder = config if config.is_dir() else config.parent
    assert not (folder / "RAN").exists()  # the planted code did not run


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        pytest.param(lambda conf: conf.chmod(0o777), "reqsolve can be written by every user",
                     id="world-writable-config-directory"),
        pytest.param(lambda conf: (conf / "launchers.yaml").chmod(0o666),
                     "launchers.yaml can be written by every user", id="world-writable-file"),
        pytest.param(lambda conf: os.chown(conf / "launchers.yaml", NOBODY, NOBODY),
                     "launchers.yaml belongs to nobody", id="file-of-other-uid", marks=needs_root),
    ],
)
def test_a_discovered_configuration_others_could_write_is_refused(
    home: Path, setup: Callable[[Path], object], reason: str
) -> None:
    conf = home / ".config" / "reqsolve"
    conf.mkdir(parents=True)
    (conf / "launchers.yaml").write_text(YAML)
    setup(conf)
    code, out, err = cli("find", "--offline", "cpu(cores=1)")
    assert code == 2 and out == ""
    assert "refused: " in err and reason in err
