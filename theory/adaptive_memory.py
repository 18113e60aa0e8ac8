"""Adaptive Memory: the momentum coefficient from the dual of a two-plane proximal model.

Problem and assumptions:
    At x_t with gradient g = g_t and memory d = d_t, model f by the larger of two planes, one from
    the gradient and one from the memory, plus two proximal terms (u = x - x_t):

        min_u  max(<g, u>, Delta + <d, u>) + ||u||^2/(2 eta) + (lambda/(2 eta)) ||u + eta d||^2,

    eta > 0, lambda >= 0, Delta the memory plane's offset. This is the model papers.md reconstructs
    so that it reproduces the paper's update; the paper's own statement could not be read.

Results (``am-beta``):
    Writing max(a, b) = max over beta in [0, 1] of (1 - beta) a + beta b and minimising over u gives
    u = -eta d_{t+1} with d_{t+1} = ((beta + lambda)/(1 + lambda)) d + ((1 - beta)/(1 + lambda)) g
    (the paper's update), and a concave quadratic dual in beta, maximised at

        beta_t = [(1 + lambda) Delta/eta - <d - g, g + lambda d>] / ||d - g||^2, clipped to [0, 1];

    the code clips to [0, beta_max]. With Delta = eta <g, d> (the code's approximation)
        beta_t = (||g||^2 + 2 lambda <g, d> - lambda ||d||^2) / ||g - d||^2.

Provenance: the update is the paper's (topollai2025adaptive) [paper]; the model is reconstructed
and the dual derived here [derived]; Delta = eta <g, d> is [code].

References: topollai2025adaptive.

Example:
    >>> from polyak.theory import am_beta
    >>> round(float(am_beta(gg=1.0, gd=0.5, dd=1.0, lam=0.1)), 6)
    0.9
    >>> round(float(am_beta(gg=1.0, gd=0.0, dd=1.0, lam=0.1)), 6)
    0.45
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, ge, get, gt, le, register

gg = sp.Symbol("gg", positive=True)  # ||g||^2
gd = sp.Symbol("gd", real=True)  # <g, d>
dd = sp.Symbol("dd", positive=True)  # ||d||^2
Delta = sp.Symbol("Delta", real=True)
eta = sp.Symbol("eta", positive=True)
lam = sp.Symbol("lam", nonnegative=True)
beta = sp.Symbol("beta", real=True)
a, b = sp.symbols("a b", real=True)
NAMES = {gg: r"\|g\|^2", gd: r"\langle g, d\rangle", dd: r"\|d\|^2", lam: r"\lambda"}


def _inner(x: tuple[Any, Any], y: tuple[Any, Any]) -> sp.Expr:
    """<x1 g + x2 d, y1 g + y2 d> in terms of the Gram entries."""
    return sp.expand(x[0] * y[0] * gg + (x[0] * y[1] + x[1] * y[0]) * gd + x[1] * y[1] * dd)


@register("am-beta", title="Adaptive Memory: beta_t from the dual of the two-plane proximal model")
def _am_beta() -> Derivation:
    G, D = (1, 0), (0, 1)
    U = (-eta * a, -eta * b)  # u = -eta (a g + b d)
    U_plus = (U[0], U[1] + eta)  # u + eta d
    lagr = ((1 - beta) * _inner(G, U) + beta * (Delta + _inner(D, U))
            + _inner(U, U) / (2 * eta) + lam / (2 * eta) * _inner(U_plus, U_plus))
    stat = sp.solve([sp.diff(lagr, a), sp.diff(lagr, b)], [a, b], dict=True)
    assert len(stat) == 1, stat
    a_s, b_s = sp.factor(stat[0][a]), sp.factor(stat[0][b])
    dual = sp.expand(lagr.subs({a: a_s, b: b_s}))
    curv = sp.factor(sp.diff(dual, beta, 2))
    beta_unc = sp.solve(sp.diff(dual, beta), beta)[0]
    beta_unc = sp.factor(beta_unc)
    beta_simple = sp.factor(beta_unc.subs(Delta, eta * gd))
    diff_sq = gg - 2 * gd + dd  # ||g - d||^2
    paper_general = ((1 + lam) * Delta / eta - (gd + lam * dd - gg - lam * gd)) / diff_sq
    return Derivation(
        name="am-beta",
        title="Adaptive Memory: beta_t from the dual of the two-plane proximal model",
        parameters=(gg, gd, dd, Delta, eta, lam),
        expressions={
            "beta": beta_unc,
            "beta_simplified": beta_simple,
            "numerator": sp.expand(sp.cancel(beta_unc * diff_sq)),
            "numerator_simplified": sp.expand(sp.cancel(beta_simple * diff_sq)),
            "norm_g_minus_d_sq": diff_sq,
            "dual_curvature": curv,
        },
        steps=(
            Step("Lagrangian: max of the planes as max over beta in [0, 1]; u restricted to span{g, d}, "
                 "u = -eta (a g + b d) (an orthogonal part only adds (1 + lambda)||u_perp||^2/(2 eta) >= 0)",
                 sp.Eq(sp.Symbol("ell"), lagr)),
            Step("stationarity in (a, b)", sp.Tuple(sp.Eq(a, a_s), sp.Eq(b, b_s))),
            Step("so x_{t+1} = x_t - eta d_{t+1}, d_{t+1} = a g + b d: the paper's update", sp.Tuple(a_s, b_s)),
            Step("the dual phi(beta) is concave: phi'' = -eta ||d - g||^2/(1 + lambda)", sp.Eq(sp.Symbol("phi''"), curv)),
            Step("phi'(beta) = 0", sp.Eq(beta, beta_unc)),
            Step("maximising a concave function on [0, 1] (KKT): clip; the code clips to [0, beta_max]",
                 sp.Symbol("beta_max")),
            Step("with Delta = eta <g, d>", sp.Eq(beta, beta_simple)),
        ),
        assumptions=("eta > 0, lambda >= 0", "g != d (else the dual is linear in beta: beta = beta_max if its slope "
                     "is positive, 0 if negative)", "gg = ||g||^2, gd = <g, d>, dd = ||d||^2 (a Gram matrix)"),
        domain=(gt(eta, 0), ge(lam, 0), gt(gg, 0),
                gt(dd, 0), le(gd**2, gg * dd)),
        provenance="[paper] Topollai & Choromanska 2025 (update); model and dual [derived] derived here",
        references=("topollai2025adaptive",),
        identities={
            "papers.md general form": (beta_unc, paper_general),
            "papers.md simplified form": (beta_simple, (gg + 2 * lam * gd - lam * dd) / diff_sq),
            "a = (1 - beta)/(1 + lambda)": (a_s, (1 - beta) / (1 + lam)),
            "b = (beta + lambda)/(1 + lambda)": (b_s, (beta + lam) / (1 + lam)),
        },
        latex_names=NAMES,
    )


def am_beta(gg: Any, gd: Any, dd: Any, lam: float = 0.1, beta_max: float = 0.9,
            Delta: Any = None, eta: Any = None) -> Any:
    """Adaptive Memory's beta_t from the inner products gg = ||g||^2, gd = <g, d>, dd = ||d||^2.

    With ``Delta`` (and ``eta``) the general dual maximiser; without, Delta = eta <g, d> (the code's
    choice). Clipped to [0, beta_max]. Where g = d the dual is linear in beta and the maximiser is
    beta_max when its slope is positive, 0 otherwise.
    """
    import numpy as np

    if not 0 <= beta_max <= 1:
        raise ValueError(f"beta_max must be in [0, 1]; got {beta_max!r}")
    d = get("am-beta")
    vals = {"gg": gg, "gd": gd, "dd": dd, "lam": lam}
    if Delta is not None:
        if eta is None:
            raise ValueError("am_beta: eta is required when Delta is given")
        vals.update(Delta=Delta, eta=eta)
    vals = {k: np.asarray(v, dtype=float) for k, v in vals.items()}
    # the Gram condition gd^2 <= gg dd is not checked here: rounding in user inner products breaks it
    d.check({k: v for k, v in vals.items() if k not in ("gg", "gd", "dd")})
    key = "numerator_simplified" if Delta is None else "numerator"
    num = d.numeric(key)(**{k: vals[k] for k in d.arguments(key)})
    den = d.numeric("norm_g_minus_d_sq")(vals["gg"], vals["gd"], vals["dd"])
    scale = vals["gg"] + vals["dd"]
    degenerate = den <= 1e-14 * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(degenerate, np.where(num > 0, np.inf, -np.inf), num / np.where(degenerate, 1.0, den))
    return np.clip(raw, 0.0, beta_max)
