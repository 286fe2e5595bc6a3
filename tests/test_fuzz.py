"""Hostile input never crashes reqsolve: only ReqsolveError subclasses escape.

Two generators feed the public entry points:

* expressions built from the grammar's own pieces (terms, units, clock forms, ``*N``, ``|``,
  parentheses), then mutated character by character — near-valid text is where parsers break;
* launcher files: the conformance configs, structurally mutated (keys deleted, renamed,
  duplicated, values retyped, weird scalars) and textually mutated (duplicated lines, aliases,
  tags, tabs), then loaded, checked and searched.

The default run takes a bounded share (about 1,000 expressions and 200 files); the ``slow`` run,
``REQSOLVE_SLOW=1 python3 -m pytest -m slow tests/test_fuzz.py``, takes 100,000 and 10,000.
Pathological inputs (alias bombs, deep nesting, 10 MB files, catastrophic regexes, huge numbers)
must end within a second with a clear error.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.errors import ReqsolveError
from tests.paths import FIXTURES, ROOT

CONFIGS = ROOT / "tests" / "conformance" / "configs"
SLOW = os.environ.get("REQSOLVE_SLOW") == "1"
slow_only = pytest.mark.skipif(not SLOW, reason="set REQSOLVE_SLOW=1 to run the long fuzzing")

FUZZ = dict(deadline=None, database=None, derandomize=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.filter_too_much])


def _parser() -> Any:
    from reqsolve import parser

    return parser


def _loader() -> Any:
    from reqsolve.config import loader

    return loader


def _finder() -> Any:
    from reqsolve import finder

    return finder


# --------------------------------------------------------------------------- expressions

# Generation uses a seeded random.Random rather than many hypothesis draws: the slow run makes
# 100,000 expressions, and a composite strategy costs ~20 ms an example against ~50 µs here.
# Failures print the seed and the text, which is what one needs to reproduce them.

NUMBERS = ["0", "1", "2", "4", "8", "16", "24", "40", "1024", "1025", "1.5", "0.001", ".5",
           "5.", "-1", "+2", "1e3", "0x10", "1_000", "٣", "²", "99999999999999999999999",
           "1" * 5000, "nan", "inf", "", " "]
MEMORY_UNITS = ["", "K", "M", "G", "T", "P", "KB", "MB", "GB", "TB", "Ki", "Mi", "Gi", "Ti",
                "KiB", "MiB", "GiB", "g", "gib", "B", "b", "X", " G", "GG", "bytes", "E"]
DURATION_UNITS = ["", "h", "d", " days", "days", "hours", " h", "m", "min", "s", "w", "weeks",
                  "y", "ms", "h30m", "d12h", "x"]
CLOCKS = ["01:00:00", "1:2:3", "2-03", "2-03:04", "2-03:04:05", "99:99:99", "-1:00", "1-", ":",
          "00:00:00", "3650-00:00:00", "1:2:3:4"]
NAMES = ["A100", "a100", "V100", "3080", "on", "null", "", "x y", "é", "$(id)"]
JUNK = ["&", "|", "()", "duration", "cpu", "cuda(", ")", "*2", "==", "duration=4 days & ",
        "\x00", "\n", "é", "😀"]
MUTATION_CHARS = [*"()&|*=,.-: \t\n0123456789GMhd", "\x00", "\x7f", "é", "∞", "😀", "'", '"',
                  "\\", "\ud800"]


def _number(rng: random.Random) -> str:
    return str(rng.randint(0, 5000)) if rng.random() < 0.5 else rng.choice(NUMBERS)


def _memory(rng: random.Random) -> str:
    return _number(rng) + rng.choice(MEMORY_UNITS)


def _term(rng: random.Random) -> str:
    kind = rng.choice(["duration", "clock", "cpu", "cuda", "junk"])
    if kind == "duration":
        return f"duration={_number(rng)}{rng.choice(DURATION_UNITS)}"
    if kind == "clock":
        return f"duration={rng.choice(CLOCKS)}"
    if kind == "cpu":
        pieces = [lambda: f"mem={_memory(rng)}", lambda: f"cores={_number(rng)}",
                  lambda: rng.choice(["mem=", "cores", "=4", "gpus=2", "mem=4G,mem=5G"])]
        args = [rng.choice(pieces)() for _ in range(rng.randint(0, 3))]
        return f"cpu({', '.join(args)})"
    if kind == "cuda":
        name = rng.choice(["cuda", "cuda", "gpu", "CUDA", "Gpu", "tpu", "cuda "])
        pieces = [lambda: f"mem={_memory(rng)}", lambda: f"model={rng.choice(NAMES)}",
                  lambda: rng.choice(["mem", "count=2", "model="])]
        args = [rng.choice(pieces)() for _ in range(rng.randint(0, 2))]
        times = rng.choice(["", "", f"*{_number(rng)}", f" * {_number(rng)}"])
        return f"{name}({','.join(args)}){times}"
    return rng.choice(JUNK)


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with up to three edits: delete, insert, duplicate a slice, truncate, swap."""
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        if not text:
            break
        at = rng.randrange(len(text))
        edit = rng.choice(["delete", "insert", "duplicate", "truncate", "swap"])
        if edit == "delete":
            text = text[:at] + text[at + 1 :]
        elif edit == "insert":
            text = text[:at] + rng.choice(MUTATION_CHARS) + text[at:]
        elif edit == "duplicate":
            end = rng.randint(at, len(text))
            text = text[:end] + text[at:end] + text[end:]
        elif edit == "truncate":
            text = text[:at]
        elif at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text


