"""Stochastic primal averaging (SPA), Defazio 2020: SGD with momentum as an averaging method.

Algorithm [paper: defazio2020]:
    z_{k+1} = z_k - eta_k g(x_k),  x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1},  z_0 = x_0.

Step k uses c_{k+1}: a schedule passed as ``c`` is evaluated at k + 1, so ``c=harmonic()``
(c_{k+1} = 1/(k+1)) is primal averaging.

Map to heavy ball [derived; papers.md]: alpha_k = eta_k c_{k+1}, beta_k = c_{k+1} (1 - c_k)/c_k
(``forms.py``). Constant parameters: c = 1 - beta, eta = alpha/(1 - beta). The Lyapunov bound of
``theory/`` (``spa-lyapunov``) holds for L eta <= 2 - c. References: defazio2020.

>>> from polyak.solvers import make_method
>>> from polyak.solvers.schedules import harmonic
>>> make_method("spa", eta=0.1, c=harmonic()).describe()["c"]["schedule"]
'harmonic'
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .linear import linear_method
from .registry import register_method


def _spa_form(x, z, grad, *, eta, c):
    """SPA as written (state (x, z), z_0 = x_0), traced as a linear method. [paper: defazio2020]"""
    z_new = z - eta * grad(x)
    return x + c * (z_new - x), z_new


class SPAState(NamedTuple):
    x: Any
    z: Any
    c_prev: Any
    beta: Any


@register_method
class SPA(MethodRule):
    name = "spa"
    title = "stochastic primal averaging"
    params = (
        Param("eta", 0.1, "step size of the z sequence", lo=0.0),
        Param("c", 0.1, "averaging weight c_{k+1}", lo=0.0, hi=1.0, lo_closed=False),
    )
    offsets = {"c": 1}

    def linear_form(self, hyper):
        """SPA is linear in (x, z): the same update, traced (schedules of c still at k + 1)."""
        return _SPA_FORM(eta=hyper["eta"], c=hyper["c"])

    def init(self, x0, h, be):
        c = h["c"] + be.zeros_like(x0[..., :1])
        return SPAState(x0, x0, c, (1.0 - c) + 0.0 * c)

    def step(self, s, oracle, k, h, be):
        c = h["c"]
        z = s.z - h["eta"] * oracle.grad(s.x)
        x = s.x + c * (z - s.x)  # = (1 - c) x + c z, exact when z = x
        beta = c * (1.0 - s.c_prev) / s.c_prev
        return SPAState(x, z, c + 0.0 * s.c_prev, beta)


_SPA_FORM = linear_method(_spa_form, name="spa-linear-form", title="SPA on (x, z)", params=SPA.params,
                          offsets=SPA.offsets, register=False)
