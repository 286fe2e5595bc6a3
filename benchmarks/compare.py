"""reqsolve against another checkout of itself, interleaved: the before/after of one change.

The project's rule is that simpler code wins unless a speed trick earns at least 10 % of a
user-visible figure (docs/performance.md). Deciding that needs both versions measured on the
same files, on the same machine, minutes apart and alternately (a shared machine drifts):
this runs ``probe.py`` of each checkout in fresh processes, round after round, and prints the
median of each figure per version and their ratio.

Usage::

    git worktree add --detach ../before HEAD~1
    python3 benchmarks/compare.py ../before            # this checkout = after
    python3 benchmarks/compare.py ../before --rounds 5 --hosts 1000 10000

Figures: load + compile, first find, warm find p50 and p99 over ``--warm`` distinct
requirements, on grouped files (and one group per host with ``--per-host``), and the wall time
of whole ``reqsolve find`` processes on the 1,000-host grouped file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (the benchmark's own generator, beside this file)

WORK = HERE / ".work" / "compare"


def _python() -> str:
    """An interpreter with only reqsolve's dependencies (run.py makes it): neither checkout is
    installed in it, so each probe imports the checkout it belongs to."""
    venv = HERE / ".reqsolve-venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _environment(tree: Path) -> dict[str, str]:
    """The checkout on the path, and a parser-table cache of its own (grammars may differ)."""
    cache = WORK / f"cache-{tree.name}"
    return {**os.environ, "PYTHONPATH": str(tree), "XDG_CACHE_HOME": str(cache)}


def _probe(tree: Path, config: Path, stream: list[str], warm: int) -> dict[str, Any]:
    request = {"config": str(config), "requirements": stream, "warm": warm, "explain": 0,
               "budget_s": 120.0}
    env = _environment(tree)
    done = subprocess.run([_python(), str(tree / "benchmarks" / "probe.py")],
                          input=json.dumps(request), capture_output=True, text=True, env=env,
                          cwd=tree / "benchmarks", timeout=900, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _process(tree: Path, config: Path, expression: str) -> float:
    env = _environment(tree)
    command = [_python(), "-m", "reqsolve", "find", "--config", str(config), "--offline",
               "--format", "json", expression]
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, env=env, cwd=tree, timeout=120)
    return time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the other checkout (a git worktree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--per-host", action="store_true", help="also one node group per host")
    parser.add_argument("--warm", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=11)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": ROOT}
    stream = list(generate.requirement_stream(args.warm + 1))
    layouts = [False, True] if args.per_host else [False]
    files = {}
    for hosts in args.hosts:
        for per_host in layouts:
            label = f"{hosts} hosts, {'1 group/host' if per_host else 'grouped'}"
            directory = WORK / f"{'perhost' if per_host else 'grouped'}-{hosts}"
            files[label] = generate.write(directory, hosts, one_group_per_host=per_host)
    figures: dict[tuple[str, str, str], list[float]] = {}
    for round_index in range(args.rounds):
        for name, tree in trees.items():  # alternately, each in fresh processes
            for label, config in files.items():
                print(f"round {round_index + 1}: {name}: {label}", file=sys.stderr)
                found = _probe(tree, config, stream, args.warm)
                for figure, value in (
                    ("load + compile", found["load_s"] + found["compile_s"]),
                    ("first find", found["first_find_s"]),
                    ("warm find p50", _percentile(found["warm_s"], 50)),
                    ("warm find p99", _percentile(found["warm_s"], 99)),
                ):
                    figures.setdefault((label, figure, name), []).append(value)
            small = files[next(iter(files))]
            _process(tree, small, stream[0])  # fills the grammar cache and the OS file cache
            for _ in range(max(1, args.processes // args.rounds)):
                figures.setdefault(("process", "whole `reqsolve find`", name), []).append(
                    _process(tree, small, stream[0]))
    print("| file | figure | before | after | after / before |")
    print("|---|---|---|---|---|")
    for label, figure in dict.fromkeys((k[0], k[1]) for k in figures):
        before = statistics.median(figures[(label, figure, "before")])
        after = statistics.median(figures[(label, figure, "after")])
        print(f"| {label} | {figure} | {_ms(before)} | {_ms(after)} | {after / before:.2f} |")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


if __name__ == "__main__":
    main()
