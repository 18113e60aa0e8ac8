"""Each figure's DATA checked against numbers computed here, independently of the code under test.

Tolerances are derived in the comments next to each check.
"""

import numpy as np
import pytest


def _get(fast_data, name):
    data, side = fast_data[name]
    return data, side["config"]


# --------------------------------------------------------------------------------- rate_vs_kappa
def test_rate_vs_kappa_measured_and_certified(fast_data):
    d, cfg = _get(fast_data, "rate_vs_kappa")
    k = d["kappa"]
    sk = np.sqrt(k)
    closed = {"gd": (k - 1) / (k + 1), "hb": (sk - 1) / (sk + 1), "nesterov": 1 - 1 / sk}
    for m, rho in closed.items():
        np.testing.assert_allclose(d[f"closed_{m}"], rho, rtol=0, atol=1e-12)
        # the fitted rate uses a finite window after a burn-in; faster modes still present bias it low.
        # Require the convergence speed 1 - rho to be right within 3 %.
        gap = np.abs(d[f"measured_{m}"] - rho)
        assert np.all(gap <= 0.03 * (1 - rho)), (m, d[f"measured_{m}"], rho)
    tol = cfg["tol"]
    for m in closed:
        cert = d[f"certified_{m}"]
        ok = np.isfinite(cert)
        # no certificate over all smooth strongly convex functions can beat the worst quadratic
        assert np.all(cert[ok] >= closed[m][ok] - tol - 1e-9), m
    # GD: the SDP rate is exactly max|1 - alpha lambda| = (kappa-1)/(kappa+1), up to the bisection width
    tried = d["cert_tried_gd"]
    np.testing.assert_allclose(d["certified_gd"][tried], closed["gd"][tried], atol=2 * tol)
    # Nesterov (alpha = 1/L, beta = (sk-1)/(sk+1)) is certified wherever tried; quadratic-optimal HB is not
    # certified beyond small kappa (Lessard et al. 2016: it cycles on kappa = 25)
    assert np.all(np.isfinite(d["certified_nesterov"][d["cert_tried_nesterov"]]))
    big = d["cert_tried_hb"] & (k >= 25)
    assert big.any() and np.all(np.isnan(d["certified_hb"][big]))


