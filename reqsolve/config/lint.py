"""Rules that need the whole file: cross-references (errors) and likely mistakes (warnings).

Errors here make the file unusable (a launcher naming a token or connector nobody declares,
two launchers with the same id — answers name launchers by id). Warnings do not stop loading:
the file works, but probably not as its author thinks (see docs/launchers-file.md for the list).
The rules of one Slurm launcher are in :mod:`reqsolve.config.lint_slurm`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from reqsolve.config.commands_run import command_risks
from reqsolve.config.connector_rules import ssh_problems
from reqsolve.config.lint_slurm import slurm_rules
from reqsolve.config.linter import Linter
from reqsolve.config.model import LauncherFile, LocalLauncherConfig, SlurmLauncherConfig
from reqsolve.errors import Problem

MemoryText = tuple[str, str, int, int]  # path, text as written, line, column

_SIZE_RE = re.compile(
    r"\s*\+?(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<prefix>[kKmMgGtTpP])(?P<i>[iI]?)[bB]?\s*"
)


def _launcher_paths(
    launcher_file: LauncherFile,
) -> Iterator[tuple[str, LocalLauncherConfig | SlurmLauncherConfig]]:
    counts = {"local": 0, "slurm": 0}
    for launcher in launcher_file.launchers:
        index = counts[launcher.type]
        counts[launcher.type] += 1
        yield f"{launcher.type}[{index}]", launcher


def lint(
    launcher_file: LauncherFile,
    positions: Mapping[str, tuple[int, int]],
    *,
    file: str,
    tokens_file: bool = False,
    memory_texts: Iterable[MemoryText] = (),
    launcher_paths: Sequence[str] | None = None,
) -> list[Problem]:
    """Every cross-reference error and warning of a checked launcher file.

    ``launcher_paths`` gives the YAML path of each launcher (by default counted in order).
    """
    linter = Linter(file, positions)
    if launcher_paths is None:
        launchers = list(_launcher_paths(launcher_file))
    else:
        launchers = list(zip(launcher_paths, launcher_file.launchers, strict=True))
    _ids(linter, launchers)
    counters = dict(launcher_file.token_counters)
    _connectors(linter, launcher_file)
    for where, message, hint in command_risks(launchers, launcher_file.connectors):
        linter.warn(where, message, hint)  # what using the file runs here (ssh, Slurm's path)
    connectors = {connector.id for connector in launcher_file.connectors}
    for path, launcher in launchers:
        if launcher.connector != "local" and launcher.connector not in connectors:
            linter.error(
                f"{path}.connector",
                f"connector '{launcher.connector}' is not declared",
                "declare it under 'connectors: ssh:' (or in connectors.yaml beside this file), "
                "or use 'local'",
            )
        if isinstance(launcher, LocalLauncherConfig):
            _local(linter, path, launcher, counters, tokens_file)
        else:
            slurm_rules(linter, path, launcher)
    _every_disabled(linter, [launcher for _, launcher in launchers])
    _units(linter, memory_texts)
    return linter.problems


def _connectors(linter: Linter, launcher_file: LauncherFile) -> None:
    seen: set[str] = set()
    for connector in launcher_file.connectors:
        if connector.id in seen or connector.id == "local":
            linter.error(
                f"connectors.ssh.{connector.id}",
                f"connector '{connector.id}' is declared twice (connectors.yaml and connectors:)"
                if connector.id in seen
                else "'local' is the built-in connector and cannot be redefined",
                "give it another name",
            )
        seen.add(connector.id)
        # the checks ssh itself applies when the connector is used (one set, not two)
        for field, message, hint in ssh_problems(connector):
            linter.error(f"connectors.ssh.{connector.id}.{field}", message, hint)


def _ids(
    linter: Linter, launchers: list[tuple[str, LocalLauncherConfig | SlurmLauncherConfig]]
) -> None:
    first: dict[str, str] = {}
    for path, launcher in launchers:
        if launcher.id in first:
            linter.error(
                f"{path}.id" if f"{path}.id" in linter.positions else path,
                f"launcher id '{launcher.id}' is already used by {first[launcher.id]}",
                "give each launcher its own id: answers name launchers by id",
            )
        else:
            first[launcher.id] = path


def _local(
    linter: Linter,
    path: str,
    launcher: LocalLauncherConfig,
    counters: dict[str, int],
    tokens_file: bool,
) -> None:
    for name, count in launcher.tokens:
        capacity = counters.get(name)
        if capacity is not None and count > capacity:
            linter.error(
                f"{path}.tokens.{name}",
                f"one job takes {count} '{name}' tokens but the counter has only {capacity}: "
                "such a job would wait forever",
                f"take at most {capacity}, or raise the counter in tokens.yaml",
            )
        if name not in counters:
            hint = (
                f"declare it in tokens.yaml under 'countertoken:', e.g. {name}: {{tokens: 1}}"
                if tokens_file
                else f"create tokens.yaml beside this file with: "
                f"countertoken: {{{name}: {{tokens: 1}}}}"
            )
            linter.error(f"{path}.tokens.{name}", f"token '{name}' is not declared", hint)
    unknown = [
        what
        for what, value in (("cores", launcher.cpu.cores), ("memory", launcher.cpu.memory))
        if value is None
    ]
    if unknown and not launcher.disabled:  # a disabled launcher matches nothing: no matter
        linter.warn(
            f"{path}.cpu",
            f"cpu {' and '.join(unknown)} unknown: requests are not checked against "
            f"{'them' if len(unknown) > 1 else 'it'}",
            "write cpu: {cores: 8, memory: 32G}",
        )
    if launcher.cpu.cores == 0:
        linter.warn(
            f"{path}.cpu.cores",
            "cores: 0 means no core at all: no cpu(...) request fits this launcher",
            "write the number of cores, or leave cores out when it is unknown",
        )
    gpu_key = "gpus" if f"{path}.gpus" in linter.positions else "gpu"
    for index, gpu in enumerate(launcher.gpus):
        if gpu.count == 0 and gpu.memory:
            linter.warn(
                f"{path}.{gpu_key}[{index}].count",
                "GPU memory is given but count is 0: this entry declares no GPU",
                "set count to the number of such GPUs, or remove the entry",
            )
        elif gpu.count and gpu.memory is None and not launcher.disabled:
            linter.warn(
                f"{path}.{gpu_key}[{index}]",
                "GPU memory unknown: these GPUs satisfy cuda() but never a request that "
                "states a memory",
                "write its memory, e.g. memory: 24GiB",
            )


def _every_disabled(
    linter: Linter, launchers: list[LocalLauncherConfig | SlurmLauncherConfig]
) -> None:
    if not launchers:
        linter.warn(
            linter.top(),
            "the file declares no launcher: reqsolve find will find nothing",
            "add a launcher under local: or slurm:, or remove the file to use this machine",
        )
        return

    def off(launcher: LocalLauncherConfig | SlurmLauncherConfig) -> bool:
        if launcher.disabled:
            return True
        if isinstance(launcher, SlurmLauncherConfig) and not launcher.query_slurm:
            return bool(launcher.partitions) and all(p.disabled for p in launcher.partitions)
        return False

    if all(off(launcher) for launcher in launchers):
        line, column = linter.at(linter.top())
        linter.problems.append(
            Problem(
                linter.file,
                line,
                column,
                "",
                "warning",
                "every launcher is disabled: reqsolve find will find nothing",
            )
        )


def _units(linter: Linter, memory_texts: Iterable[MemoryText]) -> None:
    """Warn when ``48G`` and ``48GiB`` both appear: they differ by 7% and are likely one size."""
    from fractions import Fraction  # not needed by a cold ``reqsolve find`` before this

    # the number as an exact (numerator, denominator): equal like Fractions, cheaper to hash
    first: dict[tuple[tuple[int, int], str, bool], tuple[str, int]] = {}
    # text -> (number, prefix, binary): a file writes the same few sizes thousands of times
    keys: dict[str, tuple[tuple[int, int], str, bool] | None] = {}
    for path, text, line, _column in memory_texts:
        if text in keys:
            key = keys[text]
        else:
            match = _SIZE_RE.fullmatch(text)
            key = keys[text] = (
                None
                if match is None
                else (
                    Fraction(match["num"]).as_integer_ratio(),
                    match["prefix"].upper(),
                    bool(match["i"]),
                )
            )
        if key is None:
            continue
        number, prefix, binary = key
        other = first.get((number, prefix, not binary))
        if other is not None:
            linter.warn(
                path,
                f"'{text.strip()}' is {'binary' if binary else 'decimal'} but "
                f"'{other[0]}' (line {other[1]}) is {'decimal' if binary else 'binary'}: "
                "they differ by "
                f"{round((1024 / 1000) ** ' KMGTP'.index(prefix) * 100 - 100, 1)}%",
                "write both sizes the same way if they mean the same amount",
            )
        first.setdefault((number, prefix, binary), (text.strip(), line))

