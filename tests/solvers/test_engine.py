"""Engine behaviour: a known rate, divergence reporting, grids, per-problem tunings, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.verify.rates import fit_linear_rate


def test_heavy_ball_reproduces_the_quadratic_optimal_rate():
    """HB at alpha*, beta* on a random quadratic with kappa = 100: fitted rate within 1% of
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1), computed here from kappa, not from the engine."""
    mu, L = 1.0, 100.0
    p = polyak.make_problem("quadratic", mu=mu, L=L, dim=200, spectrum="uniform", basis="random", seed=1)
    alpha = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)) ** 2
    tr = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), p, 1200)
    # x* = 0, so the error has no floating-point floor: fit down to 1e-60 of the start, where the
    # upward bias of the k rho^k transient, about log(k2/k1)/(k2 - k1) in log-rate, is ~0.2%
    fit = fit_linear_rate(tr.dist[:, 0, 0], tr.k, floor=1e-60)
    rho = (np.sqrt(100.0) - 1) / (np.sqrt(100.0) + 1)
    assert fit.points > 300
    assert abs(fit.rate / rho - 1) < 0.01, (fit.rate, rho)
    # and the fit can fail: GD's rate is far from it
    gd = polyak.simulate(polyak.make_method("gd", alpha=2 / (L + mu)), p, 400)
    assert abs(fit_linear_rate(gd.dist[:, 0, 0], gd.k).rate / rho - 1) > 0.1


def test_grid_and_per_problem_tuning():
    L = np.array([10.0, 100.0, 1000.0])
    p = polyak.make_problem("quadratic", mu=1.0, L=L, dim=30)
    alpha = 4 / (np.sqrt(L) + 1) ** 2
    beta = ((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2
    tuned = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), p, 50, per_problem=True)
    outer = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), p, 50)
    assert tuned.dist.shape == (51, 3, 1)
    assert outer.dist.shape == (51, 3, 3, 1)
    for i in range(3):  # the diagonal of the outer product is the per-problem run
        np.testing.assert_array_equal(tuned.dist[:, i, 0], outer.dist[:, i, i, 0])
    with pytest.raises(ValueError, match="per_problem"):
        polyak.simulate(polyak.make_method("hb", alpha=[0.1, 0.2], beta=0.5), p, 5, per_problem=True)


def test_divergence_is_reported_not_crashed():
    p = polyak.make_problem("quadratic", mu=1.0, L=100.0, dim=10)
    # alpha L = 5 > 2 (1 + beta): outside the convergence region; alpha = 0.001 converges
    tr = polyak.simulate(polyak.make_method("hb", alpha=[0.001, 0.05], beta=0.5), p, 3000, record_every=7)
    assert tr.diverged.tolist() == [[[False], [True]]]
    k_div = tr.diverged_at[0, 1, 0]
    assert 0 < k_div <= 3000
    after = tr.k >= k_div
    assert np.all(np.isinf(tr.dist[after, 0, 1])) and not np.any(np.isnan(tr.dist))
    assert np.all(np.isfinite(tr.dist[~after, 0, 1]))
    assert np.all(np.isfinite(tr.x_final[0, 1]))  # frozen at a finite state
    assert np.all(np.isfinite(tr.dist[:, 0, 0]))
    fit = fit_linear_rate(tr.dist[:, 0, 1, 0], tr.k)  # fit only uses the finite prefix
    assert np.isfinite(fit.rate) and fit.rate > 1


def test_record_every_keeps_the_last_step():
    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=4)
    tr = polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 10, record_every=4)
    assert tr.k.tolist() == [0, 4, 8, 10]
    full = polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 10)
    np.testing.assert_array_equal(tr.dist[:, 0, 0], full.dist[[0, 4, 8, 10], 0, 0])


def test_trajectory_measures_agree_with_the_problem():
    p = polyak.make_problem("quadratic", mu=0.5, L=4.0, dim=6, basis="random", x_star="random", seed=2)
    tr = polyak.simulate(polyak.make_method("hb", alpha=0.2, beta=0.5), p, 5, keep_last=6)
    xs = tr.x_tail[:, 0, 0]  # (6, d)
    A = p.hessian[0]
    e = xs - p.x_star[0]
    np.testing.assert_allclose(tr.dist[:, 0, 0], np.linalg.norm(e, axis=1), rtol=1e-13)
    np.testing.assert_allclose(tr.fgap[:, 0, 0], 0.5 * np.einsum("ki,ij,kj->k", e, A, e), rtol=1e-12)
    np.testing.assert_allclose(tr.gnorm[:, 0, 0], np.linalg.norm(e @ A, axis=1), rtol=1e-12)


def test_quadratic_constants():
    for spectrum in ("linspace", "uniform", "loguniform", "mp"):
        p = polyak.make_problem("quadratic", mu=0.3, L=[7.0, 70.0], dim=40, spectrum=spectrum, basis="random", seed=4)
        eig = np.linalg.eigvalsh(p.hessian)
        np.testing.assert_allclose(eig[:, 0], p.mu, rtol=1e-12)
        np.testing.assert_allclose(eig[:, -1], p.L, rtol=1e-12)
        assert np.all(eig >= p.mu[:, None] * (1 - 1e-12)) and np.all(eig <= p.L[:, None] * (1 + 1e-12))
        assert np.max(np.abs(p.grad(p.x_star))) == 0.0
        np.testing.assert_array_equal(p.f(p.x_star), p.f_star)


BAD_METHODS = [
    ("hb", dict(alpha=-0.1), r"alpha \(step size\) must be in \[0, inf\)"),
    ("hb", dict(alpha=float("nan")), r"alpha \(step size\) must be in \[0, inf\)"),
    ("hb", dict(beta=1.0), r"beta \(momentum\) must be in \[0, 1\)"),
    ("hb", dict(beta=-0.2), r"beta \(momentum\) must be in \[0, 1\)"),
    ("hb", dict(alpha=[0.1, 0.2], beta=[0.1, 0.2, 0.3]), "do not broadcast"),
    ("hb", dict(gamma=0.1), "unknown hyperparameter"),
    ("sgdm", dict(momentum=1.5), r"momentum \(momentum factor\) must be in \[0, 1\)"),
    ("nesterov", dict(schedule="cosine"), "schedule"),
    ("nope", {}, "unknown method 'nope'"),
]


@pytest.mark.parametrize("name,hyper,match", BAD_METHODS)
def test_bad_method_input(name, hyper, match):
    with pytest.raises(ValueError, match=match):
        polyak.make_method(name, **hyper)


BAD_PROBLEMS = [
    (dict(mu=10.0, L=1.0), r"mu .* must be in \(0, L\]"),
    (dict(mu=-1.0, L=1.0), r"mu .* must be in \(0, L\]"),
    (dict(mu=1.0, L=float("nan")), "finite"),
    (dict(dim=0), "dim must be a positive integer"),
    (dict(spectrum="cauchy"), "spectrum must be one of"),
    (dict(basis="hadamard"), "basis must be one of"),
    (dict(colour="red"), "unknown parameter"),
]


@pytest.mark.parametrize("params,match", BAD_PROBLEMS)
def test_bad_problem_input(params, match):
    with pytest.raises(ValueError, match=match):
        polyak.make_problem("quadratic", **params)


def test_bad_simulate_input():
    m = polyak.make_method("gd", alpha=0.1)
    p = polyak.make_problem("quadratic", mu=1.0, L=2.0, dim=3)
    with pytest.raises(ValueError, match="unknown problem"):
        polyak.make_problem("rosenbrock")
    with pytest.raises(ValueError, match="backend must be one of numpy, torch"):
        polyak.simulate(m, p, 5, backend="jax")
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        polyak.simulate(m, p, 0)
    with pytest.raises(ValueError, match=r"x0 must be a number, shape \(3,\)"):
        polyak.simulate(m, p, 5, x0=np.ones(4))
    with pytest.raises(ValueError, match="x0 must be finite"):
        polyak.simulate(m, p, 5, x0=np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="seeds"):
        polyak.simulate(m, p, 5, seeds=[-1])
    with pytest.raises(ValueError, match="dtype"):
        polyak.simulate(m, p, 5, dtype="float16")
    with pytest.raises(ValueError, match="X must have shape"):
        p.grad(np.ones((1, 2, 4)))


def test_schedule_broadcasts_with_array_hyperparameters():
    """A parameter-free schedule (Nesterov's convex momentum) with a grid of step sizes."""
    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=4)
    alphas = np.array([0.02, 0.05, 0.1])
    grid = polyak.simulate(polyak.make_method("nesterov", alpha=alphas, schedule="fista"), p, 30)
    for j, a in enumerate(alphas):
        one = polyak.simulate(polyak.make_method("nesterov", alpha=float(a), schedule="fista"), p, 30)
        np.testing.assert_array_equal(grid.dist[:, 0, j], one.dist[:, 0])
    np.testing.assert_array_equal(grid.beta[:, 0, 0], grid.beta[:, 0, 2])
