"""``reqsolve slurm convert|discover``: launcher YAML from what Slurm reports.

``convert`` is offline (``scontrol show nodes | reqsolve slurm convert``); ``discover`` runs the
queries of ``query_slurm`` launchers through their connectors and prints the merged result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reqsolve.errors import InvalidValue, ReqsolveError

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.config.model import LauncherFile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="slurm_command", metavar="SUBCOMMAND")
    convert = sub.add_parser(
        "convert",
        help="launcher YAML from `scontrol show nodes` output (text or JSON) on stdin",
        description="Read `scontrol show nodes` (multi-line or --oneliner) or `sinfo --json` "
        "on stdin and print a launcher file that `reqsolve validate` accepts. Hosts "
        "with the same features and configuration become one node group; down, drained and "
        "not responding nodes are left out (listed as comments).",
    )
    convert.add_argument("--id", default="slurm", help="launcher id (default: slurm)")
    convert.add_argument(
        "--partitions",
        metavar="FILE",
        help="`scontrol show partition` output (text or JSON): adds MaxTime, DefMemPerCPU, "
        "AllowQos, AllowAccounts, State",
    )
    convert.add_argument(
        "--qos", metavar="FILE", help="`sacctmgr --parsable2 show qos` output: adds QoS limits"
    )
    discover = sub.add_parser(
        "discover",
        help="query Slurm for query_slurm launchers and print the merged configuration",
        description="Run the discovery of `query_slurm: true` launchers (or of --launcher) "
        "through their connectors and print the configuration merged with the file (the "
        "file wins, field by field).",
    )
    discover.add_argument(
        "--config", metavar="FILE", help="launcher file (default: the usual search)"
    )
    discover.add_argument(
        "--launcher", metavar="ID", help="only this launcher (even without query_slurm)"
    )
    discover.add_argument("--timeout", type=float, default=30.0,
                          help="seconds allowed to each Slurm command (default 30)")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}") from None


def _convert(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    # imported when `slurm convert` runs
    from reqsolve.answers.options import check_name
    from reqsolve.slurm import convert, readers

    check_name("id", args.id)
    text = stdin.read()
    if not text.strip():
        raise InvalidValue(
            "nothing on stdin", "pipe `scontrol show nodes` (or `sinfo --json`) into it"
        )
    command = ("stdin",)
    nodes = readers.read_nodes(text, command)
    partitions = None
    if args.partitions:
        partitions = readers.read_partitions(_read(args.partitions), (args.partitions,))
    qos = readers.read_qos(_read(args.qos), (args.qos,)) if args.qos else []
    discovered = convert.build(nodes, partitions, qos)
    launcher = convert.launcher_from(discovered, id=args.id)
    stdout.write(convert.launcher_yaml([launcher], discovered.left_out, discovered.notes))
    return 0


def load_launcher_file(config: str | None) -> LauncherFile:
    """The launcher file of ``--config`` (a file or a configuration directory), or the one the
    usual search finds: resolved by the registry, so every command reads the same file."""
    # imported when `slurm discover` names no file: the configuration's registry
    from reqsolve.finder import registry_for

    launcher_file: LauncherFile = registry_for(config).state().launcher_file
    return launcher_file


def _discover(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # imported when `slurm discover` runs: the Slurm queries
    from reqsolve.config.model import SlurmLauncherConfig
    from reqsolve.slurm import convert, query

    launcher_file = load_launcher_file(args.config)
    chosen = [
        launcher
        for launcher in launcher_file.launchers
        if isinstance(launcher, SlurmLauncherConfig)
        and (launcher.id == args.launcher if args.launcher else launcher.query_slurm)
    ]
    if not chosen:
        what = f"no slurm launcher '{args.launcher}'" if args.launcher else (
            "no slurm launcher with query_slurm: true"
        )
        raise InvalidValue(f"{launcher_file.path}: {what}")
    merged: list[SlurmLauncherConfig] = []
    left_out: list[convert.LeftOut] = []
    notes: list[str] = []
    failed = 0
    for launcher in chosen:
        try:
            result = query.discover_details(
                launcher, launcher_file, timeout=args.timeout, cache_dir=None
            )
        except ReqsolveError as exc:
            print(f"reqsolve: {launcher.id}: {exc}", file=stderr)
            failed += 1
            continue
        merged.append(result.launcher)
        left_out.extend(result.left_out)
        notes.extend(n for n in result.discovered.notes if n not in notes)
    if merged:
        stdout.write(convert.launcher_yaml(merged, left_out, notes))
    return 1 if failed else 0


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.slurm_command == "convert":
        return _convert(args, sys.stdin, stdout)
    if args.slurm_command == "discover":
        return _discover(args, stdout, stderr)
    print("reqsolve slurm: give a subcommand: convert or discover", file=stderr)
    return 2
