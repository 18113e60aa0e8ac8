"""Lessard, Recht, Packard 2016: heavy ball can cycle beyond quadratics; Nesterov's quadratic tuning.

Statements:

* ``hb-cycle`` [paper]: on the piecewise quadratic with f'(x) = 25x (x < 1), x + 24 (1 <= x < 2),
  25x - 24 (x >= 2) (1-strongly convex, 25-smooth), heavy ball with alpha = 1/9, beta = 4/9 does not
  converge from x_0 = 3.3: it falls into a limit cycle. Measured with the engine (problem
  ``lessard``, starts drawn by the seed in [3.1, 3.45]): the last three iterates equal the period-3
  attracting period-3 orbit solved exactly (sympy, rational arithmetic) from the affine pieces in
  ``theory/lessard_cycle.py`` (an independent derivation, not ``verify.counterexamples``), so
  ||x_k - x*|| does not go to 0.
* ``nesterov-quadratic-optimal-rate`` [derived numerically]: alpha = 4/(3L+mu), beta =
  (sqrt(3 kappa+1)-2)/(sqrt(3 kappa+1)+2) converges on quadratics at 1 - 2/sqrt(3 kappa + 1).
* ``gd-certified`` [paper] (the Lyapunov/IQC analysis of lessard2016 and taylor2018): an SDP
  certificate exists for gradient descent with alpha = 2/(L+mu) at the rate (kappa-1)/(kappa+1)
  over all mu-strongly convex L-smooth functions.

References: lessard2016, taylor2018, taylor2017.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import f, theory, transient_rates

PAPER = "lessard2016"


def _cycle(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method, make_problem, simulate

    start = float(np.random.default_rng(seed).uniform(3.1, 3.45))
    tr = simulate(make_method("hb", alpha=1.0 / 9.0, beta=4.0 / 9.0), make_problem("lessard", dim=1, mu=1.0, L=25.0),
                  3000, x0=[start], keep_last=3, backend=backend)
    tail = np.sort(tr.x_tail.reshape(3))
    return Measurement(tail, details={"start": start, "final_distance": float(tr.dist[-1].max()),
                                      "min_distance_last_100": float(tr.dist[-100:].min())})


def _orbit(ctx) -> np.ndarray:
    # independent of the engine and of verify.counterexamples: solved exactly with sympy in theory/
    from polyak.theory.lessard_cycle import lessard_orbit

    return np.sort(np.array([float(v) for v in lessard_orbit()]))


def _nesterov_opt(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method, make_problem

    L = 100.0
    alpha, beta, rho = (f(v) for v in theory("nesterov_quadratic_optimal")(1.0, L))
    prob = make_problem("quadratic", mu=1.0, L=L, dim=50, spectrum="uniform", instances=8, seed=seed)
    rates, details = transient_rates(make_method("nesterov", alpha=alpha, beta=beta), prob, rho, backend)
    return Measurement(rates, details={**details, "alpha": alpha, "beta": beta}, context={"L": L})


def _gd_cert(seed: int, backend: str) -> Measurement:
    from polyak.verify.certificates import certify_rate

    L = float(np.random.default_rng(seed).uniform(5.0, 50.0))
    alpha, rho = (f(v) for v in theory("gd_optimal")(1.0, L))
    cert = certify_rate("gd", 1.0, L, alpha=alpha, tol=1e-7)
    return Measurement(cert, context={"rho": rho, "L": L}, details={"L": L, "alpha": alpha})


def claims() -> list[Claim]:
    return [
        Claim(
            id="lessard2016.hb-cycle", paper=PAPER,
            statement="heavy ball with alpha = 1/9, beta = 4/9 on the LRP piecewise quadratic (mu = 1, L = 25) "
                      "does not converge from x_0 in [3.1, 3.45]: its last iterates are the period-3 limit cycle "
                      "(-2208, 792, 2592)/1225 = (-1.80245, 0.64653, 2.11592), solved exactly from the affine pieces",
            provenance="[paper] (the orbit: [derived], theory/lessard_cycle.py)", relation="tight", measure=_cycle,
            predict=_orbit, rtol=1e-9,
            tolerance_note="the cycle is attracting (a linear map per piece with spectral radius < 1 around it); "
                           "after 3000 steps the distance to it is at round-off, ~1e-15 relative",
            requires=("problem:lessard", "module:polyak.theory.lessard_cycle"),
        ),
        Claim(
            id="lessard2016.nesterov-quadratic-optimal-rate", paper=PAPER,
            statement="Nesterov with alpha = 4/(3L+mu), beta = (sqrt(3 kappa+1)-2)/(sqrt(3 kappa+1)+2) converges "
                      "at 1 - 2/sqrt(3 kappa+1) on random quadratics (kappa = 100, 8 instances)",
            provenance="[derived numerically]", relation="tight",
            measure=_nesterov_opt,
            predict=lambda ctx: f(theory("nesterov_quadratic_optimal")(1.0, ctx.measurement.context["L"])[2]),
            rtol=2e-3,
            tolerance_note="fit with the k rho^k transient (double roots at the optimum); bias <= 3 max|h|/W as in "
                           "polyak1964.hb-optimal-rate",
            requires=("attr:polyak.theory:nesterov_quadratic_optimal",),
        ),
        Claim(
            id="lessard2016.gd-certified", paper=PAPER,
            statement="an SDP (Lyapunov/IQC) certificate proves gradient descent with alpha = 2/(L+mu) converges at "
                      "(kappa-1)/(kappa+1) on every mu-strongly convex L-smooth function (L drawn in [5, 50])",
            provenance="[paper]", relation="certified", measure=_gd_cert,
            predict=lambda ctx: ctx.measurement.context["rho"], rtol=1e-6,
            tolerance_note="bisection on the rate to 1e-7; the certified rate may exceed the exact one by the "
                           "bracket width, so 1e-6 relative",
            requires=("attr:polyak.verify.certificates:certify_rate",),
        ),
    ]
