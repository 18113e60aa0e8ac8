"""Demon, adaptive heavy ball, Adaptive Memory and the SPA map, each against an independent
computation: a simulation, a convex solver, or the recursion it claims to reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from polyak.theory import (
    adaptive_hb_beta,
    am_beta,
    demon_beta_closed_form,
    get,
    hb_to_spa,
    spa_backward_step,
    spa_to_hb,
)


# -- Demon ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta_init", [0.5, 0.9, 0.99])
def test_demon_contribution_decays_linearly_and_beta_is_monotone_concave(beta_init: float) -> None:
    T = 1000
    t = np.arange(T + 1)
    b = demon_beta_closed_form(t, T, beta_init)
    # the defining equation, checked on the numbers: beta_t/(1 - beta_t) is linear in t
    contrib = b / (1 - b)
    assert np.allclose(contrib, (1 - t / T) * beta_init / (1 - beta_init), rtol=1e-12, atol=1e-12)
    # the total contribution of a gradient, summed directly, is beta/(1 - beta)
    assert np.isclose((b[T // 3] ** np.arange(1, 20000)).sum(), contrib[T // 3], rtol=1e-10)
    assert b[0] == pytest.approx(beta_init) and b[-1] == 0.0
    assert np.all(np.diff(b) < 0) and np.all(np.diff(b, 2) < 0)
    eff = get("demon-beta").numeric("effective_step_factor")(t, T, beta_init)
    assert np.allclose(np.diff(eff, 2), 0, atol=1e-12) and np.allclose(eff, 1 / (1 - b))
    # clamped outside [0, T]; the raw formula has a pole at T/beta_init
    assert demon_beta_closed_form(5 * T, T, beta_init) == 0.0
    assert get("demon-beta").evaluate(t=0, T=T, beta_init=beta_init)["pole"] == pytest.approx(T / beta_init)


def test_demon_sgdm_is_heavy_ball() -> None:
    rng = np.random.default_rng(0)
    A = np.diag([1.0, 5.0, 20.0])
    T, eta, b0 = 60, 0.02, 0.9
    betas = demon_beta_closed_form(np.arange(T), T, b0)
    th, v = rng.normal(size=3), np.zeros(3)
    x_prev, x = th.copy(), th.copy()
    for bt in betas:
        g = A @ th
        th, v = th - eta * g + bt * v, bt * v - eta * g
        x_prev, x = x, x - eta * (A @ x) + bt * (x - x_prev)
    assert np.allclose(th, x, rtol=1e-13, atol=1e-15)


# -- adaptive heavy ball --------------------------------------------------------------------------
def test_adaptive_hb_beta_stays_within_its_quadratic_bounds() -> None:
    """Simulate adaptive HB on random quadratics; every secant estimate h_k lies in [mu, L] and every
    unclipped beta_k between the derived bounds (alpha <= 1/L)."""
    rng = np.random.default_rng(5)
    d = get("adaptive-hb-beta")
    for trial in range(5):
        mu, L = 0.1 * (trial + 1), 10.0 * (trial + 1)
        Qm = np.linalg.qr(rng.normal(size=(8, 8)))[0]
        A = Qm @ np.diag(np.linspace(mu, L, 8)) @ Qm.T
        alpha = 0.7 / L
        x_prev, x = rng.normal(size=8), rng.normal(size=8)
        g_prev, h_max = A @ x_prev, 0.0
        lo, hi = d.evaluate(alpha=alpha, mu=mu, L=L)["beta_lower"], d.evaluate(alpha=alpha, mu=mu, L=L)["beta_upper"]
        for _ in range(60):
            g = A @ x
            h = np.linalg.norm(g - g_prev) / np.linalg.norm(x - x_prev)
            assert mu * (1 - 1e-9) <= h <= L * (1 + 1e-9)
            h_max = max(h_max, h)
            raw = d.numeric("beta_a1")(alpha=alpha, h=h)
            assert lo - 1e-12 <= raw <= hi + 1e-12
            beta = adaptive_hb_beta(alpha, h)
            assert 0 <= beta <= 1 - 1e-2
            x_prev, x, g_prev = x, x - alpha * g + beta * (x - x_prev), g
            if np.linalg.norm(x - x_prev) < 1e-12:
                break
        # the check can fail: a tighter claim h_k <= L/2 is violated by the estimates
        assert h_max > L / 2


def test_adaptive_hb_a1_is_the_best_beta_at_the_curvature_and_clips() -> None:
    from polyak.theory import hb_best_beta

    alpha, h = 0.01, np.array([1.0, 25.0, 100.0, 300.0])
    assert np.allclose(adaptive_hb_beta(alpha, h), np.clip(hb_best_beta(alpha, h, h), 0, 0.99))
    assert adaptive_hb_beta(1.0, 1e-8) == pytest.approx(0.99)
    with pytest.raises(ValueError, match="alpha"):
        adaptive_hb_beta(-1.0, 1.0)


# -- Adaptive Memory ------------------------------------------------------------------------------
def test_am_beta_solves_the_two_plane_model() -> None:
    """Solve the primal model with cvxpy; its minimiser must be -eta d_{t+1} with the derived beta."""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(11)
    for case in range(6):
        n = 5
        g, d = rng.normal(size=n), rng.normal(size=n) * (0.5 + case / 3)
        eta, lam = 0.3, 0.1
        Delta = float(rng.normal()) * 0.5
        u = cp.Variable(n)
        obj = (cp.maximum(g @ u, Delta + d @ u) + cp.sum_squares(u) / (2 * eta)
               + lam / (2 * eta) * cp.sum_squares(u + eta * d))
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
        beta = am_beta(g @ g, g @ d, d @ d, lam=lam, beta_max=1.0, Delta=Delta, eta=eta)
        d_next = (beta + lam) / (1 + lam) * d + (1 - beta) / (1 + lam) * g
        assert np.allclose(u.value, -eta * d_next, atol=1e-6), (case, beta)
        # a wrong coefficient (no lambda in the numerator) gives a different step
        if 0 < beta < 1:
            wrong = np.clip((Delta / eta - (g @ d - g @ g)) / ((g - d) @ (g - d)), 0, 1)
            d_wrong = (wrong + lam) / (1 + lam) * d + (1 - wrong) / (1 + lam) * g
            assert not np.allclose(u.value, -eta * d_wrong, atol=1e-6)


def test_am_beta_simplified_and_degenerate() -> None:
    rng = np.random.default_rng(2)
    g, d = rng.normal(size=(2, 50, 4))
    gg, gd, dd = (g * g).sum(1), (g * d).sum(1), (d * d).sum(1)
    general = am_beta(gg, gd, dd, lam=0.1, beta_max=0.9, Delta=0.05 * gd, eta=0.05)
    assert np.allclose(am_beta(gg, gd, dd, lam=0.1, beta_max=0.9), general)
    assert am_beta(2.0, 2.0, 2.0) == 0.9  # g = d: the slope (1 + lam)<g, d> > 0 takes beta_max
    with pytest.raises(ValueError, match="lam"):
        am_beta(1.0, 0.0, 1.0, lam=-0.5)


# -- SPA ------------------------------------------------------------------------------------------
def test_spa_and_heavy_ball_produce_the_same_iterates() -> None:
    """Run SPA with a schedule, map it with spa_to_hb, and run heavy ball: same x_k. Then recover the
    SPA schedule from the HB one by the backward recursion."""
    rng = np.random.default_rng(4)
    A = np.diag([0.5, 2.0, 7.0])
    K = 40
    c = np.concatenate([[1.0], 0.1 + 0.8 * rng.uniform(size=K)])  # c_0 .. c_K
    eta = 0.05 + 0.1 * rng.uniform(size=K)
    x0 = rng.normal(size=3)
    z, x, xs = x0.copy(), x0.copy(), [x0.copy()]
    for k in range(K):
        z = z - eta[k] * (A @ x)
        x = (1 - c[k + 1]) * x + c[k + 1] * z
        xs.append(x.copy())
    alpha, beta = spa_to_hb(eta, c[:-1], c[1:])
    xp, xh, hs = x0.copy(), x0.copy(), [x0.copy()]
    for k in range(K):
        xp, xh = xh, xh - alpha[k] * (A @ xh) + beta[k] * (xh - xp)
        hs.append(xh.copy())
    assert np.allclose(xs, hs, rtol=1e-12, atol=1e-14)
    # the check can fail: the constant-parameter map beta = 1 - c_{k+1} applied step by step is wrong here
    xp, xw = x0.copy(), x0.copy()
    for k in range(K):
        xp, xw = xw, xw - alpha[k] * (A @ xw) + (1 - c[k + 1]) * (xw - xp)
    assert not np.allclose(xs[-1], xw, rtol=1e-6)
    # backward recursion from c_K recovers every c_k and eta_k
    ck1, cs, etas = c[-1], [c[-1]], []
    for k in reversed(range(K)):
        e, ck1 = spa_backward_step(alpha[k], beta[k], ck1)
        cs.append(ck1), etas.append(e)
    assert np.allclose(cs[::-1], c, rtol=1e-10) and np.allclose(etas[::-1], eta, rtol=1e-10)
    e, cc = hb_to_spa(0.1, 0.9)
    assert np.isclose(e, 1.0) and np.isclose(cc, 0.1)


def test_primal_averaging_map() -> None:
    k = np.arange(1, 50)
    ev = get("spa-primal-averaging").numeric("beta")(k)
    assert np.allclose(ev, spa_to_hb(1.0, 1 / k, 1 / (k + 1))[1])
    assert np.allclose(ev, (k - 1) / (k + 1))
