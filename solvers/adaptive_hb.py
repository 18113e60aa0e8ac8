"""Adaptive heavy ball (Sun, Ling, Shi, Li, Wang 2021): momentum from a secant curvature estimate.

Problem and assumptions
    Any differentiable f. The rule estimates the quadratic-optimal momentum for the given step
    without knowing mu or L; convergence guarantees for SGD and Adam are claimed by the paper,
    statements [open].

The curvature estimate (per block of coordinates; ``blocks=1`` is the whole vector)
    h_k = ||g_k - g_{k-1}|| / ||x_k - x_{k-1}||   (secant estimate) [code citing the paper]
    No absolute guard is added to ||x_k - x_{k-1}|| (a third-party version adds 1e-6, which swamps
    small steps and stalls convergence); a step of exactly zero (or one whose squared norm
    underflows) keeps the previous beta instead of evaluating 0/0. beta_0 = 0.

Two variants (``variant``)
    ``"A1"`` [code citing the paper], heavy-ball form:
        beta_k = clip((1 - sqrt(alpha h_k))^2, 0, 1 - delta),  delta = 1e-2 (default),
        x_{k+1} = x_k - alpha g_k + beta_k (x_k - x_{k-1}),  alpha = ``lr``.
        (1 - sqrt(alpha h))^2 = (sqrt(alpha h) - 1)^2 is the best beta for a fixed alpha on a
        quadratic whose relevant eigenvalue is h (papers.md, Classics) [derived].
    ``"A2"`` [group], EMA form:
        beta_k = clip(((1 - eta h_k)/(1 + eta h_k))^2, 0, 1 - delta),  the group uses delta = 1e-3
        (pass ``delta=1e-3``; the default stays 1e-2 for both variants),
        d_{k+1} = beta_k d_k + (1 - beta_k) g_k,  x_{k+1} = x_k - eta d_{k+1},  eta = ``lr``.
        At eta = 1/sqrt(L mu) and h = mu this is beta* of heavy ball [derived].

    Recorded ``beta``: beta_k (the heavy-ball beta of both forms for a constant lr), the mean over
    blocks when ``blocks > 1``.

What follows directly [derived]: on a quadratic mu <= h_k <= L, so for alpha <= 1/L the
unclipped A1 beta lies in [(1 - sqrt(alpha L))^2, (1 - sqrt(alpha mu))^2] (A2: in
[((1 - eta L)/(1 + eta L))^2, ((1 - eta mu)/(1 + eta mu))^2] for eta <= 1/L); after clipping
1 - beta_k >= delta. Under gradient noise the secant estimate is noise-dominated [derived].

Adam version (``adaptive-hb-adam``) [code]: Adam whose beta1 is overwritten by beta_k each step.
Which step size enters h_k and the bias correction are [open]; the options are explicit:

    ``metric="euclidean"`` (default): plain h_k and alpha = lr, the literal reading of the [code]
        (beta_k computed as in the SGD version, then written into Adam's beta1).
        ``"preconditioned"`` (our option): the curvature in Adam's metric, h_k^2 = <dg, P^-1 dg> /
        <dx, P dx> with P = sqrt(v_hat) + eps and alpha = lr -- Adam is gradient descent with step
        lr in the metric P, so this is the A1/A2 formula on the problem Adam sees. It is not the
        default because we measured it erratic: P changes between the two points of the secant, and
        on a kappa = 10 quadratic beta_k jumps between ~0.02 and ~0.8 from one step to the next,
        amplifying rounding (1e-15 -> 1e-13 in 25 steps) where the Euclidean estimate stays smooth.
    ``bias_correction="exact"`` (default): m_hat = m / (1 - prod_{i<=k} beta_i), the exact
        correction for a time-varying beta [derived]; because beta_0 = 0 the product is 0 and
        m_hat = m (an EMA started with weight 1 on g_0 has no zero-initialisation bias).
        ``"current-beta"``: 1 - beta_k^(k+1), what torch's Adam computes when beta1 is overwritten
        in place (the port's behaviour). v is corrected by 1 - beta2^(k+1) in both.

    The first moment is Adam's EMA: m_{k+1} = beta_k m_k + (1 - beta_k) g_k.

References: sun2021adaptive, polyak1964, kingma2015adam.

>>> from polyak.solvers import make_method, make_problem, simulate
>>> tr = simulate(make_method("adaptive-hb", lr=0.01), make_problem("quadratic", mu=1, L=100, dim=10), 400)
>>> bool(tr.dist[-1].max() < 1e-6)
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .adam import BETA2, EPS, adam_precond, adam_second_moment, adam_update, dot, ema
from .base import MethodRule, Param
from .registry import register_method

VARIANTS = ("A1", "A2")


# --------------------------------------------------------------------------------------------
# The shared rule (engine and torch optimizers): arrays of any shape, last axis = coordinates.
# --------------------------------------------------------------------------------------------
def secant_sums(dg: Any, dx: Any, be: Any, precond: Any = None) -> tuple[Any, Any]:
    """(||dg||^2, ||dx||^2) over the last axis (keepdims); in the metric P when ``precond`` is given:
    (<dg, dg/P>, <dx, P dx>). Sums: accumulate them over tensors for a global estimate."""
    if precond is None:
        return dot(dg, dg, be), dot(dx, dx, be)
    return dot(dg, dg / precond, be), dot(dx, dx * precond, be)


def adaptive_hb_beta_from_sums(dg2: Any, dx2: Any, alpha: Any, delta: Any, variant: str, beta_prev: Any, raw_prev: Any, be: Any) -> tuple[Any, Any]:
    """(beta_k, unclipped beta_k) from the secant sums; a zero step keeps (beta_prev, raw_prev)."""
    moved = dx2 > 0
    ah = alpha * be.sqrt(dg2 / be.where(moved, dx2, 1.0))
    if variant == "A1":
        raw = (1.0 - be.sqrt(ah)) ** 2
    elif variant == "A2":
        raw = ((1.0 - ah) / (1.0 + ah)) ** 2
    else:
        raise ValueError(f"adaptive heavy ball: variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    beta = be.clip(raw, 0.0, 1.0 - delta)
    return be.where(moved, beta, beta_prev), be.where(moved, raw, raw_prev)


def adaptive_hb_beta(g: Any, g_prev: Any, x: Any, x_prev: Any, alpha: Any, delta: Any, variant: str, be: Any, beta_prev: Any = 0.0) -> Any:
    """beta_k of one block (the last axis) from two consecutive iterates and gradients."""
    dg2, dx2 = secant_sums(g - g_prev, x - x_prev, be)
    return adaptive_hb_beta_from_sums(dg2, dx2, alpha, delta, variant, beta_prev, beta_prev, be)[0]


def adaptive_hb_update(x: Any, dx: Any, d: Any, g: Any, lr: Any, beta: Any, variant: str, inplace: bool = False) -> tuple[Any, Any, Any]:
    """One step; returns (x', dx' = x' - x, d'). A1: x' = x - lr g + beta dx (d unused);
    A2: d' = beta d + (1 - beta) g, x' = x - lr d'. ``inplace`` (torch): x, dx, d updated in place."""
    if variant == "A1":
        if inplace:
            dx.mul_(beta).add_(g, alpha=-lr)
            return x.add_(dx), dx, d
        dx = beta * dx - lr * g
        return x + dx, dx, d
    d = ema(d, g, beta, inplace)
    if inplace:
        dx.copy_(d).mul_(-lr)
        return x.add_(dx), dx, d
    dx = -lr * d
    return x + dx, dx, d


