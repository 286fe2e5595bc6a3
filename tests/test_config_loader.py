"""load_config / check_config: every field reaches the model, names stay as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqsolve.config.linter import Linter
from reqsolve.config.loader import check_config, load_config
from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    LauncherFile,
    LocalGpu,
    LocalLauncherConfig,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
    written_position,
)
from reqsolve.errors import ConfigError
from tests.paths import DOCS_EXAMPLE, FIXTURES, ROOT

CONFORMANCE_CONFIGS = ROOT / "tests" / "conformance" / "configs"
GOOD_FIXTURES = sorted(p for p in FIXTURES.glob("*/launchers.yaml") if p.parent.name != "broken")


def conformance_configs() -> list[Path]:
    return sorted(CONFORMANCE_CONFIGS.glob("*/launchers.yaml"))


def write(tmp_path: Path, text: str, name: str = "launchers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    _, problems = check_config(path)
    return [f"{p.path}: {p.message}" for p in problems if p.severity == "error"]


@pytest.mark.parametrize("path", GOOD_FIXTURES, ids=lambda p: p.parent.name)
def test_good_fixtures_load_without_error(path: Path) -> None:
    launcher_file = load_config(path)
    assert launcher_file.launchers
    assert all(p.severity == "warning" for p in launcher_file.warnings)


@pytest.mark.parametrize("path", conformance_configs(), ids=lambda p: p.parent.name)
def test_every_conformance_config_loads(path: Path) -> None:
    launcher_file = load_config(path)
    assert launcher_file.path == str(path)


def test_conformance_configs_present() -> None:
    assert len(conformance_configs()) >= 10


def test_docs_example_every_field() -> None:
    launcher_file = load_config(DOCS_EXAMPLE)
    local0, local1, manual, auto = launcher_file.launchers
    assert local0 == LocalLauncherConfig(
        id="local-0", connector="local", cpu=CpuConfig(cores=40, memory=10**9), weight=5
    )
    assert local1.id == "local-1"
    assert local1.tokens == (("localtoken", 1),)
    assert local1.gpus == (LocalGpu(model="GTX1080", count=1, memory=8116 * 2**20),)
    assert launcher_file.token_counters == (("localtoken", 1),)
    assert isinstance(manual, SlurmLauncherConfig)
    assert manual.id == "manual"
    assert manual.tags == ("slurm",)
    assert manual.weight == 3
    assert manual.features_regex == (r"GPU(?P<cuda_count>\d+)", r"GPUM(?P<cuda_memory>\d+G)")
    assert manual.qos == (
        Qos("qos_gpu-t3", max_duration=20 * 3600, min_gpu=1, priority=1),
        Qos("qos_gpu-t4", max_duration=100 * 3600, min_gpu=1),
    )
    assert manual.configuration == Configuration(
        cpu=CpuConfig(mem_per_cpu=2048 * 10**6), gpu=GpuConfig(min_mem_ratio=0.7)
    )
    assert [p.name for p in manual.partitions] == ["biggpus", "smallgpus", "gpu_p4"]
    gpu_p4 = manual.partitions[2]
    assert gpu_p4 == Partition(
        name="gpu_p4",
        nodes=(NodeGroup(features=("Tesla", "a100"), count=0),),
        configuration=Configuration(gpu=GpuConfig(count=8, model="A100", memory=40 * 2**30)),
        qos=("qos_gpu-t3", "qos_gpu-t4"),
        accounts=("iea@a100",),
        priority=1,
    )
    assert manual.partitions[0].nodes[0].hosts == ("yop", "yep")
    assert isinstance(auto, SlurmLauncherConfig)
    assert auto.query_slurm is True
    assert auto.partitions == (Partition(name="heavy", disabled=True),)


def test_verbatim_docs_example_gpu_alias_equals_gpus() -> None:
    fixed = load_config(DOCS_EXAMPLE)
    verbatim = load_config(FIXTURES / "docs_example_verbatim" / "launchers.yaml")
    assert verbatim.launchers == fixed.launchers


def test_upstream_test_file() -> None:
    launcher_file = load_config(FIXTURES / "upstream_test" / "launchers.yaml")
    (slurm,) = launcher_file.launchers
    assert isinstance(slurm, SlurmLauncherConfig)
    assert slurm.id == "test_slurm"
    assert [p.name for p in slurm.partitions] == ["electronic", "funky", "hard", "heavy", "jazzy"]
    assert [p.disabled for p in slurm.partitions] == [False, False, False, True, False]
    assert slurm.partitions[0].configuration is None
    assert slurm.partitions[4].nodes[1].features == ("GPU2", "3080", "GPUM10G")


NAMES_AS_WRITTEN = """\
slurm:
  - id: 3080
    tags: [yes, no, null]
    qos:
      on: {priority: 1}
      off: {}
    partitions:
      on:
        qos: [on, off]
        accounts: [yes, 1e3]
        priority: 0
        nodes:
          - hosts: [null, true, 3080, 0x10]
            features: [on, 2080]
            count: 0
      'null':
        disabled: yes
        nodes: [{hosts: [n], count: 1}]
