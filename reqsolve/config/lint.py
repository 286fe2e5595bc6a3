"""Rules that need the whole file: cross-references (errors) and likely mistakes (warnings).

Errors here make the file unusable (a launcher naming a token or connector nobody declares,
two launchers with the same id — answers name launchers by id). Warnings do not stop loading:
the file works, but probably not as its author thinks (see docs/launchers-file.md for the list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from reqsolve.config.commands_run import command_risks
from reqsolve.config.connector_rules import ssh_problems
from reqsolve.config.effective import compiled_features_regex, decode_feature, group_configuration
from reqsolve.config.model import (
    Configuration,
    LauncherFile,
    LocalLauncherConfig,
    SlurmLauncherConfig,
    written_position,
)
from reqsolve.config.regex import (
    DECODED_GROUPS,
    MAX_FEATURE_LENGTH,
    MEMORY_GROUP_PREFIX,
    MEMORY_GROUP_UNITS,
    match_feature,
    memory_group_unit,
)
from reqsolve.config.spec import SLURM_LAUNCHER
from reqsolve.errors import Problem
from reqsolve.quantities import human_memory

MemoryText = tuple[str, str, int, int]  # path, text as written, line, column

_SIZE_RE = re.compile(
    r"\s*\+?(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<prefix>[kKmMgGtTpP])(?P<i>[iI]?)[bB]?\s*"
)


class _Linter:
    def __init__(self, file: str, positions: Mapping[str, tuple[int, int]]) -> None:
        self.file = file
        self.positions = positions
        self.problems: list[Problem] = []

    def at(self, path: str) -> tuple[int, int]:
        return written_position(self.positions, path) or (1, 1)

    def report(self, severity: str, path: str, message: str, hint: str | None = None) -> None:
        line, column = self.at(path)
        self.problems.append(Problem(self.file, line, column, path, severity, message, hint))

    def top(self) -> str:
        """The first top-level key written: where file-wide findings point."""
        written = [key for key in ("local", "slurm", "connectors") if key in self.positions]
        return min(written, key=lambda key: self.positions[key], default="")

    def warn(self, path: str, message: str, hint: str | None = None) -> None:
        self.report("warning", path, message, hint)

    def error(self, path: str, message: str, hint: str | None = None) -> None:
        self.report("error", path, message, hint)


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
    linter = _Linter(file, positions)
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
            _slurm(linter, path, launcher)
    _every_disabled(linter, [launcher for _, launcher in launchers])
    _units(linter, memory_texts)
    return linter.problems


def _connectors(linter: _Linter, launcher_file: LauncherFile) -> None:
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
    linter: _Linter, launchers: list[tuple[str, LocalLauncherConfig | SlurmLauncherConfig]]
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
    linter: _Linter,
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


def _slurm(linter: _Linter, path: str, launcher: SlurmLauncherConfig) -> None:
    if not launcher.use_hosts:
        linter.warn(
            f"{path}.use_hosts",
            "use_hosts is accepted and ignored (as by experimaestro)",
            "remove it",
        )
    if not launcher.partitions and not launcher.query_slurm:
        linter.warn(
            path,
            "launcher has no partitions (and query_slurm is false): it is never chosen",
            "add partitions: or query_slurm: true",
        )
    _regexes(linter, path, launcher)
    _gres_memory(linter, path, launcher)
    cpu_unknown: list[tuple[str, list[str]]] = []
    gpu_memory_unknown: list[str] = []
    groups = 0
    mem_per_cpu_known = False
    enabled = [p for p in launcher.partitions if not p.disabled]
    for partition in launcher.partitions:
        ppath = f"{path}.partitions.{partition.name}"
        for index, qos in enumerate(partition.qos):
            if launcher.qos_named(qos) is None:
                linter.warn(
                    f"{ppath}.qos[{index}]",
                    f"QoS '{qos}' is not defined under this launcher's qos: (no limits known)",
                    f"define it, e.g. qos: {{{qos}: {{max_duration: 20h}}}}",
                )
        if not partition.nodes and not partition.disabled and not launcher.query_slurm:
            linter.warn(
                ppath,
                f"partition '{partition.name}' has no nodes: it is never chosen",
                "list its node groups under nodes:, or set disabled: true",
            )
        seen_hosts: dict[str, int] = {}
        # groups repeat (same features, same configuration): merge each kind once
        configurations: dict[tuple[tuple[str, ...], Configuration | None], Configuration] = {}
        for gindex, group in enumerate(partition.nodes):
            gpath = f"{ppath}.nodes[{gindex}]"
            if not group.hosts and group.count == 0:
                linter.warn(
                    gpath,
                    "node group has no hosts and a count of 0",
                    "list its hosts (so they can be excluded when needed) or give count",
                )
            for hindex, host in enumerate(group.hosts):
                other = seen_hosts.get(host)
                if other is not None and other != gindex:
                    linter.warn(
                        f"{gpath}.hosts[{hindex}]",
                        f"host '{host}' is also in node group {other} of this partition",
                        "a host has one set of features: keep it in one group",
                    )
                elif other is not None:
                    message = f"host '{host}' is listed twice in this node group: it is one node"
                    linter.warn(f"{gpath}.hosts[{hindex}]", message, "list each host once")
                else:
                    seen_hosts.setdefault(host, gindex)
            conf_key = (group.features, group.configuration)
            configuration = configurations.get(conf_key)
            if configuration is None:
                configuration = configurations[conf_key] = group_configuration(
                    launcher, partition, group
                )
            if configuration.cpu.mem_per_cpu is not None:
                mem_per_cpu_known = True
            if partition.disabled:
                continue
            groups += 1
            gpu = configuration.gpu
            if gpu.memory and not gpu.count:
                linter.warn(
                    gpath,
                    f"GPU memory is {human_memory(gpu.memory)} but the GPU count is "
                    f"{'0' if gpu.count == 0 else 'not set'}: this group has no GPU",
                    "set gpu: count (or a feature decoded by cuda_count)",
                )
            if gpu.count and gpu.memory is None:
                gpu_memory_unknown.append(f"{partition.name}.nodes[{gindex}]")
            missing = [
                what
                for what, value in (
                    ("cores", configuration.cpu.cores),
                    ("memory", configuration.cpu.memory),
                )
                if value is None
            ]
            if missing:
                cpu_unknown.append((f"{partition.name}.nodes[{gindex}]", missing))
    if cpu_unknown and not launcher.query_slurm and not launcher.disabled:
        what = sorted({kind for _, kinds in cpu_unknown for kind in kinds})
        linter.warn(
            path,
            f"cpu {' and '.join(what)} unknown for {len(cpu_unknown)} of {groups} node groups "
            f"(e.g. {cpu_unknown[0][0]}): requests are not checked against "
            f"{'them' if len(what) > 1 else 'it'}",
            "set configuration: cpu: {cores: .., memory: ..} at the launcher, partition or "
            "node group level",
        )
    if gpu_memory_unknown and not launcher.disabled:
        linter.warn(
            path,
            f"GPU memory unknown for {len(gpu_memory_unknown)} node group(s) with GPUs "
            f"(e.g. {gpu_memory_unknown[0]}): they satisfy cuda() but never a request that "
            "states a memory (Slurm cannot enforce GPU memory)",
            "set gres_memory: {<GRES type>: <size>} for their GRES type, configuration: gpu: "
            "{memory: ..}, a features: entry, or a features_regex capturing cuda_memory",
        )
    if not launcher.use_memory_constraint and not mem_per_cpu_known:
        key = SLURM_LAUNCHER.spelling("use_memory_contraint", linter.positions, path)
        linter.warn(
            f"{path}.{key}",
            "use_memory_contraint is false but no mem_per_cpu is set: "
            "memory requests cannot be satisfied",
            "set configuration: cpu: mem_per_cpu: (e.g. 4G)",
        )
    if launcher.partitions and not enabled and not launcher.disabled and not launcher.query_slurm:
        linter.warn(path, "every partition of this launcher is disabled: it is never chosen")


GPU_OPTIONS = ("gpus-per-node", "gres")


def _gres_memory(linter: _Linter, path: str, launcher: SlurmLauncherConfig) -> None:
    """``gpu_option`` and the ``gres_memory`` map: sizes, and types no node group has."""
    if launcher.gpu_option not in GPU_OPTIONS:
        linter.error(
            f"{path}.gpu_option",
            f"gpu_option '{launcher.gpu_option}' is not a way to ask for GPUs",
            "write gpus-per-node (--gpus-per-node=[type:]N) or gres (--gres=gpu[:type]:N)",
        )
    if not launcher.gres_memory:
        return
    present: set[str] = set()
    for partition in launcher.partitions:
        for group in partition.nodes:
            for gpu in (group.configuration.gpu if group.configuration else None, *group.gpus):
                if gpu is not None:
                    present.update(n.casefold() for n in (gpu.gres_type, gpu.model) if n)
    for entry in launcher.gres_memory:
        epath = f"{path}.gres_memory.{entry.name}"
        if entry.memory is None:
            if entry.model is None:
                linter.warn(epath, f"gres_memory entry '{entry.name}' states nothing",
                            "give the memory of each GPU of this type, e.g. 40GiB")
        elif entry.memory < 2**30:
            linter.warn(
                epath,
                f"GPU memory of GRES type '{entry.name}' is {human_memory(entry.memory)}, "
                "under 1 GiB: a unit forgotten?",
                "write e.g. 40GiB or 5GB",
            )
        if not launcher.query_slurm and entry.name.casefold() not in present:
            linter.warn(
                epath,
                f"GRES type '{entry.name}' is not the GPU model or GRES type of any node group "
                "of this launcher: it applies to nothing",
                "check its spelling against Slurm's Gres (scontrol show nodes)",
            )


def _regexes(linter: _Linter, path: str, launcher: SlurmLauncherConfig) -> None:
    if not launcher.features_regex:
        return
    try:
        patterns = compiled_features_regex(launcher.features_regex)
    except ValueError:  # reported by the checker already
        return
    features: list[tuple[str, str]] = []  # (feature, path of its first occurrence)
    seen: set[str] = set()
    for partition in launcher.partitions:
        for gindex, group in enumerate(partition.nodes):
            for findex, feature in enumerate(group.features):
                if feature not in seen:
                    seen.add(feature)
                    features.append(
                        (
                            feature,
                            f"{path}.partitions.{partition.name}.nodes[{gindex}]"
                            f".features[{findex}]",
                        )
                    )
    for index, pattern in enumerate(patterns):
        rpath = f"{path}.features_regex[{index}]"
        names = list(pattern.groupindex)
        for name in names:
            if name.startswith(MEMORY_GROUP_PREFIX) and memory_group_unit(name) is None:
                linter.warn(
                    rpath,
                    f"group '{name}': '{name[len(MEMORY_GROUP_PREFIX):]}' is not a unit",
                    f"write a unit after {MEMORY_GROUP_PREFIX}: "
                    + ", ".join(MEMORY_GROUP_UNITS),
                )
                continue
            if name not in DECODED_GROUPS and memory_group_unit(name) is None:
                import difflib  # only for a misspelt group

                close = difflib.get_close_matches(name, DECODED_GROUPS, n=1, cutoff=0.6)
                linter.warn(
                    rpath,
                    f"group '{name}' is not decoded (known: {', '.join(DECODED_GROUPS)})",
                    f"did you mean '{close[0]}'?" if close else None,
                )
        if not names:
            linter.warn(
                rpath,
                "features regex has no cuda_count, cuda_memory or cuda_model group: "
                "it decodes nothing",
                "name a group, e.g. GPU(?P<cuda_count>\\d+)",
            )
        elif not launcher.query_slurm and not any(match_feature(pattern, f) for f, _ in features):
            linter.warn(rpath, "features regex matches no feature of this launcher's nodes")
    for feature, fpath in features:
        if len(feature) > MAX_FEATURE_LENGTH:
            linter.warn(fpath, f"feature of {len(feature)} characters: features_regex decodes"
                        f" features of at most {MAX_FEATURE_LENGTH}, not this one")
        decoded = decode_feature(launcher.features_regex, feature)
        if decoded.error is not None:
            linter.error(fpath, f"feature '{feature}': {decoded.error}")


def _every_disabled(
    linter: _Linter, launchers: list[LocalLauncherConfig | SlurmLauncherConfig]
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


def _units(linter: _Linter, memory_texts: Iterable[MemoryText]) -> None:
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

