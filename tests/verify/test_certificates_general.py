"""Rate certificates for a general linear method (A, B, C, D): outside references and guards.

References: closed forms (gradient descent, two gradient-descent steps per iteration, the triple
momentum method's 1 - sqrt(mu/L), vanscoy2018), AutoLyap 0.2.1's iteration-independent search on the
same (A, B, C, D), eigenvalues of the quadratic iteration matrices (numpy), and the same SDP written
in cvxpy.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest

from polyak.verify import certificates as cert
from polyak.verify.certificates import certify_rate, certify_rates, check_rate, quadratic_rate

TOL = 1e-6


@dataclass(frozen=True)
class SS:
    """A raw state-space system (the contract of polyak.solvers.linear.StateSpace)."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray


def family(a, b, g):
    """y_k = x_k + g (x_k - x_{k-1}), x_{k+1} = x_k + b (x_k - x_{k-1}) - a grad f(y_k); state (x_k, x_{k-1})."""
    return SS(np.array([[1 + b, -b], [1.0, 0]]), np.array([[-a], [0.0]]), np.array([[1 + g, -g]]), np.zeros((1, 1)))


def momentum_form(a, b, g):
    """The same method with state (x_k, v_k = x_k - x_{k-1}): another realisation, same rate."""
    return SS(np.array([[1.0, b], [0.0, b]]), np.array([[-a], [-a]]), np.array([[1.0, g]]), np.zeros((1, 1)))


def gd_one_state(a):
    return SS(np.array([[1.0]]), np.array([[-a]]), np.array([[1.0]]), np.zeros((1, 1)))


def tmm(mu, L):
    """Triple momentum method (vanscoy2018), state (x_k, x_{k-1})."""
    sq = math.sqrt(mu / L)
    a, b, g = (2 - sq) / L, (1 - sq) ** 2 / (1 + sq), (1 - sq) ** 2 / ((2 - sq) * (1 + sq))
    return family(a, b, g)


def two_gd_steps(a):
    """Two gradient calls per step (D != 0): y^1 = x_k, y^2 = x_k - a g^1, x_{k+1} = y^2 - a g^2."""
    return SS(np.array([[1.0]]), np.array([[-a, -a]]), np.array([[1.0], [1.0]]), np.array([[0.0, 0.0], [-a, 0.0]]))


def extrapolated_two_call(a, b, c):
    """Two calls: y^1 = x_k, y^2 = x_k + c (x_k - x_{k-1}) - a g^1, x_{k+1} = x_k + b (x_k - x_{k-1}) - a g^2."""
    A = np.array([[1 + b, -b], [1.0, 0.0]])
    B = np.array([[0.0, -a], [0.0, 0.0]])
    C = np.array([[1.0, 0.0], [1 + c, -c]])
    D = np.array([[0.0, 0.0], [-a, 0.0]])
    return SS(A, B, C, D)


def three_state(a, b1, b2):
    """x_{k+1} = x_k + b1 (x_k - x_{k-1}) + b2 (x_{k-1} - x_{k-2}) - a grad f(x_k); state (x_k, x_{k-1}, x_{k-2})."""
    A = np.array([[1 + b1, b2 - b1, -b2], [1.0, 0, 0], [0, 1.0, 0]])
    return SS(A, np.array([[-a], [0.0], [0.0]]), np.array([[1.0, 0, 0]]), np.zeros((1, 1)))


def spectral_radius_max(ss, mu, L, n=3001):
    """Independent: max over lambda of |eig(A + lambda B (I - lambda D)^-1 C)| by plain numpy loops."""
    best = 0.0
    m = ss.D.shape[0]
    for lam in np.linspace(mu, L, n):
        T = ss.A + lam * ss.B @ np.linalg.inv(np.eye(m) - lam * ss.D) @ ss.C
        best = max(best, np.abs(np.linalg.eigvals(T)).max())
    return best


