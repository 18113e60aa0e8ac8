"""Gradient descent on quadratics: worst-case rate for any step, the optimal step and its rate.

Problem and assumptions:
    f(x) = x^T A x / 2 with the spectrum of A in [mu, L], 0 < mu <= L; x_{k+1} = x_k - alpha grad f(x_k)
    (heavy ball with beta = 0). Along an eigenvector with eigenvalue lambda the error is multiplied
    by 1 - alpha lambda.

Results:
    ``gd-rate``               ``rate(alpha) = max(|1 - alpha mu|, |1 - alpha L|)``.
    ``gd-quadratic-optimal``  alpha* = 2/(L + mu), rate (kappa - 1)/(kappa + 1); at alpha = 1/L the

                              rate is 1 - 1/kappa.

Provenance: classical; papers.md states both rates untagged under "Classics". Derived here.

References: polyak1964.

Example:
    >>> from polyak.theory import gd_optimal, gd_rate
    >>> alpha, rho = gd_optimal(1.0, 3.0)
    >>> float(alpha), float(rho), float(gd_rate(1 / 3, 1.0, 3.0))
    (0.5, 0.5, 0.6666666666666667)
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, get, gt, le, register

alpha = sp.Symbol("alpha", positive=True)
lam = sp.Symbol("lam", positive=True)
mu = sp.Symbol("mu", positive=True)
eps = sp.Symbol("epsilon", positive=True)  # sqrt(kappa) = 1 + epsilon
L = sp.Symbol("L", positive=True)
ORDER = {L: mu * (1 + eps) ** 2}  # encodes mu <= L for sympy
NAMES = {lam: r"\lambda"}
_DOMAIN = (gt(mu, 0), le(mu, L))
_TEXT = "0 < mu <= L (spectrum of A in [mu, L])"


@register("gd-rate", title="Gradient descent on quadratics: worst-case rate for a given step")
def _gd_rate() -> Derivation:
    e1, e0 = sp.symbols("e_{k+1} e_k")
    factor = sp.expand(e0 - alpha * lam * e0).coeff(e0)
    rate = sp.Max(sp.Abs(factor.subs(lam, mu)), sp.Abs(factor.subs(lam, L)))
    return Derivation(
        name="gd-rate",
        title="Gradient descent on quadratics: worst-case rate for a given step",
        parameters=(alpha, mu, L),
        parametrisation=ORDER,
        expressions={"rate": rate},
        steps=(
            Step("error along an eigenvector", sp.Eq(e1, factor * e0)),
            Step("|1 - alpha lambda| is convex in lambda: its maximum over [mu, L] is at an endpoint", rate),
        ),
        assumptions=("alpha > 0", _TEXT),
        domain=(gt(alpha, 0),) + _DOMAIN,
        provenance="[derived] derived here (classical)",
        references=("polyak1964",),
        latex_names=NAMES,
    )


@register("gd-quadratic-optimal", title="Gradient descent on quadratics: optimal step and rate")
def _gd_optimal() -> Derivation:
    lo, hi = 1 - alpha * mu, alpha * L - 1  # the two branches of the worst case
    a_star = sp.solve(sp.Eq(lo, hi), alpha)[0]
    rho = sp.factor(lo.subs(alpha, a_star))
    kappa = L / mu
    # alpha = 1/L: parametrise kappa = 1 + delta, delta >= 0, so that sympy can drop the |.|
    delta = sp.Symbol("delta", nonnegative=True)
    rate = get("gd-rate").expressions["rate"]
    rho_short_delta = sp.simplify(rate.subs(alpha, 1 / L).subs(L, mu * (1 + delta)))
    rho_short = sp.factor(rho_short_delta.subs(delta, L / mu - 1))
    return Derivation(
        name="gd-quadratic-optimal",
        title="Gradient descent on quadratics: optimal step and rate",
        parameters=(mu, L),
        parametrisation=ORDER,
        expressions={"alpha": a_star, "rho": rho, "rho_step_1_over_L": rho_short},
        steps=(
            Step("worst case max(1 - alpha mu, alpha L - 1): one branch falls, the other rises with alpha",
                 sp.Tuple(lo, hi)),
            Step("minimum where they cross", sp.Eq(alpha, a_star)),
            Step("the optimal rate", sp.Eq(sp.Symbol("rho"), rho)),
            Step("the rate at alpha = 1/L, with kappa = 1 + delta (delta >= 0)", sp.Eq(sp.Symbol("rho_{1/L}"), rho_short_delta)),
        ),
        assumptions=(_TEXT,),
        domain=_DOMAIN,
        provenance="[derived] derived here (classical)",
        references=("polyak1964",),
        identities={
            "rho* = (kappa-1)/(kappa+1)": (rho, (kappa - 1) / (kappa + 1)),
            "rate(alpha*) = rho*": (rate.subs(alpha, a_star), rho),
            "rate(1/L) = 1 - 1/kappa": (rho_short, 1 - 1 / kappa),
        },
        latex_names=NAMES,
        uses=("gd-rate",),
    )


def gd_rate(alpha: Any, mu: Any, L: Any) -> Any:
    """Worst-case rate ``max(|1 - alpha mu|, |1 - alpha L|)`` of gradient descent on [mu, L]."""
    return compute("gd-rate", ("rate",), {"alpha": alpha, "mu": mu, "L": L})


def gd_optimal(mu: Any, L: Any) -> tuple[Any, Any]:
    """Optimal gradient-descent step and rate: (2/(L + mu), (L - mu)/(L + mu))."""
    return compute("gd-quadratic-optimal", ("alpha", "rho"), {"mu": mu, "L": L})