local:
  - tokens: {on: 1}
    disable: off
    weight: 2.5
"""


def test_names_are_taken_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, NAMES_AS_WRITTEN)
    (tmp_path / "tokens.yaml").write_text("countertoken:\n  on: {tokens: 2}\n")
    launcher_file = load_config(path)
    slurm, local = launcher_file.launchers
    assert isinstance(slurm, SlurmLauncherConfig)
    assert slurm.id == "3080"
    assert slurm.tags == ("yes", "no", "null")
    assert [q.name for q in slurm.qos] == ["on", "off"]
    on, null = slurm.partitions
    assert on.name == "on"
    assert on.qos == ("on", "off")
    assert on.accounts == ("yes", "1e3")
    assert on.nodes[0].hosts == ("null", "true", "3080", "0x10")
    assert on.nodes[0].features == ("on", "2080")
    assert null.name == "null"
    assert null.disabled is True
    assert isinstance(local, LocalLauncherConfig)
    assert local.tokens == (("on", 1),)
    assert local.disabled is False
    assert local.weight == 2.5
    assert launcher_file.token_counters == (("on", 2),)
    # group order is the order written: slurm before local
    assert [launcher.type for launcher in launcher_file.launchers] == ["slurm", "local"]


def test_positions_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, NAMES_AS_WRITTEN)
    (tmp_path / "tokens.yaml").write_text("countertoken:\n  on: {tokens: 2}\n")
    launcher_file = load_config(path)
    assert launcher_file.positions["slurm[0].id"] == (2, 9)
    assert launcher_file.positions["slurm[0].partitions.on.nodes[0].hosts[2]"] == (13, 33)
    assert launcher_file.position("slurm[0].partitions.on.nodes[0].hosts[9]") == (13, 13)


def test_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "local:\n  - cpu: {cores: 2, memory: 1G}\nslurm:\n  - partitions: {}\n")
    local, slurm = load_config(path).launchers
    assert local == LocalLauncherConfig(id="local-0", cpu=CpuConfig(cores=2, memory=10**9))
    assert slurm == SlurmLauncherConfig(id="slurm-0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "slurm:\n  - use_memory_constraint: false\n    partitions: {}\n",
            False,
            id="correct-spelling",
        ),
        pytest.param(
            "slurm:\n  - use_memory_contraint: false\n    partitions: {}\n",
            False,
            id="peer-spelling",
        ),
        pytest.param("slurm:\n  - partitions: {}\n", True, id="default"),
    ],
)
def test_use_memory_constraint_alias(tmp_path: Path, text: str, expected: bool) -> None:
    (launcher,) = load_config(write(tmp_path, text)).launchers
    assert isinstance(launcher, SlurmLauncherConfig)
    assert launcher.use_memory_constraint is expected


def test_alias_and_name_together_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "local:\n  - disable: true\n    disabled: true\n")
    assert errors_of(path) == [
        "local[0].disabled: 'disabled' and 'disable' are the same field, written twice"
    ]


def test_features_and_merge_keys(tmp_path: Path) -> None:
    text = """\
