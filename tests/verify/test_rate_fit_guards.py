"""The rate fit's guards on synthetic sequences with known answers: the plateau cut (and a slow steady decay
that is not a plateau), the model choice (the double-root model's growth and dominance tests, the short-window
fallback), the minimum window, the default floor; and the claims' margin scale (a zero bound needs a stated
scale)."""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.verify import assert_rate, default_floor, measure_rate
from polyak.verify.claims import check_upper
from polyak.verify.rates import (DOUBLE, DOUBLE_GAIN, DOUBLE_GROWTH, DOUBLE_SIGNIFICANCE, _double_fit, _lstsq, fit_rate,
                                 usable_window)


def test_plateau_is_cut_off():
    # a run that reaches an error floor of 1e-9 (an x* known to 1e-9): without the plateau cut the window
    # would include the flat part and the fitted rate would be pulled towards 1
    k = np.arange(400.0)
    rho = 0.9
    e = np.hypot(rho ** k, 1e-9)
    fit = fit_rate(e, k)
    assert fit.floor == pytest.approx(1e-6, rel=0.05)  # 1e3 x the plateau
    assert abs(fit.rate / rho - 1) < 1e-6
    assert fit.window[1] < 140  # rho^k = 1e-6 at k ~ 131


def test_steady_decay_is_not_a_plateau():
    k = np.arange(400.0)
    e = 0.999 ** k  # never flat: the whole run is usable
    assert usable_window(e)[1] == 400


def test_slow_steady_decay_is_not_a_plateau():
    # 0.968^k over 500 steps falls 1e7 but never flattens: the old test (last tenth within 10x of its
    # median) called it a plateau and cut the window 1e3 above it, at k ~ 240
    e = 0.968 ** np.arange(501.0)
    assert usable_window(e) == (250, 501)
    assert fit_rate(e).floor == pytest.approx(1e-12)


def test_double_root_model_is_chosen_and_unbiased():
    k = np.arange(300.0)
    rho = 0.8
    e = (1.0 + 3.0 * k) * rho ** k * (1 + 0.01 * np.cos(2.1 * k))
    fit = fit_rate(e, k)
    assert fit.model == DOUBLE and fit.power == 1.0 and len(fit.coef) == 3
    assert abs(fit.rate / rho - 1) < 2e-4
    assert "double root" in fit.describe() and "b = " in fit.describe()
    plain = fit_rate(e, k, model="rho^k")
    assert plain.rate / rho - 1 > 5e-3  # the plain model is biased upward by about log(k2/k1)/(k2-k1)


def test_double_root_model_recovers_its_coefficients():
    # e_k = 0.7^k sqrt((2 + 3k)^2 + 2^2); from k1 = 1: a = 5 * 0.7, b = 3 * 0.7, c = 2 * 0.7
    k = np.arange(100.0)
    fit = fit_rate(0.7 ** k * np.sqrt((2 + 3 * k) ** 2 + 4.0), k, model=DOUBLE, burn_in=0.0)
    assert fit.window[0] == 1 and fit.rate == pytest.approx(0.7, rel=1e-12)
    np.testing.assert_allclose(fit.coef, [3.5, 2.1, 1.4], rtol=1e-9)
    with pytest.raises(ValueError, match="power"):
        fit_rate(np.ones(10), model=DOUBLE, power=1.0)


def _checks(e, k, fit):
    """What fit_rate's auto choice tested, recomputed on its window: (concave, growth, significance, gain)."""
    kk, ll = k[fit.window[0]:fit.window[1]], np.log(e[fit.window[0]:fit.window[1]])
    half = kk.size // 2
    s0, res0 = _lstsq(kk, ll, 0.0)[0], _lstsq(kk, ll, 0.0)[3]
    d = _double_fit(kk, ll)
    return (_lstsq(kk[half:], ll[half:], 0.0)[0] < s0,
            d.growth >= DOUBLE_GROWTH * np.log((kk[-1] + 1) / (kk[0] + 1)),
            d.growth >= DOUBLE_SIGNIFICANCE * d.residual * np.sqrt(12 / d.n_eff),
            d.residual <= DOUBLE_GAIN * res0), float(np.exp(d.s))


