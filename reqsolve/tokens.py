"""Counter tokens across processes: at most N jobs holding a counter's tokens at once.

A counter of capacity N is one lock file under the locks directory, ``NAME.tokens``, whose byte
*i* is token *i*; a job taking k tokens holds an exclusive open-file-description lock
(``F_OFD_SETLK``) on k of its bytes for as long as it runs: one descriptor per counter, however
many tokens (2,000 tokens under ``ulimit -n 1024`` are one descriptor). The kernel drops the
locks when the last process holding the descriptor ends, however it ends, so a crashed job never
leaks tokens; the descriptor is handed down to the job, so the tokens stay held while it lives.
Where the kernel has no such locks (not Linux), each token is a file ``NAME.<i>`` locked with
``flock``. Which counters exist is read from ``tokens.yaml`` by :mod:`reqsolve.config.tokens_file`.

The locks directory is ``$REQSOLVE_TOKENS_DIR``, else ``$XDG_STATE_HOME/reqsolve/locks``
(``~/.local/state/reqsolve/locks``): state that lives while jobs run, not a cache that a cache
cleaner may empty under them (docs/local-gpus.md).
"""

from __future__ import annotations

import errno
import fcntl
import os
import pwd
import re
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

from reqsolve.errors import InvalidValue, ReqsolveError

# The one rule for token names, used by the launcher-file check (validate) and by submit: a
# name the one accepts the other never refuses. They name lock files: ASCII, no leading dot.
TOKEN_NAME_RE = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,199}")
NAME_RULE_HINT = (
    "token names are 1 to 200 letters, digits and _ . - @ + , not starting with '.'"
    " (they name lock files)"
)

# byte-range locks owned by the open file description (inherited with the descriptor, as flock
# locks are): Linux only; the ``struct flock`` of 64-bit Linux
_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
if not sys.platform.startswith("linux") or struct.calcsize("P") != 8:  # pragma: no cover
    _OFD_SETLK = None
_FLOCK = "hhqqi4x"  # l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks), padding


class LockUnavailable(ReqsolveError):
    """A lock file (token or GPU) cannot be opened or its folder made: the message says which,
    why, and what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nhint: {hint}")


def default_tokens_dir() -> Path:
    """Where the token and GPU locks live: ``$REQSOLVE_TOKENS_DIR``, else
    ``$XDG_STATE_HOME/reqsolve/locks`` (default ``~/.local/state/reqsolve/locks``)."""
    given = os.environ.get("REQSOLVE_TOKENS_DIR")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # unset, empty or relative: the XDG default
        state = str(Path.home() / ".local" / "state")
    return Path(state) / "reqsolve" / "locks"


def _owner(path: Path) -> str:
    try:
        uid = path.stat().st_uid
    except OSError:
        return "another user"
    try:
        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def make_folder(folder: Path) -> None:
    """Make the locks folder (and its parents); :class:`LockUnavailable` when it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockUnavailable(
            f"cannot make the locks folder {folder}: {exc.strerror or exc}",
            "set REQSOLVE_TOKENS_DIR to a folder you may write",
        ) from None


def open_lock(path: Path) -> int:
    """A read-write descriptor on the lock file ``path`` (made when absent, mode 0644).

    :class:`LockUnavailable` instead of ``PermissionError`` or ``OSError``: a file another
    user owns (a job once run with sudo), a folder not writable, no descriptor left.
    """
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        if path.exists() and path.stat().st_uid != os.getuid():
            message = (
                f"cannot use the lock file {path}: it belongs to {_owner(path)}, not to you,"
                " and you may not write it"
            )
        else:
            message = f"cannot use the lock file {path}: permission denied"
        raise LockUnavailable(
            message,
            "remove it once no job of its owner runs, or set REQSOLVE_TOKENS_DIR to a folder"
            " of yours",
        ) from None
    except OSError as exc:
        raise LockUnavailable(
            f"cannot open the lock file {path}: {exc.strerror or exc}",
            "raise the limit of open files (ulimit -n)"
            if exc.errno in (errno.EMFILE, errno.ENFILE)
            else "set REQSOLVE_TOKENS_DIR to a folder you may write",
        ) from None


def check_token_name(name: str) -> None:
    """:class:`InvalidValue` unless ``name`` follows :data:`TOKEN_NAME_RE`."""
    if not TOKEN_NAME_RE.fullmatch(name):
        raise InvalidValue(f"{name!r} cannot be a token name", NAME_RULE_HINT)


def check_wanted(wanted: Mapping[str, int], capacities: Mapping[str, int]) -> None:
    """Refuse tokens no counter declares, more than a counter holds, or unusable names."""
    for name, count in wanted.items():
        check_token_name(name)
        if name not in capacities:
            raise InvalidValue(f"token {name!r} is declared by no counter in tokens.yaml")
        if count > capacities[name]:
            raise InvalidValue(
                f"a job takes {count} '{name}' tokens but the counter has only "
                f"{capacities[name]}: it could never run"
            )


def _byte_lock(fd: int, start: int, length: int, kind: int) -> bool:
    assert _OFD_SETLK is not None
    record = struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0)
    try:
        fcntl.fcntl(fd, _OFD_SETLK, record)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _take_bytes(directory: Path, name: str, capacity: int, count: int) -> list[int] | None:
    fd = open_lock(directory / f"{name}.tokens")
    taken = 0
    for slot in range(capacity):
        if _byte_lock(fd, slot, 1, fcntl.F_WRLCK):
            taken += 1
            if taken == count:
                return [fd]
    os.close(fd)  # drops every byte this description locked
    return None


def _take_files(directory: Path, name: str, capacity: int, count: int) -> list[int] | None:
    held: list[int] = []
    try:
        for slot in range(capacity):
            fd = open_lock(directory / f"{name}.{slot}")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held.append(fd)
            if len(held) == count:
                return held
    except BaseException:
        for fd in held:
            os.close(fd)
        raise
    for fd in held:
        os.close(fd)
    return None


def take_counters(
    folder: Path, wanted: Mapping[str, int], capacities: Mapping[str, int]
) -> list[int] | str:
    """Every wanted token at once (the locked descriptors), or the name of a busy counter
    (then nothing is held). :class:`LockUnavailable` when a lock file cannot be opened."""
    take = _take_bytes if _OFD_SETLK is not None else _take_files
    held: list[int] = []
    try:
        for name, count in wanted.items():
            if count <= 0:
                continue
            got = take(folder, name, capacities[name], count)
            if got is None:
                for fd in held:
                    os.close(fd)
                return name
            held.extend(got)
    except BaseException:
        for fd in held:
            os.close(fd)
        raise
    return held
