"""How long a cold ``reqsolve`` takes to import and parse, and how long one parse takes.

Run from the repository root: ``python3 benchmarks/bench_parse.py [--runs N]``.

Cold figures are medians over fresh interpreters (each one pays the imports again); the
parser's compiled tables come from the user cache unless the row says otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)"
LONG = (
    "duration=4 days & cuda(mem=24G)*2 & cpu(mem=400M, cores=4) | "
    "(duration=2h | duration=1-12:00:00) & cpu(cores=8, mem=64GiB) | "
    'gpu(model="NVIDIA A100-SXM4-80GB", mem=80G)*8 & duration=36 hours'
)
BAD = "duration=4 days & cuda(mem=4G*2"

_COLD = """
import time
start = time.perf_counter()
import reqsolve
imported = time.perf_counter()
{extra}
done = time.perf_counter()
print(imported - start, done - imported)
"""
_PARSE = "from reqsolve.parser import parse\nparse({text!r})"


def cold(extra: str, runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median seconds of (import reqsolve, what follows it) over fresh interpreters."""
    imports, rest = [], []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _COLD.format(extra=extra)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=ROOT,
        )
        first, second = (float(x) for x in result.stdout.split())
        imports.append(first)
        rest.append(second)
    return statistics.median(imports), statistics.median(rest)


def process(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of a whole ``python -m reqsolve ...`` process, interpreter included."""
    times = []
    for _ in range(runs):
        start = timeit.default_timer()
        subprocess.run([sys.executable, *argv], capture_output=True, env=env, check=True, cwd=ROOT)
        times.append(timeit.default_timer() - start)
    return statistics.median(times)


def per_call(statement: str, setup: str) -> float:
    timer = timeit.Timer(statement, setup=setup)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--runs", type=int, default=15, help="fresh interpreters per cold row")
    runs = options.parse_args().runs
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    no_cache = {**env, "REQSOLVE_NO_CACHE": "1"}

    cold(_PARSE.format(text=SEED), 1, env)  # fill the parser cache
    bare = process(["-c", "pass"], runs, env)
    rows: list[tuple[str, float]] = []
    import_s, _ = cold("", runs, env)
    rows.append(("import reqsolve (cold)", import_s))
    import_s, first = cold(_PARSE.format(text=SEED), runs, env)
    rows.append(("first parse after import (cached tables)", first))
    rows.append(("import + first parse (cached tables)", import_s + first))
    import_s, first = cold(_PARSE.format(text=SEED), runs, no_cache)
    rows.append(("import + first parse (tables built)", import_s + first))
    _, pint_s = cold("import reqsolve.units as u; u.registry()", runs, env)
    rows.append(("pint registry, if ever needed", pint_s))
    rows.append(("python -c pass (interpreter alone)", bare))
    rows.append(
        (
            "python -m reqsolve parse --format json SEED",
            process(["-m", "reqsolve", "parse", "--format", "json", SEED], runs, env),
        )
    )
    setup = "from reqsolve.parser import parse"
    rows.append(("parse(seed), warm", per_call(f"parse({SEED!r})", setup)))
    rows.append(
        (f"parse(3 alternatives, {len(LONG)} chars), warm", per_call(f"parse({LONG!r})", setup))
    )
    rows.append(
        (
            "parse(unclosed paren) -> InvalidExpression, warm",
            per_call(
                f"try:\n    parse({BAD!r})\nexcept InvalidExpression:\n    pass",
                setup + "\nfrom reqsolve.errors import InvalidExpression",
            ),
        )
    )

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  {'time':>10}")
    print(f"{'-' * width}  {'-' * 10}")
    for name, seconds in rows:
        shown = f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"
        print(f"{name:<{width}}  {shown:>10}")
    print(f"\n(medians of {runs} fresh interpreters for cold rows; best of 5 for warm rows)")


if __name__ == "__main__":
    main()
