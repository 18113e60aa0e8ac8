"""Gradient descent: x_{k+1} = x_k - alpha_k g_k.

Heavy-ball form: alpha = alpha_k, beta = 0. On mu-strongly convex L-smooth quadratics,
alpha = 2/(L + mu) gives the optimal worst-case rate (kappa - 1)/(kappa + 1); alpha = 1/L gives
1 - 1/kappa (theory: ``gd-quadratic-optimal``; papers.md, Classics). References: polyak1964.

>>> from polyak.solvers import make_method
>>> make_method("gd", alpha=0.5).describe()
{'alpha': 0.5}
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .registry import register_method

ALPHA = Param("alpha", 0.01, "step size", lo=0.0)


class GDState(NamedTuple):
    x: Any
    beta: Any


@register_method
class GradientDescent(MethodRule):
    name = "gd"
    title = "gradient descent"
    params = (ALPHA,)

    def init(self, x0, h, be):
        return GDState(x0, be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        return GDState(s.x - h["alpha"] * oracle.grad(s.x), s.beta)
