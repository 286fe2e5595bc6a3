"""``python -m reqsolve``: the command line (the collector is relaxed before the imports)."""

from reqsolve.garbage_collector import relax_for_command_line

relax_for_command_line()

from reqsolve.cli import main  # noqa: E402

main()
