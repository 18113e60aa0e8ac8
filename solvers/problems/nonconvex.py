"""A smooth non-convex test function with known L, x* and f*: rotated quadratics plus cosines.

Problem and assumptions
    f(x) = sum_i phi_i(z_i), z = Q x, phi_i(t) = a_i (t - b_i)^2 / 2 + c cos(t), with Q a
    Haar-random orthogonal matrix (the identity when d = 1), a_i = linspace(a_min, L - c, d),
    b_i ~ N(0, shift^2) and c > a_min > 0. Then phi_i'' = a_i - c cos(t) lies in
    [a_i - c, a_i + c], so the Hessian Q^T diag(phi_i''(z_i)) Q has eigenvalues in
    [a_min - c, L] subset [-L, L]; f is L-smooth (L attained where cos z_i = -1 for the largest
    a_i) and genuinely non-convex: at z = 0 the curvature a_min - c < 0 along the first rotated
    axis. Each phi_i tends to infinity, so f is bounded below and has a global minimiser, but
    where a_i < c it has several local minima (the b_i shifts break the t -> -t symmetry, so the
    global one is unique for almost every draw).

Constants
    mu = None (non-convex); L = max_i a_i + c. x* = Q^T z* and f* = sum_i phi_i(z*_i), where z*_i
    is the global minimiser of phi_i: it lies in ``|t - b_i| <= 2 sqrt(c / a_i)`` (outside,
    phi_i(t) >= a_i (t - b_i)^2/2 - c > c >= phi_i(b_i)); every sign change of phi_i' from - to +
    there is located on a grid of step 1e-3, refined by Brent's method to 1e-15, and the lowest
    of these local minima is kept. So x* is a global
    minimiser and f* the global minimum (to about 1e-14).

Example
-------
>>> p = NonconvexProblem(dim=4, L=10.0, c=1.0)
>>> p.mu is None, p.L.tolist()
(True, [10.0])
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from .base import Problem, as_batch, check_dim, default_x0
from .quadratic import haar_orthogonal


def global_min_1d(a: float, b: float, c: float) -> float:
    """The global minimiser of phi(t) = a (t - b)^2 / 2 + c cos t (a > 0, c >= 0)."""
    from scipy.optimize import brentq

    def dphi(t):
        return a * (t - b) - c * np.sin(t)

    def phi(t):
        return 0.5 * a * (t - b) ** 2 + c * np.cos(t)

    R = 2.0 * np.sqrt(c / a) + 0.1
    t = np.linspace(b - R, b + R, int(np.ceil(2 * R / 1e-3)) + 1)
    g = dphi(t)
    cands = []
    for i in np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]:
        cands.append(t[i + 1] if g[i + 1] == 0 else brentq(dphi, t[i], t[i + 1], xtol=1e-15, rtol=4 * np.finfo(float).eps))
    if not cands:  # cannot happen: the global minimiser is interior to [b - R, b + R]
        raise RuntimeError("nonconvex: no local minimum found")
    vals = [phi(s) for s in cands]
    return float(cands[int(np.argmin(vals))])


class NonconvexProblem(Problem):
    """Batched rotated quadratic-plus-cosine functions; see the module docstring.

    Args:
        dim: dimension d (default 10).
        L: smoothness constant, > c + a_min (number or 1-D list; default 10).
        c: cosine amplitude, > a_min (number or list, broadcast with L; default 1).
        a_min: smallest quadratic curvature, in (0, c) (default 0.2).
        shift: standard deviation of the quadratic centres b_i (default 2).
        instances: random draws per (L, c) pair (default 1).
        seed: seed of Q, b and x0 (default 0).
    """

    name = "nonconvex"

    def __init__(
        self,
        dim: int = 10,
        L: Any = 10.0,
        c: Any = 1.0,
        a_min: float = 0.2,
        shift: float = 2.0,
        instances: int = 1,
        seed: int = 0,
    ) -> None:
        dim = check_dim(dim)
        instances = check_dim(instances, "instances")
        try:
            L_arr, c_arr = np.broadcast_arrays(as_batch(L, "L"), as_batch(c, "c"))
        except ValueError:
            raise ValueError("L and c must broadcast together") from None
        a_min = float(a_min)
        shift = float(shift)
        if not np.isfinite(shift) or shift < 0:
            raise ValueError(f"shift (spread of the quadratic centres) must be finite and >= 0; got {shift}")
        if not np.isfinite(a_min) or a_min <= 0:
            raise ValueError(f"a_min (smallest quadratic curvature) must be > 0; got {a_min}")
        if np.any(c_arr <= a_min):
            raise ValueError(f"c (cosine amplitude) must be > a_min={a_min:g} so that f is non-convex; got {c_arr.min():g}")
        if np.any(L_arr < a_min + c_arr):
            raise ValueError(f"L (smoothness) must be >= a_min + c = {(a_min + c_arr).max():g}; got {L_arr.min():g}")
        if dim == 1 and np.any(L_arr != a_min + c_arr):
            raise ValueError("dim must be >= 2 unless L == a_min + c (one coordinate has one curvature a_min)")
        rng = np.random.default_rng(seed)
        Ls, cs = np.repeat(L_arr, instances), np.repeat(c_arr, instances)
        P = Ls.size
        a = np.stack([np.linspace(a_min, Ls[p] - cs[p], dim) if dim > 1 else np.array([a_min]) for p in range(P)])
        b = shift * rng.standard_normal((P, dim))
        Q = np.stack([haar_orthogonal(rng, dim) for _ in range(P)])
        zs = np.array([[global_min_1d(a[p, i], b[p, i], cs[p]) for i in range(dim)] for p in range(P)])
        self.a, self.b, self.c, self.Q = a, b, cs, Q
        x_star = np.einsum("pij,pi->pj", Q, zs)  # x* = Q^T z*
        f_star = np.sum(0.5 * a * (zs - b) ** 2 + cs[:, None] * np.cos(zs), axis=1)
        super().__init__(
            dim=dim,
            mu=None,
            L=np.max(a, axis=1) + cs,
            x_star=x_star,
            f_star=f_star,
            x0=default_x0(rng, P, dim, None),
            params=dict(dim=dim, L=L, c=c, a_min=a_min, shift=shift, instances=instances, seed=seed),
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "Q": self.Q,  # (P, d, d)
            "QT": np.ascontiguousarray(self.Q.transpose(0, 2, 1)),
            "a": self.a[:, None, :],
            "b": self.b[:, None, :],
            "c": self.c[:, None, None],
        }

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        Z = X @ D["QT"]  # rows z = Q x
        return (D["a"] * (Z - D["b"]) - D["c"] * be.sin(Z)) @ D["Q"]

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        Z = X @ D["QT"]
        E = Z - D["b"]
        return be.sum(0.5 * D["a"] * E * E + D["c"] * be.cos(Z))
