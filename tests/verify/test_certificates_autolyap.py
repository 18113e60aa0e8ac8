"""Why AutoLyap 0.2.1 reported looser Nesterov rates than polyak, and the same numbers once that is removed.

Finding (benchmarks/certify_autolyap.py has the 100-point figures). AutoLyap's Lyapunov matrix Q acts
on the lifted vector (xi_k, u_k, y*): the translation t = (xi*, 0, 1) (every point and x* moved
together) leaves every interpolation inequality unchanged, so the conditions force t'Qt = 0 and the
matrix inequalities are singular along t at every feasible point: the SDP has no strictly feasible
point, and CLARABEL often ends ``AlmostSolved`` ("optimal_inaccurate") above the threshold. With
``cvxpy_accept_inaccurate=False`` AutoLyap's bisection treats those as infeasible and moves up: its
verdicts are not monotone in rho, and its result is not the threshold of its own SDP. (polyak's SDP is
written in s = (xi - xi*, u): no such direction.) With AutoLyap's default ``True`` it accepts
inaccurate solutions, some of which are not certificates. The reference that removes both effects:
AutoLyap's SDP and solves, each solution accepted only if it passes the independent check
:func:`polyak.verify.certificate_check.check_certificate` (PEPit + exact quadratics). It gives
polyak's rates to a few 1e-6 on the Nesterov points of the sweep and on random methods.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from test_certificates_general import autolyap_algorithm, family

from polyak.verify.certificate_check import check_certificate
from polyak.verify.certificates import certify_rate

pytest.importorskip("autolyap")
pytest.importorskip("PEPit")

KAPPAS = np.logspace(0.5, 3, 100)  # benchmarks/certify_sweep.py


def _autolyap(ss, mu, L, measure_x=True):
    """AutoLyap's problem for (A, B, C, D) with V >= ||x_k - x*||^2 (state 0) as target."""
    from autolyap import IterationIndependent
    from autolyap.problemclass import InclusionProblem, SmoothStronglyConvex

    algo = autolyap_algorithm(ss)
    P, p, T, t = IterationIndependent.LinearConvergence.get_parameters_distance_to_solution(algo)
    if measure_x:  # ||x_k - x*||^2: state 0 minus the star point, in AutoLyap's lifted coordinates
        d = algo._get_Xs(0, 0)[0][0:1] - algo._get_Ys(0, 0)["star"][0:1]
        P = d.T @ d
    return InclusionProblem([SmoothStronglyConvex(mu, L)]), algo, P, p, T, t


def _search(setup, rho, accept_inaccurate, params=None):
    from autolyap import IterationIndependent, SolverOptions

    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=accept_inaccurate,
                         cvxpy_solver_params=params)
    prob, algo, P, p, T, t = setup
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return IterationIndependent.search_lyapunov(prob, algo, P, T, p, t, rho=rho * rho, solver_options=opts,
                                                    verbosity=0)


def _strict_bisection(setup, tol=1e-8):
    from autolyap import IterationIndependent, SolverOptions

    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=False)
    prob, algo, P, p, T, t = setup
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = IterationIndependent.LinearConvergence.bisection_search_rho(prob, algo, P, T, p, t, solver_options=opts,
                                                                          tol=tol, verbosity=0)
    return math.sqrt(res["rho"]) if res["status"] == "feasible" else None


def _as_certificate(ours, rho, res):
    """AutoLyap's (Q, q) in polyak's coordinates: y* = 0, so V = (xi, u)' Q_(xi,u) (xi, u) + q_0 (f(y_k) - f*)."""
    n, m = ours.shape
    Q, q = res["certificate"]["Q"], res["certificate"]["q"]
    return dataclasses.replace(ours, rate=rho, P=np.array(Q[:n + m, :n + m]), lam=np.asarray(q[:m], dtype=float))


def verified_autolyap_rate(ss, mu, L, ours, tol=1e-7):
    """Bisection on AutoLyap's SDP (its solves, inaccurate ones included; CLARABEL's defaults, then
    without static regularisation) where a rho counts only if AutoLyap's solution there passes
    check_certificate."""
    setup = _autolyap(ss, mu, L)

    def ok(r):
        for params in (None, {"static_regularization_enable": False}):  # as polyak retries
            res = _search(setup, r, True, params)
            if res["status"] == "feasible" and check_certificate(_as_certificate(ours, r, res)).passed:
                return True
        return False

    lo, hi = ours.quadratic_bound - 1e-9, 1.0 - 1e-9
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def nesterov(k):
    b = (math.sqrt(k) - 1) / (math.sqrt(k) + 1)

    return family(1.0 / k, b, b)


