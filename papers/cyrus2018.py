"""Cyrus, Hu, Van Scoy, Lessard (2018): the robust momentum method (RMM).

Statements:

* ``rm-quadratic-rate`` [paper] cyrus2018 Theorem 1 (as PEPit's robust_momentum.py cites it [code]):
  for rho in [1 - 1/sqrt(kappa), 1 - 1/kappa], alpha = kappa (1 - rho)^2 (1 + rho)/L,
  beta = kappa rho^3/(kappa - 1), gamma = rho^3/((kappa - 1)(1 - rho)^2 (1 + rho)), a Lyapunov
  function decreases by rho^2 per step on every mu-strongly convex L-smooth f: a linear rate rho,
  hence at most rho over quadratics. Checked against the exact worst spectral radius over [mu, L]
  of the registered ``robust-momentum`` (traced from its one definition), (kappa, rho) drawn.
* ``rm-fast-end-is-tmm`` [derived]: at rho = 1 - 1/sqrt(kappa) the tuning is the triple momentum
  method's (alpha, beta, gamma) (substitute (1 - rho)^2 = 1/kappa), checked numerically.

References: cyrus2018, vanscoy2018.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

PAPER = "cyrus2018"


def _draw(seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    kappa = float(np.exp(rng.uniform(np.log(2.0), np.log(1e3))))
    t = float(rng.uniform())
    rho = t * (1 - 1 / kappa) + (1 - t) * (1 - 1 / np.sqrt(kappa))
    return kappa, rho


def _quadratic(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method
    from polyak.solvers.triple_momentum import robust_momentum_tuning
    from polyak.verify.quadratic import quadratic_worst_case

    kappa, rho = _draw(seed)
    tun = robust_momentum_tuning(1.0, kappa, rho)
    w = quadratic_worst_case(make_method("robust-momentum", **tun), 1.0, kappa)
    return Measurement(w.rate, context={"rho": rho}, details={"kappa": kappa, "rho": rho, "worst_lambda": w.lam, **tun})


def _fast_end(seed: int, backend: str) -> Measurement:
    from polyak.solvers.triple_momentum import robust_momentum_tuning, triple_momentum_tuning

    kappa, _ = _draw(seed)
    rm = robust_momentum_tuning(1.0, kappa, 1 - 1 / np.sqrt(kappa))
    tmm = triple_momentum_tuning(1.0, kappa)
    keys = ("alpha", "beta", "gamma")
    return Measurement(np.array([rm[k] for k in keys]), context={"tmm": np.array([tmm[k] for k in keys])},
                       details={"kappa": kappa, "rm": rm, "tmm": tmm})


def claims() -> list[Claim]:
    return [
        Claim(
            id="cyrus2018.rm-quadratic-rate", paper=PAPER,
            statement="robust momentum with robustness rho in [1 - 1/sqrt(kappa), 1 - 1/kappa] has worst spectral "
                      "radius <= rho over quadratics with spectrum in [mu, L] ((kappa, rho) drawn)",
            provenance="[paper] cyrus2018 Theorem 1 (cited via PEPit's robust_momentum.py)",
            relation="upper", measure=_quadratic, predict=lambda ctx: ctx.measurement.context["rho"], rtol=1e-9,
            tolerance_note="eigenvalues of a 2x2 matrix: ~1e-13 relative; the slow end (rho = 1 - 1/kappa) "
                           "measured 1 - 8e-13 rho",
            requires=("module:polyak.verify.quadratic",),
        ),
        Claim(
            id="cyrus2018.rm-fast-end-is-tmm", paper=PAPER,
            statement="at rho = 1 - 1/sqrt(kappa) the robust momentum tuning (alpha, beta, gamma) equals the triple "
                      "momentum method's",
            provenance="[derived] substitute (1 - rho)^2 = 1/kappa", relation="tight", measure=_fast_end,
            predict=lambda ctx: ctx.measurement.context["tmm"], rtol=1e-12,
            tolerance_note="two formulas for the same numbers: round-off only",
        ),
    ]
