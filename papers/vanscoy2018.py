"""Van Scoy, Freeman, Lynch (2018): the triple momentum method (TMM).

Statements:

* ``tmm-quadratic-rate`` [paper] vanscoy2018 Theorem 1: with rho = 1 - 1/sqrt(kappa) and
  (alpha, beta, gamma, delta) = ((1 + rho)/L, rho^2/(2 - rho), rho^2/((1 + rho)(2 - rho)),
  rho^2/(1 - rho^2)), TMM converges linearly at rate rho on every mu-strongly convex L-smooth f, so
  in particular on every quadratic with spectrum in [mu, L]. Checked as an upper bound on the exact
  worst spectral radius over [mu, L] (``polyak.verify.quadratic_rate`` of the registered
  ``triple-momentum``, traced from its one definition), kappa drawn in [2, 1e4]. Measured here
  (not a statement of the paper): the bound is attained, to 1e-12.
* ``tmm-simulated-rate`` [paper] the same theorem, against simulation: the rate fitted on random
  quadratics (spectrum uniform in [mu, L], mu and L included) is rho within 1e-3.

The algorithm and the tuning as PEPit writes them (examples/unconstrained_convex_minimization/
triple_momentum.py) [code]; the measured iterate is x_k = (1 + delta) xi_k - delta xi_{k-1}.

References: vanscoy2018.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import ZERO_STAR_FLOOR, columns

PAPER = "vanscoy2018"


def _kappa(seed: int, lo: float, hi: float) -> float:
    return float(np.exp(np.random.default_rng(seed).uniform(np.log(lo), np.log(hi))))


def _quadratic(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method
    from polyak.solvers.triple_momentum import triple_momentum_tuning
    from polyak.verify.quadratic import quadratic_worst_case

    kappa = _kappa(seed, 2.0, 1e4)
    tun = triple_momentum_tuning(1.0, kappa)
    w = quadratic_worst_case(make_method("triple-momentum", **tun), 1.0, kappa)
    return Measurement(w.rate, context={"kappa": kappa}, details={"kappa": kappa, "worst_lambda": w.lam, **tun})


def _simulated(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method, make_problem, simulate
    from polyak.solvers.triple_momentum import triple_momentum_tuning
    from polyak.verify.rates import fit_linear_rate, usable_window

    kappa = _kappa(seed, 10.0, 500.0)
    rho = 1.0 - 1.0 / np.sqrt(kappa)
    prob = make_problem("quadratic", mu=1.0, L=kappa, dim=40, spectrum="uniform", instances=4, seed=seed)
    steps = int(np.ceil(np.log(ZERO_STAR_FLOOR * 1e-3) / np.log(rho)))
    tr = simulate(make_method("triple-momentum", **triple_momentum_tuning(1.0, kappa)), prob, steps, backend=backend)
    err = columns(tr.dist)
    rates, windows = [], []
    for j in range(err.shape[1]):
        w = usable_window(err[:, j], floor=ZERO_STAR_FLOOR, burn_in=0.25)
        rates.append(fit_linear_rate(err[:, j], tr.k, window=w).rate)
        windows.append(w)
    return Measurement(np.array(rates), context={"kappa": kappa}, details={"kappa": kappa, "windows": windows, "steps": steps})


def _rho(ctx) -> float:
    return float(1.0 - 1.0 / np.sqrt(ctx.measurement.context["kappa"]))


def claims() -> list[Claim]:
    return [
        Claim(
            id="vanscoy2018.tmm-quadratic-rate", paper=PAPER,
            statement="the triple momentum method, tuned with rho = 1 - 1/sqrt(kappa), has worst spectral radius "
                      "<= rho over quadratics with spectrum in [mu, L] (kappa drawn in [2, 1e4])",
            provenance="[paper] vanscoy2018 Theorem 1 (rate rho over all mu-strongly convex L-smooth f)",
            relation="upper", measure=_quadratic, predict=_rho, rtol=1e-10,
            tolerance_note="the quadratic rate is an eigenvalue computation accurate to ~1e-14 here (simple roots)",
            requires=("module:polyak.verify.quadratic",),
        ),
        Claim(
            id="vanscoy2018.tmm-simulated-rate", paper=PAPER,
            statement="on random quadratics with spectrum in [mu, L] (mu and L included) the triple momentum "
                      "method converges at 1 - 1/sqrt(kappa) (fitted rate, kappa drawn in [10, 500], 4 instances)",
            provenance="[paper] vanscoy2018 Theorem 1; attained on quadratics [derived] (measured: quadratic_rate)",
            relation="tight", measure=_simulated, predict=_rho, rtol=1e-3,
            tolerance_note="least-squares slope over the last 75% of a run to 1e-100: faster modes bias the fit by "
                           "< 3e-4 relative in the measured cases (kappa 20, 100, 500)",
        ),
    ]
