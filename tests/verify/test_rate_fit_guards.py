"""The rate fit's guards on synthetic sequences with known answers: the plateau cut, the model choice, the
minimum window; and the claims' margin scale (a zero bound needs a stated scale)."""

from __future__ import annotations

import numpy as np
import pytest

from polyak.verify.claims import check_upper
from polyak.verify.rates import fit_rate, usable_window


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


def test_double_root_model_is_chosen_and_unbiased():
    k = np.arange(300.0)
    rho = 0.8
    e = (1.0 + 3.0 * k) * rho ** k * (1 + 0.01 * np.cos(2.1 * k))
    fit = fit_rate(e, k)
    assert fit.model == "k^p rho^k" and fit.power == 1.0
    assert abs(fit.rate / rho - 1) < 1e-3
    plain = fit_rate(e, k, model="rho^k")
    assert plain.rate / rho - 1 > 5e-3  # the plain model is biased upward by about log(k2/k1)/(k2-k1)


def test_oscillation_alone_does_not_switch_the_model():
    k = np.arange(300.0)
    e = 0.85 ** k * (1.5 + np.cos(1.3 * k))
    assert fit_rate(e, k).model == "rho^k"


def test_short_runs_keep_four_points():
    e = np.array([1.0, 0.5, 0.25, 0.125, np.inf, np.inf])
    fit = fit_rate(e)
    assert fit.points >= 3 and fit.rate == pytest.approx(0.5, rel=1e-9)


def test_zero_bound_needs_a_stated_scale():
    with pytest.raises(ValueError, match="scale"):
        check_upper([-1e-3, -2e-3], 0.0, 0.0)
    ok, margin, info = check_upper([-1e-3, -2e-3], 0.0, 0.0, scale=2e-3)
    assert ok and margin == pytest.approx(-0.5) and info["margin_scale"] == "0.002"
    ok, margin, info = check_upper([0.5, 0.2], [1.0, 0.25], 0.0)
    assert ok and margin == pytest.approx(-0.2) and info["slack"] == pytest.approx(0.2)
