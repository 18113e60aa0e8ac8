"""Adaptive Memory (Topollai and Choromanska 2025): momentum from a two-plane proximal model.

Problem and assumptions
    Any differentiable f (stochastic gradients allowed). The paper claims O(1/sqrt(T)) in convex
    and non-convex settings [paper, summary]; constants [open].

Update [paper: topollai2025adaptive]
    d_{t+1} = ((beta_t + lambda)/(1 + lambda)) d_t + ((1 - beta_t)/(1 + lambda)) g_t,
    x_{t+1} = x_t - eta d_{t+1},   d_0 = g_0 [code].
    d_{t+1} is a convex combination of d_t and g_t for beta_t in [0, 1]. Heavy-ball form: beta^HB =
    (beta_t + lambda)/(1 + lambda), alpha_t = eta (1 - beta_t)/(1 + lambda) [derived]; the state's
    ``beta`` records beta^HB (the engine's convention) and ``beta_am`` the paper's beta_t.

The closed form [derived; papers.md "Model reconstructed..."]
    With u = x - x_t the two-plane proximal model is
        min_u max(<g_t, u>, Delta_t + <d_t, u>) + ||u||^2/(2 eta) + (lambda/(2 eta)) ||u + eta d_t||^2

    (planes: the current gradient, and the memory d_t offset by Delta_t). For a weight beta on the
    memory plane the minimiser is u = -eta d_{t+1}; the dual in beta is a concave quadratic with
    maximiser

        beta_t = clip([(1 + lambda) Delta_t/eta - <d_t - g_t, g_t + lambda d_t>] / ||d_t - g_t||^2, 0, beta_max).

    The clip at beta_max < 1 is the dual constrained to [0, beta_max] (tests check it against
    cvxpy). Degenerate d_t = g_t: the dual is linear with slope Delta_t and d_{t+1} = d_t whatever
    beta is; we return its exact maximiser over [0, beta_max]: beta_max if Delta_t >= 0, else 0
    (no 0/0).

Delta_t, the memory plane's offset (``delta``) [derived: which one is used changes behaviour]
    ``"inner"`` [code]: Delta_t = eta <g_t, d_t>, giving
        beta_t = clip((||g||^2 + 2 lambda <g, d> - lambda ||d||^2)/||g - d||^2, 0, beta_max).
    ``"loss-gap"``: Delta_t = f(x_{t-1}) - f(x_t) (0 at t = 0): the memory plane then takes the
        previous loss value at x_t. Since x_{t-1} = x_t + eta d_t, eta <g_t, d_t> is exactly the
        first-order Taylor expansion of this gap around x_t, so "inner" is its stochastic
        approximation and "loss-gap" the exact quantity it approximates (our reading; the
        paper's text was not available). With minibatches f is the closure's loss.

    ``"zero"``: Delta_t = 0 (both planes through f(x_t)).

AM-AdamW [code]: the same model in Adam's metric: ||u||^2 -> <u, P u> with P = sqrt(v_hat) + eps
(v Adam's second moment, fixed beta2), so gradient-space inner products are <a, b / P> and
x_{t+1} = x_t (1 - eta wd) - eta d_{t+1} / P (decoupled weight decay); beta1_max = 0.89; "inner"
uses eta <g, d / P>. Per-tensor beta in the [code]; here ``blocks`` (engine) / ``block`` (torch).

Settings [code]: lambda = 0.1, beta_max = 0.9 (SGD), 0.89 (AdamW), d_0 = g_0.

References: topollai2025adaptive, loshchilov2019adamw, kingma2015adam.

>>> import numpy as np
>>> from polyak.solvers import get_backend
>>> be = get_backend("numpy")
>>> g, d = np.array([1.0, 0.0]), np.array([0.0, 1.0])
>>> am_beta(g, d, 0.1 * (g @ d), 0.1, 0.1, 0.9, be).item()   # (1 + 0 - 0.1)/2
0.45
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .adam import BETA2, EPS, adam_precond, adam_second_moment, adam_update, dot
from .adaptive_hb import BLOCKS, block_mean, from_blocks, per_block, to_blocks
from .base import MethodRule, Param
from .registry import register_method

DELTAS = ("inner", "loss-gap", "zero")


# --------------------------------------------------------------------------------------------
# The shared rule (engine and torch optimizers): arrays of any shape, last axis = coordinates.
# --------------------------------------------------------------------------------------------
def am_sums(g: Any, d: Any, be: Any, precond: Any = None) -> tuple[Any, Any, Any, Any]:
    """Inner products over the last axis (keepdims), in the metric 1/P when ``precond`` is given:
    (||e||^2, <e, g>, <e, d>, <g, d>) with e = d - g. They are sums: accumulate them over tensors
    for a global beta."""
    e = d - g
    ew = e if precond is None else e / precond
    ee, eg = dot(e, ew, be), dot(ew, g, be)
    gg = dot(g, g, be) if precond is None else dot(g, g / precond, be)
    # <e, d> = <e, e> + <e, g> and <g, d> = <e, g> + <g, g> (d = e + g): three passes, and the
    # denominator ||e||^2 is summed directly (no cancellation when d is close to g)
    return ee, eg, ee + eg, eg + gg


def am_beta_from_sums(ee: Any, eg: Any, ed: Any, delta_over_eta: Any, lam: Any, beta_max: Any, be: Any) -> tuple[Any, Any]:
    """(beta_t, unclipped beta_t) = clip([(1 + lam) Delta/eta - <e, g + lam d>] / ||e||^2, 0, beta_max);
    ``delta_over_eta`` is Delta_t/eta. ||e|| = 0: beta_max if Delta >= 0 else 0 (exact dual maximiser)."""
    ok = ee > 0
    raw = ((1.0 + lam) * delta_over_eta - (eg + lam * ed)) / be.where(ok, ee, 1.0)
    degenerate = be.where(delta_over_eta >= 0, beta_max + 0.0 * raw, 0.0 * raw)
    return be.where(ok, be.clip(raw, 0.0, beta_max), degenerate), be.where(ok, raw, degenerate)


def am_beta(g: Any, d: Any, delta_t: Any, eta: Any, lam: Any, beta_max: Any, be: Any, metric: Any = None) -> Any:
    """beta_t of one block (the last axis); ``metric`` is Adam's preconditioner P (None: Euclidean)."""
    ee, eg, ed, _ = am_sums(g, d, be, metric)
    return am_beta_from_sums(ee, eg, ed, delta_t / eta, lam, beta_max, be)[0]


