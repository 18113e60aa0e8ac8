"""Demon (decaying momentum): beta_t solved from the contribution equation, and its properties.

Problem and assumptions:
    Heavy-ball momentum with a time-varying beta_t, t = 0..T. A gradient's total future contribution
    under constant beta is sum_{i >= 1} beta^i = beta/(1 - beta). Demon asks that contribution to
    decay linearly: beta_t/(1 - beta_t) = (1 - t/T) beta_init/(1 - beta_init), 0 < beta_init < 1.
    Demon SGDM, theta_{t+1} = theta_t - eta g_t + beta_t v_t, v_{t+1} = beta_t v_t - eta g_t, v_0 = 0,
    is heavy ball with alpha = eta and beta_t, since v_t = theta_t - theta_{t-1}.

Results (``demon-beta``):
    beta_t = beta_init (1 - t/T) / ((1 - beta_init) + beta_init (1 - t/T));
    the effective step eta/(1 - beta_t) = eta (1 + (1 - t/T) beta_init/(1 - beta_init)) decays linearly;
    beta_0 = beta_init, beta_T = 0; decreasing and concave on [0, T]; a pole at t = T/beta_init.

Provenance: the rule is the paper's (chen2019demon) [paper]; its properties are [derived] in
papers.md, derived here. No convergence theorem is known [open].

References: chen2019demon.

Example:
    >>> from polyak.theory import demon_beta_closed_form
    >>> [round(float(b), 6) for b in demon_beta_closed_form([0, 50, 100], 100, 0.9)]
    [0.9, 0.818182, 0.0]
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .derivation import Derivation, Step, compute, ge, gt, le, lt, register

b0 = sp.Symbol("beta_init", positive=True)
b = sp.Symbol("beta", positive=True)
t = sp.Symbol("t", nonnegative=True)
T = sp.Symbol("T", positive=True)
i = sp.Symbol("i", integer=True, positive=True)
tau = sp.Symbol("tau", nonnegative=True)  # tau = t/T
NAMES = {b0: r"\beta_{\mathrm{init}}"}


@register("demon-beta", title="Demon: decaying momentum from a linearly decaying total contribution")
def _demon() -> Derivation:
    series = sp.Sum(b**i, (i, 1, sp.oo))
    done = series.doit()
    contribution = done.args[0][0] if isinstance(done, sp.Piecewise) else done  # the |beta| < 1 branch
    contribution = sp.simplify(contribution)
    bt = sp.Symbol("beta_t", positive=True)
    equation = sp.Eq(contribution.subs(b, bt), (1 - t / T) * contribution.subs(b, b0))
    beta_t = sp.factor(sp.solve(equation, bt)[0])
    eff = sp.simplify(1 / (1 - beta_t))
    pole = sp.solve(sp.denom(sp.together(beta_t)), t)[0]
    bt_tau = sp.factor(beta_t.subs(t, tau * T))
    d1 = sp.factor(sp.diff(bt_tau, tau))
    d2 = sp.factor(sp.diff(bt_tau, tau, 2))
    return Derivation(
        name="demon-beta",
        title="Demon: decaying momentum from a linearly decaying total contribution",
        parameters=(t, T, b0),
        expressions={
            "beta_t": beta_t,
            "effective_step_factor": eff,
            "dbeta_dt": sp.factor(sp.diff(beta_t, t)),
            "d2beta_dt2": sp.factor(sp.diff(beta_t, t, 2)),
            "pole": pole,
        },
        steps=(
            Step("total future contribution of one gradient under constant beta (|beta| < 1)", sp.Eq(series, contribution)),
            Step("Demon's rule: that contribution decays linearly to 0 at t = T", equation),
            Step("solve for beta_t", sp.Eq(bt, beta_t)),
            Step("the effective step factor 1/(1 - beta_t) is linear in t", sp.Eq(1 / (1 - bt), sp.expand(eff))),
            Step("with tau = t/T: first derivative < 0 (decreasing) for 0 < beta_init < 1", sp.Eq(sp.Symbol("dbeta/dtau"), d1)),
            Step("second derivative < 0 on tau < 1/beta_init (concave on [0, T])", sp.Eq(sp.Symbol("d2beta/dtau2"), d2)),
            Step("the denominator vanishes at t = T/beta_init > T: clamp t to [0, T]", sp.Eq(t, pole)),
            Step("Demon SGDM is heavy ball: v_{t+1} = beta_t v_t - eta g_t = theta_{t+1} - theta_t, alpha = eta",
                 sp.Eq(sp.Symbol("alpha"), sp.Symbol("eta"))),
        ),
        assumptions=("0 < beta_init < 1", "T > 0", "0 <= t <= T (the formula has a pole at T/beta_init)"),
        domain=(gt(b0, 0), lt(b0, 1), gt(T, 0),
                ge(t, 0), le(t, T)),
        provenance="[paper] Chen et al. 2019 (the rule); properties [derived] derived here",
        references=("chen2019demon",),
        identities={
            "papers.md form": (beta_t, b0 * (1 - t / T) / ((1 - b0) + b0 * (1 - t / T))),
            "effective step is linear": (eff, 1 + (1 - t / T) * b0 / (1 - b0)),
            "beta_0 = beta_init": (beta_t.subs(t, 0), b0),
            "beta_T = 0": (beta_t.subs(t, T), 0),
            "dbeta/dt < 0 form": (sp.diff(beta_t, t), -b0 * (1 - b0) / (T * (1 - b0 * t / T) ** 2)),
            "d2beta/dt2 < 0 form": (sp.diff(beta_t, t, 2), -2 * b0**2 * (1 - b0) / (T**2 * (1 - b0 * t / T) ** 3)),
            "dbeta/dtau": (d1.subs(tau, t / T), T * sp.diff(beta_t, t)),
        },
        latex_names=NAMES,
    )


def demon_beta_closed_form(t: Any, T: Any, beta_init: Any) -> Any:
    """Demon's beta_t = beta_init (1 - t/T) / ((1 - beta_init) + beta_init (1 - t/T)).

    ``t`` is clamped to [0, T] first (the formula has a pole at T/beta_init and leaves [0, 1]
    outside that range); arrays broadcast.
    """
    import numpy as np

    T_ = np.asarray(T, dtype=float)
    tt = np.clip(np.asarray(t, dtype=float), 0.0, T_)
    return compute("demon-beta", ("beta_t",), {"t": tt, "T": T_, "beta_init": beta_init}) + 0.0  # no -0.0 at t = T
