"""The alphabet of a name that can reach a Slurm option, an ``#SBATCH`` line or a shell word.

Partitions, QoS, accounts, features and hosts are checked against it twice: by the launcher-file
loader (with the file's line and column) and by :class:`~reqsolve.answers.options.SlurmOptions`
(whatever built the value). One alphabet, here, so that a name one accepts the other cannot
refuse. `@` appears in real account names (``iea@a100``), ``.`` in features (``cuda11.8``),
``+`` in some QoS, ``/`` is accepted by the launcher-file loader; a name never starts with
``-`` (it would read as an option). ASCII only: every accepted value is a word ``shlex.quote``
leaves as it is. What Slurm reports is checked a third time, by :func:`safe_name` (discovery and
``slurm convert``): a name outside the alphabet skips its launcher or node with the reason.
"""

from __future__ import annotations

import re
import string

SLURM_NAME_PUNCTUATION = "_.-@+:/"
SLURM_NAME_CHARS = frozenset(string.ascii_letters + string.digits + SLURM_NAME_PUNCTUATION)
# The same alphabet as a regular expression (for the loader): no leading '-', then any.
SLURM_NAME_RE = re.compile(r"[A-Za-z0-9_.@+:/][A-Za-z0-9_.@+:/-]*")
# One character outside the alphabet (the loader names it in its message).
SLURM_NAME_OUTSIDE_RE = re.compile(r"[^A-Za-z0-9_.@+:/-]")
SLURM_NAME_HINT = "names may use ASCII letters, digits and _ . - @ + : / only"


def safe_names(names: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``names`` when every one is a :func:`safe_name` (checked at once: the usual case)."""
    if all(map(SLURM_NAME_RE.fullmatch, names)):
        return names
    return tuple(safe_name(name, what) for name in names)


def safe_name(name: str, what: str) -> str:
    """``name`` when an sbatch option can carry it; ValueError naming the first character
    that Slurm or a shell would read (``$ ; =`` ...): the discovery fails with that reason,
    and the launcher is skipped with it (docs/semantics.md §5.5)."""
    if SLURM_NAME_RE.fullmatch(name):
        return name
    found = SLURM_NAME_OUTSIDE_RE.search(name)
    why = f"has {found.group()!r}" if found else "starts with '-'" if name else "is empty"
    shown = repr(name if len(name) <= 60 else name[:57] + "...")
    raise ValueError(f"{what} {shown}: the name {why}, which reqsolve never writes into an"
                     f" sbatch option ({SLURM_NAME_HINT})")
