"""submitit's local executor, holding what ``reqsolve submit`` holds for a local job.

submitit starts each local job as a *controller* process (``python -m submitit.local._local``)
that survives the Python session which submitted it, runs the job's tasks and ends with them.
:class:`HeldLocalExecutor` starts that controller as submitit does, with two differences: it
first takes the launcher's tokens and the job's GPUs (:func:`reqsolve.localjob.hold_job`,
waiting while other jobs hold them), hands their locked descriptors down to the controller, so
that they stay held exactly while the job lives; and ``CUDA_VISIBLE_DEVICES`` names the GPUs
the matching chose, by UUID, in the order the request wrote them.

submitit is imported by the functions only (it is an optional extra).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reqsolve.errors import InvalidValue
from reqsolve.localjob import environment, gpu_plan, hold_job

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.choosing import Answer
    from reqsolve.registry import Registry


def held_executor(match: Answer, registry: Registry, folder: Path) -> Any:
    """A submitit ``LocalExecutor`` whose jobs hold the answer's tokens and GPUs.

    :class:`~reqsolve.localjob.GpusUnavailable` (nvidia-smi failed, or the machine cannot
    serve a launchers.py answer) and :class:`InvalidValue` (GPUs asked where nvidia-smi reports
    none) refuse here, before anything is submitted.
    """
    # submitit is an optional extra (reqsolve[submitit]): imported when called
    from submitit.local.local import LocalExecutor, LocalJob

    launcher = registry.launcher_for(match)
    plan, warning = gpu_plan(match, launcher)
    if match.alternative.gpus and plan is None:
        raise InvalidValue(
            f"{warning}: submitit's local executor would give the job GPUs 0..n-1 anyway",
            "run on a machine whose nvidia-smi reports GPUs, or ask for none",
        )
    if warning is not None:
        # imported here: a warning only when the file and nvidia-smi disagree
        import warnings

        warnings.warn(f"reqsolve: {warning}", stacklevel=3)
    wanted = dict(getattr(launcher, "tokens", {}) or {})
    capacities = dict(registry.state().launcher_file.token_counters) if wanted else {}

    class HeldLocalExecutor(LocalExecutor):  # type: ignore[misc]
        """submitit's local executor; each job holds its tokens and GPUs while it runs."""

        def _submit_command(self, command: str) -> Any:
            ntasks = self.parameters.get("tasks_per_node", 1)
            with hold_job(wanted, capacities, plan) as held:
                process = start_controller(self, command, environment(held.gpus), held.fds)
            # the controller holds the locks now: this process closed its copies
            return LocalJob(
                folder=self.folder, job_id=str(process.pid), process=process,
                tasks=list(range(ntasks)),
            )

    return HeldLocalExecutor(folder)


def start_controller(
    executor: Any, command: str, gpus: dict[str, str], fds: tuple[int, ...]
) -> subprocess.Popen[bytes]:
    """submitit's ``start_controller`` (submitit 1.5), with the job's GPUs in its environment
    and the locked descriptors handed down to it."""
    parameters = executor.parameters
    setup = list(parameters.get("setup", ()))
    env = dict(os.environ)
    env.update(
        SUBMITIT_LOCAL_NTASKS=str(parameters.get("tasks_per_node", 1)),
        SUBMITIT_LOCAL_COMMAND=command,
        SUBMITIT_LOCAL_TIMEOUT_S=str(int(60 * parameters.get("timeout_min", 2.0))),
        SUBMITIT_LOCAL_SIGNAL_DELAY_S=str(int(parameters.get("signal_delay_s", 30))),
        SUBMITIT_LOCAL_NODEID="0",
        SUBMITIT_LOCAL_JOB_NUM_NODES="1",
        SUBMITIT_STDERR_TO_STDOUT="1" if parameters.get("stderr_to_stdout", False) else "",
        SUBMITIT_EXECUTOR="local",
        SUBMITIT_LOCAL_WITH_SHELL="1" if setup else "",
    )
    env.update(gpus)
    argv = [sys.executable, "-m", "submitit.local._local", str(executor.folder)]
    if setup:  # the user's own setup lines are shell lines: run by sh, then the controller
        argv = ["/bin/sh", "-c", " && ".join([*setup, shlex.join(argv)])]
    return subprocess.Popen(argv, env=env, pass_fds=fds)
