"""Which (partition, QoS, account) combinations the user may submit with (docs/semantics.md §3).

Discovery reads the user's associations (``sacctmgr show assoc where user=NAME``) and each
partition's ``AllowAccounts``/``AllowQos``/``DenyAccounts``/``DenyQos``; :class:`Access` holds
them and says why a combination is ruled out (:meth:`Access.refusal`), or None when Slurm takes
it. The candidate expansion (:mod:`reqsolve.candidates`) asks it once per combination of each
partition, never per query. Account and QoS names compare ignoring case: Slurm's database
stores them in lower case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reqsolve.answers.names import safe_name, safe_names
from reqsolve.errors import SlurmQueryError

ASSOC_FIELDS = ("Account", "User", "Partition", "QOS")
# The most associations one output may hold: a user has a handful; a hostile sacctmgr could
# print millions of lines (docs/slurm.md, bounded readers).
MAX_ASSOCIATIONS = 100_000


def assoc_command(sacctmgr: str, user: str) -> tuple[str, ...]:
    """The command listing ``user``'s associations, parsable, with its header line."""
    return (sacctmgr, "--parsable2", "show", "assoc", "where", f"user={user}",
            "format=" + ",".join(ASSOC_FIELDS))


@dataclass(frozen=True, slots=True)
class Association:
    """One association of the user: an account, on one partition (None: every partition), with
    the QoS it may use (casefolded)."""

    account: str
    partition: str | None
    qos: tuple[str, ...]


def _garbled(command: Sequence[str], message: str, line: str = "") -> SlurmQueryError:
    detail = f"{message}; line {line.strip()[:200]!r}" if line.strip() else message
    return SlurmQueryError(tuple(command), f"unexpected output: {detail}")


def read_associations(
    text: str, command: Sequence[str] = ("sacctmgr",), user: str | None = None
) -> tuple[Association, ...]:
    """``sacctmgr --parsable2 show assoc`` with its header line (any field order, any extra
    field) to the associations of users; rows without a user (the accounts' own) are skipped, and
    with ``user`` so are other users' rows. Anything unreadable raises
    :class:`SlurmQueryError`."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ()
    if len(lines) > MAX_ASSOCIATIONS + 1:
        raise _garbled(command, f"more than {MAX_ASSOCIATIONS:,} associations")
    header = [cell.strip() for cell in lines[0].split("|")]
    index = {name.casefold(): i for i, name in enumerate(header)}
    for name in ("account", "user", "qos"):
        if name not in index:
            raise _garbled(command, f"no {name!r} column in the header line", lines[0])
    found: list[Association] = []
    for line in lines[1:]:
        cells = line.split("|")
        if len(cells) != len(header):
            raise _garbled(command, f"{len(cells)} fields where the header has {len(header)}",
                           line)

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]].strip() if name in index else ""

        owner = cell("user")
        if not owner or (user is not None and owner != user):
            continue
        try:
            account = safe_name(cell("account"), "account")
            partition = cell("partition") or None
            if partition is not None:
                safe_name(partition, "partition")
            qos = safe_names(tuple(q for q in cell("qos").split(",") if q), "QoS")
        except ValueError as exc:
            raise _garbled(command, str(exc), line) from None
        found.append(Association(account.casefold(), partition,
                                 tuple(q.casefold() for q in qos)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class PartitionAccess:
    """A partition's own lists (None: no list, every name allowed / none denied), casefolded."""

    name: str
    allow_accounts: tuple[str, ...] | None = None
    deny_accounts: tuple[str, ...] | None = None
    allow_qos: tuple[str, ...] | None = None
    deny_qos: tuple[str, ...] | None = None


def _folded(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(n.casefold() for n in names)


def partition_access(
    name: str,
    allow_accounts: tuple[str, ...] | None,
    deny_accounts: tuple[str, ...] | None,
    allow_qos: tuple[str, ...] | None,
    deny_qos: tuple[str, ...] | None,
) -> PartitionAccess:
    return PartitionAccess(name, _folded(allow_accounts), _folded(deny_accounts),
                           _folded(allow_qos), _folded(deny_qos))


@dataclass(frozen=True, slots=True)
class Access:
    """What Slurm lets ``user`` submit with. ``associations`` is None without an accounting
    database (only the partitions' lists apply)."""

    user: str
    associations: tuple[Association, ...] | None
    partitions: tuple[PartitionAccess, ...] = ()

    def _partition(self, name: str) -> PartitionAccess | None:
        for partition in self.partitions:
            if partition.name == name:
                return partition
        return None

    def refusal(self, partition: str, qos: str | None, account: str | None) -> str | None:
        """Why Slurm refuses this combination (words for the reason), or None."""
        lists = self._partition(partition)
        account_key = None if account is None else account.casefold()
        qos_key = None if qos is None else qos.casefold()
        if lists is not None:
            refused = (
                _listed("account", account, lists.allow_accounts, lists.deny_accounts,
                        partition, "Accounts")
                or _listed("QoS", qos, lists.allow_qos, lists.deny_qos, partition, "Qos")
            )
            if refused is not None:
                return refused
        if self.associations is None:
            return None
        mine = [a for a in self.associations
                if account_key is None or a.account == account_key]
        if not mine:
            if account is None:
                return f"user {self.user} has no association (sacctmgr lists none)"
            return f"account {account} is not yours (user {self.user} has no association with it)"
        here = [a for a in mine if a.partition is None or a.partition == partition]
        if not here:
            if account is None:
                return f"user {self.user} has no association on partition {partition}"
            return (f"account {account} is not yours on partition {partition}"
                    f" (user {self.user} has no association there)")
        if qos_key is not None and not any(qos_key in a.qos for a in here):
            which = f", account {account}" if account is not None else ""
            return f"QoS {qos} is not yours (user {self.user}{which}, partition {partition})"
        return None


def _listed(
    what: str,
    name: str | None,
    allowed: tuple[str, ...] | None,
    denied: tuple[str, ...] | None,
    partition: str,
    field: str,
) -> str | None:
    """Why a partition's Allow<field>/Deny<field> lists refuse ``name`` (compared ignoring
    case), or None."""
    if name is None:
        return None
    key = name.casefold()
    if allowed is not None and key not in allowed:
        return (f"{what} {name} is not allowed on partition {partition}"
                f" (Allow{field}={','.join(allowed)})")
    if denied and key in denied:
        return f"{what} {name} is denied on partition {partition} (Deny{field})"
    return None

