"""reqsolve against experimaestro's launcher finder, same machine, same run, same files.

    python3 benchmarks/run.py            # full run (~10 min; the peer's quadratic load dominates)
    python3 benchmarks/run.py --quick    # ~1-2 min: smaller streams, the peer's 1,000-group
                                         # first find extrapolated from 100 and 300 groups

What it does, in order:

1. creates ``benchmarks/.peer-venv`` with experimaestro 1.5.7 (once; see ``peer.py``);
2. writes synthetic launcher files (``generate.py``) for 100 / 1,000 / 10,000 hosts, grouped and
   one node group per host, under ``benchmarks/.work/``;
3. measures reqsolve in fresh processes (``probe.py``): import, load, compile, first find, warm
   find over a stream of distinct requirements, explain, parse, peak memory;
4. measures the peer in its venv on the same files and the same requirement stream;
5. times whole ``reqsolve find`` processes (median of N) on the seed example and on the
   1,000-node-group file, and the peer's whole process on the same inputs;
6. prints a Markdown report with ratios and the targets of issue 6, and writes it to
   ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import peer  # noqa: E402

WORK = HERE / ".work"
SEED_EXAMPLE_CANDIDATES = (
    ROOT / "fixtures" / "docs_example" / "launchers.yaml",
    ROOT / "tests" / "conformance" / "configs" / "docs_example" / "launchers.yaml",
)
SEED_REQUIREMENT = "duration=4 days & cuda(mem=20G)*2 & cpu(mem=400M, cores=4)"
COLD_REQUIREMENT = "duration=40h & cuda(mem=24G)*2 & cpu(mem=20G, cores=8)"


@dataclass(frozen=True)
class Plan:
    quick: bool
    sizes: tuple[int, ...]
    stream: int
    explain: int
    cold_runs: int
    peer_warm: int
    peer_budget_s: float
    # one-group-per-host sizes the peer really runs; larger ones are extrapolated (quadratic)
    peer_per_host: tuple[int, ...]
    peer_grouped: tuple[int, ...]
    peer_timeout_s: float
    budget_s: float  # wall-time cap on reqsolve's warm finds per file
    # extra interleaved rounds (reqsolve, peer, reqsolve, peer...) of the grouped warm finds:
    # on a shared machine one round's wall times move by up to 2x, for either side
    pair_rounds: int = 0


FULL = Plan(False, (100, 1000, 10000), 2001, 200, 11, 1000, 60.0, (100, 300, 1000),
            (100, 1000, 10000), 1200.0, 60.0, 4)
QUICK = Plan(True, (100, 1000, 10000), 401, 50, 5, 200, 15.0, (100, 300), (100, 1000), 300.0,
             15.0)


@dataclass
class Case:
    hosts: int
    per_host: bool
    path: Path
    groups: int
    ours: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    # (reqsolve p50, peer p50) of each round over the *same* requirements (the peer's share)
    paired: list[tuple[float, float]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.hosts:,} hosts, {'1 group/host' if self.per_host else 'grouped'}"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 1,000 values is the 990th)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "–"
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:,.0f} ms"
    if seconds >= 0.001:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1e6:,.0f} µs"


def ratio(theirs: float, ours: float) -> str:
    if math.isnan(theirs) or math.isnan(ours) or ours <= 0:
        return "–"
    value = theirs / ours
    return f"{value:,.0f}×" if value >= 10 else f"{value:.1f}×"


def mib(kib_or_bytes: float, *, kib: bool) -> str:
    if math.isnan(kib_or_bytes):
        return "–"
    value = kib_or_bytes / 1024 if kib else kib_or_bytes / 2**20
    return f"{value:,.0f} MiB"


def probe(request: dict[str, Any], *, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run probe.py in a fresh interpreter; its JSON, or {"failed": last stderr line}."""
    completed = subprocess.run(
        [sys.executable, str(HERE / "probe.py")], input=json.dumps(request),
        capture_output=True, text=True, timeout=timeout_s, cwd=ROOT,
    )
    if completed.returncode != 0:
        return {"failed": (completed.stderr.strip().splitlines() or ["no output"])[-1]}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def runtime_dependencies() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project.get("dependencies", []))


