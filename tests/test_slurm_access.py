"""Accounts and QoS the user holds (docs/semantics.md §3): sacctmgr's associations, a partition's
Allow/Deny lists, and the candidates they rule out, with their reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reqsolve.candidates import compile_slurm
from reqsolve.choosing import choose
from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    NodeGroup,
    Partition,
    SlurmLauncherConfig,
)
from reqsolve.errors import LauncherNotFoundError, SlurmQueryError
from reqsolve.explain import explain
from reqsolve.parser import parse
from reqsolve.refusals import no_candidate
from reqsolve.slurm import access, readers
from tests.paths import SLURM_DEFAULT

ASSOC = SLURM_DEFAULT / "sacctmgr_show_assoc.txt"


def lab_access(user: str) -> access.Access:
    """What the lab's captured outputs let ``user`` submit with."""
    text = (SLURM_DEFAULT / "scontrol_show_partition.txt").read_text()
    partitions = readers.read_partitions(text)
    return access.Access(
        user,
        access.read_associations(ASSOC.read_text(), user=user),
        tuple(access.partition_access(p.name, p.allow_accounts, p.deny_accounts, p.allow_qos,
                                      p.deny_qos) for p in partitions),
    )


@pytest.mark.parametrize(("user", "expected"), [
    ("root", {("root", "normal"), ("iea@a100", "qos_gpu-dev"), ("lab", "qos_gpu-t4")}),
    ("nobody", {("lab", "normal"), ("lab", "qos_gpu-t3"), ("lab", "qos_cpu-t3")}),
    ("someone", set()),
])
def test_read_associations_of_one_user(user: str, expected: set[tuple[str, str]]) -> None:
    found = access.read_associations(ASSOC.read_text(), user=user)
    pairs = {(a.account, q) for a in found for q in a.qos}
    assert expected <= pairs
    assert all(a.partition is None for a in found)
    if user == "nobody":
        assert {a.account for a in found} == {"lab"}


@pytest.mark.parametrize(("text", "words"), [
    ("Account|User|Partition|QOS\nlab|nobody|gpu\n", "3 fields where the header has 4"),
    ("Acct|User|QOS\nlab|nobody|normal\n", "no 'account' column"),
    ("Account|User|Partition|QOS\nla$b|nobody||normal\n", "account"),
    ("Account|User|Partition|QOS\nlab|nobody|g;pu|normal\n", "partition"),
    ("Account|User|Partition|QOS\nlab|nobody||nor mal\n", "QoS"),
    ("Account|User|Partition|QOS\n" + "lab|nobody||normal\n" * (access.MAX_ASSOCIATIONS + 1),
     "more than 100,000 associations"),
])
def test_unreadable_associations_fail_the_discovery(text: str, words: str) -> None:
    with pytest.raises(SlurmQueryError, match="unexpected output") as error:
        access.read_associations(text, ("sacctmgr", "show", "assoc"))
    assert words in str(error.value)


def test_associations_any_field_order_and_per_partition() -> None:
    text = "QOS|Partition|User|Account|Cluster\nNormal,High|gpu|me|Lab|c\n|cpu|me|lab|c\n"
    assert access.read_associations(text, user="me") == (
        access.Association("lab", "gpu", ("normal", "high")),
        access.Association("lab", "cpu", ()),
    )
    assert access.read_associations("") == ()


@pytest.mark.parametrize(("text", "deny_accounts", "deny_qos"), [
    ("PartitionName=p Nodes=n1 DenyAccounts=old,guest DenyQos=debug State=UP", ("old", "guest"),
     ("debug",)),
    ("PartitionName=p Nodes=n1 AllowAccounts=ALL State=UP", None, None),
])
def test_partition_deny_lists_are_read(
    text: str, deny_accounts: tuple[str, ...] | None, deny_qos: tuple[str, ...] | None
) -> None:
    (record,) = readers.read_partitions(text)
    assert (record.deny_accounts, record.deny_qos) == (deny_accounts, deny_qos)


DENYING = access.Access(
    "me",
    (access.Association("lab", None, ("normal", "debug")),
     access.Association("old", None, ("normal",)),
     access.Association("gpuonly", "gpu", ("normal",))),
    (access.partition_access("cpu", None, ("old",), None, ("debug",)),),
)

