"""A Lyapunov bound for heavy ball / SPA momentum on L-smooth functions (convex or not).

Problem and assumptions:
    f L-smooth (gradient L-Lipschitz), bounded below by f*, not necessarily convex. Heavy ball
    x_{k+1} = x_k - alpha g_k + beta (x_k - x_{k-1}), x_{-1} = x_0, with g_k = grad f(x_k) + xi_k,
    E[xi_k | past] = 0, E[||xi_k||^2 | past] <= sigma^2. In SPA form alpha = eta c, beta = 1 - c.

Result (``spa-lyapunov``):
    With Lambda_k = f(x_k) + ((1 - L alpha)/(2 alpha)) ||x_k - x_{k-1}||^2 and
    alpha <= (1 - beta^2)/L (equivalently L eta <= 2 - c),

        E Lambda_{k+1} <= Lambda_k - (alpha/2) ||grad f(x_k)||^2 + (alpha/2) sigma^2,

    and telescoping, (1/K) sum_{k<K} E||grad f(x_k)||^2 <= 2 (f(x_0) - f*)/(alpha K) + sigma^2.
    The weight (1 - L alpha)/(2 alpha) is not guessed: it is the one that cancels the cross term
    <grad f(x_k), x_k - x_{k-1}> in the one-step expansion.

Provenance: [derived] in papers.md, derived here; weaker than the paper's bound, whose constants
are [open] (defazio2020).

References: defazio2020.

Example:
    >>> from polyak.theory import get
    >>> get("spa-lyapunov").evaluate(beta=0.5, L=3.0)["alpha_max"]
    0.25
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, gt, le, lt, register

alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
L = sp.Symbol("L", positive=True)
eta = sp.Symbol("eta", positive=True)
c = sp.Symbol("c", positive=True)
fx = sp.Symbol("fx", real=True)  # f(x_k)
m_sq = sp.Symbol("m_sq", nonnegative=True)  # ||x_k - x_{k-1}||^2
grad_sq = sp.Symbol("grad_sq", nonnegative=True)  # ||grad f(x_k)||^2
sigma = sp.Symbol("sigma", nonnegative=True)
K = sp.Symbol("K", positive=True, integer=True)
gap0 = sp.Symbol("gap0", nonnegative=True)  # f(x_0) - f*
P = sp.Symbol("P", real=True)  # <grad f(x_k), x_k - x_{k-1}>
A = sp.Symbol("A", real=True)  # Lyapunov weight
NAMES = {fx: "f(x_k)", m_sq: r"\|x_k - x_{k-1}\|^2", grad_sq: r"\|\nabla f(x_k)\|^2", gap0: r"f(x_0) - f_\star",
         P: r"\langle \nabla f(x_k), x_k - x_{k-1}\rangle"}


@register("spa-lyapunov", title="Lyapunov bound for heavy ball / SPA on L-smooth (non-convex) functions")
def _spa_lyapunov() -> Derivation:
    inner_gs = -alpha * grad_sq + beta * P  # E <grad f, s>
    s_sq = alpha**2 * grad_sq + alpha**2 * sigma**2 - 2 * alpha * beta * P + beta**2 * m_sq  # E ||s||^2
    f_next = fx + inner_gs + L / 2 * s_sq  # L-smoothness, in expectation
    lam_next = sp.expand(f_next + A * s_sq)
    A_star = sp.solve(sp.Eq(lam_next.coeff(P), 0), A)[0]
    lyap = fx + A_star * m_sq
    rhs = lyap - alpha / 2 * grad_sq + alpha / 2 * sigma**2
    slack = sp.factor(sp.expand(lam_next.subs(A, A_star) - rhs))  # must be <= 0
    m_coeff = sp.factor(slack / m_sq)
    alpha_max = sp.solve(sp.Eq(sp.numer(sp.together(m_coeff)), 0), alpha)[0]
    spa_cond = sp.factor(sp.expand((L * alpha - (1 - beta**2)).subs({alpha: eta * c, beta: 1 - c})))
    eta_max = sp.solve(spa_cond, eta)[0]
    telescoped = 2 * gap0 / (alpha * K) + sigma**2
    return Derivation(
        name="spa-lyapunov",
        title="Lyapunov bound for heavy ball / SPA on L-smooth (non-convex) functions",
        parameters=(alpha, beta, L, eta, c, fx, m_sq, grad_sq, sigma, K, gap0),
        expressions={
            "lyapunov_weight": A_star,
            "Lambda": lyap,
            "rhs": rhs,
            "alpha_max": alpha_max,
            "eta_max": eta_max,
            "telescoped_bound": telescoped,
        },
        steps=(
            Step("one step s = x_{k+1} - x_k = -alpha (grad f + xi) + beta (x_k - x_{k-1}); in expectation over xi",
                 sp.Tuple(sp.Eq(sp.Symbol("E<grad f, s>"), inner_gs), sp.Eq(sp.Symbol("E||s||^2"), s_sq))),
            Step("L-smoothness: f(x_{k+1}) <= f(x_k) + <grad f, s> + (L/2) ||s||^2", sp.Eq(sp.Symbol("E f(x_{k+1})"), f_next)),
            Step("candidate Lambda_{k+1} = f(x_{k+1}) + A ||s||^2: its bound", sp.Eq(sp.Symbol("E Lambda_{k+1}"), lam_next)),
            Step("choose A to cancel the cross term P = <grad f(x_k), x_k - x_{k-1}>", sp.Eq(A, A_star)),
            Step("bound minus [Lambda_k - (alpha/2)||grad f||^2 + (alpha/2) sigma^2]", sp.Eq(sp.Symbol("slack"), slack)),
            Step("the slack is <= 0 for every iterate iff its m_sq coefficient is <= 0", le(alpha, alpha_max)),
            Step("in SPA form (alpha = eta c, beta = 1 - c) the condition reads", le(eta, eta_max)),
            Step("telescope over k < K: Lambda_0 = f(x_0) (x_{-1} = x_0) and Lambda_K >= f* (A >= 0)",
                 le(sp.Symbol("(1/K) sum E||grad f||^2"), telescoped)),
        ),
        assumptions=(
            "f L-smooth and bounded below (convexity not needed)",
            "alpha > 0, 0 <= beta < 1 (SPA: eta > 0, 0 < c <= 1)",
            "the decrease needs alpha <= (1 - beta^2)/L, i.e. L eta <= 2 - c",
            "unbiased gradient noise with E||xi||^2 <= sigma^2",
        ),
        domain=(gt(alpha, 0), ge(beta, 0), lt(beta, 1),
                gt(L, 0), gt(eta, 0), gt(c, 0),
                le(c, 1), ge(m_sq, 0), ge(grad_sq, 0), ge(sigma, 0),
                ge(K, 1), ge(gap0, 0)),
        provenance="[derived] derived here (papers.md: [derived]); weaker than Defazio 2020, whose constants are [open]",
        references=("defazio2020",),
        identities={
            "weight (1 - L alpha)/(2 alpha)": (A_star, (1 - L * alpha) / (2 * alpha)),
            "slack = (beta^2 - (1 - L alpha)) m_sq / (2 alpha)": (slack, (beta**2 - 1 + L * alpha) * m_sq / (2 * alpha)),
            "alpha_max = (1 - beta^2)/L": (alpha_max, (1 - beta**2) / L),
            "eta_max = (2 - c)/L": (eta_max, (2 - c) / L),
            "conditions agree": (alpha_max.subs(beta, 1 - c) / c, eta_max),
        },
        latex_names=NAMES,
    )


def spa_lyapunov(fx: Any, m_sq: Any, alpha: Any, L: Any) -> Any:
    """Lambda_k = f(x_k) + ((1 - L alpha)/(2 alpha)) ||x_k - x_{k-1}||^2 (``spa-lyapunov``)."""
    return compute("spa-lyapunov", ("Lambda",), {"fx": fx, "m_sq": m_sq, "alpha": alpha, "L": L})
