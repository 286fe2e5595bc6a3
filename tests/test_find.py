"""The public find API, the registry (load once, reload on change, thread-safe), this machine
as the default launcher, and the ``find`` / ``explain`` commands in-process and as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reqsolve import registry as registry_module
from reqsolve.config.model import LocalGpu, SlurmLauncherConfig
from reqsolve.errors import LauncherNotFoundError, SlurmQueryError
from reqsolve.finder import find_launcher, find_match
from reqsolve.hostinfo import parse_nvidia_smi, this_machine, total_memory
from reqsolve.launchers import LocalLauncher, SlurmLauncher
from reqsolve.registry import Registry
from reqsolve.requirement import cpu, cuda_gpu, duration
from reqsolve.slurm.options import SlurmOptions
from tests.cli_run import cli
from tests.reference import G, conf, group, launcher_file, local, partition, slurm

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "docs_example" / "launchers.yaml"
SEED_SPEC = "duration=4 days & cuda(mem=40G)*2 & cpu(mem=400M, cores=4)"

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
    launcher = find_launcher(SEED_SPEC, config=SEED, tags=("slurm",))
    assert isinstance(launcher, SlurmLauncher)
    assert launcher.options is not None
    assert (launcher.options.partition, launcher.options.qos) == ("gpu_p4", "qos_gpu-t4")


def write(path: Path, cores: int) -> None:
    """Replace the file atomically, as editors and config managers do (a reader of a file being
    truncated and rewritten in place would see it empty: that is the writer's race)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"local:\n  - id: box\n    cpu: {{cores: {cores}}}\n")
    os.replace(temporary, path)


def test_registry_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    write(path, 4)
    registry = Registry(path)
    first = registry.state()
    assert registry.state() is first  # loaded once
    with pytest.raises(LauncherNotFoundError):
        registry.find("cpu(cores=16)")
    write(path, 16)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert registry.find("cpu(cores=16)").launcher.id == "box"
    assert registry.state() is not first


def test_registry_never_serves_half_loaded_state(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    write(path, 4)
    registry = Registry(path)
    errors: list[BaseException] = []
    stop = threading.Event()

    def query() -> None:
        while not stop.is_set():
            try:
                registry.find("cpu(cores=2)")
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=query) for _ in range(4)]
    for thread in threads:
        thread.start()
    for cores in range(4, 40):
        write(path, cores)
        os.utime(path, ns=(cores, cores))
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []


def test_query_slurm_discovery_failure_skips_the_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queried = slurm(
        "auto", partition("p", group("h")), query_slurm=True, weight=5
    )
    file = launcher_file(queried, local("fallback"))

    def failing(config: SlurmLauncherConfig, _: object) -> SlurmLauncherConfig:
        raise SlurmQueryError(["sinfo", "--json"], "command not found", returncode=127)

    monkeypatch.setattr(registry_module, "_discovery_hook", lambda: failing)
    registry = Registry(file)
    match = registry.find("cpu(cores=1)")
    assert match.launcher.id == "fallback"
    with pytest.raises(LauncherNotFoundError) as error:
        registry.find("cpu(cores=1)", tags=("nothing",))
    assert error.value.reasons == ()
    # offline: the discovery hook is never called, the file's partitions are used
    assert registry.find("cpu(cores=1)", offline=True).launcher.id == "auto"


def test_query_slurm_discovery_result_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    queried = slurm("auto", query_slurm=True)

    def discover(config: SlurmLauncherConfig, _: object) -> SlurmLauncherConfig:
        return slurm("auto", partition("found", group("n1", features=("F",))))

    monkeypatch.setattr(registry_module, "_discovery_hook", lambda: discover)
    options = Registry(launcher_file(queried)).find("cpu(cores=1)").options
    assert options is not None and options.partition == "found"


# --- this machine


