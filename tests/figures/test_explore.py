"""polyak.figures.explore: the heavy-ball explorer's numbers, its live and static displays."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from polyak.figures.explore import BETA_MAX, HBExplorer, hb_explorer


def radius_numpy(alpha: float, beta: float, lam: np.ndarray) -> np.ndarray:
    """Spectral radius of heavy ball's 2x2 iteration matrix [[1 + beta - alpha lam, -beta], [1, 0]]."""
    out = []
    for l in lam:
        T = np.array([[1.0 + beta - alpha * l, -beta], [1.0, 0.0]])
        out.append(np.abs(np.linalg.eigvals(T)).max())
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_rate_is_the_worst_spectral_radius_over_the_spectrum(seed):
    rng = np.random.default_rng(seed)
    mu = float(rng.uniform(0.1, 2.0))
    L = mu * float(np.exp(rng.uniform(np.log(2.0), np.log(200.0))))
    alpha_L, beta = float(rng.uniform(0.05, 4.0)), float(rng.uniform(0.0, BETA_MAX))
    ex = hb_explorer(mu=mu, L=L, alpha_L=alpha_L, beta=beta)
    lam = np.concatenate([[mu, L], np.linspace(mu, L, 2001)])
    assert ex.rate == pytest.approx(radius_numpy(alpha_L / L, beta, lam).max(), rel=1e-6, abs=1e-9)


def test_the_simulated_run_decays_at_the_predicted_rate():
    ex = hb_explorer(mu=1.0, L=10.0, alpha_L=1.0, beta=0.3, steps=120)
    k, err, diverged = ex.trajectory()
    assert not diverged
    slope = np.exp(np.polyfit(k[60:], np.log(err[60:]), 1)[0])
    assert slope == pytest.approx(ex.rate, rel=1e-2)
    bad = hb_explorer(mu=1.0, L=10.0, alpha_L=4.2, beta=0.05)  # alpha L > 2 (1 + beta): diverges
    assert bad.rate > 1 and bad.trajectory()[1][-1] > 1e3


def test_static_display_without_a_kernel_is_a_png():
    bundle = hb_explorer()._repr_mimebundle_()
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n" and len(bundle["image/png"]) > 20000
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no live kernel here
    assert "rate=" in bundle["text/plain"]


def test_live_kernel_gets_sliders_and_keeps_the_png_fallback(monkeypatch):
    pytest.importorskip("ipywidgets")
    import polyak.figures.explore as ex_mod

    monkeypatch.setattr(ex_mod, "_kernel_is_live", lambda: True)
    ex = hb_explorer(alpha_L=1.2, beta=0.4)
    w = ex.widget()
    sliders = {c.description: c for c in w.children if hasattr(c, "min")}
    assert set(sliders) == {"alpha L", "beta"}
    assert sliders["beta"].max == BETA_MAX and sliders["alpha L"].value == 1.2
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle
    sliders["beta"].value = 0.6  # moving a slider moves the point and the rate
    assert ex.beta == 0.6 and ex.rate == pytest.approx(radius_numpy(1.2 / 10, 0.6, np.linspace(1, 10, 2001)).max(), rel=1e-6)


def test_without_ipywidgets_it_degrades_to_the_static_plot(monkeypatch):
    import polyak.figures.explore as ex_mod

    monkeypatch.setattr(ex_mod, "_kernel_is_live", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    bundle = hb_explorer()._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}


@pytest.mark.parametrize("kw, name", [({"mu": 0.0}, "mu"), ({"mu": 2.0, "L": 1.0}, "L"), ({"alpha_L": 0.0}, "alpha_L"),
                                      ({"alpha_L": 5.0}, "alpha_L"), ({"beta": 1.0}, "beta"), ({"beta": -0.1}, "beta"),
                                      ({"steps": 1}, "steps")])
def test_bad_input_names_the_parameter(kw, name):
    with pytest.raises(ValueError, match=name):
        hb_explorer(**kw)


def test_repr_is_short():
    assert repr(HBExplorer(1.0, 10.0, 1.0, 0.3)) == "HBExplorer(mu=1, L=10, alpha_L=1, beta=0.3)"
