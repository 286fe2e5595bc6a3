"""Whose files reqsolve believes: a launcher file is obeyed only when no one else could write it.

A ``launchers.py`` is imported (its code runs as whoever runs reqsolve), a ``launchers.yaml``
names the binaries run for Slurm (``path:``) and the ssh options of its connectors, and the
grammar cache is a pickle. So, as ssh's ``StrictModes`` does for ``~/.ssh``, a file is refused,
with the reason, when

- it, or any directory above it up to ``$HOME`` (when it is under it) or ``/``, belongs to a
  user other than the one running reqsolve and root; or
- any of them can be written by another user: world-writable, or group-writable by a group
  other than the owner's private group (a group named after the owner, whose only member is the
  owner: Debian's user-private groups, as Debian's ssh allows);
- a directory with the sticky bit (``/tmp``) is the exception: others can add entries to it but
  not replace or remove ours, and every file read is checked for its own owner.

Both the path as written and the path its symbolic links lead to are checked (a link others
own could be turned elsewhere). A path that does not exist is not refused here: the reader
says "no such file". :func:`not_a_file` names what a path is when it is not a regular file
(a FIFO would block a reader forever, a directory is not a file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reqsolve.errors import ConfigError, Problem


def not_a_file(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(what the path is, what to do) when it is not a launcher file that can be read."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if os.path.lexists(path):
            return f"is a dangling symbolic link (to {os.readlink(path)})", "fix or remove the link"
        return "no such file", "check the path"
    except NotADirectoryError:
        return "no such file (a part of the path is not a directory)", "check the path"
    except PermissionError:
        return "permission denied", "make the file readable"
    except OSError as exc:  # ELOOP: a symbolic link loop; ENAMETOOLONG
        return f"cannot be read: {exc.strerror or exc}", "check the path"
    wrong = not_regular(mode, path)
    if wrong is not None:
        return wrong
    if not os.access(path, os.R_OK):
        return "permission denied", "make the file readable"
    return None


def not_regular(mode: int, path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(what a file of this ``stat`` mode is, what to do) when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        name = Path(path) / "launchers.yaml"
        return "is a directory, not a launcher file", f"name the file: {name}"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "character" if stat.S_ISCHR(mode) else "block"
        return f"is a {kind} device, not a launcher file", "name a launcher file (.yaml or .py)"
    if stat.S_ISFIFO(mode):
        return (
            "is a FIFO (named pipe), not a launcher file",
            "write the content to a file first: a FIFO can be read only once",
        )
    if stat.S_ISSOCK(mode):
        return "is a socket, not a launcher file", "name a launcher file (.yaml or .py)"
    return "is not a regular file", "name a launcher file (.yaml or .py)"


def _user_name(uid: int) -> str:
    # pwd: a Unix-only module, loaded only when an owner must be named
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _private_group(info: os.stat_result) -> bool:
    """Whether the file's group is its owner's private group (named after the owner, the owner
    its only member, and the owner's primary group)."""
    # grp and pwd: Unix-only modules, needed only for a group-writable file
    import grp
    import pwd

    try:
        owner = pwd.getpwuid(info.st_uid)
        group = grp.getgrgid(info.st_gid)
    except KeyError:
        return False
    return (
        owner.pw_gid == info.st_gid
        and group.gr_name == owner.pw_name
        and set(group.gr_mem) <= {owner.pw_name}
    )


def _ancestors(path: str, home: str | None) -> list[str]:
    """``path`` and every directory above it, up to ``home`` when under it, else up to ``/``."""
    chain = [path]
    while True:
        if home is not None and path == home:
            return chain
        parent = os.path.dirname(path)
        if parent == path:
            return chain
        chain.append(parent)
        path = parent


def _wrong(entry: str, info: os.stat_result, uid: int) -> str | None:
    if info.st_uid not in (uid, 0):
        owner, you = _user_name(info.st_uid), _user_name(uid)
        return f"{entry} belongs to {owner}, not to you ({you}) or root"
    mode = info.st_mode
    if stat.S_ISLNK(mode) or (stat.S_ISDIR(mode) and mode & stat.S_ISVTX):
        return None  # a link's own mode means nothing; a sticky directory keeps ours ours
    if mode & stat.S_IWOTH:
        return f"{entry} can be written by every user (mode {stat.filemode(mode)})"
    if mode & stat.S_IWGRP and not _private_group(info):
        return f"{entry} can be written by its group (mode {stat.filemode(mode)})"
    return None


def untrusted(path: str | os.PathLike[str]) -> str | None:
    """Why another user could have written ``path`` (None: only you or root could)."""
    uid = os.geteuid()
    written = os.path.abspath(os.fspath(path))
    real = os.path.realpath(written)
    home_text = os.path.expanduser("~")
    home = os.path.realpath(home_text) if os.path.isabs(home_text) else None
    seen: set[str] = set()
    for start in (written, real):
        for entry in _ancestors(start, home if start == real else os.path.abspath(home_text)):
            if entry in seen:
                continue
            seen.add(entry)
            try:
                info = os.lstat(entry)
            except OSError:
                continue  # not there: the reader says so
            reason = _wrong(entry, info, uid)
            if reason is not None:
                return reason
    return None


HINT = (
    "only you (or root) may own or write a launcher file and the directories above it:"
    " chown it to yourself, chmod go-w each directory named (docs/launchers-file.md, 'Whose"
    " files are used')"
)


def refusal(path: str | os.PathLike[str], reason: str, hint: str = HINT) -> ConfigError:
    """The error of a file refused as a whole: ``file: message`` (no line to point at)."""
    file = os.fspath(path)
    problem = Problem(file, 0, 0, "", "error", f"refused: {reason}", hint)
    return ConfigError([problem], f"{file}: refused: {reason}\nhint: {hint}")


def check_trusted(path: str | os.PathLike[str]) -> None:
    """Raise :class:`ConfigError` when ``path`` exists but is not a regular file, or when
    another user could have written it (a missing file is left to the reader to report)."""
    wrong = not_a_file(path)
    if wrong is not None and wrong[0] not in ("no such file", "permission denied"):
        message, hint = wrong
        file = os.fspath(path)
        problem = Problem(file, 0, 0, "", "error", message, hint)
        raise ConfigError([problem], f"{file}: {message}\nhint: {hint}")
    reason = untrusted(path)
    if reason is not None:
        raise refusal(path, reason)


def check_directory(path: str | os.PathLike[str]) -> None:
    """Raise :class:`ConfigError` when another user owns or can write a configuration directory
    (or a directory above it): they could put a ``launchers.py`` there."""
    reason = untrusted(path)
    if reason is not None:
        raise refusal(path, reason)
