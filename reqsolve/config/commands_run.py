"""What a launcher file makes reqsolve run on this machine, flagged by ``validate``.

Two things in a launcher file run commands as whoever uses it, besides Slurm's own:

- an ssh connector's ``options`` naming a command ssh runs locally (``ProxyCommand``,
  ``LocalCommand``, ``KnownHostsCommand``): each use of the connector runs it;
- a Slurm launcher's ``path:`` on this machine (``connector: local``): the ``sbatch``,
  ``scontrol``, ``sinfo`` and ``sacctmgr`` found there are run; when another user can write that
  directory, one above it, or one of those programs, they choose what runs.

Both are warnings (``validate --strict`` fails on them): a ``ProxyCommand`` through a bastion is
ordinary, and a site may keep Slurm where its admins' group can write. They tell the reader of a
file what using it runs; :mod:`reqsolve.config.trust` refuses launcher files others could write.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from reqsolve.config.model import LauncherConfig, SlurmLauncherConfig, SshConnectorConfig
from reqsolve.config.trust import untrusted

# ssh_config keywords whose value is a command ssh runs on this machine (ssh_config(5))
COMMAND_OPTIONS = ("proxycommand", "localcommand", "knownhostscommand")
SLURM_COMMANDS = ("sbatch", "scontrol", "sinfo", "sacctmgr")
HINT = "docs/launchers-file.md, 'Whose files are used'"


def ssh_command(option: str) -> tuple[str, str] | None:
    """(keyword as written, command) when an ssh option runs a command here; else None."""
    key, _, value = option.replace("=", " ", 1).partition(" ")
    if key.lower() not in COMMAND_OPTIONS or value.strip().lower() == "none":
        return None
    return key, value.strip()


def command_risks(
    launchers: Iterable[tuple[str, LauncherConfig]], connectors: Iterable[SshConnectorConfig]
) -> list[tuple[str, str, str]]:
    """(YAML path, message, hint) for each command the file makes reqsolve run here."""
    found: list[tuple[str, str, str]] = []
    for connector in connectors:
        for index, option in enumerate(connector.options):
            command = ssh_command(option)
            if command is not None:
                found.append(
                    (
                        f"connectors.ssh.{connector.id}.options[{index}]",
                        f"ssh option {command[0]} runs a command on this machine each time"
                        f" connector '{connector.id}' is used: {command[1]}",
                        f"make sure it is a command you trust ({HINT})",
                    )
                )
    seen: dict[str, str | None] = {}
    for path, launcher in launchers:
        if not isinstance(launcher, SlurmLauncherConfig) or launcher.connector != "local":
            continue  # a remote path is the remote machine's business
        if launcher.path not in seen:
            seen[launcher.path] = _writable_by_others(launcher.path)
        reason = seen[launcher.path]
        if reason is not None:
            found.append(
                (
                    f"{path}.path",
                    f"the Slurm commands of launcher '{launcher.id}' are run from"
                    f" {launcher.path}, but {reason}",
                    f"use Slurm from a directory only you or root can write ({HINT})",
                )
            )
    return found


def _writable_by_others(directory: str) -> str | None:
    if not os.path.isabs(directory):
        return None  # looked up on $PATH (or relative): the loader reports what it accepts
    reason = untrusted(directory)
    if reason is not None:
        return reason
    for name in SLURM_COMMANDS:
        program = os.path.join(directory, name)
        if os.path.lexists(program):
            reason = untrusted(program)
            if reason is not None:
                return reason
    return None