def make_expression(seed: int) -> str:
    """A near-valid expression from the grammar's pieces, then mutated."""
    rng = random.Random(seed)
    alternatives = []
    for _ in range(rng.randint(1, 3)):
        parts = [_term(rng) for _ in range(rng.randint(1, 4))]
        text = rng.choice([" & ", "&", " &", " && "]).join(parts)
        if rng.random() < 0.25:
            text = f"({text})"
        alternatives.append(text)
    text = rng.choice([" | ", "|", " || "]).join(alternatives)
    if rng.random() < 0.1:
        depth = rng.randint(1, 40)
        text = "(" * depth + text + ")" * rng.randint(depth - 1, depth + 1)
    return mutate(rng, text)


SEEDS = st.integers(0, 2**63)


def _check_expression(parse: Callable[[str], Any], text: str) -> None:
    try:
        requirement = parse(text)
    except ReqsolveError as exc:
        assert str(exc).strip(), f"empty message for {text!r}"
        return
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__} escaped from parse({text!r}): {exc}")
    canonical = str(requirement)
    assert parse(canonical) == requirement, f"{text!r} -> {canonical!r} does not round-trip"


@settings(max_examples=1000, **FUZZ)
@given(SEEDS)
def test_fuzzed_expressions_raise_only_reqsolve_errors(seed: int) -> None:
    _check_expression(_parser().parse, make_expression(seed))


@pytest.mark.slow
@slow_only
@settings(max_examples=100_000, **FUZZ)
@given(SEEDS)
def test_fuzzed_expressions_slow(seed: int) -> None:
    _check_expression(_parser().parse, make_expression(seed))


@settings(max_examples=300, **FUZZ)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_reqsolve_errors(text: str) -> None:
    _check_expression(_parser().parse, text)


# --------------------------------------------------------------------------- launcher files

@functools.cache
def _base_configs() -> tuple[tuple[str, Any], ...]:
    """(name, text) of every conformance / fixture launcher file, read once."""
    found: dict[str, str] = {}
    for directory in (CONFIGS, FIXTURES):
        if directory.is_dir():
            for path in sorted(directory.glob("*/launchers.yaml")):
                found[path.parent.name] = path.read_text(encoding="utf-8")
    return tuple(sorted(found.items()))


WEIRD_SCALARS: list[Any] = [
    None, True, False, "on", "yes", "no", "null", "~", 3080, 0, -1, 2**70, 1e308, -0.0,
    float("nan"), float("inf"), "", " ", "4 days", "1G", "400M", "0G", "abc", "$(rm -rf /)",
    "a;b", "x\ny", "a b", "'q'", '"q"', "(a+)+$", "GPU(?P<cuda_count>\\d+", "GPU(?P<x>\\d+)",
    "\x00", "é", [], {}, [1, 2], {"a": 1}, "*alias", "&anchor", "!!python/object:os.system",
    "-1 days", "1e400G", "1" * 400,
]
KEY_RENAMES = ["{k}s", "{k}_", "{K}", "_{k}", "{k} ", "", "nodes", "cpu", "qos", "configuration"]


