"""Checked plain data -> the frozen model of :mod:`reqsolve.config.model`, defaults filled in.

The input comes from :class:`reqsolve.config.check.Checker`, so every value present is valid;
absent values (not written, or wrong and already reported) take the defaults that
:mod:`reqsolve.config.spec` states (:func:`written`): the one table of fields, which the model's
own defaults, the schema and both writers follow (``tests/test_config_spec.py`` holds them to it).
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
from reqsolve.config.spec import (
    LOCAL_GPU,
    LOCAL_LAUNCHER,
    NO_DEFAULT,
    NODE_GROUP,
    PARTITION,
    QOS,
    SLURM_LAUNCHER,
    SSH_CONNECTOR,
    Obj,
)

Data = dict[str, Any]


def written(data: Data | None, spec: Obj) -> Data:
    """Every field of ``spec``: as written in ``data``, else the spec's default (None when it
    has none: an id numbered by position, a size left unknown)."""
    data = data or {}
    return {
        name: data.get(name, None if field.default is NO_DEFAULT else field.default)
        for name, field in spec.fields.items()
    }


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
    item = written(data, LOCAL_LAUNCHER)
    cpu = item["cpu"] or {}
    return LocalLauncherConfig(
        id=item["id"] or f"local-{index}",
        connector=item["connector"],
        cpu=CpuConfig(cores=cpu.get("cores"), memory=cpu.get("memory")),
        gpus=tuple(LocalGpu(**written(gpu, LOCAL_GPU)) for gpu in item["gpus"]),
        tokens=tuple(item["tokens"].items()),
        tags=tuple(item["tags"]),
        weight=item["weight"],
        disabled=item["disable"],
    )


def _node_group(data: Data) -> NodeGroup:
    group = written(data, NODE_GROUP)
    return NodeGroup(
        hosts=tuple(group["hosts"]),
        features=tuple(group["features"]),
        count=group["count"],
        configuration=build_configuration(group["configuration"]),
        gpus=tuple(_gpu(gpu) for gpu in group["gpus"] if gpu is not None),
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
    partition = written(data, PARTITION)
    return Partition(
        name=name,
        nodes=tuple(_node_group(group) for group in partition["nodes"]),
        configuration=build_configuration(partition["configuration"]),
        qos=tuple(partition["qos"]),
        accounts=tuple(partition["accounts"]),
        priority=partition["priority"],
        disabled=partition["disabled"],
        max_nodes=partition.get("max_nodes"),
        memory_option=partition.get("memory_option"),
    )


def build_slurm(index: int, data: Data) -> SlurmLauncherConfig:
    item = written(data, SLURM_LAUNCHER)
    qos = tuple(Qos(name=name, **written(spec, QOS)) for name, spec in item["qos"].items())
    features = tuple(
        (name, build_configuration((spec or {}).get("configuration")) or Configuration())
        for name, spec in item["features"].items()
    )
    return SlurmLauncherConfig(
        id=item["id"] or f"slurm-{index}",
        connector=item["connector"],
        path=item["path"],
        tags=tuple(item["tags"]),
        weight=item["weight"],
        use_features=item["use_features"],
        use_hosts=item["use_hosts"],
        use_memory_constraint=item["use_memory_contraint"],
        query_slurm=item["query_slurm"],
        qos=qos,
        features_regex=tuple(item["features_regex"]),
        features=features,
        configuration=build_configuration(item["configuration"]) or Configuration(),
        partitions=tuple(_partition(n, p) for n, p in item["partitions"].items()),
        disabled=item["disabled"],
        gres_memory=tuple(
            GresType(name, (spec or {}).get("memory"), (spec or {}).get("model"))
            for name, spec in item["gres_memory"].items()
        ),
        gpu_option=item["gpu_option"],
        memory_option=item["memory_option"],
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
    connectors = []
    for name, spec in (data.get("ssh") or {}).items():
        if "hostname" in spec:
            fields = written(spec, SSH_CONNECTOR)
            fields["options"] = tuple(fields["options"])
            connectors.append(SshConnectorConfig(id=name, **fields))
    return tuple(connectors)


def build_counters(data: Data | None) -> tuple[tuple[str, int], ...]:
    if not data:
        return ()
    return tuple(
        (name, spec["tokens"])
        for name, spec in (data.get("countertoken") or {}).items()
        if "tokens" in spec
    )
