"""Adaptive Memory (topollai2025adaptive): the closed-form beta_t against the two-plane proximal
subproblem solved by cvxpy (plain and preconditioned metric), and its behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_rule

from polyak.solvers import get_backend, make_method, make_problem, simulate
from polyak.solvers.adaptive_memory import am_beta, am_beta_from_sums, am_direction, am_sums

cp = pytest.importorskip("cvxpy")
BE = get_backend("numpy")
N_INSTANCES, DIM = 200, 5


def scalar(a) -> float:
    return float(np.squeeze(a))


def instances(seed: int, precond: bool):
    rng = np.random.default_rng(seed)
    for _ in range(N_INSTANCES):
        g, d = rng.standard_normal(DIM), rng.standard_normal(DIM)
        eta = float(np.exp(rng.uniform(np.log(1e-2), np.log(1.0))))
        lam = float(rng.uniform(0.0, 1.0))
        delta = float(eta * 3.0 * rng.standard_normal())  # spans beta < 0, inside, > beta_max
        P = np.exp(rng.uniform(-1.0, 1.0, DIM)) if precond else np.ones(DIM)
        yield g, d, delta, eta, lam, P


def primal_u(g, d, delta, eta, lam, P, beta_max=None):
    """Solve the two-plane proximal subproblem in the metric P with cvxpy (CLARABEL):
    min_u max(<g,u>, Delta + <d,u>) + <u, P u>/(2 eta) + (lam/(2 eta)) <u + eta P^-1 d, P (u + eta P^-1 d)>.
    With beta_max, the max over plane weights in [0, beta_max]: <g,u> + beta_max pos(Delta + <d - g, u>)."""
    u = cp.Variable(DIM)
    sp = np.sqrt(P)
    quad = cp.sum_squares(cp.multiply(sp, u)) / (2 * eta) + lam / (2 * eta) * cp.sum_squares(cp.multiply(sp, u) + eta * d / sp)
    if beta_max is None:
        t = cp.Variable()
        cons = [t >= g @ u, t >= delta + d @ u]
        prob = cp.Problem(cp.Minimize(t + quad), cons)
        prob.solve(solver=cp.CLARABEL)
        return u.value, float(cons[1].dual_value)
    prob = cp.Problem(cp.Minimize(g @ u + beta_max * cp.pos(delta + (d - g) @ u) + quad))
    prob.solve(solver=cp.CLARABEL)
    return u.value, None


def beta_from_u(u, g, d, eta, lam, P):
    """u = -eta P^-1 d_{t+1}, d_{t+1} = d + ((1 - beta)/(1 + lam)) (g - d): solve for beta (least squares)."""
    dn = -P * u / eta
    s = (dn - d) @ (g - d) / ((g - d) @ (g - d))
    return 1.0 - (1.0 + lam) * s


# cvxpy/CLARABEL solves to ~1e-8 relative; beta is recovered through ||g - d||^2 ~ 10 and eta in
# [1e-2, 1] -> an absolute tolerance of 1e-5 on beta (observed errors are ~1e-7)
TOL = 1e-5


@pytest.mark.parametrize("precond", [False, True], ids=["plain", "preconditioned"])
def test_closed_form_beta_equals_the_proximal_subproblem_solved_by_cvxpy(precond):
    beta_max = 0.9
    regimes = {"below": 0, "inside": 0, "above": 0}
    for g, d, delta, eta, lam, P in instances(11 if precond else 12, precond):
        metric = P if precond else None
        ee, eg, ed, _ = am_sums(g, d, BE, metric)
        _, raw = am_beta_from_sums(ee, eg, ed, delta / eta, lam, beta_max, BE)
        raw = scalar(raw)
        regimes["below" if raw < 0 else "above" if raw > beta_max else "inside"] += 1
        # unclipped model: the memory plane's optimal weight is the dual of its constraint, in [0, 1]
        u, dual = primal_u(g, d, delta, eta, lam, P)
        assert dual == pytest.approx(np.clip(raw, 0, 1), abs=TOL)
        assert beta_from_u(u, g, d, eta, lam, P) == pytest.approx(np.clip(raw, 0, 1), abs=TOL)
        # weight capped at beta_max: the clipped closed form
        u, _ = primal_u(g, d, delta, eta, lam, P, beta_max)
        closed = scalar(am_beta(g, d, delta, eta, lam, beta_max, BE, metric))
        assert beta_from_u(u, g, d, eta, lam, P) == pytest.approx(closed, abs=TOL)
        assert 0.0 <= closed <= beta_max
        # and the direction it implies is the paper's update
        dn = am_direction(d, g, closed, lam)
        np.testing.assert_allclose(-P * u / eta, dn, atol=10 * TOL)
    assert min(regimes.values()) >= 20, regimes


def test_inner_delta_gives_the_papers_simplified_formula():
    rng = np.random.default_rng(3)
    for _ in range(200):
        g, d = rng.standard_normal(7), rng.standard_normal(7)
        eta, lam = rng.uniform(0.01, 1), rng.uniform(0, 1)
        simple = (g @ g + 2 * lam * (g @ d) - lam * (d @ d)) / ((g - d) @ (g - d))
        assert scalar(am_beta(g, d, eta * (g @ d), eta, lam, 0.9, BE)) == pytest.approx(np.clip(simple, 0, 0.9), rel=1e-12, abs=1e-15)


def test_next_direction_is_a_convex_combination_of_memory_and_gradient():
    rng = np.random.default_rng(4)
    for _ in range(200):
        g, d = rng.standard_normal(6), rng.standard_normal(6)
        eta, lam = rng.uniform(0.01, 1), rng.uniform(0, 2)
        beta = scalar(am_beta(g, d, eta * rng.standard_normal(), eta, lam, 0.9, BE))
        assert 0 <= beta <= 0.9
        dn = am_direction(d, g, beta, lam)
        s = (dn - d) @ (g - d) / ((g - d) @ (g - d))  # dn = d + s (g - d) with s in [0, 1]
        assert -1e-12 <= s <= 1 + 1e-12
        np.testing.assert_allclose(dn, d + s * (g - d), atol=1e-12)


def test_degenerate_memory_equal_to_gradient_has_no_0_over_0():
    g = np.array([1.0, -2.0, 0.5])
    for delta, expected in ((0.3, 0.9), (0.0, 0.9), (-0.3, 0.0)):
        b = scalar(am_beta(g, g.copy(), delta, 0.1, 0.1, 0.9, BE))
        assert b == expected
        np.testing.assert_array_equal(am_direction(g, g, b, 0.1), g)


def _am_stream(kind: str, noise: float, steps: int = 200):
    rng = np.random.default_rng(5)
    c = rng.standard_normal(20)
    d, betas = None, []
    for t in range(steps):
        g = (c if kind == "consistent" or t % 2 == 0 else -c) + noise * rng.standard_normal(20)
        d = g if d is None else d
        b = scalar(am_beta(g, d, 0.1 * (g @ d), 0.1, 0.1, 0.9, BE))
        d = am_direction(d, g, b, 0.1)
        betas.append(b)
    return np.array(betas), np.linalg.norm(d) / np.linalg.norm(c)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_am_keeps_beta_max_on_consistent_gradients_cuts_it_at_a_reversal_then_recovers_as_memory_averages_out(noise):
    # measured (eta = 0.1, lambda = 0.1, dimension 20): consistent g_t = c + noise -> beta_t = 0.9
    # throughout; alternating g_t = (-1)^t c + noise -> beta_1 ~ 0.2 at the first reversal, then
    # beta climbs back towards beta_max while the memory shrinks (|d|/|c| ~ 0.05-0.09): the cut is
    # transient, the steady state averages the oscillation out with a high beta
    cons, _ = _am_stream("consistent", noise)
    osc, d_ratio = _am_stream("oscillating", noise)
    assert cons.min() > 0.85 and cons.mean() > 0.89
    assert osc[1] < 0.25
    assert osc[1] < cons[1] - 0.6
    assert osc[100:].mean() > 0.85 and d_ratio < 0.1


def test_am_sgd_converges_beyond_the_gradient_descent_step_limit():
    # measured: on kappa = 100 (L = 100) with lr = 2.5/L > 2/L, gradient descent diverges while
    # AM-SGD converges (beta_t is cut to ~0.1-0.3 while the iterates oscillate, then recovers)
    prob = make_problem("quadratic", mu=1.0, L=100.0, dim=20, basis="random", seed=1)
    am = simulate(make_method("am-sgd", lr=0.025), prob, 300)
    gd = simulate(make_method("gd", alpha=0.025), prob, 300)
    assert not am.diverged.any() and am.dist[-1].max() < 1e-5
    assert gd.diverged.all() or gd.dist[-1].min() > 1e3


def test_loss_gap_delta_is_the_exact_quantity_inner_delta_approximates():
    # [derived] x_{t-1} = x_t + eta d_t, so on a quadratic with spectrum in [mu, L]
    # f(x_{t-1}) - f(x_t) - eta <g_t, d_t> lies in [mu/2, L/2] * eta^2 ||d_t||^2
    mu, L, eta = 1.0, 50.0, 0.01
    prob = make_problem("quadratic", mu=mu, L=L, dim=10, basis="random", seed=2)
    states = run_rule(make_method("am-sgd", lr=eta, delta="loss-gap"), prob, 60)
    for prev, cur in zip(states[1:-1], states[2:]):
        x_prev, x = prev.x, cur.x
        gap = float(prob.f(x_prev[:, 0])[0] - prob.f(x[:, 0])[0])
        d = cur.d[0, 0]
        g = prob.grad(x[:, 0])[0]
        rem = gap - eta * (g @ d)
        q = eta ** 2 * (d @ d)
        assert mu / 2 * q * (1 - 1e-6) - 1e-15 <= rem <= L / 2 * q * (1 + 1e-6) + 1e-15


def test_delta_options_change_beta_and_the_recorded_beta_is_heavy_ball_form():
    prob = make_problem("quadratic", mu=1.0, L=50.0, dim=10, basis="random", seed=2)
    trs = {k: simulate(make_method("am-sgd", lr=0.01, delta=k), prob, 100) for k in ("inner", "loss-gap", "zero")}
    assert np.abs(trs["inner"].beta - trs["zero"].beta).max() > 1e-3
    assert np.abs(trs["inner"].beta - trs["loss-gap"].beta).max() > 1e-6
    lam = 0.1
    for tr in trs.values():  # beta^HB = (beta_t + lam)/(1 + lam) with beta_t in [0, 0.9]
        assert np.all(tr.beta[1:] >= lam / (1 + lam) - 1e-15) and np.all(tr.beta[1:] <= (0.9 + lam) / (1 + lam) + 1e-15)


@pytest.mark.parametrize(
    "name,hyper,word",
    [
        ("am-sgd", dict(lam=-0.1), "lam"),
        ("am-sgd", dict(beta_max=1.0), "beta_max"),
        ("am-sgd", dict(lr=0.0, delta="loss-gap"), "lr"),
        ("am-sgd", dict(lr=-1.0), "lr"),
        ("am-sgd", dict(delta="exact"), "delta"),
        ("am-adamw", dict(beta_max=-0.1), "beta_max"),
        ("am-adamw", dict(weight_decay=-1.0), "weight_decay"),
    ],
)
def test_invalid_hyperparameters_are_rejected_naming_the_parameter(name, hyper, word):
    with pytest.raises(ValueError, match=word):
        make_method(name, **hyper)