# (access, partition, QoS, account) -> the reason, or None when Slurm takes it
REFUSALS = [
    (lab_access("root"), "a100", "qos_gpu-dev", "iea@a100", None),
    (lab_access("root"), "a100", "qos_gpu-dev", "lab",
     "account lab is not allowed on partition a100 (AllowAccounts=iea@a100)"),
    (lab_access("root"), "a100", "normal", "iea@a100",
     "QoS normal is not allowed on partition a100 (AllowQos=qos_gpu-dev,qos_gpu-t3,qos_gpu-t4)"),
    (lab_access("nobody"), "a100", "qos_gpu-t3", "iea@a100",
     "account iea@a100 is not yours (user nobody has no association with it)"),
    (lab_access("nobody"), "gpu", "qos_gpu-dev", None,
     "QoS qos_gpu-dev is not yours (user nobody, partition gpu)"),
    (lab_access("nobody"), "gpu", "qos_gpu-dev", "lab",
     "QoS qos_gpu-dev is not yours (user nobody, account lab, partition gpu)"),
    (lab_access("nobody"), "gpu", "QOS_GPU-T3", "LAB", None),
    (lab_access("nobody"), "gpu", None, None, None),
    (lab_access("someone"), "gpu", None, None,
     "user someone has no association (sacctmgr lists none)"),
    (DENYING, "cpu", "normal", "old", "account old is denied on partition cpu (DenyAccounts)"),
    (DENYING, "cpu", "debug", "lab", "QoS debug is denied on partition cpu (DenyQos)"),
    (DENYING, "cpu", "normal", "gpuonly",
     "account gpuonly is not yours on partition cpu (user me has no association there)"),
    (DENYING, "gpu", "normal", "gpuonly", None),
    (access.Access("me", None, ()), "gpu", "any", "any", None),  # no accounting database
]


@pytest.mark.parametrize(("rules", "partition", "qos", "account", "why"), REFUSALS)
def test_refusal(rules: access.Access, partition: str, qos: str | None, account: str | None,
                 why: str | None) -> None:
    assert rules.refusal(partition, qos, account) == why


GROUP = NodeGroup(hosts=("n1",), configuration=Configuration(cpu=CpuConfig(cores=8)))
LAUNCHER = SlurmLauncherConfig(
    id="lab",
    query_slurm=True,
    partitions=(
        Partition(name="a100", nodes=(GROUP,), qos=("qos_gpu-dev", "qos_gpu-t3"),
                  accounts=("iea@a100",)),
        Partition(name="gpu", nodes=(GROUP,), qos=("qos_gpu-dev", "qos_gpu-t3"),
                  accounts=("lab",)),
    ),
)


@pytest.mark.parametrize(("user", "kept", "ruled_out"), [
    ("root", [("a100", "qos_gpu-dev", "iea@a100"), ("a100", "qos_gpu-t3", "iea@a100"),
              ("gpu", "qos_gpu-dev", "lab"), ("gpu", "qos_gpu-t3", "lab")], []),
    ("nobody", [("gpu", "qos_gpu-t3", "lab")],
     [("a100", "qos_gpu-dev", "iea@a100"), ("a100", "qos_gpu-t3", "iea@a100"),
      ("gpu", "qos_gpu-dev", "lab")]),
])
def test_candidates_are_the_combinations_the_user_holds(
    user: str, kept: list[tuple[str, str, str]], ruled_out: list[tuple[str, str, str]]
) -> None:
    compiled = compile_slurm(replace(LAUNCHER, access=lab_access(user)), 0)
    assert [(c.partition, c.qos, c.account) for c in compiled.candidates] == kept
    assert [x[:3] for x in compiled.ruled_out] == ruled_out
    # offline (no access): the file's accounts and QoS stand, nothing is ruled out
    offline = compile_slurm(LAUNCHER, 0)
    assert len(offline.candidates) == 4 and offline.ruled_out == ()


def test_ruled_out_combinations_are_reasons_and_explain_rows() -> None:
    compiled = compile_slurm(replace(LAUNCHER, access=lab_access("nobody")), 0)
    with pytest.raises(LauncherNotFoundError) as error:
        choose([compiled], parse("cpu(cores=16)"))
    access_reasons = [r for r in error.value.reasons if r.code == "access"]
    assert [(r.partition, r.qos, r.account) for r in access_reasons] == [
        ("a100", "qos_gpu-dev", "iea@a100"), ("a100", "qos_gpu-t3", "iea@a100"),
        ("gpu", "qos_gpu-dev", "lab")]
    assert access_reasons[0].reason == (
        "account iea@a100 is not yours (user nobody has no association with it)")
    answer = choose([compiled], parse("cpu(cores=4)"))
    assert answer.options is not None
    assert (answer.options.partition, answer.options.qos) == ("gpu", "qos_gpu-t3")
    rows, _ = explain([compiled], parse("cpu(cores=4)"))
    refused = [(r.partition, r.qos, r.account, r.reason) for r in rows if r.verdict == "fails"]
    assert ("a100", "qos_gpu-t3", "iea@a100",
            "account iea@a100 is not yours (user nobody has no association with it)") in refused


def test_a_launcher_with_every_combination_ruled_out_says_why() -> None:
    compiled = compile_slurm(replace(LAUNCHER, access=lab_access("someone")), 0)
    assert compiled.candidates == ()
    assert no_candidate(compiled) == (
        "you may submit with none of its (partition, QoS, account) combinations: account"
        " iea@a100 is not yours (user someone has no association with it) (and 3 more)")
    with pytest.raises(LauncherNotFoundError, match="account iea@a100 is not yours"):
        choose([compiled], parse("cpu(cores=1)"))