# --------------------------------------------------------------------------------------------
# Blocks of coordinates in the engine: (P, N, d) -> (P, N, B, d/B)
# --------------------------------------------------------------------------------------------
def to_blocks(a: Any, B: int) -> Any:
    P, N, d = a.shape
    if d % B:
        raise ValueError(f"blocks={B} must divide the dimension d={d} (equal coordinate blocks)")
    return a.reshape(P, N, B, d // B)


def from_blocks(b: Any, like: Any, be: Any) -> Any:
    """Per-block values (P, N, B, 1) broadcast to every coordinate, shape (P, N, d)."""
    P, N, d = like.shape
    B = b.shape[2]
    return (b + be.zeros_like(like.reshape(P, N, B, d // B))).reshape(P, N, d)


def per_block(a: Any) -> Any:
    """A hyperparameter of shape (P, N, 1) reshaped to (P, N, 1, 1) to broadcast with blocks."""
    return a[..., None] if getattr(a, "ndim", 0) == 3 else a


def block_mean(b: Any, be: Any) -> Any:
    """(P, N, B, 1) -> (P, N, 1): the mean over blocks (what the Trajectory records)."""
    return be.sum(b[..., 0], axis=-1, keepdims=True) / b.shape[2]


BLOCKS = Param("blocks", 1, "number of equal coordinate blocks with their own beta (1: the whole vector)", kind="int", lo=1)
VARIANT = Param("variant", "A1", "A1: HB form (1-sqrt(alpha h))^2; A2: EMA form ((1-alpha h)/(1+alpha h))^2", kind="choice", choices=VARIANTS)
DELTA = Param("delta", 1e-2, "margin: beta <= 1 - delta", lo=0.0, hi=1.0, lo_closed=False, hi_closed=False, schedulable=False)


class AdaptiveHBState(NamedTuple):
    x: Any
    dx: Any
    d: Any
    g_prev: Any
    beta_coord: Any
    raw_coord: Any
    beta: Any


@register_method
class AdaptiveHB(MethodRule):
    """Adaptive heavy ball, SGD version (variants A1, A2); see the module docstring."""

    name = "adaptive-hb"
    title = "adaptive heavy ball (secant momentum)"
    params = (
        Param("lr", 0.01, "step size (alpha in A1, eta in A2)", lo=0.0),
        DELTA,
        VARIANT,
        BLOCKS,
        Param("weight_decay", 0.0, "L2 penalty added to the gradient", lo=0.0),
    )

    def init(self, x0, h, be):
        z = be.zeros_like(x0)
        return AdaptiveHBState(x0, z, z, z, z, z, be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        B = h["blocks"]
        g = oracle.grad(s.x) + h["weight_decay"] * s.x
        if k == 0:
            beta_c, raw_c = s.beta_coord, s.raw_coord
            beta_mean = s.beta
        else:
            dg2, dx2 = secant_sums(to_blocks(g - s.g_prev, B), to_blocks(s.dx, B), be)
            bp, rp = to_blocks(s.beta_coord, B)[..., :1], to_blocks(s.raw_coord, B)[..., :1]
            bb, rb = adaptive_hb_beta_from_sums(dg2, dx2, per_block(h["lr"]), per_block(h["delta"]), h["variant"], bp, rp, be)
            beta_c, raw_c, beta_mean = from_blocks(bb, s.x, be), from_blocks(rb, s.x, be), block_mean(bb, be)
        x, dx, d = adaptive_hb_update(s.x, s.dx, s.d, g, h["lr"], beta_c, h["variant"])
        return AdaptiveHBState(x, dx, d, g, beta_c, raw_c, beta_mean)


class AdaptiveHBAdamState(NamedTuple):
    x: Any
    dx: Any
    m: Any
    v: Any
    g_prev: Any
    beta_prod: Any
    beta_coord: Any
    raw_coord: Any
    beta: Any


def adaptive_hb_adam_bc1(k: int, beta: Any, beta_prod: Any, bias_correction: str) -> Any:
    """First-moment bias correction of adaptive-HB Adam at step k (see the module docstring)."""
    return 1.0 - beta_prod if bias_correction == "exact" else 1.0 - beta ** (k + 1)


def adaptive_hb_adam_step(x: Any, dx: Any, m: Any, P: Any, lr: Any, bc1: Any, wd: Any, inplace: bool = False) -> tuple[Any, Any]:
    """Adam's step, kept as an increment: dx' = -(lr/bc1) m/P - lr wd x, x' = x + dx'. The secant
    estimate needs x_k - x_{k-1}; keeping the increment avoids recomputing it by cancellation.
    ``inplace`` (torch): x and dx are updated in place (the old dx is overwritten)."""
    if inplace:
        scale = lr / bc1
        dx.copy_(m).div_(P).mul_(-(float(scale) if hasattr(scale, "shape") else scale))
        if wd:
            dx.add_(x, alpha=-lr * wd)
        return x.add_(dx), dx
    dx = -(lr / bc1) * m / P - (lr * wd) * x
    return x + dx, dx


@register_method
class AdaptiveHBAdam(MethodRule):
    """Adam whose beta1 is the adaptive heavy-ball beta_k; see the module docstring."""

    name = "adaptive-hb-adam"
    title = "adaptive heavy ball, Adam version"
    params = (
        Param("lr", 1e-3, "learning rate", lo=0.0),
        DELTA,
        VARIANT,
        BLOCKS,
        BETA2,
        EPS,
        Param("weight_decay", 0.0, "decoupled weight decay (AdamW-style)", lo=0.0),
        Param("metric", "euclidean", "metric of the curvature estimate", kind="choice", choices=("euclidean", "preconditioned")),
        Param("bias_correction", "exact", "first-moment bias correction", kind="choice", choices=("exact", "current-beta")),
    )

    def init(self, x0, h, be):
        z = be.zeros_like(x0)
        z1 = be.zeros_like(x0[..., :1])
        return AdaptiveHBAdamState(x0, z, z, z, z, z + 1.0, z, z, z1)

    def step(self, s, oracle, k, h, be):
        B, lr = h["blocks"], h["lr"]
        g = oracle.grad(s.x)
        # beta_k from the secant pair (g_k - g_{k-1}, x_k - x_{k-1}); the metric uses v after g_k
        v = adam_second_moment(s.v, g, h["beta2"])
        P = adam_precond(v, 1.0 - h["beta2"] ** (k + 1), h["eps"], be)
        if k == 0:
            beta_c, raw_c, beta_mean = s.beta_coord, s.raw_coord, s.beta
        else:
            pre = to_blocks(P, B) if h["metric"] == "preconditioned" else None
            dg2, dx2 = secant_sums(to_blocks(g - s.g_prev, B), to_blocks(s.dx, B), be, pre)
            bp, rp = to_blocks(s.beta_coord, B)[..., :1], to_blocks(s.raw_coord, B)[..., :1]
            bb, rb = adaptive_hb_beta_from_sums(dg2, dx2, per_block(lr), per_block(h["delta"]), h["variant"], bp, rp, be)
            beta_c, raw_c, beta_mean = from_blocks(bb, s.x, be), from_blocks(rb, s.x, be), block_mean(bb, be)
        m = ema(s.m, g, beta_c)
        prod = s.beta_prod * beta_c
        bc1 = adaptive_hb_adam_bc1(k, beta_c, prod, h["bias_correction"])
        x, dx = adaptive_hb_adam_step(s.x, s.dx, m, P, lr, bc1, h["weight_decay"])
        return AdaptiveHBAdamState(x, dx, m, v, g, prod, beta_c, raw_c, beta_mean)