def test_no_file_anywhere_means_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQSOLVE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    launcher = find_launcher("cpu(cores=1)")
    assert isinstance(launcher, LocalLauncher) and launcher.id == "local"
    with pytest.raises(LauncherNotFoundError):  # checked like any other launcher
        find_launcher("cpu(cores=100000)")


def test_this_machine() -> None:
    machine = this_machine()
    assert machine.cpu.cores == os.cpu_count()
    assert machine.cpu.memory is None or machine.cpu.memory > 0


def test_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16318480 kB\nMemFree:  1 kB\n")
    assert total_memory(meminfo) == 16318480 * 1024
    assert total_memory(tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NVIDIA A100-SXM4-40GB, 40960 MiB\n", [("NVIDIA A100-SXM4-40GB", 40960 * 2**20)]),
        (
            "Tesla T4, 15360 MiB\nTesla T4, 15360 MiB\n",
            [("Tesla T4", 15360 * 2**20)] * 2,
        ),
        ("garbage\nNVIDIA X, [N/A]\n", []),
    ],
    ids=["a100", "two", "garbled"],
)
def test_parse_nvidia_smi(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(g.model, g.memory) for g in parse_nvidia_smi(text)] == expected


# --- the commands


def test_find_json_is_section_7() -> None:
    code, out, _ = cli("find", "--config", str(SEED), "--offline", "--format", "json", SEED_SPEC)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["launcher", "alternative", "options", "config"]
    assert data["config"] == {"files": [str(SEED)], "this_machine": False}
    assert data["launcher"] == {"id": "manual", "type": "slurm"}
    assert list(data["options"]) == [
        "partition", "constraint", "gpus_per_node", "time", "mem", "cpus_per_task",
        "qos", "account", "exclude", "nodelist", "nodes",
    ]
    assert data["options"]["mem"] == "382M"


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("args", "--partition=gpu_p4"),
        ("sbatch", "#SBATCH --partition=gpu_p4"),
        ("submitit", '"slurm_partition": "gpu_p4"'),
    ],
)
def test_find_renderings(fmt: str, needle: str) -> None:
    code, out, _ = cli("find", "--config", str(SEED), "--offline", "--format", fmt, SEED_SPEC)
    assert code == 0
    assert needle in out


@pytest.mark.parametrize(
    ("expression", "code"),
    [("cuda(mem=1000G)", 1), ("cuda(mem=4G", 2), ("duration=4", 2)],
    ids=["no-match", "syntax", "bare-duration"],
)
def test_find_exit_codes(expression: str, code: int) -> None:
    got, out, err = cli("find", "--config", str(SEED), "--offline", "--format", "json",
                        expression)
    assert got == code
    if code == 1:
        data = json.loads(out)
        assert data["launcher"] is None and data["reasons"]
        assert {"alternative", "launcher", "reason", "detail"} <= set(data["reasons"][0])
    else:
        assert out == "" and err


def test_find_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "launchers.yaml"
    bad.write_text("local:\n  - cpus: {cores: 4}\n")
    code, _, err = cli("find", "--config", str(bad), "--offline", "cpu(cores=1)")
    assert code == 2 and "launchers.yaml" in err


def test_explain_table_and_json() -> None:
    spec = "cuda(mem=24G)*2 & duration=4 days"
    code, out, _ = cli("explain", "--config", str(SEED), "--offline", spec)
    assert code == 0
    assert "min_mem_ratio 0.7: this 48G GPU needs ≥ 33.6G, asked 24G" in out
    assert "QoS qos_gpu-t3 max 20h < 4d asked" in out
    assert "chosen" in out
    code, out, _ = cli("explain", "--config", str(SEED), "--offline", "--format", "json", spec)
    data = json.loads(out)
    verdicts = {(r["launcher"], r["partition"], r["qos"]): r["verdict"] for r in data["rows"]}
    assert verdicts[("manual", "smallgpus", None)] == "chosen"
    assert verdicts[("manual", "gpu_p4", "qos_gpu-t3")] == "fails"
    assert data["answer"]["launcher"]["id"] == "manual"