# ----------------------------------------------------------------------------------------
# the general construction reproduces the 3-parameter numbers
# ----------------------------------------------------------------------------------------
def test_general_realisations_equal_named_methods_on_random_grid():
    """gd/hb/nesterov written as other state-space realisations certify at the named-path rate."""
    rng = np.random.default_rng(20261201)
    for i in range(9):
        name = ("gd", "hb", "nesterov")[i % 3]
        L = float(np.exp(rng.uniform(math.log(2.0), math.log(200.0))))
        a = float(rng.uniform(0.2, 1.6) / L)
        b = 0.0 if name == "gd" else float(rng.uniform(0.0, 0.8))
        g = b if name == "nesterov" else 0.0
        ref = certify_rate(name, 1.0, L, a, b if name != "gd" else None, tol=TOL)
        forms = [family(a, b, g), momentum_form(a, b, g)] + ([gd_one_state(a)] if name == "gd" else [])
        for ss in forms:
            c = certify_rate(ss, 1.0, L, tol=TOL)
            assert c.certified == ref.certified, (name, L, a, b)
            if ref.certified:
                # both are upper ends of brackets of width TOL around the same threshold
                assert abs(c.rate - ref.rate) <= TOL + 2e-6, (name, L, a, b, c.rate, ref.rate)
                assert abs(c.quadratic_bound - ref.quadratic_bound) <= 1e-5


def test_cvxpy_backend_agrees_with_direct_clarabel():
    """The directly assembled CLARABEL data is the SDP written in cvxpy: same verdicts at every rho
    away from the threshold (near it, within ~1e-4, the cvxpy path's verdicts depend on the history of
    its cached solver: it is the cross-check, not the default)."""
    systems = [family(1 / 10, (math.sqrt(10) - 1) / (math.sqrt(10) + 1), (math.sqrt(10) - 1) / (math.sqrt(10) + 1)),
               family(0.07, 0.6, 0.3), extrapolated_two_call(0.05, 0.5, 0.4), three_state(0.05, 0.5, 0.2)]
    for ss in systems:
        c = certify_rate(ss, 1.0, 10.0, tol=1e-6)
        assert c.certified
        rhos = [r for r in np.linspace(c.quadratic_bound, 1.0, 9) if abs(r - c.rate) > 1e-3]
        assert any(r < c.rate for r in rhos) or c.rate - c.quadratic_bound < 1e-3
        for r in rhos:
            direct = check_rate(ss, 1.0, 10.0, rate=r)
            via_cvxpy = check_rate(ss, 1.0, 10.0, rate=r, backend="cvxpy")
            assert direct[0] == via_cvxpy[0] == (r > c.rate), (r, c.rate, direct, via_cvxpy)


# ----------------------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kappa", [4.0, 10.0, 100.0, 1000.0])
def test_triple_momentum_certifies_one_minus_sqrt_q(kappa):
    c = certify_rate(tmm(1.0, kappa), 1.0, kappa, tol=TOL)
    exact = 1 - 1 / math.sqrt(kappa)
    assert c.certified and c.status == "optimal"
    # bracket of width TOL above the threshold, plus the solver's accuracy at this degenerate point
    # (the certified rate equals the quadratic worst case: the feasible set is thin there)
    assert exact - 1e-7 <= c.rate <= exact + TOL + 4e-6, (c.rate, exact)
    assert abs(c.quadratic_bound - exact) <= 1e-9
    # 1% below is rejected by the quadratic bound, and 0.1% below the SDP itself rejects too
    assert check_rate(tmm(1.0, kappa), 1.0, kappa, rate=0.99 * exact) == (False, "below_quadratic_lower_bound")


@pytest.mark.parametrize("mu,L,a", [(1.0, 10.0, 0.15), (1.0, 4.0, 0.3), (0.5, 20.0, 0.08)])
def test_two_gradient_calls_per_step(mu, L, a):
    """Two GD steps per iteration (D != 0): rate max(|1 - a mu|, |1 - a L|)^2 exactly."""
    exact = max(abs(1 - a * mu), abs(1 - a * L)) ** 2
    c = certify_rate(two_gd_steps(a), mu, L, tol=TOL)
    assert c.certified and c.shape == (1, 2)
    assert exact - 1e-7 <= c.rate <= exact + TOL + 1e-6
    assert not check_rate(two_gd_steps(a), mu, L, rate=exact - 1e-3)[0]


def test_quadratic_bound_of_general_system_against_numpy_eigenvalues():
    rng = np.random.default_rng(11)
    for _ in range(6):
        L = float(rng.uniform(2, 50))
        ss = extrapolated_two_call(float(rng.uniform(0.1, 1.2) / L), float(rng.uniform(0, 0.8)), float(rng.uniform(0, 0.8)))
        c = certify_rate(ss, 1.0, L, tol=1e-4)
        ref = spectral_radius_max(ss, 1.0, L)
        assert abs(c.quadratic_bound - ref) <= 2e-4 * max(1.0, ref)
        if c.certified:
            assert c.rate >= ref - 1e-6


