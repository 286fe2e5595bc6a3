"""``python -m reqsolve``: the command line (the collector is relaxed before the imports)."""

import gc

gc.set_threshold(100_000, *gc.get_threshold()[1:])  # see reqsolve.cli.START_UP_GC_THRESHOLD

from reqsolve.cli import main  # noqa: E402

main()
