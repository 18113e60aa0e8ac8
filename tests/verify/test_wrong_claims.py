"""Deliberately wrong claims are rejected for every one of 10 seeds (never an error, always FAIL).

The wrong versions are built from the true claims by changing only the prediction (or the Lyapunov
function's weight), so the measurement is the very one that passes in test_claims.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from polyak.papers import defazio2020, nesterov
from polyak.verify.claims import evaluate
from polyak.verify.runner import collect

SEEDS = range(10)
CLAIMS = {c.id: c for c in collect("fast")}


def scaled(fn, factor):
    return lambda ctx: np.asarray(fn(ctx) if callable(fn) else fn, dtype=float) * factor


WRONG = {
    # a perturbed constant: rho* of heavy ball 1% too small / too large
    "hb-rate-1pct-low": CLAIMS["polyak1964.hb-optimal-rate"].with_(predict=scaled(CLAIMS["polyak1964.hb-optimal-rate"].predict, 0.99)),
    "hb-rate-1pct-high": CLAIMS["polyak1964.hb-optimal-rate"].with_(predict=scaled(CLAIMS["polyak1964.hb-optimal-rate"].predict, 1.01)),
    # a perturbed constant: the GD rate with kappa replaced by 1.05 kappa
    "gd-rate-kappa-5pct": CLAIMS["polyak1964.gd-optimal-rate"].with_(
        predict=lambda ctx: (1.05 * ctx.measurement.context["L"] - 1) / (1.05 * ctx.measurement.context["L"] + 1)),
    # a perturbed constant: the stability boundary 2(1+beta)/L off by 0.1%
    "hb-region-0.1pct": CLAIMS["polyak1964.hb-convergence-region"].with_(
        predict=scaled(CLAIMS["polyak1964.hb-convergence-region"].predict, 1.001)),
    # wrong exponents of the k rho^k transient
    "transient-exponent-0": CLAIMS["polyak1964.hb-transient-k"].with_(predict=0.0),
    "transient-exponent-2": CLAIMS["polyak1964.hb-transient-k"].with_(predict=2.0),
    # GFJ's bound 10% too tight: runs stay >50% below the bound at k >= 1 and cannot see it, the exact worst
    # case (PEP) is within 1-5% of the bound at N = 1 and rejects it
    "gfj-bound-10pct-tight-vs-worst-case": CLAIMS["ghadimi2015.thm4-worst-case"].with_(
        predict=scaled(CLAIMS["ghadimi2015.thm4-worst-case"].predict, 0.90)),
    # AM's cap claimed 2% higher (a looser bound): the attained check sees it
    "am-beta-max-2pct-loose": CLAIMS["topollai2025.beta-max-attained"].with_(
        predict=scaled(CLAIMS["topollai2025.beta-max-attained"].predict, 1.02)),
    # the optimal-tuning cycle predicted for a kappa 1% off (the orbit moves with kappa)
    "goujaud-orbit-kappa-1pct": CLAIMS["goujaud2023.hb-optimal-cycles"].with_(
        predict=lambda ctx: np.sort([float(v) for v in __import__("polyak.theory.lessard_cycle", fromlist=["x"]).hb_optimal_cycle(
            1.01 * ctx.measurement.context["kappa"])])),
    # the LRP cycle predicted at the repelling period-3 orbit (theory/lessard_cycle.py finds two)
    "lessard-cycle-repelling-orbit": CLAIMS["lessard2016.hb-cycle"].with_(
        predict=np.array([-1.6152158010241404, 0.5793708851499634, 1.8961228968544257])),
    "gd-certificate-5pct-tight": CLAIMS["lessard2016.gd-certified"].with_(predict=scaled(CLAIMS["lessard2016.gd-certified"].predict, 0.95)),
    # Nesterov's rate over the class claimed 5% below its worst case on quadratics (a member of the class):
    # false for certain, whatever the Lyapunov family (theorem's bound itself is loose, so "5% tighter than
    # the theorem" can still be true and is not used)
    "nesterov-certificate-below-quadratic": CLAIMS["nesterov.standard-certified"].with_(
        predict=lambda ctx: 0.95 * ctx.measurement.details["quadratic_rate"]),
    # the same certificate (P, lam) claiming a rate 1e-3 lower: its one-step decrease fails the
    # independent PEPit check (value ~2 rho 1e-3)
    "nesterov-certificate-check-rate-1e-3-low": CLAIMS["nesterov.standard-certificate-checked"].with_(
        measure=nesterov.certificate_check_measure(-1e-3)),
    "sun-beta-upper-attained-2pct-loose": CLAIMS["sun2021.beta-upper-attained"].with_(
        predict=scaled(CLAIMS["sun2021.beta-upper-attained"].predict, 1.02)),
    "sun-beta-upper-5pct-tight": CLAIMS["sun2021.beta-upper"].with_(predict=scaled(CLAIMS["sun2021.beta-upper"].predict, 0.95)),
    # schedule-free with b = 0.9 (gradients at the interpolated point) is not primal averaging
    "schedule-free-b0.9-is-not-spa": CLAIMS["defazio2020.schedule-free-b1-is-primal-averaging"].with_(
        measure=defazio2020.schedule_free_measure(0.9)),
    # a Lyapunov function with the wrong weight on ||x_k - x_{k-1}||^2 (twice the derived one)
    "lyapunov-weight-x2": CLAIMS["defazio2020.lyapunov-quadratic"].with_(measure=defazio2020.lyapunov_measure("quadratic", 2.0)),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_claim_rejected_every_seed(name):
    claim = WRONG[name]
    if claim.missing():
        pytest.skip(f"needs {claim.missing()}")
    for seed in SEEDS:
        r = evaluate(claim, seed=seed)
        assert r.status == "FAIL", (name, seed, r.status, r.margin, r.details.get("error"))
        assert r.passed is False


def test_true_versions_of_the_wrong_claims_pass():
    # the same measurements with the right predictions pass (so the rejections above are the perturbation's doing)
    for cid in ("polyak1964.hb-optimal-rate", "ghadimi2015.thm4-worst-case", "topollai2025.beta-max-attained",
                "defazio2020.lyapunov-quadratic"):
        assert evaluate(CLAIMS[cid], seed=0).status == "pass"
