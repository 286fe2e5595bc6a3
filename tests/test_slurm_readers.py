"""slurm/readers.py: readers of real Slurm 22.05 outputs (fixtures/slurm/), of newer JSON shapes,
and their refusals of garbled output (their conversion to the model: test_slurm_convert.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqsolve.errors import SlurmQueryError
from reqsolve.slurm import readers
from reqsolve.slurm.readers import GpuGres
from tests.paths import SLURM_CUSTOM, SLURM_DEFAULT
from tests.reference import MIB


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("folder", [SLURM_DEFAULT, SLURM_CUSTOM], ids=["default", "custom"])
def test_node_forms_agree(folder: Path) -> None:
    multi = readers.read_nodes(text(folder / "scontrol_show_nodes.txt"))
    oneliner = readers.read_nodes(text(folder / "scontrol_show_nodes_oneliner.txt"))
    from_json = readers.read_nodes(text(folder / "sinfo.json"))
    assert multi == oneliner == from_json
    assert len(multi) == (15 if folder is SLURM_DEFAULT else 5)


NODES = [
    # folder, node, cpus, memory MiB, features, gpus, unusable
    (SLURM_DEFAULT, "a100-01", 64, 500000, ("Tesla", "a100"), (GpuGres("a100", 8),), None),
    (SLURM_DEFAULT, "yop", 32, 128000, ("A6000", "GPU3", "GPUM48G"), (GpuGres("a6000", 3),), None),
    (SLURM_DEFAULT, "yip", 24, 96000, ("RTX", "GPU2", "GPUM24G"), (GpuGres(None, 2),), None),
    (SLURM_DEFAULT, "cpu-03", 40, 192000, ("intel", "skylake"), (), None),
    (SLURM_CUSTOM, "n1", 16, 32000, ("v100", "GPUM16G", "cuda11.8"), (GpuGres("v100", 1),), None),
    (SLURM_CUSTOM, "n3", 16, 32000, ("v100", "GPUM16G", "cuda11.8"), (GpuGres("v100", 1),),
     "drained (bad gpu)"),
    (SLURM_CUSTOM, "big", 32, 1000000, ("bigmem",), (), "down (fan failure)"),
    # listed right after n3: "(null)" must not inherit n3's features (a peer bug)
    (SLURM_CUSTOM, "plain01", 8, 16000, (), (), None),
]


@pytest.mark.parametrize(
    ("folder", "name", "cpus", "mib", "features", "gpus", "unusable"),
    NODES,
    ids=[f"{f.name}-{n}" for f, n, *_ in NODES],
)
@pytest.mark.parametrize("form", ["scontrol_show_nodes.txt", "sinfo.json"])
def test_node_values(
    form: str, folder: Path, name: str, cpus: int, mib: int, features: tuple[str, ...],
    gpus: tuple[GpuGres, ...], unusable: str | None,
) -> None:
    node = next(n for n in readers.read_nodes(text(folder / form)) if n.name == name)
    assert node.cpus == cpus
    assert node.memory == mib * MIB
    assert node.features == features
    assert node.gpus == gpus
    assert node.unusable == unusable


STATES = [
    ("IDLE", None),
    ("MIXED", None),
    ("ALLOCATED", None),
    ("IDLE~", None),  # powered down: Slurm powers it up for a job
    ("IDLE+CLOUD+POWERED_DOWN", None),
    ("IDLE*", "not responding"),
    ("DOWN*", "down and not responding"),
    ("DOWN+NOT_RESPONDING", "down and not responding"),
    ("MIXED+DRAIN", "drained"),
    ("ALLOCATED+DRAIN", "drained"),
    ("IDLE+DRAIN", "drained"),
    ("FUTURE", "not yet in service (FUTURE)"),
    ("UNKNOWN*", "in an unknown state (slurmd never registered) and not responding"),
    ("INVAL", "invalid (configuration mismatch)"),
    ("IDLE+MAINT", "under maintenance"),
]


@pytest.mark.parametrize(("state", "why"), STATES, ids=[s for s, _ in STATES])
def test_state_decides_usability(state: str, why: str | None) -> None:
    record = f"NodeName=x CPUTot=4 RealMemory=1000 AvailableFeatures=(null) State={state}\n"
    (node,) = readers.read_nodes(record)
    assert node.unusable == why


def test_reason_is_kept_for_explain() -> None:
    sample = (
        "NodeName=x Arch=x86_64 CoresPerSocket=4\n"
        "   CPUTot=8 AvailableFeatures=a.b,c\n"
        "   RealMemory=100 State=DOWN+NOT_RESPONDING ThreadsPerCore=1\n"
        "   Reason=Not responding [slurm@2026-11-25T12:00:00]\n"
    )
    (node,) = readers.read_nodes(sample)
    assert node.features == ("a.b", "c")
    assert node.unusable == "down and not responding (Not responding)"


@pytest.mark.parametrize(
    ("expression", "hosts"),
    [
        ("yop", ("yop",)),
        ("yip,yup,a100-0[1-2],cpu-0[1-4]",
         ("yip", "yup", "a100-01", "a100-02", "cpu-01", "cpu-02", "cpu-03", "cpu-04")),
        ("a100-[01-02]", ("a100-01", "a100-02")),
        ("n[8-10]", ("n8", "n9", "n10")),
        ("n[08-10]", ("n08", "n09", "n10")),
        ("n[1,3-4],m", ("n1", "n3", "n4", "m")),
        ("r[1-2]n[1-2]", ("r1n1", "r1n2", "r2n1", "r2n2")),
        ("", ()),
        ("(null)", ()),
    ],
)
def test_expand_hostlist(expression: str, hosts: tuple[str, ...]) -> None:
    assert readers.expand_hostlist(expression) == hosts


@pytest.mark.parametrize("expression", ["n[1-", "n]1", "n[a-b]", "n[3-1]", "a,,b", "n[1-2"])
def test_bad_hostlist(expression: str) -> None:
    with pytest.raises(ValueError, match="host list"):
        readers.expand_hostlist(expression)


@given(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=6))
def test_plain_host_lists_expand_to_themselves(names: list[str]) -> None:
    assert readers.expand_hostlist(",".join(names)) == tuple(names)


@pytest.mark.parametrize(
    ("gres", "gpus"),
    [
        ("gpu:4", (GpuGres(None, 4),)),
        ("gpu:a100:4", (GpuGres("a100", 4),)),
        ("gpu:a6000:3(S:0-1)", (GpuGres("a6000", 3),)),
        ("gpu:2(S:0)", (GpuGres(None, 2),)),
        ("gpu:a100:4(S:0-1),gpu:v100:2(S:1)", (GpuGres("a100", 4), GpuGres("v100", 2))),
        ("mps:100,gpu:tesla:1", (GpuGres("tesla", 1),)),
        ("(null)", ()),
        ("", ()),
    ],
)
def test_parse_gres(gres: str, gpus: tuple[GpuGres, ...]) -> None:
    assert readers.parse_gres(gres) == gpus


def test_partition_forms_agree() -> None:
    multi = readers.read_partitions(text(SLURM_DEFAULT / "scontrol_show_partition.txt"))
    oneliner = readers.read_partitions(text(SLURM_DEFAULT / "scontrol_show_partition_oneliner.txt"))
    from_json = readers.read_partitions(text(SLURM_DEFAULT / "restd_partitions.json"))
    assert multi == oneliner == from_json
    assert [p.name for p in multi] == ["gpu", "small", "a100", "cpu", "heavy", "maint", "legacy"]


def test_partition_values() -> None:
    records = readers.read_partitions(text(SLURM_DEFAULT / "scontrol_show_partition.txt"))
    parts = {p.name: p for p in records}
    a100 = parts["a100"]
    assert a100.nodes == ("a100-01", "a100-02")
    assert a100.max_time == 100 * 3600
    assert a100.def_mem_per_cpu == 7500 * 1024 * 1024  # MiB -> bytes, not x1024 (peer bug)
    assert a100.allow_qos == ("qos_gpu-dev", "qos_gpu-t3", "qos_gpu-t4")
    assert a100.allow_accounts == ("iea@a100",)
    assert parts["gpu"].allow_qos is None and parts["gpu"].allow_accounts is None
    assert parts["cpu"].default and parts["cpu"].nodes == ("cpu-01", "cpu-02", "cpu-03", "cpu-04")
    assert parts["small"].max_nodes == 2
    assert {n: p.state for n, p in parts.items() if p.state != "UP"} == {
        "heavy": "INACTIVE", "maint": "DOWN", "legacy": "DRAIN"}
    assert parts["heavy"].def_mem_per_cpu is None


def test_qos_forms_agree() -> None:
    parsable = readers.read_qos(text(SLURM_DEFAULT / "sacctmgr_show_qos_parsable.txt"))
    from_json = readers.read_qos(text(SLURM_DEFAULT / "restd_qos.json"))
    strip = [(q.name, q.max_wall, q.priority, q.min_gpus, q.max_gpus) for q in parsable]
    assert strip == [(q.name, q.max_wall, q.priority, q.min_gpus, q.max_gpus) for q in from_json]
    assert strip == [
        ("normal", None, 0, 0, None),
        ("qos_gpu-dev", 7200, 20, 0, 8),
        ("qos_gpu-t3", 72000, 10, 0, None),
        ("qos_gpu-t4", 360000, 5, 0, 16),
        ("qos_cpu-t3", 72000, 10, 0, None),
    ]


GARBLED = [
    ("nodes", "hello world\n"),
    ("nodes", "NodeName=x CPUTot=many\n"),
    ("nodes", "NodeName=x RealMemory=12G\n"),
    ("nodes", "NodeName=x Gres=gpu:a:b:c:d\n"),
    ("nodes", "Partitions=a\nNodeName=x\n"),
    ("nodes", "NodeName=x\n  just words\n"),
    ("nodes", '{"nodes": 3}'),
    ("nodes", '{"nodes": [{"cpus": 3}]}'),
    ("nodes", '{"nodes": [{"name": "x", "real_memory": "lots"}]}'),
    ("nodes", "{not json"),
    ("nodes", '{"errors": [{"error": "boom"}], "nodes": []}'),
    ("nodes", "\x00\x01\x02 binary"),
    ("partitions", "PartitionName=p MaxTime=forever\n"),
    ("partitions", "PartitionName=p Nodes=n[1-\n"),
    ("partitions", "garbage\n"),
    ("partitions", '{"partitions": [{"name": "p", "max_time_limit": "x"}]}'),
    ("partitions", "[1, 2]"),
    ("qos", "Name|MaxWall\nq|never\n"),
    ("qos", "Name|MaxWall\nq|1:00|extra\n"),
    ("qos", "foo|bar\n"),
    ("qos", text(SLURM_DEFAULT / "sacctmgr_show_qos_selected.txt")),  # -n: no header line
    ("qos", '{"QOS": [{"priority": 1}]}'),
]


READERS = {"nodes": readers.read_nodes, "partitions": readers.read_partitions,
           "qos": readers.read_qos}


@pytest.mark.parametrize(("kind", "sample"), GARBLED, ids=[f"{k}-{i}" for i, (k, _) in
                                                          enumerate(GARBLED)])
def test_garbled_output_is_a_query_error(kind: str, sample: str) -> None:
    with pytest.raises(SlurmQueryError) as info:
        READERS[kind](sample)
    assert "unexpected output" in str(info.value) or "Slurm reported errors" in str(info.value)


@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_cleanly(sample: str) -> None:
    for reader in READERS.values():
        with contextlib.suppress(SlurmQueryError):
            reader(sample)


def test_empty_output_has_no_records() -> None:
    assert readers.read_nodes("") == [] and readers.read_partitions("\n") == []
    assert readers.read_qos("") == []


# Hand-written in the nested shape of Slurm >= 23.02 (data_parser v0.0.40): lists for states and
# features, {"set", "infinite", "number"} objects for limits. The lab runs 22.05, so these are
# not captured outputs; they pin the reading of the fields reqsolve uses.
NEWER_NODES = """{"nodes": [
  {"name": "g1", "cpus": 48, "real_memory": 256000, "features": ["h100", "GPUM80G"],
   "gres": "gpu:h100:4(S:0-1)", "state": ["IDLE", "DRAIN"], "reason": "maintenance",
   "partitions": ["gpu"]},
  {"name": "g2", "cpus": 48, "real_memory": 256000, "features": ["h100", "GPUM80G"],
   "gres": "gpu:h100:4(S:0-1)", "state": ["MIXED"], "partitions": ["gpu"]}
], "errors": [], "meta": {"plugin": {"data_parser": "data_parser/v0.0.40"}}}"""


NEWER_PARTITIONS = """{"partitions": [
  {"name": "gpu", "nodes": {"configured": "g[1-2]"},
   "maximums": {"time": {"set": true, "infinite": false, "number": 2880},
                "nodes": {"set": true, "infinite": true, "number": 0}},
   "defaults": {"memory_per_cpu": 0},
   "accounts": {"allowed": "", "deny": ""}, "qos": {"allowed": "long,short"},
   "partition": {"state": ["UP", "DEFAULT"]}},
  {"name": "old", "nodes": {"configured": ""},
   "maximums": {"time": {"set": true, "infinite": true, "number": 0}},
   "defaults": {"memory_per_cpu": 4096}, "partition": {"state": ["INACTIVE"]}}
]}"""


NEWER_QOS = """{"qos": [
  {"name": "long", "priority": {"set": true, "infinite": false, "number": 3},
   "limits": {"max": {"wall_clock": {"per": {"job": {"set": true, "infinite": false,
                                                       "number": 2880}}},
                      "tres": {"per": {"job": [{"type": "gres", "name": "gpu", "count": 8}]}}},
              "min": {"tres": {"per": {"job": []}}}}},
  {"name": "free", "limits": {"max": {"wall_clock": {"per": {"job": {"set": false}}}}}}
]}"""


def test_newer_json_shapes() -> None:
    g1, g2 = readers.read_nodes(NEWER_NODES)
    assert g1.features == ("h100", "GPUM80G") and g1.gpus == (GpuGres("h100", 4),)
    assert g1.unusable == "drained (maintenance)" and g2.unusable is None
    assert g2.memory == 256000 * MIB and g2.cpus == 48
    gpu, old = readers.read_partitions(NEWER_PARTITIONS)
    assert gpu.nodes == ("g1", "g2") and gpu.max_time == 2 * 86400 and gpu.default
    assert gpu.def_mem_per_cpu is None and gpu.max_nodes is None
    assert gpu.allow_qos == ("long", "short") and gpu.allow_accounts is None
    assert gpu.state == "UP"
    assert old.max_time is None and old.def_mem_per_cpu == 4096 * MIB and old.state == "INACTIVE"
    long, free = readers.read_qos(NEWER_QOS)
    assert (long.max_wall, long.priority, long.max_gpus) == (2 * 86400, 3, 8)
    assert (free.max_wall, free.priority) == (None, 0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("n[1-", "unbalanced '[' in host list 'n[1-'"),
        ("n]1", "unbalanced ']' in host list 'n]1'"),
        ("a]b[", "unbalanced ']' in host list 'a]b['"),
        ("a,,b", "empty item in host list 'a,,b'"),
    ],
    ids=["open", "close", "close-first", "empty-item"],
)
def test_bad_hostlist_messages(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        readers.expand_hostlist(expression)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("gres", "outcome"),
    [
        ("gpu:2(S:0-1", (GpuGres(None, 2),)),  # an unclosed socket list is read, not refused
        ("gpu:2)(,gpu:a:1", "unreadable gres count in 'gpu:2)('"),
        ("gpu:a:1),gpu:3", "unreadable gres item 'gpu:a:1),gpu:3'"),
    ],
    ids=["unclosed", "stray-close", "comma-after-stray-close"],
)
def test_gres_brackets_are_read_leniently(gres: str, outcome: object) -> None:
    if isinstance(outcome, str):
        with pytest.raises(ValueError) as caught:
            readers.parse_gres(gres)
        assert str(caught.value) == outcome
    else:
        assert readers.parse_gres(gres) == outcome


QOS_SHOWN = "sacctmgr --parsable2 show qos format=Name,Priority,MaxWall,MaxTRES,MinTRES,Flags"


GARBLED = [
    ("nodes", '{"nodes": 3}', "scontrol --oneliner show nodes: unexpected output: JSON without "
     "a 'nodes' list; output begins '{\"nodes\": 3}'"),
    ("partitions", '{"partitions": {}}', "scontrol --oneliner show partition: unexpected "
     "output: JSON without a 'partitions' list; output begins '{\"partitions\": {}}'"),
    ("qos", '{"qos": 1}', f"{QOS_SHOWN}: unexpected output: JSON without a 'qos' list; "
     "output begins '{\"qos\": 1}'"),
    ("qos", '{"QOS": null, "qos": []}', f"{QOS_SHOWN}: unexpected output: JSON without a 'qos' "
     "list; output begins '{\"QOS\": null, \"qos\": []}'"),
    ("qos", '{"QOS": [{"x":1}]}', f"{QOS_SHOWN}: unexpected output: unreadable QoS in JSON "
     "('name'); output begins '{\"QOS\": [{\"x\":1}]}'"),
    ("nodes", '{"nodes": [{"name": ""}]}', "scontrol --oneliner show nodes: unexpected output: "
     "unreadable node in JSON (node without a name); output begins '{\"nodes\": [{\"name\": "
     "\"\"}]}'"),
    ("partitions", '{"partitions": [{}]}', "scontrol --oneliner show partition: unexpected "
     "output: unreadable partition in JSON ('name'); output begins '{\"partitions\": [{}]}'"),
    ("nodes", "Foo=1", "scontrol --oneliner show nodes: unexpected output: not scontrol node "
     "output (text before the first NodeName= record: 'Foo=1'); output begins 'Foo=1'"),
    ("partitions", "PartitionName=\n", "scontrol --oneliner show partition: unexpected output: "
     "not scontrol partition output (empty PartitionName); output begins 'PartitionName='"),
    ("nodes", "NodeName=a CPUTot=x", "scontrol --oneliner show nodes: unexpected output: not "
     "scontrol node output (a CPUTot: expected a number, got 'x'); output begins "
     "'NodeName=a CPUTot=x'"),
]


@pytest.mark.parametrize(
    ("kind", "output", "message"), GARBLED,
    ids=["nodes-json-not-list", "partitions-json-not-list", "qos-json-not-list",
         "QOS-key-wins", "qos-json-item", "nodes-json-item", "partitions-json-item",
         "nodes-text-before", "partitions-text-empty", "nodes-text-number"],
)
def test_garbled_output_messages(kind: str, output: str, message: str) -> None:
    read = {"nodes": readers.read_nodes, "partitions": readers.read_partitions,
            "qos": readers.read_qos}[kind]
    with pytest.raises(SlurmQueryError) as caught:
        read(output)
    assert str(caught.value) == message
