"""Connector: a linear method's symbolic state space -> the theory's linear-system derivation.

solvers/ traces the method (``polyak.solvers.symbolic_state_space``), theory/ derives from
matrices (``polyak.theory.linear_system``); this joins the two so a notebook can show the
per-eigenvalue iteration matrix and characteristic polynomial of a user's method.

>>> import polyak
>>> from polyak.verify.linear import linear_derivation
>>> d = linear_derivation(polyak.make_method("hb"))
>>> d.expressions["charpoly"]
alpha*lam*z - beta*z + beta + z**2 - z
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["linear_derivation"]


def linear_derivation(method: Any, symbols: Mapping[str, Any] | None = None):
    """The :func:`polyak.theory.linear_system` Derivation of ``method`` (a linear Method, a
    ``linear_method`` definition or a registered name), in its hyperparameter symbols."""
    from polyak.solvers.linear import _as_method, symbolic_state_space
    from polyak.theory.linear_system import linear_system

    m = _as_method(method)
    A, B, C, D = symbolic_state_space(m, symbols)  # refuses nonlinear rules, saying why
    return linear_system(
        A, B, C, D, name=f"linear-system:{m.name}",
        title=f"{m.name} on a quadratic: iteration matrix and characteristic polynomial",
    )
