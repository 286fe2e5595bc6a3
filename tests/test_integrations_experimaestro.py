"""experimaestro's own ``find_launcher`` asking the one-line ``launchers.py`` of a configuration
directory (reqsolve.integrations.experimaestro) answers what reqsolve answers, in
experimaestro's objects, for every case of the conformance corpus its parser accepts."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("experimaestro")

from experimaestro.connectors.local import LocalConnector
from experimaestro.launcherfinder.parser import parse as xpm_parse
from experimaestro.launcherfinder.registry import (
    LauncherNotFoundError as XpmNotFound,
)
from experimaestro.launcherfinder.registry import LauncherRegistry
from experimaestro.launcherfinder.registry import find_launcher as xpm_find_launcher
from experimaestro.launcherfinder.specs import cpu, cuda_gpu, duration, gpu, mps_gpu
from experimaestro.launchers.direct import DirectLauncher
from experimaestro.launchers.slurm import SlurmLauncher
from experimaestro.tokens import CounterTokenDependency

from reqsolve import cuda_gpu as rs_cuda_gpu
from reqsolve.errors import InvalidValue, LauncherNotFoundError, ReqsolveError
from reqsolve.finder import find_match
from reqsolve.integrations import experimaestro as integration
from reqsolve.parser import parse
from reqsolve.requirement import Accelerator, Alternative, Cpu, Requirement
from tests.cli_run import cli
from tests.paths import ROOT
from tests.reference import G

CONFORMANCE = ROOT / "tests" / "conformance"
FIXTURE = ROOT / "fixtures" / "experimaestro"
ONE_LINE = "from reqsolve.integrations.experimaestro import find_launcher\n"


@pytest.fixture(autouse=True)
def xpm_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """experimaestro keeps its configuration directory, registries and local connector (whose
    folder holds the token files) in class attributes: each test starts from fresh ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XPM_WORKDIR", str(tmp_path_factory.mktemp("xpm-workdir")))
        patch.setattr(LocalConnector, "INSTANCE", None)
        patch.setattr(LauncherRegistry, "INSTANCES", {})
        patch.setattr(LauncherRegistry, "CURRENT_CONFIG_DIR", None)
        yield


def config_dir(tmp_path: Path, source: Path) -> Path:
    """A configuration directory as an experimaestro user has it: their launchers.yaml (with
    tokens.yaml/connectors.yaml) and the one-line launchers.py."""
    directory = tmp_path / "experimaestro"
    directory.mkdir()
    for name in ("launchers.yaml", "tokens.yaml", "connectors.yaml"):
        if (source / name).is_file():
            shutil.copy(source / name, directory / name)
    (directory / "launchers.py").write_text(ONE_LINE)
    LauncherRegistry.set_config_dir(directory)
    return directory


# --- the corpus, through experimaestro's own find_launcher


def accepted_by_experimaestro(text: str) -> bool:
    try:
        xpm_parse(text)
    except Exception:  # arpeggio's NoMatch, humanfriendly's errors, ValueError: not accepted
        return False
    return True


