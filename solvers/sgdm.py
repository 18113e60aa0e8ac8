"""SGD with momentum exactly as ``torch.optim.SGD`` (momentum, dampening, nesterov, weight_decay).

Algorithm (torch's documented update, here with the problem's gradient g_k):
    d_k = g_k + wd x_k
    buf_0 = d_0;  buf_k = m buf_{k-1} + (1 - tau) d_k  (k >= 1)
    x_{k+1} = x_k - lr (d_k + m buf_k)  if nesterov  else  x_k - lr buf_k

With m = 0 there is no buffer: x_{k+1} = x_k - lr d_k (dampening is then ignored, as in torch).

Map to heavy ball (without nesterov, wd folded into the problem) [derived; papers.md]:
    alpha_0 = lr,  alpha_k = lr (1 - tau) for k >= 1,  beta_k = m.

With dampening = 0 this is constant-parameter heavy ball (alpha = lr, beta = m); SPA form:
eta = lr/(1 - m), c = 1 - m.

>>> from polyak.solvers import make_method
>>> make_method("sgdm", lr=0.1, momentum=0.9, nesterov=True).describe()["nesterov"]
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .linear import linear_method
from .registry import register_method


# Linear forms [derived]: the state (x, u = x + buf_{k-1}); buf_{-1} = 0 is u_0 = x_0, and the fixed
# point (x*, buf = 0) is (x*, x*). With dampening 0, buf_k = m buf_{k-1} + g_k at every k (k = 0
# included), and momentum 0 needs no special case (buf_k = g_k).
def _sgdm_form(x, u, grad, *, lr, momentum):
    buf = momentum * (u - x) + grad(x)
    x_new = x - lr * buf
    return x_new, x_new + buf


def _sgdm_nesterov_form(x, u, grad, *, lr, momentum):
    g = grad(x)
    buf = momentum * (u - x) + g
    x_new = x - lr * (g + momentum * buf)
    return x_new, x_new + buf


class SGDMState(NamedTuple):
    x: Any
    buf: Any
    beta: Any


@register_method
class TorchSGD(MethodRule):
    name = "sgdm"
    title = "SGD with momentum (torch.optim.SGD)"
    params = (
        Param("lr", 0.01, "learning rate", lo=0.0),
        Param("momentum", 0.9, "momentum factor", lo=0.0, hi=1.0, hi_closed=False),
        Param("dampening", 0.0, "dampening for momentum", lo=0.0, hi=1.0),
        Param("weight_decay", 0.0, "L2 penalty", lo=0.0),
        Param("nesterov", False, "Nesterov momentum", kind="bool"),
    )

    def check(self, hyper):
        import numpy as np

        if hyper["nesterov"]:
            m, damp = hyper["momentum"], hyper["dampening"]
            if not isinstance(m, np.ndarray) or np.any(m <= 0):
                raise ValueError("sgdm: nesterov=True needs momentum in (0, 1) (as torch.optim.SGD)")
            if not isinstance(damp, np.ndarray) or np.any(damp != 0):
                raise ValueError("sgdm: nesterov=True needs dampening = 0 (as torch.optim.SGD)")

    def linear_form(self, hyper):
        """The same iterates as a linear method on (x, x + buf), for dampening 0 and no weight decay."""
        import numpy as np

        if np.any(np.asarray(hyper["weight_decay"], dtype=float) != 0):
            raise ValueError("sgdm: weight_decay > 0 moves the fixed point to the minimiser of f + wd ||x||^2 / 2; "
                             "analyse weight_decay=0 on that function (mu + wd, L + wd)")
        if np.any(np.asarray(hyper["dampening"], dtype=float) != 0):
            raise ValueError("sgdm: dampening > 0 makes step 0 differ from the others (torch's buffer starts at d_0, "
                             "later steps add (1 - dampening) d_k); for the asymptotic rate analyse "
                             "hb(alpha=lr*(1-dampening), beta=momentum)")
        form = _SGDM_NESTEROV_FORM if hyper["nesterov"] else _SGDM_FORM
        return form(lr=hyper["lr"], momentum=hyper["momentum"])

    def init(self, x0, h, be):
        return SGDMState(x0, be.zeros_like(x0), h["momentum"] + be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        m = h["momentum"]
        d = oracle.grad(s.x)
        wd = h["weight_decay"]
        d = d + wd * s.x
        buf = d if k == 0 else m * s.buf + (1.0 - h["dampening"]) * d
        direction = d + m * buf if h["nesterov"] else buf
        direction = be.where(m == 0, d, direction)  # torch keeps no buffer when momentum == 0
        return SGDMState(s.x - h["lr"] * direction, buf, m + 0.0 * s.beta)


_SGDM_FORM = linear_method(_sgdm_form, name="sgdm-linear-form", title="SGD with momentum on (x, x + buf)",
                           params=TorchSGD.params[:2], register=False)
_SGDM_NESTEROV_FORM = linear_method(_sgdm_nesterov_form, name="sgdm-nesterov-linear-form",
                                    title="SGD with Nesterov momentum on (x, x + buf)", params=TorchSGD.params[:2],
                                    register=False)
