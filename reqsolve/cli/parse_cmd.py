"""``reqsolve parse EXPR``: show how an expression is understood, in words or as JSON (§7)."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from reqsolve.requirement import Alternative
from reqsolve.units import format_duration, format_memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "expression",
        metavar="EXPR",
        help="requirement expression, e.g. 'duration=4 days & cuda(mem=4G)*2 & cpu(cores=4)'",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default), json for programs (docs/semantics.md §7)",
    )


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when the command runs: `--help` and usage errors do not load lark
    from reqsolve.parser import parse

    requirement = parse(args.expression)
    if args.format == "json":
        json.dump(requirement.as_json(), stdout)
        stdout.write("\n")
        return 0
    print(f"canonical: {requirement}", file=stdout)
    for index, alternative in enumerate(requirement.alternatives):
        print(f"alternative {index}: {alternative}", file=stdout)
        for line in describe(alternative):
            print(f"  {line}", file=stdout)
    return 0


def describe(alternative: Alternative) -> list[str]:
    """One line per term, with the exact base-unit values the solver will compare."""
    lines = []
    if alternative.duration:
        seconds = alternative.duration
        lines.append(f"duration: {format_duration(seconds)} ({seconds} s)")
    else:
        lines.append("duration: not limited")
    if alternative.cpu is not None:
        cpu = alternative.cpu
        memory = (
            f"{format_memory(cpu.memory)} ({cpu.memory} bytes)" if cpu.memory else "not asked"
        )
        lines.append(f"cpu: {cpu.cores} core{'s' if cpu.cores > 1 else ''}, memory {memory}")
    else:
        lines.append("cpu: not asked")
    if alternative.gpus:
        lines.append(f"gpus: {len(alternative.gpus)} on one node")
        for gpu in alternative.gpus:
            memory = f">= {format_memory(gpu.memory)} ({gpu.memory} bytes)" if gpu.memory else "any"
            model = f", model {gpu.model}" if gpu.model is not None else ""
            lines.append(f"  - memory {memory}{model}")
    else:
        lines.append("gpus: none")
    return lines
