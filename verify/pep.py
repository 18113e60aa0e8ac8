"""N-step worst cases (performance estimation) for gradient descent, heavy ball and Nesterov.

Problem and assumptions
-----------------------
``f`` is mu-strongly convex and L-smooth (``0 < mu < L``), minimiser ``x*``; any dimension. The method
runs N steps of the momentum family with per-step (or constant) parameters::

    y_k     = x_k + gamma_k (x_k - x_{k-1})
    x_{k+1} = x_k + beta_k (x_k - x_{k-1}) - alpha_k grad f(y_k),      x_{-1} = x_0,

``gamma_k = 0`` (gd, hb: the canonical HB form) or ``gamma_k = beta_k`` (nesterov). Schedules fixed in
advance, such as Demon's beta_t, are arrays of length N.

What is computed
----------------
The exact worst case over the class and over starts of

* ``metric="dist"``: ``||x_N - x*||^2`` subject to ``||x_0 - x*||^2 <= 1``, or
* ``metric="fgap"``: ``f(x_N) - f*`` subject to ``f(x_0) - f* <= 1``,

i.e. the smallest constant in ``||x_N - x*||^2 <= c ||x_0 - x*||^2`` (resp. the function gap).

Algorithm
---------
The Gram-matrix SDP of performance estimation (drori2014, taylor2017): variables the Gram matrix of
``(x_0 - x*, g(y_0), ..., g(y_{N-1}), g(x_N))`` and the function values at ``y_0..y_{N-1}, x_N``;
the smooth strongly convex interpolation inequalities (taylor2017, Thm 4) between every ordered pair
of the points ``y_0..y_{N-1}, x_N, x*`` are necessary and sufficient, so the SDP value *is* the worst
case (for dimension >= N + 2). Written directly in cvxpy: all matrices that depend on the step sizes
are ``cp.Parameter`` objects entering affinely (DPP), so one compiled problem per ``(N, metric)``
serves every method, every ``(mu, L)`` and every schedule. Solver CLARABEL; only status ``optimal``
gives a value. The dual multiplier ``tau`` of the initial condition is the dual bound (a dual
feasible point proves ``worst case <= tau``); the gap ``|value - tau|`` and the residual of dual
feasibility (largest eigenvalue of the dual slack matrix, should be <= 0) are reported.

Guarantee (provenance)
----------------------
Exactness of the PEP for S(mu, L): taylor2017 Thm 4 and Thm 5 [paper]. The reference implementation
is PEPit (goujaud2022pepit); :func:`pep_with_pepit` builds the same problem there and the tests
require agreement to 1e-4 relative.

References: drori2014, taylor2017, goujaud2022pepit, lessard2016, chen2019demon.

Example
-------
>>> from polyak.verify.pep import worst_case
>>> wc = worst_case("gd", N=2, mu=1.0, L=10.0, alpha=0.1)      # = (1 - alpha mu)^(2N)
>>> round(wc.value, 6)
0.6561
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .certificates import METHODS, _finite

__all__ = ["WorstCase", "worst_case", "pep_with_pepit", "step_coefficients"]

SOLVER = "CLARABEL"
METRICS = ("dist", "fgap")


@dataclass(frozen=True)
class WorstCase:
    """An N-step worst case. ``value`` (primal) and ``dual_bound`` are ``None`` unless status is optimal."""

    method: str
    N: int
    metric: str
    mu: float
    L: float
    alpha: tuple
    beta: tuple
    value: Optional[float]
    dual_bound: Optional[float]
    gap: Optional[float]
    dual_residual: Optional[float]
    status: str
    seconds: float
    solver: str = SOLVER

    @property
    def certified(self) -> bool:
        return self.status == "optimal" and self.value is not None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("method", "N", "metric", "mu", "L", "value", "dual_bound", "gap",
                                               "dual_residual", "status", "seconds", "solver")} | {
            "alpha": list(self.alpha), "beta": list(self.beta), "certified": self.certified}


def _schedule(name: str, v, N: int, default: float) -> np.ndarray:
    if v is None:
        v = default
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 0:
        arr = np.full(N, float(arr))
    if arr.shape != (N,):
        raise ValueError(f"{name} must be a number or an array of length N={N}; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr}")
    return arr


def _check(method, N, mu, L, alpha, beta, metric):
    from .certificates import classical_tuning

    key = str(method).lower()
    if key not in METHODS:
        raise ValueError(f"method must be one of gd, hb, nesterov; got {method!r}")
    m = METHODS[key]
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N (steps) must be a positive integer; got {N!r}")
    N = int(N)
    mu, L = _finite("mu", mu), _finite("L", L)
    if mu <= 0:
        raise ValueError(f"mu must be > 0; got {mu}")
    if not L > mu:
        raise ValueError(f"L must be > mu for the PEP (0 < mu < L); got mu={mu}, L={L}")
    if metric not in METRICS:
        raise ValueError(f"metric must be 'dist' or 'fgap'; got {metric!r}")
    a0, b0 = classical_tuning(m, mu, L)
    a = _schedule("alpha", alpha, N, a0)
    b = _schedule("beta", beta, N, b0)
    if np.any(a < 0):
        raise ValueError(f"alpha must be >= 0; got {a}")
    if np.any((b < 0) | (b >= 1)):
        raise ValueError(f"beta must lie in [0, 1); got {b}")
    if m == "gd" and np.any(b != 0):
        raise ValueError("beta must be 0 for gd (use hb for momentum)")
    g = b.copy() if m == "nesterov" else np.zeros(N)
    return m, N, mu, L, a, b, g


def step_coefficients(N: int, alpha: np.ndarray, beta: np.ndarray, gamma: np.ndarray):
    """Coefficients of y_0..y_{N-1} and x_N in the basis (x_0 - x*, g(y_0), ..., g(y_{N-1}), g(x_N))."""
    n = N + 2
    x_prev = np.zeros(n)
    x_prev[0] = 1.0
    x = x_prev.copy()
    Y = []
    for k in range(N):
        y = x + gamma[k] * (x - x_prev)
        Y.append(y)
        gk = np.zeros(n)
        gk[1 + k] = 1.0
        x_prev, x = x, x + beta[k] * (x - x_prev) - alpha[k] * gk
    return np.array(Y), x


class _PEP:
    """Compiled PEP for one (N, metric). Parameters: Qs (pairs x n^2), cvec (n^2, dist objective)."""

    def __init__(self, N: int, metric: str) -> None:
        import cvxpy as cp

        self.cp, self.N, self.metric = cp, N, metric
        # points y_0..y_{N-1} [, x_N for fgap], x*; "dist" does not evaluate f at x_N (as PEPit), which
        # also removes a degenerate direction (a free gradient) that slows the interior-point solver
        self.with_xN = metric == "fgap"
        npts = N + (1 if self.with_xN else 0)
        n, m = npts + 1, npts  # Gram size (x_0 - x* and the gradients), function values (f* = 0)
        self.n, self.m = n, m
        self.pairs = [(i, j) for i in range(m + 1) for j in range(m + 1) if i != j]  # index m is x*
        npair = len(self.pairs)
        A = np.zeros((npair, m))
        for c, (i, j) in enumerate(self.pairs):  # f-part of phi_ij: f_j - f_i
            if j < m:
                A[c, j] += 1.0
            if i < m:
                A[c, i] -= 1.0
        self.A = A
        self.Qs = cp.Parameter((npair, n * n), name="Qs")
        self.G = cp.Variable((n, n), PSD=True, name="G")
        self.F = cp.Variable(m, name="F")
        vG = cp.vec(self.G, order="F")
        self.interp = self.Qs @ vG + A @ self.F <= 0
        if metric == "dist":
            self.cvec = cp.Parameter(n * n, name="cvec")
            self.init = self.G[0, 0] <= 1
            obj = self.cvec @ vG
        else:
            self.cvec = None
            self.init = self.F[0] <= 1
            obj = self.F[N]
        self.prob = cp.Problem(cp.Maximize(obj), [self.interp, self.init])

    def data(self, mu, L, alpha, beta, gamma):
        N, n, m = self.N, self.n, self.m
        Y, xN = step_coefficients(N, alpha, beta, gamma)
        Y, xN = Y[:, :n], xN[:n]  # dist: no g(x_N) column (its coefficient is zero anyway)
        E = np.eye(n)
        X = list(Y) + ([xN] if self.with_xN else []) + [np.zeros(n)]
        Gr = [E[1 + k] for k in range(m)] + [np.zeros(n)]
        c = 1.0 / (2.0 * (1.0 - mu / L))
        Qs = np.zeros((len(self.pairs), n * n))
        for r, (i, j) in enumerate(self.pairs):
            dx, dg = X[i] - X[j], Gr[i] - Gr[j]
            M = 0.5 * (np.outer(Gr[j], dx) + np.outer(dx, Gr[j]))
            M += c * (np.outer(dg, dg) / L + mu * np.outer(dx, dx) - (mu / L) * (np.outer(dg, dx) + np.outer(dx, dg)))
            Qs[r] = M.reshape(-1, order="F")
        C = np.outer(xN, xN)
        return Qs, C

    def solve(self, mu, L, alpha, beta, gamma):
        cp = self.cp
        Qs, C = self.data(mu, L, alpha, beta, gamma)
        self.Qs.value = Qs
        if self.cvec is not None:
            self.cvec.value = C.reshape(-1, order="F")
        try:
            with warnings.catch_warnings():  # "Solution may be inaccurate": reported through status
                warnings.simplefilter("ignore", UserWarning)
                self.prob.solve(solver=SOLVER)
            status = self.prob.status
        except cp.error.SolverError as exc:  # pragma: no cover
            return None, None, None, f"solver_error: {exc}"
        if status != cp.OPTIMAL:
            return None, None, None, status
        value = float(self.prob.value)
        nu = np.maximum(np.asarray(self.interp.dual_value, dtype=float), 0.0)
        tau = float(self.init.dual_value)
        # dual slack: objective - sum nu Q - tau N0 must be NSD; f-part must vanish
        n = self.n
        S = -(Qs.T @ nu).reshape(n, n, order="F")
        cf = -self.A.T @ nu
        if self.metric == "dist":
            S += C
            S[0, 0] -= tau
        else:
            cf[self.N] += 1.0
            cf[0] -= tau
        S = 0.5 * (S + S.T)
        resid = max(float(np.linalg.eigvalsh(S).max()), float(np.abs(cf).max()))
        # primal residual: interpolation violations and the smallest eigenvalue of G
        Gv, Fv = self.G.value, self.F.value
        presid = max(float((Qs @ Gv.reshape(-1, order="F") + self.A @ Fv).max()), -float(np.linalg.eigvalsh(Gv).min()), 0.0)
        # CLARABEL can report "optimal" on a badly scaled instance with a wrong value (seen at kappa = 1000
        # with mu = 1); such solutions show residuals far above the solver's tolerances: reject them
        scale = max(1.0, abs(value))
        if resid > 1e-7 * scale or presid > 1e-7 * scale or abs(value - tau) > 1e-6 * scale:
            return None, None, None, f"optimal_rejected(dual_res={resid:.1e}, primal_res={presid:.1e})"
        return value, tau, resid, status


_CACHE: dict = {}


def _pep(N: int, metric: str) -> _PEP:
    key = (N, metric)
    if key not in _CACHE:
        _CACHE[key] = _PEP(N, metric)
    return _CACHE[key]


def worst_case(method: str, N: int, mu: float, L: float, alpha=None, beta=None, metric: str = "dist") -> WorstCase:
    """Exact N-step worst case of ``method`` on S(mu, L) (performance estimation SDP).

    Args:
        method: ``"gd"``, ``"hb"`` or ``"nesterov"``.
        N: number of steps (>= 1).
        mu, L: the class, ``0 < mu < L``.
        alpha, beta: numbers or arrays of length N (schedules); default the classical tuning.
        metric: ``"dist"`` (||x_N - x*||^2 / ||x_0 - x*||^2) or ``"fgap"`` ((f(x_N) - f*)/(f(x_0) - f*)).

    Returns:
        :class:`WorstCase`; ``value`` is ``None`` unless CLARABEL reports ``optimal``.
    """
    m, N, mu, L, a, b, g = _check(method, N, mu, L, alpha, beta, metric)
    t0 = time.perf_counter()
    # The ratios are invariant under f -> s f (mu, L -> s mu, s L; alpha -> alpha / s). CLARABEL can stall
    # short of its tolerances on these degenerate SDPs (PEPit's own CLARABEL solves do too, about one in
    # ten on a grid), or report "optimal" with large residuals and a wrong value on badly scaled instances;
    # then the same compiled problem is re-solved at the next scaling: sqrt(mu L) = 1, then L = 1, then
    # mu = 1. Only an "optimal" status whose primal and dual residuals pass the check is accepted.
    pep = _pep(N, metric)
    for s in (1.0 / math.sqrt(mu * L), 1.0 / L, 1.0 / mu):
        value, tau, resid, status = pep.solve(mu * s, L * s, a / s, b, g)
        if value is not None:
            break
    return WorstCase(m, N, metric, mu, L, tuple(a.tolist()), tuple(b.tolist()), value, tau,
                     None if value is None else abs(value - tau), resid, status, time.perf_counter() - t0)


def pep_with_pepit(method: str, N: int, mu: float, L: float, alpha=None, beta=None, metric: str = "dist",
                   *, return_primal_or_dual: str = "dual", normalize: bool = True) -> float:
    """The same worst case computed by PEPit (the reference implementation; imported lazily).

    Builds ``SmoothStronglyConvexFunction(mu, L)``, runs the same recursion with PEPit's points and
    solves with CLARABEL through PEPit's cvxpy wrapper. Returns PEPit's value (its dual bound by
    default, as PEPit does). ``normalize=True`` (default) rescales to L = 1 first (the ratio is
    invariant): measured here, at mu = 1, L = 1000, N = 5, Nesterov, PEPit with CLARABEL on the raw
    scale reports 4.08 with status optimal where the worst case is 11.60 (it gives 11.60 at L = 1).
    """
    m, N, mu, L, a, b, g = _check(method, N, mu, L, alpha, beta, metric)
    if normalize:  # same ratio at L = 1; PEPit+CLARABEL at mu = 1, L = 1000 returns wrong values
        mu, L, a = mu / L, 1.0, a * L
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=L)
    xs = func.stationary_point()
    fs = func(xs)
    x0 = problem.set_initial_point()
    if metric == "dist":
        problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    else:
        problem.set_initial_condition(func(x0) - fs <= 1)
    x_prev, x = x0, x0
    for k in range(N):
        y = x if g[k] == 0 else x + g[k] * (x - x_prev)
        x_prev, x = x, x + b[k] * (x - x_prev) - a[k] * func.gradient(y)
    if metric == "dist":
        problem.set_performance_metric((x - xs) ** 2)
    else:
        problem.set_performance_metric(func(x) - fs)
    return float(problem.solve(wrapper="cvxpy", solver=SOLVER, verbose=0, return_primal_or_dual=return_primal_or_dual))


def demon_schedule(beta_init: float, N: int) -> np.ndarray:
    """Demon's momentum beta_t = beta_init (1 - t/T) / ((1 - beta_init) + beta_init (1 - t/T)), t = 0..N-1, T = N.

    (chen2019demon; a local copy so that the PEP does not depend on the engine.)
    """
    t = np.arange(N) / N
    return beta_init * (1 - t) / ((1 - beta_init) + beta_init * (1 - t))
