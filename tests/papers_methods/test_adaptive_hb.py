"""Adaptive heavy ball (sun2021adaptive): the secant beta's bounds on quadratics, zero steps,
no absolute guard, and the larger stable step it tolerates."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_rule

from polyak.solvers import get_backend, make_method, make_problem, simulate
from polyak.solvers.adaptive_hb import adaptive_hb_beta_from_sums

MU, L = 1.0, 100.0
EPS = np.finfo(float).eps


def _quad(dim=30, basis="random"):
    return make_problem("quadratic", mu=MU, L=L, dim=dim, basis=basis, spectrum="uniform", seed=7)


@pytest.mark.parametrize("alpha_L", [0.05, 0.3, 0.7, 1.0])
def test_a1_unclipped_beta_between_the_quadratic_bounds_for_alpha_at_most_1_over_L(alpha_L):
    # on a quadratic mu <= h_k <= L, so (1 - sqrt(alpha L))^2 <= beta_raw <= (1 - sqrt(alpha mu))^2;
    # rounding: h_k is a ratio of norms (a few eps relative), beta is smooth in it -> rtol 1e-12
    alpha, delta = alpha_L / L, 1e-2
    states = run_rule(make_method("adaptive-hb", lr=alpha, delta=delta), _quad(), 300)
    lo, hi = (1 - np.sqrt(alpha * L)) ** 2, (1 - np.sqrt(alpha * MU)) ** 2
    raws = np.array([s.raw_coord[0, 0, 0] for s in states[2:]])
    betas = np.array([s.beta[0, 0, 0] for s in states[2:]])
    moved = np.array([np.any(s.dx != 0) for s in states[1:-1]])
    assert moved.sum() > 100
    assert np.all(raws[moved] >= lo * (1 - 1e-12) - 1e-15) and np.all(raws[moved] <= hi * (1 + 1e-12))
    assert np.all((betas >= 0) & (betas <= 1 - delta))
    assert np.all(betas == np.clip(raws, 0, 1 - delta))


@pytest.mark.parametrize("eta_L", [0.1, 0.5, 1.0])
def test_a2_unclipped_beta_between_its_quadratic_bounds(eta_L):
    eta, delta = eta_L / L, 1e-3
    states = run_rule(make_method("adaptive-hb", lr=eta, variant="A2", delta=delta), _quad(), 300)
    f = lambda h: ((1 - eta * h) / (1 + eta * h)) ** 2  # decreasing on [0, 1/eta]
    raws = np.array([s.raw_coord[0, 0, 0] for s in states[2:]])
    assert np.all(raws >= f(L) * (1 - 1e-12) - 1e-15) and np.all(raws <= f(MU) * (1 + 1e-12))
    betas = np.array([s.beta[0, 0, 0] for s in states[2:]])
    assert np.all((betas >= 0) & (betas <= 1 - delta))


def test_per_block_betas_each_obey_the_bounds_of_their_block():
    # blocks of an eigen-basis quadratic: each block's secant ratio lies in its own eigenvalue range
    prob = make_problem("quadratic", mu=MU, L=L, dim=20, basis="eigen", spectrum="linspace")
    alpha = 0.5 / L
    states = run_rule(make_method("adaptive-hb", lr=alpha, blocks=2), prob, 100)
    lam = np.linspace(MU, L, 20)
    for b, sl in enumerate((slice(0, 10), slice(10, 20))):
        lo, hi = (1 - np.sqrt(alpha * lam[sl].max())) ** 2, (1 - np.sqrt(alpha * lam[sl].min())) ** 2
        raws = np.array([s.raw_coord[0, 0, sl][0] for s in states[2:]])
        assert np.all(raws >= lo * (1 - 1e-12) - 1e-15) and np.all(raws <= hi * (1 + 1e-12))
    last = states[-1]
    assert last.beta[0, 0, 0] == pytest.approx(last.beta_coord[0, 0, [0, 10]].mean(), rel=1e-15)


def test_zero_step_keeps_the_previous_beta_instead_of_0_over_0():
    be = get_backend("numpy")
    z = np.zeros((1, 1, 1))
    beta, raw = adaptive_hb_beta_from_sums(z + 4.0, z, 0.01, 0.01, "A1", z + 0.7, z + 0.8, be)
    assert beta.item() == 0.7 and raw.item() == 0.8
    # a run that cannot move (lr = 0) keeps beta_0 = 0 and never produces NaN
    tr = simulate(make_method("adaptive-hb", lr=0.0), _quad(), 20)
    assert np.all(tr.beta == 0) and np.all(np.isfinite(tr.dist))


def _reference_a1(A, x_star, x0, alpha, steps, delta=1e-2, guard=0.0):
    """Plain numpy A1 (one block), optionally with the third-party absolute guard on ||dx||."""
    x, xp, gp, beta = x0.copy(), x0.copy(), None, 0.0
    errs = []
    for k in range(steps):
        g = A @ (x - x_star)
        if k > 0:
            dx = np.linalg.norm(x - xp)
            if dx + guard > 0:
                beta = float(np.clip((1 - np.sqrt(alpha * np.linalg.norm(g - gp) / (dx + guard))) ** 2, 0, 1 - delta))
        gp = g
        x, xp = x - alpha * g + beta * (x - xp), x
        errs.append(np.linalg.norm(x - x_star))
    return np.array(errs)


def test_no_absolute_guard_converges_to_the_floor_where_a_1e6_guard_stalls():
    # measured: with alpha = 0.02 = 2/L on kappa = 100, the engine reaches ||x - x*|| < 1e-10; the
    # third-party guard (||dx|| + 1e-6) makes h_k -> 0 once steps are below 1e-6, beta -> 1 - delta,
    # and the run stalls above 1e-10 within the same budget
    prob = make_problem("quadratic", mu=MU, L=L, dim=50, basis="eigen", spectrum="linspace")
    A, xs, x0, alpha, steps = np.diag(np.linspace(MU, L, 50)), prob.x_star[0], prob.x0[0], 0.02, 1500
    tr = simulate(make_method("adaptive-hb", lr=alpha), prob, steps)
    ours = _reference_a1(A, xs, x0, alpha, steps)
    k = min(steps, int(np.argmax(ours < 1e-8)) + 1)  # compare before the rounding floor
    np.testing.assert_allclose(tr.dist[1 : k + 1, 0, 0], ours[:k], rtol=1e-6, atol=1e-14)
    guarded = _reference_a1(A, xs, x0, alpha, steps, guard=1e-6)
    assert tr.dist[-1, 0, 0] < 1e-10
    assert guarded.min() > 1e-9
    assert np.all(np.isfinite(tr.dist))  # exact zero steps after convergence keep beta (no NaN)


def _largest_stable(name, grid, steps=3000, **hyper):
    prob = make_problem("quadratic", mu=MU, L=L, dim=50, basis="eigen", spectrum="linspace")
    tr = simulate(make_method(name, **hyper), prob, steps, record_every=500)
    ok = (~tr.diverged[0, :, 0]) & (tr.dist[-1, 0, :, 0] < 1e-6)
    bad = np.flatnonzero(~ok)
    i = bad[0] if len(bad) else len(grid)
    return grid[i - 1] if i > 0 else 0.0


def test_adaptive_hb_a1_tolerates_a_larger_step_than_hb_0p9_on_kappa_100():
    # measured (BENCHMARKS.md): HB(0.9) converges up to alpha L = 3.79 (theory 2(1 + 0.9) = 3.8);
    # A1 up to 3.97 (its clip at 1 - delta caps it below 2(2 - delta) = 3.98): larger, but only ~5%
    grid = np.linspace(0.030, 0.045, 151)
    hb = _largest_stable("hb", grid, alpha=grid, beta=0.9)
    a1 = _largest_stable("adaptive-hb", grid, lr=grid)
    assert hb * L == pytest.approx(3.8, abs=0.011)
    assert a1 > hb
    assert a1 * L <= 2 * (2 - 1e-2)


def test_adaptive_hb_a2_tolerates_a_much_larger_step_than_ema_0p9_on_kappa_100():
    # EMA form, same eta: EMA(0.9) is HB with alpha = 0.1 eta -> eta L < 38; A2 measured ~7x larger
    grid = np.geomspace(0.05, 20, 120)
    ema = _largest_stable("ema", grid, eta=grid, beta=0.9)
    a2 = _largest_stable("adaptive-hb", grid, lr=grid, variant="A2", delta=1e-3)
    assert ema * L == pytest.approx(38, rel=0.05)
    assert a2 > 5 * ema


def test_under_gradient_noise_the_secant_beta_collapses():
    # [derived] noise-dominated secant: ||dg|| ~ sigma while ||dx|| ~ alpha sigma -> alpha h ~ 1
    noisy = make_problem("quadratic", mu=MU, L=L, dim=30, noise="additive", sigma=1.0)
    clean = make_problem("quadratic", mu=MU, L=L, dim=30)
    b_noisy = simulate(make_method("adaptive-hb", lr=0.001), noisy, 400, seeds=3).beta[200:].mean()
    b_clean = simulate(make_method("adaptive-hb", lr=0.001), clean, 400).beta[200:].mean()
    assert b_clean > 0.5 and b_noisy < 0.5 * b_clean


def test_adam_version_options_change_the_run_and_exact_correction_is_identity():
    prob = _quad()
    base = simulate(make_method("adaptive-hb-adam", lr=0.01), prob, 100, keep_last=1)
    euc = simulate(make_method("adaptive-hb-adam", lr=0.01, metric="preconditioned"), prob, 100, keep_last=1)
    cur = simulate(make_method("adaptive-hb-adam", lr=0.01, bias_correction="current-beta"), prob, 100, keep_last=1)
    assert np.abs(base.x_final - euc.x_final).max() > 1e-6
    assert np.abs(base.x_final - cur.x_final).max() > 1e-6
    # beta_0 = 0 makes the product of betas 0: the exact first-moment correction is 1
    states = run_rule(make_method("adaptive-hb-adam", lr=0.01), prob, 5)
    assert np.all(states[-1].beta_prod == 0)
    assert np.all((base.beta >= 0) & (base.beta <= 1 - 1e-2))


@pytest.mark.parametrize(
    "name,hyper,word",
    [
        ("adaptive-hb", dict(delta=0.0), "delta"),
        ("adaptive-hb", dict(delta=1.0), "delta"),
        ("adaptive-hb", dict(variant="A3"), "variant"),
        ("adaptive-hb", dict(blocks=0), "blocks"),
        ("adaptive-hb", dict(lr=-0.1), "lr"),
        ("adaptive-hb-adam", dict(metric="l1"), "metric"),
        ("adaptive-hb-adam", dict(beta2=1.5), "beta2"),
    ],
)
def test_invalid_hyperparameters_are_rejected_naming_the_parameter(name, hyper, word):
    with pytest.raises(ValueError, match=word):
        make_method(name, **hyper)


def test_blocks_must_divide_the_dimension():
    with pytest.raises(ValueError, match="blocks=4 must divide"):
        simulate(make_method("adaptive-hb", lr=0.01, blocks=4), _quad(dim=30), 3)
