"""A linear method on a quadratic: the per-eigenvalue iteration matrix and its characteristic polynomial.

Problem and assumptions
    A linear method in state-space form ``xi_{k+1} = A xi_k + B u_k``, ``y_k = C xi_k + D u_k``,
    ``u_k = grad f(y_k)``, with D strictly lower triangular (an explicit method), run on a
    quadratic; along an eigenvector with eigenvalue lambda the gradient is ``u = lambda y``.

What is derived
    ``y = C xi + lambda D y``, so ``y = (I - lambda D)^{-1} C xi`` (I - lambda D is unit lower
    triangular, hence invertible for every lambda), and ``xi_{k+1} = T(lambda) xi_k`` with

        T(lambda) = A + B lambda (I - lambda D)^{-1} C,     p(z) = det(z I - T(lambda)).

    The worst-case rate over quadratics with spectrum in [mu, L] is the largest root modulus of
    p over lambda in [mu, L] (``polyak.verify.quadratic_rate`` computes it numerically).

This module takes the matrices, not a method (theory/ imports nothing numeric of polyak's):
``polyak.verify.linear_derivation(method)`` (or ``polyak.solvers.symbolic_state_space``) supplies
them for any method written with ``polyak.linear_method``.

Provenance: [derived] (standard linear-systems algebra; e.g. lessard2016 sec. 2). References: lessard2016.

>>> import sympy as sp
>>> a, b = sp.symbols("alpha beta", positive=True)
>>> d = linear_system(sp.Matrix([[1 + b, -b], [1, 0]]), sp.Matrix([[-a], [0]]), sp.Matrix([[1, 0]]), sp.Matrix([[0]]))
>>> d.expressions["charpoly"]
alpha*lam*z - beta*z + beta + z**2 - z
"""

from __future__ import annotations

from typing import Any, Iterable

import sympy as sp

from .derivation import Derivation, Step

__all__ = ["LAM", "Z", "iteration_matrix", "linear_system"]

LAM = sp.Symbol("lam", positive=True)
Z = sp.Symbol("z")


def _mat(M: Any, name: str) -> sp.Matrix:
    try:
        out = sp.Matrix(M)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"linear_system: {name} must be a matrix (sympy Matrix or nested list); got {M!r}") from None
    return out


def _check(A: sp.Matrix, B: sp.Matrix, C: sp.Matrix, D: sp.Matrix) -> None:
    n, m = A.shape[0], B.shape[1]
    if A.shape != (n, n) or B.shape != (n, m) or C.shape != (m, n) or D.shape != (m, m):
        raise ValueError(
            f"linear_system: shapes must be A (n, n), B (n, m), C (m, n), D (m, m); got A {A.shape}, "
            f"B {B.shape}, C {C.shape}, D {D.shape}"
        )
    for i in range(m):
        for j in range(i, m):
            if sp.simplify(D[i, j]) != 0:
                raise ValueError(
                    f"linear_system: D must be strictly lower triangular (gradient call {i} may use only calls "
                    f"before it); D[{i}, {j}] = {D[i, j]}"
                )


def iteration_matrix(A: Any, B: Any, C: Any, D: Any, lam: Any = LAM) -> sp.Matrix:
    """``A + B lam (I - lam D)^{-1} C`` (simplified)."""
    A, B, C, D = (_mat(M, n) for M, n in ((A, "A"), (B, "B"), (C, "C"), (D, "D")))
    _check(A, B, C, D)
    m = B.shape[1]
    G = (sp.eye(m) - lam * D).inv() * C
    return sp.simplify(A + lam * B * G)


def linear_system(
    A: Any,
    B: Any,
    C: Any,
    D: Any,
    *,
    name: str = "linear-system",
    title: str | None = None,
    parameters: Iterable[sp.Symbol] | None = None,
) -> Derivation:
    """The Derivation of ``T(lambda)`` and ``p(z) = det(z I - T(lambda))`` for matrices (A, B, C, D).

    Args:
        A, B, C, D: sympy matrices (or nested lists) of a linear method; entries may contain
            the hyperparameter symbols.
        name, title: for display.
        parameters: the symbols (default: every free symbol of the matrices, sorted by name, and
            ``lam``).

    Expressions: ``charpoly`` (in ``z`` and ``lam``), ``trace`` and ``det`` of T, and ``T_ij``
    for each entry of the iteration matrix. Identities (checked by the tests): p(T) = 0
    (Cayley-Hamilton) and p(0) = (-1)^n det T.
    """
    A, B, C, D = (_mat(M, n) for M, n in ((A, "A"), (B, "B"), (C, "C"), (D, "D")))
    _check(A, B, C, D)
    n, m = A.shape[0], B.shape[1]
    y = sp.Matrix(sp.symbols(f"y0:{m}"))
    xi = sp.Matrix(sp.symbols(f"xi0:{n}"))
    G = (sp.eye(m) - LAM * D).inv() * C
    T = sp.simplify(A + LAM * B * G)
    p = sp.expand(T.charpoly(Z).as_expr())
    free = set().union(*(M.free_symbols for M in (A, B, C, D))) - {LAM, Z}
    params = tuple(parameters) if parameters is not None else tuple(sorted(free, key=lambda s: s.name))
    params = params + ((LAM,) if LAM not in params else ()) + ((Z,) if Z not in params else ())
    exprs: dict[str, Any] = {"charpoly": p, "trace": sp.simplify(T.trace()), "det": sp.simplify(T.det())}
    for i in range(n):
        for j in range(n):
            exprs[f"T_{i}{j}"] = T[i, j]
    cayley = sp.expand(sum((p.coeff(Z, k) * T**k for k in range(n + 1)), sp.zeros(n, n)))
    return Derivation(
        name=name,
        title=title or "Linear method on a quadratic: per-eigenvalue iteration matrix and characteristic polynomial",
        parameters=params,
        expressions=exprs,
        steps=(
            Step("state-space form: xi_{k+1} = A xi_k + B u_k, y_k = C xi_k + D u_k", sp.Tuple(A, B, C, D)),
            Step("on a quadratic along an eigenvector: u = lambda y, so y = C xi + lambda D y",
                 sp.Eq(y, C * xi + LAM * D * y)),
            Step("I - lambda D is unit lower triangular: y = (I - lambda D)^{-1} C xi", sp.Eq(y, G * xi)),
            Step("iteration matrix T(lambda) = A + B lambda (I - lambda D)^{-1} C", T),
            Step("characteristic polynomial det(z I - T)", sp.Eq(sp.Symbol("p(z)"), p)),
        ),
        assumptions=("D strictly lower triangular (explicit method)", "lambda > 0 an eigenvalue of the Hessian"),
        domain=(),
        provenance="[derived] derived here (state-space algebra)",
        references=("lessard2016",),
        identities={
            "Cayley-Hamilton: p(T) = 0 (entry 0,0)": (cayley[0, 0], sp.Integer(0)),
            "p(0) = (-1)^n det T": (p.subs(Z, 0), (-1) ** n * exprs["det"]),
        },
        latex_names={LAM: r"\lambda"},
    )
