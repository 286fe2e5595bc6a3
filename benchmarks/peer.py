"""The peer (experimaestro's YAML launcher finder) measured in its own virtual environment.

Two roles in one file:

* imported by ``run.py`` (any Python): :func:`ensure_venv` creates ``benchmarks/.peer-venv``
  and pip-installs experimaestro 1.5.7 — the last release whose ``experimaestro.launcherfinder``
  reads ``launchers.yaml`` (1.5.8 replaced the YAML file by ``launchers.py``; the finder was
  removed altogether in June 2024) — and :func:`measure` runs this file inside that venv;
* run as a script by the venv's interpreter: measures import, load, first find and warm finds,
  and prints one JSON object. It imports nothing from reqsolve, so the two never share a process.

The peer is installed, not vendored; nothing of its code is copied here: this file only calls
its public ``LauncherRegistry`` / ``find_launcher``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

from rss import peak_rss_kib

PEER_VERSION = "1.5.7"
# experimaestro 1.5.7 loads its launcher plugins through pkg_resources entry points; the
# setuptools that `venv` bundles with 3.11 cannot resolve zope.interface 8's distribution name,
# a newer setuptools (that still ships pkg_resources) can.
PEER_REQUIREMENTS = (f"experimaestro=={PEER_VERSION}", "setuptools>=70,<81")
VENV = Path(__file__).resolve().parent / ".peer-venv"


def venv_python(root: Path = VENV) -> Path:
    return root / "bin" / "python"


def ensure_venv(root: Path = VENV, *, log: Any = print) -> Path | None:
    """The venv's interpreter, installing the peer first if needed; None when that fails."""
    marker = root / f".installed-{PEER_VERSION}"
    python = venv_python(root)
    if marker.is_file() and python.is_file():
        return python
    log(f"setting up the peer: experimaestro {PEER_VERSION} in {root} (once, ~30 s)")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *PEER_REQUIREMENTS],
            check=True, timeout=900, capture_output=True, text=True,
        )
        subprocess.run([str(python), "-c", "import experimaestro.launcherfinder"],
                       check=True, timeout=120, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or ""
        tail = " ".join(str(detail).strip().splitlines()[-2:])
        log(f"peer set-up failed ({exc} {tail}); the run goes on without the peer")
        return None
    marker.write_text(PEER_VERSION + "\n", encoding="utf-8")
    return python


CLEAN_VENV = Path(__file__).resolve().parent / ".reqsolve-venv"


def ensure_clean_venv(dependencies: list[str], root: Path = CLEAN_VENV, *,
                      log: Any = print) -> Path | None:
    """A venv holding only reqsolve's runtime dependencies (the working tree is put on
    PYTHONPATH, so no reinstall is needed after an edit): the interpreter a user gets from
    ``pip install reqsolve``, without whatever the machine's base interpreter loads at start."""
    key = "\n".join(sorted(dependencies))
    marker = root / ".installed"
    python = venv_python(root)
    if marker.is_file() and python.is_file() and marker.read_text(encoding="utf-8") == key:
        return python
    log(f"setting up a clean venv for reqsolve's cold-process runs in {root} (once)")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        subprocess.run([str(python), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", *dependencies],
                       check=True, timeout=900, capture_output=True, text=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"clean venv set-up failed ({exc}); cold runs use the current interpreter only")
        return None
    marker.write_text(key, encoding="utf-8")
    return python


def measure(python: Path, config_dir: Path, requirements: list[str], *, warm: int,
            budget_s: float, timeout_s: float) -> dict[str, Any]:
    """Run this file in the peer's venv on one config dir; the JSON it prints, or a failure."""
    request = {"config_dir": str(config_dir), "requirements": requirements, "warm": warm,
               "budget_s": budget_s}
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [str(python), "-W", "ignore", __file__], input=json.dumps(request),
            capture_output=True, text=True, timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout_s}
    wall = time.perf_counter() - started
    if completed.returncode != 0 or not completed.stdout.strip():
        return {"failed": completed.stderr.strip().splitlines()[-1:] or ["no output"]}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result





def _main() -> None:
    """Inside the peer's venv: measure and print one JSON line."""
    import logging

    logging.disable(logging.CRITICAL)  # the peer warns that YAML files are deprecated
    request = json.loads(sys.stdin.read())
    t0 = time.perf_counter()
    from experimaestro.launcherfinder import LauncherRegistry, find_launcher

    t1 = time.perf_counter()
    LauncherRegistry.set_config_dir(Path(request["config_dir"]))
    LauncherRegistry.instance()  # reads launchers.yaml
    t2 = time.perf_counter()
    requirements: list[str] = request["requirements"]

    outcomes = {"found": 0, "not_found": 0, "crashed": 0}

    def one(text: str) -> None:
        try:
            find_launcher(text)
        except Exception as exc:  # the peer raises several kinds; count them, go on
            kind = "not_found" if type(exc).__name__ == "LauncherNotFoundError" else "crashed"
            outcomes[kind] += 1
        else:
            outcomes["found"] += 1

    one(requirements[0])  # the first find expands every node group (cached afterwards)
    t3 = time.perf_counter()
    warm_times: list[float] = []
    deadline = time.perf_counter() + request["budget_s"]
    for text in requirements[1 : 1 + request["warm"]]:
        start = time.perf_counter()
        one(text)
        warm_times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    from experimaestro.launcherfinder.parser import parse

    parse_times: list[float] = []
    for text in requirements[1 : 1 + min(request["warm"], 300)]:
        start = time.perf_counter()
        parse(text)
        parse_times.append(time.perf_counter() - start)
    print(json.dumps({
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "first_find_s": t3 - t2,
        "warm_s": warm_times,
        "parse_s": parse_times,
        "outcomes": outcomes,
        "maxrss_kib": peak_rss_kib(),
    }))


if __name__ == "__main__":
    _main()
