"""``reqsolve convert launchers.yaml --to python``: the same launchers as a ``launchers.py``.

The migration path for users who want to decide in code: the printed file declares the YAML's
launchers as Python values and hands the solving to reqsolve, so it answers exactly as the YAML
did until it is edited.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="launcher file (YAML) to convert")
    parser.add_argument(
        "--to", choices=("python",), default="python", help="target format (default python)"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write to OUT instead of printing (not overwritten)"
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load the loader
    from reqsolve.config.loader import load_config
    from reqsolve.pyconfig import python_source

    path = Path(args.file)
    if not path.is_file():
        print(f"reqsolve convert: {args.file}: no such file", file=stderr)
        return EXIT_USAGE
    source = python_source(load_config(path), origin=args.file)
    if args.output is None:
        stdout.write(source)
        return EXIT_OK
    output = Path(args.output)
    if output.exists():
        print(f"reqsolve convert: {args.output} exists; not overwriting it", file=stderr)
        return EXIT_USAGE
    output.write_text(source, encoding="utf-8")
    print(f"wrote {args.output}", file=stderr)
    return EXIT_OK
