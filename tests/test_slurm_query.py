"""Discovery through real commands: fake Slurm binaries (shell scripts) printing real outputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    LauncherFile,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
)
from reqsolve.errors import SlurmQueryError
from reqsolve.slurm import convert, query, readers
from tests.commands import write_commands
from tests.paths import SLURM_DEFAULT
from tests.reference import MIB

HOUR, DAY = 3600, 86400


def fake_slurm(
    tmp_path: Path,
    *,
    version: str = "slurm 22.05.8",
    nodes: str = "cat {f}/sinfo.json",
    partitions: str = "cat {f}/scontrol_show_partition_oneliner.txt",
    qos: str = "cat {f}/sacctmgr_show_qos_parsable.txt",
    # the lab's root, renamed to whoever runs the tests: every account and QoS of the lab
    assoc: str = 'sed "s/|root|/|$(id -un)|/" {f}/sacctmgr_show_assoc_user_root.txt',
) -> Path:
    """A bin directory whose scontrol/sinfo/sacctmgr print captured outputs (calls logged)."""
    log = tmp_path / "calls.log"
    bodies = {
        "scontrol": f"""case "$*" in
  --version) echo '{version}';;
  "--oneliner show partition"|"show partition --json") {partitions};;
  "--oneliner show nodes"|"show nodes --json") {nodes};;
  *) echo "scontrol: unexpected $*" >&2; exit 2;;
esac""",
        "sinfo": f'[ "$*" = --json ] || exit 2\n{nodes}',
        "sacctmgr": f"""case "$*" in
  *" show assoc "*) {assoc};;
  *) {qos};;
