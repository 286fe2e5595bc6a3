"""The user's launchers.py runs inside reqsolve (issue 24, item 11): what it prints never reaches
``$(reqsolve find)``, it cannot end the process with exit 0 and no answer (``os._exit``,
``os.exec*``, ``sys.exit``), and nothing it raises (KeyboardInterrupt aside) escapes as a
traceback. Real processes: a failing guard would end the test runner itself."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reqsolve.pyconfig.usercode import ProcessEnded, _guard, user_code
from tests.paths import ROOT

YAML = "local:\n  - id: here\n    cpu: {cores: 4, memory: 8G}\n"


def find(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reqsolve", "find", "--offline", "--config", str(folder),
         *options, "cpu(cores=1)"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def configuration(tmp_path: Path, python: str) -> Path:
    (tmp_path / "launchers.yaml").write_text(YAML)
    (tmp_path / "launchers.py").write_text(python)
    return tmp_path


PRINTS = [
    ("print('chatty import')\n"
     "def find_launcher(requirements, tags=set()):\n    return None\n", "chatty import"),
    ("def find_launcher(requirements, tags=set()):\n    print('chatty call')\n    return None\n",
     "chatty call"),
    ("import sys\n"
     "def find_launcher(requirements, tags=set()):\n"
     "    sys.stdout.write('written\\n')\n    return None\n", "written"),
    ("import sys\n"
     "def find_launcher(requirements, tags=set()):\n"
     "    print('to file', file=sys.stdout, flush=True)\n    return None\n", "to file"),
]


@pytest.mark.parametrize(("python", "printed"), PRINTS,
                         ids=["import", "find_launcher", "sys-stdout-write", "print-file-flush"])
@pytest.mark.parametrize("fmt", ["json", "shell"])
def test_what_launchers_py_prints_goes_to_stderr(
    tmp_path: Path, python: str, printed: str, fmt: str
) -> None:
    done = find(configuration(tmp_path, python), "--format", fmt)
    assert printed not in done.stdout
    assert printed in done.stderr
    if fmt == "json":
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["launcher"]["id"] == "here"


ENDINGS = [
    ("import os\nos._exit(0)\n", "importing launchers.py tried to end the process: os._exit(0)",
     2),
    ("import os\ndef find_launcher(requirements, tags=set()):\n    os._exit(0)\n",
     "find_launcher tried to end the process: os._exit(0)", 3),
    ("import sys\ndef find_launcher(requirements, tags=set()):\n    sys.exit(0)\n",
     "find_launcher raised SystemExit: 0", 3),
    ("def find_launcher(requirements, tags=set()):\n    exit()\n",
     "find_launcher raised SystemExit: None", 2),
    ("import os\ndef find_launcher(requirements, tags=set()):\n"
     "    os.execv('/bin/true', ['true'])\n",
     "find_launcher tried to end the process: os.execv('/bin/true')", 3),
    ("import os\ndef find_launcher(requirements, tags=set()):\n    os.execvp('true', ['true'])\n",
     "find_launcher tried to end the process: os.execv", 3),
    ("from os import _exit\ndef find_launcher(requirements, tags=set()):\n    _exit(0)\n",
     "find_launcher tried to end the process: os._exit(0)", 3),
    ("class Stop(BaseException):\n    pass\n"
     "def find_launcher(requirements, tags=set()):\n    raise Stop('no')\n",
     "find_launcher raised Stop: no", 4),
    ("def find_launcher(requirements, tags=set()):\n    raise GeneratorExit\n",
     "find_launcher raised GeneratorExit (requirement", 2),
]


@pytest.mark.parametrize(
    ("python", "message", "line"),
    ENDINGS,
    ids=["os-exit-at-import", "os-exit", "sys-exit", "exit", "execv", "execvp",
         "exit-imported-from-os", "base-exception", "generator-exit"],
)
def test_launchers_py_cannot_end_reqsolve_quietly(
    tmp_path: Path, python: str, message: str, line: int
) -> None:
    """os._exit(0) in launchers.py made find exit 0 with nothing printed (a bare
    ``sbatch $opts``); a BaseException escaped as a traceback."""
    folder = configuration(tmp_path, python)
    done = find(folder)
    assert (done.returncode, done.stdout) == (2, "")
    assert f"{folder / 'launchers.py'}:{line}:" in done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_only_the_thread_running_user_code_is_redirected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another thread's prints and os._exit are its own, and sys.stdout is put back after."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    inside, outside = threading.Event(), threading.Event()
    ended: list[int] = []
    guarded_exit = _guard("_exit", ended.append)  # what os._exit becomes, on a stand-in

    def other_thread() -> None:
        inside.wait(10)
        print("from the other thread")
        guarded_exit(3)  # passes through: this thread runs no user code
        outside.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with user_code():
        print("from user code")
        inside.set()
        assert outside.wait(10)
        with pytest.raises(ProcessEnded, match=r"os\._exit\(0\)"):
            guarded_exit(0)
    thread.join()
    assert sys.stdout is out and ended == [3]
    assert out.getvalue() == "from the other thread\n"
    assert err.getvalue() == "from user code\n"
