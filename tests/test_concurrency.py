"""One registry shared by threads answers as it does serially, and reloads atomically.

A long-running program (a job scheduler, a notebook server) asks for launchers from many threads
while somebody edits the launcher file. Two promises: concurrency changes no answer, and a query
never sees a half-loaded configuration — every answer is the old file's or the new file's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.generate import generate, requirement_stream
from reqsolve.errors import LauncherNotFoundError
from tests.paths import ROOT

THREADS = 8
REQUIREMENTS = list(requirement_stream(120, seed=5))


def _registry_module() -> Any:
    pytest.importorskip("reqsolve.config.loader", reason="config loader not merged on this branch")
    return pytest.importorskip("reqsolve.finder", reason="solver not merged on this branch")


def _answer(call: Callable[[], Any]) -> str:
    """What an answer says, as comparable text (launcher, kind, options or tokens)."""
    try:
        launcher = call()
    except LauncherNotFoundError:
        return "no launcher"
    options = getattr(launcher, "options", None)
    detail = options.as_json() if options is not None else getattr(launcher, "tokens", None)
    return json.dumps([launcher.id, type(launcher).__name__, detail], sort_keys=True)


def _ask(registry: Any, text: str, path: Path) -> str:
    return _answer(lambda: registry.find_launcher(text, config=path, offline=True))


def _file_text(variant: str) -> str:
    """Two versions of one cluster; B renames the launcher and disables a busy partition."""
    data = generate(100, one_group_per_host=False, seed=3)
    if variant == "B":
        slurm = data["slurm"][0]
        slurm["id"] = "synthetic_b"
        for name in list(slurm["partitions"])[:10]:
            slurm["partitions"][name]["disabled"] = True
    header = f"# variant {variant}\n" + ("# padding so the sizes differ\n" * (variant == "B"))
    return header + yaml.safe_dump(data, sort_keys=False)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def test_eight_threads_answer_like_one(tmp_path: Path) -> None:
    registry = _registry_module()
    path = tmp_path / "launchers.yaml"
    path.write_text(_file_text("A"), encoding="utf-8")

    def ask(text: str) -> str:
        return _ask(registry, text, path)

    serial = [ask(text) for text in REQUIREMENTS]
    assert len(set(serial)) > 10, "the stream should produce many different answers"
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in range(3):
            assert list(pool.map(ask, REQUIREMENTS)) == serial


def test_reload_during_queries_serves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    registry = _registry_module()
    texts = {variant: _file_text(variant) for variant in "AB"}
    expected: dict[str, list[str]] = {}
    for variant, text in texts.items():
        own = tmp_path / variant / "launchers.yaml"
        own.parent.mkdir()
        own.write_text(text, encoding="utf-8")
        expected[variant] = [_ask(registry, t, own) for t in REQUIREMENTS]
    differing = sum(a != b for a, b in zip(expected["A"], expected["B"], strict=True))
    assert differing > 10, "the two versions must answer differently to detect a mix"

    path = tmp_path / "live" / "launchers.yaml"
    path.parent.mkdir()
    path.write_text(texts["A"], encoding="utf-8")
    stop = threading.Event()
    wrong: list[str] = []
    errors: list[BaseException] = []
    answered = [0] * THREADS

    def reader(worker: int) -> None:
        index = worker
        while not stop.is_set():
            i = index % len(REQUIREMENTS)
            try:
                got = _ask(registry, REQUIREMENTS[i], path)
            except BaseException as exc:  # any escape is a failure, reported below
                errors.append(exc)
                return
            if got not in (expected["A"][i], expected["B"][i]):
                wrong.append(f"{REQUIREMENTS[i]!r}: {got}")
            answered[worker] += 1
            index += THREADS

    threads = [threading.Thread(target=reader, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        for round_number in range(12):
            time.sleep(0.05)
            _write_atomically(path, texts["B" if round_number % 2 == 0 else "A"])
        time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors[:3]
    assert not wrong, wrong[:3]
    assert sum(answered) > THREADS, "the readers should have run during the rewrites"
    # the last rewrite (A) is what a query sees afterwards
    assert [_ask(registry, t, path) for t in REQUIREMENTS] == expected["A"]


# Sixteen threads asking at the same moment in a fresh interpreter (issue 24, item 12): whatever
# the first find imports or builds (lark and its tables, PyYAML, the unit tables, a launchers.py)
# is imported once, by one of them; before, 26 of 26 cold runs raised importlib's _DeadlockError.
COLD_THREADS = r"""
import sys, threading
from concurrent.futures import ThreadPoolExecutor
import reqsolve

config = None if sys.argv[1] == "-" else sys.argv[1]
start = threading.Barrier(16)

def ask(_: int) -> str:
    start.wait()
    try:
        return reqsolve.find_launcher(sys.argv[2], config=config, offline=True).type
    except reqsolve.LauncherNotFoundError:
        return "nothing matches"

with ThreadPoolExecutor(16) as pool:
    print(sorted(set(pool.map(ask, range(16)))))
"""


@pytest.mark.parametrize(
    ("config", "expression", "answer"),
    [
        ("fixtures/docs_example/launchers.yaml", "duration=2h & cuda(mem=20G)*2", "slurm"),
        ("fixtures/docs_example/launchers.yaml", "cuda(mem=900G)", "nothing matches"),
        ("fixtures/python/seed", "cpu(cores=1) & duration=1h", "local"),
        ("fixtures/python/with_yaml", "cpu(cores=1) & duration=1h", "local"),
        ("-", "cpu(cores=1) & duration=1h", "local"),  # no launcher file: this machine
    ],
)
@pytest.mark.parametrize("caches", ["cold", "warm"])
def test_sixteen_threads_first_find_in_a_fresh_process(
    tmp_path: Path, config: str, expression: str, answer: str, caches: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REQSOLVE_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), REQSOLVE_NVIDIA_SMI="",
               REQSOLVE_TOKENS_DIR=str(tmp_path / "tokens"), PYTHONPATH=str(ROOT))
    if caches == "warm":  # the grammar and unit tables already cached by an earlier process
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        subprocess.run([sys.executable, "-c", "import reqsolve; reqsolve.parse('cpu(mem=1G)')"],
                       env=env, check=True, timeout=120)
    for attempt in range(3):
        if caches == "cold":  # nothing cached: lark builds its tables, pint derives the units
            env["XDG_CACHE_HOME"] = str(tmp_path / f"cache-{attempt}")
        done = subprocess.run([sys.executable, "-c", COLD_THREADS, config, expression],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"attempt {attempt + 1}:\n{done.stderr[-3000:]}"
        assert done.stdout.strip() == repr([answer])
