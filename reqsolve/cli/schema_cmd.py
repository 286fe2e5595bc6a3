"""``reqsolve schema``: the JSON Schema of launcher files, for editors (yaml-language-server).

``--fields`` explains every field instead: its path, type, default and meaning.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    parser.add_argument(
        "--fields",
        action="store_true",
        help="explain every field (path, type, default, meaning) instead of printing JSON",
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not build the schema
    from reqsolve.config.schema import field_table, json_schema

    if args.fields:
        rows = field_table()
        width = max(len(path) for path, *_ in rows)
        kind_width = max(len(kind) for _, kind, *_ in rows)
        for path, kind, default, doc in rows:
            shown = f" (default {default})" if default else ""
            print(f"{path:{width}}  {kind:{kind_width}}  {doc}{shown}", file=stdout)
        return 0
    indent = None if args.compact else 2
    print(json.dumps(json_schema(), indent=indent, ensure_ascii=False), file=stdout)
    return 0