slurm:
  - id: s
    configuration: &base
      cpu: {cores: 8, memory: 32G}
    features:
      A100:
        configuration:
          gpu: {model: A100, memory: 80G}
      plain: null
    partitions:
      p:
        configuration:
          <<: *base
          max_duration: 2h
        nodes: [{hosts: [h], features: [A100]}]
"""
    (launcher,) = load_config(write(tmp_path, text)).launchers
    assert isinstance(launcher, SlurmLauncherConfig)
    assert launcher.features == (
        ("A100", Configuration(gpu=GpuConfig(model="A100", memory=80 * 10**9))),
        ("plain", Configuration()),
    )
    assert launcher.partitions[0].configuration == Configuration(
        max_duration=7200, cpu=CpuConfig(cores=8, memory=32 * 10**9)
    )


def test_connectors_inline_and_beside(tmp_path: Path) -> None:
    text = """\
connectors:
  ssh:
    front: {hostname: front.example.org, user: me, port: 2222, options: [BatchMode=yes]}
slurm:
  - connector: front
    partitions: {p: {nodes: [{hosts: [a]}]}}
  - connector: cluster
    partitions: {p: {nodes: [{hosts: [a]}]}}
"""
    path = write(tmp_path, text)
    assert errors_of(path) == ["slurm[1].connector: connector 'cluster' is not declared"]
    (tmp_path / "connectors.yaml").write_text("ssh:\n  cluster: {hostname: cluster.org}\n")
    launcher_file = load_config(path)
    assert [c.id for c in launcher_file.connectors] == ["cluster", "front"]
    front = launcher_file.connectors[1]
    assert (front.hostname, front.user, front.port, front.options) == (
        "front.example.org",
        "me",
        2222,
        ("BatchMode=yes",),
    )


def test_undeclared_token(tmp_path: Path) -> None:
    path = write(tmp_path, "local:\n  - tokens: {gpu: 1}\n    cpu: {cores: 1, memory: 1G}\n")
    _, problems = check_config(path)
    (problem,) = problems
    assert (problem.line, problem.column, problem.path) == (2, 14, "local[0].tokens.gpu")
    assert problem.message == "token 'gpu' is not declared"
    assert problem.hint is not None and "tokens.yaml" in problem.hint


def test_load_config_raises_with_every_error(tmp_path: Path) -> None:
    path = write(tmp_path, "local:\n  - weight: x\n    cpu: {cores: -1}\n    tags: a\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [p.path for p in caught.value.problems] == [
        "local[0].weight",
        "local[0].cpu.cores",
        "local[0].tags",
    ]
    assert str(caught.value).startswith(f"{path}:2:13: local[0].weight: expected a number")


def test_warnings_do_not_stop_loading(tmp_path: Path) -> None:
    path = write(tmp_path, "slurm:\n  - use_hosts: false\n    partitions: {p: {nodes: []}}\n")
    launcher_file = load_config(path)
    assert [w.path for w in launcher_file.warnings] == [
        "slurm[0].use_hosts",
        "slurm[0].partitions.p",
    ]


def test_a_wrong_launcher_keeps_its_place(tmp_path: Path) -> None:
    text = "local:\n  - 5\n  - cpu: {cores: 1, memory: 1G}\n  - id: local-2\n    cpu: {cores: 1}\n"
    _, problems = check_config(write(tmp_path, text))
    # local[1] is still local-1 (no false duplicate with local-2), and paths keep indices
    assert [(p.severity, p.path) for p in problems] == [
        ("error", "local[0]"),
        ("warning", "local[2].cpu"),
    ]


def test_tokens_over_capacity(tmp_path: Path) -> None:
    path = write(tmp_path, "local:\n  - tokens: {gpu: 3}\n    cpu: {cores: 1, memory: 1G}\n")
    (tmp_path / "tokens.yaml").write_text("countertoken:\n  gpu: {tokens: 2}\n")
    assert errors_of(path) == [
        "local[0].tokens.gpu: one job takes 3 'gpu' tokens but the counter has only 2: "
        "such a job would wait forever"
    ]


def test_connector_declared_twice(tmp_path: Path) -> None:
    text = "connectors:\n  ssh:\n    c: {hostname: a}\n    local: {hostname: b}\nlocal: []\n"
    path = write(tmp_path, text)
    (tmp_path / "connectors.yaml").write_text("ssh:\n  c: {hostname: x}\n")
    assert errors_of(path) == [
        "connectors.ssh.c: connector 'c' is declared twice (connectors.yaml and connectors:)",
        "connectors.ssh.local: 'local' is the built-in connector and cannot be redefined",
    ]


NAME = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.]{0,11}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(partition=NAME, host=NAME, feature=NAME, qos=NAME, tag=NAME)
def test_unquoted_names_are_read_as_written(
    tmp_path_factory: pytest.TempPathFactory,
    partition: str,
    host: str,
    feature: str,
    qos: str,
    tag: str,
) -> None:
    text = (
        f"slurm:\n  - id: {tag}\n    tags: [{tag}]\n    qos:\n      {qos}: {{}}\n"
        f"    partitions:\n      {partition}:\n        qos: [{qos}]\n        accounts: [{host}]\n"
        f"        nodes: [{{hosts: [{host}], features: [{feature}]}}]\n"
    )
    path = tmp_path_factory.mktemp("names") / "launchers.yaml"
    path.write_text(text)
    (launcher,) = load_config(path).launchers
    assert isinstance(launcher, SlurmLauncherConfig)
    assert (launcher.id, launcher.tags) == (tag, (tag,))
    assert launcher.qos[0].name == qos
    (found,) = launcher.partitions
    assert (found.name, found.qos, found.accounts) == (partition, (qos,), (host,))
    assert found.nodes[0].hosts == (host,)
    assert found.nodes[0].features == (feature,)


# ---- the cyclic collector is paused while loading, and left as it was -----------------------


@pytest.mark.parametrize("enabled", [True, False], ids=["collector-on", "collector-off"])
@pytest.mark.parametrize(
    "name",
    ["docs_example/launchers.yaml", "broken/duplicate_keys/launchers.yaml"],
    ids=["good", "bad"],
)
def test_loading_leaves_the_garbage_collector_as_it_was(enabled: bool, name: str) -> None:
    import gc

    path = FIXTURES / name
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        launcher_file, _problems = check_config(path)
        assert gc.isenabled() is enabled
        assert (launcher_file is None) is ("broken" in name)
    finally:
        gc.enable() if was else gc.disable()


# --- one "closest written ancestor" for the model and the linter (issue 23, §6)

_WRITTEN = {"slurm": (1, 1), "slurm[0]": (2, 3), "slurm[0].partitions": (4, 5)}


@pytest.mark.parametrize(
    ("path", "expected", "lint_expected"),
    [
        ("slurm[0].partitions", (4, 5), (4, 5)),
        ("slurm[0].partitions.gpu.nodes[3]", (4, 5), (4, 5)),
        ("slurm[0].qos", (2, 3), (2, 3)),
        ("slurm[7]", (1, 1), (1, 1)),
        ("local[0].id", None, (1, 1)),
        ("", None, (1, 1)),
    ],
)
def test_model_and_lint_find_the_same_closest_written_ancestor(
    path: str, expected: tuple[int, int] | None, lint_expected: tuple[int, int]
) -> None:
    assert written_position(_WRITTEN, path) == expected
    assert LauncherFile("f.yaml", positions=_WRITTEN).position(path) == expected
    assert Linter("f.yaml", _WRITTEN).at(path) == lint_expected
