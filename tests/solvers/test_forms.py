"""Every form conversion reproduces the heavy-ball trajectory to 1e-12, constant and time-varying."""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import Schedule, forms, harmonic

K = 60


@pytest.fixture(scope="module")
def quad():
    return polyak.make_problem("quadratic", mu=0.1, L=1.0, dim=8, basis="random", x_star="random", seed=5)


def iterates(quad, name, **hyper):
    tr = polyak.simulate(polyak.make_method(name, **hyper), quad, K, keep_last=K + 1)
    return tr.x_tail[:, 0, 0]


def hb_iterates(quad, alpha, beta):
    return iterates(quad, "hb", alpha=Schedule.sequence(alpha), beta=Schedule.sequence(beta))


@pytest.fixture(scope="module")
def varying():
    rng = np.random.default_rng(7)
    alpha = rng.uniform(0.3, 1.2, K)
    beta = rng.uniform(0.0, 0.9, K)
    return alpha, beta


def test_hb_constant_equals_hb_scheduled(quad):
    a = iterates(quad, "hb", alpha=0.5, beta=0.6)
    b = hb_iterates(quad, np.full(K, 0.5), np.full(K, 0.6))
    np.testing.assert_array_equal(a, b)


def test_spa_reverse_map_reproduces_hb_time_varying(quad, varying):
    alpha, beta = varying
    eta, c = forms.spa_from_hb(alpha, beta)
    ref = hb_iterates(quad, alpha, beta)
    ours = iterates(quad, "spa", eta=Schedule.sequence(eta), c=Schedule.sequence(c))
    assert np.linalg.norm(ref[-1] - ref[0]) > 1e-2
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_spa_forward_map_inverts_reverse_map(varying):
    alpha, beta = varying
    eta, c = forms.spa_from_hb(alpha, beta)
    a2, b2 = forms.hb_from_spa(eta, c)
    np.testing.assert_allclose(a2, alpha, rtol=1e-13)
    np.testing.assert_allclose(b2, beta, rtol=1e-12, atol=1e-15)


def test_spa_forward_c_recursion_is_unstable():
    """Why the reverse map runs backwards: the forward recursion amplifies a 1e-15 perturbation."""
    beta = np.full(200, 0.9)
    c_exact = np.full(201, 0.1)  # fixed point c = 1 - beta
    fwd = forms.spa_c_forward(beta, 0.1 + 1e-15)
    err = np.abs(fwd - c_exact)
    # linearised growth per step: beta/(1 - c)^2 = 0.9/0.81 > 1, so 100 steps amplify ~3.8e4 times
    growth = (0.9 / 0.81) ** 100
    assert err[100] > 0.5 * growth * err[0]
    _, c_back = forms.spa_from_hb(np.ones(200), beta, c_last=0.1 + 1e-15)
    assert np.max(np.abs(c_back - c_exact)) <= 1e-15 * 1.01


def test_spa_constant_and_primal_averaging(quad):
    # constant: c = 1 - beta, eta = alpha/(1 - beta)
    ref = iterates(quad, "hb", alpha=0.4, beta=0.7)
    ours = iterates(quad, "spa", eta=0.4 / 0.3, c=0.3)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    # primal averaging c_{k+1} = 1/(k+1): HB with beta_k = (k-1)/(k+1), alpha_k = eta/(k+1)
    k = np.arange(K)
    eta = 0.9
    ref = hb_iterates(quad, eta / (k + 1), np.maximum(k - 1, 0) / (k + 1))
    ours = iterates(quad, "spa", eta=eta, c=harmonic())
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    # and x_{k} is then the running mean of z_1..z_k: check x_K against an explicit z recursion
    z = quad.x0[0].copy()
    A, xs = quad.hessian[0], quad.x_star[0]
    zs, x = [], quad.x0[0].copy()
    for _ in range(K):
        z = z - eta * A @ (x - xs)
        zs.append(z)
        x = np.mean(zs, axis=0)
    np.testing.assert_allclose(ours[-1], x, rtol=0, atol=1e-12)


def test_ema_maps(quad, varying):
    alpha, beta = varying
    eta, b = forms.ema_from_hb(alpha, beta)
    ours = iterates(quad, "ema", eta=Schedule.sequence(eta), beta=Schedule.sequence(b))
    np.testing.assert_allclose(ours, hb_iterates(quad, alpha, beta), rtol=0, atol=1e-12)
    a2, b2 = forms.hb_from_ema(eta, b)
    np.testing.assert_allclose(a2, alpha, rtol=1e-13)
    np.testing.assert_allclose(b2[1:], beta[1:], rtol=1e-12)
    # constant: alpha = eta (1 - beta)
    np.testing.assert_allclose(iterates(quad, "ema", eta=1.0, beta=0.6), iterates(quad, "hb", alpha=0.4, beta=0.6),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("dampening", [0.0, 0.4])
def test_torch_sgd_maps(quad, dampening):
    rng = np.random.default_rng(3)
    lr = 0.8 * (1 - 0.5 * np.arange(K) / K)  # decreasing, so beta_k = m_k lr_k/lr_{k-1} < 1
    m = rng.uniform(0.0, 0.9, K)
    alpha, beta = forms.hb_from_sgdm(lr, m, dampening)
    ours = iterates(quad, "sgdm", lr=Schedule.sequence(lr), momentum=Schedule.sequence(m), dampening=dampening)
    np.testing.assert_allclose(ours, hb_iterates(quad, alpha, beta), rtol=0, atol=1e-12)


def test_sgdm_from_hb(quad):
    k = np.arange(K)
    alpha = 0.5 * np.ones(K)
    beta = 0.8 * (1 - k / K)
    lr, m = forms.sgdm_from_hb(alpha, beta)
    ours = iterates(quad, "sgdm", lr=Schedule.sequence(lr), momentum=Schedule.sequence(m))
    np.testing.assert_allclose(ours, hb_iterates(quad, alpha, beta), rtol=0, atol=1e-12)


def test_form_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        forms.spa_from_hb([0.1, 0.1], [0.5, 1.0])
    with pytest.raises(ValueError, match="c must be in"):
        forms.hb_from_spa([0.1], [0.5, 0.0])
    with pytest.raises(ValueError, match="finite"):
        forms.ema_from_hb([np.nan], [0.5])
    with pytest.raises(ValueError, match="momentum"):
        forms.sgdm_from_hb([1.0, 0.1], [0.5, 0.5])  # would need momentum 5
