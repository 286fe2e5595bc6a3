"""The alphabet of a name that can reach a Slurm option, an ``#SBATCH`` line or a shell word.

Partitions, QoS, accounts, features and hosts are checked against it twice: by the launcher-file
loader (with the file's line and column) and by :class:`~reqsolve.slurm.options.SlurmOptions`
(whatever built the value). One alphabet, here, so that a name one accepts the other cannot
refuse. `@` appears in real account names (``iea@a100``), ``.`` in features (``cuda11.8``),
``+`` in some QoS, ``/`` is accepted by the launcher-file loader; a name never starts with
``-`` (it would read as an option). ASCII only: every accepted value is a word ``shlex.quote``
leaves as it is.
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
