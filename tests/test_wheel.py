"""The package works once installed, from the wheel and from the sdist, not only from a checkout.

Both are built without network (the build backend, hatchling, must already be installed: the
``test`` extra has it) and installed into a fresh virtual environment, which is then run away
from the checkout. That environment sees the dependencies already installed for the test run
through a ``.pth`` file naming the running interpreter's site directories: nothing is
downloaded, and it works the same from a virtual environment (where ``sys.executable`` is the
venv's, but ``venv.create`` would build on the *base* interpreter, which lacks them), from a
system Python with pip, and with Debian's packaged modules (``dist-packages``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
from pathlib import Path

import pytest

from tests.paths import ROOT

SEED = "duration=4 days & cuda(mem=4G)*2 & cpu(mem=400M, cores=4)"


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    """No index, no cache, no checkout on the path: what is installed must be enough."""
    for module in ("hatchling", "build"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[test]'); cannot build")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PIP_NO_INDEX"] = "1"
    env["PIP_NO_CACHE_DIR"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PIP_FIND_LINKS", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    return env


def _site_directories() -> list[str]:
    """Where the running interpreter finds its third-party modules (venv, system, user,
    Debian's dist-packages; the venv may well lie inside the checkout, as ``.venv``), never the
    checkout itself: the installed package must not come from it."""
    found = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    found += [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    return list(dict.fromkeys(os.path.abspath(p) for p in found if p and Path(p).is_dir()))


def fresh_venv(target: Path) -> Path:
    """A new virtual environment that sees the running environment's modules; its python."""
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    # plain directory lines: appended after the venv's own site-packages, so what is
    # installed into the venv wins over an editable or regular install of the test run
    lines = "".join(f"{path}\n" for path in _site_directories())
    (Path(purelib) / "_test_run_site.pth").write_text(lines)
    return python


def _build(kind: str, out: Path, env: dict[str, str]) -> Path:
    _run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out),
          str(ROOT)], cwd=out.parent, env=env)
    [built] = out.glob("reqsolve-*.whl" if kind == "wheel" else "reqsolve-*.tar.gz")
    return built


def _install(python: Path, what: Path, cwd: Path, env: dict[str, str]) -> None:
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-build-isolation", str(what)], cwd=cwd, env=env)


def test_wheel_installs_and_parses(tmp_path: Path, offline_env: dict[str, str]) -> None:
    env = offline_env
    wheel = _build("wheel", tmp_path / "dist", env)
    target = tmp_path / "venv"
    python = fresh_venv(target)
    _install(python, wheel, tmp_path, env)

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


def test_sdist_holds_the_project_and_installs(tmp_path: Path, offline_env: dict[str, str]) -> None:
    """The sdist is the project a user can read and test: docs, licence, fixtures, tests and
    the Slurm lab travel with the code, and ``pip install`` of the sdist gives a working find."""
    env = offline_env
    sdist = _build("sdist", tmp_path / "dist", env)
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse unsafe members
            archive.extractall(tmp_path / "unpacked", filter="data")
        else:  # pragma: no cover - our own archive, just built
            archive.extractall(tmp_path / "unpacked")
    tracked = subprocess.run(["git", "ls-files", "docs"], cwd=ROOT, capture_output=True,
                             text=True, check=False).stdout.split()
    wanted = {"LICENSE", "README.md", "docs/semantics.md", "tests/conformance/README.md",
              "tests/slurm/lab/start.sh", "tests/slurm/lab/cluster/nodes.conf",
              "fixtures/docs_example/launchers.yaml", *tracked}
    assert wanted <= names, sorted(wanted - names)

    target = tmp_path / "venv"
    python = fresh_venv(target)
    _install(python, sdist, tmp_path, env)
    [unpacked] = (tmp_path / "unpacked").iterdir()
    config = unpacked / "fixtures" / "docs_example" / "launchers.yaml"
    done = _run(
        [str(target / "bin" / "reqsolve"), "find", "--config", str(config), "--offline",
         "--format", "json", "duration=4 days & cuda(mem=40G)*2 & cpu(mem=400M, cores=4)"],
        cwd=tmp_path,
        env=env,
    )
    answer = json.loads(done.stdout)
    assert answer["launcher"] == {"id": "manual", "type": "slurm"}
    assert answer["options"]["partition"] == "gpu_p4"
    assert answer["config"]["files"] == [str(config)]
    where = _run([str(python), "-c", "import reqsolve; print(reqsolve.__file__)"], cwd=tmp_path,
                 env=env).stdout.strip()
    assert Path(where).is_relative_to(target), "reqsolve imported from outside the venv"
