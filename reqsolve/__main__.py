"""``python -m reqsolve``: the command line."""

from reqsolve.cli import main

main()