# ----------------------------------------------------------------------------------------
# AutoLyap on the same (A, B, C, D)
# ----------------------------------------------------------------------------------------
def autolyap_algorithm(ss):
    """(A, B, C, D) as an AutoLyap 0.2.1 ``Algorithm``: one function, m gradient calls, fixed matrices."""
    from autolyap.algorithms import Algorithm

    n, m = ss.B.shape

    class Lin(Algorithm):
        def __init__(self):
            super().__init__(n, 1, [m], [1], [])

        def get_ABCD(self, k):
            return ss.A, ss.B, ss.C, ss.D

    return Lin()


def autolyap_rate(ss, mu, L, tol=1e-8):
    """AutoLyap 0.2.1's iteration-independent bisection (h = 0), V bounded below by ||y^1_k - y*||^2.

    AutoLyap's rho contracts V (our rho^2). The systems below have y^1_k = x_k (C's first row is e_0'),
    so its lower bound is ours, ||x_k - x*||^2."""
    from autolyap import IterationIndependent, SolverOptions
    from autolyap.problemclass import InclusionProblem, SmoothStronglyConvex

    algo = autolyap_algorithm(ss)
    LC = IterationIndependent.LinearConvergence
    P, p, T, t = LC.get_parameters_distance_to_solution(algo)
    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=False)
    res = LC.bisection_search_rho(InclusionProblem([SmoothStronglyConvex(mu, L)]), algo, P, T, p, t,
                                  solver_options=opts, tol=tol, verbosity=0)
    return math.sqrt(res["rho"]) if res["status"] == "feasible" and res["rho"] < 1 - 1e-9 else None


def _random_systems(seed, count):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        kind = len(out) % 4
        L = float(np.exp(rng.uniform(math.log(3.0), math.log(60.0))))
        if kind == 0:  # heavy ball with random (alpha, beta)
            ss = family(float(rng.uniform(0.3, 1.2) / L), float(rng.uniform(0, 0.7)), 0.0)
        elif kind == 1:  # a Nesterov-type family in y-first coordinates (state (y_k, x_{k-1}))
            a, b = float(rng.uniform(0.3, 1.0) / L), float(rng.uniform(0, 0.7))
            g = float(rng.uniform(0, 1)) * b
            s = family(a, b, g)
            T = np.array([[1 + g, -g], [0.0, 1.0]])
            Ti = np.linalg.inv(T)
            ss = SS(T @ s.A @ Ti, T @ s.B, s.C @ Ti, s.D)
        elif kind == 2:  # two gradient calls per step
            ss = extrapolated_two_call(float(rng.uniform(0.2, 0.9) / L), float(rng.uniform(0, 0.6)),
                                       float(rng.uniform(0, 0.6)))
        else:  # three states
            ss = three_state(float(rng.uniform(0.3, 1.0) / L), float(rng.uniform(0, 0.5)), float(rng.uniform(-0.2, 0.2)))
        out.append((ss, L))
    return out


def _compare_with_autolyap(seed, count):
    """Every setting: the same rate to 1e-5, or ours sits on the quadratic lower bound (so no rate can be
    smaller: ours is the exact answer) where AutoLyap's solves fail near that degenerate point (it then
    reports a larger rate or none). Returns (largest difference where both agree, how many agree)."""
    pytest.importorskip("autolyap")
    worst, agreed = 0.0, 0
    for ss, L in _random_systems(seed, count):
        ours = certify_rate(ss, 1.0, L, tol=TOL)
        ref = autolyap_rate(ss, 1.0, L)
        assert ours.certified, (ss, L)
        if ref is not None and abs(ours.rate - ref) <= 1e-5:
            worst = max(worst, abs(ours.rate - ref))
            agreed += 1
        else:
            assert ours.rate - ours.quadratic_bound <= TOL + 1e-6, (ss, L, ours.rate, ref)
            assert ref is None or ref > ours.rate, (ss, L, ours.rate, ref)
    return worst, agreed


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_rates_agree_with_autolyap_on_random_systems():
    worst, agreed = _compare_with_autolyap(2026, 14)
    assert agreed >= 10, agreed


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_rates_agree_with_autolyap_on_more_random_systems():
    worst, agreed = _compare_with_autolyap(99, 40)
    assert agreed >= 30