# --------------------------------------------------------------------------------- hb_transient
def test_hb_transient_is_k_rho_k(fast_data):
    d, _ = _get(fast_data, "hb_transient")
    k = d["k"].astype(float)
    for i, kap in enumerate(d["kappa"]):
        rho = (np.sqrt(kap) - 1) / (np.sqrt(kap) + 1)
        np.testing.assert_allclose(d["rho"][i], rho, atol=1e-12)
        e = d["rel_err"][:, i]
        live = np.flatnonzero(e > 1e-12)
        kk = k[5: live.max()]
        ek = e[5: live.max()]
        ratio = ek / ((kk + 1) * rho**kk)
        # a double root: e_k = (a + b k) rho^k, so e_k / ((k+1) rho^k) -> b and stays within a bounded band
        assert ratio.max() / ratio.min() < 2.5, (kap, ratio.min(), ratio.max())
        # while e_k / rho^k grows linearly: between k1 and k2 = 2 k1 it doubles (within 25 %)
        k1 = int(kk[len(kk) // 3])
        g = (e[2 * k1] / rho ** (2 * k1)) / (e[k1] / rho**k1)
        assert 1.5 < g < 2.5, (kap, g)


# --------------------------------------------------------------------------------- hb_region
def _hb_radius(a, b, lams):
    """max over eigenvalues of the largest root modulus of z^2 - (1 + b - a lam) z + b."""
    out = 0.0
    for lam in lams:
        out = max(out, np.abs(np.roots([1.0, -(1 + b - a * lam), b])).max())
    return out


def test_hb_region_boundary_and_rates(fast_data):
    d, cfg = _get(fast_data, "hb_region")
    L, mu = float(d["kappa"]), 1.0
    aL, bb, rate = d["alphaL"], d["beta"], d["rate"]
    A, B = np.meshgrid(aL, bb, indexing="ij")
    inside = A < 2 * (1 + B) - 0.02
    outside = A > 2 * (1 + B) + 0.02
    assert np.all(rate[inside] < 1) and np.all(rate[outside] >= 1)
    # the closed form at random grid points against eigenvalues of the 2x2 iteration (on [mu, L])
    rng = np.random.default_rng(0)
    lams = np.linspace(mu, L, 400)
    for i, j in zip(rng.integers(0, aL.size, 25), rng.integers(0, bb.size, 25)):
        assert abs(rate[i, j] - _hb_radius(aL[i] / L, bb[j], lams)) < 1e-3
    # measured: the simulated problem's spectrum is linspace(mu, L, dim)
    lams_sim = np.linspace(mu, L, cfg["dim"])
    As, Bs, meas = d["alphaL_sim"], d["beta_sim"], d["measured"]
    for i, a in enumerate(As):
        for j, b in enumerate(Bs):
            r = _hb_radius(a / L, b, lams_sim)
            if r < 0.9:  # well inside: the fit must match the spectral radius of this very problem
                assert abs(meas[i, j] - r) < 0.05 * (1 - r) + 2e-3, (a, b, meas[i, j], r)
            if a > 2 * (1 + b) + 0.1:
                assert not np.isfinite(meas[i, j]) or meas[i, j] > 1, (a, b, meas[i, j])
    sk = np.sqrt(L)
    np.testing.assert_allclose(d["opt_alphaL"], 4 * L / (sk + 1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(d["opt_beta"], ((sk - 1) / (sk + 1)) ** 2, rtol=1e-12)


# --------------------------------------------------------------------------------- lessard_cycle
def _lrp_grad(x):
    return np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))


def test_lessard_cycle_is_periodic_and_matches_a_plain_loop(fast_data):
    d, cfg = _get(fast_data, "lessard_cycle")
    np.testing.assert_allclose([d["alpha"], d["beta"]], [1 / 9, 4 / 9], atol=1e-12)
    X = d["x"]
    i0 = int(d["cycle_index"])
    assert d["starts"][i0] == 3.3
    # independent loop of x_{k+1} = x_k - alpha f'(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0
    x_prev = x = 3.3
    xs = [x]
    for _ in range(cfg["steps"]):
        x, x_prev = x - _lrp_grad(x) / 9 + 4 / 9 * (x - x_prev), x
        xs.append(x)
    xs = np.array(xs)
    np.testing.assert_allclose(X[:, i0], xs, atol=1e-9)
    tail = X[-12:, i0]
    assert np.all(np.abs(tail[3:] - tail[:-3]) < 1e-9), "period 3"
    assert np.abs(tail).min() > 0.5, "does not converge"
    assert len(np.unique(np.round(tail, 6))) == 3
    # starts not captured converge to x* = 0
    for j in np.flatnonzero(~d["captured_show"]):
        assert abs(X[-1, j]) < 1e-10
    assert 0 < int(d["scan_captured"]) < int(d["scan_n"])


# --------------------------------------------------------------------------------- demon_schedule
def test_demon_schedule_and_linear_effective_step(fast_data):
    d, _ = _get(fast_data, "demon_schedule")
    T, t = float(d["T"]), d["t"]
    for i, b0 in enumerate(d["beta_init"]):
        r = 1 - t / T
        expect = b0 * r / ((1 - b0) + b0 * r)
        np.testing.assert_allclose(d["beta_closed"][:, i], expect, atol=1e-12)
        ts = d["t_sim"].astype(int)
        np.testing.assert_allclose(d["beta_sim"][:, i], expect[ts], atol=1e-12)
        eff = 1 / (1 - d["beta_sim"][:, i])
        # linear in t: second differences vanish (relative to the scale 1/(1-b0))
        assert np.abs(np.diff(eff, 2)).max() < 1e-9 / (1 - b0)
        np.testing.assert_allclose(eff[0], 1 / (1 - b0), rtol=1e-12)


# --------------------------------------------------------------------------------- spa_vs_hb
def test_spa_and_hb_trajectories_coincide(fast_data):
    d, cfg = _get(fast_data, "spa_vs_hb")
    assert np.abs(d["x_spa"] - d["x_hb"]).max() < 1e-12
    K = cfg["steps"]
    b = cfg["beta"]
    np.testing.assert_allclose(d["beta_hb"][:, 0], b, atol=1e-15)
    np.testing.assert_allclose(d["alpha_hb"][:, 0], cfg["alpha"], atol=1e-15)
    k = np.arange(K, dtype=float)
    # primal averaging c_{k+1} = 1/(k+1): beta_k = (k-1)/(k+1) for k >= 1, alpha_k = eta/(k+1)
    np.testing.assert_allclose(d["beta_hb"][1:, 1], (k[1:] - 1) / (k[1:] + 1), atol=1e-14)
    np.testing.assert_allclose(d["alpha_hb"][:, 1], cfg["eta_pa"] / (k + 1), atol=1e-15)
    assert d["dist_hb"][-1, 0] < 1e-3 * d["dist_hb"][0, 0]


# --------------------------------------------------------------------------------- adaptive_hb_beta
def test_adaptive_hb_beta_within_quadratic_bounds(fast_data):
    d, _ = _get(fast_data, "adaptive_hb_beta")
    mu, L = float(d["mu"]), float(d["L"])
    delta = 1e-2  # the method's default margin
    for i, a in enumerate(d["alpha"]):
        f = lambda h: (1 - np.sqrt(a * h)) ** 2  # noqa: E731
        lo = 0.0 if mu <= 1 / a <= L else min(f(mu), f(L))
        hi = max(f(mu), f(L))
        lo, hi = min(lo, 1 - delta), min(hi, 1 - delta)
        end = int(d["end"][i])
        bk = d["beta"][2:end, i]  # beta_0 = 0 and the first step has no secant yet
        assert np.all(bk >= lo - 1e-9) and np.all(bk <= hi + 1e-9), (a * L, bk.min(), bk.max(), lo, hi)
    # for alpha <= 1/L the settled momentum is the best constant momentum for that alpha
    sel = (d["alphaL"] >= 0.05) & (d["alphaL"] <= 1.0)
    best = np.maximum((1 - np.sqrt(d["alpha"] * mu)) ** 2, (np.sqrt(d["alpha"] * L) - 1) ** 2)
    np.testing.assert_allclose(d["best_beta"], best, atol=1e-12)
    assert np.all(np.abs(d["settled"][sel] - best[sel]) < 0.01)
    sk = np.sqrt(L / mu)
    np.testing.assert_allclose(d["beta_star"], ((sk - 1) / (sk + 1)) ** 2, atol=1e-12)


# --------------------------------------------------------------------------------- adaptive_memory
def test_adaptive_memory_beta_and_iterations(fast_data):
    d, cfg = _get(fast_data, "adaptive_memory")
    beta = d["am_beta"][1:]
    fin = np.isfinite(beta)
    assert np.all(beta[fin] >= -1e-12) and np.all(beta[fin] <= cfg["beta_max"] + 1e-12)
    methods = list(d["methods"])
    assert methods == ["am-sgd", "hb", "adaptive-hb", "demon-sgdm"]
    L, mu, lr = float(d["L"]), float(d["mu"]), d["lr"]
    hb = d["iters"][1]
    # HB(0.9): all eigenvalues in the complex-root regime when (1 - sqrt .9)^2 < alpha mu and
    # alpha L < (1 + sqrt .9)^2, then |roots| = sqrt(0.9): iterations ~ log(tol)/log(sqrt .9).
    pred = np.log(cfg["tol"]) / np.log(np.sqrt(0.9))
    sel = (lr * mu > (1 - np.sqrt(0.9)) ** 2 * 1.2) & (lr * L < 2.0)
    assert sel.any()
    assert np.all(np.abs(hb[sel] - pred) < 0.2 * pred), (hb[sel], pred)
    # and HB(0.9) diverges beyond alpha L = 2 (1 + 0.9)
    assert np.all(~np.isfinite(hb[lr * L > 3.8 * 1.05]))
    assert np.isfinite(d["iters"][0]).any(), "AM-SGD reaches the tolerance somewhere on the grid"


# --------------------------------------------------------------------------------- noisy_quadratic
def _closed_mse(alpha, beta, lam, sigma):
    """Stationary AR(2) variance, summed over eigenvalues: alpha s^2 (1+b) / ((1-b) lam (2(1+b) - alpha lam))."""
    a = np.asarray(alpha)[..., None]
    b = np.asarray(beta)[..., None]
    return np.sum(a * sigma**2 * (1 + b) / ((1 - b) * lam * (2 * (1 + b) - a * lam)), axis=-1)


def test_noisy_quadratic_stationary_error(fast_data):
    d, cfg = _get(fast_data, "noisy_quadratic")
    lam = np.linspace(cfg["mu"], cfg["L"], cfg["dim"])
    A = d["alphaL"][:, None] / cfg["L"]
    B = d["beta"][None, :]
    closed = _closed_mse(A, B, lam, cfg["sigma"])
    np.testing.assert_allclose(d["theory"], closed, rtol=1e-8)
    # measured: time average over the second half of the run and a few seeds. With samples
    # correlated over ~1/(alpha mu) steps the relative standard error in fast mode is ~10 %;
    # 35 % is over three standard errors.
    np.testing.assert_allclose(d["measured"], closed, rtol=0.35)
    A2 = d["eff"][None, :] * (1 - d["beta_eff"][:, None]) / cfg["L"]
    B2 = d["beta_eff"][:, None] + 0 * A2
    np.testing.assert_allclose(d["theory_eff"], _closed_mse(A2, B2, lam, cfg["sigma"]), rtol=1e-8)
    np.testing.assert_allclose(d["measured_eff"], d["theory_eff"], rtol=0.35)


# --------------------------------------------------------------------------------- spa_lyapunov
def test_spa_lyapunov_decreases(fast_data):
    d, cfg = _get(fast_data, "spa_lyapunov")
    L = cfg["L"]
    beta = np.asarray(cfg["beta"])
    alpha = np.asarray(cfg["frac"]) * (1 - beta**2) / L
    np.testing.assert_allclose(d["alpha"], alpha, rtol=1e-14)
    lam = d["fval"] + (1 - L * alpha) / (2 * alpha) * d["step_sq"]
    np.testing.assert_allclose(d["Lambda"], lam, rtol=1e-12, atol=1e-12)
    inc = np.diff(lam, axis=0)
    scale = np.abs(lam).max(axis=0)
    assert np.all(inc <= 1e-12 * scale), inc.max(axis=0)
    # the sufficient decrease (alpha/2)||grad f(x_k)||^2 (deterministic: sigma = 0)
    need = 0.5 * alpha * d["gnorm"][:-1] ** 2
    assert np.all(-inc >= need - 1e-10 * scale)
    # while f(x_k) itself is not monotone under momentum for at least one run
    assert (np.diff(d["fval"], axis=0) > 1e-12).any()


# --------------------------------------------------------------------------------- schedule_free
def test_schedule_free_heatmap(fast_data):
    d, _ = _get(fast_data, "schedule_free_heatmap")
    gap, conv, div = d["final_gap"], d["converged"], d["diverged"]
    assert np.all(np.isfinite(gap[conv])) and np.all(gap[conv] >= 0)
    assert np.all(gap[conv] < float(d["initial_gap"]))
    assert np.all(np.isinf(gap[div]))
    # small steps are stable for every b: the z-sequence is gradient descent-like for gamma L < 2
    small = d["lrL"] <= 1.0
    assert np.all(conv[:, small])
    assert (~conv).any(), "the grid reaches unstable step sizes"
