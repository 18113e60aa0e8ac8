"""Stochastic primal averaging (SPA) and heavy ball: the exact map both ways.

Problem and assumptions:
    SPA form (Defazio 2020): z_{k+1} = z_k - eta_k g(x_k), x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1},
    z_0 = x_0, with averaging weights c_k in (0, 1]. Canonical heavy ball:
    x_{k+1} = x_k - alpha_k g_k + beta_k (x_k - x_{k-1}).

Results:
    ``spa-to-hb``             eliminating z: alpha_k = eta_k c_{k+1}, beta_k = c_{k+1} (1 - c_k)/c_k.
    ``hb-to-spa``             constant parameters: c = 1 - beta, eta = alpha/(1 - beta); time-varying:

                              the backward recursion c_k = c_{k+1}/(beta_k + c_{k+1}), eta_k = alpha_k/c_{k+1}
                              (the forward recursion is unstable).

    ``spa-primal-averaging``  c_{k+1} = 1/(k+1) gives beta_k = (k-1)/(k+1), alpha_k = eta/(k+1).

Provenance: the SPA form is the paper's (defazio2020); papers.md tags the map [derived]: derived
here by eliminating z.

References: defazio2020.

Example:
    >>> from polyak.theory import hb_to_spa, spa_to_hb
    >>> [float(v) for v in spa_to_hb(1.0, 0.1, 0.1)]
    [0.1, 0.9]
    >>> [round(float(v), 12) for v in hb_to_spa(0.1, 0.9)]
    [1.0, 0.1]
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, get, gt, le, lt, register

eta = sp.Symbol("eta", positive=True)
c_k = sp.Symbol("c_k", positive=True)
c_k1 = sp.Symbol("c_k1", positive=True)
alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
k = sp.Symbol("k", positive=True, integer=True)
x1, x0, xm, z1, z0, g = sp.symbols("x_{k+1} x_k x_{k-1} z_{k+1} z_k g_k")
NAMES = {c_k1: "c_{k+1}", c_k: "c_k"}
_C_DOMAIN = (gt(c_k, 0), le(c_k, 1), gt(c_k1, 0), le(c_k1, 1))


@register("spa-to-hb", title="SPA to heavy ball by eliminating z (time-varying parameters)")
def _spa_to_hb() -> Derivation:
    spa = [sp.Eq(z1, z0 - eta * g), sp.Eq(x1, (1 - c_k1) * x0 + c_k1 * z1)]
    z_k = sp.solve(sp.Eq(x0, (1 - c_k) * xm + c_k * z0), z0)[0]  # previous averaging step gives z_k
    x_next = sp.expand(spa[1].rhs.subs(z1, spa[0].rhs).subs(z0, z_k))
    a = sp.factor(-x_next.coeff(g))
    b = sp.factor(-x_next.coeff(xm))
    return Derivation(
        name="spa-to-hb",
        title="SPA to heavy ball by eliminating z (time-varying parameters)",
        parameters=(eta, c_k, c_k1),
        expressions={"alpha": a, "beta": b},
        steps=(
            Step("SPA form", sp.Tuple(*spa)),
            Step("the previous averaging step gives z_k", sp.Eq(z0, z_k)),
            Step("eliminate z", sp.Eq(x1, x_next)),
            Step("read off alpha_k (coefficient of -g_k) and beta_k (coefficient of -x_{k-1})",
                 sp.Tuple(sp.Eq(alpha, a), sp.Eq(beta, b))),
        ),
        assumptions=("eta_k > 0", "0 < c_k <= 1 and 0 < c_{k+1} <= 1"),
        domain=(gt(eta, 0),) + _C_DOMAIN,
        provenance="[derived] derived here (papers.md: [derived]); SPA form is Defazio 2020",
        references=("defazio2020",),
        identities={
            "x_{k+1} is heavy ball": (x_next, x0 - a * g + b * (x0 - xm)),
            "beta_k = c_{k+1}(1 - c_k)/c_k": (b, c_k1 * (1 - c_k) / c_k),
        },
        latex_names=NAMES,
    )


@register("hb-to-spa", title="Heavy ball to SPA: constant map and the backward recursion")
def _hb_to_spa() -> Derivation:
    fwd = get("spa-to-hb").expressions
    c, alpha_k, beta_k = sp.Symbol("c", positive=True), sp.Symbol("alpha_k", positive=True), sp.Symbol("beta_k", nonnegative=True)
    # constant: c_k = c_{k+1} = c
    const = sp.solve([sp.Eq(alpha, fwd["alpha"].subs({c_k: c, c_k1: c})), sp.Eq(beta, fwd["beta"].subs({c_k: c, c_k1: c}))],
                     [eta, c], dict=True)
    assert len(const) == 1, const
    eta_c, c_c = const[0][eta], const[0][c]
    # time-varying: given c_{k+1}, solve beta_k = c_{k+1}(1 - c_k)/c_k for c_k and alpha_k = eta_k c_{k+1} for eta_k
    ck = sp.solve(sp.Eq(beta_k, fwd["beta"]), c_k)[0]
    eta_k = sp.solve(sp.Eq(alpha_k, fwd["alpha"]), eta)[0]
    return Derivation(
        name="hb-to-spa",
        title="Heavy ball to SPA: constant map and the backward recursion",
        parameters=(alpha, beta, alpha_k, beta_k, c_k1),
        expressions={"eta": eta_c, "c": c_c, "c_k": ck, "eta_k": eta_k},
        steps=(
            Step("constant parameters c_k = c_{k+1} = c in the SPA-to-HB map; solve for (eta, c)",
                 sp.Tuple(sp.Eq(eta, eta_c), sp.Eq(c, c_c))),
            Step("time-varying: solve the beta map for c_k given c_{k+1} (run k = K-1, ..., 0 backwards)",
                 sp.Eq(c_k, ck)),
            Step("and the alpha map for eta_k", sp.Eq(sp.Symbol("eta_k"), eta_k)),
            Step("stability near the constant solution c = 1 - beta: the backward map has derivative beta < 1, "
                 "the forward map c_{k+1} = beta c_k/(1 - c_k) has 1/beta > 1 and amplifies errors",
                 sp.Tuple(sp.simplify(sp.diff(ck, c_k1).subs({c_k1: 1 - beta_k})),
                          sp.simplify(sp.diff(beta_k * c / (1 - c), c).subs(c, 1 - beta_k)))),
        ),
        assumptions=("0 < alpha", "0 <= beta < 1 (constant map)", "0 < c_{k+1} <= 1, beta_k >= 0 (backward step)"),
        domain=(gt(alpha, 0), ge(beta, 0), lt(beta, 1),
                gt(alpha_k, 0), ge(beta_k, 0), gt(c_k1, 0),
                le(c_k1, 1)),
        provenance="[derived] derived here (papers.md: [derived])",
        references=("defazio2020",),
        identities={
            "round trip alpha": (fwd["alpha"].subs({eta: eta_c, c_k: c_c, c_k1: c_c}), alpha),
            "round trip beta": (fwd["beta"].subs({eta: eta_c, c_k: c_c, c_k1: c_c}), beta),
            "backward step reproduces beta_k": (fwd["beta"].subs(c_k, ck), beta_k),
            "backward step reproduces alpha_k": (fwd["alpha"].subs(eta, eta_k), alpha_k),
            "c = 1 - beta, eta = alpha/(1 - beta)": (eta_c * c_c, alpha),
        },
        latex_names={**NAMES, alpha_k: r"\alpha_k", beta_k: r"\beta_k"},
        uses=("spa-to-hb",),
    )


@register("spa-primal-averaging", title="Primal averaging (c_{k+1} = 1/(k+1)) as heavy ball")
def _primal_averaging() -> Derivation:
    fwd = get("spa-to-hb").expressions
    sub = {c_k: 1 / k, c_k1: 1 / (k + 1)}
    a, b = sp.factor(fwd["alpha"].subs(sub)), sp.factor(fwd["beta"].subs(sub))
    return Derivation(
        name="spa-primal-averaging",
        title="Primal averaging (c_{k+1} = 1/(k+1)) as heavy ball",
        parameters=(eta, k),
        expressions={"alpha": a, "beta": b},
        steps=(
            Step("primal averaging weights: x_k is the running mean of z_1..z_k", sp.Tuple(*[sp.Eq(kk, v) for kk, v in sub.items()])),
            Step("substitute in the SPA-to-HB map", sp.Tuple(sp.Eq(alpha, a), sp.Eq(beta, b))),
        ),
        assumptions=("eta > 0 constant", "k >= 1 an integer"),
        domain=(gt(eta, 0), ge(k, 1)),
        provenance="[derived] derived here (papers.md: [derived])",
        references=("defazio2020",),
        identities={"beta_k = (k-1)/(k+1)": (b, (k - 1) / (k + 1)), "alpha_k = eta/(k+1)": (a, eta / (k + 1))},
        latex_names=NAMES,
        uses=("spa-to-hb",),
    )


def spa_to_hb(eta: Any, c_k: Any, c_k1: Any) -> tuple[Any, Any]:
    """Heavy-ball (alpha_k, beta_k) of the SPA step with eta_k, c_k and c_{k+1}."""
    return compute("spa-to-hb", ("alpha", "beta"), {"eta": eta, "c_k": c_k, "c_k1": c_k1})


def hb_to_spa(alpha: Any, beta: Any) -> tuple[Any, Any]:
    """SPA (eta, c) of constant heavy ball: eta = alpha/(1 - beta), c = 1 - beta."""
    return compute("hb-to-spa", ("eta", "c"), {"alpha": alpha, "beta": beta})


def spa_backward_step(alpha_k: Any, beta_k: Any, c_k1: Any) -> tuple[Any, Any]:
    """One step of the backward recursion: (eta_k, c_k) = (alpha_k/c_{k+1}, c_{k+1}/(beta_k + c_{k+1}))."""
    return compute("hb-to-spa", ("eta_k", "c_k"), {"alpha_k": alpha_k, "beta_k": beta_k, "c_k1": c_k1})
