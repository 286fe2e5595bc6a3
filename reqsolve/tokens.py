"""Counter tokens across processes: at most N jobs holding a counter's tokens at once.

A counter of capacity N is N slot files under the tokens directory; a job taking k tokens holds
an exclusive ``flock`` on k of them for as long as it runs. The kernel drops the locks when the
process ends, however it ends, so a crashed job never leaks tokens. Which counters exist is
read from ``tokens.yaml`` by :mod:`reqsolve.config.tokens_file`.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from reqsolve.errors import InvalidValue


def default_tokens_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("REQSOLVE_TOKENS_DIR") or Path(base) / "reqsolve" / "tokens")


def _try_take(directory: Path, name: str, capacity: int, count: int) -> list[int] | None:
    held: list[int] = []
    for slot in range(capacity):
        fd = os.open(directory / f"{name}.{slot}", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        held.append(fd)
        if len(held) == count:
            return held
    for fd in held:
        os.close(fd)
    return None


def check_wanted(wanted: Mapping[str, int], capacities: Mapping[str, int]) -> None:
    """Refuse tokens no counter declares, more than a counter holds, or unusable names."""
    for name, count in wanted.items():
        if name not in capacities:
            raise InvalidValue(f"token {name!r} is declared by no counter in tokens.yaml")
        if count > capacities[name]:
            raise InvalidValue(
                f"a job takes {count} '{name}' tokens but the counter has only "
                f"{capacities[name]}: it could never run"
            )
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidValue(f"token name {name!r} cannot be a file name")


def take_counters(
    folder: Path, wanted: Mapping[str, int], capacities: Mapping[str, int]
) -> list[int] | str:
    """Every wanted token at once (the locked descriptors), or the name of a busy counter
    (then nothing is held)."""
    held: list[int] = []
    for name, count in wanted.items():
        if count <= 0:
            continue
        got = _try_take(folder, name, capacities[name], count)
        if got is None:
            for fd in held:
                os.close(fd)
            return name
        held.extend(got)
    return held


@contextmanager
def hold_tokens(
    wanted: Mapping[str, int],
    capacities: Mapping[str, int],
    *,
    directory: Path | None = None,
    poll: float = 0.5,
    on_wait: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold ``wanted`` tokens (name -> count) while the block runs, waiting until they are free.

    All counters are taken together or not at all (then retried), so two jobs each holding half
    of what the other needs cannot block each other forever.
    """
    check_wanted(wanted, capacities)
    folder = directory if directory is not None else default_tokens_dir()
    folder.mkdir(parents=True, exist_ok=True)
    told = False
    while True:
        got = take_counters(folder, wanted, capacities)
        if not isinstance(got, str):
            held = got
            break
        if on_wait is not None and not told:
            on_wait(got)
            told = True
        sleep(poll)
    try:
        yield
    finally:
        for fd in held:
            os.close(fd)
