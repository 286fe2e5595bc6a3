"""SlurmOptions: validation at construction and every rendering."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqsolve.answers.options import OPTION_FIELDS, SlurmOptions, check_name, format_time
from reqsolve.errors import InvalidValue, ReqsolveError

FULL = SlurmOptions(
    partition="hard,electronic",
    constraint="(A6000&GPU3)|(RTX&GPU2)",
    gpus_per_node=2,
    cpus_per_task=4,
    mem="382M",
    time="4-00:00:00",
    qos="qos_gpu-t3",
    account="iea@a100",
    exclude="yop,a100-[01-02]",
)

VALID = [
    pytest.param(SlurmOptions(), ["--nodes=1"], id="defaults"),
    pytest.param(SlurmOptions(nodes=None), [], id="nothing"),
    pytest.param(
        FULL,
        [
            "--partition=hard,electronic",
            "--qos=qos_gpu-t3",
            "--account=iea@a100",
            "--constraint=(A6000&GPU3)|(RTX&GPU2)",
            "--nodes=1",
            "--exclude=yop,a100-[01-02]",
            "--gpus-per-node=2",
            "--cpus-per-task=4",
            "--mem=382M",
            "--time=4-00:00:00",
        ],
        id="full",
    ),
    pytest.param(SlurmOptions(nodelist="yop", time="12:00:00"),
                 ["--nodes=1", "--nodelist=yop", "--time=12:00:00"], id="nodelist"),
    pytest.param(SlurmOptions(constraint="cuda11.8", mem_per_gpu="10G"),
                 ["--constraint=cuda11.8", "--nodes=1", "--mem-per-gpu=10G"], id="dotted-feature"),
    pytest.param(SlurmOptions(constraint="[GPU2|GPU3]*2", gpus=3, nodes=None),
                 ["--constraint=[GPU2|GPU3]*2", "--gpus=3"], id="brackets-count"),
]


@pytest.mark.parametrize(("options", "expected"), VALID)
def test_args(options: SlurmOptions, expected: list[str]) -> None:
    assert options.args() == expected
    assert options.sbatch_header() == "".join(f"#SBATCH {a}\n" for a in expected)


BAD = [
    ("partition", "gpu\n#SBATCH --wrap=x", "newline"),
    ("partition", "gpu;rm -rf /", "';'"),
    ("partition", "gpu rm", "space"),
    ("partition", "--wrap", "would read as an option"),
    ("partition", "gpu,,cpu", "empty item"),
    ("partition", "gpu,-x", "would read as an option"),
    ("partition", "", "empty value"),
    ("qos", "q$(id)", "'$'"),
    ("qos", "q`id`", "'`'"),
    ("account", "a'b", '"\'"'),
    ("account", 'a"b', "'\"'"),
    ("account", "-A", "would read as an option"),
    ("constraint", "A&B;id", "';'"),
    ("constraint", "(A&B", "unbalanced"),
    ("constraint", "A)|(B", "unbalanced"),
    ("constraint", "A B", "space"),
    ("exclude", "yop yep", "space"),
    ("exclude", "yop\tyep", "tab"),
    ("nodelist", "n1|n2", "'|'"),
    ("mem", "400MB", "not a Slurm memory size"),
    ("mem", "-1M", "not a Slurm memory size"),
    ("mem_per_gpu", "4G\n", "not a Slurm memory size"),
    ("time", "1h", "not a Slurm time"),
    ("time", "4-00:00:00\n#SBATCH", "not a Slurm time"),
    ("gpus_per_node", 0, "positive integer"),
    ("cpus_per_task", -3, "positive integer"),
    ("nodes", True, "positive integer"),
    ("gpus", "2", "positive integer"),
    ("qos", 3, "expected text"),
    ("partition", "gpü", "'ü'"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD, ids=[f"{f}-{v!r}" for f, v, _ in BAD])
def test_rejected_at_construction(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidValue) as info:
        SlurmOptions(**{field: value})
    assert f"SlurmOptions.{field}" in str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ReqsolveError)


def test_config_validates_and_copies() -> None:
    changed = FULL.config(gpus_per_node=1, qos=None)
    assert changed.gpus_per_node == 1 and changed.qos is None and FULL.gpus_per_node == 2
    with pytest.raises(InvalidValue, match=r"SlurmOptions\.partition"):
        FULL.config(partition="a;b")
    with pytest.raises(InvalidValue, match="no field colour"):
        FULL.config(colour="red")


def test_as_json_has_every_field() -> None:
    data = FULL.as_json()
    assert data["partition"] == "hard,electronic"
    assert data["mem"] == "382M"
    assert data["nodelist"] is None
    assert set(data) == {
        "account", "constraint", "cpus_per_task", "exclude", "gpus", "gpus_per_node", "mem",
        "mem_per_gpu", "nodelist", "nodes", "ntasks_per_node", "partition", "qos", "time",
        "gpu_type", "gpu_types", "gpu_option",
    }


SUBMITIT = [
    pytest.param(
        FULL,
        {
            "slurm_partition": "hard,electronic",
            "slurm_qos": "qos_gpu-t3",
            "slurm_account": "iea@a100",
            "slurm_constraint": "(A6000&GPU3)|(RTX&GPU2)",
            "slurm_exclude": "yop,a100-[01-02]",
            "slurm_nodes": 1,
            "slurm_gpus_per_node": 2,
            "slurm_cpus_per_task": 4,
            "slurm_mem": "382M",
            "slurm_time": 5760,
        },
        id="full",
    ),
    pytest.param(SlurmOptions(time="00:00:30", nodelist="yop", gpus=2),
                 {"slurm_nodes": 1, "slurm_time": 1,
                  "slurm_additional_parameters": {"nodelist": "yop", "gpus": 2}},
                 id="time-rounds-up-extra"),
    pytest.param(SlurmOptions(time="01:00:01", nodes=None), {"slurm_time": 61}, id="61-minutes"),
]


@pytest.mark.parametrize(("options", "expected"), SUBMITIT)
def test_to_submitit(options: SlurmOptions, expected: dict[str, object]) -> None:
    assert options.to_submitit() == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00"), (59, "00:00:59"), (7200, "02:00:00"), (86399, "23:59:59"),
     (86400, "1-00:00:00"), (345600, "4-00:00:00"), (360000, "4-04:00:00")],
)
def test_format_time_reexport(seconds: int, text: str) -> None:
    assert format_time(seconds) == text
    assert SlurmOptions.from_seconds(seconds).time_seconds == seconds


@given(st.text(min_size=1, max_size=12))
def test_any_accepted_partition_is_a_safe_word(text: str) -> None:
    try:
        options = SlurmOptions(partition=text, nodes=None)
    except InvalidValue:
        return
    arg = options.args()[0]
    assert shlex.quote(arg) == arg and shlex.split(options.sbatch_header()) == ["#SBATCH", arg]
    assert not text.startswith("-")


def test_option_fields_are_the_peers() -> None:
    """docs/semantics.md §6 lists the fields, plus the GPU type and dialect of a typed request;
    OPTION_FIELDS is read from the dataclass itself."""
    assert OPTION_FIELDS == (
        "account", "constraint", "cpus_per_task", "exclude", "gpus", "gpus_per_node",
        "gpu_type", "gpu_types", "gpu_option", "mem", "mem_per_gpu", "nodelist", "nodes",
        "ntasks_per_node",
        "partition", "qos", "time",
    )
    with pytest.raises(InvalidValue) as info:
        SlurmOptions().config(colour="red", size=2)
    assert str(info.value) == (
        "SlurmOptions has no field colour, size\nhint: fields: " + ", ".join(OPTION_FIELDS)
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("qos", "-x", "SlurmOptions.qos: '-x' starts with '-' and would read as an option"),
        ("partition", "gpu,-x", "SlurmOptions.partition: '-x' starts with '-' and would read "
         "as an option"),
        ("exclude", "-a[1-2]", "SlurmOptions.exclude: '-a[1-2]' starts with '-' and would read "
         "as an option"),
        ("constraint", "-A", "SlurmOptions.constraint: '-A' would read as an option"),
    ],
    ids=["name", "list-item", "host-list", "constraint"],
)
def test_option_like_values_messages(field: str, value: str, message: str) -> None:
    with pytest.raises(InvalidValue) as info:
        SlurmOptions(**{field: value})  # type: ignore[arg-type]
    assert str(info.value) == message
    if field == "qos":
        with pytest.raises(InvalidValue) as direct:
            check_name(field, value)
        assert str(direct.value) == message


def test_name_regex_is_the_name_alphabet() -> None:
    from reqsolve.answers.names import SLURM_NAME_CHARS, SLURM_NAME_OUTSIDE_RE, SLURM_NAME_RE

    chars = [chr(code) for code in range(0x3000)]
    assert {c for c in chars if not SLURM_NAME_OUTSIDE_RE.fullmatch(c)} == SLURM_NAME_CHARS
    assert {c for c in chars if SLURM_NAME_RE.fullmatch("a" + c)} == SLURM_NAME_CHARS
    assert {c for c in chars if SLURM_NAME_RE.fullmatch(c)} == SLURM_NAME_CHARS - {"-"}


NON_ASCII_NAMES = ["gpu\u00e9", "\uff21100", "gpu\u0663"]  # é, fullwidth A, Arabic-Indic 3


@pytest.mark.parametrize("name", NON_ASCII_NAMES, ids=["accent", "fullwidth", "arabic-digit"])
def test_slurm_options_refuse_non_ascii_names(name: str) -> None:
    with pytest.raises(InvalidValue, match="is not allowed in the name"):
        SlurmOptions(qos=name)


@pytest.mark.parametrize("name", NON_ASCII_NAMES, ids=["accent", "fullwidth", "arabic-digit"])
def test_loader_refuses_what_slurm_options_refuse(tmp_path: Path, name: str) -> None:
    from reqsolve.config.loader import load_config
    from reqsolve.errors import ConfigError

    path = tmp_path / "launchers.yaml"
    path.write_text(
        f"slurm:\n  - id: c\n    partitions:\n      {name}:\n        nodes: [{{hosts: [n1]}}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="cannot be a Slurm name"):
        load_config(str(path))
