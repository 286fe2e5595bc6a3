"""reqsolve: given what a job needs, where to run it and with exactly which scheduler options.

Every public name is imported on first use (PEP 562 ``__getattr__``), so ``import reqsolve``
costs next to nothing: the command line imports its parts only once it knows what it runs, and
after it has relaxed the garbage collector for its short life (:func:`reqsolve.cli.main`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reqsolve.lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.answers.options import SlurmOptions
    from reqsolve.config.loader import load_config
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
    from reqsolve.finder import find_launcher, find_match
    from reqsolve.hostspec import (
        CPUSpecification,
        CudaSpecification,
        HostRequirement,
        HostSpecification,
        Match,
    )
    from reqsolve.launchers import LocalLauncher, SlurmLauncher
    from reqsolve.parser import parse
    from reqsolve.registry import Registry
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
    from reqsolve.units import format_time

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Accelerator": "reqsolve.requirement",
    "Alternative": "reqsolve.requirement",
    "ConfigError": "reqsolve.errors",
    "Cpu": "reqsolve.requirement",
    "InvalidExpression": "reqsolve.errors",
    "InvalidValue": "reqsolve.errors",
    "LauncherNotFoundError": "reqsolve.errors",
    "Problem": "reqsolve.errors",
    "Reason": "reqsolve.errors",
    "ReqsolveError": "reqsolve.errors",
    "Requirement": "reqsolve.requirement",
    "SlurmQueryError": "reqsolve.errors",
    "Span": "reqsolve.errors",
    "cpu": "reqsolve.requirement",
    "cuda_gpu": "reqsolve.requirement",
    "duration": "reqsolve.requirement",
    "gpu": "reqsolve.requirement",
    "CPUSpecification": "reqsolve.hostspec",
    "CudaSpecification": "reqsolve.hostspec",
    "HostRequirement": "reqsolve.hostspec",
    "HostSpecification": "reqsolve.hostspec",
    "LocalLauncher": "reqsolve.launchers",
    "Match": "reqsolve.hostspec",
    "Registry": "reqsolve.registry",
    "SlurmLauncher": "reqsolve.launchers",
    "SlurmOptions": "reqsolve.answers.options",
    "find_launcher": "reqsolve.finder",
    "find_match": "reqsolve.finder",
    "format_time": "reqsolve.units",
    "load_config": "reqsolve.config.loader",
    "parse": "reqsolve.parser",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = [
    "Accelerator",
    "Alternative",
    "CPUSpecification",
    "ConfigError",
    "Cpu",
    "CudaSpecification",
    "HostRequirement",
    "HostSpecification",
    "InvalidExpression",
    "InvalidValue",
    "LauncherNotFoundError",
    "LocalLauncher",
    "Match",
    "Problem",
    "Reason",
    "Registry",
    "ReqsolveError",
    "Requirement",
    "SlurmLauncher",
    "SlurmOptions",
    "SlurmQueryError",
    "Span",
    "__version__",
    "cpu",
    "cuda_gpu",
    "duration",
    "find_launcher",
    "find_match",
    "format_time",
    "gpu",
    "load_config",
    "parse",
]
