"""Closed-form rates against the spectral radius of the iteration matrices, maximised numerically
over the spectrum [mu, L], for kappa from 2 to 1e6; optimality by brute force; the convergence region;
the GFJ rate as a one-sided bound. Every check is also shown to reject a wrong closed form.

Tolerance. At the tuned points the extreme eigenvalues carry double roots (heavy ball at mu and L,
Nesterov at mu, best beta at one end). A double root moves by O(sqrt(delta)) under a perturbation
delta of the matrix, and numpy's eigvals is backward stable with delta ~ eps ||T|| (||T|| <= 3 here),
so the computed modulus can be off by about sqrt(3 eps) ~ 2.6e-8. We compare with
TOL = 10 sqrt(eps) ~ 1.5e-7 in absolute terms and show that a relative error of 1e-6 in the closed
form is rejected. Away from double roots (gradient descent) we use rtol 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest

from polyak.theory import (
    gd_optimal,
    gd_rate,
    get,
    gfj_beta,
    hb_alpha_max,
    hb_best_beta,
    hb_optimal,
    hb_rate,
    nesterov_quadratic_optimal,
    nesterov_spectral_radius,
    nesterov_standard,
)

EPS = np.finfo(float).eps
TOL = 10 * np.sqrt(EPS)
KAPPAS = np.geomspace(2.0, 1e6, 13)
MU = 0.5


def lam_grid(mu: float, L: float, n: int = 1501) -> np.ndarray:
    return np.unique(np.concatenate([np.linspace(mu, L, n), np.geomspace(mu, L, n), [mu, L]]))


def hb_matrices(alpha, beta, lam) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    T = np.zeros(np.broadcast_shapes(np.shape(alpha), np.shape(beta), lam.shape) + (2, 2))
    T[..., 0, 0] = 1 + beta - alpha * lam
    T[..., 0, 1] = -np.broadcast_to(beta, T.shape[:-2])
    T[..., 1, 0] = 1.0
    return T


def nesterov_matrices(alpha, beta, lam) -> np.ndarray:
    q = 1 - alpha * np.asarray(lam, dtype=float)
    T = np.zeros(np.broadcast_shapes(np.shape(beta), q.shape) + (2, 2))
    T[..., 0, 0] = (1 + beta) * q
    T[..., 0, 1] = -beta * q
    T[..., 1, 0] = 1.0
    return T


def max_radius(T: np.ndarray, axis=None) -> np.ndarray:
    r = np.abs(np.linalg.eigvals(T)).max(axis=-1)
    return r.max() if axis is None else r.max(axis=axis)


def agrees(closed: float, numeric: float, tol: float = TOL) -> bool:
    return bool(abs(closed - numeric) <= tol)


# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kappa", KAPPAS)
def test_gd_optimal_rate_is_the_spectral_maximum(kappa: float) -> None:
    L = MU * kappa
    lam = lam_grid(MU, L)
    alpha, rho = gd_optimal(MU, L)
    numeric = np.abs(1 - alpha * lam).max()
    assert abs(rho - numeric) <= 1e-12 * max(1, numeric)
    short = get("gd-quadratic-optimal").evaluate(mu=MU, L=L)["rho_step_1_over_L"]
    assert abs(short - np.abs(1 - lam / L).max()) <= 1e-12
    for a in (0.3 / L, 1.7 / L, 2.5 / L):
        assert abs(gd_rate(a, MU, L) - np.abs(1 - a * lam).max()) <= 1e-12 * max(1, a * L)
    assert not abs(rho * (1 + 1e-6) - numeric) <= 1e-12 * max(1, numeric)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_hb_optimal_rate_is_the_spectral_maximum(kappa: float) -> None:
    L = MU * kappa
    alpha, beta, rho = hb_optimal(MU, L)
    numeric = max_radius(hb_matrices(alpha, beta, lam_grid(MU, L)))
    assert agrees(rho, numeric)
    # double roots at the ends: both eigenvalues there sit at +rho (mu) and -rho (L)
    ev_mu, ev_L = np.linalg.eigvals(hb_matrices(alpha, beta, np.array([MU, L])))
    assert np.allclose(ev_mu.real, rho, atol=TOL) and np.allclose(ev_L.real, -rho, atol=TOL)
    # the check rejects a perturbed closed form and GD's rate
    assert not agrees(rho * (1 + 1e-6), numeric)
    assert not agrees((kappa - 1) / (kappa + 1), numeric)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_hb_best_beta_rate_is_the_spectral_maximum(kappa: float) -> None:
    L = MU * kappa
    lam = lam_grid(MU, L)
    a_star = hb_optimal(MU, L)[0]
    for alpha in (0.01 / L, 0.5 / L, 0.5 * a_star, a_star, 2.0 / L, 3.9 / L):
        beta = hb_best_beta(alpha, MU, L)
        closed = np.sqrt(beta)  # hb-best-beta: the worst case is sqrt(beta) exactly
        numeric = max_radius(hb_matrices(alpha, beta, lam))
        assert agrees(closed, numeric), (alpha, closed, numeric)
        assert agrees(float(hb_rate(alpha, beta, MU, L)), numeric)
        assert not agrees(closed * (1 + 1e-6), numeric)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_hb_rate_for_any_pair_is_the_spectral_maximum(kappa: float) -> None:
    L = MU * kappa
    lam = lam_grid(MU, L, 501)
    rng = np.random.default_rng(int(kappa) % 1000)
    alphas = rng.uniform(0.0, 4.5, 12) / L
    betas = rng.uniform(0.0, 1.2, 12)
    closed = hb_rate(alphas, betas, MU, L)
    numeric = max_radius(hb_matrices(alphas[:, None], betas[:, None], lam[None, :]), axis=-1)
    assert np.all(np.abs(closed - numeric) <= TOL), np.abs(closed - numeric).max()
    assert not np.all(np.abs(closed * (1 + 1e-6) - numeric) <= TOL)


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("tuning", ["standard", "quadratic-optimal"])
def test_nesterov_rates_are_the_spectral_maximum(kappa: float, tuning: str) -> None:
    L = MU * kappa
    fn = nesterov_standard if tuning == "standard" else nesterov_quadratic_optimal
    alpha, beta, rho = fn(MU, L)
    numeric = max_radius(nesterov_matrices(alpha, beta, lam_grid(MU, L)))
    assert agrees(rho, numeric), (rho, numeric)
    assert not agrees(rho * (1 + 1e-6), numeric)
    assert not agrees(1 - 1 / kappa, numeric)


def test_nesterov_spectral_radius_helper_matches_eigvals() -> None:
    rng = np.random.default_rng(3)
    alpha, beta, lam = rng.uniform(0, 2, 500), rng.uniform(0, 1.5, 500), rng.uniform(0.01, 3, 500)
    numeric = np.abs(np.linalg.eigvals(nesterov_matrices(alpha, beta, lam))).max(axis=-1)
    assert np.all(np.abs(nesterov_spectral_radius(alpha, beta, lam) - numeric) <= TOL)


# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kappa", [10.0, 1000.0])
def test_no_heavy_ball_pair_beats_the_optimum(kappa: float) -> None:
    L = MU * kappa
    _, _, rho = hb_optimal(MU, L)
    A, B = np.meshgrid(np.linspace(0.01, 4.0, 400) / L, np.linspace(0.0, 0.999, 400))
    grid = hb_rate(A, B, MU, L)
    assert grid.min() >= rho - 1e-12
    assert grid.min() <= rho + 0.02  # the grid gets close to it


@pytest.mark.parametrize("kappa", [10.0, 1000.0])
def test_no_momentum_beats_the_best_beta_for_a_fixed_step(kappa: float) -> None:
    L = MU * kappa
    for alpha in (0.05 / L, 1.0 / L, 3.0 / L):
        best = np.sqrt(hb_best_beta(alpha, MU, L))
        betas = np.linspace(0.0, 0.9999, 20001)
        assert hb_rate(alpha, betas, MU, L).min() >= best - 1e-12


@pytest.mark.parametrize("kappa", [10.0, 1000.0])
def test_no_nesterov_pair_beats_the_quadratic_optimal_tuning(kappa: float) -> None:
    L = MU * kappa
    a_opt, b_opt, rho = nesterov_quadratic_optimal(MU, L)
    lam = lam_grid(MU, L, 60)
    A, B = np.meshgrid(np.linspace(0.2, 1.6, 80) * a_opt, np.linspace(0.0, 0.999, 80))
    worst = nesterov_spectral_radius(A[..., None], B[..., None], lam).max(axis=-1)
    assert worst.min() >= rho - 1e-9
    # and the standard tuning is no better (it is worse for kappa > 1)
    assert nesterov_standard(MU, L)[2] > rho


# ----------------------------------------------------------------------------------------------
def test_convergence_region_matches_the_spectrum() -> None:
    """Stable on [mu, L] iff alpha < 2 (1 + beta)/L (Jury); the GD-like region alpha < 2/L is rejected."""
    L, mu = 10.0, 0.1
    rng = np.random.default_rng(7)
    alpha, beta = rng.uniform(0, 4.2, 4000) / L, rng.uniform(-0.99, 0.99, 4000)
    amax = hb_alpha_max(beta, L)
    keep = np.abs(alpha - amax) > 1e-3 / L
    alpha, beta, amax = alpha[keep], beta[keep], amax[keep]
    lam = lam_grid(mu, L, 200)
    stable = max_radius(hb_matrices(alpha[:, None], beta[:, None], lam[None, :]), axis=-1) < 1
    assert np.array_equal(stable, alpha < amax)
    assert not np.array_equal(stable, alpha < 2 / L)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_gfj_rate_bounds_the_spectrum_on_quadratics(kappa: float) -> None:
    L = MU * kappa
    lam = lam_grid(MU, L, 501)
    for f in (0.05, 0.3, 0.7, 1.0):
        alpha = f / L
        beta = gfj_beta(alpha, MU, L)
        r2 = max_radius(hb_matrices(alpha, beta, lam)) ** 2
        assert r2 <= 1 - alpha * MU + TOL


def test_gfj_check_rejects_a_too_fast_claim() -> None:
    mu, L, alpha = 1.0, 2.0, 0.05
    r2 = max_radius(hb_matrices(alpha, gfj_beta(alpha, mu, L), lam_grid(mu, L))) ** 2
    assert r2 > (1 - alpha * mu) ** 2 + 1e-3
