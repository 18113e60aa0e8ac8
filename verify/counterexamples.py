"""Counterexamples: heavy ball cycling on smooth strongly convex functions.

Problem and assumptions
-----------------------
Heavy ball in the canonical form ``x_{k+1} = x_k - alpha f'(x_k) + beta (x_k - x_{k-1})`` on a 1-D
function ``f`` in S(mu, L) (mu-strongly convex, L-smooth), minimiser ``x* = 0``, ``f* = 0``. In 1-D a
function is in S(mu, L) iff ``f'`` is nondecreasing with difference quotients in ``[mu, L]``; a
piecewise-linear ``f'`` (a piecewise-quadratic ``f``) is in the class iff every piece has slope in
``[mu, L]`` and ``f'`` is continuous.

What is computed
----------------
* :func:`lessard_cycle`: lessard2016's example (sec. 4.6): ``f'(x) = 25x`` (x < 1), ``x + 24``
  (1 <= x < 2), ``25x - 24`` (x >= 2); mu = 1, L = 25; HB with the quadratic-optimal
  alpha = 1/9, beta = 4/9. Plain numpy simulation from a grid of starts (``x_{-1} = x_0``), cycle
  detection (period, orbit, residual of periodicity), and the exact orbit from the affine pieces.
  Measured here: from x_0 = 3.3 the iterates fall into a period-3 cycle
  {0.6465, -1.8024, 2.1159}; it visits the first piece twice and the third once (not the middle
  piece); other starts (e.g. x_0 = 0.5, 2.5, 10) converge.
* :func:`find_periodic_orbit`: search for a period-p orbit of HB on *some* function of the class.
  The HB recursion closes cyclically iff ``g_i = ((1 + beta) x_i - beta x_{i-1} - x_{i+1}) / alpha``;
  the points ``(x_i, g_i)`` together with ``(0, 0)`` must be interpolable in S(mu, L), which in 1-D
  is: sorted, consecutive difference quotients in ``[mu, L]``. For each order of the p + 1 points
  this is a linear program in x (homogeneous; normalised to range 1) maximising the smallest gap
  between sorted points. A solution is turned into an explicit piecewise-quadratic function (knots at
  the orbit points, linear ``f'`` in between, slope mu outside), checked to be in the class, and HB
  is simulated on it to confirm the cycle.

Guarantee (provenance)
----------------------
The cycle of lessard2016 sec. 4.6 [paper]; goujaud2023 prove that every HB tuning that accelerates on
quadratics cycles on some function of the class [paper]. Consistency: where
:func:`polyak.verify.certificates.certify_rate` certifies a rate < 1, no orbit can exist (tested).

References: lessard2016, goujaud2023, taylor2017.

Example
-------
>>> from polyak.verify.counterexamples import lessard_cycle, find_periodic_orbit
>>> c = lessard_cycle()
>>> c.period, c.converges
(3, False)
>>> find_periodic_orbit(1.0, 25.0, 1 / 9, 4 / 9, period=3).found
True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

__all__ = ["PiecewiseQuadratic", "CycleReport", "PeriodicOrbit", "lessard_cycle", "find_periodic_orbit",
           "hb_simulate", "detect_cycle", "find_periodic_orbit_linear", "linear_simulate_1d"]


@dataclass(frozen=True)
class PiecewiseQuadratic:
    """1-D f with continuous piecewise-linear f': values ``gvals`` at sorted ``knots``, linear in
    between, slopes ``left_slope``/``right_slope`` outside; ``f(0) = 0`` (so f* = 0 when f'(0) = 0)."""

    knots: tuple
    gvals: tuple
    left_slope: float
    right_slope: float

    def grad(self, x):
        k, g = np.asarray(self.knots), np.asarray(self.gvals)
        x = np.asarray(x, dtype=float)
        inside = np.interp(x, k, g)
        return np.where(x < k[0], g[0] + self.left_slope * (x - k[0]),
                        np.where(x > k[-1], g[-1] + self.right_slope * (x - k[-1]), inside))

    def value(self, x: float) -> float:
        """f(x) = integral of f' from 0 to x (exact: trapezoid on a piecewise-linear integrand)."""
        lo, hi = min(0.0, x), max(0.0, x)
        pts = np.unique(np.concatenate([[lo, hi], [t for t in self.knots if lo < t < hi]]))
        gv = self.grad(pts)
        integral = float(np.sum(0.5 * (gv[1:] + gv[:-1]) * np.diff(pts)))
        return integral if x >= 0 else -integral

    def slopes(self) -> np.ndarray:
        k, g = np.asarray(self.knots), np.asarray(self.gvals)
        inner = np.diff(g) / np.diff(k) if len(k) > 1 else np.array([])
        return np.concatenate([[self.left_slope], inner, [self.right_slope]])

    def in_class(self, mu: float, L: float, tol: float = 1e-9) -> dict:
        """Numerical membership checks for S(mu, L) with minimiser 0."""
        s = self.slopes()
        xs = np.linspace(min(self.knots) - 1, max(self.knots) + 1, 2001)
        dg = np.diff(self.grad(xs)) / np.diff(xs)
        checks = {
            "slopes_in_[mu,L]": bool(np.all(s >= mu - tol) and np.all(s <= L + tol)),
            "derivative_monotone": bool(np.all(np.diff(self.grad(xs)) >= -tol)),
            "sampled_quotients_in_[mu,L]": bool(np.all(dg >= mu - 1e-6) and np.all(dg <= L + 1e-6)),
            "grad_at_0_is_0": bool(abs(float(self.grad(0.0))) <= tol * max(1.0, np.abs(self.gvals).max())),
            "knots_sorted": bool(np.all(np.diff(self.knots) > 0)),
        }
        checks["in_class"] = all(checks.values())
        return checks


def lessard_function() -> PiecewiseQuadratic:
    """lessard2016's f: f'(x) = 25x (x < 1), x + 24 (1 <= x < 2), 25x - 24 (x >= 2)."""
    return PiecewiseQuadratic(knots=(0.0, 1.0, 2.0), gvals=(0.0, 25.0, 26.0), left_slope=25.0, right_slope=25.0)


def hb_simulate(grad, x0: float, alpha: float, beta: float, steps: int, x_prev: Optional[float] = None) -> np.ndarray:
    """Plain float64 heavy ball in 1-D; returns x_0..x_steps (x_{-1} = x_0 unless given)."""
    xs = np.empty(steps + 1)
    xp = float(x0) if x_prev is None else float(x_prev)
    x = float(x0)
    xs[0] = x
    for k in range(steps):
        xp, x = x, x - alpha * float(grad(x)) + beta * (x - xp)
        xs[k + 1] = x
    return xs


def detect_cycle(xs: np.ndarray, max_period: int = 50, tol: float = 1e-9):
    """Smallest p with ``|x_{k+p} - x_k| <= tol`` (relative to the orbit's size) over the last 4p points.

    Returns (period, orbit points, residual) or (None, None, residual of period 1)."""
    scale = max(1.0, float(np.abs(xs[-4 * max_period:]).max()))
    for p in range(1, max_period + 1):
        tail = xs[-4 * p - 1:]
        res = float(np.abs(tail[p:] - tail[:-p]).max()) / scale
        if res <= tol:
            return p, xs[-p:].copy(), res
    return None, None, float(np.abs(xs[-1] - xs[-2])) / scale


@dataclass(frozen=True)
class CycleReport:
    """Result of :func:`lessard_cycle`."""

    start: float
    period: Optional[int]
    orbit: tuple
    exact_orbit: tuple
    residual: float
    converges: bool
    final_distance: float
    converging_starts: tuple
    cycling_starts: tuple
    function: PiecewiseQuadratic
    class_checks: dict = field(default_factory=dict)


def _exact_orbit(f: PiecewiseQuadratic, approx: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Solve the periodic HB equations exactly with the affine piece of f' that each point lies on."""
    p = len(approx)
    k, g = np.asarray(f.knots), np.asarray(f.gvals)
    slopes = f.slopes()
    Amat, rhs = np.zeros((p, p)), np.zeros(p)
    for i, xi in enumerate(approx):
        j = int(np.searchsorted(k, xi))  # piece index: 0 = left tail, len(k) = right tail
        s = slopes[j]
        kn = k[0] if j == 0 else k[j - 1]
        c = (g[0] if j == 0 else g[j - 1]) - s * kn  # f'(x) = s x + c on this piece
        # x_{i+1} - (1 + beta) x_i + beta x_{i-1} + alpha (s x_i + c) = 0
        Amat[i, (i + 1) % p] += 1.0
        Amat[i, i] += -(1 + beta) + alpha * s
        Amat[i, (i - 1) % p] += beta
        rhs[i] = -alpha * c
    return np.linalg.solve(Amat, rhs)


def lessard_cycle(starts=(3.3, 0.5, 1.5, 2.5, 3.0, 10.0, -3.0), steps: int = 3000) -> CycleReport:
    """Reproduce lessard2016's heavy-ball limit cycle (alpha = 1/9, beta = 4/9, mu = 1, L = 25).

    Simulates from each start (x_{-1} = x_0) for ``steps`` steps; the first start that cycles is
    reported with its period, the orbit seen in simulation, the orbit solved exactly from the
    affine pieces, the periodicity residual and the distance to x* = 0 at the end.
    """
    f = lessard_function()
    alpha, beta = 1.0 / 9.0, 4.0 / 9.0
    cycling, converging, first = [], [], None
    for x0 in starts:
        xs = hb_simulate(f.grad, x0, alpha, beta, steps)
        if abs(xs[-1]) < 1e-12 and abs(xs[-2]) < 1e-12:
            converging.append(float(x0))
            continue
        period, orbit, res = detect_cycle(xs)
        if period is not None:
            cycling.append(float(x0))
            if first is None:
                first = (float(x0), period, orbit, res, float(np.abs(xs[-period:]).min()))
    if first is None:
        return CycleReport(float(starts[0]), None, (), (), math.inf, True, 0.0, tuple(converging), (), f,
                           f.in_class(1.0, 25.0))
    x0, period, orbit, res, dist = first
    exact = _exact_orbit(f, orbit, alpha, beta)
    return CycleReport(x0, period, tuple(orbit.tolist()), tuple(exact.tolist()), res, False, dist,
                       tuple(converging), tuple(cycling), f, f.in_class(1.0, 25.0))


@dataclass(frozen=True)
class PeriodicOrbit:
    """Result of :func:`find_periodic_orbit`; ``found=False`` means no orbit of that period exists
    (every ordering's LP is infeasible or degenerate: margin <= ``min_gap``)."""

    found: bool
    mu: float
    L: float
    alpha: float
    beta: float
    period: int
    orbit: tuple = ()
    gradients: tuple = ()
    margin: float = 0.0
    function: Optional[PiecewiseQuadratic] = None
    class_checks: dict = field(default_factory=dict)
    simulation_residual: Optional[float] = None
    orderings_tried: int = 0
    method: str = "hb"
    points: tuple = ()


def find_periodic_orbit(mu: float, L: float, alpha: Any, beta: Optional[float] = None, period: Optional[int] = None, *,
                        min_gap: float = 1e-7, cycles: int = 5) -> PeriodicOrbit:
    """Search for a period-``period`` orbit of heavy ball (or of any linear method) on a 1-D function in S(mu, L).

    Args:
        mu, L: the class (0 < mu <= L).
        alpha, beta: heavy-ball parameters (alpha > 0, 0 <= beta < 1). Or pass a linear Method
            (``make_method(...)``, a ``polyak.linear_method`` definition called with its
            hyperparameters) as ``alpha`` and leave ``beta`` out: :func:`find_periodic_orbit_linear`.
        period: p >= 2 (at most 6: the search enumerates the (p+1)! orders of the points and 0).
        min_gap: smallest admissible gap between sorted points (relative to the orbit's range 1).
        cycles: cycles of HB simulated on the constructed function to confirm the orbit.

    Returns:
        :class:`PeriodicOrbit`: the orbit, the gradients, the explicit function, its class checks and
        the simulation residual, or ``found=False``.
    """
    from scipy.optimize import linprog

    from .certificates import _finite

    if beta is None and not isinstance(alpha, (int, float, np.number)):
        if period is None:
            raise ValueError("find_periodic_orbit: give period=")
        return find_periodic_orbit_linear(alpha, mu, L, period, min_gap=min_gap, cycles=cycles)
    if beta is None or period is None:
        raise ValueError("find_periodic_orbit: give alpha, beta and period (or a Method as alpha, and period)")
    mu, L, alpha, beta = (_finite(n, v) for n, v in (("mu", mu), ("L", L), ("alpha", alpha), ("beta", beta)))
    if mu <= 0 or L < mu:
        raise ValueError(f"need 0 < mu <= L; got mu={mu}, L={L}")
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0; got {alpha}")
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1); got {beta}")
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or not 2 <= period <= 6:
        raise ValueError(f"period must be an integer in [2, 6]; got {period!r}")
    p = int(period)
    I = np.eye(p)
    Gm = ((1 + beta) * I - beta * np.roll(I, -1, axis=1) - np.roll(I, 1, axis=1)) / alpha  # g = Gm x
    # rows of x_{i-1}: np.roll(I, -1, axis=1)[i] = e_{i-1}; x_{i+1}: np.roll(I, 1, axis=1)[i] = e_{i+1}
    Z = np.vstack([I, np.zeros(p)])          # positions of the p points and of x* = 0
    GZ = np.vstack([Gm, np.zeros(p)])        # their gradients
    best = None
    tried = 0
    # x_1 is fixed to be the first point of the orbit; orderings of the p + 1 points (orbit and 0)
    for order in itertools.permutations(range(p + 1)):
        tried += 1
        A_ub, b_ub = [], []
        for a_, b_ in zip(order[:-1], order[1:]):
            d = Z[b_] - Z[a_]
            dg = GZ[b_] - GZ[a_]
            A_ub.append(np.append(-d, 1.0)); b_ub.append(0.0)          # d >= t
            A_ub.append(np.append(mu * d - dg, 0.0)); b_ub.append(0.0)  # dg >= mu d
            A_ub.append(np.append(dg - L * d, 0.0)); b_ub.append(0.0)   # dg <= L d
        A_eq = [np.append(Z[order[-1]] - Z[order[0]], 0.0)]
        res = linprog(np.append(np.zeros(p), -1.0), A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=[1.0],
                      bounds=[(None, None)] * p + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > min_gap and (best is None or -res.fun > best[0]):
            best = (-res.fun, res.x[:p])
    if best is None:
        return PeriodicOrbit(False, mu, L, alpha, beta, p, orderings_tried=tried)
    margin, x = best
    g = Gm @ x
    pts = np.append(x, 0.0)
    gs = np.append(g, 0.0)
    srt = np.argsort(pts)
    f = PiecewiseQuadratic(tuple(pts[srt].tolist()), tuple(gs[srt].tolist()), mu, mu)
    checks = f.in_class(mu, L)
    # simulate HB on the constructed function from (x_{-1}, x_0) = (x_p, x_1)
    xs = hb_simulate(f.grad, x[0], alpha, beta, cycles * p, x_prev=x[-1])
    resid = float(np.abs(xs[:-1] - np.tile(x, cycles)).max())
    return PeriodicOrbit(True, mu, L, alpha, beta, p, tuple(x.tolist()), tuple(g.tolist()), float(margin), f,
                         checks, resid, tried)


# ----------------------------------------------------------------------------------------------
# any linear method: the same LP in the state-space form
# ----------------------------------------------------------------------------------------------
def linear_simulate_1d(ss: Any, grad: Any, xi0: Any, steps: int) -> np.ndarray:
    """Plain float64 simulation of a state-space method in 1-D: returns the states (steps + 1, n).

    ``xi_{k+1} = A xi_k + B u_k``, ``u_{k,j} = f'(C_j xi_k + D_j u_k)`` for calls j = 0..m-1 in order.
    """
    A, B, C, D = ss.A, ss.B, ss.C, ss.D
    m = B.shape[1]
    xi = np.asarray(xi0, dtype=float).reshape(-1).copy()
    out = np.empty((steps + 1, xi.size))
    out[0] = xi
    for k in range(steps):
        u = np.zeros(m)
        for j in range(m):
            u[j] = float(grad(C[j] @ xi + D[j, :j] @ u[:j]))
        xi = A @ xi + B @ u
        out[k + 1] = xi
    return out


def find_periodic_orbit_linear(method: Any, mu: float, L: float, period: int, *, min_gap: float = 1e-7,
                               cycles: int = 5, max_points: int = 7) -> PeriodicOrbit:
    """Search for a period-``period`` orbit of a linear method on a 1-D function in S(mu, L).

    The method's state-space form (A, B, C, D) (``polyak.solvers.state_space``; constant scalar
    hyperparameters) closes into a cycle xi_{i+1 mod p} = A xi_i + B u_i. Its gradient points
    (y_{i,j}, u_{i,j}), y = C xi_i + D u_i, with (0, 0) must be interpolable in S(mu, L): in 1-D,
    sorted with consecutive difference quotients in [mu, L]. For each order of the p m + 1 points
    that is a linear program (homogeneous, normalised to range 1) maximising the smallest gap,
    exactly as for heavy ball in :func:`find_periodic_orbit`. A solution gives an explicit
    piecewise-quadratic function, checked to be in the class, on which the method is simulated
    (:func:`linear_simulate_1d`) to confirm the cycle.

    Args:
        method: a linear Method (or a name, or a ``linear_method`` definition with defaults).
        mu, L, period, min_gap, cycles: as in :func:`find_periodic_orbit` (period >= 1 here).
        max_points: refuse searches with more than this many points p m + 1 ((p m + 1)! LPs).
    """
    from scipy.optimize import linprog

    from polyak.solvers.linear import _as_method, constant_state_space

    from .certificates import _finite

    mu, L = _finite("mu", mu), _finite("L", L)
    if mu <= 0 or L < mu:
        raise ValueError(f"need 0 < mu <= L; got mu={mu}, L={L}")
    m_ = _as_method(method)
    ss = constant_state_space(m_, "find_periodic_orbit")[1]
    n, m = ss.A.shape[0], ss.B.shape[1]
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise ValueError(f"period must be a positive integer; got {period!r}")
    p = int(period)
    npts = p * m + 1
    if npts > max_points:
        raise ValueError(f"find_periodic_orbit: period {p} with {m} gradient call(s) per step gives {npts} points "
                         f"(> max_points={max_points}: {npts}! orderings); lower the period")
    nv = p * n + p * m  # xi_0..xi_{p-1}, then u_0..u_{p-1}
    X = lambda i: slice(i * n, (i + 1) * n)  # noqa: E731
    U = lambda i: slice(p * n + i * m, p * n + (i + 1) * m)  # noqa: E731
    A_eq_dyn = []
    for i in range(p):
        for r in range(n):
            row = np.zeros(nv)
            row[X((i + 1) % p)][r] = 1.0
            row[X(i)] -= ss.A[r]
            row[U(i)] -= ss.B[r]
            A_eq_dyn.append(row)
    Y, G = [], []  # each point's position and gradient as linear forms in the variables
    for i in range(p):
        for j in range(m):
            y = np.zeros(nv)
            y[X(i)] = ss.C[j]
            y[U(i)] = ss.D[j]
            g = np.zeros(nv)
            g[U(i)][j] = 1.0
            Y.append(y)
            G.append(g)
    Y.append(np.zeros(nv))
    G.append(np.zeros(nv))
    Y, G = np.array(Y), np.array(G)
    best, tried = None, 0
    for order in itertools.permutations(range(npts)):
        tried += 1
        A_ub, b_ub = [], []
        for a_, b_ in zip(order[:-1], order[1:]):
            d, dg = Y[b_] - Y[a_], G[b_] - G[a_]
            A_ub.append(np.append(-d, 1.0)); b_ub.append(0.0)          # d >= t
            A_ub.append(np.append(mu * d - dg, 0.0)); b_ub.append(0.0)  # dg >= mu d
            A_ub.append(np.append(dg - L * d, 0.0)); b_ub.append(0.0)   # dg <= L d
        A_eq = [np.append(r, 0.0) for r in A_eq_dyn] + [np.append(Y[order[-1]] - Y[order[0]], 0.0)]
        b_eq = [0.0] * len(A_eq_dyn) + [1.0]
        res = linprog(np.append(np.zeros(nv), -1.0), A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                      bounds=[(None, None)] * nv + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > min_gap and (best is None or -res.fun > best[0]):
            best = (-res.fun, res.x[:nv])
    nan = float("nan")
    if best is None:
        return PeriodicOrbit(False, mu, L, nan, nan, p, orderings_tried=tried, method=m_.name)
    margin, z = best
    pts, gs = Y @ z, G @ z
    srt = np.argsort(pts)
    f = PiecewiseQuadratic(tuple(pts[srt].tolist()), tuple(gs[srt].tolist()), mu, mu)
    checks = f.in_class(mu, L)
    xi0 = z[X(0)]
    states = linear_simulate_1d(ss, f.grad, xi0, cycles * p)
    cyc = np.array([z[X(i % p)] for i in range(cycles * p + 1)])
    resid = float(np.abs(states - cyc).max())
    orbit = tuple(float(z[X(i)][0]) for i in range(p))
    grads = tuple(float(v) for i in range(p) for v in z[U(i)])
    return PeriodicOrbit(True, mu, L, nan, nan, p, orbit, grads, float(margin), f, checks, resid, tried,
                         method=m_.name, points=tuple(pts[:-1].tolist()))
