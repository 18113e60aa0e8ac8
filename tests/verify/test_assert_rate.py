"""assert_rate passes on true rates, fails with a readable message on wrong ones; the pytest plugin."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from polyak.solvers import make_method, make_problem
from polyak.theory import gd_optimal
from polyak.verify import assert_rate


def gd_case():
    mu, L = 1.0, 20.0
    alpha, rho = (float(v) for v in gd_optimal(mu, L))
    # x* random: the floor is ~1e-13 relative; 300 steps reach it, the default fit window stops above it
    prob = make_problem("quadratic", mu=mu, L=L, dim=10, spectrum="linspace", x_star="random", seed=1)
    return make_method("gd", alpha=alpha), prob, rho


def test_true_rate_passes_tight_and_upper():
    m, p, rho = gd_case()
    fits = assert_rate(m, p, rho, rtol=1e-6, steps=300)
    assert abs(fits[0].rate - rho) <= 1e-6 * rho
    assert_rate(m, p, rho, relation="upper", rtol=1e-6, steps=300)
    assert_rate(m, p, 1.05 * rho, relation="upper", rtol=0.0, steps=300)  # a slower claimed rate is an upper bound


def test_wrong_rate_fails_with_fit_details():
    m, p, rho = gd_case()
    with pytest.raises(AssertionError) as exc:
        assert_rate(m, p, 0.99 * rho, rtol=1e-3, steps=300)
    msg = str(exc.value)
    assert "fitted rate" in msg and "window" in msg and "residual" in msg and f"{rho:.6g}"[:6] in msg
    with pytest.raises(AssertionError, match="violates fitted rate <="):
        assert_rate(m, p, 0.95 * rho, relation="upper", rtol=0.0, steps=300)


def test_sublinear_exponent():
    # f gap of GD with alpha = 1/L on a 1-D quadratic is geometric; a sublinear claim on a convex least squares:
    # GD on least squares with mu = 0 has f - f* = O(1/k); the exponent is at least 1 over long windows
    p = make_problem("least-squares", dim=40, n=20, seed=0)
    m = make_method("gd", alpha=1.0 / float(p.L[0]))
    assert_rate(m, p, 1.0, relation="upper", kind="sublinear", rtol=0.0, steps=400, metric="fgap")
    with pytest.raises(AssertionError, match="exponent"):
        assert_rate(m, p, 50.0, relation="upper", kind="sublinear", rtol=0.0, steps=400, metric="fgap")


def test_seeds_summarised_by_mean_and_ci():
    p = make_problem("quadratic", mu=1.0, L=10.0, dim=5, noise="additive", sigma=1e-3)
    m = make_method("gd", alpha=0.1)
    with pytest.raises(AssertionError, match="95% CI"):
        assert_rate(m, p, 0.5, seeds=4, steps=100)


def test_bad_arguments():
    m, p, rho = gd_case()
    with pytest.raises(ValueError, match="relation"):
        assert_rate(m, p, rho, relation="lower")
    with pytest.raises(ValueError, match="rate"):
        assert_rate(m, p, -1.0)


def test_plugin_import_is_light():
    import subprocess

    code = ("import sys, polyak.verify.pytest_plugin; "
            "heavy = [m for m in ('numpy', 'scipy', 'sympy', 'cvxpy', 'torch') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_plugin_fixture_and_marker(pytester):
    pytester.makepyfile(
        """
        import pytest
        from polyak.solvers import make_method, make_problem

        def test_fixture_passes(rate_check):
            rate_check(make_method("gd", alpha=0.5), make_problem("quadratic", mu=1, L=3, dim=5), 0.5, rtol=1e-6)

        def test_fixture_fails(rate_check):
            rate_check(make_method("gd", alpha=0.5), make_problem("quadratic", mu=1, L=3, dim=5), 0.4, rtol=1e-6)

        @pytest.mark.polyak_claim("polyak1964.gd-optimal-rate")
        def test_marker_claim():
            pass

        def test_verify_fixture(polyak_verify):
            res = polyak_verify("lessard2016.hb-cycle", seed=2)
            assert res[0].status == "pass"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*fitted rate 0.5*violates*window*residual*"])
