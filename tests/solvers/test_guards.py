"""Guards that a weakened version would slip past, each checked against an independent computation.

* the adaptive heavy ball's clip at 1 - delta: a run whose unclipped secant momentum is above
  1 - delta at every step, against a hand-written loop of variant A1 (``tests/mutations.py`` seeds
  the fault "clip at 1");
* the EMA form's recorded heavy-ball beta under a time-varying eta: the recorded betas, fed to
  plain heavy ball with alpha_k = eta_k (1 - b_k), must reproduce the EMA iterates;
* a quadratic given explicit eigenvalues reports mu from the smallest eigenvalue of its Hessian
  (computed here by ``numpy.linalg.eigvalsh``), and L from the largest.
"""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import Schedule


def _hand_a1(A, x0, alpha, delta, steps):
    """Variant A1 written plainly: beta_k = min((1 - sqrt(alpha ||dg||/||dx||))^2, 1 - delta), beta_0 = 0."""
    x_prev, x = x0.copy(), x0.copy()
    g_prev = None
    xs, betas, raws = [x.copy()], [], []
    for k in range(steps):
        g = A @ x
        if k == 0:
            beta, raw = 0.0, 0.0
        else:
            h = np.linalg.norm(g - g_prev) / np.linalg.norm(x - x_prev)
            raw = (1.0 - np.sqrt(alpha * h)) ** 2
            beta = min(raw, 1.0 - delta)
        x_prev, x, g_prev = x, x - alpha * g + beta * (x - x_prev), g
        xs.append(x.copy())
        betas.append(beta)
        raws.append(raw)
    return np.array(xs), np.array(betas), np.array(raws)


def test_adaptive_hb_clip_at_one_minus_delta_is_reached_and_applied():
    delta, steps = 1e-2, 40
    prob = polyak.make_problem("quadratic", mu=1.0, L=4.0, dim=6, basis="random", seed=3)
    alpha = 1e-6  # alpha h <= 4e-6: the unclipped (1 - sqrt(alpha h))^2 >= 0.996 > 1 - delta at every step
    tr = polyak.simulate(polyak.make_method("adaptive-hb", lr=alpha, delta=delta), prob, steps, keep_last=steps + 1)
    xs, betas, raws = _hand_a1(prob.hessian[0], prob.x0[0], alpha, delta, steps)
    assert np.all(raws[1:] > 1.0 - delta + 5e-3)  # the clip is reached, with room
    np.testing.assert_allclose(tr.beta[2:, 0, 0], betas[1:], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(tr.beta[2:, 0, 0], 1.0 - delta)
    np.testing.assert_allclose(tr.x_tail[:, 0, 0], xs, rtol=1e-12, atol=1e-14)


def test_ema_recorded_beta_reproduces_the_iterates_as_heavy_ball():
    K = 50
    rng = np.random.default_rng(11)
    eta = rng.uniform(0.2, 1.5, K)  # a time-varying step: the HB beta is b_k eta_k / eta_{k-1}, not b_k
    b = rng.uniform(0.1, 0.9, K)
    prob = polyak.make_problem("quadratic", mu=0.1, L=1.0, dim=8, basis="random", x_star="random", seed=5)
    ema = polyak.simulate(polyak.make_method("ema", eta=Schedule.sequence(eta), beta=Schedule.sequence(b)), prob, K,
                          keep_last=K + 1)
    recorded = ema.beta[1:, 0, 0]  # record k + 1: the step k that produced x_{k+1}
    # plain heavy ball with alpha_k = eta_k (1 - b_k) and the recorded beta_k, written here
    A, x_star = prob.hessian[0], prob.x_star[0]
    x_prev = x = prob.x0[0].copy()
    xs = [x.copy()]
    for k in range(K):
        x_prev, x = x, x - eta[k] * (1 - b[k]) * (A @ (x - x_star)) + recorded[k] * (x - x_prev)
        xs.append(x.copy())
    np.testing.assert_allclose(ema.x_tail[:, 0, 0], np.array(xs), rtol=0, atol=1e-12)
    assert np.max(np.abs(recorded[1:] - b[1:])) > 0.1  # the case where recorded beta != b_k is exercised


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_explicit_eigenvalues_report_mu_and_L_from_the_extremes(seed):
    rng = np.random.default_rng(seed)
    eig = rng.uniform(0.5, 50.0, 7)
    rng.shuffle(eig)
    prob = polyak.make_problem("quadratic", eigenvalues=eig, basis="random", seed=seed)
    w = np.linalg.eigvalsh(prob.hessian[0])
    assert prob.mu[0] == pytest.approx(w[0], rel=1e-12)
    assert prob.L[0] == pytest.approx(w[-1], rel=1e-12)
    assert prob.mu[0] < np.sort(eig)[1]  # the smallest, not the second smallest


@pytest.mark.parametrize("kind", ["quadratic", "logistic", "least-squares"])
def test_a_noise_level_without_a_noise_model_is_refused(kind):
    # sigma (or batch_size) with noise=None used to be accepted and ignored: a noise-free run
    with pytest.raises(ValueError, match=r"sigma=0.1 needs a noise model: pass noise="):
        polyak.make_problem(kind, sigma=0.1)
    with pytest.raises(ValueError, match=r"batch_size=4 needs a noise model"):
        polyak.make_problem(kind, batch_size=4)
    assert polyak.make_problem(kind, sigma=0.0).name == kind  # the default level is no noise
    noisy = polyak.make_problem(kind, noise="additive", sigma=0.1)
    assert noisy.name != "" and noisy is not None