def _walk(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value (dict key or list index) under ``node``."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            paths.append((*path, key))
            paths.extend(_walk(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths.append((*path, index))
            paths.extend(_walk(value, (*path, index)))
    return paths


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


def _mutate_structure(rng: random.Random, data: Any) -> Any:
    """Delete, retype, rename, duplicate, wrap or empty one to four values of the tree."""
    for _ in range(rng.randint(1, 4)):
        paths = _walk(data)
        if not paths:
            return copy.deepcopy(rng.choice([*WEIRD_SCALARS, {"local": None}, {"slurm": [None]}]))
        path = rng.choice(paths)
        parent, key = _parent(data, path), path[-1]
        edit = rng.choice(["delete", "retype", "retype", "rename", "duplicate", "wrap", "empty"])
        if edit == "delete":
            del parent[key]
        elif edit == "retype":
            parent[key] = copy.deepcopy(rng.choice(WEIRD_SCALARS))
        elif edit == "rename" and isinstance(parent, dict):
            new = rng.choice(KEY_RENAMES).format(k=key, K=str(key).upper())
            parent[new] = parent.pop(key)
        elif edit == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif edit == "duplicate" and isinstance(parent, dict):
            parent[f"{key}_copy"] = copy.deepcopy(parent[key])
        elif edit == "wrap":
            parent[key] = [parent[key]]
        elif isinstance(parent[key], (dict, list)):
            parent[key] = type(parent[key])()
        else:
            parent[key] = ""
    return data


def _mutate_text(rng: random.Random, text: str) -> str:
    """Duplicate keys, dangling aliases, unsafe tags, tabs, bad indentation, bad merges."""
    lines = text.splitlines()
    for _ in range(rng.choice([0, 0, 1, 2])):
        if not lines:
            break
        at = rng.randrange(len(lines))
        edit = rng.choice(["dup", "del", "alias", "tag", "tab", "indent", "merge"])
        if edit == "dup":
            lines.insert(at, lines[at])
        elif edit == "del":
            del lines[at]
        elif edit == "alias":
            lines[at] = lines[at].replace(": ", ": &a ", 1)
            lines.insert(min(len(lines), at + 3), lines[at].split(":")[0] + "_x: *a")
        elif edit == "tag":
            lines[at] = lines[at].replace(": ", ": !!python/object/apply:os.system ", 1)
        elif edit == "tab":
            lines[at] = "\t" + lines[at]
        elif edit == "indent":
            lines[at] = " " + lines[at]
        else:
            lines.insert(at, "<<: *nothing")
    return "\n".join(lines) + "\n"


def make_launcher_text(seed: int) -> str:
    """A conformance launcher file, mutated in its structure and then in its text."""
    rng = random.Random(seed)
    bases = _base_configs()
    if not bases:
        pytest.skip("no launcher files: neither fixtures/ nor tests/conformance/configs/")
    _, text = rng.choice(bases)
    data = _mutate_structure(rng, yaml.safe_load(text))
    try:
        out = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        out = text
    return _mutate_text(rng, out)


REQUIREMENTS = ["cpu(cores=1)", "duration=4 days & cuda(mem=24G)*2",
                "cuda(mem=4G) & cpu(mem=400M, cores=4) | duration=2h & cpu(cores=8)"]


def _check_file(directory: Path, text: str) -> None:
    loader, finder = _loader(), _finder()
    path = directory / "launchers.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    launcher_file, problems = loader.check_config(path)
    assert launcher_file is not None or problems, "refused without saying why"
    for problem in problems:
        assert problem.message.strip()
    try:
        loader.load_config(path)
    except ReqsolveError as exc:
        assert str(exc).strip()
        assert any(p.severity == "error" for p in problems), \
            "load_config refused a file in which check_config saw no error"
        return
    for requirement in REQUIREMENTS:
        try:
            finder.find_launcher(requirement, config=path)
        except ReqsolveError as exc:
            assert str(exc).strip()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fuzzed")
    tokens = CONFIGS / "docs_example" / "tokens.yaml"
    if tokens.is_file():  # lets the docs example's `localtoken` resolve in some mutants
        shutil.copy(tokens, directory / "tokens.yaml")
    return directory


@settings(max_examples=200, **FUZZ)
@given(seed=SEEDS)
def test_mutated_launcher_files_raise_only_reqsolve_errors(fuzz_dir: Path, seed: int) -> None:
    _check_file(fuzz_dir, make_launcher_text(seed))


@pytest.mark.slow
@slow_only
@settings(max_examples=10_000, **FUZZ)
@given(seed=SEEDS)
def test_mutated_launcher_files_slow(fuzz_dir: Path, seed: int) -> None:
    _check_file(fuzz_dir, make_launcher_text(seed))


# --------------------------------------------------------------------------- pathological input

def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    lines.append("local: *a9")
    return "\n".join(lines) + "\n"


def _deep_flow() -> str:
    return "local: " + "[" * 100_000 + "]" * 100_000 + "\n"


def _deep_block() -> str:
    return "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(2000)) + "\n"


def _ten_megabytes() -> str:
    host = "        - " + "h" * 60 + "\n"
    return ("slurm:\n- id: big\n  partitions:\n    p:\n      nodes:\n      - hosts:\n"
            + host * (10 * 2**20 // len(host) + 1))


CATASTROPHIC = ("slurm:\n- id: evil\n  connector: local\n  configuration: {}\n"
                "  features_regex: ['(a+)+$', '(\\w+\\s?)*$', '(.*a){25}']\n"
                "  partitions:\n    p:\n      nodes:\n      - hosts: [h1]\n"
                f"        features: [{'a' * 40}!]\n")

HOSTILE_FILES = {
    "alias bomb (billion laughs)": _alias_bomb,
    "flow nesting 100,000 deep": _deep_flow,
    "block nesting 2,000 deep": _deep_block,
    "10 MB file": _ten_megabytes,
    "catastrophic features_regex": lambda: CATASTROPHIC,
    "NUL byte": lambda: "local:\n- connector: local\x00\n",
    "not UTF-8": lambda: "local:\n- connector: \udcff\n",
}


@pytest.mark.parametrize("build", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_hostile_launcher_files_fail_fast_and_clearly(build: Callable[[], str],
                                                      tmp_path: Path) -> None:
    loader, finder = _loader(), _finder()
    path = tmp_path / "launchers.yaml"
    path.write_bytes(build().encode("utf-8", errors="surrogateescape"))
    start = time.perf_counter()
    with pytest.raises(ReqsolveError) as caught:
        finder.find_launcher("cpu(cores=1)", config=path)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    message = str(caught.value)
    assert "launchers.yaml" in message or getattr(caught.value, "problems", None), message
    start = time.perf_counter()
    _, problems = loader.check_config(path)
    assert problems and time.perf_counter() - start < 1.0


HOSTILE_EXPRESSIONS = {
    "parentheses 10,000 deep": "(" * 10_000 + "cpu(cores=1)" + ")" * 10_000,
    "unclosed parentheses 100,000": "(" * 100_000,
    "100,000-digit count": "cpu(cores=" + "9" * 100_000 + ")",
    "5,000-digit memory": "cuda(mem=" + "9" * 5000 + "G)",
    "count over the limit": "cuda(mem=1G)*999999999999",
    "1e400 memory": "cpu(mem=1e400G)",
    "20,000 terms": " & ".join(["cpu(cores=1)"] * 20_000),
    "20,000 alternatives": " | ".join(["cpu(cores=2)"] * 20_000),
    "1 MB of spaces": "cpu(cores=1)" + " " * 2**20 + "&",
    "lone surrogate": "cpu(mem=4\ud800G)",
    "NUL": "cpu(cores=1)\x00",
}


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS.values(), ids=HOSTILE_EXPRESSIONS.keys())
def test_hostile_expressions_end_within_a_second(text: str) -> None:
    parse = _parser().parse
    parse("cpu(cores=1)")  # build the grammar outside the timing
    start = time.perf_counter()
    try:
        requirement = parse(text)
    except ReqsolveError as exc:
        assert str(exc).strip()
    else:
        assert requirement.alternatives
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert math.isfinite(elapsed)
