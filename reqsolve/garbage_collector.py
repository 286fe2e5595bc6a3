"""The two tunings of Python's cyclic garbage collector that earn their keep (docs/performance.md):

1. :func:`freeze_before_exit` — the collector's passes at interpreter exit skip frozen objects,
   which they would otherwise traverse (imports, the loaded file) only to find them freed by the
   teardown anyway: 11 % of a cold ``reqsolve find`` on a 1,000-node-group file.
2. :func:`collector_paused` — the collector is paused while a file is loaded or compiled (load +
   compile of 10,000 hosts: 1.6-1.9x slower without it):

Loading allocates one object per YAML value and frees few of them: with the collector running,
each of its passes walks every object still alive, which made a 10,000-group file load about
twice as slow. The node tree, checked data, model and candidates hold no reference cycles, so
nothing is lost by pausing it.

Turning it back on leaves those objects in the youngest generation, and the next allocation
makes the collector walk all of them once (~50 ms for 10,000 groups) only to find them alive.
So, when the process has frozen nothing itself, they are handed to the oldest generation
directly (``gc.freeze()`` then ``gc.unfreeze()``): a list splice instead of a walk. Objects the
program made meanwhile move along; a cycle among them is found by the next full collection.

Concurrent pauses need no lock: a pause that found the collector on turns it back on when it
ends, one that found it off leaves it alone, so it ends on if it was on before any of them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_before_exit() -> None:
    """Exclude every live object from the exit-time collections (see 1. above). Exit handlers,
    finalizers and stream flushing run as usual."""
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector while a file is loaded or compiled (see 2. above)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:  # never undo a freeze the program asked for
                gc.freeze()
                gc.unfreeze()
            gc.enable()
