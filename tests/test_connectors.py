"""Connectors run real commands: scripts in tmp_path that print, fail, hang; the real ssh."""

from __future__ import annotations

import shlex
import shutil
import socket
import time
from pathlib import Path

import pytest

from reqsolve.config.model import LauncherFile, SshConnectorConfig
from reqsolve.connectors import LocalConnector, SshConnector, connector_for
from reqsolve.errors import InvalidValue, SlurmQueryError
from tests.commands import write_commands


def script(tmp_path: Path, name: str, body: str) -> str:
    return str(write_commands(tmp_path, **{name: body}) / name)


def test_local_runs_argv_without_a_shell(tmp_path: Path) -> None:
    result = LocalConnector().run(["printf", "%s|", "a b", "$HOME", "`id`", ";"])
    assert result.stdout == "a b|$HOME|`id`|;|"
    assert result.returncode == 0


def test_local_passes_slurm_conf_and_extra_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    monkeypatch.setenv("SLURM_CONF", "/tmp/lab/slurm.conf")
    show = script(tmp_path, "show", 'echo "$SLURM_CONF $EXTRA"\n')
    result = LocalConnector(env={"EXTRA": "yes"}).run([show])
    assert result.stdout == "/tmp/lab/slurm.conf yes\n"


def test_local_input_reaches_stdin() -> None:
    assert LocalConnector().run(["cat"], input="#!/bin/sh\necho hi\n").stdout.endswith("hi\n")


FAILURES = [
    pytest.param("missing", None, "command not found", 127, "", id="not-found"),
    pytest.param("fails", "echo partial; echo 'scontrol: error: boom' >&2; exit 3\n",
                 "failed", 3, "scontrol: error: boom", id="non-zero"),
    pytest.param("noexec", None, "cannot execute", 126, "", id="not-executable"),
]


@pytest.mark.parametrize(("name", "body", "message", "status", "stderr"), FAILURES)
def test_local_failures_name_command_status_stderr(
    tmp_path: Path, name: str, body: str | None, message: str, status: int, stderr: str
) -> None:
    if body is not None:
        command = script(tmp_path, name, body)
    elif name == "noexec":
        command = str(tmp_path / "noexec")
        Path(command).write_text("#!/bin/sh\n", encoding="utf-8")
    else:
        command = str(tmp_path / "does-not-exist")
    with pytest.raises(SlurmQueryError) as info:
        LocalConnector().run([command, "show", "nodes"])
    error = info.value
    assert error.command == (command, "show", "nodes")
    assert error.returncode == status
    assert error.stderr.strip() == stderr
    assert message in str(error) and f"{command} show nodes" in str(error)
    if status:
        assert f"exit status {status}" in str(error)


def test_local_hanging_command_times_out_with_its_children(tmp_path: Path) -> None:
    # the wrapper's child keeps stdout open: killing only the wrapper would still hang
    hang = script(tmp_path, "hang", "echo started >&2\nsleep 30 &\nsleep 30\n")
    started = time.monotonic()
    with pytest.raises(SlurmQueryError, match=r"timed out after 0\.5 s") as info:
        LocalConnector().run([hang], timeout=0.5)
    assert time.monotonic() - started < 5
    assert info.value.stderr.strip() == "started"


def test_local_check_false_returns_failure() -> None:
    result = LocalConnector().run(["sh", "-c", "exit 4"], check=False)
    assert result.returncode == 4


def argv_printer(tmp_path: Path) -> str:
    """A stand-in `ssh` client that prints each argument it got, one per line."""
    return script(tmp_path, "fake-ssh", 'for a in "$@"; do printf "%s\\n" "$a"; done\n')


def test_ssh_argv_batchmode_and_quoting(tmp_path: Path) -> None:
    config = SshConnectorConfig(id="cluster", hostname="front.example.org", user="me", port=2222,
                                options=("StrictHostKeyChecking=accept-new",))
    remote = ["sbatch", "--parsable", "--constraint=(A&B)|(C&D)", "echo $HOME; rm -rf /", "it's"]
    result = SshConnector(config, ssh=argv_printer(tmp_path), connect_timeout=7).run(remote)
    lines = result.stdout.splitlines()
    assert lines[:-1] == [
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=7", "-o", "StrictHostKeyChecking=accept-new",
        "-p", "2222", "-l", "me", "--", "front.example.org",
    ]
    # the remote shell splits the one command line back into exactly the argv
    assert shlex.split(lines[-1]) == remote


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ssh_refused_is_a_query_error() -> None:
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client on this machine")
    config = SshConnectorConfig(id="nowhere", hostname="127.0.0.1", port=free_port())
    with pytest.raises(SlurmQueryError) as info:
        SshConnector(config, connect_timeout=3).run(["scontrol", "show", "nodes"], timeout=20)
    assert info.value.returncode == 255
    assert "ssh to 127.0.0.1 failed" in str(info.value)
    assert "nowhere: scontrol show nodes" in str(info.value)
    assert "refused" in info.value.stderr.lower()


