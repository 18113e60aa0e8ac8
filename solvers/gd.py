"""Gradient descent: x_{k+1} = x_k - alpha_k g_k.

Heavy-ball form: alpha = alpha_k, beta = 0. On mu-strongly convex L-smooth quadratics,
alpha = 2/(L + mu) gives the optimal worst-case rate (kappa - 1)/(kappa + 1); alpha = 1/L gives
1 - 1/kappa (theory: ``gd-quadratic-optimal``; papers.md, Classics). References: polyak1964.

Defined once as a linear method (``solvers/linear.py``): state ``(x,)``, one gradient call;
state space A = [1], B = [-alpha], C = [1], D = [0].

>>> from polyak.solvers import make_method
>>> make_method("gd", alpha=0.5).describe()
{'alpha': 0.5}
"""

from __future__ import annotations

from .base import Param
from .linear import linear_method

ALPHA = Param("alpha", 0.01, "step size", lo=0.0)


@linear_method(params=(ALPHA,), title="gradient descent")
def gd(x, grad, *, alpha):
    """gradient descent"""
    return x - alpha * grad(x)


