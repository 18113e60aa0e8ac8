"""Triple momentum (Van Scoy, Freeman, Lynch 2018) and robust momentum (Cyrus, Hu, Van Scoy, Lessard 2018).

Both are linear methods defined once with ``polyak.linear_method``; the tunings are plain
functions of (mu, L) (and RM's robustness parameter rho).

Triple momentum method (TMM), ``triple-momentum`` [paper: vanscoy2018, Algorithm (eq. 2)]:
    xi_{k+1} = (1 + beta) xi_k - beta xi_{k-1} - alpha grad f(y_k),
    y_k = (1 + gamma) xi_k - gamma xi_{k-1},   x_k = (1 + delta) xi_k - delta xi_{k-1},
    xi_{-1} = xi_0 = x_0. The measured iterate is x_k (state (x, xi, xi_prev)).
    Tuning: rho = 1 - 1/sqrt(kappa), (alpha, beta, gamma, delta) = ((1 + rho)/L, rho^2/(2 - rho),
    rho^2/((1 + rho)(2 - rho)), rho^2/(1 - rho^2)). Guarantee [paper: vanscoy2018, Theorem 1]:
    linear convergence at rate rho = 1 - 1/sqrt(kappa) on every mu-strongly convex L-smooth f.
    (PEPit's example ``triple_momentum.py`` writes the same algorithm and tuning [code].)

Robust momentum method (RMM), ``robust-momentum`` [paper: cyrus2018]:
    x_{k+1} = x_k + beta (x_k - x_{k-1}) - alpha grad f(y_k),  y_k = x_k + gamma (x_k - x_{k-1}),
    x_{-1} = x_0. Tuning, for rho in [1 - 1/sqrt(kappa), 1 - 1/kappa]: alpha = kappa (1 - rho)^2 (1 + rho)/L,
    beta = kappa rho^3/(kappa - 1), gamma = rho^3/((kappa - 1)(1 - rho)^2 (1 + rho)). Guarantee
    [paper: cyrus2018, Theorem 1 (as cited by PEPit's robust_momentum.py [code])]: a Lyapunov function
    decreasing by rho^2 per step, i.e. linear rate rho. At rho = 1 - 1/sqrt(kappa) it is TMM's
    (alpha, beta, gamma) [derived: substitute (1 - rho)^2 = 1/kappa; checked in the tests].
    (PEPit parametrises rho = lam (1 - 1/kappa) + (1 - lam)(1 - 1/sqrt(kappa)), lam in [0, 1].)

References: vanscoy2018, cyrus2018.

>>> import polyak
>>> from polyak.solvers.triple_momentum import triple_momentum_tuning
>>> m = polyak.make_method("triple-momentum", **triple_momentum_tuning(1.0, 100.0))
>>> from polyak.verify.quadratic import quadratic_rate
>>> round(quadratic_rate(m, 1.0, 100.0), 10)       # 1 - 1/sqrt(100)
0.9
"""

from __future__ import annotations

import math

from .base import Param
from .linear import linear_method

__all__ = ["robust_momentum", "robust_momentum_tuning", "triple_momentum", "triple_momentum_tuning"]


def _kappa(mu: float, L: float, who: str) -> float:
    try:
        mu, L = float(mu), float(L)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: mu and L must be numbers; got mu={mu!r}, L={L!r}") from None
    if not (math.isfinite(mu) and math.isfinite(L)) or mu <= 0 or L <= mu:
        raise ValueError(f"{who}: need 0 < mu < L (finite); got mu={mu}, L={L}")
    return L / mu


def triple_momentum_tuning(mu: float, L: float) -> dict:
    """TMM's (alpha, beta, gamma, delta) for mu-strongly convex L-smooth f [paper: vanscoy2018]."""
    kappa = _kappa(mu, L, "triple_momentum_tuning")
    rho = 1.0 - 1.0 / math.sqrt(kappa)
    return {
        "alpha": (1.0 + rho) / float(L),
        "beta": rho**2 / (2.0 - rho),
        "gamma": rho**2 / ((1.0 + rho) * (2.0 - rho)),
        "delta": rho**2 / (1.0 - rho**2),
    }


def robust_momentum_tuning(mu: float, L: float, rho: float) -> dict:
    """RMM's (alpha, beta, gamma) with robustness rho in [1 - 1/sqrt(kappa), 1 - 1/kappa] [paper: cyrus2018]."""
    kappa = _kappa(mu, L, "robust_momentum_tuning")
    lo, hi = 1.0 - 1.0 / math.sqrt(kappa), 1.0 - 1.0 / kappa
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"robust_momentum_tuning: rho must be a number in [{lo:g}, {hi:g}]; got {rho!r}") from None
    if not (lo - 1e-15 <= rho <= hi + 1e-15):
        raise ValueError(f"robust_momentum_tuning: rho (the rate) must be in [1 - 1/sqrt(kappa), 1 - 1/kappa] = [{lo:g}, {hi:g}]; got {rho:g}")
    return {
        "alpha": kappa * (1.0 - rho) ** 2 * (1.0 + rho) / float(L),
        "beta": kappa * rho**3 / (kappa - 1.0),
        "gamma": rho**3 / ((kappa - 1.0) * (1.0 - rho) ** 2 * (1.0 + rho)),
    }


_DEF_TMM = triple_momentum_tuning(0.1, 1.0)
_DEF_RM = robust_momentum_tuning(0.1, 1.0, 0.75)


@linear_method(
    params=(
        Param("alpha", _DEF_TMM["alpha"], "step size", lo=0.0),
        Param("beta", _DEF_TMM["beta"], "momentum", lo=0.0, hi=1.0, hi_closed=False),
        Param("gamma", _DEF_TMM["gamma"], "gradient extrapolation"),
        Param("delta", _DEF_TMM["delta"], "output extrapolation"),
    ),
    record_beta="beta",
    example=True,
    title="triple momentum method (Van Scoy, Freeman, Lynch 2018)",
)
def triple_momentum(x, xi, xi_prev, grad, *, alpha, beta, gamma, delta):
    """triple momentum method (Van Scoy, Freeman, Lynch 2018)"""
    # the paper's (1 + c) a - c b written as a + c (a - b): the same map, and exact at a = b
    y = xi + gamma * (xi - xi_prev)
    xi_new = xi + beta * (xi - xi_prev) - alpha * grad(y)
    return xi_new + delta * (xi_new - xi), xi_new, xi


@linear_method(
    params=(
        Param("alpha", _DEF_RM["alpha"], "step size", lo=0.0),
        Param("beta", _DEF_RM["beta"], "momentum", lo=0.0, hi=1.0, hi_closed=False),
        Param("gamma", _DEF_RM["gamma"], "gradient extrapolation"),
    ),
    record_beta="beta",
    example=True,
    title="robust momentum method (Cyrus, Hu, Van Scoy, Lessard 2018)",
)
def robust_momentum(x, x_prev, grad, *, alpha, beta, gamma):
    """robust momentum method (Cyrus, Hu, Van Scoy, Lessard 2018)"""
    y = x + gamma * (x - x_prev)
    return x + beta * (x - x_prev) - alpha * grad(y), x
