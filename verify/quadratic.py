"""The worst-case rate of a linear method over quadratics with spectrum in [mu, L].

Problem and assumptions
    f(x) = 1/2 (x - x*)^T H (x - x*) with the eigenvalues of H in [mu, L], 0 < mu <= L. A linear
    method (``polyak.linear_method``; built-ins gd, hb, nesterov, triple-momentum, ...) with
    constant hyperparameters, in its state-space form ``xi_{k+1} = A xi_k + B u_k``,
    ``y_k = C xi_k + D u_k``, ``u_k = grad f(y_k)`` (``polyak.solvers.state_space``).

What is computed
    Along an eigenvector with eigenvalue lambda, ``u = lambda y`` and ``y = (I - lambda D)^{-1} C xi``
    (D is strictly lower triangular, so I - lambda D is invertible), hence
    ``xi_{k+1} = T(lambda) xi_k`` with ``T(lambda) = A + B lambda (I - lambda D)^{-1} C``. The
    worst-case linear rate over the class of quadratics is

        rho_quad = max_{lambda in [mu, L]} spectral_radius(T(lambda)),

    a lower bound on any rate certified over S(mu, L) (every quadratic is in the class).
    :func:`quadratic_rate` evaluates it on a dense grid (endpoints included), then refines every
    grid-local maximum by bounded scalar maximisation (scipy ``minimize_scalar``, method
    "bounded", xatol 1e-12 (L - mu)) between its grid neighbours.

"Exact" here means: the value returned is an attained spectral radius (so it never exceeds the true
maximum), and it equals the maximum to the accuracy of the refinement, ~1e-12 in lambda, unless
the maximum is a peak narrower than the grid spacing (L - mu)/(grid - 1) that the grid misses
entirely; eigenvalues come from LAPACK (``numpy.linalg.eigvals``, relative accuracy ~1e-15, worse
near defective matrices such as the double root of tuned heavy ball, where a perturbation eps of T
moves the root by ~sqrt(eps): ~1e-8).

Guarantee: [derived] (standard; e.g. lessard2016 sec. 2 for gd/hb/nesterov). References: lessard2016.

>>> import polyak
>>> from polyak.verify.quadratic import quadratic_rate
>>> round(quadratic_rate(polyak.make_method("gd", alpha=2 / 11), 1.0, 10.0), 12)   # (kappa-1)/(kappa+1)
0.818181818182
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["QuadraticWorstCase", "iteration_matrices", "quadratic_rate", "quadratic_worst_case", "spectral_radii"]


@dataclass(frozen=True)
class QuadraticWorstCase:
    """Result of :func:`quadratic_worst_case`: ``rate`` attained at eigenvalue ``lam``."""

    rate: float
    lam: float
    mu: float
    L: float
    method: str
    grid: int


def _check_class(mu: Any, L: Any) -> tuple[float, float]:
    try:
        mu, L = float(mu), float(L)
    except (TypeError, ValueError):
        raise ValueError(f"mu and L must be numbers; got mu={mu!r}, L={L!r}") from None
    if not (np.isfinite(mu) and np.isfinite(L)) or mu <= 0 or L < mu:
        raise ValueError(f"need 0 < mu <= L (finite); got mu={mu}, L={L}")
    return mu, L


def iteration_matrices(ss: Any, lam: Any) -> np.ndarray:
    """``T(lambda) = A + B lambda (I - lambda D)^{-1} C`` for each lambda, shape (G, n, n)."""
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    A, B, C, D = ss.A, ss.B, ss.C, ss.D
    m = B.shape[1]
    if not np.any(D):
        return A[None] + lam[:, None, None] * (B @ C)[None]
    M = np.eye(m)[None] - lam[:, None, None] * D[None]
    G = np.linalg.solve(M, lam[:, None, None] * C[None])
    return A[None] + B[None] @ G


def spectral_radii(ss: Any, lam: Any) -> np.ndarray:
    """Spectral radius of ``T(lambda)`` for each lambda."""
    return np.abs(np.linalg.eigvals(iteration_matrices(ss, lam))).max(axis=-1)


def _state_space(method: Any, tool: str):
    from polyak.solvers.linear import _as_method, constant_state_space

    return _as_method(method), constant_state_space(method, tool)[1]


def quadratic_worst_case(method: Any, mu: float, L: float, *, grid: int = 2001) -> QuadraticWorstCase:
    """The worst spectral radius of ``T(lambda)`` over ``lambda in [mu, L]`` and where it is attained.

    Args:
        method: a linear Method with constant scalar hyperparameters.
        mu, L: the spectrum bounds, 0 < mu <= L.
        grid: number of grid points (>= 3) before refinement.
    """
    from scipy.optimize import minimize_scalar

    mu, L = _check_class(mu, L)
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 3:
        raise ValueError(f"grid must be an integer >= 3; got {grid!r}")
    m, ss = _state_space(method, "quadratic_rate")
    if L == mu:
        r = float(spectral_radii(ss, [mu])[0])
        return QuadraticWorstCase(r, mu, mu, L, m.name, int(grid))
    lam = np.linspace(mu, L, int(grid))
    r = spectral_radii(ss, lam)
    best_i = int(np.argmax(r))
    best = (float(r[best_i]), float(lam[best_i]))
    # local maxima of the grid (plateaus included), refined between their neighbours
    interior = np.flatnonzero((r[1:-1] >= r[:-2]) & (r[1:-1] >= r[2:])) + 1
    cands = sorted(interior.tolist(), key=lambda i: -r[i])[:20]
    xatol = 1e-12 * (L - mu)
    for i in cands:
        res = minimize_scalar(
            lambda t: -float(spectral_radii(ss, [t])[0]), bounds=(lam[i - 1], lam[i + 1]),
            method="bounded", options={"xatol": xatol},
        )
        val = -float(res.fun)
        if val > best[0]:
            best = (val, float(res.x))
    return QuadraticWorstCase(best[0], best[1], mu, L, m.name, int(grid))


def quadratic_rate(method: Any, mu: float, L: float, *, grid: int = 2001) -> float:
    """``max_{lambda in [mu, L]} rho(A + B lambda (I - lambda D)^{-1} C)``: the worst-case linear rate
    of ``method`` over quadratics with spectrum in [mu, L] (see the module docstring for what
    "exact" means numerically). A rate >= 1 means some quadratic of the class does not converge."""
    return quadratic_worst_case(method, mu, L, grid=grid).rate
