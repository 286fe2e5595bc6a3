"""One description of every field of a launcher file, read by the checker and the JSON Schema.

The loader checks a document against :data:`LAUNCHER_FILE`, ``reqsolve schema`` prints the same
description as JSON Schema, and ``docs/launchers-file.md`` is written from it: a field added here
is known to all three, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reqsolve.config.model import MEMORY_OPTIONS

LeafKind = Literal[
    "name",  # free text on one line: ids, tags, GPU models
    "slurm",  # a name that reaches Slurm options: partition, QoS, account, feature, host
    "token",  # a token name, used as a lock file name
    "text",  # free text on one line (paths, host names of connectors)
    "int",
    "number",
    "bool",
    "memory",  # a size with a unit, in bytes
    "duration",  # a duration with a unit, in seconds
    "ratio",  # a number in [0, 1]
    "regex",  # a features regex (Python syntax, matched at the start of a feature)
]

NO_DEFAULT: Any = object()


# Frozen in practice (written once, here) and compared by identity (eq=False): a dataclass each.
# (They were plain slotted classes to save ~1 ms each at start-up: the four cost ~2 ms of a
# ~200 ms cold ``reqsolve find``, under the 10 % a speed trick must earn; docs/performance.md.)


@dataclass(slots=True, eq=False)
class Leaf:
    kind: LeafKind
    doc: str
    default: Any = NO_DEFAULT
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # the only values allowed (the schema's enum; lint says so)


@dataclass(slots=True, eq=False)
class ListOf:
    item: Spec
    doc: str
    default: Any = NO_DEFAULT
    nullable: bool = False  # ``key:`` with nothing means an empty list
    keep_places: bool = False  # a wrong item leaves ``None`` (positions name items)


@dataclass(slots=True, eq=False)
class MapOf:
    key: Leaf
    value: Spec
    doc: str
    default: Any = NO_DEFAULT


@dataclass(slots=True, eq=False)
class Obj:
    title: str
    doc: str
    fields: dict[str, Spec]
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> field name
    required: tuple[str, ...] = ()
    nullable: bool = False  # ``key: null`` means "not written"
    default: Any = NO_DEFAULT
    extensions: bool = False  # keys starting with ``x-`` are ignored (anchor holders)
    shorthand: str | None = None  # a scalar written in its place is this one field

    def spelling(self, field: str, positions: Mapping[str, object], path: str) -> str:
        """How the file at ``path`` spells ``field``: an alias of it written there (positions
        are the loader's, by dotted path), else its name — a message names what was written."""
        for alias, target in self.aliases.items():
            if target == field and f"{path}.{alias}" in positions:
                return alias
        return field

EXTENSION_PREFIX = "x-"

Spec = Leaf | ListOf | MapOf | Obj

# --- configuration (launcher, partition, node group and feature levels)

CPU_CONFIGURATION = Obj(
    "cpu configuration",
    "CPU capacity of one node; an unset value is unknown and does not constrain requests.",
    {
        "cores": Leaf("int", "Cores of one node.", minimum=0),
        "memory": Leaf("memory", "Memory of one node (e.g. 256G, 512GiB)."),
        "mem_per_cpu": Leaf(
            "memory",
            "Memory Slurm gives each core; with use_memory_contraint: false, a memory request "
            "becomes a number of cores.",
        ),
        "cpu_per_gpu": Leaf("int", "Cores given with each GPU (informative).", minimum=0),
    },
    nullable=True,
)

GPU_CONFIGURATION = Obj(
    "gpu configuration",
    "GPUs of one node: count of identical GPUs, their memory and model.",
    {
        "model": Leaf("name", "GPU model (matched case-insensitively by cuda(model=...))."),
        "count": Leaf("int", "Number of GPUs on one node.", minimum=0, maximum=1024),
        "memory": Leaf("memory", "Memory of each GPU (e.g. 40GiB)."),
        "min_memory": Leaf(
            "memory", "Smallest request sent to these GPUs (requests below it go elsewhere)."
        ),
        "min_mem_ratio": Leaf(
            "ratio",
            "Smallest request as a fraction of the GPU memory (0.7: a 64G GPU takes requests "
            "of 44.8G and more).",
        ),
        "gres_type": Leaf(
            "slurm",
            "GRES type Slurm knows these GPUs by (gpu:<type>:N); typed requests name it. "
            "Discovery sets it.",
        ),
    },
    nullable=True,
)

CONFIGURATION = Obj(
    "configuration",
    "Limits and capacity; later levels win field by field: launcher, partition, node group, "
    "`features:` entries, values decoded by features_regex.",
    {
        "max_duration": Leaf("duration", "Longest job (e.g. 20h, 4 days, 2-00:00:00)."),
        "cpu": CPU_CONFIGURATION,
        "gpu": GPU_CONFIGURATION,
    },
    nullable=True,
)

# --- local launchers

LOCAL_CPU = Obj(
    "local cpu",
    "CPU capacity of the machine; an unset value is unknown and does not constrain requests.",
    {
        "cores": Leaf("int", "Cores of the machine.", minimum=0),
        "memory": Leaf("memory", "Memory of the machine (e.g. 64G)."),
    },
)

LOCAL_GPU = Obj(
    "local gpu",
    "A kind of GPU of the machine.",
    {
        "model": Leaf("name", "GPU model, e.g. A100."),
        "count": Leaf("int", "How many GPUs of this kind.", default=1, minimum=0, maximum=1024),
        "memory": Leaf("memory", "Memory of each GPU (e.g. 8116MiB)."),
    },
)

LOCAL_LAUNCHER = Obj(
    "local launcher",
    "Runs jobs on a machine directly (experimaestro's DirectLauncher).",
    {
        "id": Leaf("name", "Identifier shown in answers; default local-<n>, n its position."),
        "connector": Leaf(
            "name", "`local` or a connector of the `connectors:` section.", default="local"
        ),
        "cpu": LOCAL_CPU,
        "gpus": ListOf(LOCAL_GPU, "GPUs of the machine.", default=[]),
        "tokens": MapOf(
            Leaf("token", "A counter declared in tokens.yaml."),
            Leaf("int", "How many tokens one job takes.", minimum=0),
            "Tokens one job takes (counters declared in tokens.yaml beside this file).",
            default={},
        ),
        "tags": ListOf(Leaf("name", "A tag."), "Tags for `--tags` filtering.", default=[]),
        "weight": Leaf("number", "Higher weights are tried first.", default=0),
        "disable": Leaf("bool", "Never choose this launcher.", default=False),
    },
    aliases={"gpu": "gpus", "disabled": "disable"},
)

# --- slurm launchers

QOS = Obj(
    "qos",
    "Limits and priority of a Slurm QoS.",
    {
        "max_duration": Leaf("duration", "Longest job under this QoS."),
        "min_gpu": Leaf("int", "Fewest GPUs a job must request.", default=0, minimum=0),
        "priority": Leaf("int", "Added to the partition priority.", default=0),
    },
    nullable=True,
)

NODE_GROUP = Obj(
    "node group",
    "Nodes of a partition sharing the same features and configuration.",
    {
        "hosts": ListOf(Leaf("slurm", "A host name."), "Host names.", default=[]),
        "features": ListOf(Leaf("slurm", "A Slurm feature."), "Slurm features.", default=[]),
        "count": Leaf("int", "Number of hosts when `hosts` is empty.", default=0, minimum=0),
        "configuration": CONFIGURATION,
        "gpus": ListOf(
            GPU_CONFIGURATION,
            "A node with several kinds of GPU (several GRES types): one entry per kind, each "
            "over configuration.gpu.",
            default=[],
        ),
    },
)

GRES_TYPE = Obj(
    "gres type",
    "What Slurm cannot tell of a GRES type: the memory of each GPU (a size alone is short for "
    "{memory: size}), and the model cuda(model=...) matches instead of the type.",
    {
        "memory": Leaf("memory", "Memory of each GPU of this type (e.g. 40GiB, 5GB)."),
        "model": Leaf("name", "Model name matched by cuda(model=...) (default: the type)."),
    },
    shorthand="memory",
)

PARTITION = Obj(
    "partition",
    "A Slurm partition.",
    {
        "nodes": ListOf(NODE_GROUP, "Node groups of the partition.", default=[]),
        "configuration": CONFIGURATION,
        "qos": ListOf(Leaf("slurm", "A QoS name."), "QoS usable with this partition.", default=[]),
        "accounts": ListOf(
            Leaf("slurm", "An account name."), "Accounts usable with this partition.", default=[]
        ),
        "priority": Leaf("int", "Higher priorities are preferred.", default=0),
        "disabled": Leaf("bool", "Never use this partition.", default=False),
        "max_nodes": Leaf(
            "int", "Slurm's MaxNodes: the most nodes one job may span here.", minimum=1
        ),
        "memory_option": Leaf(
            "name",
            "How jobs here ask for memory, over the launcher's memory_option: mem, mem-per-cpu "
            "or mem-per-gpu.",
            choices=MEMORY_OPTIONS,
        ),
    },
    nullable=True,
)

FEATURE = Obj(
    "feature",
    "Configuration that every node with this feature has.",
    {"configuration": CONFIGURATION},
    nullable=True,
)

SLURM_LAUNCHER = Obj(
    "slurm launcher",
    "Submits jobs to a Slurm cluster.",
    {
        "id": Leaf("name", "Identifier shown in answers; default slurm-<n>, n its position."),
        "connector": Leaf(
            "name", "`local` or a connector of the `connectors:` section.", default="local"
        ),
        "path": Leaf("text", "Directory of the Slurm commands.", default="/usr/bin"),
        "tags": ListOf(Leaf("name", "A tag."), "Tags for `--tags` filtering.", default=[]),
        "weight": Leaf("number", "Higher weights are tried first.", default=0),
        "use_features": Leaf("bool", "Select nodes with --constraint.", default=True),
        "use_hosts": Leaf("bool", "Accepted and ignored, as by experimaestro.", default=True),
        "use_memory_contraint": Leaf(
            "bool",
            "false: the cluster refuses --mem; memory becomes cores through mem_per_cpu "
            "(memory_option: mem-per-cpu says the same).",
            default=True,
        ),
        "memory_option": Leaf(
            "name",
            "How jobs ask for memory: mem (--mem, per node), mem-per-cpu (memory becomes "
            "--cpus-per-task through mem_per_cpu) or mem-per-gpu (--mem-per-gpu, per GPU). "
            "Default: mem, or mem-per-cpu with use_memory_contraint: false.",
            choices=MEMORY_OPTIONS,
        ),
        "query_slurm": Leaf(
            "bool", "Ask scontrol for partitions, nodes and features.", default=False
        ),
        "configuration": CONFIGURATION,
        "qos": MapOf(Leaf("slurm", "A QoS name."), QOS, "QoS definitions.", default={}),
        "features_regex": ListOf(
            Leaf(
                "regex",
                "Matched at the start of each feature; named groups cuda_count, cuda_memory, "
                "cuda_model.",
            ),
            "Decode GPU count, memory and model from feature names.",
            default=[],
        ),
        "features": MapOf(
            Leaf("slurm", "A Slurm feature."),
            FEATURE,
            "Configuration attached to features.",
            default={},
        ),
        "partitions": MapOf(
            Leaf("slurm", "A partition name."), PARTITION, "Partitions, in order.", default={}
        ),
        "disabled": Leaf("bool", "Never choose this launcher.", default=False),
        "gres_memory": MapOf(
            Leaf("slurm", "A GRES type, as Slurm spells it (a100, a100_1g.5gb)."),
            GRES_TYPE,
            "GPU memory (and model) of each GRES type, applied to every node group whose GPUs "
            "have that type (case-insensitive).",
            default={},
        ),
        "gpu_option": Leaf(
            "name",
            "How jobs ask for GPUs: gpus-per-node (--gpus-per-node=[type:]N) or gres "
            "(--gres=gpu[:type]:N).",
            default="gpus-per-node",
        ),
    },
    aliases={"use_memory_constraint": "use_memory_contraint", "disable": "disabled"},
)

# --- connectors (experimaestro's connectors.yaml shape, also accepted inline)

SSH_CONNECTOR = Obj(
    "ssh connector",
    "Runs Slurm commands on another machine through ssh.",
    {
        "hostname": Leaf("text", "Host to connect to."),
        "user": Leaf("text", "User name on that host."),
        "port": Leaf("int", "ssh port.", minimum=1, maximum=65535),
        "options": ListOf(
            Leaf("text", "An ssh -o option, e.g. BatchMode=yes."), "Extra ssh options.", default=[]
        ),
    },
    required=("hostname",),
)

CONNECTORS = Obj(
    "connectors",
    "Named connectors by type (experimaestro's connectors.yaml).",
    {"ssh": MapOf(Leaf("name", "A connector name."), SSH_CONNECTOR, "ssh connectors.", default={})},
    nullable=True,
)

LAUNCHER_FILE = Obj(
    "launchers file",
    "Launchers reqsolve chooses from (experimaestro's launchers.yaml format).",
    {
        "local": ListOf(
            LOCAL_LAUNCHER, "Local launchers.", default=[], nullable=True, keep_places=True
        ),
        "slurm": ListOf(
            SLURM_LAUNCHER, "Slurm launchers.", default=[], nullable=True, keep_places=True
        ),
        "connectors": CONNECTORS,
    },
    extensions=True,
)

COUNTER = Obj(
    "counter token",
    "A counter: at most `tokens` units are taken at once.",
    {"tokens": Leaf("int", "Capacity of the counter.", minimum=0)},
    required=("tokens",),
)

TOKENS_FILE = Obj(
    "tokens file",
    "Token counters (experimaestro's tokens.yaml).",
    {
        "countertoken": MapOf(
            Leaf("token", "A counter name."), COUNTER, "Counters by name.", default={}
        )
    },
)
