"""Adaptive heavy ball: momentum from a secant curvature estimate, and its bounds on quadratics.

Problem and assumptions:
    Heavy ball x_{k+1} = x_k - alpha g_k + beta_k (x_k - x_{k-1}) where beta_k is recomputed each
    step from the secant curvature estimate h_k = ||g_k - g_{k-1}|| / ||x_k - x_{k-1}||.
    Variant A1 (code citing the paper): beta_k = clip((1 - sqrt(alpha h_k))^2, 0, 1 - delta), delta = 1e-2.
    Variant A2 (group, EMA form): beta_k = clip(((1 - alpha h_k)/(1 + alpha h_k))^2, 0, 1 - delta).

Results (``adaptive-hb-beta``):
    A1 is the best beta for the fixed step alpha (``hb-best-beta``) on the one-point spectrum
    mu = L = h. A2 is beta* = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 when the EMA step is the optimal
    eta = 1/sqrt(L mu) and h estimates mu. On a quadratic with spectrum in [mu, L], mu <= h_k <= L, so
    for alpha <= 1/L the unclipped A1 lies in [(1 - sqrt(alpha L))^2, (1 - sqrt(alpha mu))^2].

Provenance: A1 [code citing the paper] sun2021adaptive; A2 [group]; the derivations of both
formulas from the quadratic theory and the bounds are [derived], derived here. The paper's
convergence statements are [open].

References: sun2021adaptive.

Example:
    >>> from polyak.theory import adaptive_hb_beta
    >>> [round(float(b), 6) for b in adaptive_hb_beta(0.01, [1.0, 100.0])]
    [0.81, 0.0]
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, get, gt, le, register

alpha = sp.Symbol("alpha", positive=True)
eta = sp.Symbol("eta", positive=True)
h = sp.Symbol("h", positive=True)
mu = sp.Symbol("mu", positive=True)
eps = sp.Symbol("epsilon", positive=True)  # sqrt(kappa) = 1 + epsilon
L = sp.Symbol("L", positive=True)
ORDER = {L: mu * (1 + eps) ** 2}  # encodes mu <= L for sympy
w = sp.Symbol("w", positive=True)  # w = sqrt(alpha h)


@register("adaptive-hb-beta", title="Adaptive heavy ball: beta from the secant curvature estimate, and its bounds on quadratics")
def _adaptive_hb() -> Derivation:
    best = get("hb-best-beta").expressions["beta"]
    a1_max = best.subs({mu: h, L: h})
    # Max(x, -x) = |x|, so the square is (1 - sqrt(alpha h))^2 for either sign
    a1_abs = a1_max.replace(
        lambda e: isinstance(e, sp.Max) and len(e.args) == 2 and sp.expand(e.args[0] + e.args[1]) == 0,
        lambda e: sp.Abs(e.args[0]),
    )
    a1 = sp.factor(a1_abs)
    # A2: with the optimal EMA step eta = 1/sqrt(L mu), solve for L and put mu = h in beta*
    opt_beta = get("hb-quadratic-optimal").expressions["beta"]
    L_of_eta = sp.solve(sp.Eq(eta, get("hb-ema-optimal").expressions["eta"]), L)[0]
    a2 = sp.factor(sp.simplify(opt_beta.subs(L, L_of_eta).subs(mu, h)))
    # bounds on a quadratic: monotone in h when alpha h <= 1
    dw = sp.factor(sp.diff((1 - w) ** 2, w))
    return Derivation(
        name="adaptive-hb-beta",
        title="Adaptive heavy ball: beta from the secant curvature estimate, and its bounds on quadratics",
        parameters=(alpha, eta, h, mu, L),
        parametrisation=ORDER,
        expressions={
            "beta_a1": a1,
            "beta_a2": a2,
            "beta_lower": (1 - sp.sqrt(alpha * L)) ** 2,
            "beta_upper": (1 - sp.sqrt(alpha * mu)) ** 2,
        },
        steps=(
            Step("the best beta for step alpha on [mu, L] (hb-best-beta)", best),
            Step("one-point spectrum mu = L = h: both branches are |1 - sqrt(alpha h)|, so (A1)",
                 sp.Eq(sp.Symbol("beta_A1"), a1_max)),
            Step("max(x, -x) = |x|, and |x|^2 = x^2", sp.Eq(sp.Symbol("beta_A1"), a1)),
            Step("A2: the optimal EMA step eta = 1/sqrt(L mu) gives L; put mu = h in beta*", sp.Eq(L, L_of_eta)),
            Step("so", sp.Eq(sp.Symbol("beta_A2"), a2)),
            Step("on a quadratic g_k - g_{k-1} = A (x_k - x_{k-1}), so mu <= h_k <= L; with w = sqrt(alpha h) <= 1 "
                 "beta_A1 = (1 - w)^2 decreases in w", sp.Eq(sp.Derivative(sp.Symbol("beta_A1"), w), dw)),
            Step("hence, for alpha <= 1/L, beta_A1 lies between its values at h = L and h = mu",
                 sp.Tuple((1 - sp.sqrt(alpha * L)) ** 2, (1 - sp.sqrt(alpha * mu)) ** 2)),
            Step("after clip(., 0, 1 - delta): 1 - beta_k >= delta always", sp.Symbol("delta")),
        ),
        assumptions=("alpha > 0, eta > 0", "h > 0 (the secant estimate)", "0 < mu <= L; bounds need alpha <= 1/L"),
        domain=(gt(alpha, 0), gt(eta, 0), gt(h, 0),
                gt(mu, 0), le(mu, L), le(alpha * L, 1)),
        provenance="[code] Sun et al. 2021 (A1 as in code citing the paper); A2 [group]; derivation [derived] derived here",
        references=("sun2021adaptive",),
        identities={
            "A1 = best beta at mu = L = h": (a1_abs, (1 - sp.sqrt(alpha * h)) ** 2),
            "A2 = ((1 - eta h)/(1 + eta h))^2": (a2, ((1 - eta * h) / (1 + eta * h)) ** 2),
        },
        uses=("hb-best-beta", "hb-quadratic-optimal", "hb-ema-optimal"),
    )


def adaptive_hb_beta(alpha: Any, h: Any, delta: float = 1e-2, variant: str = "A1") -> Any:
    """Adaptive heavy-ball momentum from the secant curvature ``h``, clipped to [0, 1 - delta].

    ``variant="A1"`` (heavy-ball form, default, delta = 1e-2): (1 - sqrt(alpha h))^2.
    ``variant="A2"`` (EMA form, pass eta as ``alpha``; the group's delta is 1e-3): ((1 - alpha h)/(1 + alpha h))^2.
    """
    import numpy as np

    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1); got {delta!r}")
    if variant == "A1":
        raw = compute("adaptive-hb-beta", ("beta_a1",), {"alpha": alpha, "h": h})
    elif variant == "A2":
        raw = compute("adaptive-hb-beta", ("beta_a2",), {"eta": alpha, "h": h})
    else:
        raise ValueError(f"variant must be 'A1' or 'A2'; got {variant!r}")
    return np.clip(raw, 0.0, 1.0 - delta)
