"""Nesterov's accelerated gradient on quadratics: iteration matrix and its two tunings.

Problem and assumptions:
    f(x) = x^T A x / 2 with the spectrum of A in [mu, L], 0 < mu <= L. The method
    y_k = x_k + beta (x_k - x_{k-1}), x_{k+1} = y_k - alpha grad f(y_k); in canonical heavy-ball
    notation it is heavy ball with the gradient taken at the extrapolated point. Along an
    eigenvector, with q = 1 - alpha lambda, the iteration matrix is
    [[(1 + beta) q, -beta q], [1, 0]] and its characteristic polynomial z^2 - (1 + beta) q z + beta q.

Results:
    ``nesterov-quadratic``          the iteration matrix, characteristic polynomial, spectral radius.
    ``nesterov-standard``           alpha = 1/L; beta from a double root at lambda = mu gives

                                    beta = (sqrt(kappa) - 1)/(sqrt(kappa) + 1), rate 1 - 1/sqrt(kappa).

    ``nesterov-quadratic-optimal``  a double root at mu whose modulus equals the largest root
                                    modulus at L gives alpha = 4/(3L + mu),
                                    beta = (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2),
                                    rate 1 - 2/sqrt(3 kappa + 1).

Provenance: the method and the standard tuning are Nesterov's (nesterov1983); the quadratic-optimal
tuning is Lessard, Recht and Packard's (lessard2016), and papers.md tags its rate
[derived numerically]. Here both rates are derived from the characteristic polynomial; that the
second tuning is the best (alpha, beta) is checked numerically by the tests, not proven here.

References: nesterov1983, lessard2016.

Example:
    >>> from polyak.theory import nesterov_quadratic_optimal, nesterov_standard
    >>> [round(float(v), 6) for v in nesterov_standard(1.0, 100.0)]
    [0.01, 0.818182, 0.9]
    >>> [round(float(v), 6) for v in nesterov_quadratic_optimal(1.0, 100.0)]
    [0.013289, 0.793275, 0.884722]
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, gt, le, register
from .heavy_ball import radius

alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
lam = sp.Symbol("lam", positive=True)
mu = sp.Symbol("mu", positive=True)
L = sp.Symbol("L", positive=True)
z = sp.Symbol("z")
q = sp.Symbol("q", real=True)
rho_s = sp.Symbol("rho", positive=True)
eps = sp.Symbol("epsilon", positive=True)
ORDER = {L: mu * (1 + eps) ** 2}  # encodes mu <= L for sympy
NAMES = {lam: r"\lambda", eps: r"\varepsilon"}
_DOMAIN = (gt(mu, 0), le(mu, L))
_TEXT = "0 < mu <= L (spectrum of A in [mu, L])"


def _poly(b: Any, qq: Any) -> sp.Expr:
    return z**2 - (1 + b) * qq * z + b * qq


@register("nesterov-quadratic", title="Nesterov on a quadratic: per-eigenvalue iteration matrix and spectral radius")
def _nesterov_quadratic() -> Derivation:
    x1, x0, xm, y = sp.symbols("e_{k+1} e_k e_{k-1} y_k")
    y_k = x0 + beta * (x0 - xm)
    step = sp.expand((y - alpha * lam * y).subs(y, y_k))
    T = sp.Matrix([[step.coeff(x0), step.coeff(xm)], [1, 0]])
    p = sp.factor_terms(T.charpoly(z).as_expr())
    t, b = (1 + beta) * (1 - alpha * lam), beta * (1 - alpha * lam)
    rho = radius(t, b)
    return Derivation(
        name="nesterov-quadratic",
        title="Nesterov on a quadratic: per-eigenvalue iteration matrix and spectral radius",
        parameters=(alpha, beta, lam),
        expressions={"spectral_radius": rho},
        steps=(
            Step("error recursion along an eigenvector (gradient at y_k = e_k + beta (e_k - e_{k-1}))",
                 sp.Eq(x1, step)),
            Step("iteration matrix on (e_k, e_{k-1})", T),
            Step("characteristic polynomial, q = 1 - alpha lambda", sp.Eq(sp.Symbol("p(z)"), p)),
            Step("largest root modulus of z^2 - t z + b (complex: sqrt(b); real: (|t| + sqrt(t^2 - 4b))/2)", rho),
        ),
        assumptions=("alpha > 0", "beta >= 0", "lambda > 0 an eigenvalue of A"),
        domain=(gt(alpha, 0), ge(beta, 0), gt(lam, 0)),
        provenance="[derived] derived here; the method is Nesterov 1983",
        references=("nesterov1983",),
        identities={"char poly": (sp.expand(p), sp.expand(_poly(beta, 1 - alpha * lam)))},
        latex_names=NAMES,
    )


@register("nesterov-standard", title="Nesterov with alpha = 1/L on quadratics: momentum from a double root at mu, and the rate")
def _nesterov_standard() -> Derivation:
    kappa = L / mu
    q_mu = 1 - 1 / (1 + eps) ** 2  # alpha = 1/L, lambda = mu, sqrt(kappa) = 1 + eps
    disc = sp.factor(sp.discriminant(_poly(beta, q), z))
    cands = sp.solve(sp.Eq((1 + beta) ** 2 * q_mu, 4 * beta), beta)
    b_eps = [c for c in cands if (sp.simplify(c - 1)).is_negative]
    assert len(b_eps) == 1, cands
    b_eps = sp.simplify(b_eps[0])
    rho_eps = sp.simplify((1 + b_eps) * q_mu / 2)
    back = {eps: sp.sqrt(L) / sp.sqrt(mu) - 1}
    b_star, rho = sp.simplify(b_eps.subs(back)), sp.simplify(rho_eps.subs(back))
    return Derivation(
        name="nesterov-standard",
        title="Nesterov with alpha = 1/L on quadratics: momentum from a double root at mu, and the rate",
        parameters=(mu, L),
        parametrisation=ORDER,
        expressions={"alpha": 1 / L, "beta": b_star, "rho": rho},
        steps=(
            Step("discriminant of z^2 - (1 + beta) q z + beta q", disc),
            Step("alpha = 1/L puts q = 1 - lambda/L in [0, 1 - 1/kappa]; at lambda = mu, with sqrt(kappa) = 1 + epsilon",
                 sp.Eq(sp.Symbol("q_mu"), sp.factor(q_mu))),
            Step("a double root at lambda = mu: (1 + beta)^2 q_mu = 4 beta; the roots in beta", sp.Tuple(*cands)),
            Step("keep beta < 1", sp.Eq(beta, b_eps)),
            Step("the double root (1 + beta) q_mu / 2", sp.Eq(sp.Symbol("rho"), rho_eps)),
            Step("for lambda > mu, 0 <= q < q_mu: complex roots of modulus sqrt(beta q) < sqrt(beta q_mu) = rho; "
                 "so rho is the worst case", sp.Tuple(b_star, rho)),
        ),
        assumptions=(_TEXT, "alpha = 1/L"),
        domain=_DOMAIN,
        provenance="[derived] derived here; the method and tuning are Nesterov 1983",
        references=("nesterov1983",),
        identities={
            "beta = (sqrt(kappa)-1)/(sqrt(kappa)+1)": (b_star, (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)),
            "rho = 1 - 1/sqrt(kappa)": (rho, 1 - 1 / sp.sqrt(kappa)),
            "rho^2 = beta q_mu (double root)": (rho**2, b_star * (1 - mu / L)),
        },
        latex_names=NAMES,
        uses=("nesterov-quadratic",),
    )


@register("nesterov-quadratic-optimal", title="Nesterov on quadratics: the quadratic-optimal tuning (Lessard, Recht, Packard 2016) and its rate")
def _nesterov_optimal() -> Derivation:
    u = sp.Symbol("u", positive=True)  # u = 1 - rho
    kappa = L / mu
    # (a) double root at mu, (b) of modulus rho
    sol_ab = sp.solve([(1 + beta) ** 2 * q - 4 * beta, 2 * rho_s - (1 + beta) * q], [beta, q], dict=True)
    sol_ab = [so for so in sol_ab if so[beta] != 0]
    assert len(sol_ab) == 1, sol_ab
    b_rho, q_rho = sp.factor(sol_ab[0][beta]), sp.factor(sol_ab[0][q])
    a_rho = sp.factor((1 - q_rho) / mu)  # q_mu = 1 - alpha mu
    q_L = 1 - a_rho * L
    # (c) -rho is a root at lambda = L (the negative real root there has the largest modulus)
    cond = sp.factor(_poly(b_rho, q_L).subs(z, -rho_s))
    cond_u = sp.factor(sp.cancel(sp.numer(sp.together(cond)) / rho_s).subs(rho_s, 1 - u))  # rho > 0
    u_star = [r for r in sp.solve(cond_u, u) if r.is_positive]
    assert len(u_star) == 1, u_star
    rho = sp.simplify(1 - u_star[0])
    a_star = sp.simplify(a_rho.subs(rho_s, rho))
    b_star = sp.simplify(b_rho.subs(rho_s, rho))
    r3 = sp.sqrt(3 * kappa + 1)
    return Derivation(
        name="nesterov-quadratic-optimal",
        title="Nesterov on quadratics: the quadratic-optimal tuning (Lessard, Recht, Packard 2016) and its rate",
        parameters=(mu, L),
        parametrisation=ORDER,
        expressions={"alpha": a_star, "beta": b_star, "rho": rho},
        steps=(
            Step("(a) a double root at lambda = mu and (b) its modulus is the rate rho: solve for beta, q_mu",
                 sp.Tuple(sp.Eq(beta, b_rho), sp.Eq(sp.Symbol("q_mu"), q_rho))),
            Step("so alpha = (1 - q_mu)/mu", sp.Eq(alpha, a_rho)),
            Step("(c) at lambda = L, q_L < 0 and the negative root has the largest modulus: require p_L(-rho) = 0",
                 sp.Eq(cond, 0)),
            Step("divide by rho > 0 and write u = 1 - rho > 0", sp.Eq(cond_u, 0)),
            Step("the positive root", sp.Eq(u, u_star[0])),
            Step("between the ends: 0 < q < q_mu gives complex roots of modulus sqrt(beta q) < rho, and on q < 0 the "
                 "largest modulus grows with |q|, so the worst case is at the ends", sp.Tuple(a_star, b_star, rho)),
        ),
        assumptions=(_TEXT, "optimality over all (alpha, beta) is checked numerically (tests), not proven here"),
        domain=_DOMAIN,
        provenance="[paper] Lessard, Recht, Packard 2016 (tuning); rate [derived numerically] in papers.md, derived here",
        references=("lessard2016", "nesterov1983"),
        identities={
            "alpha = 4/(3L+mu)": (a_star, 4 / (3 * L + mu)),
            "beta = (sqrt(3kappa+1)-2)/(sqrt(3kappa+1)+2)": (b_star, (r3 - 2) / (r3 + 2)),
            "rho = 1 - 2/sqrt(3kappa+1)": (rho, 1 - 2 / r3),
        },
        latex_names=NAMES,
        uses=("nesterov-quadratic",),
    )


def nesterov_spectral_radius(alpha: Any, beta: Any, lam: Any) -> Any:
    """Spectral radius of Nesterov's per-eigenvalue iteration matrix (``nesterov-quadratic``)."""
    return compute("nesterov-quadratic", ("spectral_radius",), {"alpha": alpha, "beta": beta, "lam": lam})


def nesterov_standard(mu: Any, L: Any) -> tuple[Any, Any, Any]:
    """(alpha, beta, rho) = (1/L, (sqrt(kappa)-1)/(sqrt(kappa)+1), 1 - 1/sqrt(kappa))."""
    return compute("nesterov-standard", ("alpha", "beta", "rho"), {"mu": mu, "L": L})


def nesterov_quadratic_optimal(mu: Any, L: Any) -> tuple[Any, Any, Any]:
    """(alpha, beta, rho) = (4/(3L+mu), (sqrt(3k+1)-2)/(sqrt(3k+1)+2), 1 - 2/sqrt(3k+1)), k = L/mu."""
    return compute("nesterov-quadratic-optimal", ("alpha", "beta", "rho"), {"mu": mu, "L": L})
