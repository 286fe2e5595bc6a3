"""Names from a launcher file can never reach a shell or break an ``#SBATCH`` line.

A launcher file may be written by anyone with write access to a shared configuration directory.
Every partition, QoS, account, feature and host name it holds either is refused at load time —
with the file, line and a message — or, when accepted, comes out of ``find`` as exactly one
``--option=value`` argument and exactly one ``#SBATCH`` line, with nothing a shell would expand.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from reqsolve.errors import ReqsolveError

TEMPLATE = """\
slurm:
- id: inj
  connector: local
  use_features: {use_features}
  features_regex: ['GPU(?P<cuda_count>\\d+)', 'GPUM(?P<cuda_memory>\\d+G)']
  configuration: {{}}
  qos:
    {qos}: {{max_duration: 100h}}
  partitions:
    {partition}:
      qos: [{qos}]
      accounts: [{account}]
      nodes:
      - hosts: [good1]
        features: [GPU4, GPUM24G, {feature}]
      - hosts: [{host}]
        features: [GPU2, GPUM8G]
"""
DEFAULTS = {"partition": "gpu", "qos": "normal", "account": "lab", "feature": "A100",
            "host": "small1"}
# two GPUs of 16G: the first group fits, the second (two GPUs of 8G, so Slurm may pick it for
# two GPUs) does not, so its host is excluded when
# features are not used (and the constraint names the first group's features when they are)
REQUIREMENT = "cuda(mem=16G)*2 & duration=10h"
OPTION_OF = {"partition": "--partition", "qos": "--qos", "account": "--account",
             "feature": "--constraint", "host": "--exclude"}

HOSTILE = {
    "space": "a b",
    "semicolon": "a;b",
    "newline": "a\nb",
    "newline + #SBATCH": "a\n#SBATCH --uid=0",
    "carriage return": "a\rb",
    "single quote": "a'b",
    "double quote": 'a"b',
    "command substitution": "$(touch /tmp/pwned)",
    "backticks": "`id`",
    "variable": "${HOME}",
    "pipe": "a|b",
    "ampersand": "a&b",
    "comma": "a,b",
    "leading dash": "--uid=0",
    "equals": "a=b",
    "glob": "a*",
    "redirect": "a>b",
    "backslash": "a\\b",
    "tab": "a\tb",
    "NUL": "a\x00b",
    "empty": "",
    "parenthesis": "a)b",
    "hash": "a#b",
}
# Unusual but harmless: accepted, and must come out verbatim.
BENIGN = {"dotted": "gpu.a100", "at": "lab@site", "plus": "a+b", "yaml word": "on",
          "digits": "3080", "null word": "null", "dash inside": "gpu-a100"}


def _modules() -> tuple[Any, Any]:
    from reqsolve import finder
    from reqsolve.config import loader

    return loader, finder


def _write(tmp_path: Path, field: str, value: str) -> Path:
    names = {key: json.dumps(v) for key, v in DEFAULTS.items()}
    names[field] = json.dumps(value)  # a YAML double-quoted scalar: the name arrives intact
    text = TEMPLATE.format(use_features="false" if field == "host" else "true", **names)
    path = tmp_path / "launchers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _lines_holding(path: Path, value: str) -> set[int]:
    quoted = json.dumps(value)
    return {number for number, line in enumerate(path.read_text().splitlines(), 1)
            if quoted in line}


CASES = [pytest.param(field, value, id=f"{field}-{name}")
         for field in OPTION_OF for name, value in HOSTILE.items()]


@pytest.mark.parametrize(("field", "value"), CASES)
def test_hostile_names_are_refused_at_load_or_come_out_inert(field: str, value: str,
                                                             tmp_path: Path) -> None:
    loader, finder = _modules()
    path = _write(tmp_path, field, value)
    try:
        launcher_file = loader.load_config(path)
    except ReqsolveError as exc:
        message = str(exc)
        assert "launchers.yaml:" in message, message
        problems = getattr(exc, "problems", ())
        assert any(p.line in _lines_holding(path, value) for p in problems), \
            f"no problem points at the {field} name: {[p.line for p in problems]} {message}"
        return
    launcher = finder.find_launcher(REQUIREMENT, config=launcher_file, offline=True)
    _assert_inert(launcher.options, field, value)


def _assert_inert(options: Any, field: str, value: str) -> None:
    args = options.args()
    header = options.sbatch_header()
    assert header.count("\n") == len(args), "one #SBATCH line per argument"
    for arg, line in zip(args, header.splitlines(), strict=True):
        assert re.fullmatch(r"--[a-z][a-z-]*=[^\s'\"`$;&<>\\]*", arg.replace("&", "")) \
            or arg.startswith("--constraint="), arg
        assert "\n" not in arg and "\r" not in arg and "\x00" not in arg
        assert shlex.split(line) == ["#SBATCH", arg]
        assert shlex.quote(arg) == arg or arg.startswith("--constraint="), arg
    emitted = dict(arg.split("=", 1) for arg in args)
    assert OPTION_OF[field] in emitted, f"{field} did not reach the options: {args}"


@pytest.mark.parametrize(("field", "value"),
                         [pytest.param(f, v, id=f"{f}-{n}") for f in OPTION_OF
                          for n, v in BENIGN.items()])
def test_unusual_but_safe_names_come_out_verbatim(field: str, value: str,
                                                  tmp_path: Path) -> None:
    loader, finder = _modules()
    path = _write(tmp_path, field, value)
    launcher = finder.find_launcher(REQUIREMENT, config=loader.load_config(path), offline=True)
    args = launcher.options.args()
    emitted = dict(arg.split("=", 1) for arg in args)
    option = OPTION_OF[field]
    assert option in emitted, args
    if field == "feature":
        assert value in emitted[option].replace("(", "").replace(")", "").split("&")
    else:
        assert value in emitted[option].split(","), args
    for line in launcher.options.sbatch_header().splitlines():
        assert len(shlex.split(line)) == 2, line
