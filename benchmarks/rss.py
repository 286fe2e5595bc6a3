"""Peak memory of the current process, shared by the reqsolve and peer probes.

Both probes run as scripts from this folder (so it is on ``sys.path``), the peer's in its own
venv, which is why this is a file of its own and not part of reqsolve.
"""

from __future__ import annotations


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that high-water
    mark across exec, so a child would report its parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