def am_delta_over_eta(kind: str, gd: Any, f: Any, f_prev: Any, eta: Any) -> Any:
    """Delta_t/eta for ``delta`` = "inner" (<g, d>), "loss-gap" ((f_prev - f)/eta), "zero"."""
    if kind == "inner":
        return gd
    if kind == "loss-gap":
        return (f_prev - f) / eta + 0.0 * gd
    if kind == "zero":
        return 0.0 * gd
    raise ValueError(f"adaptive memory: delta must be one of {', '.join(DELTAS)}; got {kind!r}")


def am_direction(d: Any, g: Any, beta: Any, lam: Any, inplace: bool = False) -> Any:
    """d_{t+1} = ((beta + lam) d + (1 - beta) g)/(1 + lam). ``inplace`` (torch): d updated in place."""
    if inplace:
        return d.mul_((beta + lam) / (1.0 + lam)).addcmul_(g, (1.0 - beta) / (1.0 + lam))
    return ((beta + lam) / (1.0 + lam)) * d + ((1.0 - beta) / (1.0 + lam)) * g


def am_update(x: Any, d: Any, lr: Any, wd: Any = 0.0, P: Any = None, inplace: bool = False) -> Any:
    """x' = x - lr d (AM-SGD) or x (1 - lr wd) - lr d / P (AM-AdamW, decoupled weight decay)."""
    if P is None:
        return x.add_(d, alpha=-lr) if inplace else x - lr * d
    return adam_update(x, d, P, lr, 1.0, wd, inplace)


