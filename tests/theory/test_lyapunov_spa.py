"""The SPA Lyapunov bound along simulated heavy-ball trajectories on a non-convex L-smooth function.

f(x) = sum_i (y_i^2/2 + 2 cos y_i), y = Q x with Q a fixed rotation: f'' = 1 - 2 cos y in [-1, 3],
so f is 3-smooth and not convex. Heavy ball is simulated here in plain numpy (the engine is tested
on its own); Lambda_k is the derivation's numeric function. The one-step inequality
    Lambda_{k+1} <= Lambda_k - (alpha/2) ||grad f(x_k)||^2 + (alpha/2) sigma^2
must hold at every step when L eta <= 2 - c, and fail for some step size above it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from polyak.theory import get, spa_lyapunov, spa_to_hb

L, DIM = 3.0, 6
Q = np.linalg.qr(np.random.default_rng(0).normal(size=(DIM, DIM)))[0]
F_STAR = DIM * minimize_scalar(lambda y: y * y / 2 + 2 * np.cos(y), bounds=(0, 3), method="bounded",
                               options={"xatol": 1e-12}).fun


def f(x: np.ndarray) -> np.ndarray:
    y = x @ Q.T
    return (y**2 / 2 + 2 * np.cos(y)).sum(-1)


def grad(x: np.ndarray) -> np.ndarray:
    y = x @ Q.T
    return (y - 2 * np.sin(y)) @ Q


def run_hb(alpha: float, beta: float, x0: np.ndarray, steps: int, sigma: float = 0.0, seed: int = 0):
    """Heavy ball from x_{-1} = x_0; returns per-step f, ||x_k - x_{k-1}||^2, ||grad f(x_k)||^2 (k = 0..steps)."""
    rng = np.random.default_rng(seed)
    x_prev, x = x0.copy(), x0.copy()
    fs, ms, gs = [], [], []
    for _ in range(steps + 1):
        g = grad(x)
        fs.append(f(x)), ms.append(((x - x_prev) ** 2).sum(-1)), gs.append((g**2).sum(-1))
        noise = sigma / np.sqrt(DIM) * rng.standard_normal(x.shape)  # E||noise||^2 = sigma^2
        x_prev, x = x, x - alpha * (g + noise) + beta * (x - x_prev)
    return np.array(fs), np.array(ms), np.array(gs)


def one_step_excess(alpha, beta, x0, steps, sigma=0.0, seed=0):
    """Lambda_{k+1} - [Lambda_k - (alpha/2)||grad f(x_k)||^2 + (alpha/2) sigma^2], per step (and per run)."""
    fs, ms, gs = run_hb(alpha, beta, x0, steps, sigma, seed)
    lam = spa_lyapunov(fs, ms, alpha, L)
    return lam[1:] - (lam[:-1] - alpha / 2 * gs[:-1] + alpha / 2 * sigma**2), fs, gs


STARTS = 3.0 * np.random.default_rng(1).standard_normal((8, DIM))


@pytest.mark.parametrize("c", [1.0, 0.5, 0.2, 0.05])
@pytest.mark.parametrize("frac", [0.5, 1.0])
def test_decrease_holds_under_the_condition(c: float, frac: float) -> None:
    eta = frac * get("spa-lyapunov").evaluate(c=c, L=L)["eta_max"]  # L eta <= 2 - c
    alpha, beta = spa_to_hb(eta, c, c)
    assert alpha <= (1 - beta**2) / L * (1 + 1e-12)
    excess, fs, gs = one_step_excess(alpha, beta, STARTS, 300)
    scale = 1 + np.abs(fs[:-1])
    assert excess.max() <= 1e-12 * scale.max(), excess.max()
    # the telescoped bound, per start
    K = 300
    mean_grad = gs[:K].mean(axis=0)
    bound = get("spa-lyapunov").numeric("telescoped_bound")(gap0=fs[0] - F_STAR, alpha=alpha, K=K, sigma=0.0)
    assert np.all(mean_grad <= bound)


def test_decrease_fails_for_some_step_above_the_condition() -> None:
    beta = 0.9
    alpha_max = get("spa-lyapunov").evaluate(beta=beta, L=L)["alpha_max"]
    worst = max(one_step_excess(m * alpha_max, beta, STARTS, 200)[0].max() for m in (1.5, 3.0, 5.0))
    assert worst > 1e-6
    # and at the condition itself it holds on the same starts
    assert one_step_excess(alpha_max, beta, STARTS, 200)[0].max() <= 1e-12 * 100


def test_expected_decrease_holds_with_noise_and_needs_the_noise_term() -> None:
    """Average over 4000 seeded runs: the mean excess is <= 4 standard errors at every step; dropping
    the (alpha/2) sigma^2 term makes it fail (so the check can fail)."""
    c, sigma, runs, steps = 0.3, 1.0, 4000, 40
    eta = get("spa-lyapunov").evaluate(c=c, L=L)["eta_max"]
    alpha, beta = spa_to_hb(eta, c, c)
    # start at a minimiser of f: y_i = y* on every axis, so the noise drives the dynamics
    y_star = minimize_scalar(lambda y: y * y / 2 + 2 * np.cos(y), bounds=(0, 3), method="bounded",
                             options={"xatol": 1e-12}).x
    x0 = np.tile(Q.T @ np.full(DIM, y_star), (runs, 1))
    excess, _, _ = one_step_excess(alpha, beta, x0, steps, sigma=sigma, seed=42)
    mean, se = excess.mean(axis=1), excess.std(axis=1, ddof=1) / np.sqrt(runs)
    assert np.all(mean <= 4 * se), (mean - 4 * se).max()
    wrong = mean + alpha / 2 * sigma**2  # the claim without the noise term
    assert np.any(wrong > 4 * se)