# ----------------------------------------------------------------------------------------
# the mechanism
# ----------------------------------------------------------------------------------------
def test_autolyap_strict_verdicts_are_not_monotone_above_our_nesterov_rate():
    """kappa = 100: AutoLyap's own SDP is solved 'optimal' at rhos below its strict bisection's result
    and 'optimal_inaccurate' at larger ones; its optimal solutions pass the independent check; ours
    (smaller) passes it too."""
    k = 100.0
    ss = nesterov(k)
    ours = certify_rate(ss, 1.0, k)
    assert check_certificate(ours).passed
    setup = _autolyap(ss, 1.0, k)
    strict = _strict_bisection(setup)
    assert strict > ours.rate + 1e-3, (strict, ours.rate)
    rhos = np.linspace(ours.rate, strict, 12)[1:-1]
    res = [_search(setup, r, False) for r in rhos]
    verdicts = [x["status"] for x in res]
    feasible = [i for i, v in enumerate(verdicts) if v == "feasible"]
    assert feasible, verdicts
    later = verdicts[feasible[0] + 1:]
    assert "not_solved" in later, verdicts  # infeasible-looking verdicts above a certified rho
    assert all(x["solve_status"] == "optimal_inaccurate" for x in res if x["status"] == "not_solved")
    i = feasible[0]
    assert check_certificate(_as_certificate(ours, float(rhos[i]), res[i])).passed


def test_autolyap_parametrisation_is_singular_along_the_translation():
    """Every AutoLyap certificate has t'Qt = 0 for t = (xi* = (1, 1), u = 0, y* = 1): no strictly
    feasible point (polyak's reduced coordinates have no such direction: its P is not singular)."""
    k = 100.0
    ss = nesterov(k)
    ours = certify_rate(ss, 1.0, k)
    setup = _autolyap(ss, 1.0, k)
    t = np.array([1.0, 1.0, 0.0, 1.0])
    seen = 0
    for r in np.linspace(ours.rate + 2e-3, 0.96, 7):
        res = _search(setup, float(r), False)
        if res["status"] == "feasible":
            Q = res["certificate"]["Q"]
            assert abs(t @ Q @ t) <= 1e-7 * np.abs(Q).max(), (r, t @ Q @ t)
            seen += 1
    assert seen >= 2
    w = np.linalg.eigvalsh(ours.P)
    assert np.abs(w).min() > 1e-6 * np.abs(w).max()


def test_autolyap_default_policy_can_return_a_non_certificate():
    """With cvxpy_accept_inaccurate=True (AutoLyap's default) a returned 'certificate' can sit below the
    quadratic lower bound (no rate can): the exact quadratic part of the check rejects it."""
    from autolyap import IterationIndependent, SolverOptions
    from test_certificates_general import _random_systems

    ss, L = _random_systems(99, 40)[7]
    ours = certify_rate(ss, 1.0, L)
    prob, algo, P, p, T, t = _autolyap(ss, 1.0, L, measure_x=False)  # y^1 = x_k for these systems
    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = IterationIndependent.LinearConvergence.bisection_search_rho(prob, algo, P, T, p, t, solver_options=opts,
                                                                          tol=1e-8, verbosity=0)
    rho = math.sqrt(res["rho"])
    assert rho < ours.quadratic_bound - 1e-6, (rho, ours.quadratic_bound)  # impossible as a rate
    r = check_certificate(_as_certificate(ours, rho, res))
    assert not r.passed and r.quadratic_decrease > 1e-6, r


# ----------------------------------------------------------------------------------------
# the same numbers on the same formulation
# ----------------------------------------------------------------------------------------
def _agree(points):
    worst = 0.0
    for ss, mu, L in points:
        ours = certify_rate(ss, mu, L)
        assert ours.certified and check_certificate(ours).passed, (mu, L)
        ref = verified_autolyap_rate(ss, mu, L, ours)
        assert abs(ref - ours.rate) <= 1e-5, (mu, L, ours.rate, ref)
        worst = max(worst, abs(ref - ours.rate))
    return worst


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_verified_autolyap_equals_ours_on_nesterov_sweep_points():
    _agree([(nesterov(k), 1.0, float(k)) for k in KAPPAS[[0, 50, 99]]])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_verified_autolyap_equals_ours_on_more_nesterov_sweep_points():
    _agree([(nesterov(k), 1.0, float(k)) for k in KAPPAS[::9]])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_verified_autolyap_equals_ours_on_random_methods():
    from test_certificates_general import _random_systems

    _agree([(ss, 1.0, L) for ss, L in _random_systems(2026, 14)[:4]])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_verified_autolyap_equals_ours_on_more_random_methods():
    from test_certificates_general import _random_systems

    _agree([(ss, 1.0, L) for ss, L in _random_systems(99, 40)[:20]])