def test_double_root_behind_an_oscillation_is_found_by_its_growth():
    # a 4% fast oscillation dominates the residual: a free p no longer lowers it to 0.7x (the old rule
    # kept rho^k, +4e-3 off); the fitted factor still grows like a Jordan block's
    k = np.arange(400.0)
    rho = 0.9
    e = rho ** k * (k + 1) * (1 + 0.04 * np.cos(2.1 * k))
    fit = fit_rate(e, k)
    kk, ll = k[fit.window[0]:fit.window[1]], np.log(e[fit.window[0]:fit.window[1]])
    assert _lstsq(kk, ll, None)[3] > 0.7 * _lstsq(kk, ll, 0.0)[3]  # the residual test alone would miss it
    assert fit.model == DOUBLE and abs(fit.rate / rho - 1) < 1e-3
    assert fit_rate(e, k, model="rho^k").rate / rho - 1 > 4e-3


def test_a_transient_is_not_taken_for_a_double_root():
    # a faster mode decaying on top of rho^k makes log e convex: the double-root model is not even fitted
    k = np.arange(400.0)
    rho = 0.9
    e = rho ** k * (1 + 10 * 0.95 ** k)
    fit = fit_rate(e, k)
    assert not _checks(e, k, fit)[0][0]
    assert fit.model == "rho^k" and abs(fit.rate / rho - 1) < 2e-4  # the transient's weight 10 * 0.95^120


def _hb_rate(alpha, beta, eigs):
    """The largest root of z^2 - (1 + beta - alpha lam) z + beta over the eigenvalues (numpy.roots)."""
    return max(float(np.max(np.abs(np.roots([1.0, -(1 + beta - alpha * lam), beta])))) for lam in eigs)


def test_convex_log_error_keeps_rho_k():
    # heavy ball at alpha = 1/L, beta = beta*^(3/4), kappa = 1e4, seed 1 (a point of the grid test's "hb-complex"
    # at another seed): the double-root fit's factor grows, but log e is convex over the window (the last
    # half decays more slowly than the whole); taking the double root would be 2.8e-3 off
    prob = polyak.make_problem("quadratic", mu=1.0, L=1e4, dim=50, spectrum="uniform", basis="random",
                               x_star="random", seed=1)
    beta = (99 / 101) ** 1.5
    method = polyak.make_method("hb", alpha=1e-4, beta=beta)
    fit = measure_rate(method, prob)[0]
    e = np.asarray(polyak.simulate(method, prob, 500).dist).reshape(501)
    (concave, growth, significant, gain), rho2 = _checks(e, np.arange(501.0), fit)
    assert not concave and growth and significant and gain
    rho = _hb_rate(1e-4, beta, np.linalg.eigvalsh(prob.hessian[0]))
    assert abs(rho2 / rho - 1) > 2e-3
    assert fit.model == "rho^k" and abs(fit.rate / rho - 1) < 2e-3


def test_gain_guard_keeps_rho_k_for_complex_roots_of_one_modulus():
    # heavy ball above beta* (kappa = 10, 12 eigenvalues): every root has modulus sqrt(beta) and the error
    # oscillates slowly; a double-root factor can follow the oscillation (it grows, significantly) but
    # explains 1% of the residual; taken, it would be 1.1% off (figures/hb_region.py's plane)
    prob = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=12, spectrum="linspace")
    alpha, beta = 0.0176, 0.7758333333333334
    tr = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), prob, 250)
    e = np.asarray(tr.dist).reshape(-1)
    fit = fit_rate(e, tr.k)
    (concave, growth, significant, gain), rho2 = _checks(e, tr.k.astype(float), fit)
    assert concave and growth and significant and not gain
    rho = _hb_rate(alpha, beta, np.linspace(1.0, 10.0, 12))
    assert abs(rho2 / rho - 1) > 1e-2
    assert fit.model == "rho^k" and abs(fit.rate / rho - 1) < 1e-3


