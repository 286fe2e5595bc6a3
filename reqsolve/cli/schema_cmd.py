"""``reqsolve schema``: the JSON Schema of launcher files, for editors (yaml-language-server)."""

from __future__ import annotations

import argparse
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json

    from reqsolve.config.schema import json_schema

    indent = None if args.compact else 2
    print(json.dumps(json_schema(), indent=indent, ensure_ascii=False), file=stdout)
    return 0