INSTALLED = WORK / "installed"  # the working tree's wheel, pip-installed (with byte-code)


def install_working_tree(python: str) -> Path | None:
    """The working tree as a user gets it: its wheel, pip-installed into ``.work/installed``.

    ``pip install`` compiles byte-code (.pyc) at install; a checkout on PYTHONPATH under
    PYTHONDONTWRITEBYTECODE=1 (this environment sets it) has none, so every process of that
    checkout recompiles all of reqsolve's sources. The wheel is built offline with the build
    backend already installed (``--no-build-isolation``) and installed without dependencies
    (the clean venv holds them). None when that fails (then only the checkout is timed).
    """
    wheels = WORK / "wheel"
    try:
        for old in (*wheels.glob("reqsolve-*.whl"),):
            old.unlink()
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "--disable-pip-version-check",
                        "--wheel-dir", str(wheels), str(ROOT)],
                       check=True, timeout=300, capture_output=True, text=True)
        [wheel] = wheels.glob("reqsolve-*.whl")
        if INSTALLED.exists():
            import shutil

            shutil.rmtree(INSTALLED)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps",
                        "--disable-pip-version-check", "--target", str(INSTALLED), str(wheel)],
                       check=True, timeout=300, capture_output=True, text=True)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        detail = " ".join(str(getattr(exc, "stderr", "") or "").strip().splitlines()[-2:])
        log(f"installing the working tree's wheel failed ({exc} {detail}); "
            "cold runs time the checkout only")
        return None
    if not any(INSTALLED.glob("reqsolve/__pycache__/*.pyc")):
        log("the installed wheel has no byte-code; its cold runs compile like the checkout")
    return INSTALLED


def find_command(config: Path, expression: str, python: str = sys.executable,
                 installed: Path | None = None) -> tuple[list[str], dict[str, str], Path]:
    """argv, environment and working directory of one ``reqsolve find`` process.

    ``installed``: run the installed wheel's ``reqsolve`` script (what a user types), from a
    directory outside the checkout; otherwise ``python -m reqsolve`` on the working tree.
    """
    arguments = ["find", "--config", str(config), "--offline", "--format", "json", expression]
    # the parser's table cache of this tree only: checkouts with another grammar sharing the
    # user's cache directory would make processes rebuild it (the first, unmeasured run fills it)
    env = {**os.environ, "XDG_CACHE_HOME": str(WORK / "cache")}
    if installed is not None:
        return ([str(installed / "bin" / "reqsolve"), *arguments],
                {**env, "PYTHONPATH": str(installed)}, WORK)
    return [python, "-m", "reqsolve", *arguments], {**env, "PYTHONPATH": str(ROOT)}, ROOT


def cold_find(config: Path, expression: str, runs: int,
              python: str = sys.executable, installed: Path | None = None) -> dict[str, Any]:
    """Median wall time of whole ``reqsolve find`` processes (after one unmeasured warm-up)."""
    command, env, cwd = find_command(config, expression, python, installed)
    times: list[float] = []
    cpu: list[float] = []
    codes: set[int] = set()
    stdout = ""
    for index in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env,
                                   timeout=120)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        codes.add(completed.returncode)
        stdout = completed.stdout or completed.stderr
        if index:  # the first run fills the OS file cache (and the grammar cache)
            times.append(elapsed)
            # the process's own CPU time: what it costs, whatever else the machine runs
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"median_s": statistics.median(times), "min_s": min(times),
            "cpu_median_s": statistics.median(cpu), "codes": sorted(codes),
            "answer": stdout.strip()[:300]}