# ----------------------------------------------------------------------------------------
# guards (each reached)
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu,L,alpha", [(1.0, 4.0, 0.0), (1.0, 4.0, 0.5), (0.5, 8.0, 0.25)])
def test_rate_one_is_not_a_linear_rate(mu, L, alpha):
    """GD at alpha = 0 or alpha = 2/L: V = ||x - x*||^2 is a certificate at rho = 1 (the SDP accepts it),
    but rho = 1 is no linear rate: the bisection's ``hi < 1`` must refuse it."""
    assert check_rate("gd", mu, L, alpha, rate=1.0)[0]  # the certificate at rho = 1 exists
    c = certify_rate("gd", mu, L, alpha, tol=TOL)
    assert not c.certified and c.rate is None
    assert c.bracket[1] == 1.0
    # the same through the general path and through a sweep seeded with a guess
    assert not certify_rate(gd_one_state(alpha), mu, L).certified
    res = certify_rates("gd", mu, [L, L], [alpha, alpha])
    assert [r.certified for r in res] == [False, False]


def _forced_status(monkeypatch, status):
    real = cert._clarabel_solve

    def fake(data, rho, **kw):
        out = real(data, rho, **kw)
        return (status,) + tuple(out[1:]) if out[0] == "optimal" else out

    monkeypatch.setattr(cert, "_clarabel_solve", fake)


@pytest.mark.parametrize("status", ["optimal_inaccurate", "infeasible_inaccurate", "max_iterations"])
def test_non_optimal_status_never_certifies(monkeypatch, status):
    """Solutions that would pass every check, reported with a non-optimal status, are refused."""
    ok, st = check_rate("gd", 1.0, 10.0, 0.1, rate=0.95)
    assert ok and st == "optimal"
    _forced_status(monkeypatch, status)
    assert check_rate("gd", 1.0, 10.0, 0.1, rate=0.95) == (False, status)
    c = certify_rate("gd", 1.0, 10.0, 0.1)
    assert not c.certified and c.rate is None and c.status == status


def test_infeasible_setting_reports_its_status():
    ok, st = check_rate("hb", 1.0, 100.0, rate=0.999)  # quadratic-optimal HB, kappa = 100: none
    assert not ok and st != "optimal"


def test_a_posteriori_check_rejects_a_wrong_solution(monkeypatch):
    """A solve reported optimal whose multipliers do not certify is refused (status says why)."""
    pt = cert._resolve("hb", 1.0, 10.0, 0.1, 0.5)
    data = cert._LMIData(*pt.normalised())
    st, P, lam, nu, tau = cert._clarabel_solve(data, 0.95)
    assert st == "optimal" and data.check(0.95, P, lam, nu, tau)
    assert not data.check(0.80, P, lam, nu, tau)  # the same multipliers at a smaller rho
    assert not data.check(0.95, P, lam, 0.0 * nu, tau)  # without the interpolation multipliers
    assert not data.check(0.95, P - 2 * np.eye(P.shape[0]), lam, nu, tau)  # V no longer above ||x||^2
    assert not data.check(0.95, P, lam + 1.0, nu, tau)  # function-value equations broken
    real = cert._clarabel_solve
    monkeypatch.setattr(cert, "_clarabel_solve",
                        lambda d, r, **kw: (lambda o: (o[0], o[1], o[2], 0.0 * o[3], o[4]) if o[0] == "optimal" else o)(real(d, r, **kw)))
    assert check_rate("hb", 1.0, 10.0, 0.1, 0.5, rate=0.95) == (False, "optimal_failed_check")
    assert not certify_rate("hb", 1.0, 10.0, 0.1, 0.5).certified


def independent_quadratic_rate(mu, L, alpha, beta, gamma, n=4001):
    best = 0.0
    for lam in np.linspace(mu, L, n):
        T = np.array([[1 + beta - alpha * (1 + gamma) * lam, -(beta - alpha * gamma * lam)], [1.0, 0.0]])
        best = max(best, np.abs(np.linalg.eigvals(T)).max())
    return best