@cache
def corpus() -> tuple[list[Any], int]:
    """Cases experimaestro's parser accepts (as params), and the number of cases in all."""
    cases, total = [], 0
    for path in sorted((CONFORMANCE / "expected").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            total += 1
            data = json.loads(line)
            if accepted_by_experimaestro(data["requirement"]):
                cases.append(pytest.param(path.stem, data, id=f"{path.stem}:{number}"))
    return cases, total


def test_experimaestro_accepts_most_of_the_corpus() -> None:
    cases, total = corpus()
    # the corpus is mostly written in experimaestro's syntax; the rest uses reqsolve's own
    # (model=, seconds, decimals, GB...) or is invalid on purpose
    assert total >= 200
    assert len(cases) >= total // 2, (len(cases), total)


# experimaestro's parser reads `cuda(...)*0` as ONE GPU (HostSimpleRequirement.__mul__ adds
# count-1 copies); reqsolve's own syntax refuses it. The only corpus cases whose meaning differs.
READ_DIFFERENTLY = {"cuda(mem=4G)*0"}


@pytest.mark.parametrize(("config", "data"), corpus()[0])
def test_corpus_case_through_experimaestro(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          config: str, data: dict[str, Any]) -> None:
    monkeypatch.setenv("REQSOLVE_OFFLINE", "1")  # as the conformance test: the file alone
    source = CONFORMANCE / "configs" / config
    config_dir(tmp_path, source)
    text, tags, expected = data["requirement"], data["tags"], data["answer"]
    try:
        wanted = integration.to_requirement(text)
    except ReqsolveError:  # refused, as reqsolve refuses it in its own syntax
        assert "error" in expected
        with pytest.raises(ReqsolveError):
            xpm_find_launcher(text, tags=set(tags))
        return
    if text in READ_DIFFERENTLY:
        assert "error" in expected
    else:  # experimaestro's reading of the text is reqsolve's
        assert wanted == parse(text)
    try:
        match, _ = find_match(wanted, tags=tags, config=str(source / "launchers.yaml"),
                              offline=True)
    except LauncherNotFoundError:  # reqsolve's answer (the corpus is test_conformance's)
        with pytest.raises(XpmNotFound):
            xpm_find_launcher(text, tags=set(tags))
        return
    try:
        launcher = xpm_find_launcher(text, tags=set(tags))
    except InvalidValue as exc:
        if "cannot say --gres" in str(exc):  # experimaestro's options have no --gres
            assert match.options is not None and match.options.gpu_option == "gres"
            return
        # a launcher whose connector experimaestro cannot reach
        assert "unknown connector" in str(exc)
        assert match.config.connector != "local"
        return
    if match.options is not None and match.options.gpu_option == "gres":
        pytest.fail(f"experimaestro took a --gres answer: {launcher!r}")
    if match.options is None:
        assert type(launcher) is DirectLauncher
        assert isinstance(launcher.connector, LocalConnector)
        assert len(launcher.submit_listeners) == len(match.config.tokens)
        return
    assert type(launcher) is SlurmLauncher
    mine = match.options.as_json()
    assert mine.pop("gpu_option") is None  # the --gres answers were refused above
    gpu_type, gpu_types = mine.pop("gpu_type"), mine.pop("gpu_types")
    if gpu_type is not None:  # a typed request: experimaestro's --gpus-per-node=type:N
        mine["gpus_per_node"] = f"{gpu_type}:{mine['gpus_per_node']}"
    if gpu_types is not None:  # a typed list: --gpus-per-node=a100:1,v100:1
        mine["gpus_per_node"] = ",".join(f"{name}:{n}" for name, n in gpu_types)
    theirs = dict(vars(launcher.options))
    assert {key: theirs.pop(key) for key in mine} == mine
    # experimaestro's fields reqsolve has not (since ntasks_per_node, issue 21, there are none)
    assert set(theirs.values()) <= {None}
    assert launcher.options.args() == [
        f"--{key.replace('_', '-')}={value}"
        for key, value in vars(launcher.options).items() if value is not None
    ]
    assert str(launcher.binpath) == match.config.path


# --- the conversion of experimaestro's requirement objects

CONVERTED = [
    ("duration=4 days & cuda(mem=4G) * 2 & cpu(mem=400M, cores=4)",
     [Alternative(4 * 86400, Cpu(4, 400 * 10**6), (Accelerator(4 * G),) * 2)]),
    ("cuda(mem=24GiB) | cpu(cores=2)",
     [Alternative(gpus=(Accelerator(24 * 2**30),)), Alternative(cpu=Cpu(2))]),
    ("gpu(mem=8G)*2 & duration=90m", [Alternative(90 * 60, None, (Accelerator(8 * G),) * 2)]),
    ("duration=3h", [Alternative(3 * 3600)]),
    ("mps(mem=8G) | cuda(mem=8G)", [Alternative(gpus=(Accelerator(8 * G),))]),
]


@pytest.mark.parametrize(("text", "alternatives"), CONVERTED, ids=[c[0] for c in CONVERTED])
def test_strings_are_read_by_experimaestro_and_converted(
        text: str, alternatives: list[Alternative]) -> None:
    assert integration.to_requirement(text) == Requirement(tuple(alternatives))
    assert integration.to_requirement(xpm_parse(text)) == Requirement(tuple(alternatives))


BUILT = [
    (lambda: cuda_gpu(mem="14G") * 2 & cpu(cores=4),
     Alternative(cpu=Cpu(4), gpus=(Accelerator(14 * G),) * 2)),
    (lambda: duration("2h") & gpu(mem="4GiB"), Alternative(7200, None, (Accelerator(4 * 2**30),))),
    (lambda: duration(600) & cpu(mem="2G"), Alternative(600, Cpu(1, 2 * G))),
    (lambda: cpu(), Alternative(cpu=Cpu(1))),
    (lambda: (cuda_gpu(mem="14G") & duration("1h")).multiply_duration(1.5),
     Alternative(5400, None, (Accelerator(14 * G),))),
]


@pytest.mark.parametrize(("build", "alternative"), BUILT,
                         ids=["gpus-cpu", "gpu", "mem", "cpu", "x1.5"])
def test_builders_are_converted(build: Any, alternative: Alternative) -> None:
    assert integration.to_requirement(build()) == Requirement((alternative,))


def test_union_of_builders_keeps_the_order() -> None:
    requirement = cuda_gpu(mem="14G") | cpu(cores=2)
    assert integration.to_requirement(requirement).alternatives == (
        Alternative(gpus=(Accelerator(14 * G),)), Alternative(cpu=Cpu(2)))


@pytest.mark.parametrize("value", [mps_gpu(mem="8G"), "mps(mem=8G)"], ids=["builder", "string"])
def test_mps_alone_is_unsupported(value: Any) -> None:
    with pytest.raises(integration.Unsupported, match="Apple GPU"):
        integration.to_requirement(value)


@pytest.mark.parametrize("value", [42, None, object()], ids=["int", "none", "object"])
def test_other_values_are_refused(value: Any) -> None:
    with pytest.raises(InvalidValue, match="not an experimaestro requirement"):
        integration.to_requirement(value)


# --- answers, in experimaestro's objects


def test_slurm_answer_builds_experimaestro_options(tmp_path: Path) -> None:
    config_dir(tmp_path, FIXTURE)
    text = "duration=1 days & cuda(mem=24G)*2 & cpu(cores=4, mem=32G)"
    launcher = xpm_find_launcher(text)
    assert type(launcher) is SlurmLauncher
    assert launcher.options.args() == [
        "--nodes=1", "--time=1-00:00:00", "--partition=gpu",
        "--constraint=(GPU2&GPUM24G)|(GPU3&GPUM48G)", "--mem=30518M", "--cpus-per-task=4",
        "--gpus-per-node=2",
    ]


def test_builders_through_our_find_launcher(tmp_path: Path) -> None:
    """experimaestro 2.7's registry cannot take builders (RequirementUnion.add reads
    ``.requirements`` of a HostSimpleRequirement); launchers.py's function itself can."""
    config_dir(tmp_path, FIXTURE)
    launcher = integration.find_launcher(cuda_gpu(mem="40G") * 3, {"slurm"})
    assert type(launcher) is SlurmLauncher
    assert (launcher.options.partition, launcher.options.gpus_per_node) == ("gpu", 3)


def test_local_answer_takes_experimaestro_tokens(tmp_path: Path) -> None:
    config_dir(tmp_path, FIXTURE)
    launcher = xpm_find_launcher("duration=4h & cpu(cores=2)")
    assert type(launcher) is DirectLauncher
    job = SimpleNamespace(dependencies=set())
    launcher.onSubmit(job)
    (dependency,) = job.dependencies
    assert isinstance(dependency, CounterTokenDependency)
    assert (dependency.token.name, dependency.token.total, dependency.count) == ("localjobs", 2, 1)


def test_nothing_matches_logs_reasons(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config_dir(tmp_path, FIXTURE)
    with caplog.at_level(logging.INFO, logger="xpm"), pytest.raises(XpmNotFound):
        xpm_find_launcher("cuda(mem=40G)*4")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "xpm.reqsolve")
    assert "no launcher of" in logged
    assert "cluster/gpu[0]: no assignment of 4 GPU(s) to 3 host GPU(s)" in logged
    assert "local-0: no assignment of 4 GPU(s) to 0 host GPU(s)" in logged


def test_tags_restrict(tmp_path: Path) -> None:
    config_dir(tmp_path, FIXTURE)
    assert type(xpm_find_launcher("cpu(cores=2)")) is DirectLauncher
    assert type(xpm_find_launcher("cpu(cores=2)", tags={"slurm"})) is SlurmLauncher


def test_second_alternative_answers(tmp_path: Path) -> None:
    config_dir(tmp_path, FIXTURE)
    launcher = xpm_find_launcher("cuda(mem=80G) | cpu(cores=16) & duration=3 days")
    assert (launcher.options.partition, launcher.options.cpus_per_task) == ("cpu", 16)


def test_no_launchers_yaml_is_no_launcher(tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    directory = config_dir(tmp_path, tmp_path)  # the launchers.py alone
    with caplog.at_level(logging.WARNING, logger="xpm"), pytest.raises(XpmNotFound):
        xpm_find_launcher("cpu(cores=2)")
    assert f"no launcher file {directory / 'launchers.yaml'}" in caplog.text


def test_broken_launchers_yaml_raises_where(tmp_path: Path) -> None:
    directory = config_dir(tmp_path, FIXTURE)
    (directory / "launchers.yaml").write_text("local:\n  - cpu: {cores: -2}\n")
    with pytest.raises(ReqsolveError, match=r"launchers.yaml:2:"):
        xpm_find_launcher("cpu(cores=2)")


def test_ssh_connector_needs_experimaestro_ssh(tmp_path: Path) -> None:
    directory = config_dir(tmp_path, FIXTURE)
    text = (FIXTURE / "launchers.yaml").read_text().replace(
        "    connector: local\n    tags: [slurm]", "    connector: front\n    tags: [slurm]")
    # inline: experimaestro 2.7's own registry fails on a connectors.yaml holding ssh entries
    text += "\nconnectors:\n  ssh:\n    front: {hostname: front.example.org, user: me}\n"
    (directory / "launchers.yaml").write_text(text)
    try:
        import fabric  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidValue, match=r"experimaestro\[ssh\]"):
            xpm_find_launcher("cuda(mem=40G)*3")
    else:  # pragma: no cover - with experimaestro[ssh]
        launcher = xpm_find_launcher("cuda(mem=40G)*3")
        assert launcher.connector.connection.host == "front.example.org"
        assert launcher.connector.connection.user == "me"


def test_finder_on_an_explicit_file() -> None:
    finder = integration.Finder(FIXTURE / "launchers.yaml", offline=True)
    assert type(finder("cuda(mem=40G)*3", {"slurm"})) is SlurmLauncher
    assert finder("cuda(mem=40G)*4") is None


def test_reqsolve_itself_reads_the_experimaestro_directory(tmp_path: Path) -> None:
    """``reqsolve find --config DIR`` asks the one-line launchers.py first: it passes reqsolve's
    own requirement on, and the launchers.yaml beside it answers."""
    directory = config_dir(tmp_path, FIXTURE)
    assert integration.find_launcher(Requirement((Alternative(),))) is None
    assert integration.find_launcher(rs_cuda_gpu(mem="40G") * 3) is None
    code, out, err = cli("find", "--config", str(directory), "cuda(mem=40G)*3")
    assert code == 0, err
    assert out.split() == [
        "--partition=gpu", "--constraint=GPU3&GPUM48G", "--nodes=1", "--gpus-per-node=3",
        "--time=2-00:00:00"]  # no duration asked: the partition's limit


# --- a DirectLauncher's jobs see their GPUs (issue 20, item 1)

MIXED_FILE = (
    "local:\n  - id: box\n    gpus:\n"
    "      - {model: V100, count: 2}\n      - {model: RTX4090, count: 2}\n"
    "      - {model: V100, count: 2}\n      - {model: RTX4090, count: 2}\n"
)


@pytest.mark.parametrize(
    ("expression", "models"),
    [
        ("cuda(mem=30G)", ["Tesla V100-SXM2-32GB"]),
        ("cuda(mem=30G)*2 & cpu(cores=1)", ["Tesla V100-SXM2-32GB"] * 2),
        ("cpu(cores=1)", []),
    ],
)
def test_direct_launcher_jobs_see_the_matched_gpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    expression: str, models: list[str],
) -> None:
    """experimaestro's DirectLauncher ran its job with every GPU visible: the job's
    environment now names the GPUs the matching chose, by UUID; a CPU job sees none; the log
    says that experimaestro's jobs hold no lock."""
    from reqsolve.hostinfo import machine_probe, parse_nvidia_smi_devices
    from tests.fake_nvidia_smi import MIXED_X8, install

    monkeypatch.setenv("REQSOLVE_NVIDIA_SMI", str(install(tmp_path, MIXED_X8) / "nvidia-smi"))
    machine_probe.cache_clear()
    try:
        directory = tmp_path / "xpm"
        directory.mkdir()
        (directory / "launchers.yaml").write_text(MIXED_FILE)
        with caplog.at_level(logging.INFO, logger="xpm"):
            launcher = integration.Finder(directory)(xpm_parse(expression))
    finally:
        machine_probe.cache_clear()
    assert type(launcher) is DirectLauncher
    found = {g.uuid: g.name for g in parse_nvidia_smi_devices(MIXED_X8.read_text())}
    visible = launcher.environ["CUDA_VISIBLE_DEVICES"]
    assert [found[u] for u in visible.split(",") if u] == models
    if models:
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "reqsolve holds no lock on those GPUs" in logged
