"""The Lessard-Recht-Packard piecewise quadratic, on which tuned heavy ball fails to converge.

Problem and assumptions
    One coordinate: phi with phi(0) = 0 and

        phi'(x) = L x                   for x < 1,
                  mu x + (L - mu)       for 1 <= x < 2,
                  L x - (L - mu)        for x >= 2,

    i.e. phi(x) = L x^2/2 (x < 1), mu x^2/2 + (L - mu) x - (L - mu)/2 (1 <= x < 2),
    L x^2/2 - (L - mu) x + 3 (L - mu)/2 (x >= 2). phi' is continuous and increasing with slopes
    L, mu, L, so phi is mu-strongly convex and L-smooth, phi'' in {mu, L}. With mu = 1, L = 25 this
    is exactly the function of lessard2016 (phi'(x) = 25x, x + 24, 25x - 24); the generalisation
    keeps the breakpoints 1 and 2 and puts curvature mu on the middle piece, curvature L elsewhere.
    The n-D version is separable: f(x) = sum_j phi(x_j), Hessian diagonal with entries in {mu, L}.

Constants
    mu, L as given (both attained); x* = 0, f* = 0.

Behaviour (papers.md, Classics)
    Heavy ball with the quadratic-optimal alpha = 4/(sqrt(L)+sqrt(mu))^2, beta = ((sqrt(kappa)-1)/
    (sqrt(kappa)+1))^2 (1/9 and 4/9 for the LRP constants) does not converge from some starts:
    lessard2016 report a limit cycle; goujaud2023 show that every HB tuning that accelerates on
    quadratics cycles on some such function. The default start ``start = 3.3`` in every
    coordinate lies on the third piece, so all three pieces are visited.

References: lessard2016, goujaud2023.

Example
-------
>>> p = LessardProblem()
>>> p.grad(np.array([[0.5], [1.5], [3.0]]).reshape(1, 3, 1)).ravel().tolist()
[12.5, 25.5, 51.0]
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from .base import Problem, as_batch, check_dim, check_mu_L


class LessardProblem(Problem):
    """Batched (separable) LRP piecewise quadratics; see the module docstring.

    Args:
        dim: number of coordinates (default 1).
        mu, L: curvature of the middle piece and of the outer pieces, 0 < mu <= L (numbers or
            1-D lists, broadcast; default 1 and 25, the LRP function).
        start: default start x0, the same value in every coordinate (default 3.3).
        seed: accepted for a uniform interface; the problem has no random data.
    """

    name = "lessard"

    def __init__(self, dim: int = 1, mu: Any = 1.0, L: Any = 25.0, start: float = 3.3, seed: int = 0) -> None:
        dim = check_dim(dim)
        mu_arr, L_arr = check_mu_L(as_batch(mu, "mu"), as_batch(L, "L"))
        start = float(start)
        if not np.isfinite(start):
            raise ValueError(f"start (default x0 coordinate) must be finite; got {start}")
        P = mu_arr.size
        super().__init__(
            dim=dim,
            mu=mu_arr,
            L=L_arr,
            x_star=np.zeros((P, dim)),
            f_star=np.zeros(P),
            x0=np.full((P, dim), start),
            params=dict(dim=dim, mu=mu, L=L, start=start, seed=seed),
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"mu": self.mu[:, None, None], "L": self.L[:, None, None]}

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        mu, L = D["mu"], D["L"]
        gap = L - mu
        return be.where(X < 1.0, L * X, be.where(X < 2.0, mu * X + gap, L * X - gap))

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        mu, L = D["mu"], D["L"]
        gap = L - mu
        outer = 0.5 * L * X * X
        phi = be.where(X < 1.0, outer, be.where(X < 2.0, 0.5 * mu * X * X + gap * X - 0.5 * gap, outer - gap * X + 1.5 * gap))
        return be.sum(phi)
