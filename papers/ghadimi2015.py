"""Ghadimi, Feyzmahdavian, Johansson 2015: global convergence of heavy ball.

Statement (papers.md, Classics) [paper] Thm 4, as quoted by PEPit's example: for f mu-strongly
convex and L-smooth, alpha in (0, 1/L] and beta = sqrt((1 - alpha mu)(1 - alpha L)),

    f(x_n) - f* <= (1 - alpha mu)^n (f(x_0) - f*)    for every n.

Checked as an ``upper`` relation at every step k >= 1 along heavy-ball trajectories on random
quadratics and on l2-regularised logistic regression (alpha drawn by the seed in (0, 1/L]), and
against the exact N-step worst case over the class from performance estimation
(``polyak.verify.pep.worst_case``, N = 1..5), where a run cannot reach the theorem's constant. The bound and
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
    # k >= 1 only: at k = 0 the bound is f(x_0) - f* itself and holds with margin exactly 0
    return Measurement(gap[1:], k=tr.k[1:], context={"alpha": alpha, "mu": mu, "L": L, "gap0": float(gap[0]),
                                                     "k": tr.k[1:]},
                       details={"alpha": alpha, "beta": beta, "mu": mu, "L": L, "steps": steps})


def bound(ctx) -> np.ndarray:
    c = ctx.measurement.context
    return np.broadcast_to(_gfj("bound", alpha=c["alpha"], mu=c["mu"], L=c["L"], n=c["k"], gap0=c["gap0"]), c["k"].shape)


PEP_N = (1, 2, 3, 4, 5)


def _pep(seed: int, backend: str) -> Measurement:
    """The exact worst case of f(x_N) - f* over S(mu, L) with f(x_0) - f* <= 1 (performance estimation,
    ``polyak.verify.pep.worst_case``), N = 1..5, at alpha drawn in (0, 1/L] and GFJ's beta."""
    from polyak.verify.pep import worst_case

    rng = np.random.default_rng(seed)
    mu, L = 1.0, float(rng.uniform(5.0, 50.0))
    alpha = float(rng.uniform(0.1, 1.0)) / L
    beta = float(_gfj("beta", alpha=alpha, mu=mu, L=L))
    values, status = [], []
    for N in PEP_N:
        wc = worst_case("hb", N, mu, L, alpha=alpha, beta=beta, metric="fgap")
        if wc.value is None:
            raise RuntimeError(f"PEP at N = {N} gave no value (status {wc.status})")
        values.append(float(wc.value))
        status.append(wc.status)
    k = np.array(PEP_N, dtype=float)
    return Measurement(np.array(values), k=k, context={"alpha": alpha, "mu": mu, "L": L, "gap0": 1.0, "k": k},
                       details={"alpha": alpha, "beta": beta, "mu": mu, "L": L, "status": status,
                                "slack": (1 - np.array(values) / _gfj("bound", alpha=alpha, mu=mu, L=L, n=k, gap0=1.0)).tolist()})


def claims() -> list[Claim]:
    note = ("a bound at every step k >= 1 (k = 0 holds with equality by definition and is left out): the "
            "allowance is round-off only, rtol 1e-9 on the bound plus an absolute "
            "atol for f(x_k) - f* computed as a difference of values of size ~f(x_0) (quadratic: ~1e-15 x 25; "
            "logistic: ~1e-16 x 1 plus the error of f*, < 1e-20); the bound itself stays above 1e-3 f(x_0) "
            "over the 300 steps, so the allowance is negligible against it")
    common = dict(paper=PAPER, provenance="[paper] Thm 4, as quoted by PEPit's example", relation="upper",
                  predict=bound, rtol=1e-9, tolerance_note=note, requires=("derivation:gfj-hb",))
    return [
        Claim(id="ghadimi2015.thm4-quadratic",
              statement="heavy ball with alpha in (0, 1/L], beta = sqrt((1 - alpha mu)(1 - alpha L)): f(x_k) - f* <= "
                        "(1 - alpha mu)^k (f(x_0) - f*) at every 1 <= k <= 300 on a random quadratic (kappa = 50, x* != 0)",
              measure=lambda seed, backend: _run(seed, backend, "quadratic"), atol=1e-14, **common),
        Claim(id="ghadimi2015.thm4-logistic",
              statement="the same bound at every 1 <= k <= 300 on l2-regularised logistic regression (mu = 0.05, d = 10, "
                        "n = 200)",
              measure=lambda seed, backend: _run(seed, backend, "logistic"), atol=1e-13, **common),
        Claim(id="ghadimi2015.thm4-worst-case",
              statement="the same bound against the exact worst case over every mu-strongly convex L-smooth function "
                        "(performance estimation, N = 1..5, alpha drawn in (0.1/L, 1/L], L in [5, 50]): the "
                        "theorem's bound is never below the worst case (its slack per N is in details)",
              provenance="[paper] Thm 4, as quoted by PEPit's example", paper=PAPER, relation="upper",
              measure=_pep, predict=bound, rtol=1e-5,
              tolerance_note="the PEP value is an SDP optimum accepted only at status optimal with a-posteriori checks; "
                             "its relative accuracy is ~1e-6 (agreement with PEPit, tests/verify/test_pep.py), 1e-5 "
                             "leaves room",
              requires=("derivation:gfj-hb", "attr:polyak.verify.pep:worst_case")),
    ]
