"""Ghadimi, Feyzmahdavian and Johansson (2015), Theorem 4: heavy ball on smooth strongly convex f.

Problem and assumptions:
    f mu-strongly convex and L-smooth; heavy ball x_{k+1} = x_k - alpha grad f(x_k) + beta (x_k - x_{k-1}),
    x_{-1} = x_0, with alpha in (0, 1/L] and beta = sqrt((1 - alpha mu)(1 - alpha L)).

Result (``gfj-hb``):
    f(x_n) - f* <= (1 - alpha mu)^n (f(x_0) - f*).
    Derived here, on quadratics only, as a consistency check: for every eigenvalue in [mu, L] both
    roots of the characteristic polynomial lie in the disk of radius r = sqrt(1 - alpha mu)
    (the Jury criterion applied to p(r w)), so function values decay no slower than (1 - alpha mu)^n
    asymptotically, as the theorem requires.

Provenance: [paper] ghadimi2015 Theorem 4, as quoted by PEPit's heavy-ball example; the
quadratic consistency check is derived here.

References: ghadimi2015, polyak1964.

Example:
    >>> from polyak.theory import gfj_beta
    >>> round(float(gfj_beta(0.5, 0.1, 1.0)), 6)
    0.689202
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, gt, le, register

alpha = sp.Symbol("alpha", positive=True)
mu = sp.Symbol("mu", positive=True)
eps = sp.Symbol("epsilon", positive=True)  # sqrt(kappa) = 1 + epsilon
L = sp.Symbol("L", positive=True)
ORDER = {L: mu * (1 + eps) ** 2}  # encodes mu <= L for sympy
n = sp.Symbol("n", nonnegative=True, integer=True)
gap0 = sp.Symbol("gap0", nonnegative=True)
lam = sp.Symbol("lam", positive=True)
z = sp.Symbol("z")
r = sp.Symbol("r", positive=True)  # r^2 = 1 - alpha mu
s = sp.Symbol("s", nonnegative=True)  # s^2 = 1 - alpha L
NAMES = {lam: r"\lambda", gap0: r"f(x_0) - f_\star"}


@register("gfj-hb", title="GFJ 2015 Theorem 4: heavy ball with beta = sqrt((1 - alpha mu)(1 - alpha L))")
def _gfj() -> Derivation:
    beta = sp.sqrt((1 - alpha * mu) * (1 - alpha * L))
    rate = 1 - alpha * mu
    # quadratic check in the parametrisation alpha mu = 1 - r^2, alpha L = 1 - s^2, 0 <= s <= r < 1
    b_rs = sp.sqrt(r**2 * s**2)
    p = lambda a_lam: z**2 - (1 + b_rs - a_lam) * z + b_rs  # noqa: E731
    at_mu = sp.factor(p(1 - r**2).subs(z, r))
    at_L = sp.factor(p(1 - s**2).subs(z, -r))
    lead = sp.factor(r**2 - b_rs)
    return Derivation(
        name="gfj-hb",
        title="GFJ 2015 Theorem 4: heavy ball with beta = sqrt((1 - alpha mu)(1 - alpha L))",
        parameters=(alpha, mu, L, n, gap0),
        parametrisation=ORDER,
        expressions={"beta": beta, "rate": rate, "bound": rate**n * gap0},
        steps=(
            Step("the tuning and the guarantee (paper, as quoted by PEPit)",
                 le(sp.Symbol("f(x_n) - f*"), rate**n * gap0)),
            Step("quadratic check: write alpha mu = 1 - r^2, alpha L = 1 - s^2 (0 <= s <= r < 1), so beta = r s; "
                 "roots of p lie in |z| <= r iff (Jury on p(r w)) beta <= r^2, p(r) >= 0, p(-r) >= 0",
                 sp.Eq(sp.Symbol("beta"), b_rs)),
            Step("r^2 - beta = r (r - s) >= 0", lead),
            Step("p_lambda(r) increases with lambda; at lambda = mu", at_mu),
            Step("p_lambda(-r) decreases with lambda; at lambda = L", at_L),
            Step("so every mode has |z| <= sqrt(1 - alpha mu): f-values decay at least like (1 - alpha mu)^n "
                 "asymptotically on quadratics, consistent with the theorem", rate),
        ),
        assumptions=("0 < mu <= L", "0 < alpha <= 1/L", "n >= 0 steps, x_{-1} = x_0", "gap0 = f(x_0) - f* >= 0"),
        domain=(gt(mu, 0), le(mu, L), gt(alpha, 0),
                le(alpha * L, 1), ge(n, 0), ge(gap0, 0)),
        provenance="[paper] Ghadimi, Feyzmahdavian, Johansson 2015, Thm 4 (as quoted by PEPit); quadratic check derived here",
        references=("ghadimi2015", "polyak1964"),
        identities={
            "p_mu(r) = r (1 - r)(r + s)": (at_mu, r * (1 - r) * (r + s)),
            "p_L(-r) = r (r + s)(1 + s)": (at_L, r * (r + s) * (1 + s)),
            "beta^2 = r^2 s^2": (beta.subs({alpha: (1 - r**2) / mu}).subs(L, mu * (1 - s**2) / (1 - r**2)) ** 2, r**2 * s**2),
        },
        latex_names=NAMES,
    )


def gfj_beta(alpha: Any, mu: Any, L: Any) -> Any:
    """GFJ Theorem 4's momentum sqrt((1 - alpha mu)(1 - alpha L)) for alpha in (0, 1/L]."""
    return compute("gfj-hb", ("beta",), {"alpha": alpha, "mu": mu, "L": L})
