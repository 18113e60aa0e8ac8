"""theory/lessard_cycle.py: the exact orbits satisfy heavy ball's map in rational arithmetic, and the
attracting one is where a plain float loop (written here) ends up."""

from __future__ import annotations

import numpy as np
import sympy as sp

from polyak.theory.lessard_cycle import LRP_PIECES, hb_optimal_cycle, lessard_orbit, lrp_pieces, monodromy_radius, periodic_orbits

A, B = sp.Rational(1, 9), sp.Rational(4, 9)


def grad(x):
    return 25 * x if x < 1 else (x + 24 if x < 2 else 25 * x - 24)


def test_orbits_are_exact_fixed_points_of_three_steps():
    orbits = periodic_orbits(LRP_PIECES, A, B, 3)
    assert len(orbits) == 2
    for orb in orbits:
        # the cyclic order of the orbit: heavy ball visits the points low, high, middle or another rotation;
        # try every cyclic order and require one to be an exact period-3 orbit
        ok = False
        for perm in ([0, 1, 2], [0, 2, 1]):
            x = [orb[i] for i in perm]
            if all(x[(i + 1) % 3] == x[i] - A * grad(x[i]) + B * (x[i] - x[i - 1]) for i in range(3)):
                ok = True
        assert ok, orb


def test_the_attracting_orbit_is_where_heavy_ball_goes():
    orb = np.array([float(v) for v in lessard_orbit()])
    assert orb == __import__("pytest").approx([-2208 / 1225, 792 / 1225, 2592 / 1225], rel=1e-15)
    for x0 in np.random.default_rng(0).uniform(3.1, 3.45, 5):
        xp, x = x0, x0
        for _ in range(3000):
            xp, x = x, x - (1 / 9) * grad(x) + (4 / 9) * (x - xp)
        tail = []
        for _ in range(3):
            xp, x = x, x - (1 / 9) * grad(x) + (4 / 9) * (x - xp)
            tail.append(x)
        np.testing.assert_allclose(np.sort(tail), orb, rtol=1e-12)


def test_monodromy_separates_the_two_orbits():
    # the attracting orbit's pieces (1, 1, 3 in the LRP numbering from 1) vs the repelling one's (1, 1, 2)
    assert monodromy_radius(LRP_PIECES, (0, 0, 2), A, B) < 1
    assert monodromy_radius(LRP_PIECES, (0, 0, 1), A, B) > 1


def test_the_family_reproduces_lrp_and_the_optimal_tuning_cycles():
    assert lrp_pieces(1, 25) == LRP_PIECES
    # kappa = 25 with the optimal tuning is LRP's alpha = 1/9, beta = 4/9
    assert [float(v) for v in hb_optimal_cycle(25.0)] == __import__("pytest").approx([float(v) for v in lessard_orbit()], rel=1e-12)
    with __import__("pytest").raises(RuntimeError, match="kappa = 20"):
        hb_optimal_cycle(20.0)