LAMBDA = Param("lam", 0.1, "proximal weight lambda of the memory term", lo=0.0, schedulable=False)
DELTA_KIND = Param("delta", "inner", "offset Delta_t of the memory plane", kind="choice", choices=DELTAS)
AM_LR = Param("lr", 0.01, "step size eta", lo=0.0)


class AMState(NamedTuple):
    x: Any
    d: Any
    v: Any
    f_prev: Any
    beta_coord: Any
    beta_am: Any
    beta: Any


class _AMBase(MethodRule):
    adamw = False

    def check(self, hyper):
        import numpy as np

        lr = hyper["lr"]
        if hyper["delta"] == "loss-gap" and isinstance(lr, np.ndarray) and np.any(lr <= 0):
            raise ValueError(f"{self.name}: lr (step size eta) must be > 0 with delta='loss-gap' (Delta_t/eta); got {np.min(lr):g}")

    def init(self, x0, h, be):
        z, z1 = be.zeros_like(x0), be.zeros_like(x0[..., :1])
        return AMState(x0, z, z, z1, z, z1, z1)

    def step(self, s, oracle, k, h, be):
        B, lr, lam, bmax = h["blocks"], h["lr"], h["lam"], h["beta_max"]
        g = oracle.grad(s.x)
        if not self.adamw:
            g = g + h["weight_decay"] * s.x
            v, P = s.v, None
        else:
            v = adam_second_moment(s.v, g, h["beta2"])
            P = adam_precond(v, 1.0 - h["beta2"] ** (k + 1), h["eps"], be)
        d_prev = g if k == 0 else s.d  # d_0 = g_0
        f = s.f_prev
        if h["delta"] == "loss-gap":
            f = oracle.f(s.x)[..., None]
        f_prev = f if k == 0 else s.f_prev
        ee, eg, ed, gd = am_sums(to_blocks(g, B), to_blocks(d_prev, B), be, None if P is None else to_blocks(P, B))
        doe = am_delta_over_eta(h["delta"], gd, f[..., None], f_prev[..., None], per_block(lr))
        bb, _ = am_beta_from_sums(ee, eg, ed, doe, per_block(lam), per_block(bmax), be)
        beta_c = from_blocks(bb, s.x, be)
        d = am_direction(d_prev, g, beta_c, lam)
        x = am_update(s.x, d, lr, h["weight_decay"] if self.adamw else 0.0, P)
        b_am = block_mean(bb, be)
        return AMState(x, d, v, f, beta_c, b_am, (b_am + lam) / (1.0 + lam))


@register_method
class AMSGD(_AMBase):
    """AM-SGD: Adaptive Memory with the Euclidean metric; see the module docstring."""

    name = "am-sgd"
    title = "Adaptive Memory SGD"
    params = (
        AM_LR,
        LAMBDA,
        Param("beta_max", 0.9, "upper clip of beta_t", lo=0.0, hi=1.0, hi_closed=False, schedulable=False),
        DELTA_KIND,
        BLOCKS,
        Param("weight_decay", 0.0, "L2 penalty added to the gradient", lo=0.0),
    )


@register_method
class AMAdamW(_AMBase):
    """AM-AdamW: Adaptive Memory in Adam's metric with decoupled weight decay; see the module docstring."""

    name = "am-adamw"
    title = "Adaptive Memory AdamW"
    adamw = True
    params = (
        Param("lr", 1e-3, "step size eta", lo=0.0),
        LAMBDA,
        Param("beta_max", 0.89, "upper clip of beta_t (beta1_max)", lo=0.0, hi=1.0, hi_closed=False, schedulable=False),
        DELTA_KIND,
        BLOCKS,
        BETA2,
        EPS,
        Param("weight_decay", 1e-2, "decoupled weight decay", lo=0.0),
    )