esac""",
    }
    logged = {
        name: f'echo "{name} $*" >> {log}\n' + body.replace("{f}", str(SLURM_DEFAULT))
        for name, body in bodies.items()
    }
    return write_commands(tmp_path / "bin", **logged)


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query.clear_cache()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_default_disk_cache_under_xdg_cache_home(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    written = launcher(fake_slurm(tmp_path))
    query.discover(written, FILE)
    assert len(list((tmp_path / "xdg" / "reqsolve").glob("slurm-lab-*.json"))) == 1
    monkeypatch.setenv("REQSOLVE_NO_DISK_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other"))
    query.discover(written, FILE)
    assert not (tmp_path / "other").exists()


def launcher(bin_dir: Path, **changes: object) -> SlurmLauncherConfig:
    return replace(SlurmLauncherConfig(id="lab", path=str(bin_dir), query_slurm=True), **changes)


FILE = LauncherFile(path="/tmp/launchers.yaml")


def expected_from_fixtures() -> convert.Discovered:
    return convert.build(
        readers.read_nodes((SLURM_DEFAULT / "sinfo.json").read_text()),
        readers.read_partitions((SLURM_DEFAULT / "scontrol_show_partition.txt").read_text()),
        readers.read_qos((SLURM_DEFAULT / "sacctmgr_show_qos_parsable.txt").read_text()),
    )


def test_discovery_alone_equals_conversion(tmp_path: Path) -> None:
    bin_dir = fake_slurm(tmp_path)
    result = query.discover_details(launcher(bin_dir), FILE)
    expected = expected_from_fixtures()
    assert result.launcher.partitions == expected.partitions
    assert result.launcher.qos == expected.qos
    assert result.launcher.query_slurm
    assert [c[0].rsplit("/", 1)[1] for c in result.commands] == [
        "sinfo", "scontrol", "sacctmgr", "sacctmgr"]  # the QoS, then the user's associations
    assert calls(tmp_path)[0] == "scontrol --version"


def test_file_wins_field_by_field(tmp_path: Path) -> None:
    written = launcher(
        fake_slurm(tmp_path),
        qos=(Qos("qos_gpu-t3", priority=7), Qos("mine", max_duration=HOUR)),
        partitions=(
            Partition("cpu", disabled=True),
            Partition("gpu", configuration=Configuration(max_duration=2 * DAY), priority=3),
            Partition("ghost", nodes=(NodeGroup(count=2),)),
            Partition("a100", nodes=(NodeGroup(hosts=("a100-01",), features=("a100",)),),
                      accounts=("other",)),
        ),
    )
    merged = query.discover(written, FILE)
    parts = {p.name: p for p in merged.partitions}
    # Slurm's order (the file refines without moving), then the partitions only the file knows
    assert list(parts) == ["gpu", "small", "a100", "cpu", "heavy", "maint", "legacy", "ghost"]
    assert parts["cpu"].disabled and parts["cpu"].nodes  # disabled by the file, nodes from Slurm
    gpu = parts["gpu"].configuration
    assert gpu is not None
    assert gpu.max_duration == 2 * DAY  # the file
    assert gpu.cpu.mem_per_cpu == 3000 * MIB  # Slurm, not written in the file
    assert parts["gpu"].priority == 3
    assert parts["ghost"] == Partition("ghost", nodes=(NodeGroup(count=2),))
    assert parts["a100"].nodes == (NodeGroup(hosts=("a100-01",), features=("a100",)),)
    assert parts["a100"].accounts == ("other",)
    assert parts["a100"].qos == ("qos_gpu-dev", "qos_gpu-t3", "qos_gpu-t4")  # from Slurm
    assert parts["heavy"].disabled  # INACTIVE in Slurm
    qos = {q.name: q for q in merged.qos}
    assert [q.name for q in merged.qos][:2] == ["qos_gpu-t3", "mine"]
    # max_duration from Slurm (not written), priority from the file
    assert qos["qos_gpu-t3"] == Qos("qos_gpu-t3", max_duration=20 * HOUR, priority=7)
    # Slurm's QoS Priority is a scheduling weight, not a preference: not taken over
    assert qos["qos_gpu-dev"] == Qos("qos_gpu-dev", max_duration=2 * HOUR, priority=0)
    assert qos["qos_gpu-t4"].max_duration == 100 * HOUR


def test_answers_are_cached_for_ttl(tmp_path: Path) -> None:
    written = launcher(fake_slurm(tmp_path))
    now = [1000.0]
    first = query.discover_details(written, FILE, ttl=60, clock=lambda: now[0])
    count = len(calls(tmp_path))
    now[0] += 59
    second = query.discover_details(written, FILE, ttl=60, clock=lambda: now[0])
    assert second.cached and second.commands == () and len(calls(tmp_path)) == count
    assert second.launcher == first.launcher
    now[0] += 2
    third = query.discover_details(written, FILE, ttl=60, clock=lambda: now[0])
    assert not third.cached and len(calls(tmp_path)) == 2 * count


def test_disk_cache_survives_the_process_cache(tmp_path: Path) -> None:
    written = launcher(fake_slurm(tmp_path))
    cache = tmp_path / "cache"
    first = query.discover(written, FILE, cache_dir=cache)
    count = len(calls(tmp_path))
    (stored,) = cache.glob("slurm-lab-*.json")
    query.clear_cache()
    again = query.discover_details(written, FILE, cache_dir=cache)
    assert again.cached and again.launcher == first and len(calls(tmp_path)) == count
    stored.write_text("{damaged", encoding="utf-8")
    query.clear_cache()
    assert not query.discover_details(written, FILE, cache_dir=cache).cached


def test_no_accounting_database_means_no_qos(tmp_path: Path) -> None:
    bin_dir = fake_slurm(tmp_path, qos="echo \"sacctmgr: error: Only 'accounting_storage/slurmdbd'"
                                         " is supported\" >&2; exit 1")
    result = query.discover_details(launcher(bin_dir), FILE)
    merged = result.launcher
    assert merged.qos == () and len(merged.partitions) == 7
    # no association to read either: only the partitions' Allow/Deny lists apply
    assert len(result.commands) == 2
    assert merged.access is not None and merged.access.associations is None


@pytest.mark.parametrize(("user", "partitions"), [
    ("root", ["gpu", "small", "a100", "cpu"]),
    ("nobody", ["gpu", "small", "cpu"]),  # no iea@a100 account: no a100 candidate
])
def test_candidates_follow_the_users_associations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str, partitions: list[str]
) -> None:
    from reqsolve.candidates import compile_slurm

    monkeypatch.setattr(query, "user_of", lambda *_: user)
    bin_dir = fake_slurm(tmp_path, assoc="cat {f}/sacctmgr_show_assoc_user_" + user + ".txt")
    merged = query.discover(launcher(bin_dir), FILE, disk_cache=False)
    assert merged.access is not None and merged.access.user == user
    compiled = compile_slurm(merged, 0)
    assert list(dict.fromkeys(c.partition for c in compiled.candidates)) == partitions
    if user == "nobody":
        assert {x[3] for x in compiled.ruled_out if x[0] == "a100"} == {
            "account iea@a100 is not yours (user nobody has no association with it)"}
        assert {x[1] for x in compiled.ruled_out if x[0] != "a100"} == {"qos_gpu-dev"} or not [
            x for x in compiled.ruled_out if x[0] != "a100"]
    else:
        assert compiled.ruled_out == ()
    # offline, the file stands: the same launcher without discovery's access keeps a100
    offline = compile_slurm(replace(merged, access=None), 0)
    assert "a100" in {c.partition for c in offline.candidates}


def test_the_associations_are_cached_with_the_rest(tmp_path: Path) -> None:
    bin_dir = fake_slurm(tmp_path)
    cache = tmp_path / "cache"
    first = query.discover_details(launcher(bin_dir), FILE, cache_dir=cache)
    query.clear_cache()
    again = query.discover_details(launcher(bin_dir), FILE, cache_dir=cache)
    assert again.cached and again.launcher.access == first.launcher.access
    assert first.launcher.access is not None and first.launcher.access.associations


def test_unreadable_associations_fail_the_discovery(tmp_path: Path) -> None:
    bin_dir = fake_slurm(
        tmp_path, assoc="echo 'Account|User|Partition|QOS'; echo \"la;b|$(id -un)||n\"")
    with pytest.raises(SlurmQueryError, match="unexpected output"):
        query.discover(launcher(bin_dir), FILE, disk_cache=False)


def test_newer_slurm_uses_json(tmp_path: Path) -> None:
    bin_dir = fake_slurm(
        tmp_path,
        version="slurm 23.11.4",
        partitions="cat {f}/restd_partitions.json",
        qos='[ "$*" = "show qos --json" ] || exit 2\ncat {f}/restd_qos.json',
    )
    result = query.discover_details(launcher(bin_dir), FILE)
    assert [c[1:] for c in result.commands] == [
        ("show", "nodes", "--json"), ("show", "partition", "--json"), ("show", "qos", "--json"),
        ("--parsable2", "show", "assoc", "where", f"user={query.user_of(launcher(bin_dir), FILE)}",
         "format=Account,User,Partition,QOS")]
    expected = expected_from_fixtures()
    assert result.launcher.partitions == expected.partitions


FAILURES = [
    pytest.param({"partitions": "echo 'slurm_load_partitions: Unable to contact slurm "
                  "controller' >&2; exit 1"}, "Unable to contact", id="controller-down"),
    pytest.param({"nodes": "echo '{\"nodes\": [{\"name\": 3' "}, "unexpected output",
                  id="garbled-json"),
    pytest.param({"partitions": "echo PartitionName=p MaxTime=never"}, "unexpected output",
                  id="garbled-text"),
    pytest.param({"version": "no version"}, "no version number", id="garbled-version"),
    pytest.param({"qos": "echo 'sacctmgr: error: Problem talking to the database' >&2; exit 1"},
                 "Problem talking", id="qos-failure"),
    pytest.param({"nodes": "echo '{\"nodes\": []}'"}, "no node", id="no-nodes"),
]


@pytest.mark.parametrize(("change", "message"), FAILURES)
def test_failures_raise_keep_no_answer_and_are_remembered_briefly(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    # issue 24 item 7: a failure is remembered across processes for FAILURE_TTL seconds (a dead
    # controller cost every find its 30 s); no answer is kept (this test said "nothing is
    # written" before the failure record existed)
    written = launcher(fake_slurm(tmp_path, **change))
    cache = tmp_path / "cache"
    now = [1000.0]
    with pytest.raises(SlurmQueryError, match=message) as first:
        query.discover_details(written, FILE, cache_dir=cache, clock=lambda: now[0])
    assert query._memory == {}
    asked = len(calls(tmp_path))
    (stored,) = cache.iterdir()
    assert "failure" in json.loads(stored.read_text()) and stored.stat().st_mode & 0o077 == 0
    now[0] += query.FAILURE_TTL - 1
    with pytest.raises(SlurmQueryError, match=message) as again:  # a new process: from disk
        query.discover_details(written, FILE, cache_dir=cache, clock=lambda: now[0])
    assert len(calls(tmp_path)) == asked and "remembered from 59 s ago" in str(again.value)
    assert again.value.command == first.value.command
    assert str(again.value).splitlines()[1:] == str(first.value).splitlines()[1:]  # stderr
    now[0] += 2
    with pytest.raises(SlurmQueryError, match=message) as later:
        query.discover_details(written, FILE, cache_dir=cache, clock=lambda: now[0])
    assert len(calls(tmp_path)) > asked and "remembered" not in str(later.value)
    with pytest.raises(SlurmQueryError, match=message):
        query.discover(written, FILE, disk_cache=False)
    assert query._memory == {} and not (tmp_path / "xdg").exists()


def test_hanging_command_times_out(tmp_path: Path) -> None:
    written = launcher(fake_slurm(tmp_path, nodes="sleep 20"))
    with pytest.raises(SlurmQueryError, match="timed out"):
        query.discover(written, FILE, timeout=0.5)


def test_missing_binaries(tmp_path: Path) -> None:
    with pytest.raises(SlurmQueryError, match="command not found") as info:
        query.discover(launcher(tmp_path / "nowhere"), FILE)
    assert info.value.command[0].endswith("nowhere/scontrol")


def test_failure_after_success_keeps_the_good_answer_only_until_ttl(tmp_path: Path) -> None:
    bin_dir = fake_slurm(tmp_path)
    written = launcher(bin_dir)
    good = query.discover(written, FILE, ttl=0, disk_cache=False)
    (bin_dir / "sinfo").write_text("#!/bin/sh\necho garbage\n", encoding="utf-8")
    with pytest.raises(SlurmQueryError):
        query.discover(written, FILE, ttl=0, disk_cache=False)
    # the failed attempt left the previous answer as it was, never a half-merged one
    assert query.discover(written, FILE, ttl=3600) == good


@pytest.mark.parametrize(("text", "version"), [("slurm 22.05.8", (22, 5)),
                                               ("slurm-wlm 23.11.4\n", (23, 11))])
def test_parse_version(text: str, version: tuple[int, int]) -> None:
    assert query.parse_version(text) == version


def test_merge_keeps_configuration_written_when_slurm_has_none() -> None:
    written = Partition("heavy", configuration=Configuration(cpu=CpuConfig(cores=4)))
    slurm = Partition("heavy", configuration=None, disabled=True)
    merged = query.merge_partition(written, slurm)
    assert merged.configuration == written.configuration and merged.disabled


def test_left_out_hosts_are_kept_for_explain(tmp_path: Path) -> None:
    custom = SLURM_DEFAULT.parent / "custom"
    bin_dir = fake_slurm(tmp_path, nodes=f"cat {custom}/sinfo.json",
                         partitions=f"cat {custom}/scontrol_show_partition_oneliner.txt")
    written = launcher(bin_dir)
    assert query.left_out(written, FILE) == ()
    merged = query.discover(written, FILE)
    assert [(x.host, x.reason) for x in query.left_out(written, FILE)] == [
        ("big", "down (fan failure)"), ("n3", "drained (bad gpu)")]
    hosts = {h for p in merged.partitions for g in p.nodes for h in g.hosts}
    assert hosts == {"n1", "n2", "plain01"}


# issue 24 item 9: one hostile name in what Slurm reports skips only its launcher (a partition,
# QoS or account: the discovery fails with the reason, docs/semantics.md §5.5) or only its node
# (a host or GRES type: left out with the reason); another launcher or node answers.
HOSTILE_NAMES = ["a;b", "$(id)", "a=b", "`id`", "a&b", "-x"]
SLURM_NAMES = {"partition": "gpu", "qos": "normal", "account": "lab", "host": "g2",
               "gres": "a100"}


def hostile_cluster(tmp_path: Path, field: str, value: str) -> Path:
    names = {**SLURM_NAMES, field: value}
    nodes = "".join(
        f"NodeName={host} CPUTot=16 RealMemory=64000 Gres=gpu:{gres}:4 State=IDLE"
        f" Partitions={names['partition']}\n"
        for host, gres in (("g1", "a100"), (names["host"], names["gres"]))
    )
    partitions = (f"PartitionName={names['partition']} Nodes=g1,{names['host']} State=UP"
                  f" MaxTime=UNLIMITED AllowQos={names['qos']} AllowAccounts={names['account']}\n")
    qos = f"Name|Priority|MaxWall|MaxTRES|MinTRES|Flags\n{names['qos']}|0||||\n"
    for name, text in (("nodes.txt", nodes), ("partitions.txt", partitions), ("qos.txt", qos)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    bin_dir = fake_slurm(tmp_path, nodes=f"cat {tmp_path}/nodes.txt",
                         partitions=f"cat {tmp_path}/partitions.txt", qos=f"cat {tmp_path}/qos.txt")
    config = tmp_path / "launchers.yaml"
    config.write_text(f"""\
