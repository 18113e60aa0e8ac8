"""Nesterov's accelerated gradient, constant momentum or the convex schedule.

Algorithm:
    y_k = x_k + beta_k (x_k - x_{k-1}),  x_{k+1} = y_k - alpha grad f(y_k),  x_{-1} = x_0.
It is not heavy ball (the gradient is taken at the extrapolated point); ``beta`` records beta_k.

Tunings [papers.md, Classics]: alpha = 1/L, beta = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) (worst
quadratic rate 1 - 1/sqrt(kappa)); the quadratic-optimal alpha = 4/(3L + mu),
beta = (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2) (rate 1 - 2/sqrt(3 kappa + 1); lessard2016).
For convex f (mu = 0): ``schedule="fista"`` (t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2,
beta_k = (t_k - 1)/t_{k+1}) or ``"k/(k+3)"``, with alpha = 1/L: f(x_k) - f* = O(L/k^2)
(nesterov1983). References: nesterov1983, lessard2016.

>>> from polyak.solvers import make_method
>>> make_method("nesterov", alpha=0.01, schedule="fista").describe()["beta"]["schedule"]
'nesterov-fista'
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .registry import register_method
from .schedules import nesterov_convex


class NesterovState(NamedTuple):
    x: Any
    x_prev: Any
    beta: Any


@register_method
class Nesterov(MethodRule):
    name = "nesterov"
    title = "Nesterov's accelerated gradient"
    params = (
        Param("alpha", 0.01, "step size", lo=0.0),
        Param("beta", 0.9, "momentum", lo=0.0, hi=1.0, hi_closed=False),
        Param("schedule", "constant", "momentum schedule", kind="choice", choices=("constant", "fista", "k/(k+3)")),
    )

    def check(self, hyper):
        if hyper["schedule"] != "constant":
            hyper["beta"] = nesterov_convex(hyper["schedule"])

    def init(self, x0, h, be):
        return NesterovState(x0, x0, h["beta"] + be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        b = h["beta"]
        y = s.x + b * (s.x - s.x_prev)
        return NesterovState(y - h["alpha"] * oracle.grad(y), s.x, b + 0.0 * s.beta)