def test_quadratic_rate_with_negative_trace():
    """Large alpha L makes the trace t = 1 + beta - alpha (1 + gamma) lambda negative: |t| matters."""
    cases = [(1.0, 10.0, 0.19, 0.0, 0.0), (1.0, 10.0, 0.25, 0.3, 0.0), (1.0, 20.0, 0.12, 0.4, 0.4),
             (1.0, 5.0, 0.5, 0.2, 0.1)]
    for mu, L, a, b, g in cases:
        ref = independent_quadratic_rate(mu, L, a, b, g)
        assert 1 + b - a * (1 + g) * L < 0  # the trace is negative at lambda = L
        assert abs(quadratic_rate(mu, L, a, b, g) - ref) <= 1e-9 * max(1, ref), (a, b, g)
    rng = np.random.default_rng(3)
    for _ in range(20):
        L = float(rng.uniform(2, 100))
        a, b = float(rng.uniform(0, 2.5) / L), float(rng.uniform(0, 0.95))
        g = float(rng.uniform(0, 1)) * b
        ref = independent_quadratic_rate(1.0, L, a, b, g)
        # both are maxima over grids that contain the endpoints; ours adds the double-root points
        assert ref - 1e-9 <= quadratic_rate(1.0, L, a, b, g) <= ref + 2e-3 * max(1, ref)


# ----------------------------------------------------------------------------------------
# sweeps and executors
# ----------------------------------------------------------------------------------------
def _sweep_args(n=12):
    ks = np.logspace(0.5, 2, n)
    return ks, 1.0 / ks, np.full(n, 0.5)


def test_sweep_matches_single_calls_to_tolerance():
    ks, a, b = _sweep_args()
    res = certify_rates("hb", 1.0, ks, a, b, tol=TOL, chunk=5)
    for k, ai, r in zip(ks, a, res):
        single = certify_rate("hb", 1.0, k, ai, 0.5, tol=TOL)
        assert r.certified and single.certified
        assert abs(r.rate - single.rate) <= TOL + 2e-6
        assert r.bracket[1] - r.bracket[0] <= TOL
    # fewer solves than independent bisections
    assert sum(r.solves for r in res) < 0.75 * sum(certify_rate("hb", 1.0, k, ai, 0.5).solves for k, ai in zip(ks, a))


def test_executor_gives_the_serial_numbers_in_order():
    ks, a, b = _sweep_args(10)
    serial = certify_rates("nesterov", 1.0, ks, tol=1e-5, chunk=3)
    with ThreadPoolExecutor(max_workers=2) as ex:
        threaded = certify_rates("nesterov", 1.0, ks, tol=1e-5, chunk=3, executor=ex)
    assert [r.rate for r in threaded] == [r.rate for r in serial]
    assert [r.L for r in threaded] == list(ks)


