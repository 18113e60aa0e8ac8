"""polyak: theory and verification toolkit for momentum methods in optimization.

The public face. Everything heavy is imported lazily, so ``import polyak`` is cheap and never
needs torch, cvxpy or matplotlib until they are used.

>>> import polyak
>>> m = polyak.make_method("hb", alpha=0.1, beta=0.5)
>>> p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5)
>>> traj = polyak.simulate(m, p, steps=50)
>>> bool(traj.dist[-1].max() < 1e-3)
True
"""

from __future__ import annotations

__version__ = "0.1.0"

# The subpackages live in top-level folders of the repository (theory/, solvers/, ...) and are
# mapped under ``polyak`` by setuptools' package-dir. When this file is imported straight from a
# source checkout (``python -m polyak`` or ``python -c`` run in the repository root puts the
# checkout first on sys.path), point the package's search path at the repository root too, so
# ``polyak.theory`` is ``./theory`` exactly as the installed mapping says.
import os as _os

_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "solvers")) and _os.path.isfile(
    _os.path.join(_root, "solvers", "__init__.py")
):
    __path__.append(_root)  # type: ignore[name-defined]
del _os, _root

_LAZY = {
    "make_method": ("polyak.solvers", "make_method"),
    "linear_method": ("polyak.solvers", "linear_method"),
    "state_space": ("polyak.solvers", "state_space"),
    "make_problem": ("polyak.solvers", "make_problem"),
    "simulate": ("polyak.solvers", "simulate"),
    "list_methods": ("polyak.solvers", "list_methods"),
    "list_problems": ("polyak.solvers", "list_problems"),
    "Trajectory": ("polyak.solvers", "Trajectory"),
    "Schedule": ("polyak.solvers", "Schedule"),
    "grid": ("polyak.grids", "grid"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'polyak' has no attribute {name!r}")


def __dir__():
    return __all__
