"""reqsolve: given what a job needs, where to run it and with exactly which scheduler options.

Every public name is imported on first use (PEP 562 ``__getattr__``), so ``import reqsolve``
costs next to nothing: the command line imports its parts only once it knows what it runs, and
after it has relaxed the garbage collector for its short life (:func:`reqsolve.cli.main`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reqsolve.lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from reqsolve.answers.options import SlurmOptions as SlurmOptions
    from reqsolve.choosing import Answer as Answer
    from reqsolve.config.loader import load_config as load_config
    from reqsolve.config.model import LauncherFile as LauncherFile
    from reqsolve.errors import ConfigError as ConfigError
    from reqsolve.errors import InvalidExpression as InvalidExpression
    from reqsolve.errors import InvalidValue as InvalidValue
    from reqsolve.errors import LauncherNotFoundError as LauncherNotFoundError
    from reqsolve.errors import Problem as Problem
    from reqsolve.errors import Reason as Reason
    from reqsolve.errors import ReqsolveError as ReqsolveError
    from reqsolve.errors import SlurmQueryError as SlurmQueryError
    from reqsolve.errors import Span as Span
    from reqsolve.finder import find_launcher as find_launcher
    from reqsolve.finder import find_match as find_match
    from reqsolve.hostspec import CPUSpecification as CPUSpecification
    from reqsolve.hostspec import CudaSpecification as CudaSpecification
    from reqsolve.hostspec import HostRequirement as HostRequirement
    from reqsolve.hostspec import HostSpecification as HostSpecification
    from reqsolve.hostspec import Match as Match
    from reqsolve.launchers import LocalLauncher as LocalLauncher
    from reqsolve.launchers import SlurmLauncher as SlurmLauncher
    from reqsolve.parser import parse as parse
    from reqsolve.registry import Registry as Registry
    from reqsolve.requirement import Accelerator as Accelerator
    from reqsolve.requirement import Alternative as Alternative
    from reqsolve.requirement import Cpu as Cpu
    from reqsolve.requirement import Requirement as Requirement
    from reqsolve.requirement import cpu as cpu
    from reqsolve.requirement import cuda_gpu as cuda_gpu
    from reqsolve.requirement import duration as duration
    from reqsolve.requirement import gpu as gpu
    from reqsolve.requirement import nodes as nodes
    from reqsolve.requirement import tasks as tasks
    from reqsolve.units import format_time as format_time

__version__ = "0.1.0"

# every public name and the module it lives in: the one list __all__ is made from
_LAZY: dict[str, str] = {
    "Accelerator": "reqsolve.requirement",
    "Answer": "reqsolve.choosing",
    "LauncherFile": "reqsolve.config.model",
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
    "nodes": "reqsolve.requirement",
    "tasks": "reqsolve.requirement",
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

__all__ = ["__version__", *_LAZY]
