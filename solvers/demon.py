"""Demon: decaying momentum (Chen, Wolfe, Li, Kyrillidis 2019), its schedule, SGDM and Adam.

Problem and assumptions
    Any differentiable f (stochastic gradients allowed); no convergence theorem is known for
    Demon [open] -- the toolkit analyses Demon SGDM through its exact heavy-ball / SPA map.

The schedule [paper: chen2019demon]
    beta_t is chosen so that the total future contribution of a gradient, beta_t/(1 - beta_t),
    decays linearly in t:

        beta_t/(1 - beta_t) = (1 - t/T) beta_init/(1 - beta_init),
        beta_t = beta_init (1 - t/T) / ((1 - beta_init) + beta_init (1 - t/T)),  t = 0..T.

    Properties [derived]: beta_0 = beta_init, beta_T = 0, decreasing and concave on [0, T], and
    1/(1 - beta_t) = 1 + (1 - t/T) beta_init/(1 - beta_init): the effective step eta/(1 - beta_t)
    decays exactly linearly from eta/(1 - beta_init) to eta. Outside [0, T] the formula has a
    pole at t = T/beta_init, so t is clamped to [0, T] (beta_t = 0 after T).
    Delayed decay (the paper mentions holding beta_init until t0) has no published formula
    [open]; **our choice**: hold beta_init for t <= t0, then the Demon formula over [t0, T] with
    (t - t0)/(T - t0) in place of t/T. t0 = 0 (default) is the paper's schedule.

Demon SGDM [paper], canonical heavy-ball form [derived]
    v_{t+1} = beta_t v_t - eta g_t,  theta_{t+1} = theta_t + v_{t+1},  v_0 = 0,
    i.e. heavy ball x_{t+1} = x_t - alpha_t g_t + beta_t (x_t - x_{t-1}) with alpha_t = eta and
    the Demon beta_t (``demon_schedule``); SPA form by the reverse map of ``spa.py``.
    ``weight_decay`` adds wd * x to the gradient (L2, as ``torch.optim.SGD``).

Demon Adam, named variants (``variant``)
    ``"paper"`` (default) [paper: chen2019demon, Algorithm 2 as printed]:
        m_t = g_t + beta_t m_{t-1} (undampened),  E_{t+1} = beta2 E_t + (1 - beta2) g_t^2,
        theta_{t+1} = theta_t - eta m_t / sqrt(E_{t+1} + eps),  eps = 1e-8 inside the square root,
        no bias correction of either moment (m_{-1} = 0, E_0 = 0).
    ``"port-ema"`` [code: the common port]: the dampened first moment
        m_t = beta_t m_{t-1} + (1 - beta_t) g_t corrected by 1 - beta_t^t with the *current* beta_t
        (t = k + 1, 1-based), v corrected by 1 - beta2^t, theta -= eta m_hat / (sqrt(v_hat) + eps)
        (Adam's update with beta1 overwritten by beta_t each step). A different algorithm: its
        effective step is eta, not eta/(1 - beta_t).
    ``"polyak"`` (our earlier options, kept for comparison) with ``first_moment`` and
        ``bias_correction``: ``first_moment="undampened"`` m_t = g_t + beta_t m_{t-1} with v corrected
        by 1 - beta2^(t) and m uncorrected; ``"ema"`` the dampened m with the exact correction of an
        EMA with time-varying beta, m_hat = m_t / (1 - prod_{i<=t} beta_i) [derived] (its weights sum
        to that); ``bias_correction="none"`` corrects neither; update theta -= eta m_hat/(sqrt(v_hat) + eps).

    ``first_moment`` and ``bias_correction`` only act with ``variant="polyak"``. In every variant
    ``weight_decay`` is decoupled (theta (1 - eta wd), as AdamW; our choice, 0 by default: the
    paper's algorithm has none). The recorded ``beta`` is beta_t (Adam is not heavy ball: it is
    the first-moment coefficient, which is the heavy-ball beta when the preconditioner is frozen
    and m is undampened).

Headline [paper]: over 28 deep-learning settings Demon was Top-1 in 39% and Top-3 in 85%.

References: chen2019demon, kingma2015adam, loshchilov2019adamw, defazio2020, polyak1964.

>>> import numpy as np
>>> float(demon_beta(0, 100, 0.9)), float(demon_beta(100, 100, 0.9)), float(demon_beta(500, 100, 0.9))
(0.9, 0.0, 0.0)
>>> from polyak.solvers import make_method
>>> make_method("demon-sgdm", eta=0.1, beta_init=0.9, T=100).describe()["T"]
100.0
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .adam import BETA2, EPS, adam_moments, adam_precond, adam_update
from .base import MethodRule, Param
from .registry import register_method
from .schedules import Schedule

BETA_INIT = Param("beta_init", 0.9, "initial momentum beta_init", lo=0.0, hi=1.0, hi_closed=False, schedulable=False)
HORIZON = Param("T", 1000.0, "decay horizon T (beta_T = 0)", lo=1.0, schedulable=False)
DELAY = Param("t0", 0.0, "delay t0: beta_init is held until t0 (our choice of formula)", lo=0.0, schedulable=False)


def demon_beta(t: Any, T: Any, beta_init: Any, t0: Any = 0.0, be: Any = None) -> Any:
    """Demon's momentum beta_t with t clamped to [0, T] and delayed decay from t0 (our formula).

    Args:
        t: step index (number or array).
        T: horizon (beta_T = 0), T > t0 >= 0.
        beta_init: beta_0, in [0, 1).
        t0: hold beta_init for t <= t0, then decay over [t0, T] (t0 = 0: the paper's schedule).
        be: a Backend when the arguments are backend arrays (None: numpy / Python numbers).

    Returns:
        beta_init r / ((1 - beta_init) + beta_init r) with r = 1 - clip((t - t0)/(T - t0), 0, 1).
    """
    s = (t - t0) / (T - t0)
    s = np.clip(s, 0.0, 1.0) if be is None else be.clip(s, 0.0, 1.0)
    r = 1.0 - s
    return beta_init * r / ((1.0 - beta_init) + beta_init * r)


def demon_schedule(beta_init: Any = 0.9, T: Any = 1000.0, t0: Any = 0.0) -> Schedule:
    """Demon's beta_t as a :class:`Schedule` (compose with any method, e.g. ``hb``).

    >>> demon_schedule(0.9, 4).table(6).round(4).tolist()
    [0.9, 0.871, 0.8182, 0.6923, 0.0, 0.0]
    """
    return Schedule(lambda k, beta_init, T, t0: demon_beta(k, T, beta_init, t0), "demon", beta_init=beta_init, T=T, t0=t0)


def check_horizon(name: str, hyper: dict) -> None:
    T, t0 = np.asarray(hyper["T"], float), np.asarray(hyper["t0"], float)
    if np.any(t0 >= T):
        raise ValueError(f"{name}: t0 (delay) must be < T (horizon); got t0={np.max(t0):g}, T={np.min(T):g}")


def _no_weight_decay(name: str, hyper: dict) -> None:
    if np.any(np.asarray(hyper["weight_decay"], dtype=float) != 0):
        raise ValueError(
            f"{name}: weight_decay > 0 moves the fixed point to the minimiser of f + wd ||x||^2 / 2, not of f; "
            "analyse the method with weight_decay=0 on that function (mu + wd, L + wd)"
        )


def demon_sgdm_update(x: Any, v: Any, g: Any, eta: Any, beta: Any, inplace: bool = False) -> tuple[Any, Any]:
    """One Demon SGDM step: v' = beta v - eta g, x' = x + v'. Returns (x', v').
    ``inplace`` (torch): x and v are updated in place."""
    if inplace:
        v.mul_(beta).add_(g, alpha=-eta)
        return x.add_(v), v
    v = beta * v - eta * g
    return x + v, v


class DemonSGDMState(NamedTuple):
    x: Any
    v: Any
    beta: Any


@register_method
class DemonSGDM(MethodRule):
    """Demon SGDM: heavy ball with alpha = eta and Demon's beta_t (see the module docstring)."""

    name = "demon-sgdm"
    title = "Demon SGDM (decaying momentum)"
    params = (
        Param("eta", 0.01, "step size eta", lo=0.0),
        BETA_INIT,
        HORIZON,
        DELAY,
        Param("weight_decay", 0.0, "L2 penalty added to the gradient", lo=0.0),
    )

    def check(self, hyper):
        check_horizon(self.name, hyper)

    def linear_form(self, hyper):
        """Heavy ball with alpha = eta and beta_t = Demon's schedule (v_t = x_t - x_{t-1}). [derived]"""
        _no_weight_decay(self.name, hyper)
        from .heavy_ball import hb

        return hb(alpha=hyper["eta"], beta=demon_schedule(hyper["beta_init"], hyper["T"], hyper["t0"]))

    def init(self, x0, h, be):
        z = be.zeros_like(x0[..., :1])
        return DemonSGDMState(x0, be.zeros_like(x0), demon_beta(0, h["T"], h["beta_init"], h["t0"], be) + z)

    def step(self, s, oracle, k, h, be):
        b = demon_beta(k, h["T"], h["beta_init"], h["t0"], be) + 0.0 * s.beta
        g = oracle.grad(s.x) + h["weight_decay"] * s.x
        x, v = demon_sgdm_update(s.x, s.v, g, h["eta"], b)
        return DemonSGDMState(x, v, b)


def demon_adam_moments(m: Any, v: Any, g: Any, beta: Any, beta2: Any, first_moment: str, inplace: bool = False) -> tuple[Any, Any]:
    """Demon Adam's moments: m' = g + beta m ("undampened") or beta m + (1 - beta) g ("ema")."""
    return adam_moments(m, v, g, beta, beta2, dampened=(first_moment == "ema"), inplace=inplace)


def demon_adam_corrections(k: int, beta_prod: Any, beta2: Any, first_moment: str, bias_correction: str,
                           variant: str = "polyak", beta: Any = None) -> tuple[Any, Any]:
    """(bc1, bc2): m_hat = m / bc1, v_hat = v / bc2 at step k (0-based); ``beta_prod`` is
    prod_{i<=k} beta_i, ``beta`` the current beta_k. See the module docstring for the choices."""
    if variant == "paper":
        return 1.0, 1.0
    if variant == "port-ema":
        return 1.0 - beta ** (k + 1), 1.0 - beta2 ** (k + 1)
    if bias_correction == "none":
        return 1.0, 1.0
    bc2 = 1.0 - beta2 ** (k + 1)
    bc1 = 1.0 - beta_prod if first_moment == "ema" else 1.0
    return bc1, bc2


def demon_adam_dampened(variant: str, first_moment: str) -> bool:
    """Whether the first moment is the dampened EMA (``port-ema``, or ``polyak`` with ``ema``)."""
    return variant == "port-ema" or (variant == "polyak" and first_moment == "ema")


def demon_adam_precond(v: Any, bc2: Any, eps: Any, variant: str, be: Any, inplace: bool = False) -> Any:
    """The denominator: sqrt(v + eps) for ``paper`` (eps inside the root), else sqrt(v/bc2) + eps.
    ``inplace`` (torch): a new tensor, v untouched."""
    if variant == "paper":
        return v.add(eps).sqrt_() if inplace else be.sqrt(v + eps)
    return adam_precond(v, bc2, eps, be, inplace=inplace)


DEMON_ADAM_VARIANTS = ("paper", "port-ema", "polyak")


class DemonAdamState(NamedTuple):
    x: Any
    m: Any
    v: Any
    beta_prod: Any
    beta: Any


@register_method
class DemonAdam(MethodRule):
    """Demon Adam: ``variant`` "paper" (default), "port-ema" or "polyak"; see the module docstring."""

    name = "demon-adam"
    title = "Demon Adam (decaying momentum)"
    params = (
        Param("lr", 1e-3, "learning rate eta", lo=0.0),
        BETA_INIT,
        HORIZON,
        DELAY,
        BETA2,
        EPS,
        Param("weight_decay", 0.0, "decoupled weight decay (AdamW-style)", lo=0.0),
        Param("variant", "paper", "paper (Algorithm 2 as printed), port-ema (the common port) or polyak "
              "(first_moment, bias_correction)", kind="choice", choices=DEMON_ADAM_VARIANTS),
        Param("first_moment", "undampened", "first-moment form (variant polyak)", kind="choice",
              choices=("undampened", "ema")),
        Param("bias_correction", "exact", "bias correction (variant polyak)", kind="choice", choices=("exact", "none")),
    )

    def check(self, hyper):
        check_horizon(self.name, hyper)

    def init(self, x0, h, be):
        z = be.zeros_like(x0[..., :1])
        b0 = demon_beta(0, h["T"], h["beta_init"], h["t0"], be) + z
        return DemonAdamState(x0, be.zeros_like(x0), be.zeros_like(x0), z + 1.0, b0)

    def step(self, s, oracle, k, h, be):
        b = demon_beta(k, h["T"], h["beta_init"], h["t0"], be) + 0.0 * s.beta
        g = oracle.grad(s.x)
        var = h["variant"]
        m, v = adam_moments(s.m, s.v, g, b, h["beta2"], dampened=demon_adam_dampened(var, h["first_moment"]))
        prod = s.beta_prod * b
        bc1, bc2 = demon_adam_corrections(k, prod, h["beta2"], h["first_moment"], h["bias_correction"], var, b)
        x = adam_update(s.x, m, demon_adam_precond(v, bc2, h["eps"], var, be), h["lr"], bc1, h["weight_decay"])
        return DemonAdamState(x, m, v, prod, b)