slurm:
- id: lab
  connector: local
  path: {bin_dir}
  query_slurm: true
  weight: 10
- id: backup
  connector: local
  partitions:
    spare:
      nodes:
      - hosts: [s1]
        configuration: {{cpu: {{cores: 8, memory: 32G}}, gpu: {{count: 4, memory: 40G}}}}
""", encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("field", "value"),
    [(field, value) for field in SLURM_NAMES for value in HOSTILE_NAMES
     # in a Gres string, "(...)" is Slurm's socket suffix: gpu:$(id):4 is unreadable output
     if not (field == "gres" and "(" in value)] + [("gres", "$HOME"), ("host", "${HOME}")],
)
def test_a_hostile_name_skips_only_its_launcher_or_node(tmp_path: Path, field: str,
                                                       value: str) -> None:
    from tests.cli_run import cli

    config = hostile_cluster(tmp_path, field, value)
    code, out, err = cli("find", "--config", str(config), "--format", "json", "cuda()*2")
    assert code == 0, err
    answer = json.loads(out)
    _, shown, _ = cli("explain", "--config", str(config), "--format", "json", "cuda()*2")
    rows = json.loads(shown)["rows"]
    if field in ("host", "gres"):  # the node is left out, the cluster answers with the other
        assert answer["launcher"]["id"] == "lab"
        assert [row["verdict"] for row in rows if row["launcher"] == "lab"] == ["chosen"]
        code, written, _ = cli("slurm", "discover", "--config", str(config))
        (left,) = [line for line in written.splitlines() if line.startswith("# left out:")]
        assert code == 0 and "reqsolve never writes" in left and "g1" not in left
    else:  # the launcher is skipped with the reason, the next one answers
        assert answer["launcher"]["id"] == "backup"
        (failed,) = [row["reason"] for row in rows if row["launcher"] == "lab"]
        assert failed.startswith("Slurm discovery failed") and "reqsolve never writes" in failed
    assert value not in out


@pytest.mark.parametrize(
    "slow",
    [{"nodes": "sleep 0.5; cat {f}/sinfo.json",
      "partitions": "sleep 0.5; cat {f}/scontrol_show_partition_oneliner.txt",
      "qos": "sleep 0.5; cat {f}/sacctmgr_show_qos_parsable.txt"},
     {"nodes": "sleep 0.9; cat {f}/sinfo.json",
      "partitions": "sleep 0.9; cat {f}/scontrol_show_partition_oneliner.txt"}],
    ids=["three-slow", "two-slow"],
)
def test_one_deadline_for_the_whole_discovery(tmp_path: Path, slow: dict[str, str]) -> None:
    # issue 24 item 7: each command had the whole limit, four slow ones took four times it
    import time

    written = launcher(fake_slurm(tmp_path, **slow))
    started = time.monotonic()
    with pytest.raises(SlurmQueryError, match=r"the discovery took more than its 1\.2 s"):
        query.discover(written, FILE, timeout=1.2, disk_cache=False)
    assert time.monotonic() - started < 2.0
