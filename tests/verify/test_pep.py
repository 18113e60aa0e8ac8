"""N-step worst cases: agreement with PEPit, closed forms, lower bounds from quadratics, solver status."""

from __future__ import annotations

import math

import numpy as np
import pytest

from polyak.verify import pep as pep_mod
from polyak.verify.pep import demon_schedule, pep_with_pepit, worst_case

pytest.importorskip("PEPit")

# cvxpy warns "Solution may be inaccurate" inside PEPit's own solves near degenerate optima
pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

REL = 1e-4


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def quadratic_worst(method, N, mu, L, alpha, beta, metric, n=2001):
    """Max over f = lam/2 x^2, lam in [mu, L], of the N-step ratio (x_{-1} = x_0): a lower bound on the PEP."""
    alpha = np.broadcast_to(np.asarray(alpha, float), (N,))
    beta = np.broadcast_to(np.asarray(beta, float), (N,))
    best = 0.0
    for lam in np.linspace(mu, L, n):
        xp, x = 1.0, 1.0
        for k in range(N):
            gam = beta[k] if method == "nesterov" else 0.0
            y = x + gam * (x - xp)
            xp, x = x, x + beta[k] * (x - xp) - alpha[k] * lam * y
        best = max(best, x * x)  # both metrics: (x_N/x_0)^2 on a quadratic
    return best


@pytest.mark.parametrize("method", ["gd", "hb", "nesterov"])
@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_agrees_with_pepit(method, metric):
    for N in (1, 2, 3, 5):
        wc = worst_case(method, N, 1.0, 10.0, metric=metric)
        ref = pep_with_pepit(method, N, 1.0, 10.0, metric=metric)
        assert wc.status == "optimal" and wc.certified
        assert rel(wc.value, ref) <= REL, (N, wc.value, ref)
        # the reported dual bound is a dual-feasible point: gap and residual are small
        assert wc.gap <= 1e-6 * max(1.0, wc.value) and wc.dual_residual <= 1e-6
        # and it is not vacuous: a quadratic attains at least this much, PEP can only be larger
        a, b = wc.alpha, wc.beta
        assert wc.value >= quadratic_worst(method, N, 1.0, 10.0, a, b, metric) * (1 - 1e-5)


def test_agrees_with_pepit_other_tunings():
    # HB with Ghadimi's tuning (ghadimi2015) and a larger kappa; Nesterov at LRP's quadratic tuning
    cases = [("hb", 3, 1.0, 30.0, 1 / 30, math.sqrt((1 - 1 / 30) * (1 - 1.0)) + 0.3, "fgap"),
             ("nesterov", 4, 0.5, 50.0, 4 / 150.5, 0.75, "dist")]
    for m, N, mu, L, a, b, met in cases:
        wc = worst_case(m, N, mu, L, a, b, metric=met)
        assert rel(wc.value, pep_with_pepit(m, N, mu, L, a, b, metric=met)) <= REL


@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_demon_schedule_agrees_with_pepit(metric):
    N = 5
    beta = demon_schedule(0.9, N)
    # the schedule is Demon's closed form: beta_t/(1-beta_t) decays linearly
    ratio = beta / (1 - beta)
    assert np.allclose(np.diff(ratio), -9.0 / N)
    alpha = np.linspace(0.12, 0.08, N)  # a step-size schedule as well
    wc = worst_case("hb", N, 1.0, 10.0, alpha, beta, metric=metric)
    ref = pep_with_pepit("hb", N, 1.0, 10.0, alpha, beta, metric=metric)
    assert rel(wc.value, ref) <= REL
    # a schedule is not a constant: the constant-beta worst case differs
    const = worst_case("hb", N, 1.0, 10.0, alpha, 0.9, metric=metric)
    assert rel(const.value, wc.value) > 1e-2


@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_gd_closed_form_and_monotone(metric):
    mu, L = 1.0, 10.0
    for alpha in (0.05, 0.15, 0.19):
        rho = max(abs(1 - alpha * mu), abs(1 - alpha * L))
        prev = math.inf
        for N in (1, 2, 3, 4):
            wc = worst_case("gd", N, mu, L, alpha, metric=metric)
            assert rel(wc.value, rho ** (2 * N)) <= REL, (alpha, N, wc.value, rho ** (2 * N))
            # a wrong claim (1% tighter) is contradicted by the computed worst case
            assert not rel(0.99 * rho ** (2 * N), wc.value) <= REL
            assert wc.value <= prev + 1e-9  # nonincreasing in N for gradient descent
            prev = wc.value


def test_nesterov_fgap_below_classical_bound():
    """f(x_N) - f* <= (1 - 1/sqrt(kappa))^N (f(x_0) - f* + mu/2 |x_0 - x*|^2) <= 2 (1 - 1/sqrt k)^N (f(x0)-f*)."""
    k = 10.0
    for N in (2, 4):
        wc = worst_case("nesterov", N, 1.0, k, metric="fgap")
        assert wc.value <= 2 * (1 - 1 / math.sqrt(k)) ** N


def test_status_not_optimal_gives_no_value(monkeypatch):
    """A solve cut short (max_iter=2) is never reported as a worst case."""
    p = pep_mod._pep(3, "dist")
    orig = p.prob.solve

    def short(*args, **kw):
        return orig(*args, **{**kw, "max_iter": 2})

    monkeypatch.setattr(p.prob, "solve", short)
    wc = worst_case("hb", 3, 1.0, 10.0)
    assert wc.status != "optimal" and wc.value is None and wc.dual_bound is None and not wc.certified


@pytest.mark.parametrize(
    "kwargs,word",
    [
        (dict(method="gd", N=0, mu=1.0, L=10.0), "N"),
        (dict(method="gd", N=2, mu=1.0, L=1.0), "L"),
        (dict(method="gd", N=2, mu=0.0, L=1.0), "mu"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, alpha=[0.1, 0.1, 0.1]), "alpha"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, alpha=0.1, beta=1.2), "beta"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, metric="grad"), "metric"),
        (dict(method="sgd", N=2, mu=1.0, L=10.0), "method"),
    ],
)
def test_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        worst_case(**kwargs)


def test_large_kappa_scaling_regression():
    """At kappa = 1000 CLARABEL on the raw scale can report 'optimal' with a wrong value (PEPit too:
    4.08 instead of 11.60 here); polyak's residual check and rescaling must give the right one."""
    k = 1000.0
    b = (math.sqrt(k) - 1) / (math.sqrt(k) + 1)
    wc = worst_case("nesterov", 5, 1.0, k, 1 / k, b)
    ref = pep_with_pepit("nesterov", 5, 1.0, k, 1 / k, b)  # normalised to L = 1
    assert rel(wc.value, ref) <= REL
    assert wc.value >= quadratic_worst("nesterov", 5, 1.0, k, 1 / k, b, "dist") * (1 - 1e-5)
    raw = pep_with_pepit("nesterov", 5, 1.0, k, 1 / k, b, normalize=False)
    assert wc.value > raw  # documents the raw-scale failure; if PEPit fixes it this fails loudly
