"""The public find API (finder.py): find_launcher / find_match on a launcher file or a model,
their answers and reasons, and this machine as the launcher when no file exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from reqsolve.answers.options import SlurmOptions
from reqsolve.config.model import LocalGpu
from reqsolve.errors import LauncherNotFoundError
from reqsolve.finder import find_launcher, find_match
from reqsolve.launchers import LocalLauncher, SlurmLauncher
from reqsolve.registry import ConfigSpec
from reqsolve.requirement import cpu, cuda_gpu, duration
from tests.paths import DOCS_EXAMPLE, FIXTURES
from tests.reference import G, conf, group, launcher_file, local, partition, slurm

CLUSTER = launcher_file(
    local("laptop", weight=2, tokens=(("gpu", 1),), gpus=(LocalGpu("T4", 1, 16 * G),)),
    slurm(
        "cluster",
        partition("gpu", group("g1", features=("A100",), configuration=conf(gpus=8,
                                                                              gpu_memory=80 * G))),
        path="/opt/slurm/bin",
        weight=1,
        tags=("slurm",),
    ),
)


def test_find_launcher_returns_a_slurm_launcher_with_options() -> None:
    launcher = find_launcher(cuda_gpu(mem="40G") * 2 & duration("4 days"), config=CLUSTER)
    assert isinstance(launcher, SlurmLauncher)
    assert launcher.binpath == "/opt/slurm/bin"
    assert launcher.options == SlurmOptions(
        partition="gpu", constraint="A100", gpus_per_node=2, time="4-00:00:00", nodes=1
    )
    changed = launcher.config(gpus_per_node=1)
    assert changed.options is not None and changed.options.gpus_per_node == 1
    assert launcher.options.gpus_per_node == 2  # a copy, the original is unchanged
    assert changed.config(binpath="/usr/local/bin").binpath == "/usr/local/bin"


def test_find_launcher_local_carries_tokens() -> None:
    launcher = find_launcher("cuda(mem=16G)", config=CLUSTER)
    assert launcher == LocalLauncher(id="laptop", tokens={"gpu": 1}, connector="local")


def test_find_match_says_which_alternative() -> None:
    match, launcher = find_match(
        "cuda(mem=100G) | cuda(mem=40G)", config=CLUSTER, tags=("slurm",)
    )
    assert (match.alternative_index, str(match.requirement)) == (1, "cuda(mem=40GB)")
    assert isinstance(launcher, SlurmLauncher)


def test_not_found_has_reasons() -> None:
    with pytest.raises(LauncherNotFoundError) as error:
        find_launcher("cuda(mem=100G)", config=CLUSTER)
    assert [r.launcher for r in error.value.reasons] == ["laptop", "cluster"]
    assert "closest" in str(error.value)


def test_seed_example_from_its_file() -> None:
    launcher = find_launcher(
        "duration=4 days & cuda(mem=40G)*2 & cpu(mem=400M, cores=4)",
        config=DOCS_EXAMPLE,
        tags=("slurm",),
    )
    assert isinstance(launcher, SlurmLauncher)
    assert launcher.options is not None
    assert (launcher.options.partition, launcher.options.qos) == ("gpu_p4", "qos_gpu-t4")


def test_no_file_anywhere_means_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    launcher = find_launcher("cpu(cores=1)")
    assert isinstance(launcher, LocalLauncher) and launcher.id == "local"
    with pytest.raises(LauncherNotFoundError):  # checked like any other launcher
        find_launcher("cpu(cores=100000)")


def test_cpu_term_and_builders_agree() -> None:
    assert find_launcher(cpu(cores=1), config=CLUSTER) == find_launcher(
        "cpu(cores=1)", config=CLUSTER
    )


@pytest.mark.parametrize("tags", ["slurm", ["slurm"], ("slurm",), {"slurm"}])
def test_a_string_is_one_tag(tags: object) -> None:
    """``tags="slurm"`` is the tag slurm, not the tags s, l, u, r, m."""
    launcher = find_launcher("cpu(cores=1)", config=str(DOCS_EXAMPLE), offline=True, tags=tags)  # type: ignore[arg-type]
    assert isinstance(launcher, SlurmLauncher)


@pytest.mark.parametrize(
    ("config", "expression", "without", "with_slurm_only"),
    [
        # a model whose local launcher ranks first: slurm_only passes it over
        (CLUSTER, "cuda(mem=16G)", "laptop", "cluster"),
        # the bundled file: the local launchers (weights 5 and 4) before the Slurm ones
        (str(DOCS_EXAMPLE), "cpu(cores=1)", "local-0", "manual"),
        # a configuration directory: a local launcher of its launchers.py is passed over too
        (str(FIXTURES / "python" / "with_yaml"), "cpu(cores=1)", "workstation", "cluster"),
    ],
)
def test_slurm_only_leaves_local_launchers_out(
    config: ConfigSpec, expression: str, without: str, with_slurm_only: str
) -> None:
    """``slurm_only=True`` is the command line's ``--slurm-only`` (issue 20, item 12)."""
    found = find_launcher(expression, config=config, offline=True)
    assert (found.type, found.id) == ("local", without)
    launcher = find_launcher(expression, config=config, offline=True, slurm_only=True)
    assert isinstance(launcher, SlurmLauncher) and launcher.id == with_slurm_only
    assert launcher.options.args()  # typed SlurmOptions: no None to rule out first
    match, same = find_match(expression, config=config, offline=True, slurm_only=True)
    assert same == launcher and match.options == launcher.options


def test_slurm_only_with_no_slurm_launcher_says_so() -> None:
    with pytest.raises(LauncherNotFoundError, match="slurm-only"):
        find_launcher("cpu(cores=1)", config=launcher_file(local("laptop")), slurm_only=True)
