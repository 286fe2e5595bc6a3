"""Hostile or broken files: a clear ConfigError with a position, fast, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqsolve.config.loader import MAX_DEPTH, check_config, load_config
from reqsolve.errors import ConfigError

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9 if previous else ['lol'] * 9)}]\n"
    for previous, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)

CASES: list[tuple[str, bytes, int, int, str]] = [
    # id, content, line, column, start of the message
    ("empty", b"", 1, 1, "the file is empty"),
    ("only-comments", b"# nothing here\n\n", 1, 1, "the file is empty"),
    ("top-level-list", b"- local: []\n", 1, 1, "the top level must be a mapping"),
    ("top-level-scalar", b"launchers\n", 1, 1, "the top level must be a mapping"),
    ("tabs", b"local:\n\t- cpu: {cores: 1}\n", 2, 1, "tab character in indentation"),
    ("non-utf8", b"local:\n  - id: caf\xe9\n", 2, 12, "byte 0xe9 is not UTF-8"),
    ("alias-bomb", BOMB.encode(), 6, 8, "aliases expand to more than"),
    ("deep-flow", b"local: " + b"[" * 50_000 + b"]" * 50_000, 1, MAX_DEPTH + 7, "nesting deeper"),
    (
        "deep-block",
        "".join("  " * i + f"k{i}:\n" for i in range(500)).encode(),
        MAX_DEPTH + 1,
        2 * MAX_DEPTH + 1,
        "nesting deeper",
    ),
    ("two-documents", b"local: []\n---\nslurm: []\n", 2, 1, "more than one YAML document"),
    ("python-tag", b"local: !!python/object:os.system []\n", 1, 8, "YAML tag"),
    ("undefined-alias", b"local: *nothing\n", 1, 8, "alias '*nothing' names no anchor"),
    # unclosed: where it opened, not where YAML gave up (issue 20 §8; these two said 2:1, 3:1)
    ("syntax", b"local: [\n", 1, 8, "YAML syntax error: '[' is not closed"),
    ("unclosed-quote", b'local:\n  - id: "abc\n', 2, 9, "YAML syntax error: the quote is not"),
    (
        "unclosed-list-line-6",
        b"slurm:\n  - id: c\n    partitions:\n      p:\n        nodes:\n"
        b"          - hosts: [n1, n2\n            count: 2\n",
        6,
        20,
        "YAML syntax error: '[' is not closed (expected ',' or ']', but got ':' at line 7,",
    ),
    ("unclosed-mapping", b"local:\n  - {id: a,\n\n", 2, 5, "YAML syntax error: '{' is not"),
    ("unclosed-single-quote", b"local:\n  - id: 'a\n\n  - id: b\n", 2, 9, "YAML syntax error: the"),
    ("wrong-type-local", b"local: {cpu: 4}\n", 1, 8, "expected a list, got a mapping"),
    ("wrong-type-item", b"slurm: [cluster]\n", 1, 9, "expected a slurm launcher (a mapping)"),
    ("key-is-a-list", b"local: []\n[a]: 1\n", 2, 1, "a key must be a name"),
    # numbers longer than Python's int() reads (4,300 digits): a position, never a ValueError
    *(
        (f"{n}-digit-{field}", f"{head}{'9' * n}{tail}\n".encode(), line, column, message)
        for n in (19, 4301, 20_000)
        for field, head, tail, line, column, message in [
            (
                "cores",
                "local:\n  - cpu: {cores: ",
                "}",
                2,
                18,
                f"expected an integer, got a number of {n} digits",
            ),
            (
                "priority",
                "slurm:\n  - partitions:\n      p:\n        priority: ",
                "",
                4,
                19,
                f"expected an integer, got a number of {n} digits",
            ),
            (
                "count",
                "slurm:\n  - partitions:\n      p:\n        nodes: [{count: ",
                "}]",
                4,
                25,
                f"expected an integer, got a number of {n}",
            ),
            ("memory", "local:\n  - cpu: {memory: ", "G}", 2, 19, "memory size"),
            (
                "gpu-count-decoded",
                "slurm:\n  - features_regex: ['GPU(?P<cuda_count>\\d+)x']\n    partitions:\n"
                "      p:\n        nodes: [{features: [GPU",
                "x]}]",
                5,
                29,
                "feature 'GPU9999",
            ),
        ]
        # a feature longer than MAX_FEATURE_LENGTH is not decoded at all (validate warns)
        if field != "gpu-count-decoded" or n < 60
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "column", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_is_a_config_error_with_position(
    tmp_path: Path, content: bytes, line: int, column: int, message: str
) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert time.perf_counter() - started < 5  # generous guard; the real figure is milliseconds
    first = next(p for p in caught.value.problems if p.severity == "error")
    assert (first.line, first.column) == (line, column)
    assert first.message.startswith(message)
    assert first.severity == "error"


def test_ten_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    with path.open("w") as stream:
        stream.write("local:\n")
        line = "  - {cpu: {cores: 1, memory: 1G}, tags: [a, b, c, d, e, f, g, h]}\n"
        stream.write(line * (10 * 2**20 // len(line) + 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert "over the 8 MiB limit" in problem.message


def test_too_many_values(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("local: [" + "a," * 300_000 + "]\n")
    with pytest.raises(ConfigError, match="more than 250000 values"):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "nope.yaml")


def test_merge_of_a_scalar(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("x: &x 1\nlocal:\n  - <<: *x\n")
    _, problems = check_config(path)
    assert [p.message for p in problems if p.severity == "error"] == [
        "unknown key 'x' in a launchers file",
        "'<<' merges a mapping, not '1'",
    ]


YAMLISH = st.text(
    alphabet=st.sampled_from(list("local:slurm- []{},&*!#'\"\n\t 0123456789abcGMiB.:|>?%@`")),
    max_size=200,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=YAMLISH)
def test_any_text_gives_problems_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "launchers.yaml"
    path.write_text(text, encoding="utf-8")
    launcher_file, problems = check_config(path)
    assert (launcher_file is None) == any(p.severity == "error" for p in problems)
    assert all(p.line >= 1 and p.column >= 1 for p in problems)
