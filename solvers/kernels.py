"""Fused kernels for the engine: a linear method on an eigenbasis quadratic, from its (A, B, C, D).

On a quadratic in its eigenbasis, coordinate ``i`` of a linear method's state evolves on its own:
``xi_{k+1} = T(lambda_i) xi_k + c_i`` with the per-coordinate iteration matrix

    T(lambda) = A + B lambda (I - lambda D)^{-1} C,    c = -B lambda (I - lambda D)^{-1} 1 x*_i

(``u = grad f(y) = lambda (y - x*)``, ``y = C xi + D u``). :class:`FusedLinear` computes ``T`` (and
``c``) once per run from :func:`~polyak.solvers.linear.state_space` and steps every state variable
as ``sum_j T_ij xi_j (+ c)``: entries that do not depend on lambda are scalars, zeros are skipped,
a row that is a unit vector passes a state variable on unchanged (heavy ball's ``x_prev = x``
keeps its buffer). Heavy ball is then 3 array operations per step (``T_00 x``, ``T_01 x_prev``,
their sum) instead of the 6 of the step function (``lambda x``, ``alpha g``, ``x - alpha g``,
``x - x_prev``, ``beta (.)``, the sum), and it reads the same arrays (``T_00`` replaces lambda).

Used by ``simulate(..., fused=True)``: constant scalar hyperparameters, no noise, an eigenbasis
quadratic. It gives the same iterates up to rounding (about 1e-16 relative per step; the tests
compare to 1e-12), not bit for bit: the default (``fused=False``) runs the method's own step.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fused_linear_reason(method: Any, problem: Any, tables: dict) -> str | None:
    """Why ``FusedLinear`` cannot run this (None when it can)."""
    from .linear import LinearRule
    from .problems.quadratic import QuadraticProblem

    if not isinstance(method.rule, LinearRule):
        return f"{method.name} is not a linear method (polyak.linear_method)"
    if getattr(problem, "noise", None) is not None:
        return "the problem has gradient noise"
    if not isinstance(problem, QuadraticProblem) or problem.basis != "eigen":
        return "the problem is not a quadratic in its eigenbasis (basis='eigen')"
    if tables:
        return "a hyperparameter is a schedule"
    if method.hyper_shape and int(np.prod(method.hyper_shape)) > 1:
        return "the hyperparameters form a grid (the iteration matrix would differ run by run)"
    return None


class FusedLinear:
    """Steps a linear method's state with its per-coordinate iteration matrix; see the module docstring."""

    def __init__(self, method: Any, problem: Any, be: Any) -> None:
        from .linear import state_space

        ss = state_space(method)
        A, B, C, D = (np.asarray(M, dtype=float) for M in (ss.A, ss.B, ss.C, ss.D))
        n, m = A.shape[0], B.shape[1]
        lam = problem.eigenvalues  # (P, d)
        P, d = lam.shape
        L = lam.reshape(-1)
        M = np.linalg.inv(np.eye(m)[None] - L[:, None, None] * D[None])  # (P d, m, m)
        BLM = B[None] @ (L[:, None, None] * M)  # (P d, n, m)
        T = A[None] + BLM @ C[None]  # (P d, n, n)
        xs = problem.x_star.reshape(-1)
        c = -(BLM @ np.ones(m)) * xs[:, None] if np.any(xs) else None  # (P d, n)
        self.n = n
        self.rule = method.rule
        self.rows: list[list[tuple[Any, int]]] = []
        self.passthrough: list[int | None] = []
        self.affine: list[Any] = []
        for i in range(n):
            row = []
            for j in range(n):
                t = T[:, i, j]
                if np.all(t == t[0]):
                    if t[0] != 0.0:
                        row.append((float(t[0]), j))
                else:
                    row.append((be.asarray(np.ascontiguousarray(t).reshape(P, 1, d)), j))
            ci = None
            if c is not None and np.any(c[:, i]):
                ci = be.asarray(np.ascontiguousarray(c[:, i]).reshape(P, 1, d))
            self.affine.append(ci)
            unit = len(row) == 1 and isinstance(row[0][0], float) and row[0][0] == 1.0
            self.passthrough.append(row[0][1] if (ci is None and unit) else None)
            self.rows.append(row)
        self.P = P

    def for_block(self, p: slice) -> "FusedLinear":
        """The same kernel with its coefficient arrays cut to the problem instances ``p``."""
        out = object.__new__(FusedLinear)
        out.__dict__.update(self.__dict__)
        cut = (lambda a: a if isinstance(a, float) or a.shape[0] == 1 else a[p])
        out.rows = [[(cut(t), j) for t, j in row] for row in self.rows]
        out.affine = [None if a is None else cut(a) for a in self.affine]
        return out

    def step(self, s: Any, h: Any, be: Any) -> Any:
        xi = s[: self.n]
        new = []
        for i in range(self.n):
            j0 = self.passthrough[i]
            if j0 is not None:
                new.append(xi[j0])
                continue
            acc = None
            for t, j in self.rows[i]:
                term = xi[j] if (isinstance(t, float) and t == 1.0) else t * xi[j]
                if acc is None:
                    acc = term if term is not xi[j] else be.copy(term)
                else:
                    acc += term
            if acc is None:
                acc = be.zeros_like(xi[0])
            if self.affine[i] is not None:
                acc += self.affine[i]
            new.append(acc)
        kind = self.rule._beta_mode[0]
        beta = s.beta if kind in ("nan", "const") else self.rule._beta(h, be, s.beta)
        return type(s)(*new, beta)
