"""Heavy ball on quadratics: iteration matrix, spectrum, convergence region, optimal tuning.

Problem and assumptions:
    f(x) = x^T A x / 2 with the spectrum of A in [mu, L], 0 < mu <= L. Heavy ball in the canonical
    form x_{k+1} = x_k - alpha grad f(x_k) + beta (x_k - x_{k-1}) decouples in the eigenbasis of A:
    for each eigenvalue lambda the error follows a 2x2 linear recursion.

Results (each a registered Derivation):
    ``hb-quadratic``           iteration matrix, characteristic polynomial, roots, spectral radius
                               rho(alpha, beta, lambda).

    ``hb-convergence-region``  the Jury criterion: -1 < beta < 1 and 0 < alpha lambda < 2 (1 + beta).
    ``hb-rate``                worst case of rho over lambda in [mu, L], for any (alpha, beta).
    ``hb-best-beta``           for a fixed alpha, the beta minimising that worst case.
    ``hb-quadratic-optimal``   (alpha*, beta*, rho*) from double roots at mu and L.
    ``hb-ema-optimal``         the EMA form d = beta d + (1 - beta) g, x -= eta d, and its optimum.

Provenance: the method is Polyak's (polyak1964). papers.md tags the optimum, the best beta for a
fixed alpha and the EMA optimum [derived]: every result here is derived here from the
characteristic polynomial, and the tests check each against a numerical spectral radius.

References: polyak1964, lessard2016.

Example:
    >>> from polyak.theory import hb_optimal, hb_rate
    >>> alpha, beta, rho = hb_optimal(1.0, 100.0)
    >>> round(float(alpha), 6), round(float(beta), 6), round(float(rho), 6)
    (0.033058, 0.669421, 0.818182)
    >>> round(float(hb_rate(alpha, beta, 1.0, 100.0)), 6)
    0.818182
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, get, gt, le, lt, register

alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
lam = sp.Symbol("lam", positive=True)
mu = sp.Symbol("mu", positive=True)
L = sp.Symbol("L", positive=True)
z = sp.Symbol("z")
s = sp.Symbol("s", positive=True)  # s = sqrt(beta)
eps = sp.Symbol("epsilon", positive=True)  # sqrt(kappa) = 1 + epsilon
ORDER = {L: mu * (1 + eps) ** 2}  # encodes mu <= L for sympy
eta = sp.Symbol("eta", positive=True)

NAMES = {lam: r"\lambda", eps: r"\varepsilon"}
_DOMAIN_MU_L = (gt(mu, 0), le(mu, L))
_TEXT_MU_L = "0 < mu <= L (spectrum of A in [mu, L])"


def _char_poly(a: Any, b: Any, lmb: Any) -> sp.Expr:
    """det(z I - T) for the per-eigenvalue heavy-ball matrix T (kept as a function for reuse)."""
    T = sp.Matrix([[1 + b - a * lmb, -b], [1, 0]])
    return T.charpoly(z).as_expr()


def radius(t: sp.Expr, b: sp.Expr) -> sp.Expr:
    """Largest root modulus of z^2 - t z + b for real t, b.

    Complex roots (D = t^2 - 4b < 0, so b > 0): modulus sqrt(b). Real roots: ``(|t| + sqrt(D))/2``,
    which is >= sqrt(b) when b >= 0. One formula for both, written with Max so that numpy never
    takes the square root of a negative number.
    """
    return sp.Max(sp.sqrt(sp.Max(b, 0)), (sp.Abs(t) + sp.sqrt(sp.Max(t**2 - 4 * b, 0))) / 2)


@register("hb-quadratic", title="Heavy ball on a quadratic: per-eigenvalue iteration matrix and spectral radius")
def _hb_quadratic() -> Derivation:
    e1, e0, em = sp.symbols("e_{k+1} e_k e_{k-1}")
    recurrence = sp.Eq(e1, sp.expand(e0 - alpha * lam * e0 + beta * (e0 - em)))
    T = sp.Matrix([[recurrence.rhs.coeff(e0), recurrence.rhs.coeff(em)], [1, 0]])
    p = T.charpoly(z).as_expr()
    t = -p.coeff(z, 1)  # trace
    disc = sp.expand(sp.discriminant(p, z))
    roots = sp.solve(p, z)
    # complex case: write D = -w^2 (w > 0); the conjugate roots t/2 +- i w/2 have modulus^2 ...
    tr, w = sp.Symbol("t", real=True), sp.Symbol("w", positive=True)
    mod2 = sp.expand(sp.Abs(tr / 2 + sp.I * w / 2) ** 2).subs(w**2, 4 * beta - tr**2)
    rho = radius(t, beta)
    return Derivation(
        name="hb-quadratic",
        title="Heavy ball on a quadratic: per-eigenvalue iteration matrix and spectral radius",
        parameters=(alpha, beta, lam),
        expressions={"trace": t, "discriminant": disc, "spectral_radius": rho},
        steps=(
            Step("error recursion along an eigenvector with eigenvalue lambda (e_k = x_k - x*)", recurrence),
            Step("state (e_k, e_{k-1}) evolves by the iteration matrix T", T),
            Step("characteristic polynomial det(zI - T)", sp.Eq(sp.Symbol("p(z)"), p)),
            Step("its roots", sp.Tuple(*roots)),
            Step("discriminant; the roots are complex exactly when it is negative", disc),
            Step("complex case, D = -w^2: |z|^2 = t^2/4 + w^2/4 = beta (the roots are conjugate, product beta)",
                 sp.Eq(sp.Symbol("|z|^2"), sp.simplify(mod2))),
            Step("real case: the larger modulus is (|t| + sqrt(D))/2 >= sqrt(beta) since the product is beta; "
                 "both cases in one formula", sp.Eq(sp.Symbol("rho"), rho)),
        ),
        assumptions=("alpha > 0", "beta >= 0", "lambda > 0 an eigenvalue of A"),
        domain=(gt(alpha, 0), ge(beta, 0), gt(lam, 0)),
        provenance="[derived] derived here; the method is Polyak 1964",
        references=("polyak1964",),
        identities={
            "product of roots is beta": (sp.expand(roots[0] * roots[1]), beta),
            "sum of roots is the trace": (sp.expand(roots[0] + roots[1]), t),
            "complex-root modulus squared is beta": (mod2, beta),
            "discriminant is t^2 - 4 beta": (disc, t**2 - 4 * beta),
        },
        latex_names=NAMES,
    )


@register("hb-convergence-region", title="Heavy ball on quadratics: convergence region by the Jury criterion")
def _hb_region() -> Derivation:
    b = sp.Symbol("beta", real=True)
    p = _char_poly(alpha, b, lam)
    a0 = p.coeff(z, 0)
    p1, pm1 = sp.factor(p.subs(z, 1)), sp.expand(p.subs(z, -1))
    alpha_max = sp.solve(sp.Eq(pm1.subs(lam, L), 0), alpha)[0]
    beta_range = sp.solve_univariate_inequality(sp.Abs(a0) < 1, b)
    return Derivation(
        name="hb-convergence-region",
        title="Heavy ball on quadratics: convergence region by the Jury criterion",
        parameters=(b, L),
        expressions={"alpha_max": alpha_max},
        steps=(
            Step("characteristic polynomial p(z) = z^2 + a_1 z + a_0", p),
            Step("Jury (Schur-Cohn) for degree 2: both roots in the open unit disk iff |a_0| < 1, p(1) > 0, p(-1) > 0",
                 sp.Tuple(lt(sp.Abs(a0), 1), gt(p1, 0), gt(pm1, 0))),
            Step("p(1) = alpha lambda > 0 holds for every alpha > 0; |a_0| < 1 gives the beta range",
                 beta_range),
            Step("p(-1) decreases in lambda, so the binding eigenvalue is L: alpha L < 2 (1 + beta)",
                 lt(alpha, alpha_max)),
        ),
        assumptions=(
            "-1 < beta < 1 (momentum practice uses 0 <= beta < 1, the region papers.md lists)",
            "L > 0 the largest eigenvalue",
            "converges on every quadratic with spectrum in (0, L] iff 0 < alpha < alpha_max",
        ),
        domain=(lt(-1, b), lt(b, 1), gt(L, 0)),
        provenance="[derived] derived here (Jury criterion); the method is Polyak 1964",
        references=("polyak1964",),
        identities={"p(-1) at lambda = L vanishes at alpha_max": (pm1.subs({lam: L, alpha: alpha_max}), 0),
                    "p(1) = alpha lambda": (p1, alpha * lam)},
        latex_names=NAMES,
        uses=("hb-quadratic",),
    )


@register("hb-rate", title="Heavy ball on quadratics: worst-case spectral radius over [mu, L] for any (alpha, beta)")
def _hb_rate() -> Derivation:
    rho = get("hb-quadratic").expressions["spectral_radius"]
    T = sp.Symbol("|t|", nonnegative=True)
    real_branch = (T + sp.sqrt(T**2 - 4 * beta)) / 2
    rate = sp.Max(rho.subs(lam, mu), rho.subs(lam, L))
    return Derivation(
        name="hb-rate",
        title="Heavy ball on quadratics: worst-case spectral radius over [mu, L] for any (alpha, beta)",
        parameters=(alpha, beta, mu, L),
        parametrisation=ORDER,
        expressions={"rate": rate},
        steps=(
            Step("rho(lambda) depends on lambda only through |t|, t = 1 + beta - alpha lambda", rho),
            Step("on the real branch rho grows with |t| (derivative > 0), and the complex branch is constant",
                 sp.Eq(sp.Derivative(sp.Symbol("rho"), T), sp.diff(real_branch, T))),
            Step("|t(lambda)| is convex in lambda, so its maximum over [mu, L] is at an endpoint",
                 sp.Eq(sp.Symbol("rate"), rate)),
        ),
        assumptions=("alpha > 0", "beta >= 0", _TEXT_MU_L),
        domain=(gt(alpha, 0), ge(beta, 0)) + _DOMAIN_MU_L,
        provenance="[derived] derived here",
        references=("polyak1964",),
        latex_names=NAMES,
        uses=("hb-quadratic",),
    )


@register("hb-best-beta", title="Heavy ball on quadratics: the best momentum for a fixed step")
def _hb_best_beta() -> Derivation:
    sb = sp.Symbol("s_b", positive=True)
    lo, hi = 1 - sp.sqrt(alpha * mu), sp.sqrt(alpha * L) - 1
    s_best = sp.Max(lo, hi)
    disc = sp.expand((1 + s**2 - alpha * lam) ** 2 - 4 * s**2)
    complex_iff = sp.factor(disc)
    p = z**2 - (1 + s**2 - alpha * lam) * z + s**2
    at_mu = sp.factor(p.subs(alpha * lam, (1 - sb) ** 2).subs(z, sb))
    at_L = sp.factor(p.subs(alpha * lam, (1 + sb) ** 2).subs(z, -sb))
    return Derivation(
        name="hb-best-beta",
        title="Heavy ball on quadratics: the best momentum for a fixed step",
        parameters=(alpha, mu, L),
        parametrisation=ORDER,
        expressions={"beta": s_best**2, "rate": s_best},
        steps=(
            Step("with s = sqrt(beta), the discriminant factors; it is <= 0 (rate exactly s) iff "
                 "(1 - s)^2 <= alpha lambda <= (1 + s)^2, i.e. s >= |1 - sqrt(alpha lambda)|", complex_iff),
            Step("every lambda in [mu, L] has complex roots iff s >= s_b", sp.Eq(sb, s_best)),
            Step("smaller s: if alpha mu = (1 - s_b)^2 then p(s_b) < 0 for s < s_b, so a real root exceeds s_b", at_mu),
            Step("likewise if alpha L = (1 + s_b)^2 then p(-s_b) < 0 for s < s_b: a root below -s_b", at_L),
            Step("so the worst case is minimised at s = s_b: beta = s_b^2, rate s_b", sp.Eq(beta, s_best**2)),
        ),
        assumptions=("0 < alpha < 4/L (so that s_b < 1)", _TEXT_MU_L),
        domain=(gt(alpha, 0), lt(alpha * L, 4)) + _DOMAIN_MU_L,
        provenance="[derived] derived here (papers.md: [derived])",
        references=("polyak1964",),
        identities={
            "p(s_b) factor at mu": (at_mu, (1 - sb) * (s**2 - sb**2)),
            "p(-s_b) factor at L": (at_L, (1 + sb) * (s**2 - sb**2)),
        },
        latex_names={**NAMES, sb: "s_b"},
        uses=("hb-quadratic",),
    )


@register("hb-quadratic-optimal", title="Heavy ball on quadratics: optimal step, momentum and rate")
def _hb_optimal() -> Derivation:
    t = lambda lmb: 1 + s**2 - alpha * lmb  # noqa: E731  (trace, beta = s^2)
    L_eps = mu * (1 + eps) ** 2
    # Double roots at both ends: D(mu) = 0 with the positive root s, D(L) = 0 with the root -s.
    system = [sp.Eq(t(mu), 2 * s), sp.Eq(t(L_eps), -2 * s)]
    sols = sp.solve(system, [alpha, s], dict=True)
    inside = [so for so in sols if (so[s] - 1).is_negative]
    assert len(inside) == 1, sols
    sol = inside[0]
    back = {eps: sp.sqrt(L) / sp.sqrt(mu) - 1}
    a_star = sp.simplify(sol[alpha].subs(back))
    s_star = sp.simplify(sol[s].subs(back))
    b_star = s_star**2
    D = lambda lmb: sp.expand((1 + b_star - a_star * lmb) ** 2 - 4 * b_star)  # noqa: E731
    D_eps = sp.factor(((1 + sol[s] ** 2 - sol[alpha] * lam) ** 2 - 4 * sol[s] ** 2))
    kappa = L / mu
    # second route: minimise the best-beta rate max(1 - sqrt(alpha mu), sqrt(alpha L) - 1) over alpha
    a_minimax = sp.solve(sp.Eq(1 - sp.sqrt(alpha * mu), sp.sqrt(alpha * L) - 1), alpha)[0]
    return Derivation(
        name="hb-quadratic-optimal",
        title="Heavy ball on quadratics: optimal step, momentum and rate",
        parameters=(mu, L),
        parametrisation=ORDER,
        expressions={
            "alpha": a_star,
            "beta": b_star,
            "rho": s_star,
            "double_root_mu": s_star,
            "double_root_L": -s_star,
        },
        steps=(
            Step("parametrise sqrt(kappa) = 1 + epsilon, epsilon > 0, so L = mu (1 + epsilon)^2", sp.Eq(L, L_eps)),
            Step("equalise the extreme eigenvalues: double roots z = s at lambda = mu and z = -s at lambda = L "
                 "(t(lambda) = 1 + s^2 - alpha lambda)", sp.Tuple(*system)),
            Step("solve for (alpha, s)", sp.Tuple(*[sp.Tuple(so[alpha], so[s]) for so in sols])),
            Step("keep the solution with s < 1 (the other has beta > 1 and diverges)", sp.Tuple(sol[alpha], sol[s])),
            Step("back to mu and L (epsilon = sqrt(L/mu) - 1)", sp.Tuple(a_star, b_star)),
            Step("the discriminant is a convex quadratic in lambda vanishing at mu and L, so <= 0 between: "
                 "every eigenvalue has roots of modulus sqrt(beta*)", sp.Eq(sp.Symbol("D(lambda)"), D_eps)),
            Step("same alpha from minimising the best-beta rate max(1 - sqrt(alpha mu), sqrt(alpha L) - 1)",
                 sp.Eq(alpha, a_minimax)),
        ),
        assumptions=(_TEXT_MU_L,),
        domain=_DOMAIN_MU_L,
        provenance="[derived] derived here (papers.md: [derived]); the method is Polyak 1964",
        references=("polyak1964", "lessard2016"),
        identities={
            "alpha* = 4/(sqrt(L)+sqrt(mu))^2": (a_star, 4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2),
            "beta* = ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2": (b_star, ((sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)) ** 2),
            "rho* = sqrt(beta*)": (s_star, sp.sqrt(b_star)),
            "double root at mu": (D(mu), 0),
            "double root at L": (D(L), 0),
            "minimax of best beta gives alpha*": (a_minimax, a_star),
            "best-beta branch at mu equals rho*": (1 - sp.sqrt(a_star * mu), s_star),
            "best-beta branch at L equals rho*": (sp.sqrt(a_star * L) - 1, s_star),
        },
        latex_names=NAMES,
        uses=("hb-quadratic", "hb-best-beta"),
    )


@register("hb-ema-optimal", title="EMA momentum (d = beta d + (1 - beta) g, x -= eta d): map to heavy ball and its optimum")
def _hb_ema() -> Derivation:
    x1, x0, xm, g, d1, d0 = sp.symbols("x_{k+1} x_k x_{k-1} g_k d_{k+1} d_k")
    b = sp.Symbol("beta", nonnegative=True)
    ema = [sp.Eq(d1, b * d0 + (1 - b) * g), sp.Eq(x1, x0 - eta * d1)]
    d_prev = sp.solve(sp.Eq(x0, xm - eta * d0), d0)[0]  # the previous step gives d_k
    x_next = sp.expand(ema[1].rhs.subs(d1, ema[0].rhs).subs(d0, d_prev))
    alpha_of = -x_next.coeff(g)
    beta_of = -x_next.coeff(xm)
    opt = get("hb-quadratic-optimal").expressions
    eta_star = sp.simplify(opt["alpha"] / (1 - opt["beta"]))
    return Derivation(
        name="hb-ema-optimal",
        title="EMA momentum (d = beta d + (1 - beta) g, x -= eta d): map to heavy ball and its optimum",
        parameters=(mu, L),
        parametrisation=ORDER,
        expressions={"eta": eta_star, "beta": opt["beta"]},
        steps=(
            Step("EMA form", sp.Tuple(*ema)),
            Step("the previous step gives d_k", sp.Eq(d0, d_prev)),
            Step("eliminate d", sp.Eq(x1, x_next)),
            Step("read off heavy ball: alpha = eta (1 - beta), same beta", sp.Tuple(sp.Eq(alpha, alpha_of), sp.Eq(b, beta_of))),
            Step("the heavy-ball optimum in EMA form: eta* = alpha*/(1 - beta*)", sp.Eq(eta, eta_star)),
        ),
        assumptions=(_TEXT_MU_L,),
        domain=_DOMAIN_MU_L,
        provenance="[derived] derived here (papers.md: [derived])",
        references=("polyak1964",),
        identities={
            "eta* = 1/sqrt(L mu)": (eta_star, 1 / sp.sqrt(L * mu)),
            "x_{k+1} is heavy ball": (x_next, x0 - eta * (1 - b) * g + b * (x0 - xm)),
        },
        latex_names=NAMES,
        uses=("hb-quadratic-optimal",),
    )


# ----------------------------------------------------------------------------------------------
# Plain numeric helpers (lambdified from the derivations above; accept numpy arrays)
# ----------------------------------------------------------------------------------------------
def hb_spectral_radius(alpha: Any, beta: Any, lam: Any) -> Any:
    """Spectral radius of the heavy-ball iteration matrix at eigenvalue ``lam`` (``hb-quadratic``)."""
    return compute("hb-quadratic", ("spectral_radius",), {"alpha": alpha, "beta": beta, "lam": lam})


def hb_rate(alpha: Any, beta: Any, mu: Any, L: Any) -> Any:
    """Worst-case spectral radius of heavy ball over the spectrum [mu, L] (``hb-rate``)."""
    return compute("hb-rate", ("rate",), {"alpha": alpha, "beta": beta, "mu": mu, "L": L})


def hb_best_beta(alpha: Any, mu: Any, L: Any) -> Any:
    """The beta minimising the worst-case rate for step ``alpha``: max(1-sqrt(alpha mu), sqrt(alpha L)-1)^2."""
    return compute("hb-best-beta", ("beta",), {"alpha": alpha, "mu": mu, "L": L})


def hb_optimal(mu: Any, L: Any) -> tuple[Any, Any, Any]:
    """Optimal heavy-ball (alpha*, beta*, rho*) on quadratics with spectrum in [mu, L]."""
    return compute("hb-quadratic-optimal", ("alpha", "beta", "rho"), {"mu": mu, "L": L})


def hb_ema_optimal(mu: Any, L: Any) -> tuple[Any, Any]:
    """Optimal EMA-form (eta*, beta*): eta* = 1/sqrt(L mu), beta* as for heavy ball."""
    return compute("hb-ema-optimal", ("eta", "beta"), {"mu": mu, "L": L})


def hb_alpha_max(beta: Any, L: Any) -> Any:
    """Largest stable step 2 (1 + beta)/L on quadratics with largest eigenvalue L (Jury)."""
    return compute("hb-convergence-region", ("alpha_max",), {"beta": beta, "L": L})