@pytest.mark.slow
def test_process_pool_and_dask_give_the_serial_numbers():
    from concurrent.futures import ProcessPoolExecutor

    ks, a, b = _sweep_args(8)
    systems = [family(ai, 0.5, 0.2) for ai in a]
    serial = certify_rates(systems, 1.0, ks, tol=1e-5, chunk=2)
    with ProcessPoolExecutor(max_workers=2) as ex:
        pooled = certify_rates(systems, 1.0, ks, tol=1e-5, chunk=2, executor=ex)
    assert [r.rate for r in pooled] == [r.rate for r in serial]
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            dres = certify_rates(systems, 1.0, ks, tol=1e-5, chunk=2, executor=client.get_executor())
    assert [r.rate for r in dres] == [r.rate for r in serial]


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ss,word",
    [
        (SS(np.eye(2), np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1))), "D must be strictly lower"),
        (SS(np.eye(2), np.ones((3, 1)), np.ones((1, 2)), np.zeros((1, 1))), "B must have shape"),
        (SS(np.eye(2), np.ones((2, 1)), np.ones((2, 2)), np.zeros((1, 1))), "C must have shape"),
        (SS(np.ones((2, 3)), np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))), "A must be a square"),
        (SS(np.eye(2) * np.nan, np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))), "A must be finite"),
    ],
)
def test_bad_state_space(ss, word):
    with pytest.raises(ValueError, match=word):
        certify_rate(ss, 1.0, 10.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        certify_rate(family(0.1, 0.5, 0.0), 1.0, 10.0, alpha=0.1)
    with pytest.raises(ValueError, match="backend"):
        certify_rate("gd", 1.0, 10.0, backend="mosek")
    with pytest.raises(ValueError, match="tol"):
        certify_rate("gd", 1.0, 10.0, tol=0.0)
    with pytest.raises(ValueError, match="chunk"):
        certify_rates("gd", 1.0, [10.0], chunk=0)
    with pytest.raises(ValueError, match="method"):
        certify_rate("no-such-method", 1.0, 10.0)
    with pytest.raises(ValueError, match="mu"):
        certify_rate(family(0.1, 0.5, 0.0), -1.0, 10.0)


# ----------------------------------------------------------------------------------------
# Methods: user-defined (polyak.linear_method) and built-in
# ----------------------------------------------------------------------------------------
def _user_tmm():
    import polyak

    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0, register=False)
    def user_triple_momentum(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    return user_triple_momentum


def _tmm_hyper(mu, L):
    sq = math.sqrt(mu / L)
    return dict(alpha=(2 - sq) / L, beta=(1 - sq) ** 2 / (1 + sq), gamma=(1 - sq) ** 2 / ((2 - sq) * (1 + sq)))


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_user_defined_triple_momentum_method(kappa):
    tm = _user_tmm()
    c = certify_rate(tm(**_tmm_hyper(1.0, kappa)), 1.0, kappa, tol=TOL)
    exact = 1 - 1 / math.sqrt(kappa)
    assert c.certified and c.method == "user-triple-momentum" and c.shape == (2, 1)
    assert exact - 1e-7 <= c.rate <= exact + TOL + 4e-6, (c.rate, exact)
    assert c.hyper == pytest.approx(_tmm_hyper(1.0, kappa))
    # the raw state space of the same method gives the same number (same data, same search)
    assert certify_rate(tmm(1.0, kappa), 1.0, kappa, tol=TOL).rate == c.rate


def test_user_defined_two_call_method():
    import polyak

    @polyak.linear_method(alpha=0.15, register=False)
    def two_steps(x, grad, *, alpha):
        y = x - alpha * grad(x)
        return y - alpha * grad(y)

    c = certify_rate(two_steps(), 1.0, 10.0, tol=TOL)  # default hyperparameters
    assert c.shape == (1, 2) and c.certified
    assert 0.85**2 - 1e-7 <= c.rate <= 0.85**2 + TOL + 1e-6
    c2 = certify_rate(two_steps, 1.0, 10.0, alpha=0.1, tol=TOL)  # the definition itself, alpha overridden
    assert 0.9**2 - 1e-7 <= c2.rate <= 0.9**2 + TOL + 1e-6


def test_built_in_methods_as_objects_equal_their_names():
    from polyak.solvers.registry import make_method

    for name, a, b in [("gd", 0.15, None), ("hb", 0.08, 0.5), ("nesterov", 0.1, 0.4)]:
        hyper = {"alpha": a} if b is None else {"alpha": a, "beta": b}
        obj = make_method(name, **hyper)
        by_name = certify_rate(name, 1.0, 10.0, a, b, tol=TOL)
        by_obj = certify_rate(obj, 1.0, 10.0, tol=TOL)
        assert by_obj.certified and by_name.certified
        assert abs(by_obj.rate - by_name.rate) <= TOL + 2e-6, (name, by_obj.rate, by_name.rate)
        assert by_obj.alpha == a and by_obj.beta == (b if b is not None else by_obj.beta)


@pytest.mark.parametrize("name", ["adam", "adaptive-hb", "am-sgd"])
def test_nonlinear_rules_are_refused_with_the_reason(name):
    from polyak.solvers.registry import list_methods, make_method

    if name not in list_methods():
        pytest.skip(f"{name} not registered")
    with pytest.raises(ValueError, match="not linear"):
        certify_rate(make_method(name), 1.0, 10.0)
    with pytest.raises(ValueError, match="not linear"):
        certify_rate(name, 1.0, 10.0)


def test_grid_hyperparameters_are_refused():
    from polyak.solvers.registry import make_method

    with pytest.raises(ValueError, match="grid"):
        certify_rate(make_method("hb", alpha=np.array([0.1, 0.2]), beta=0.5), 1.0, 10.0)
