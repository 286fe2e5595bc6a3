"""``launchers.py``: launchers decided in code, asked before the YAML launchers.

As experimaestro does, a configuration directory may hold a ``launchers.py`` defining
``find_launcher(requirements, tags)``. It is imported once; the search calls it with one
alternative at a time, in written order (a :class:`~reqsolve.hostspec.HostRequirement` holding
that alternative alone, so ``requirements.match(...)`` works), and the first launcher it returns
is the answer. Only when it returns None for every alternative are the YAML launchers of the
same directory searched (docs/semantics.md §5).

The file is the user's code: anything it raises becomes a :class:`ConfigError` naming the file
and the line (taken from the traceback), and so does a return value that is not a launcher.
By default that error ends the search (a broken file should be fixed, not silently bypassed);
``on_error="continue"`` records it, warns, and goes on with the YAML launchers.

One module per job: :mod:`.usercode` imports the user's module and locates its errors,
:mod:`.asking` asks it alternative by alternative, :mod:`.directory` is the configuration
directory's registry and where it is found, :mod:`.solver` is ``solve()`` for the file's own use,
:mod:`.explain` and :mod:`.validate` serve ``reqsolve explain`` and ``reqsolve validate``,
:mod:`.codegen` writes a ``launchers.py`` for ``reqsolve convert --to python``.
"""

from reqsolve.pyconfig.asking import (
    ON_ERROR_CHOICES,
    PYTHON_FILE,
    SOURCE,
    YAML_FILE,
    OnError,
    PythonAnswer,
    PythonLauncherWarning,
    check_on_error,
)
from reqsolve.pyconfig.codegen import python_source
from reqsolve.pyconfig.directory import (
    LauncherDirectory,
    discover_configuration,
    is_python_config,
    make_registry,
)
from reqsolve.pyconfig.explain import explain_python
from reqsolve.pyconfig.solver import solve
from reqsolve.pyconfig.validate import check_python_file

__all__ = [
    "ON_ERROR_CHOICES",
    "PYTHON_FILE",
    "SOURCE",
    "YAML_FILE",
    "LauncherDirectory",
    "OnError",
    "PythonAnswer",
    "PythonLauncherWarning",
    "check_on_error",
    "check_python_file",
    "discover_configuration",
    "explain_python",
    "is_python_config",
    "make_registry",
    "python_source",
    "solve",
]
