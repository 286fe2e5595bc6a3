"""The grammar files work from an installed wheel, not only from a checkout.

Builds the wheel without network (the build backend must already be installed), installs it
into a fresh venv that sees the already-installed dependencies, and runs ``reqsolve parse`` from
that venv, away from the checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)"


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_installs_and_parses(tmp_path: Path) -> None:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling (the build backend) is not installed; cannot build offline")
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install build)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    dist = tmp_path / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        cwd=tmp_path,
        env=env,
    )
    [wheel] = dist.glob("reqsolve-*.whl")

    target = tmp_path / "venv"
    venv.create(target, system_site_packages=True, with_pip=False)
    python = target / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)],
        cwd=tmp_path,
        env=env,
    )

    where = _run(
        [
            str(python),
            "-c",
            "import reqsolve, reqsolve.resources as r; "
            "print(reqsolve.__file__); print(r.grammars_dir())",
        ],
        cwd=tmp_path,
        env=env,
    ).stdout.splitlines()
    assert Path(where[0]).is_relative_to(target), "reqsolve imported from outside the venv"
    assert Path(where[1]) == Path(where[0]).parent / "grammars"

    result = _run(
        [str(target / "bin" / "reqsolve"), "parse", "--format", "json", SEED], cwd=tmp_path, env=env
    )
    alternative = json.loads(result.stdout)["alternatives"][0]
    assert alternative["duration_s"] == 345600
    assert alternative["cpu"] == {"cores": 4, "memory_bytes": 400000000}
    assert [g["memory_bytes"] for g in alternative["gpus"]] == [4000000000, 4000000000]

    # the units definitions travel too: pint reads them from the installed package
    check = "from reqsolve.units import pint_factor; print(pint_factor('GiB', 'B'))"
    assert _run([str(python), "-c", check], cwd=tmp_path, env=env).stdout.strip() == str(2**30)
