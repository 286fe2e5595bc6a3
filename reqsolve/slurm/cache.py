"""The disk cache of Slurm discovery: one small JSON file per launcher and cluster.

It keeps what the last discovery learnt (Slurm's raw outputs, read again on load) or, for
:data:`reqsolve.slurm.query.FAILURE_TTL` seconds, how it failed. A cache is checked before it
is believed: a file that is a link, not a regular file, owned by another user or writable by
anyone else is ignored (anyone who could write it could make reqsolve send jobs anywhere), as is
one that is not a JSON object. Files are written with mode 0600 under a 0700 directory, through
a new temporary file renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from reqsolve.slurm.values import load_json

# Larger than any real cluster's outputs (a 4,000-node sinfo --json is about 20 MB).
MAX_BYTES = 256 * 2**20


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reqsolve"


def believable(info: os.stat_result) -> bool:
    """A regular file of this user that nobody else can write."""
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def read(path: Path) -> dict[str, Any] | None:
    """The JSON object stored at ``path``; None when absent, not believable (see the module),
    too large, not UTF-8 or not a JSON object (the caller asks Slurm again)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)  # the file opened, not a name that may have changed since
        if not believable(info) or info.st_size > MAX_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = load_json(stream.read(MAX_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else None


def write(path: Path, data: dict[str, Any]) -> None:
    """Store ``data`` at ``path`` (0600); a cache that cannot be written only costs a query."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(data))
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()

