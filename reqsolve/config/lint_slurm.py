"""The whole-file rules of one Slurm launcher: its partitions and node groups, its
``features_regex`` and its ``gres_memory`` (docs/launchers-file.md, "What validate reports").
Split from :mod:`reqsolve.config.lint`, which runs them for each Slurm launcher."""

from __future__ import annotations

from reqsolve.config.effective import compiled_features_regex, decode_feature, group_configuration
from reqsolve.config.linter import Linter
from reqsolve.config.model import MEMORY_OPTIONS, Configuration, SlurmLauncherConfig
from reqsolve.config.regex import (
    DECODED_GROUPS,
    MAX_FEATURE_LENGTH,
    MEMORY_GROUP_PREFIX,
    MEMORY_GROUP_UNITS,
    match_feature,
    memory_group_unit,
)
from reqsolve.config.spec import SLURM_LAUNCHER
from reqsolve.quantities import human_memory


def slurm_rules(linter: Linter, path: str, launcher: SlurmLauncherConfig) -> None:
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
    _memory_option(linter, path, launcher)
    cpu_unknown: list[tuple[str, list[str]]] = []
    gpu_memory_unknown: list[str] = []
    groups = 0
    mem_per_cpu_known = False
    enabled = [p for p in launcher.partitions if not p.disabled]
    gpuless: list[str] = []  # enabled partitions without a GPU (mem-per-gpu needs one)
    for partition in launcher.partitions:
        has_gpu = False
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
            has_gpu = has_gpu or bool(configuration.gpu.count) or any(g.count for g in group.gpus)
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
        if (
            partition.nodes
            and not partition.disabled
            and not has_gpu
            and launcher.memory_option_of(partition) == "mem-per-gpu"
        ):
            gpuless.append(partition.name)
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
    elif not mem_per_cpu_known:
        for where, value in _memory_options_written(path, launcher):
            if value != "mem-per-cpu":
                continue
            linter.warn(
                where,
                "memory_option is mem-per-cpu but no mem_per_cpu is set: "
                "memory requests cannot be satisfied",
                "set configuration: cpu: mem_per_cpu: (e.g. 4G)",
            )
    if not launcher.query_slurm:
        for partition_name in gpuless:
            partition_path = f"{path}.partitions.{partition_name}"
            linter.warn(
                partition_path,
                f"partition '{partition_name}' asks for memory with --mem-per-gpu but none of"
                " its node groups has a GPU: a memory request cannot run there",
                "give it memory_option: mem, or state its GPUs",
            )
    if launcher.partitions and not enabled and not launcher.disabled and not launcher.query_slurm:
        linter.warn(path, "every partition of this launcher is disabled: it is never chosen")


GPU_OPTIONS = ("gpus-per-node", "gres")
MEMORY_OPTION_HINT = (
    "write mem (--mem, per node), mem-per-cpu (memory turned into --cpus-per-task through"
    " mem_per_cpu) or mem-per-gpu (--mem-per-gpu, per GPU)"
)


def _memory_options_written(path: str, launcher: SlurmLauncherConfig) -> list[tuple[str, str]]:
    """Where this launcher writes ``memory_option``, and what: the launcher's, then its
    partitions' (YAML paths)."""
    places = [(f"{path}.memory_option", launcher.memory_option)] + [
        (f"{path}.partitions.{p.name}.memory_option", p.memory_option)
        for p in launcher.partitions
    ]
    return [(where, value) for where, value in places if value is not None]


def _memory_option(linter: Linter, path: str, launcher: SlurmLauncherConfig) -> None:
    """``memory_option``: one of the dialects, and agreeing with ``use_memory_contraint`` when
    the launcher writes both (docs/semantics.md §6, "Memory dialects")."""
    for where, value in _memory_options_written(path, launcher):
        if value not in MEMORY_OPTIONS:
            import difflib  # only for a misspelt value

            close = difflib.get_close_matches(value, MEMORY_OPTIONS, n=1, cutoff=0.6)
            linter.error(
                where, f"memory_option '{value}' is not a way to ask for memory",
                (f"did you mean '{close[0]}'? " if close else "") + MEMORY_OPTION_HINT,
            )
    key = SLURM_LAUNCHER.spelling("use_memory_contraint", linter.positions, path)
    written = linter.positions.get(f"{path}.{key}")
    option = launcher.memory_option
    if written is None or option is None or option not in MEMORY_OPTIONS:
        return
    means = "mem" if launcher.use_memory_constraint else "mem-per-cpu"
    if option != means:
        linter.error(
            f"{path}.memory_option",
            f"memory_option: {option} contradicts {key}:"
            f" {str(launcher.use_memory_constraint).lower()} (line {written[0]}), which means"
            f" {means}",
            f"remove {key}: memory_option says how jobs ask for memory",
        )


def _gres_memory(linter: Linter, path: str, launcher: SlurmLauncherConfig) -> None:
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


def _regexes(linter: Linter, path: str, launcher: SlurmLauncherConfig) -> None:
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
