"""Linear-rate certificates: closed forms, an independent LMI, the LRP IQC LMI, quadratic lower bounds."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest

from polyak.verify.certificates import certify_rate, certify_rates, check_rate, classical_tuning

TOL = 1e-6  # bisection tolerance used below

# the from-scratch reference LMIs below call cvxpy directly; near the feasibility boundary cvxpy
# warns that a solution "may be inaccurate" (status optimal_inaccurate, counted as not feasible)
pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


# ----------------------------------------------------------------------------------------
# independent references, written from scratch here
# ----------------------------------------------------------------------------------------
def quad_lower_bound(mu, L, alpha, beta, gamma, n=4001):
    """max over lambda in [mu, L] of the spectral radius of the 2x2 iteration matrix (plain eigvals)."""
    best = 0.0
    for lam in np.linspace(mu, L, n):
        T = np.array([[1 + beta - alpha * (1 + gamma) * lam, -(beta - alpha * gamma * lam)], [1.0, 0.0]])
        best = max(best, np.abs(np.linalg.eigvals(T)).max())
    return best


def _thg(mu, L, xi, gi, xj, gj):
    """Quadratic part of f_j - f_i + <g_j, x_i - x_j> + 1/(2(1-mu/L)) [...] (unscaled THG), as a matrix."""
    c = 1.0 / (2 * (1 - mu / L))
    dx, dg = xi - xj, gi - gj
    M = 0.5 * (np.outer(gj, dx) + np.outer(dx, gj))
    M += c * (np.outer(dg, dg) / L + mu * np.outer(dx, dx) - (mu / L) * (np.outer(dg, dx) + np.outer(dx, dg)))
    return M


def independent_feasible(rho, mu, L, alpha, beta, gamma):
    """Same Lyapunov question, written differently: variables ordered (u_{k+1}, u_k, x_{k-1}, x_k),
    unnormalised class, unscaled interpolation inequalities, no parameters (rebuilt for each rho)."""
    # w = (u1, u0, xm, x0)
    xk, xm, u0, u1 = (np.eye(4)[i] for i in (3, 2, 1, 0))
    xk1 = (1 + beta) * xk - beta * xm - alpha * u0
    y0 = (1 + gamma) * xk - gamma * xm
    y1 = (1 + gamma) * xk1 - gamma * xk
    z = np.zeros(4)
    pts = {"k": (y0, u0, np.array([1.0, 0])), "k1": (y1, u1, np.array([0, 1.0])), "s": (z, z, np.zeros(2))}
    # Lyapunov state s = (u_k, x_{k-1}, x_k): S0 w = s_k, S1 w = s_{k+1} = (u_{k+1}, x_k, x_{k+1})
    S0 = np.vstack([u0, xm, xk])
    S1 = np.vstack([u1, xk, xk1])
    P = cp.Variable((3, 3), symmetric=True)
    lam = cp.Variable(nonneg=True)
    cons, quad, fco = [], 0, 0
    for a in pts:
        for b in pts:
            if a == b:
                continue
            nu = cp.Variable(nonneg=True)
            (xa, ga, fa), (xb, gb, fb) = pts[a], pts[b]
            quad = quad + nu * _thg(mu, L, xa, ga, xb, gb)
            fco = fco + nu * (fb - fa)
    X = S1.T @ P @ S1 - rho**2 * (S0.T @ P @ S0) - quad
    # V_k - ||x_k||^2 >= 0 given the two inequalities between y_k and x* (S-procedure)
    t1, t2 = cp.Variable(nonneg=True), cp.Variable(nonneg=True)
    (xa, ga, fa), (xs, gs, fs) = pts["k"], pts["s"]
    pos = S0 @ (t1 * _thg(mu, L, xa, ga, xs, gs) + t2 * _thg(mu, L, xs, gs, xa, ga)) @ S0.T  # w -> s coords
    pos = P - np.diag([0, 0, 1.0]) + pos
    cons += [0.5 * (X + X.T) << 0, 0.5 * (pos + pos.T) >> 0]
    cons += [fco[0] == -rho**2 * lam, fco[1] == lam, lam == t1 - t2]
    return _solve_feasibility(cp.Problem(cp.Minimize(0), cons))


def lrp_feasible(rho, mu, L, alpha, beta, gamma):
    """lessard2016 Thm 4 LMI with the sector IQC and the weighted off-by-one IQC (their Lemma 10).

    Augmented state (x_k, x_{k-1}, zeta_k), zeta_{k+1} = -L y_k + u_k (zeta_0 = 0);
    off-by-one output z = (rho^2 zeta_k + L y_k - u_k, u_k - mu y_k), sector z = (L y_k - u_k, u_k - mu y_k),
    both with M = [[0, 1], [1, 0]]; P > 0 (normalised P >= I by homogeneity)."""
    A = np.array([[1 + beta, -beta], [1.0, 0.0]])
    B = np.array([[-alpha], [0.0]])
    C = np.array([[1 + gamma, -gamma]])
    Ah = np.block([[A, np.zeros((2, 1))], [-L * C, np.zeros((1, 1))]])
    Bh = np.vstack([B, [[1.0]]])
    M = np.array([[0.0, 1.0], [1.0, 0.0]])
    # rows of z in terms of (eta, u) = (x_k, x_{k-1}, zeta, u)
    yrow = np.hstack([C[0], [0.0, 0.0]])
    urow = np.array([0, 0, 0, 1.0])
    zrow = np.array([0, 0, 1.0, 0])
    Zs = np.vstack([L * yrow - urow, urow - mu * yrow])
    Zo = np.vstack([rho**2 * zrow + L * yrow - urow, urow - mu * yrow])
    P = cp.Variable((3, 3), symmetric=True)
    l1, l2 = cp.Variable(nonneg=True), cp.Variable(nonneg=True)
    AB = np.hstack([Ah, Bh])
    E = np.hstack([np.eye(3), np.zeros((3, 1))])
    lmi = AB.T @ P @ AB - rho**2 * (E.T @ P @ E) + l1 * (Zs.T @ M @ Zs) + l2 * (Zo.T @ M @ Zo)
    return _solve_feasibility(cp.Problem(cp.Minimize(0), [0.5 * (lmi + lmi.T) << 0, P >> np.eye(3)]))


def _solve_feasibility(prob):
    try:
        prob.solve(solver="CLARABEL")
    except cp.error.SolverError:  # numerical failure: not a certificate
        return False
    return prob.status == "optimal"


def bisect(feasible, lo, hi=1.0, tol=1e-5):
    if not feasible(hi):
        return None
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return hi


def params(method, mu, L, alpha=None, beta=None):
    a, b = classical_tuning(method, mu, L)
    a = a if alpha is None else alpha
    b = b if beta is None else beta
    return a, b, (b if method == "nesterov" else 0.0)


# ----------------------------------------------------------------------------------------
# gradient descent: the closed form
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu,L", [(1.0, 10.0), (0.5, 4.0)])
def test_gd_rate_is_closed_form(mu, L):
    for alpha in np.linspace(0.1 / L, 1.95 / L, 7):
        c = certify_rate("gd", mu, L, alpha, tol=TOL)
        exact = max(abs(1 - alpha * mu), abs(1 - alpha * L))
        assert c.certified and c.status == "optimal"
        # bisection returns the upper end of a bracket of width <= TOL that contains the exact rate;
        # the solver's own accuracy adds a little (1e-6)
        assert exact - 1e-7 <= c.rate <= exact + TOL + 1e-6, (alpha, c.rate, exact)
        assert c.bracket[1] - c.bracket[0] <= TOL
        # the exact rate claimed 1% too small is rejected by the SDP itself
        ok, st = check_rate("gd", mu, L, alpha, rate=0.99 * exact)
        assert not ok


def test_gd_divergent_step_not_certified():
    c = certify_rate("gd", 1.0, 10.0, 0.21)  # alpha L > 2
    assert not c.certified and c.rate is None


# ----------------------------------------------------------------------------------------
# heavy ball and Nesterov: independent LMI, quadratic lower bound, LRP
# ----------------------------------------------------------------------------------------
CASES = [
    ("nesterov", 1.0, 10.0, None, None),
    ("nesterov", 1.0, 100.0, None, None),
    ("nesterov", 1.0, 50.0, 4 / 151, (math.sqrt(151) - 2) / (math.sqrt(151) + 2)),  # LRP's quadratic-optimal
    ("hb", 1.0, 10.0, None, None),
    ("hb", 1.0, 30.0, 1 / 30, 0.5),
    ("hb", 1.0, 100.0, 0.5 / 100, 0.8),
]


@pytest.mark.parametrize("method,mu,L,alpha,beta", CASES)
def test_agrees_with_independent_lmi_and_bounds(method, mu, L, alpha, beta):
    a, b, g = params(method, mu, L, alpha, beta)
    c = certify_rate(method, mu, L, a, b, tol=TOL)
    assert c.certified and c.status == "optimal" and c.solver == "CLARABEL"
    qlb = quad_lower_bound(mu, L, a, b, g)
    ref = bisect(lambda r: independent_feasible(r, mu, L, a, b, g), lo=qlb - 1e-6)
    assert ref is not None
    assert abs(c.rate - ref) <= 1e-4, (c.rate, ref)
    # no function class rate below the worst quadratic
    assert c.rate >= qlb - 1e-7
    # a claim below the certified rate is rejected: by the SDP itself when the certificate is above
    # the quadratic bound, otherwise (tight case) by the bound, and the independent LMI agrees
    if c.rate - qlb > 1e-3:
        claim = max(0.995 * c.rate, qlb + 0.5 * (c.rate - qlb))
        ok, status = check_rate(method, mu, L, a, b, rate=claim)
        assert not ok and status != "below_quadratic_lower_bound"
    else:
        claim = 0.995 * c.rate
        assert check_rate(method, mu, L, a, b, rate=claim) == (False, "below_quadratic_lower_bound")
    assert not independent_feasible(claim, mu, L, a, b, g)
    assert check_rate(method, mu, L, a, b, rate=min(1.0, c.rate + 1e-5))[0]


@pytest.mark.parametrize("method", ["nesterov", "hb"])
def test_at_least_as_tight_as_lrp_off_by_one(method):
    """Our rate <= LRP's sector + weighted off-by-one IQC rate (their Thm 4 + Lemma 10), on a grid."""
    grid = [(10.0, None, None), (40.0, None, None)] if method == "nesterov" else [(10.0, None, None), (20.0, 1 / 20, 0.4), (50.0, 0.5 / 50, 0.7)]
    for L, alpha, beta in grid:
        a, b, g = params(method, 1.0, L, alpha, beta)
        c = certify_rate(method, 1.0, L, a, b, tol=TOL)
        lrp = bisect(lambda r: lrp_feasible(r, 1.0, L, a, b, g), lo=0.0, tol=1e-5)
        if lrp is None:
            continue
        assert c.certified and c.rate <= lrp + 2e-5, (L, c.rate, lrp)
    # the LRP LMI is a genuine comparison (not vacuous): it certifies the GD closed form exactly
    r = bisect(lambda r: lrp_feasible(r, 1.0, 10.0, 0.15, 0.0, 0.0), lo=0.0)
    assert abs(r - 0.85) < 2e-5