def test_find_as_a_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reqsolve", "find", "--config", str(SEED), "--offline",
         "--format", "json", SEED_SPEC],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["options"]["partition"] == "gpu_p4"


def test_cpu_term_and_builders_agree() -> None:
    assert find_launcher(cpu(cores=1), config=CLUSTER) == find_launcher(
        "cpu(cores=1)", config=CLUSTER
    )


@pytest.mark.parametrize("fmt", ["args", "shell", "sbatch", "submitit"])
def test_local_answer_passes_no_slurm_option(fmt: str) -> None:
    """Exit 0 with these formats means "here are Slurm options": a local answer exits 3,
    prints nothing on stdout and names the launcher on stderr (docs/cli.md)."""
    code, out, err = cli("find", "--config", str(SEED), "--offline", "--format", fmt,
                         "cpu(cores=1)")
    assert (code, out) == (3, "")
    assert "the answer is the local launcher local-0" in err
    assert "--slurm-only" in err
    # --slurm-only leaves the local launchers out: the answer is Slurm options, exit 0
    code, out, err = cli("find", "--config", str(SEED), "--offline", "--slurm-only",
                         "--format", fmt, "cpu(cores=1)")
    assert code == 0, err
    assert out.strip()


def test_local_answer_in_json_is_exit_0_and_says_local() -> None:
    code, out, _ = cli("find", "--config", str(SEED), "--offline", "--format", "json",
                       "cpu(cores=1)")
    assert code == 0
    assert json.loads(out)["launcher"]["type"] == "local"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--slurm-only"], "closest: manual/"),  # Slurm candidates tried, no local one
        (["--tags", "nope"], "none has the tag(s) nope (tags in the file: slurm)"),
        (["--slurm-only", "--tags", "nope"], "no Slurm launcher is eligible"),
    ],
)
def test_nothing_eligible_says_why(argv: list[str], needle: str) -> None:
    code, _, err = cli("find", "--config", str(SEED), "--offline", *argv, "cuda(mem=1T)")
    assert code == 1
    assert needle in err


@pytest.mark.parametrize("tags", ["slurm", ["slurm"], ("slurm",), {"slurm"}])
def test_a_string_is_one_tag(tags: object) -> None:
    """``tags="slurm"`` is the tag slurm, not the tags s, l, u, r, m."""
    launcher = find_launcher("cpu(cores=1)", config=str(SEED), offline=True, tags=tags)  # type: ignore[arg-type]
    assert isinstance(launcher, SlurmLauncher)


def test_offline_on_a_discovery_only_file_says_discovery_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text("slurm:\n  - id: auto\n    connector: local\n    query_slurm: true\n")
    code, _, err = cli("find", "--config", str(path), "--offline", "cpu()")
    assert code == 1
    assert "auto: it needs Slurm discovery (query_slurm: true) and --offline" in err
    code, out, _ = cli("explain", "--config", str(path), "--offline", "cpu()")
    assert "it needs Slurm discovery" in out


@pytest.mark.parametrize(
    "expression",
    [
        "cuda(mem=29GiB)",
        "cuda(mem=20G)*2 & duration=2h",
        "cpu(cores=4, mem=400M) & cuda(mem=20G)",
    ],
)
def test_shell_format_is_args_quoted_for_a_shell(expression: str) -> None:
    """--format shell is what --format args says, quoted so that pasting it into a shell gives
    the same words (an unquoted ``&`` in --constraint would background the command)."""
    import shlex

    _, args, _ = cli("find", "--config", str(SEED), "--offline", "--slurm-only", expression)
    code, shell, _ = cli("find", "--config", str(SEED), "--offline", "--slurm-only",
                         "--format", "shell", expression)
    assert code == 0
    assert shlex.split(shell) == args.split()
    # a shell sees no operator in it: with punctuation_chars, a bare & or | is a token of its own
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=True)
    assert not {"&", "|", ";", "(", ")"} & set(lexer), shell