def test_significance_guard_keeps_rho_k_for_a_slow_oscillation():
    # rho^k times a 30% oscillation of period 42 steps: over the window (half a run, 2 periods) a
    # double-root factor grows with it, but not against its scatter; taken, it would be 2% off
    k = np.arange(300.0)
    e = 0.85 ** k * (1 + 0.3 * np.cos(0.15 * k + 5.5))
    fit = fit_rate(e, k)
    (concave, growth, significant, gain), rho2 = _checks(e, k, fit)
    assert concave and growth and gain and not significant
    assert abs(rho2 / 0.85 - 1) > 1e-2
    assert fit.model == "rho^k" and abs(fit.rate / 0.85 - 1) < 2e-3


def test_growth_guard_keeps_rho_k_when_the_factor_grows_too_little():
    # a double root still under a slowly decaying transient (rate 0.55, factor (1 + 7.9 * 0.987^k)(1 + k/100)):
    # log e is concave, but the fitted factor grows far less than a Jordan block's over the window;
    # the double-root model would be 9e-3 off, rho^k is 3.4e-3 off (not yet asymptotic)
    k = np.arange(400.0)
    e = 0.55 ** k * (1 + 7.91 * 0.987 ** k) * (1 + k / 100)
    fit = fit_rate(e, k)
    (concave, growth, significant, gain), rho2 = _checks(e, k, fit)
    assert concave and significant and gain and not growth
    assert fit.model == "rho^k" and abs(fit.rate / 0.55 - 1) < abs(rho2 / 0.55 - 1) - 5e-3


def test_short_double_root_falls_back_to_k_rho_k():
    # 5 records: too few for the four-parameter model; p = 1 is fitted by linear least squares
    k = np.arange(10.0)
    fit = fit_rate((1 + 3 * k) * 0.5 ** k, k)
    assert fit.points == 5 and fit.model == "k^p rho^k" and fit.power == 1.0


def test_oscillation_alone_does_not_switch_the_model():
    k = np.arange(300.0)
    e = 0.85 ** k * (1.5 + np.cos(1.3 * k))
    assert fit_rate(e, k).model == "rho^k"


def test_short_runs_keep_four_points():
    e = np.array([1.0, 0.5, 0.25, 0.125, np.inf, np.inf])
    fit = fit_rate(e)
    assert fit.points >= 3 and fit.rate == pytest.approx(0.5, rel=1e-9)


def test_default_floor_is_zero_only_for_an_exact_zero_optimum():
    zero = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5, x_star="zero")  # the default x*
    assert default_floor(zero, "dist") == 0.0
    assert default_floor(zero, "fgap") == 1e-12
    assert default_floor(polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5, x_star="random"), "dist") == 1e-12
    noisy = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5, x_star="zero", noise="additive", sigma=0.1)
    assert default_floor(noisy, "dist") == 1e-12
    # with x* = 0 the fit runs past 1e-12 (GD at 1/L, rate 0.9: 1e-12 is reached at k ~ 260 of 500)
    fit = assert_rate(polyak.make_method("gd", alpha=0.1), zero, 0.9, rtol=1e-6)[0]
    assert fit.window[1] == 501 and fit.floor < 1e-200
    assert measure_rate(polyak.make_method("gd", alpha=0.1), zero, floor=1e-12)[0].window[1] < 300


def test_zero_bound_needs_a_stated_scale():
    with pytest.raises(ValueError, match="scale"):
        check_upper([-1e-3, -2e-3], 0.0, 0.0)
    ok, margin, info = check_upper([-1e-3, -2e-3], 0.0, 0.0, scale=2e-3)
    assert ok and margin == pytest.approx(-0.5) and info["margin_scale"] == "0.002"
    ok, margin, info = check_upper([0.5, 0.2], [1.0, 0.25], 0.0)
    assert ok and margin == pytest.approx(-0.2) and info["slack"] == pytest.approx(0.2)
