"""Heavy-ball cycles: lessard2016's example and the periodic-orbit search, checked independently."""

from __future__ import annotations

import numpy as np
import pytest

from polyak.verify.certificates import certify_rate
from polyak.verify.counterexamples import PiecewiseQuadratic, find_periodic_orbit, lessard_cycle


def lrp_grad(x):
    """lessard2016's f', written out here (not taken from the module)."""
    return 25 * x if x < 1 else (x + 24 if x < 2 else 25 * x - 24)


def test_lessard_cycle_exists_and_is_exact():
    c = lessard_cycle()
    assert c.period == 3 and not c.converges
    assert 3.3 in c.cycling_starts and len(c.converging_starts) >= 3
    x = np.array(c.exact_orbit)
    # check the exact orbit against the HB recursion with the independent f' (cyclic closure)
    a, b = 1 / 9, 4 / 9
    for i in range(3):
        nxt = x[i] - a * lrp_grad(x[i]) + b * (x[i] - x[i - 1])
        assert abs(nxt - x[(i + 1) % 3]) < 1e-12
    # the simulated orbit is the exact one (same points, up to rotation), and away from x* = 0
    assert np.allclose(sorted(c.orbit), sorted(x), atol=1e-9)
    assert c.final_distance > 0.5 and c.residual < 1e-9
    # independent simulation from x0 = 3.3: still on the orbit after 5000 steps, not converging
    xp = xk = 3.3
    for _ in range(5000):
        xp, xk = xk, xk - a * lrp_grad(xk) + b * (xk - xp)
    assert np.min(np.abs(x - xk)) < 1e-8
    # the function is in S(1, 25): difference quotients of f' on a fine grid lie in [1, 25]
    g = np.array([lrp_grad(t) for t in np.linspace(-5, 5, 10001)])
    q = np.diff(g) / (10 / 10000)
    assert q.min() >= 1 - 1e-6 and q.max() <= 25 + 1e-6
    assert c.class_checks["in_class"]
    # other starts converge (independent simulation)
    xp = xk = 0.5
    for _ in range(3000):
        xp, xk = xk, xk - a * lrp_grad(xk) + b * (xk - xp)
    assert abs(xk) < 1e-12


def test_class_check_rejects_a_function_outside_the_class():
    bad = PiecewiseQuadratic(knots=(0.0, 1.0), gvals=(0.0, 30.0), left_slope=1.0, right_slope=1.0)  # slope 30 > 25
    assert not bad.in_class(1.0, 25.0)["in_class"]
    nonmono = PiecewiseQuadratic(knots=(0.0, 1.0), gvals=(0.0, -1.0), left_slope=1.0, right_slope=1.0)
    assert not nonmono.in_class(1.0, 25.0)["in_class"]


def test_periodic_orbit_found_at_lrp_tuning():
    o = find_periodic_orbit(1.0, 25.0, 1 / 9, 4 / 9, period=3)
    assert o.found and o.class_checks["in_class"] and o.margin > 1e-3
    f = o.function
    # independent check of class membership from the knots: slopes of f' in [mu, L], f'(0) = 0
    k, g = np.array(f.knots), np.array(f.gvals)
    s = np.diff(g) / np.diff(k)
    assert s.min() >= 1 - 1e-9 and s.max() <= 25 + 1e-9 and abs(float(f.grad(0.0))) < 1e-12
    # independent simulation: HB on the constructed f' reproduces the orbit for 5 cycles
    x = np.array(o.orbit)
    xp, xk = x[-1], x[0]
    for i in range(15):
        xp, xk = xk, xk - (1 / 9) * float(f.grad(xk)) + (4 / 9) * (xk - xp)
        assert abs(xk - x[(i + 1) % 3]) < 1e-9
    assert np.min(np.abs(x)) > 1e-3  # never at the minimiser


def test_no_orbit_where_a_rate_is_certified():
    for a, b in [(1 / 25, 0.3), (0.5 / 25, 0.6)]:
        c = certify_rate("hb", 1.0, 25.0, a, b)
        assert c.certified and c.rate < 1
        for p in (2, 3, 4):
            assert not find_periodic_orbit(1.0, 25.0, a, b, period=p).found


def test_orbit_bad_input():
    with pytest.raises(ValueError, match="period"):
        find_periodic_orbit(1.0, 25.0, 0.1, 0.4, period=1)
    with pytest.raises(ValueError, match="beta"):
        find_periodic_orbit(1.0, 25.0, 0.1, 1.0, period=3)


# -- any linear method (state-space LP) ---------------------------------------------------------
def test_linear_method_orbit_search_agrees_with_hb_path(rng):
    import polyak
    from polyak.verify.counterexamples import find_periodic_orbit

    for alpha, beta, p in [(1 / 9, 4 / 9, 3), (0.2, 0.6, 2), (0.05, 0.1, 3)]:
        old = find_periodic_orbit(1.0, 25.0, alpha, beta, period=p)
        new = find_periodic_orbit(1.0, 25.0, polyak.make_method("hb", alpha=alpha, beta=beta), period=p)
        assert new.found == old.found
        if old.found:
            assert new.margin == pytest.approx(old.margin, rel=1e-7)
            assert new.class_checks["in_class"] and new.simulation_residual < 1e-9


def test_linear_method_orbit_two_calls_and_certified_tmm():
    import polyak
    from polyak.solvers.triple_momentum import triple_momentum_tuning
    from polyak.verify.counterexamples import find_periodic_orbit, linear_simulate_1d

    # TMM converges at rho < 1 on the whole class (vanscoy2018): no orbit may exist
    tmm = polyak.make_method("triple-momentum", **triple_momentum_tuning(1.0, 25.0))
    for p in (2, 3, 4):
        assert not find_periodic_orbit(1.0, 25.0, tmm, period=p).found

    # two gradient calls per step (D != 0): two heavy-ball steps fused into one. Its period-2 orbits
    # with distinct points are exactly heavy ball's period-4 orbits, so the margins agree.
    @polyak.linear_method(alpha=0.1, beta=0.5, register=False)
    def hb_twice(x, x_prev, grad, *, alpha, beta):
        x1 = x - alpha * grad(x) + beta * (x - x_prev)
        return x1 - alpha * grad(x1) + beta * (x1 - x), x1

    ss = polyak.solvers.state_space(hb_twice(alpha=0.12, beta=0.4))
    assert ss.D[1, 0] == pytest.approx(-0.12)
    o = find_periodic_orbit(1.0, 25.0, hb_twice(alpha=0.12, beta=0.4), period=2)
    ref = find_periodic_orbit(1.0, 25.0, 0.12, 0.4, period=4)
    assert o.found and ref.found
    assert o.margin == pytest.approx(ref.margin, rel=1e-6)
    assert o.class_checks["in_class"] and o.simulation_residual < 1e-9
    # the 1-D simulator against the closed form on f = 4 x^2 / 2 for one call: x_k = (1 - 4a)^k
    gd_ss = polyak.solvers.state_space(polyak.make_method("gd", alpha=0.6))
    xs = linear_simulate_1d(gd_ss, lambda y: 4.0 * y, [1.0], 3)
    np.testing.assert_allclose(xs[:, 0], [(1 - 2.4) ** k for k in range(4)], rtol=1e-14)
