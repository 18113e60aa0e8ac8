"""The ``fista`` schedule is FISTA exactly: the same PEP worst case as FISTA written from Beck-Teboulle.

Both PEPs are written here with PEPit (an outside reference): FISTA from Beck-Teboulle's recursion
(y_1 = x_0, t_1 = 1, x_k = y_k - grad f(y_k)/L, y_{k+1} = x_k + ((t_k - 1)/t_{k+1})(x_k - x_{k-1})), and
polyak's Nesterov step driven by ``nesterov_convex("fista")``'s table. On L-smooth convex f with
||x_0 - x*|| <= 1 and n = 12 the worst f(x_n) - f* is 0.009146, below Beck-Teboulle's
2 L R^2/(n+1)^2 = 0.011834; the schedule one index ahead gives 0.008262 (a different method).
"""

from __future__ import annotations

import numpy as np
import pytest

from polyak.solvers.schedules import nesterov_convex

PEPit = pytest.importorskip("PEPit")

N, L = 12, 1.0


def _pep(betas=None):
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction

    problem = PEP()
    f = problem.declare_function(SmoothConvexFunction, L=L)
    xs = f.stationary_point()
    fs = f(xs)
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    if betas is None:  # Beck-Teboulle, 1-based
        t, y, x_prev = 1.0, x0, x0
        for _ in range(N):
            x = y - f.gradient(y) / L
            t_next = (1 + np.sqrt(1 + 4 * t ** 2)) / 2
            y = x + ((t - 1) / t_next) * (x - x_prev)
            x_prev, t = x, t_next
        x_n = x
    else:  # polyak's Nesterov step k: y = x_k + beta_k (x_k - x_{k-1}), x_{k+1} = y - grad f(y)/L
        x_prev = x = x0
        for k in range(N):
            y = x + float(betas[k]) * (x - x_prev)
            x_prev, x = x, y - f.gradient(y) / L
        x_n = x
    problem.set_performance_metric(f(x_n) - fs)
    return problem.solve(verbose=0)


@pytest.fixture(scope="module")
def fista_value():
    return _pep()


def test_fista_schedule_matches_pepit_fista_worst_case(fista_value):
    ours = _pep(nesterov_convex("fista").table(N))
    assert fista_value == pytest.approx(0.009146, abs=2e-6)
    assert ours == pytest.approx(fista_value, rel=1e-4)
    assert ours <= 2 * L / (N + 1) ** 2  # Beck-Teboulle Thm 4.4 at k = n


def test_the_shifted_schedule_is_a_different_method(fista_value):
    t = np.empty(N + 2)
    t[0] = 1.0
    for i in range(1, N + 2):
        t[i] = (1 + np.sqrt(1 + 4 * t[i - 1] ** 2)) / 2
    shifted = (t[:N] - 1) / t[1:N + 1]  # (t_k - 1)/t_{k+1}: one index ahead of FISTA
    assert _pep(shifted) < 0.99 * fista_value
