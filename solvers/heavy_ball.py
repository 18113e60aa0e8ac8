"""Heavy ball (Polyak 1964), the canonical momentum form, and its EMA form.

``hb``:  x_{k+1} = x_k - alpha_k g_k + beta_k (x_k - x_{k-1}),  x_{-1} = x_0.

``ema``: d_{k+1} = beta d_k + (1 - beta) g_k,  x_{k+1} = x_k - eta d_{k+1},  d_0 = 0.
It is heavy ball with alpha = eta (1 - beta) (exact, also with time-varying eta_k, beta_k:
alpha_k = eta_k (1 - beta_k), beta_k^HB = beta_k eta_k / eta_{k-1}; ``forms.py``).

Guarantee [derived; papers.md, Classics]: on quadratics with spectrum in [mu, L], alpha* =
4/(sqrt(L) + sqrt(mu))^2 and beta* = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 give the rate
rho* = sqrt(beta*), with a k rho^k transient (double roots). ``hb`` is defined once as a linear
method (``solvers/linear.py``): state (x, x_prev), A = [[1 + beta, -beta], [1, 0]],
B = [[-alpha], [0]], C = [[1, 0]], D = [[0]]. Beyond quadratics heavy ball can
cycle (lessard2016, goujaud2023). References: polyak1964, lessard2016, goujaud2023.

>>> from polyak.solvers import make_method, make_problem, simulate
>>> tr = simulate(make_method("hb", alpha=4/11**2, beta=(9/11)**2),
...               make_problem("quadratic", mu=1, L=100, dim=10), steps=300)
>>> bool(tr.dist[-1].max() < 1e-20)
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .linear import linear_method
from .registry import register_method

ALPHA = Param("alpha", 0.01, "step size", lo=0.0)
BETA = Param("beta", 0.9, "momentum", lo=0.0, hi=1.0, hi_closed=False)


@linear_method(params=(ALPHA, BETA), title="heavy ball")
def hb(x, x_prev, grad, *, alpha, beta):
    """heavy ball"""
    return x - alpha * grad(x) + beta * (x - x_prev), x


HBState = hb.rule.State  # fields x, x_prev, beta (as before)


def _ema_form(x, u, grad, *, eta, beta):
    """EMA momentum as a linear method on (x, u = x + d): d_0 = 0 is u_0 = x_0, and the fixed
    point (x*, d = 0) is (x*, x*), so the analysis tools' conventions hold. [derived]"""
    d = beta * (u - x) + (1.0 - beta) * grad(x)
    x_new = x - eta * d
    return x_new, x_new + d


class EMAState(NamedTuple):
    x: Any
    d: Any
    eta_prev: Any
    beta: Any


@register_method
class EMAMomentum(MethodRule):
    name = "ema"
    title = "EMA momentum (heavy ball with alpha = eta (1 - beta))"
    params = (Param("eta", 0.01, "step size", lo=0.0), BETA)

    def linear_form(self, hyper):
        """The same iterates as a linear method on (x, u = x + d) (any eta_k, beta_k)."""
        return _EMA_FORM(eta=hyper["eta"], beta=hyper["beta"])

    def init(self, x0, h, be):
        z = be.zeros_like(x0[..., :1])
        return EMAState(x0, be.zeros_like(x0), h["eta"] + z, h["beta"] + z)

    def step(self, s, oracle, k, h, be):
        b, eta = h["beta"], h["eta"]
        d = b * s.d + (1.0 - b) * oracle.grad(s.x)
        # heavy-ball momentum of this step: beta_k eta_k / eta_{k-1} (beta_k when eta is constant)
        hb_beta = b * eta / be.where(s.eta_prev > 0, s.eta_prev, 1.0) if k > 0 else b + 0.0 * s.eta_prev
        return EMAState(s.x - eta * d, d, eta + 0.0 * s.eta_prev, hb_beta)


_EMA_FORM = linear_method(_ema_form, name="ema-linear-form", title="EMA momentum on (x, x + d)",
                          params=EMAMomentum.params, register=False)
