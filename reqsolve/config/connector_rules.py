"""What an ssh connector's fields may hold: one set of checks for ``validate`` and for ssh.

:class:`reqsolve.connectors.SshConnector` refuses a connector that breaks these rules (a host
name starting with ``-`` would be read by ssh as an option: ``-oProxyCommand=…`` runs a
command), and the linter reports the same rules at the field's file:line:column, so that
``validate`` accepts exactly the connectors that ``submit`` can use.
"""

from __future__ import annotations

import re
from typing import Protocol

SAFE_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\[\]%-]*")
SAFE_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*")
SAFE_OPTION = re.compile(r"[A-Za-z][A-Za-z0-9]*[= ][^\n\r]*")


class SshFields(Protocol):
    @property
    def hostname(self) -> str: ...
    @property
    def user(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def options(self) -> tuple[str, ...]: ...


def ssh_problems(config: SshFields) -> list[tuple[str, str, str]]:
    """(field, what is wrong, how to fix it) for each field ssh could not be given safely."""
    problems: list[tuple[str, str, str]] = []
    if not SAFE_HOST.fullmatch(config.hostname):
        problems.append(
            (
                "hostname",
                f"hostname {config.hostname!r} is not a host name",
                "a host name or address: letters, digits, '.', '-', '_', ':' (not starting"
                " with '-', which ssh would read as an option)",
            )
        )
    if config.user is not None and not SAFE_USER.fullmatch(config.user):
        problems.append(
            (
                "user",
                f"user {config.user!r} is not a user name",
                "letters, digits, '.', '@', '-', '_', not starting with '-'",
            )
        )
    if config.port is not None and not 0 < config.port < 65536:
        problems.append(("port", f"port {config.port} out of range", "a port in 1..65535"))
    for index, option in enumerate(config.options):
        if not SAFE_OPTION.fullmatch(option):
            problems.append(
                (
                    f"options[{index}]",
                    f"ssh option {option!r} is not 'Key=value'",
                    "write an ssh_config option as Key=value (e.g. IdentityFile=~/.ssh/id)",
                )
            )
    return problems
