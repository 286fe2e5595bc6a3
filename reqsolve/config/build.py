"""Checked plain data -> the frozen model of :mod:`reqsolve.config.model`, defaults filled in.

The input comes from :class:`reqsolve.config.check.Checker`, so every value present is valid;
absent values (not written, or wrong and already reported) take their defaults.
"""

from __future__ import annotations

from typing import Any

from reqsolve.config.model import (
    Configuration,
    CpuConfig,
    GpuConfig,
    GresType,
    LauncherConfig,
    LocalGpu,
    LocalLauncherConfig,
    NodeGroup,
    Partition,
    Qos,
    SlurmLauncherConfig,
    SshConnectorConfig,
)

Data = dict[str, Any]


# Values -> the one frozen Configuration holding them. A file with a node group per host writes
# the same few configurations thousands of times: building each once saves the frozen
# dataclasses' construction, memory, and lets later dictionaries keyed on configurations compare
# them by identity. Bounded so that a long-running process reloading files stays small.
_ConfigurationKey = tuple[
    int | None,
    tuple[int | None, int | None, int | None, int | None],
    tuple[str | None, int | None, int | None, int | None, float | None, str | None],
]
_CONFIGURATIONS: dict[_ConfigurationKey, Configuration] = {}
_MAX_CONFIGURATIONS = 4096


def build_configuration(data: Data | None) -> Configuration | None:
    if data is None:
        return None
    cpu = data.get("cpu") or {}
    gpu = data.get("gpu") or {}
    key: _ConfigurationKey = (
        data.get("max_duration"),
        (cpu.get("cores"), cpu.get("memory"), cpu.get("mem_per_cpu"), cpu.get("cpu_per_gpu")),
        (
            gpu.get("model"),
            gpu.get("count"),
            gpu.get("memory"),
            gpu.get("min_memory"),
            _float(gpu.get("min_mem_ratio")),
            gpu.get("gres_type"),
        ),
    )
    found = _CONFIGURATIONS.get(key)
    if found is not None:
        return found
    configuration = Configuration(key[0], CpuConfig(*key[1]), GpuConfig(*key[2]))
    if len(_CONFIGURATIONS) >= _MAX_CONFIGURATIONS:
        _CONFIGURATIONS.clear()
    _CONFIGURATIONS[key] = configuration
    return configuration


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def build_local(index: int, data: Data) -> LocalLauncherConfig:
    cpu = data.get("cpu") or {}
    return LocalLauncherConfig(
        id=data.get("id", f"local-{index}"),
        connector=data.get("connector", "local"),
        cpu=CpuConfig(cores=cpu.get("cores"), memory=cpu.get("memory")),
        gpus=tuple(
            LocalGpu(model=g.get("model"), count=g.get("count", 1), memory=g.get("memory"))
            for g in data.get("gpus", [])
        ),
        tokens=tuple(data.get("tokens", {}).items()),
        tags=tuple(data.get("tags", [])),
        weight=data.get("weight", 0),
        disabled=data.get("disable", False),
    )


def _node_group(data: Data) -> NodeGroup:
    return NodeGroup(
        hosts=tuple(data.get("hosts", ())),
        features=tuple(data.get("features", ())),
        count=data.get("count", 0),
        configuration=build_configuration(data.get("configuration")),
        gpus=tuple(_gpu(gpu) for gpu in data.get("gpus", ()) if gpu is not None),
    )


def _gpu(data: Data) -> GpuConfig:
    return GpuConfig(
        model=data.get("model"),
        count=data.get("count"),
        memory=data.get("memory"),
        min_memory=data.get("min_memory"),
        min_mem_ratio=_float(data.get("min_mem_ratio")),
        gres_type=data.get("gres_type"),
    )


def _partition(name: str, data: Data | None) -> Partition:
    data = data or {}
    return Partition(
        name=name,
        nodes=tuple(_node_group(group) for group in data.get("nodes", ())),
        configuration=build_configuration(data.get("configuration")),
        qos=tuple(data.get("qos", ())),
        accounts=tuple(data.get("accounts", ())),
        priority=data.get("priority", 0),
        disabled=data.get("disabled", False),
    )


def build_slurm(index: int, data: Data) -> SlurmLauncherConfig:
    qos = tuple(
        Qos(
            name=name,
            max_duration=(spec or {}).get("max_duration"),
            min_gpu=(spec or {}).get("min_gpu", 0),
            priority=(spec or {}).get("priority", 0),
        )
        for name, spec in data.get("qos", {}).items()
    )
    features = tuple(
        (name, build_configuration((spec or {}).get("configuration")) or Configuration())
        for name, spec in data.get("features", {}).items()
    )
    return SlurmLauncherConfig(
        id=data.get("id", f"slurm-{index}"),
        connector=data.get("connector", "local"),
        path=data.get("path", "/usr/bin"),
        tags=tuple(data.get("tags", ())),
        weight=data.get("weight", 0),
        use_features=data.get("use_features", True),
        use_hosts=data.get("use_hosts", True),
        use_memory_constraint=data.get("use_memory_contraint", True),
        query_slurm=data.get("query_slurm", False),
        qos=qos,
        features_regex=tuple(data.get("features_regex", ())),
        features=features,
        configuration=build_configuration(data.get("configuration")) or Configuration(),
        partitions=tuple(_partition(n, p) for n, p in data.get("partitions", {}).items()),
        disabled=data.get("disabled", False),
        gres_memory=tuple(
            GresType(name, (spec or {}).get("memory"), (spec or {}).get("model"))
            for name, spec in data.get("gres_memory", {}).items()
        ),
        gpu_option=data.get("gpu_option", "gpus-per-node"),
    )


def build_launchers(
    document: Data, order: list[str]
) -> tuple[tuple[LauncherConfig, ...], tuple[str, ...]]:
    """Launchers in file order (the groups in the order written, then items in order), and the
    YAML path of each (``slurm[2]``: a wrong item is skipped but keeps its place)."""
    launchers: list[LauncherConfig] = []
    paths: list[str] = []
    for group in order:
        for index, item in enumerate(document.get(group) or ()):
            if item is None:
                continue
            if group == "local":
                launchers.append(build_local(index, item))
            else:
                launchers.append(build_slurm(index, item))
            paths.append(f"{group}[{index}]")
    return tuple(launchers), tuple(paths)


def build_connectors(data: Data | None) -> tuple[SshConnectorConfig, ...]:
    if not data:
        return ()
    return tuple(
        SshConnectorConfig(
            id=name,
            hostname=spec["hostname"],
            user=spec.get("user"),
            port=spec.get("port"),
            options=tuple(spec.get("options", ())),
        )
        for name, spec in (data.get("ssh") or {}).items()
        if "hostname" in spec
    )


def build_counters(data: Data | None) -> tuple[tuple[str, int], ...]:
    if not data:
        return ()
    return tuple(
        (name, spec["tokens"])
        for name, spec in (data.get("countertoken") or {}).items()
        if "tokens" in spec
    )
