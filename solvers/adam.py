"""Adam (Kingma and Ba 2015) and AdamW (Loshchilov and Hutter 2019): the baselines, as torch has them.

Problem and assumptions
    Any differentiable f; the baselines the papers' adaptive methods are compared with.

Algorithm [paper: kingma2015adam, loshchilov2019adamw; code: torch.optim.Adam / AdamW], step k = 0, 1, ...
    g_k = grad f(x_k) (+ wd x_k for ``adam``: L2, coupled)
    m_{k+1} = beta1 m_k + (1 - beta1) g_k,   v_{k+1} = beta2 v_k + (1 - beta2) g_k^2,   m_0 = v_0 = 0
    P_k = sqrt(v_{k+1}) / sqrt(1 - beta2^(k+1)) + eps
    x_{k+1} = x_k (1 - lr wd [adamw only]) - (lr / (1 - beta1^(k+1))) m_{k+1} / P_k

The arithmetic follows torch's order of operations, so the engine matches ``torch.optim.Adam`` and
``AdamW`` to rounding. Adam is not heavy ball: with a frozen preconditioner it is the EMA form,
heavy ball with beta = beta1; ``beta`` records beta1.

The shared pieces (``adam_moments``, ``adam_precond``) are used by Demon Adam, adaptive heavy ball
(Adam version) and AM-AdamW, in the engine and in ``torch_optim``.

References: kingma2015adam, loshchilov2019adamw.

>>> from polyak.solvers import make_method
>>> make_method("adamw", lr=1e-3).describe()["weight_decay"]
0.01
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .registry import register_method

LR = Param("lr", 1e-3, "learning rate", lo=0.0)
BETA1 = Param("beta1", 0.9, "first-moment coefficient beta1", lo=0.0, hi=1.0, hi_closed=False)
BETA2 = Param("beta2", 0.999, "second-moment coefficient beta2", lo=0.0, hi=1.0, hi_closed=False)
EPS = Param("eps", 1e-8, "denominator term eps", lo=0.0, lo_closed=False)


# Each elementwise rule below has two spellings of the same arithmetic: the functional one (the
# engine, any backend) and ``inplace=True`` (torch tensors only: the state arguments are updated
# in place and returned; used by ``torch_optim`` for speed). Tests check both agree to 1e-12.
def adam_moments(m: Any, v: Any, g: Any, beta1: Any, beta2: Any, dampened: bool = True, inplace: bool = False) -> tuple[Any, Any]:
    """Adam's moments: m' = beta1 m + (1 - beta1) g (dampened) or g + beta1 m (undampened);
    v' = beta2 v + (1 - beta2) g^2."""
    if dampened:
        m = ema(m, g, beta1, inplace)
    else:
        m = m.mul_(beta1).add_(g) if inplace else g + beta1 * m
    return m, adam_second_moment(v, g, beta2, inplace)


def ema(m: Any, g: Any, beta: Any, inplace: bool = False) -> Any:
    """m' = beta m + (1 - beta) g (Adam's first moment; the EMA form of momentum)."""
    if inplace:
        return m.mul_(beta).addcmul_(g, 1.0 - beta) if hasattr(beta, "shape") else m.mul_(beta).add_(g, alpha=1.0 - beta)
    return beta * m + (1.0 - beta) * g


def dot(a: Any, b: Any, be: Any) -> Any:
    """Inner product over the last axis, keepdims (einsum: no temporary of a's size on torch)."""
    return be.einsum("...i,...i->...", a, b)[..., None]


def adam_second_moment(v: Any, g: Any, beta2: Any, inplace: bool = False) -> Any:
    """v' = beta2 v + (1 - beta2) g^2."""
    if inplace:
        return v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
    return beta2 * v + (1.0 - beta2) * (g * g)


def adam_precond(v: Any, bc2: Any, eps: Any, be: Any, inplace: bool = False) -> Any:
    """Adam's diagonal preconditioner P = sqrt(v) / sqrt(bc2) + eps (torch's order of operations).
    ``inplace``: the new array sqrt(v) is finished in place (v is not modified)."""
    if inplace:
        return be.sqrt(v).div_(bc2 ** 0.5).add_(eps)
    return be.sqrt(v) / (bc2 ** 0.5) + eps


def adam_update(x: Any, m: Any, P: Any, lr: Any, bc1: Any, wd: Any = 0.0, inplace: bool = False) -> Any:
    """x' = x (1 - lr wd) - (lr / bc1) m / P: Adam's step with decoupled weight decay (torch's order)."""
    if inplace:
        if wd:
            x.mul_(1.0 - lr * wd)
        scale = lr / bc1
        return x.addcdiv_(m, P, value=-(float(scale) if hasattr(scale, "shape") else scale))
    return x * (1.0 - lr * wd) - (lr / bc1) * m / P


class AdamState(NamedTuple):
    x: Any
    m: Any
    v: Any
    beta: Any


class _AdamBase(MethodRule):
    decoupled = False

    def init(self, x0, h, be):
        return AdamState(x0, be.zeros_like(x0), be.zeros_like(x0), h["beta1"] + be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        lr, wd, b1, b2 = h["lr"], h["weight_decay"], h["beta1"], h["beta2"]
        g = oracle.grad(s.x)
        if not self.decoupled:
            g = g + wd * s.x
        m, v = adam_moments(s.m, s.v, g, b1, b2)
        bc1, bc2 = 1.0 - b1 ** (k + 1), 1.0 - b2 ** (k + 1)
        x = adam_update(s.x, m, adam_precond(v, bc2, h["eps"], be), lr, bc1, wd if self.decoupled else 0.0)
        return AdamState(x, m, v, b1 + 0.0 * s.beta)


@register_method
class Adam(_AdamBase):
    """Adam with L2 weight decay added to the gradient (``torch.optim.Adam``)."""

    name = "adam"
    title = "Adam"
    params = (LR, BETA1, BETA2, EPS, Param("weight_decay", 0.0, "L2 penalty added to the gradient", lo=0.0))


@register_method
class AdamW(_AdamBase):
    """AdamW: decoupled weight decay x <- x (1 - lr wd) (``torch.optim.AdamW``, default wd 1e-2)."""

    name = "adamw"
    title = "AdamW"
    decoupled = True
    params = (LR, BETA1, BETA2, EPS, Param("weight_decay", 1e-2, "decoupled weight decay", lo=0.0))
