"""validate flags what using a launcher file runs on this machine (issue 24, item 4): an ssh
option naming a local command, and a Slurm ``path:`` that another user could write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reqsolve.config.commands_run import ssh_command
from tests.cli_run import cli

NOBODY = 65534


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("ProxyCommand=ssh -W %h:%p bastion", ("ProxyCommand", "ssh -W %h:%p bastion")),
        ("proxycommand nc %h %p", ("proxycommand", "nc %h %p")),
        ("LocalCommand=touch /tmp/x", ("LocalCommand", "touch /tmp/x")),
        ("KnownHostsCommand=/bin/cat %H", ("KnownHostsCommand", "/bin/cat %H")),
        ("ProxyCommand=none", None),
        ("ProxyJump=bastion", None),
        ("IdentityFile=~/.ssh/id", None),
    ],
)
def test_which_ssh_options_run_a_command(option: str, expected: tuple[str, str] | None) -> None:
    assert ssh_command(option) == expected


CONNECTOR = """connectors:
  ssh:
    front:
      hostname: front.example.org
      options: ["{option}"]
slurm:
  - id: remote
    connector: front
    partitions: {{p: {{nodes: [{{hosts: [n1]}}]}}}}
"""


@pytest.mark.parametrize(
    ("option", "flagged"),
    [
        ("ProxyCommand=ssh -W %h:%p bastion", "ssh option ProxyCommand runs a command"),
        ("LocalCommand=touch here", "ssh option LocalCommand runs a command"),
        ("KnownHostsCommand=/bin/cat %H", "ssh option KnownHostsCommand runs a command"),
        ("ProxyJump=bastion", None),
    ],
)
def test_validate_flags_an_ssh_option_that_runs_a_command(
    tmp_path: Path, option: str, flagged: str | None
) -> None:
    path = tmp_path / "launchers.yaml"
    path.write_text(CONNECTOR.format(option=option))
    code, out, _ = cli("validate", str(path))
    assert code == 0
    warnings = [line for line in out.splitlines() if ": warning: " in line]
    if flagged is None:
        assert not [line for line in warnings if "runs a command" in line]
    else:
        [line] = [line for line in warnings if flagged in line]
        assert f"{path}:5:" in line  # at the option, in the file
        assert "connector 'front'" in line
        assert code == 0 and cli("validate", "--strict", str(path))[0] == 1


SLURM_AT = """slurm:
  - id: here
    path: {path}
    partitions: {{p: {{nodes: [{{hosts: [n1]}}]}}}}
"""


def _bin(tmp_path: Path, dir_mode: int = 0o755, sbatch_mode: int = 0o755) -> Path:
    folder = tmp_path / "slurm" / "bin"
    folder.mkdir(parents=True)
    sbatch = folder / "sbatch"
    sbatch.write_text("#!/bin/sh\n")
    sbatch.chmod(sbatch_mode)
    folder.chmod(dir_mode)
    return folder


def _bin_of_nobody(tmp_path: Path) -> Path:
    folder = _bin(tmp_path)
    os.chown(folder / "sbatch", NOBODY, NOBODY)
    return folder


@pytest.mark.parametrize(
    ("make", "flagged"),
    [
        pytest.param(lambda tmp: _bin(tmp), None, id="yours"),
        pytest.param(lambda tmp: Path("/usr/bin"), None, id="usr-bin"),
        pytest.param(lambda tmp: _bin(tmp, dir_mode=0o777), "bin can be written by every user",
                     id="world-writable-directory"),
        pytest.param(lambda tmp: _bin(tmp, sbatch_mode=0o777), "sbatch can be written by every",
                     id="world-writable-sbatch"),
        pytest.param(_bin_of_nobody, "sbatch belongs to nobody", id="sbatch-of-other-uid",
                     marks=pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")),
    ],
)
def test_validate_flags_a_slurm_path_others_can_write(
    tmp_path: Path, make: object, flagged: str | None
) -> None:
    assert callable(make)
    folder = make(tmp_path)
    path = tmp_path / "launchers.yaml"
    path.write_text(SLURM_AT.format(path=folder))
    code, out, _ = cli("validate", str(path))
    assert code == 0
    said = [line for line in out.splitlines() if "Slurm commands of launcher" in line]
    if flagged is None:
        assert said == []
    else:
        [line] = said
        assert line.startswith(f"{path}:3:") and flagged in line


def test_a_remote_path_is_not_looked_at_here(tmp_path: Path) -> None:
    folder = _bin(tmp_path, dir_mode=0o777)
    path = tmp_path / "launchers.yaml"
    path.write_text(
        "connectors: {ssh: {front: {hostname: front}}}\n"
        + SLURM_AT.format(path=folder).replace("    path:", "    connector: front\n    path:")
    )
    code, out, _ = cli("validate", str(path))
    assert code == 0 and "Slurm commands" not in out
