"""Ghadimi, Feyzmahdavian, Johansson 2015: global convergence of heavy ball.

Statement (papers.md, Classics) [paper] Thm 4, as quoted by PEPit's example: for f mu-strongly
convex and L-smooth, alpha in (0, 1/L] and beta = sqrt((1 - alpha mu)(1 - alpha L)),

    f(x_n) - f* <= (1 - alpha mu)^n (f(x_0) - f*)    for every n.

Checked as an ``upper`` relation at every step along heavy-ball trajectories on random quadratics
and on l2-regularised logistic regression (alpha drawn by the seed in (0, 1/L]). The bound and
beta come from the ``gfj-hb`` Derivation. Their convex result (Cesaro average at O(1/k)) has
constants [open] in papers.md and is not encoded.

References: ghadimi2015.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import columns, derived

PAPER = "ghadimi2015"


def _gfj(name: str, **values):
    return derived("gfj-hb", name, **values)


def _run(seed: int, backend: str, problem: str) -> Measurement:
    from polyak.solvers import make_method, make_problem, simulate

    rng = np.random.default_rng(seed)
    if problem == "quadratic":
        prob = make_problem("quadratic", mu=1.0, L=50.0, dim=30, spectrum="uniform", x_star="random", seed=seed)
    else:
        prob = make_problem("logistic", dim=10, n=200, mu=0.05, seed=seed)
    mu, L = float(prob.mu[0]), float(prob.L[0])
    alpha = float(rng.uniform(0.05, 1.0)) / L
    beta = float(_gfj("beta", alpha=alpha, mu=mu, L=L))
    steps = 300
    tr = simulate(make_method("hb", alpha=alpha, beta=beta), prob, steps, backend=backend)
    gap = columns(tr.fgap)[:, 0]
    return Measurement(gap, k=tr.k, context={"alpha": alpha, "mu": mu, "L": L, "gap0": float(gap[0]), "k": tr.k},
                       details={"alpha": alpha, "beta": beta, "mu": mu, "L": L, "steps": steps})


def bound(ctx) -> np.ndarray:
    c = ctx.measurement.context
    return np.broadcast_to(_gfj("bound", alpha=c["alpha"], mu=c["mu"], L=c["L"], n=c["k"], gap0=c["gap0"]), c["k"].shape)


def claims() -> list[Claim]:
    note = ("a bound at every step: the allowance is round-off only, rtol 1e-9 on the bound plus an absolute "
            "atol for f(x_k) - f* computed as a difference of values of size ~f(x_0) (quadratic: ~1e-15 x 25; "
            "logistic: ~1e-16 x 1 plus the error of f*, < 1e-20); the bound itself stays above 1e-3 f(x_0) "
            "over the 300 steps, so the allowance is negligible against it")
    common = dict(paper=PAPER, provenance="[paper] Thm 4, as quoted by PEPit's example", relation="upper",
                  predict=bound, rtol=1e-9, tolerance_note=note, requires=("derivation:gfj-hb",))
    return [
        Claim(id="ghadimi2015.thm4-quadratic",
              statement="heavy ball with alpha in (0, 1/L], beta = sqrt((1 - alpha mu)(1 - alpha L)): f(x_k) - f* <= "
                        "(1 - alpha mu)^k (f(x_0) - f*) at every k <= 300 on a random quadratic (kappa = 50, x* != 0)",
              measure=lambda seed, backend: _run(seed, backend, "quadratic"), atol=1e-14, **common),
        Claim(id="ghadimi2015.thm4-logistic",
              statement="the same bound at every k <= 300 on l2-regularised logistic regression (mu = 0.05, d = 10, n = 200)",
              measure=lambda seed, backend: _run(seed, backend, "logistic"), atol=1e-13, **common),
    ]
