"""Adaptive heavy ball (Sun, Ling, Shi, Li, Wang, arXiv 2110.09057).

Statements (papers.md, Adaptive heavy ball), variant A1 [code citing the paper]:
h_k = ||g_k - g_{k-1}||/||x_k - x_{k-1}||, beta_k = clip((1 - sqrt(alpha h_k))^2, 0, 1 - delta):

* [derived] ``beta-bounds``: on a quadratic mu <= h_k <= L, so with alpha <= 1/L every beta_k (k >= 1) lies
  between (1 - sqrt(alpha L))^2 and min((1 - sqrt(alpha mu))^2, 1 - delta) (the ``adaptive-hb-beta``
  Derivation's beta_lower / beta_upper). Two ``upper`` claims: beta_k <= upper, and -beta_k <= -lower;
  and ``beta-upper-attained``: the upper bound is reached (a ``tight`` claim) on a start along the
  eigenvector of mu, where h_k = mu exactly, so a bound that is too loose is seen.
* The convergence guarantees are [open] and not encoded; "settles near the best beta" and "tolerates a
  larger step than HB(0.9)" are [derived, to be measured]: not encoded yet (TODO), since their
  quantitative form (which tolerance, which problems) is not a statement of the paper.

References: sun2021adaptive.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import columns, derived

PAPER = "sun2021adaptive"
DELTA = 1e-2


def _run(seed: int, backend: str):
    from polyak.solvers import make_method, make_problem, simulate

    rng = np.random.default_rng(seed)
    prob = make_problem("quadratic", mu=1.0, L=100.0, dim=30, spectrum="uniform", basis="random", x_star="random",
                        seed=seed)
    mu, L = float(prob.mu[0]), float(prob.L[0])
    alpha = float(rng.uniform(0.1, 1.0)) / L
    tr = simulate(make_method("adaptive-hb", lr=alpha, delta=DELTA), prob, 300, backend=backend)
    # record k holds the beta of the step that produced x_k; beta_0 = 0 by design, so steps k >= 1 are records >= 2
    beta = columns(tr.beta)[2:, 0]
    # stop where the iterates reach the floor (x* != 0: steps below ~1e-13 make the secant estimate meaningless)
    dist = columns(tr.dist)[1:-1, 0]  # x_k, the iterate at which step k's secant estimate is formed
    keep = dist > 1e-9 * columns(tr.dist)[0, 0]
    return tr.k[2:][keep], beta[keep], mu, L, alpha


def _upper(seed: int, backend: str) -> Measurement:
    k, beta, mu, L, alpha = _run(seed, backend)
    return Measurement(beta, k=k, context={"alpha": alpha, "mu": mu, "L": L}, details={"alpha": alpha, "steps_checked": len(k)})


def _lower(seed: int, backend: str) -> Measurement:
    k, beta, mu, L, alpha = _run(seed, backend)
    return Measurement(-beta, k=k, context={"alpha": alpha, "mu": mu, "L": L}, details={"alpha": alpha, "steps_checked": len(k)})


def _attained(seed: int, backend: str) -> Measurement:
    """A start on the mu-eigenvector: every secant h_k is mu exactly, so beta_k = (1 - sqrt(alpha mu))^2."""
    from polyak.solvers import make_method, make_problem, simulate

    rng = np.random.default_rng(seed)
    prob = make_problem("quadratic", mu=1.0, L=100.0, dim=30, spectrum="uniform", x_star="random", seed=seed)
    mu, L = float(prob.mu[0]), float(prob.L[0])
    alpha = float(rng.uniform(0.1, 1.0)) / L
    x0 = prob.x_star[0].copy()
    x0[0] += float(rng.uniform(0.5, 2.0))  # basis "eigen": coordinate 0 is the eigenvector of mu (sorted spectrum)
    tr = simulate(make_method("adaptive-hb", lr=alpha, delta=DELTA), prob, 200, x0=x0, backend=backend)
    beta = columns(tr.beta)[2:, 0]
    dist = columns(tr.dist)[1:-1, 0]
    keep = dist > 1e-6 * columns(tr.dist)[0, 0]
    return Measurement(beta[keep], k=tr.k[2:][keep], context={"alpha": alpha, "mu": mu, "L": L},
                       details={"alpha": alpha, "steps_checked": int(keep.sum())})


def claims() -> list[Claim]:
    req = ("method:adaptive-hb", "derivation:adaptive-hb-beta")
    note = ("h_k is a Rayleigh-type quotient of the Hessian computed from differences of iterates; with x* != 0 "
            "and distances above 1e-9 of the start, the relative error of h_k is < 1e-6, moving beta by < 1e-6; "
            "atol 1e-6")
    return [
        Claim(id="sun2021.beta-upper", paper=PAPER,
              statement="on a quadratic with alpha <= 1/L every adaptive beta_k (A1, k >= 1) is <= min((1 - sqrt(alpha "
                        "mu))^2, 1 - delta)",
              provenance="[derived]", relation="upper", measure=_upper,
              predict=lambda ctx: min(float(derived("adaptive-hb-beta", "beta_upper", **ctx.measurement.context)),
                                      1 - DELTA),
              atol=1e-6, tolerance_note=note, requires=req),
        Claim(id="sun2021.beta-lower", paper=PAPER,
              statement="on a quadratic with alpha <= 1/L every adaptive beta_k (A1, k >= 1) is >= (1 - sqrt(alpha L))^2 "
                        "(checked as -beta_k <= -(1 - sqrt(alpha L))^2)",
              provenance="[derived]", relation="upper", measure=_lower,
              predict=lambda ctx: -float(derived("adaptive-hb-beta", "beta_lower", **ctx.measurement.context)),
              atol=1e-6, tolerance_note=note, requires=req),
        Claim(id="sun2021.beta-upper-attained", paper=PAPER,
              statement="the upper bound is attained at lambda = mu: started on the eigenvector of mu, every secant "
                        "estimate is h_k = mu and every beta_k (k >= 1) equals (1 - sqrt(alpha mu))^2 (here below "
                        "1 - delta, so unclipped)",
              provenance="[derived]", relation="tight", measure=_attained,
              predict=lambda ctx: float(derived("adaptive-hb-beta", "beta_upper", **ctx.measurement.context)),
              rtol=1e-9,
              tolerance_note="h_k is a ratio of differences along one eigenvector, exact up to cancellation: with "
                             "distances above 1e-6 of the start its relative error is < 1e-10; rtol 1e-9",
              requires=req),
    ]
