"""verify/quadratic.py: the worst spectral radius over [mu, L] of any linear method, against
independent computations (explicit 2x2 matrices, the closed forms of theory/, TMM's rate)."""

from __future__ import annotations

import numpy as np
import pytest

import polyak
import polyak.theory as th
from polyak.solvers import Schedule, make_method
from polyak.solvers.triple_momentum import robust_momentum_tuning, triple_momentum_tuning
from polyak.verify.quadratic import quadratic_rate, quadratic_worst_case


def _explicit_radius(T_of_lam, mu, L, n=20001):
    lam = np.linspace(mu, L, n)
    return max(np.abs(np.linalg.eigvals(T_of_lam(l))).max() for l in lam)


def test_hb_against_explicit_2x2_and_closed_form(rng):
    for _ in range(6):
        mu, L = 1.0, float(rng.uniform(2, 200))
        a, b = float(rng.uniform(0.1, 1.9)) / L, float(rng.uniform(0, 0.95))
        got = quadratic_rate(make_method("hb", alpha=a, beta=b), mu, L)
        ref = _explicit_radius(lambda l: np.array([[1 + b - a * l, -b], [1, 0]]), mu, L, 4001)
        closed = float(th.hb_rate(a, b, mu, L))
        assert got >= ref - 1e-9  # the refined maximum is at least the grid's
        assert got == pytest.approx(closed, rel=1e-7, abs=1e-7)


def test_nesterov_against_explicit_matrix(rng):
    for _ in range(6):
        mu, L = 1.0, float(rng.uniform(2, 200))
        a, b = float(rng.uniform(0.1, 1.3)) / L, float(rng.uniform(0, 0.95))
        got = quadratic_rate(make_method("nesterov", alpha=a, beta=b), mu, L)
        q = lambda l: 1 - a * l  # noqa: E731
        ref = _explicit_radius(lambda l: np.array([[(1 + b) * q(l), -b * q(l)], [1, 0]]), mu, L, 4001)
        assert got == pytest.approx(ref, rel=1e-6, abs=1e-7)
        assert got >= ref - 1e-9
    alpha, beta, rho = th.nesterov_quadratic_optimal(1.0, 100.0)
    # the double root at the optimum is defective: eigvals are accurate to ~sqrt(eps)
    assert quadratic_rate(make_method("nesterov", alpha=float(alpha), beta=float(beta)), 1.0, 100.0) == pytest.approx(float(rho), abs=1e-7)


def test_gd_closed_form_and_divergence():
    assert quadratic_rate(make_method("gd", alpha=2 / 11), 1.0, 10.0) == pytest.approx(9 / 11, rel=1e-14)
    # alpha L > 2: the rate exceeds 1 (diverges on the quadratic with lambda = L)
    assert quadratic_rate(make_method("gd", alpha=0.3), 1.0, 10.0) == pytest.approx(2.0, rel=1e-14)


@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1e4])
def test_tmm_rate_is_one_minus_inverse_sqrt_kappa(kappa):
    m = make_method("triple-momentum", **triple_momentum_tuning(1.0, kappa))
    assert quadratic_rate(m, 1.0, kappa) == pytest.approx(1 - 1 / np.sqrt(kappa), rel=1e-12)


def test_user_tmm_rate_and_rm_endpoint(forget_names):
    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
    def triple_momentum(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    forget_names.append("triple-momentum")
    for kappa in (5.0, 50.0, 500.0):
        t = triple_momentum_tuning(1.0, kappa)
        m = triple_momentum(alpha=t["alpha"], beta=t["beta"], gamma=t["gamma"])
        assert quadratic_rate(m, 1.0, kappa) == pytest.approx(1 - 1 / np.sqrt(kappa), rel=1e-12)
        # robust momentum at its fast end is TMM's (alpha, beta, gamma)
        r = robust_momentum_tuning(1.0, kappa, 1 - 1 / np.sqrt(kappa))
        for k in ("alpha", "beta", "gamma"):
            assert r[k] == pytest.approx(t[k], rel=1e-12)


def test_rm_quadratic_rate_never_exceeds_its_rho(rng):
    for _ in range(6):
        kappa = float(rng.uniform(2, 1000))
        rho = float(rng.uniform(1 - 1 / np.sqrt(kappa), 1 - 1 / kappa))
        m = make_method("robust-momentum", **robust_momentum_tuning(1.0, kappa, rho))
        assert quadratic_rate(m, 1.0, kappa) <= rho * (1 + 1e-9)


def test_worst_case_location_and_refinement():
    # GD's worst eigenvalue is an endpoint; refinement keeps it
    w = quadratic_worst_case(make_method("gd", alpha=0.05), 1.0, 10.0)
    assert w.lam == 1.0 and w.rate == pytest.approx(0.95, rel=1e-14)
    # an interior maximum between grid points is found by the refinement: a two-call method with
    # T(lam) = 1 + (p + r) lam + r s lam^2 = 1 + 0.8 lam - 0.2 lam^2, peak 1.8 at lam = 2
    @polyak.linear_method(p=1.0, r=-0.2, s=1.0, register=False)
    def concave(x, grad, *, p, r, s):
        u0 = grad(x)
        return x + p * u0 + r * grad(x + s * u0)

    w4 = quadratic_worst_case(concave(), 1.0, 3.0, grid=4)  # grid 1, 5/3, 7/3, 3: grid max 1.7556
    assert w4.rate == pytest.approx(1.8, rel=1e-12) and w4.lam == pytest.approx(2.0, abs=1e-5)


def test_bad_inputs():
    with pytest.raises(ValueError, match="0 < mu <= L"):
        quadratic_rate(make_method("hb"), 2.0, 1.0)
    with pytest.raises(ValueError, match="grid must be"):
        quadratic_rate(make_method("hb"), 1.0, 2.0, grid=2)
    with pytest.raises(ValueError, match="time-varying"):
        quadratic_rate(make_method("hb", beta=Schedule.sequence([0.1, 0.2])), 1.0, 2.0)
    with pytest.raises(ValueError, match="quadratic_rate: method adam is not linear"):
        quadratic_rate(make_method("adam"), 1.0, 2.0)
    with pytest.raises(ValueError, match="grid of shape"):
        quadratic_rate(make_method("hb", alpha=[0.1, 0.2]), 1.0, 2.0)
