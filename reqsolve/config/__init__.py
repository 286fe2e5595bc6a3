"""Launcher files: the typed model of docs/semantics.md §2, its loader and its lint rules.

``load_config(path)`` returns a :class:`LauncherFile` or raises :class:`ConfigError` carrying
every problem; ``check_config(path)`` returns the problems (errors and warnings) without raising;
``group_configuration(launcher, partition, group)`` gives a node group's effective configuration;
``find_config_file()`` says which file applies. Names are imported lazily, so importing the model
does not import PyYAML.
"""

from __future__ import annotations

from reqsolve.lazy import lazy_attributes

__all__ = ["check_config", "find_config_file", "group_configuration", "load_config"]

_LAZY = {
    "check_config": "reqsolve.config.loader",
    "load_config": "reqsolve.config.loader",
    "group_configuration": "reqsolve.config.effective",
    "find_config_file": "reqsolve.config.search_path",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