def test_hb_quadratic_optimal_large_kappa_has_no_certificate():
    c = certify_rate("hb", 1.0, 100.0)
    assert c.certified is False and c.rate is None and c.status != "optimal"
    a, b, g = params("hb", 1.0, 100.0)
    # independent LMI agrees: nothing certified even at rho very close to 1
    assert not independent_feasible(0.9999, 1.0, 100.0, a, b, g)
    # while the quadratic rate is sqrt(beta) = 9/11: the certificate does not fall back on it
    assert abs(quad_lower_bound(1.0, 100.0, a, b, g) - 9 / 11) < 1e-6


def test_sweep_matches_single_calls():
    Ls = np.array([5.0, 20.0, 80.0])
    res = certify_rates("nesterov", 1.0, Ls)
    for L, r in zip(Ls, res):
        single = certify_rate("nesterov", 1.0, L)
        assert r.rate == pytest.approx(single.rate, abs=1e-9)
        assert r.L == L and r.alpha == pytest.approx(1 / L)


def test_nesterov_beats_classical_bound():
    """Nesterov (alpha = 1/L, beta = (sqrt k - 1)/(sqrt k + 1)): rho^2 <= 1 - 1/sqrt(kappa) (nesterov2004)."""
    for k in (10.0, 100.0, 1000.0):
        c = certify_rate("nesterov", 1.0, k)
        assert c.rate**2 <= 1 - 1 / math.sqrt(k) + 1e-5


@pytest.mark.parametrize(
    "kwargs,word",
    [
        (dict(method="gd", mu=0.0, L=1.0), "mu"),
        (dict(method="gd", mu=-1.0, L=1.0), "mu"),
        (dict(method="gd", mu=2.0, L=1.0), "L"),
        (dict(method="hb", mu=1.0, L=10.0, alpha=-0.1, beta=0.5), "alpha"),
        (dict(method="hb", mu=1.0, L=10.0, alpha=0.1, beta=1.0), "beta"),
        (dict(method="hb", mu=1.0, L=10.0, alpha=0.1, beta=-0.1), "beta"),
        (dict(method="hb", mu=float("nan"), L=10.0), "mu"),
        (dict(method="nesterov", mu=1.0, L=float("inf")), "L"),
        (dict(method="adam", mu=1.0, L=10.0), "method"),
        (dict(method="gd", mu=1.0, L=10.0, alpha=0.1, beta=0.3), "beta"),
    ],
)
def test_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        certify_rate(**kwargs)