def test_ssh_client_missing(tmp_path: Path) -> None:
    config = SshConnectorConfig(id="c", hostname="h")
    with pytest.raises(SlurmQueryError, match=r"ssh client .* not found"):
        SshConnector(config, ssh=str(tmp_path / "no-ssh")).run(["true"])


def test_ssh_remote_failure_keeps_status(tmp_path: Path) -> None:
    fake = script(tmp_path, "fake-ssh", "echo 'sinfo: command not found' >&2; exit 127\n")
    with pytest.raises(SlurmQueryError) as info:
        SshConnector(SshConnectorConfig(id="c", hostname="h"), ssh=fake).run(["sinfo"])
    assert info.value.returncode == 127 and "command not found" in info.value.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [("hostname", "-oProxyCommand=id"), ("hostname", "a b"), ("user", "-l"), ("user", "me;id"),
     ("options", ("ProxyCommand=x\nHost *",)), ("options", ("-F/tmp/x",)), ("port", 70000)],
)
def test_ssh_rejects_injection_in_config(field: str, value: object) -> None:
    base = {"id": "c", "hostname": "h"}
    with pytest.raises(InvalidValue, match="connector c"):
        SshConnector(SshConnectorConfig(**{**base, field: value}))  # type: ignore[arg-type]


def test_connector_for_names() -> None:
    launchers = LauncherFile(path="x.yaml", connectors=(SshConnectorConfig(id="jz", hostname="j"),))
    assert isinstance(connector_for("local"), LocalConnector)
    ssh = connector_for("jz", launchers)
    assert isinstance(ssh, SshConnector) and ssh.name == "jz"
    with pytest.raises(InvalidValue, match="unknown connector 'other'"):
        connector_for("other", launchers)


def test_empty_command_refused() -> None:
    with pytest.raises(InvalidValue):
        LocalConnector().run([])


def test_connector_for_configuration_and_local_first() -> None:
    shadow = SshConnectorConfig(id="local", hostname="elsewhere")
    jz = SshConnectorConfig(id="jz", hostname="j")
    launchers = LauncherFile(path="x.yaml", connectors=(shadow, jz))
    assert isinstance(connector_for("local", launchers), LocalConnector)  # never the file's
    resolved = connector_for(jz)
    assert isinstance(resolved, SshConnector) and resolved.config is jz
    with pytest.raises(InvalidValue) as info:
        connector_for("other", launchers)
    assert str(info.value) == (
        "unknown connector 'other'\nhint: declare it under connectors:, known: local, local, jz"
    )


def test_ssh_failure_raises_even_unchecked(tmp_path: Path) -> None:
    fake = script(tmp_path, "fake-ssh", "echo 'Connection refused' >&2; exit 255\n")
    ssh = SshConnector(SshConnectorConfig(id="c", hostname="h"), ssh=fake)
    with pytest.raises(SlurmQueryError) as info:
        ssh.run(["sinfo"], check=False)
    assert str(info.value) == (
        "c: sinfo: ssh to h failed (exit status 255)\nstderr: Connection refused"
    )
    fake = script(tmp_path, "fake-ssh2", "exit 3\n")
    unchecked = SshConnector(SshConnectorConfig(id="c", hostname="h"), ssh=fake)
    assert unchecked.run(["sinfo"], check=False).returncode == 3
    with pytest.raises(SlurmQueryError) as failed:
        unchecked.run(["sinfo"])
    assert str(failed.value) == "c: sinfo: failed (exit status 3)"


def test_empty_command_refused_by_every_connector() -> None:
    for connector in (LocalConnector(), SshConnector(SshConnectorConfig(id="c", hostname="h"))):
        with pytest.raises(InvalidValue, match=r"^empty command$"):
            connector.run([])


@pytest.mark.parametrize(
    "body",
    [
        "setsid sleep 30 &\nsleep 30\n",  # a grandchild in its own session holds stdout
        "setsid sleep 30 &\necho done\n",  # the command ends, its setsid child holds stdout
        "setsid sh -c 'sleep 30' &\nsleep 30 &\nsleep 30\n",
    ],
    ids=["setsid-while-running", "setsid-after-exit", "setsid-and-group"],
)
def test_timeout_is_kept_when_a_setsid_grandchild_holds_the_pipes(
    tmp_path: Path, body: str
) -> None:
    # issue 24 item 7: the 30 s limit became 91 s, waiting for an EOF that never came
    hang = script(tmp_path, "hang", body)
    started = time.monotonic()
    with pytest.raises(SlurmQueryError, match=r"timed out after 0\.5 s"):
        LocalConnector().run([hang], timeout=0.5)
    assert time.monotonic() - started < 2
