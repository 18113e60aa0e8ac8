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

_LAZY = {
    "make_method": ("polyak.solvers", "make_method"),
    "make_problem": ("polyak.solvers", "make_problem"),
    "simulate": ("polyak.solvers", "simulate"),
    "list_methods": ("polyak.solvers", "list_methods"),
    "list_problems": ("polyak.solvers", "list_problems"),
    "Trajectory": ("polyak.solvers", "Trajectory"),
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
