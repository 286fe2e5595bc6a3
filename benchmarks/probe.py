"""reqsolve measured in a fresh process (so import costs and peak memory are its own).

Run by ``run.py`` as ``python3 benchmarks/probe.py`` with a JSON request on stdin; prints one
JSON object. Modes:

* ``time``: import, load (YAML -> typed model), compile (candidates), first find, warm finds over
  a stream of distinct requirements, explain, parse — all with ``time.perf_counter``;
* ``memory``: the same load + compile + finds under ``tracemalloc`` (slower, so timed apart),
  reporting the peak of Python allocations and the process's max RSS.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from rss import peak_rss_kib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))




def _time_mode(request: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import reqsolve.registry as registry_module
    from reqsolve.config.loader import load_config
    from reqsolve.errors import LauncherNotFoundError
    from reqsolve.parser import parse

    t1 = time.perf_counter()
    path = Path(request["config"])
    launcher_file = load_config(path)
    t2 = time.perf_counter()
    registry = registry_module.Registry(launcher_file)  # compiles the candidates
    t3 = time.perf_counter()

    requirements: list[str] = request["requirements"]
    outcomes = {"found": 0, "not_found": 0}

    def find(text: str) -> None:
        try:
            registry.find(text, offline=True)
        except LauncherNotFoundError:
            outcomes["not_found"] += 1
        else:
            outcomes["found"] += 1

    find(requirements[0])
    t4 = time.perf_counter()
    warm: list[float] = []
    deadline = time.perf_counter() + request.get("budget_s", 60.0)
    for text in requirements[1 : 1 + request["warm"]]:
        start = time.perf_counter()
        find(text)
        warm.append(time.perf_counter() - start)
        if start > deadline:
            break

    from reqsolve.explain import explain

    explain_times: list[float] = []
    for text in requirements[1 : 1 + request["explain"]]:
        start = time.perf_counter()
        explain(registry.launchers(offline=True), parse(text))
        explain_times.append(time.perf_counter() - start)
        if start > deadline:
            break

    parse_times: list[float] = []
    for text in requirements[1 : 1 + request["warm"]]:
        start = time.perf_counter()
        parse(text)
        parse_times.append(time.perf_counter() - start)

    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "compile_s": t3 - t2,
        "first_find_s": t4 - t3,
        "warm_s": warm,
        "explain_s": explain_times,
        "parse_s": parse_times,
        "outcomes": outcomes,
        "maxrss_kib": peak_rss_kib(),
    }


def _memory_mode(request: dict[str, Any]) -> dict[str, Any]:
    import tracemalloc

    import reqsolve.registry as registry_module
    from reqsolve.config.loader import load_config
    from reqsolve.errors import LauncherNotFoundError

    tracemalloc.start()
    registry = registry_module.Registry(load_config(Path(request["config"])))
    _, load_peak = tracemalloc.get_traced_memory()
    for text in request["requirements"][: request["warm"]]:
        with contextlib.suppress(LauncherNotFoundError):
            registry.find(text, offline=True)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "load_peak_bytes": load_peak,
        "peak_bytes": peak,
        "retained_bytes": current,
        "maxrss_kib": peak_rss_kib(),
    }


def _profile_mode(request: dict[str, Any]) -> dict[str, Any]:
    """cProfile of load + compile, then of the warm finds: the functions that dominate."""
    import cProfile
    import pstats

    import reqsolve.registry as registry_module
    from reqsolve.config.loader import load_config
    from reqsolve.errors import LauncherNotFoundError

    def top(profile: cProfile.Profile) -> list[dict[str, Any]]:
        stats = pstats.Stats(profile)
        rows = []
        entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        total = sum(entry[2] for entry in entries.values())
        for (file, line, name), entry in entries.items():
            where = f"{Path(file).name}:{line}" if line else file
            rows.append({"function": f"{name} ({where})", "calls": entry[1],
                         "tottime": entry[2], "cumtime": entry[3]})
        rows.sort(key=lambda row: -row["tottime"])
        return [{**row, "share": row["tottime"] / total if total else 0.0} for row in rows[:12]]

    load = cProfile.Profile()
    load.enable()
    registry = registry_module.Registry(load_config(Path(request["config"])))
    load.disable()
    finds = cProfile.Profile()
    finds.enable()
    for text in request["requirements"][: request["warm"]]:
        with contextlib.suppress(LauncherNotFoundError):
            registry.find(text, offline=True)
    finds.disable()
    return {"load": top(load), "finds": top(finds)}


MODES = {"time": _time_mode, "memory": _memory_mode, "profile": _profile_mode}


def main() -> None:
    request = json.loads(sys.stdin.read())
    print(json.dumps(MODES[request.get("mode", "time")](request)))


if __name__ == "__main__":
    main()
