"""tokens.py: counters held across processes (the tokens of a local launcher), released at the
end of the block, refused when they can never be held."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reqsolve.config.loader import check_config
from reqsolve.errors import InvalidValue
from reqsolve.localjob import hold_job
from reqsolve.tokens import LockUnavailable, check_wanted, default_tokens_dir

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys, time, os
from pathlib import Path
from reqsolve.localjob import hold_job
folder, log = Path(sys.argv[1]), Path(sys.argv[2])
with hold_job({"gpu": 1}, {"gpu": 2}, None, directory=folder, poll=0.02):
    with open(log, "a") as f:
        f.write(f"start {time.monotonic()}\\n")
    time.sleep(0.4)
    with open(log, "a") as f:
        f.write(f"end {time.monotonic()}\\n")
"""


def test_tokens_bound_concurrency_across_processes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "t"), str(log)], cwd=root)
        for _ in range(5)
    ]
    for proc in procs:
        assert proc.wait(timeout=30) == 0
    events = sorted(
        (float(t), kind) for kind, t in (line.split() for line in log.read_text().splitlines())
    )
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert len(events) == 10
    assert 1 <= peak <= 2  # capacity 2: never three jobs at once


def test_tokens_released_when_the_block_ends(tmp_path: Path) -> None:
    waited: list[str] = []
    with hold_job({"a": 2}, {"a": 2}, None, directory=tmp_path):
        pass
    started = time.monotonic()
    with hold_job({"a": 2}, {"a": 2}, None, directory=tmp_path, on_wait=waited.append):
        pass
    assert waited == [] and time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("wanted", "capacities", "message"),
    [
        ({"x": 1}, {}, "declared by no counter"),
        ({"x": 3}, {"x": 2}, "could never run"),
        ({"../x": 1}, {"../x": 1}, "cannot be a token name"),
    ],
)
def test_tokens_refuse(
    tmp_path: Path, wanted: dict[str, int], capacities: dict[str, int], message: str
) -> None:
    with (
        pytest.raises(InvalidValue, match=message),
        hold_job(wanted, capacities, None, directory=tmp_path),
    ):
        pass


# --- one rule for token names: what validate accepts, submit holds (issue 24, item 14)


@pytest.mark.parametrize(
    "name",
    ["gpu", "a@b", "a+b", "x.y", "-x", "A_1", "a" * 200, "a" * 201, ".x", "../x", "a b", "é",
     "a/b", "a:b", ""],
)
def test_validate_and_submit_agree_on_token_names(tmp_path: Path, name: str) -> None:
    quoted = json.dumps(name)
    launchers = f"local:\n  - id: box\n    tokens: {{{quoted}: 1}}\n"
    (tmp_path / "launchers.yaml").write_text(launchers)
    (tmp_path / "tokens.yaml").write_text(f"countertoken:\n  {quoted}: {{tokens: 1}}\n")
    _, problems = check_config(tmp_path / "launchers.yaml")
    validate_refuses = any(p.severity == "error" for p in problems)  # the file is valid else
    try:
        check_wanted({name: 1}, {name: 1})
        submit_refuses = False
    except InvalidValue as exc:
        assert "cannot be a token name" in str(exc)
        submit_refuses = True
    assert validate_refuses == submit_refuses
    assert submit_refuses == (name in ("a" * 201, ".x", "../x", "a b", "é", "a/b", "a:b", ""))


# --- where the locks live: not in a cache (issue 24, item 2)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "{home}/.local/state/reqsolve/locks"),
        ({"XDG_CACHE_HOME": "/c"}, "{home}/.local/state/reqsolve/locks"),
        ({"XDG_STATE_HOME": "/s"}, "/s/reqsolve/locks"),
        ({"XDG_STATE_HOME": "relative"}, "{home}/.local/state/reqsolve/locks"),
        ({"XDG_STATE_HOME": "/s", "REQSOLVE_TOKENS_DIR": "/t"}, "/t"),
    ],
)
def test_locks_live_outside_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "REQSOLVE_TOKENS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_tokens_dir() == Path(expected.format(home=tmp_path))


# --- many tokens, few descriptors; other users' files (issue 24, item 2)

MANY = """
import resource, sys
from pathlib import Path
from reqsolve.localjob import hold_job
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
with hold_job({"t": 2000}, {"t": 2500}, None, directory=Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""

TAKE = """
import os, sys
from pathlib import Path
from reqsolve.errors import ReqsolveError
from reqsolve.localjob import ResourcesBusy, hold_job
if len(sys.argv) > 3:  # as this user (everything is imported: the interpreter may be private)
    os.setgid(int(sys.argv[3]))
    os.setuid(int(sys.argv[3]))
try:
    with hold_job({"t": int(sys.argv[2])}, {"t": 2500}, None, directory=Path(sys.argv[1]),
                  wait=False):
        print("took")
except ResourcesBusy:
    print("busy")
except ReqsolveError as exc:
    print(f"{type(exc).__name__}: {exc}")
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )


def test_two_thousand_tokens_under_ulimit_1024(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", MANY, str(tmp_path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line == "held\n", holder.stderr.read() if holder.stderr else ""
        # 2,000 of 2,500 are held: 500 more can be taken, 501 cannot
        assert _python(TAKE, str(tmp_path), "500").stdout.strip() == "took"
        assert _python(TAKE, str(tmp_path), "501").stdout.strip() == "busy"
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert _python(TAKE, str(tmp_path), "2500").stdout.strip() == "took"


@pytest.mark.skipif(os.geteuid() != 0, reason="making another user's file needs root")
@pytest.mark.parametrize("lock", ["t.tokens", "gpus"])
def test_a_lock_file_of_another_user_is_a_clean_error(tmp_path: Path, lock: str) -> None:
    """root made the lock (a job once run with sudo); user nobody's job gets a message."""
    folder = tmp_path / "locks"
    folder.mkdir()
    folder.chmod(0o777)
    tmp_path.chmod(0o755)
    (folder / lock).touch(mode=0o600)
    done = _python(TAKE, str(folder), "1", "65534")
    if lock == "gpus":  # a file where the folder should be: no lock file can be made there
        done = _python(TAKE, str(folder / "gpus"), "1", "65534")
    out = done.stdout.strip()
    assert out.startswith("LockUnavailable: "), done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "PermissionError" not in out
    assert "hint:" in out


def test_an_unreadable_lock_folder_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "file").touch()
    with (
        pytest.raises(LockUnavailable, match="cannot make the locks folder"),
        hold_job({"a": 1}, {"a": 1}, None, directory=tmp_path / "file" / "locks"),
    ):
        pass