def interpreter_start(python: str, runs: int) -> float:
    """Median wall time of ``python -c pass``: what any process on this interpreter pays."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


IMPORT_WATCH = ("site", "reqsolve", "reqsolve.cli", "reqsolve.finder", "reqsolve.registry",
                "reqsolve.choosing",
                "reqsolve.matching", "constraint", "reqsolve.candidates", "reqsolve.config.model",
                "reqsolve.config.loader", "reqsolve.config.check", "yaml",
                "lark", "reqsolve.parser", "reqsolve.units", "pint", "json", "argparse",
                "dataclasses", "pathlib", "fractions")


def import_profile(config: Path, expression: str, python: str = sys.executable,
                   installed: Path | None = None) -> dict[str, float]:
    """Cumulative import time (s) of the modules that matter, from ``-X importtime``."""
    command, env, cwd = find_command(config, expression, python, installed)
    if installed is not None:  # the script's interpreter, with -X importtime
        command = [python, "-X", "importtime", *command]
    else:
        command = [command[0], "-X", "importtime", *command[1:]]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env,
                               timeout=120)
    found: dict[str, float] = {}
    total = 0.0
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue
        module = name.strip()
        if name.startswith(" ") and not name.startswith("  "):  # top level
            total += int(cumulative) / 1e6
        if module in IMPORT_WATCH and module not in found:
            found[module] = int(cumulative) / 1e6
    found["(all imports)"] = total
    return found


def count_groups(path: Path) -> int:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sum(len(partition.get("nodes") or [])
               for launcher in data.get("slurm") or []
               for partition in (launcher.get("partitions") or {}).values())


def make_cases(plan: Plan) -> list[Case]:
    cases = []
    for per_host in (False, True):
        for hosts in plan.sizes:
            directory = WORK / f"{'perhost' if per_host else 'grouped'}-{hosts}"
            path = directory / "launchers.yaml"
            if not path.is_file():
                generate.write(directory, hosts, one_group_per_host=per_host)
            cases.append(Case(hosts, per_host, path, count_groups(path)))
    return cases


def extrapolate_quadratic(points: dict[int, float], target: int) -> float:
    """Fit t = a·n² + b through the two largest measured points; t at ``target``."""
    (n1, t1), (n2, t2) = sorted(points.items())[-2:]
    a = (t2 - t1) / (n2**2 - n1**2)
    b = t2 - a * n2**2
    return a * target**2 + b


def growth_exponent(small: tuple[int, float], large: tuple[int, float]) -> float:
    """k in t ∝ n^k between two sizes (1 = linear, 2 = quadratic)."""
    (n1, t1), (n2, t2) = small, large
    if t1 <= 0 or t2 <= 0:
        return math.nan
    return math.log(t2 / t1) / math.log(n2 / n1)


def measure(plan: Plan, with_peer: bool) -> dict[str, Any]:
    started = time.perf_counter()
    python = peer.ensure_venv(log=log) if with_peer else None
    stream = list(generate.requirement_stream(plan.stream))
    cases = make_cases(plan)
    for case in cases:
        log(f"reqsolve on {case.label} ({case.groups} node groups)")
        case.ours = probe({"config": str(case.path), "requirements": stream,
                           "warm": plan.stream - 1, "explain": plan.explain,
                           "budget_s": plan.budget_s})
        case.memory = probe({"mode": "memory", "config": str(case.path),
                             "requirements": stream, "warm": min(200, plan.stream)})
    extra_peer: dict[int, dict[str, Any]] = {}
    if python is not None:
        for case in cases:
            if case.hosts not in (plan.peer_per_host if case.per_host else plan.peer_grouped):
                continue
            log(f"peer on {case.label} ({case.groups} node groups)")
            case.peer = peer.measure(python, case.path.parent, stream, warm=plan.peer_warm,
                                     budget_s=plan.peer_budget_s, timeout_s=plan.peer_timeout_s)
        for hosts in plan.peer_per_host:
            if hosts in plan.sizes:
                continue
            directory = WORK / f"perhost-{hosts}"
            if not (directory / "launchers.yaml").is_file():
                generate.write(directory, hosts, one_group_per_host=True)
            log(f"peer on {hosts:,} hosts, 1 group/host (for the extrapolation)")
            extra_peer[hosts] = peer.measure(python, directory, stream[:50], warm=20,
                                             budget_s=5.0, timeout_s=plan.peer_timeout_s)

    if python is not None:
        _paired_rounds(plan, python, stream, cases)

    seed = next((p for p in SEED_EXAMPLE_CANDIDATES if p.is_file()), None)
    cold: dict[str, Any] = {}
    big = next(c for c in cases if c.per_host and c.hosts == 1000)
    clean = peer.ensure_clean_venv(runtime_dependencies(), log=log)
    cold_python = str(clean) if clean is not None else sys.executable
    cold["clean_venv"] = clean is not None
    installed = install_working_tree(cold_python)
    cold["installed"] = installed is not None
    if seed is not None:
        log("cold `reqsolve find` processes on the seed example")
        # the installed wheel (byte-code compiled at install) is what a user runs; the checkout
        # without byte-code is what a developer's PYTHONDONTWRITEBYTECODE=1 tree runs
        cold["seed"] = cold_find(seed, SEED_REQUIREMENT, plan.cold_runs, cold_python, installed)
        if installed is not None:
            cold["seed_checkout"] = cold_find(seed, SEED_REQUIREMENT, plan.cold_runs, cold_python)
        cold["seed_base"] = cold_find(seed, SEED_REQUIREMENT, plan.cold_runs)
        if python is not None:
            cold["peer_seed"] = peer.measure(python, seed.parent, [SEED_REQUIREMENT], warm=0,
                                             budget_s=1.0, timeout_s=120)
    log("cold `reqsolve find` processes on the 1,000-node-group file")
    cold["big"] = cold_find(big.path, COLD_REQUIREMENT, plan.cold_runs, cold_python, installed)
    if python is not None and 1000 in plan.peer_per_host:
        cold["peer_big"] = peer.measure(python, big.path.parent, [COLD_REQUIREMENT], warm=0,
                                        budget_s=1.0, timeout_s=plan.peer_timeout_s)
    log("interpreter start-up, import profile, cProfile")
    cold["python_start"] = interpreter_start(sys.executable, plan.cold_runs)
    cold["clean_python_start"] = interpreter_start(cold_python, plan.cold_runs)
    if python is not None:
        cold["peer_python_start"] = interpreter_start(str(python), plan.cold_runs)
    imports = import_profile(seed or big.path, SEED_REQUIREMENT, cold_python, installed)
    profile_case = next(c for c in cases if not c.per_host and c.hosts == 1000)
    profiles = {
        "grouped-1000": probe({"mode": "profile", "config": str(profile_case.path),
                               "requirements": stream, "warm": 200}),
        "perhost-10000": probe({"mode": "profile", "config": str(huge_case(cases).path),
                                "requirements": stream, "warm": 20}),
    }
    return {"plan": plan, "cases": cases, "extra_peer": extra_peer, "cold": cold,
            "imports": imports, "profiles": profiles,
            "seed": seed, "stream": len(stream), "elapsed_s": time.perf_counter() - started,
            "peer_python": python}


def _paired_rounds(plan: Plan, python: Path, stream: list[str], cases: list[Case]) -> None:
    """The warm-find targets again, reqsolve and the peer alternately, each round on the
    requirements the peer ran (its first ``peer_warm``); the first round is the main one."""
    for case in cases:
        if case.per_host or "warm_s" not in case.peer or "warm_s" not in case.ours:
            continue
        share = len(case.peer["warm_s"])
        case.paired.append((percentile(case.ours["warm_s"][:share], 50),
                            percentile(case.peer["warm_s"], 50)))
    for round_index in range(plan.pair_rounds):
        for case in cases:
            if not case.paired:
                continue
            log(f"interleaved round {round_index + 2}: {case.label}")
            ours = probe({"config": str(case.path), "requirements": stream,
                          "warm": plan.peer_warm, "explain": 0, "budget_s": plan.budget_s})
            theirs = peer.measure(python, case.path.parent, stream, warm=plan.peer_warm,
                                  budget_s=plan.peer_budget_s, timeout_s=plan.peer_timeout_s)
            if "warm_s" in ours and "warm_s" in theirs:
                share = len(theirs["warm_s"])
                case.paired.append((percentile(ours["warm_s"][:share], 50),
                                    percentile(theirs["warm_s"], 50)))


def huge_case(cases: list[Case]) -> Case:
    return next(c for c in cases if c.per_host and c.hosts == max(c.hosts for c in cases))


def _peer_first(case: Case) -> float:
    p = case.peer
    if "first_find_s" not in p:
        return math.nan
    return float(p["import_s"] + p["load_s"] + p["first_find_s"])


def report(result: dict[str, Any]) -> str:
    plan: Plan = result["plan"]
    cases: list[Case] = result["cases"]
    cold = result["cold"]
    lines: list[str] = []
    add = lines.append
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    add("# reqsolve vs experimaestro's launcher finder")
    add("")
    add(f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python3 benchmarks/run.py"
        f"{' --quick' if plan.quick else ''}` in one run on one machine: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}; "
        f"reqsolve at `{commit}`, peer experimaestro {peer.PEER_VERSION} in its own venv "
        f"(`benchmarks/.peer-venv`). Warm finds use a stream of {result['stream'] - 1:,} "
        f"*distinct* requirements (`generate.requirement_stream`), the same for both; "
        f"files from `generate.py` (~50 partitions, 5 QoS, accounts, GPU features decoded by "
        f"`features_regex`, `min_mem_ratio`). Whole run: {result['elapsed_s']:.0f} s.")
    add("")
    by_key = {(c.hosts, c.per_host): c for c in cases}

    # --- targets
    add("## Targets (issue 6)")
    add("")
    add("| target | reqsolve | peer | ratio | goal | met |")
    add("|---|---|---|---|---|---|")
    big = by_key[(1000, True)]
    ours_cold_big = cold.get("big", {}).get("median_s", math.nan)
    peer_big = _peer_first(big)
    note = ""
    if math.isnan(peer_big) and big.peer == {} and result["peer_python"] is not None:
        points = {h: float(r["import_s"] + r["load_s"] + r["first_find_s"])
                  for h, r in result["extra_peer"].items() if "first_find_s" in r}
        small = by_key.get((100, True))
        if small is not None and not math.isnan(_peer_first(small)):
            points[100] = _peer_first(small)
        if len(points) >= 2:
            peer_big = extrapolate_quadratic(points, 1000)
            note = " (extrapolated, quadratic fit)"
    met = ratio(peer_big, ours_cold_big)
    add(f"| whole `reqsolve find` process, 1,000 node groups vs peer import + load + first find "
        f"| {ms(ours_cold_big)} | {ms(peer_big)}{note} | {met} | ≥ 100× | "
        f"{_yes(peer_big / ours_cold_big >= 100)} |")
    for hosts, per_host in ((1000, False), (1000, True), (10000, False)):
        case = by_key.get((hosts, per_host))
        if case is None or "warm_s" not in case.ours or "warm_s" not in case.peer:
            continue
        ours_p50 = percentile(case.ours["warm_s"], 50)
        peer_p50 = percentile(case.peer["warm_s"], 50)
        label = case.label
        if len(case.paired) > 1:  # median of the interleaved rounds, same requirements
            ours_p50 = percentile([o for o, _ in case.paired], 50)
            peer_p50 = percentile([p for _, p in case.paired], 50)
            label += f" (median of {len(case.paired)} interleaved rounds)"
        add(f"| warm find p50, distinct requirements, {label} | {ms(ours_p50)} | "
            f"{ms(peer_p50)} | {ratio(peer_p50, ours_p50)} | ≥ 10× | "
            f"{_yes(peer_p50 / ours_p50 >= 10)} |")
    huge = by_key[(10000, False)]
    huge_h = by_key[(10000, True)]
    for case in (huge, huge_h):
        if "load_s" not in case.ours:
            continue
        load = case.ours["load_s"] + case.ours["compile_s"]
        p99 = percentile(case.ours["warm_s"], 99)
        peer_load = (case.peer.get("load_s", math.nan) + case.peer.get("first_find_s", math.nan))
        add(f"| load + compile, {case.label} | {ms(load)} | {ms(peer_load)} (load + first find) "
            f"| {ratio(peer_load, load)} | < 0.5 s | {_yes(load < 0.5)} |")
        add(f"| find p99, {case.label} | {ms(p99)} | "
            f"{ms(percentile(case.peer.get('warm_s', []), 99))} | "
            f"{ratio(percentile(case.peer.get('warm_s', []), 99), p99)} | < 5 ms | "
            f"{_yes(p99 < 0.005)} |")
    if "seed" in cold:
        peer_seed = cold.get("peer_seed", {}).get("process_wall_s", math.nan)
        add(f"| whole `reqsolve find` process, seed example (`docs_example`), installed "
            f"{'wheel' if cold.get('installed') else 'checkout'} | "
            f"{ms(cold['seed']['median_s'])} | {ms(peer_seed)} (whole process) | "
            f"{ratio(peer_seed, cold['seed']['median_s'])} | < 0.25 s | "
            f"{_yes(cold['seed']['median_s'] < 0.25)} |")
    for per_host in (False, True):
        small, large = by_key.get((1000, per_host)), by_key.get((10000, per_host))
        if small is None or large is None or "load_s" not in small.ours \
                or "load_s" not in large.ours:
            continue
        k_load = growth_exponent(
            (small.hosts, small.ours["load_s"] + small.ours["compile_s"]),
            (large.hosts, large.ours["load_s"] + large.ours["compile_s"]))
        k_find = growth_exponent((small.hosts, percentile(small.ours["warm_s"], 50)),
                                 (large.hosts, percentile(large.ours["warm_s"], 50)))
        add(f"| growth 1,000 → 10,000 hosts ({'1 group/host' if per_host else 'grouped'}): "
            f"exponent k in t ∝ n^k, load+compile / warm find | k = {k_load:.2f} / "
            f"{k_find:.2f} | – | – | ≈ 1 (linear) or less | "
            f"{_yes(k_load < 1.2 and k_find < 1.2)} |")
    mem = huge_h.memory
    if "peak_bytes" in mem:
        add(f"| peak memory, {huge_h.label}: tracemalloc peak of load + compile + 200 finds / "
            f"process max RSS | {mib(mem['peak_bytes'], kib=False)} / "
            f"{mib(mem['maxrss_kib'], kib=True)} | "
            f"{mib(huge_h.peer.get('maxrss_kib', math.nan), kib=True)} | – | reported | – |")
    add("")
    paired = [c for c in cases if len(c.paired) > 1]
    if paired:
        add("Warm finds on grouped files, interleaved rounds (reqsolve, then the peer, each in a "
            "fresh process, over the requirements the peer runs); p50 reqsolve / peer = ratio:")
        add("")
        for case in paired:
            rounds = ", ".join(f"{ms(o)} / {ms(p)} = {p / o:.1f}×" for o, p in case.paired)
            add(f"- {case.label}: {rounds}")
        add("")

    # --- detail
    add("## Every file")
    add("")
    add("Times per file, each side in a fresh process. *load* = YAML → typed model (peer: "
        "registry construction); *compile* = candidates (the peer does this inside its first "
        "find); *first find* includes the parser's grammar build for both. RSS is the whole "
        "process (interpreter included).")
    add("")
    add("| file | node groups | import | load | compile | first find | warm p50 | warm p99 | "
        "explain p50 | parse p50 | tracemalloc peak | max RSS |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        o = case.ours
        if "load_s" not in o:
            add(f"| reqsolve, {case.label} | {case.groups:,} | failed: {o.get('failed')} |"
                + " |" * 9)
            continue
        add(f"| reqsolve, {case.label} | {case.groups:,} | {ms(o['import_s'])} | "
            f"{ms(o['load_s'])} | {ms(o['compile_s'])} | {ms(o['first_find_s'])} | "
            f"{ms(percentile(o['warm_s'], 50))} | {ms(percentile(o['warm_s'], 99))} | "
            f"{ms(percentile(o['explain_s'], 50))} | {ms(percentile(o['parse_s'], 50))} | "
            f"{mib(case.memory.get('peak_bytes', math.nan), kib=False)} | "
            f"{mib(o['maxrss_kib'], kib=True)} |")
    for case in cases:
        p = case.peer
        if not p:
            continue
        if "first_find_s" not in p:
            add(f"| peer, {case.label} | {case.groups:,} | {p} |" + " |" * 9)
            continue
        add(f"| peer, {case.label} | {case.groups:,} | {ms(p['import_s'])} | {ms(p['load_s'])} "
            f"| (in first find) | {ms(p['first_find_s'])} | {ms(percentile(p['warm_s'], 50))} | "
            f"{ms(percentile(p['warm_s'], 99))} | – | {ms(percentile(p.get('parse_s', []), 50))} "
            f"| – | {mib(p['maxrss_kib'], kib=True)} |")
    for hosts, p in sorted(result["extra_peer"].items()):
        if "first_find_s" in p:
            add(f"| peer, {hosts:,} hosts, 1 group/host | {hosts:,} | {ms(p['import_s'])} | "
                f"{ms(p['load_s'])} | (in first find) | {ms(p['first_find_s'])} | "
                f"{ms(percentile(p['warm_s'], 50))} | {ms(percentile(p['warm_s'], 99))} | – | "
                f"{ms(percentile(p.get('parse_s', []), 50))} | – | "
                f"{mib(p['maxrss_kib'], kib=True)} |")
    add("")
    _outcomes(add, cases)
    _peer_extrapolation(add, cases, result)
    _cold(add, cold, result)
    _dominant(add, result)
    return "\n".join(lines) + "\n"


def _dominant(add: Any, result: dict[str, Any]) -> None:
    add("## What dominates")
    add("")
    imports: dict[str, float] = result.get("imports", {})
    if imports:
        add("Cumulative import time of a `reqsolve find` process (`python -X importtime`; "
            "nested modules are included in their parents):")
        add("")
        add("| module | import |")
        add("|---|---|")
        for module, seconds in sorted(imports.items(), key=lambda kv: -kv[1]):
            add(f"| `{module}` | {ms(seconds)} |")
        add("")
    for name, profile in result.get("profiles", {}).items():
        if "failed" in profile:
            add(f"Profile of {name} failed: {profile['failed']}")
            continue
        for phase, title in (("load", "load + compile"), ("finds", "warm finds")):
            add(f"cProfile, {title}, `{name}` (top functions by own time):")
            add("")
            add("| function | calls | own time | share | cumulative |")
            add("|---|---|---|---|---|")
            for row in profile[phase][:8]:
                add(f"| `{row['function']}` | {row['calls']:,} | {ms(row['tottime'])} | "
                    f"{row['share']:.0%} | {ms(row['cumtime'])} |")
            add("")


def _yes(condition: bool) -> str:
    return "yes" if condition else "**no**"


def _outcomes(add: Any, cases: list[Case]) -> None:
    add("Answers over the stream (found / no launcher / crashed):")
    add("")
    for case in cases:
        ours = case.ours.get("outcomes", {})
        theirs = case.peer.get("outcomes")
        text = f"- {case.label}: reqsolve {ours.get('found', '?')} / {ours.get('not_found', '?')}"
        if theirs:
            text += (f"; peer {theirs['found']} / {theirs['not_found']} / {theirs['crashed']} "
                     f"(over its first {sum(theirs.values())})")
        add(text)
    add("")


def _peer_extrapolation(add: Any, cases: list[Case], result: dict[str, Any]) -> None:
    points = {c.hosts: _peer_first(c) for c in cases if c.per_host and c.peer}
    for hosts, r in result["extra_peer"].items():
        if "first_find_s" in r:
            points[hosts] = float(r["import_s"] + r["load_s"] + r["first_find_s"])
    points = {h: t for h, t in points.items() if not math.isnan(t)}
    if len(points) < 2:
        return
    add("## The peer's first find grows quadratically")
    add("")
    add("One node group per host; import + load + first find, measured: "
        + ", ".join(f"{h:,} hosts {ms(t)}" for h, t in sorted(points.items()))
        + ". Its first find deep-copies the whole launcher once per (node group × QoS × "
        "account), so the cost is ~n². Quadratic fit through the two largest points: "
        + ", ".join(f"{n:,} hosts ≈ {ms(extrapolate_quadratic(points, n))}"
                    for n in (2000, 10000) if n > max(points))
        + " (extrapolated, not run).")
    add("")


def _cold(add: Any, cold: dict[str, Any], result: dict[str, Any]) -> None:
    add("## Whole processes")
    add("")
    plan: Plan = result["plan"]
    venv_text = ("a clean venv holding only reqsolve's runtime dependencies "
                 "(`benchmarks/.reqsolve-venv`)" if cold.get("clean_venv")
                 else "the current interpreter")
    if cold.get("installed"):
        where = (f"{venv_text}, running the `reqsolve` script of the working tree's wheel "
                 "pip-installed into `benchmarks/.work/installed` (pip compiles byte-code at "
                 "install, as a user's `pip install` does), from a directory outside the checkout")
    else:
        where = (f"{venv_text}, `python -m reqsolve` with the working tree on PYTHONPATH (the "
                 "wheel could not be installed: see the log)")
    add(f"`reqsolve find --config FILE --offline --format json EXPR` run as a new process "
        f"{plan.cold_runs} times (after one unmeasured run) in {where}; wall time (and the "
        f"process's CPU time, which other load on the machine changes less):")
    add("")
    if "seed" in cold:
        add(f"- seed example `{result['seed'].relative_to(ROOT.parent) if result['seed'] else ''}`"
            f", `{SEED_REQUIREMENT}`: median {ms(cold['seed']['median_s'])}, min "
            f"{ms(cold['seed']['min_s'])}, CPU time (user + system) median "
            f"{ms(cold['seed']['cpu_median_s'])}, exit {cold['seed']['codes']}; peer whole process "
            f"{ms(cold.get('peer_seed', {}).get('process_wall_s', math.nan))}")
    if "seed_checkout" in cold:
        flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
        add(f"- the same from the checkout (`python -m reqsolve`, working tree on PYTHONPATH, "
            f"PYTHONDONTWRITEBYTECODE={flag!r} here: without byte-code every process compiles "
            f"reqsolve's sources again): median "
            f"{ms(cold['seed_checkout']['median_s'])}, min {ms(cold['seed_checkout']['min_s'])}, "
            f"CPU median {ms(cold['seed_checkout']['cpu_median_s'])}")
    if "seed_base" in cold:
        add(f"- the checkout with this machine's base interpreter (`{sys.executable}`): median "
            f"{ms(cold['seed_base']['median_s'])}")
    if "python_start" in cold:
        add(f"- bare interpreter start (`python -c pass`, median): clean venv "
            f"{ms(cold.get('clean_python_start', math.nan))}, base interpreter "
            f"{ms(cold['python_start'])}, the peer's venv "
            f"{ms(cold.get('peer_python_start', math.nan))}"
            f" — included in the whole-process figures (the base interpreter here also runs a "
            f"site `.pth` hook that imports certifi at every start)")
    if "big" in cold:
        add(f"- 1,000 node groups, `{COLD_REQUIREMENT}`: median {ms(cold['big']['median_s'])}, "
            f"exit {cold['big']['codes']}; peer whole process "
            f"{ms(cold.get('peer_big', {}).get('process_wall_s', math.nan))}")
    add("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller run (~1-2 min)")
    parser.add_argument("--no-peer", action="store_true", help="reqsolve only")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    result = measure(QUICK if args.quick else FULL, with_peer=not args.no_peer)
    text = report(result)
    args.output.write_text(text, encoding="utf-8")
    (WORK / "raw.json").write_text(json.dumps(
        {"cases": [c.__dict__ | {"path": str(c.path)} for c in result["cases"]],
         "extra_peer": result["extra_peer"], "cold": result["cold"]}, default=str, indent=1),
        encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
