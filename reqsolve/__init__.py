"""reqsolve: given what a job needs, where to run it and with exactly which scheduler options."""

from __future__ import annotations

from reqsolve.errors import (
    ConfigError,
    InvalidExpression,
    InvalidValue,
    LauncherNotFoundError,
    Problem,
    Reason,
    ReqsolveError,
    SlurmQueryError,
    Span,
)
from reqsolve.requirement import (
    Accelerator,
    Alternative,
    Cpu,
    Requirement,
    cpu,
    cuda_gpu,
    duration,
    gpu,
)

__version__ = "0.1.0"

__all__ = [
    "Accelerator",
    "Alternative",
    "ConfigError",
    "Cpu",
    "InvalidExpression",
    "InvalidValue",
    "LauncherNotFoundError",
    "Problem",
    "Reason",
    "ReqsolveError",
    "Requirement",
    "SlurmQueryError",
    "Span",
    "__version__",
    "cpu",
    "cuda_gpu",
    "duration",
    "gpu",
]
