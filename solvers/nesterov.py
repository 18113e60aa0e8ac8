"""Nesterov's accelerated gradient, constant momentum or the convex schedule.

Algorithm:
    y_k = x_k + beta_k (x_k - x_{k-1}),  x_{k+1} = y_k - alpha grad f(y_k),  x_{-1} = x_0.

It is not heavy ball (the gradient is taken at the extrapolated point); ``beta`` records beta_k.
Defined once as a linear method (``solvers/linear.py``): A = [[1 + beta, -beta], [1, 0]],
B = [[-alpha], [0]], C = [[1 + beta, -beta]], D = [[0]].

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

from .base import Param
from .linear import linear_method
from .schedules import nesterov_convex


def _schedule(hyper):
    if hyper["schedule"] != "constant":
        hyper["beta"] = nesterov_convex(hyper["schedule"])


@linear_method(
    params=(
        Param("alpha", 0.01, "step size", lo=0.0),
        Param("beta", 0.9, "momentum", lo=0.0, hi=1.0, hi_closed=False),
        Param("schedule", "constant", "momentum schedule", kind="choice", choices=("constant", "fista", "k/(k+3)")),
    ),
    validate=_schedule,
    record_beta="beta",
    title="Nesterov's accelerated gradient",
)
def nesterov(x, x_prev, grad, *, alpha, beta):
    """Nesterov's accelerated gradient"""
    y = x + beta * (x - x_prev)
    return y - alpha * grad(y), x


NesterovState = nesterov.rule.State  # fields x, x_prev, beta (as before)
