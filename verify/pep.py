"""N-step worst cases (performance estimation) for any linear first-order method.

Problem and assumptions
-----------------------
``f`` is mu-strongly convex and L-smooth (``0 < mu < L``), minimiser ``x*``; any dimension. The
method is linear with coefficients that may depend on the step k (not on the iterates), given in
state-space form (one :class:`polyak.solvers.linear.StateSpace` per step, or one for all steps)::

    y_k^j       = (C_k xi_k + D_k u_k)_j,   u_k^j = grad f(y_k^j),   j = 0..m-1   (D_k strictly lower triangular)
    xi_{k+1}    = A_k xi_k + B_k u_k,

``xi_k`` stacks n state vectors, every one of them equal to ``x_0`` at k = 0; state 0 is the measured
iterate ``x_k``. Every row of ``A_k`` and of ``C_k`` must sum to 1 (``x*`` is a fixed point), which is
checked. The legacy names ``"gd"``, ``"hb"`` and ``"nesterov"`` with ``alpha``, ``beta`` (numbers or
arrays of length N) stand for the momentum family::

    y_k     = x_k + gamma_k (x_k - x_{k-1})
    x_{k+1} = x_k + beta_k (x_k - x_{k-1}) - alpha_k grad f(y_k),      x_{-1} = x_0,

``gamma_k = 0`` (gd, hb: the canonical HB form) or ``gamma_k = beta_k`` (nesterov).

What is computed
----------------
The exact worst case over the class and over starts of

* ``metric="dist"``: ``||x_N - x*||^2`` subject to ``||x_0 - x*||^2 <= 1``, or
* ``metric="fgap"``: ``f(x_N) - f*`` subject to ``f(x_0) - f* <= 1``,

i.e. the smallest constant in ``||x_N - x*||^2 <= c ||x_0 - x*||^2`` (resp. in
``f(x_N) - f* <= c (f(x_0) - f*)``), and a worst-case instance attaining it (:class:`WorstInstance`).

Algorithm
---------
The Gram-matrix SDP of performance estimation (drori2014, taylor2017), as PEPit builds it: variables
the Gram matrix ``G`` of the basis ``(x_0 - x*, g_1, ..., g_p)`` (the gradients at the distinct query
points ``y_k^j``, plus ``x_N`` for ``fgap``) and the function values there (``f* = 0``). Every point is
a fixed combination of the basis, obtained by running the recursion on coefficient vectors. The smooth
strongly convex interpolation inequalities (taylor2017, Thm 4) between every ordered pair of points
(``x*`` included) are necessary and sufficient, so the SDP value *is* the worst case (for dimension at
least the size of the basis). Query points that coincide (``y_0 = x_0`` for every momentum method)
share one gradient, which removes degenerate directions.

The conic program is handed to CLARABEL directly (no modelling layer, nothing cached between calls:
identical inputs give identical results). Before solving, the problem is rescaled, which leaves the
ratio unchanged: ``f -> s f`` maps (mu, L, step sizes) to (s mu, s L, step sizes / s), and the objective
is divided by the largest ratio over the 1-D quadratics ``lambda x^2 / 2``, ``lambda`` in [mu, L] (a lower
bound on the worst case), so that the solver's absolute tolerances are relative ones. A solve is
accepted only if CLARABEL reports ``Solved`` (``optimal``) *and* the a-posteriori checks pass (in the
scaled problem, relative to ``max(1, value)``): Gram matrix PSD and every interpolation inequality and
the initial condition satisfied to ``PRIMAL_TOL``; the dual multipliers (``nu >= 0``, ``tau``) give a
dual slack matrix that is NSD and function-value equations that hold, to ``DUAL_TOL``;
``|value - tau| <= GAP_TOL``; and the first-order bound on the error of the value that these residuals
imply (:func:`check_solution`: the dual residual times the trace of ``G``, and so on) is at most
``ACC_TOL`` relative. Otherwise the next attempt of :data:`ATTEMPTS` is tried: the conic
program in its dual embedding (variables the multipliers, the dual slack matrix in the PSD cone; this
is the one that converges best) or its primal one (variables ``G`` and ``F``, as PEPit), at the scalings
``L = 1``, ``sqrt(mu L) = 1`` or ``mu = 1``, with CLARABEL's defaults or with its static
regularisation or equilibration off (on these degenerate, low-rank optima the default
regularisation stalls the dual residual just above tolerance, CLARABEL's ``AlmostSolved``). When no
attempt passes, ``value`` is ``None``, ``status`` is the last status, and ``tried`` lists every attempt
with its status.

The worst-case instance is recovered from ``G`` by an eigen-factorisation ``G = P' P`` (as PEPit
does): ``x_0 - x* = P e_0``, the gradients ``P e_i``, the points, and the function values. It is then
checked on its own: the interpolation inequalities hold for the recovered vectors (so they are the
samples of a function of S(mu, L), taylor2017 Thm 4), and running the state-space recursion from
``x_0`` with those gradients visits the same points and reproduces the reported value.

Guarantee (provenance)
----------------------
Exactness of the PEP for S(mu, L): taylor2017 Thm 4 and Thm 5 [paper]. The reference implementation
is PEPit (goujaud2022pepit); :func:`pep_with_pepit` builds the legacy problems there, and the tests
build every method's problem in PEPit from its update equations and require agreement to 1e-5
relative on a seeded random grid.

References: drori2014, taylor2017, goujaud2022pepit, lessard2016, chen2019demon.

Example
-------
>>> from polyak.verify.pep import worst_case
>>> wc = worst_case("gd", N=2, mu=1.0, L=10.0, alpha=0.1)      # = (1 - alpha mu)^(2N)
>>> round(wc.value, 6)
0.6561
>>> wc.instance.check()["value"] < 1e-6     # rerunning gd on the worst-case gradients gives it back
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from .certificates import METHODS, _finite

__all__ = ["WorstCase", "WorstInstance", "worst_case", "worst_cases", "pep_with_pepit", "step_coefficients",
           "legacy_state_space", "check_solution"]

SOLVER = "CLARABEL"
METRICS = ("dist", "fgap")
#: a-posteriori tolerances, in the scaled problem, relative to max(1, value)
PRIMAL_TOL = 1e-7
DUAL_TOL = 1e-7
GAP_TOL = 1e-6
#: largest accepted first-order error bound on the value, relative (see :func:`check_solution`)
ACC_TOL = 1e-6
#: settings of the refined attempts: more iterations and iterative refinement, less static regularisation
REFINED = {"max_iter": 400, "iterative_refinement_max_iter": 50, "iterative_refinement_reltol": 1e-14,
           "iterative_refinement_abstol": 1e-14, "static_regularization_constant": 1e-10}
#: the attempts, in order: (embedding, scaling, CLARABEL settings). Embedding "dual": variables the
#: multipliers (nu, tau), the dual slack matrix in the PSD cone (G and F come back as its dual);
#: "primal": variables (G, F) as PEPit. Scaling "L" is L = 1, "geo" is sqrt(mu L) = 1, "mu" is mu = 1.
NOREG = {"static_regularization_enable": False}
NOEQ = {"equilibrate_enable": False}
ATTEMPTS = (
    ("dual", "L", {}),
    ("dual", "L", NOREG),
    ("dual", "geo", {}),
    ("dual", "geo", NOREG),
    ("dual", "geo", NOEQ),
    ("dual", "mu", NOREG),
    ("primal", "L", {}),
    ("primal", "geo", NOREG),
    ("dual", "L", REFINED),
)


def attempts_for(metric: str) -> tuple:
    """:data:`ATTEMPTS` in the order used for ``metric``: the scaling that balances the Gram matrix
    first. For dist, ``L = 1`` (``||x_0 - x*|| = 1``, gradients at most L = 1); for fgap,
    ``sqrt(mu L) = 1`` (``||x_0 - x*||^2 <= 2/mu`` and ``||g||^2 <= 2 L`` are then of the same size)."""
    if metric == "dist":
        return ATTEMPTS
    first = [a for a in ATTEMPTS if a[1] == "geo"]
    return tuple(first + [a for a in ATTEMPTS if a[1] != "geo"])


@dataclass(frozen=True)
class _SS:
    """A minimal state-space record (the fields of :class:`polyak.solvers.linear.StateSpace`)."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray


@dataclass(frozen=True)
class WorstInstance:
    """A worst-case instance recovered from the Gram matrix (``x* = 0``, ``f* = 0``).

    ``x0`` is the start, ``points`` (p, d) the distinct query points with ``gradients`` (p, d) and
    ``values`` (p,), ``calls`` (N, m) the index into ``points`` of each gradient call ``y_k^j``,
    ``xN`` the measured iterate after N steps (with ``fN``, ``gN`` when the metric is fgap, else None),
    ``f0`` the value at ``x0`` (None for dist), ``value`` the worst case as reported.
    """

    mu: float
    L: float
    metric: str
    steps: tuple
    x0: np.ndarray
    points: np.ndarray
    gradients: np.ndarray
    values: np.ndarray
    calls: np.ndarray
    xN: np.ndarray
    fN: Optional[float]
    f0: Optional[float]
    value: float

    @property
    def dimension(self) -> int:
        return int(self.x0.shape[0])

    def interpolation_violation(self) -> float:
        """Largest violation of the S(mu, L) interpolation inequalities over all ordered pairs of the
        points and ``x*``, relative to the instance's scale of function values
        ``max(L ||x0 - x*||^2, max_i |f_i|, max_i ||g_i||^2 / L)`` (<= 0 up to rounding: they interpolate)."""
        mu, L = self.mu, self.L
        X = np.vstack([self.points, np.zeros_like(self.x0)])
        Gr = np.vstack([self.gradients, np.zeros_like(self.x0)])
        F = np.r_[self.values, 0.0]
        c = 1.0 / (2.0 * (1.0 - mu / L))
        i, j = np.where(~np.eye(len(F), dtype=bool))
        dx, dg = X[i] - X[j], Gr[i] - Gr[j]
        phi = (F[j] - F[i] + np.einsum("pd,pd->p", Gr[j], dx)
               + c * (np.einsum("pd,pd->p", dg, dg) / L + mu * np.einsum("pd,pd->p", dx, dx)
                      - 2 * mu / L * np.einsum("pd,pd->p", dg, dx)))
        scale = max(L * float(self.x0 @ self.x0), float(np.abs(F).max()),
                    float(np.einsum("pd,pd->p", Gr, Gr).max()) / L)
        return float(phi.max()) / scale if len(phi) else 0.0

    def rerun(self):
        """Run the state-space recursion from ``x0`` with the instance's gradients; return
        ``(x_N, metric value, largest distance of a query point from the stored one)``."""
        d = self.dimension
        P = self.points
        xi = [self.x0.copy() for _ in range(self.steps[0].A.shape[0])]
        miss = 0.0
        for k, ss in enumerate(self.steps):
            us = []
            for j in range(ss.C.shape[0]):
                y = sum(ss.C[j, i] * xi[i] for i in range(len(xi))) + sum(
                    (ss.D[j, l] * us[l] for l in range(j)), np.zeros(d))
                p = int(self.calls[k, j])
                miss = max(miss, float(np.linalg.norm(y - P[p])))
                us.append(self.gradients[p])
            xi = [sum(ss.A[i, l] * xi[l] for l in range(len(xi))) + sum(ss.B[i, j] * us[j] for j in range(len(us)))
                  for i in range(len(xi))]
        xN = xi[0]
        if self.metric == "dist":
            val = float(xN @ xN) / float(self.x0 @ self.x0)
        else:
            val = float(self.fN) / float(self.f0)
        return xN, val, miss

    def check(self) -> dict:
        """Relative residuals of the instance: ``interpolation`` (max violation, <= 0 ideal), ``points``
        (rerun query points vs stored, relative to ||x0||), ``xN`` and ``value`` (rerun vs reported)."""
        xN, val, miss = self.rerun()
        r0 = math.sqrt(float(self.x0 @ self.x0))
        return {"interpolation": self.interpolation_violation(),
                "points": miss / r0,
                "xN": float(np.linalg.norm(xN - self.xN)) / r0,
                "value": abs(val - self.value) / max(abs(self.value), 1e-300)}


@dataclass(frozen=True)
class WorstCase:
    """An N-step worst case. ``value`` (primal) and ``dual_bound`` are ``None`` unless a solve was
    ``optimal`` and passed the a-posteriori checks; ``tried`` lists every attempt (embedding, scaling,
    settings, status); ``accuracy`` is the first-order bound on ``|value - worst case| / value`` of
    :func:`check_solution` (at most :data:`ACC_TOL`)."""

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
    primal_residual: Optional[float] = None
    tried: tuple = ()
    instance: Optional[WorstInstance] = field(default=None, repr=False, compare=False)
    accuracy: Optional[float] = None

    @property
    def certified(self) -> bool:
        return self.status == "optimal" and self.value is not None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("method", "N", "metric", "mu", "L", "value", "dual_bound", "gap",
                                               "dual_residual", "primal_residual", "accuracy", "status", "seconds",
                                               "solver")} | {
            "alpha": list(self.alpha), "beta": list(self.beta), "certified": self.certified,
            "tried": [list(t) for t in self.tried]}


# ----------------------------------------------------------------------------------------------
# input


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


def _check_class(N, mu, L, metric):
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N (steps) must be a positive integer; got {N!r}")
    mu, L = _finite("mu", mu), _finite("L", L)
    if mu <= 0:
        raise ValueError(f"mu must be > 0; got {mu}")
    if not L > mu:
        raise ValueError(f"L must be > mu for the PEP (0 < mu < L); got mu={mu}, L={L}")
    if metric not in METRICS:
        raise ValueError(f"metric must be 'dist' or 'fgap'; got {metric!r}")
    return int(N), mu, L


def _check(method, N, mu, L, alpha, beta, metric):
    """Validate a legacy call; return ``(m, N, mu, L, alpha, beta, gamma)`` (arrays of length N)."""
    from .certificates import classical_tuning

    key = str(method).lower()
    if key not in METHODS:
        raise ValueError(f"method must be one of gd, hb, nesterov (or a linear Method / StateSpace); got {method!r}")
    m = METHODS[key]
    N, mu, L = _check_class(N, mu, L, metric)
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


def legacy_state_space(alpha: float, beta: float, gamma: float) -> _SS:
    """State space of ``y = x + gamma (x - x_prev)``, ``x+ = x + beta (x - x_prev) - alpha grad f(y)``
    on the state ``(x, x_prev)``."""
    return _SS(A=np.array([[1.0 + beta, -beta], [1.0, 0.0]]), B=np.array([[-alpha], [0.0]]),
               C=np.array([[1.0 + gamma, -gamma]]), D=np.zeros((1, 1)))


def _as_ss(obj, name: str):
    from polyak.solvers.linear import check_state_space

    ss = check_state_space(obj, name)
    return _SS(ss.A, ss.B, ss.C, ss.D)


def _resolve(method, N: int, alpha, beta, mu, L):
    """``(name, [StateSpace] * N, alpha tuple, beta tuple)`` for any accepted ``method``."""
    if isinstance(method, str) and method.lower() in METHODS:
        m, N, mu, L, a, b, g = _check(method, N, mu, L, alpha, beta, "dist")
        return m, [legacy_state_space(a[k], b[k], g[k]) for k in range(N)], tuple(a.tolist()), tuple(b.tolist())
    if alpha is not None or beta is not None:
        raise ValueError("alpha and beta are for the legacy names gd, hb, nesterov; a Method carries its "
                         "own hyperparameters (fixed or scheduled)")
    if hasattr(method, "A") and hasattr(method, "B"):
        return "state-space", [_as_ss(method, "method")] * N, (), ()
    if isinstance(method, (list, tuple)):
        if len(method) != N:
            raise ValueError(f"method: a list of StateSpaces must have one per step, N={N}; got {len(method)}")
        return "state-space", [_as_ss(s, f"method[{k}]") for k, s in enumerate(method)], (), ()
    try:
        from polyak.solvers.linear import _as_method, require_linear, state_spaces
    except ImportError:  # pragma: no cover - before polyak.solvers.linear existed
        raise ValueError(f"method must be one of gd, hb, nesterov, or a StateSpace (list); got {method!r}") from None
    m = _as_method(method)  # a registered name, a Method, or a linear method definition
    require_linear(m, "worst_case")
    steps = [_as_ss(s, f"method {m.name} (step {k})") for k, s in enumerate(state_spaces(m, N))]
    return str(m.name), steps, (), ()


# ----------------------------------------------------------------------------------------------
# the SDP


def step_coefficients(N: int, alpha: np.ndarray, beta: np.ndarray, gamma: np.ndarray):
    """Coefficients of y_0..y_{N-1} and x_N in the basis (x_0 - x*, g(y_0), ..., g(y_{N-1}), g(x_N))
    for the legacy momentum family (no sharing of coincident points)."""
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


class _Structure:
    """Points of the PEP as coefficient vectors in the basis (x_0 - x*, g_1, ..., g_p)."""

    def __init__(self, steps: Sequence[_SS], metric: str, t: float) -> None:
        # t scales the gradient columns' coefficients: with f -> s f the gradients scale by s and step sizes
        # by 1/s, so B and D are multiplied by t = 1/s (A and C are scale-free)
        N = len(steps)
        m_max = max(s.B.shape[1] for s in steps)
        dim = 2 + N * m_max + 1
        self.pts: list[np.ndarray] = []  # coefficient vectors (dim,)
        self.gcol: list[int] = []  # gradient column of each point
        ncol = [1]

        def point(v):
            for p, w in enumerate(self.pts):
                if np.array_equal(v, w) or np.max(np.abs(v - w)) <= 1e-14 * max(1.0, np.max(np.abs(w))):
                    return p
            self.pts.append(v.copy())
            self.gcol.append(ncol[0])
            ncol[0] += 1
            return len(self.pts) - 1

        def grad(p):
            e = np.zeros(dim)
            e[self.gcol[p]] = 1.0
            return e

        e0 = np.zeros(dim)
        e0[0] = 1.0
        n = steps[0].A.shape[0]
        xi = [e0.copy() for _ in range(n)]
        calls = []
        for k, ss in enumerate(steps):
            if ss.A.shape[0] != n:
                raise ValueError(f"method: the state size changes at step {k} ({n} -> {ss.A.shape[0]})")
            us, row = [], []
            for j in range(ss.C.shape[0]):
                y = sum(ss.C[j, i] * xi[i] for i in range(n)) + sum((t * ss.D[j, l] * us[l] for l in range(j)),
                                                                   np.zeros(dim))
                p = point(y)
                row.append(p)
                us.append(grad(p))
            calls.append(row)
            xi = [sum(ss.A[i, l] * xi[l] for l in range(n)) + sum(t * ss.B[i, j] * us[j] for j in range(len(us)))
                  for i in range(n)]
        self.calls = calls
        self.xN = xi[0]
        self.iN = self.i0 = None
        if metric == "fgap":
            self.i0 = point(e0)
            self.iN = point(self.xN)
        self.d = ncol[0]
        self.X = np.array([v[: self.d] for v in self.pts])
        self.xN = self.xN[: self.d]
        self.Gr = np.zeros((len(self.pts), self.d))
        self.Gr[np.arange(len(self.pts)), self.gcol] = 1.0


def _svec_index(d):
    idx = [(i, j) for j in range(d) for i in range(j + 1)]
    r = np.array([i for i, _ in idx])
    c = np.array([j for _, j in idx])
    w = np.where(r == c, 1.0, math.sqrt(2.0))
    return r, c, w


def _quadratic_lb(steps, mu, L, metric, n=65):
    """max over f = lam x^2/2, lam in [mu, L] (Chebyshev-clustered grid, endpoints included), of the ratio
    (the same for both metrics: ``x_N^2 / x_0^2``)."""
    lams = mu + (L - mu) * (1 - np.cos(np.linspace(0, math.pi, n))) / 2
    xi = np.ones((n, steps[0].A.shape[0]))
    for ss in steps:
        m = ss.C.shape[0]
        # y = C xi + D (lam y)  ->  (I - lam D) y = C xi, one system per lam
        K = np.eye(m)[None] - lams[:, None, None] * ss.D[None]
        y = np.linalg.solve(K, (xi @ ss.C.T)[:, :, None])[:, :, 0]
        xi = xi @ ss.A.T + (lams[:, None] * y) @ ss.B.T
    best = float(np.max(xi[:, 0] ** 2))
    return best if math.isfinite(best) else 0.0


def _build(S: _Structure, mu: float, L: float, metric: str):
    """Conic data: rows of the interpolation inequalities, the initial condition and the objective."""
    npts, d = len(S.pts), S.d
    X = np.vstack([S.X, np.zeros(d)])  # x* last: zero coefficients, zero gradient, f* = 0
    Gr = np.vstack([S.Gr, np.zeros(d)])
    i, j = np.where(~np.eye(npts + 1, dtype=bool))
    dx, dg, gj = X[i] - X[j], Gr[i] - Gr[j], Gr[j]
    c = 1.0 / (2.0 * (1.0 - mu / L))
    M = 0.5 * (gj[:, :, None] * dx[:, None, :] + dx[:, :, None] * gj[:, None, :])
    M += c * (dg[:, :, None] * dg[:, None, :] / L + mu * dx[:, :, None] * dx[:, None, :]
              - (mu / L) * (dg[:, :, None] * dx[:, None, :] + dx[:, :, None] * dg[:, None, :]))
    Af = np.zeros((len(i), npts))
    ok = j < npts
    Af[np.nonzero(ok)[0], j[ok]] += 1.0
    ok = i < npts
    Af[np.nonzero(ok)[0], i[ok]] -= 1.0
    if metric == "dist":
        M0 = np.zeros((d, d))
        M0[0, 0] = 1.0
        a0 = np.zeros(npts)
        Mobj, cobj = np.outer(S.xN, S.xN), np.zeros(npts)
    else:
        M0 = np.zeros((d, d))
        a0 = np.zeros(npts)
        a0[S.i0] = 1.0
        Mobj, cobj = np.zeros((d, d)), np.zeros(npts)
        cobj[S.iN] = 1.0
    return M, Af, M0, a0, Mobj, cobj


def check_solution(M, Af, M0, a0, Mobj, cobj, G, F, nu, tau, obj_scale=1.0):
    """A-posteriori residuals of a PEP solution (in the problem's own scaling).

    ``M`` (P, d, d), ``Af`` (P, p): the interpolation rows ``<M_r, G> + Af_r F <= 0``; ``M0``, ``a0``: the
    initial condition ``<M0, G> + a0 F <= 1``; objective ``(<Mobj, G> + cobj F) / obj_scale``.

    Returns ``(value, primal_residual, dual_residual, dual_bound, error)``: the primal residual is the
    largest interpolation or initial-condition violation or the most negative eigenvalue of ``G``; the
    dual residual the largest eigenvalue of the dual slack ``S = Mobj/s - sum nu M - tau M0`` (should be
    <= 0) or the largest error of the function-value equations ``cf = cobj/s - Af' nu - tau a0 = 0``; the
    dual bound is ``tau``. ``error`` bounds ``|value - optimum|`` to first order: from the identity
    ``value - tau = <S, G> + cf F + sum nu viol + tau init``, the optimum exceeds ``tau`` by at most
    ``max(lambda_max(S), 0) tr(G*) + |cf| |F*|`` (estimated at our ``G, F``) and the near-feasible primal
    exceeds the optimum by about ``sum nu max(viol, 0) + tau max(init, 0)``, so
    ``error = |value - tau| + max(lambda_max(S), 0) tr(G) + |cf| |F| + sum nu viol_+ + tau init_+``.
    """
    G = 0.5 * (G + G.T)
    value = (float(np.sum(Mobj * G)) + float(cobj @ F)) / obj_scale
    viol = np.einsum("pij,ij->p", M, G) + Af @ F
    init = float(np.sum(M0 * G) + a0 @ F) - 1.0
    presid = max(float(viol.max()) if len(viol) else 0.0, init, -float(np.linalg.eigvalsh(G).min()), 0.0)
    nu = np.maximum(np.asarray(nu, dtype=float), 0.0)
    S = Mobj / obj_scale - np.einsum("p,pij->ij", nu, M) - tau * M0
    cf = cobj / obj_scale - Af.T @ nu - tau * a0
    S = 0.5 * (S + S.T)
    smax = float(np.linalg.eigvalsh(S).max())
    dresid = max(smax, float(np.abs(cf).max()) if len(cf) else 0.0)
    error = (abs(value - tau) + max(smax, 0.0) * max(float(np.trace(G)), 0.0) + float(np.abs(cf) @ np.abs(F))
             + float(nu @ np.maximum(viol, 0.0)) + abs(float(tau)) * max(init, 0.0))
    return value, presid, dresid, float(tau), error


def _solve_once(data, d, settings):
    import clarabel
    from scipy import sparse

    M, Af, M0, a0, Mobj, cobj, obj_scale = data
    r, c, w = _svec_index(d)
    nsv, npts = len(r), Af.shape[1]
    rows = np.vstack([np.hstack([M[:, r, c] * w, Af]), np.r_[M0[r, c] * w, a0][None, :]])
    q = -np.r_[Mobj[r, c] * w, cobj] / obj_scale
    A = sparse.vstack([sparse.csc_matrix(rows), sparse.hstack([-sparse.eye(nsv), sparse.csc_matrix((nsv, npts))])])
    b = np.r_[np.zeros(len(M)), 1.0, np.zeros(nsv)]
    st = clarabel.DefaultSettings()
    st.verbose = False
    for k, v in settings.items():
        setattr(st, k, v)
    P = sparse.csc_matrix((nsv + npts, nsv + npts))
    sol = clarabel.DefaultSolver(P, q, A.tocsc(), b, [clarabel.NonnegativeConeT(len(M) + 1),
                                                      clarabel.PSDTriangleConeT(d)], st).solve()
    status = str(sol.status)
    x, z = np.asarray(sol.x), np.asarray(sol.z)
    G = np.zeros((d, d))
    G[r, c] = x[:nsv] / w
    G[c, r] = x[:nsv] / w
    F = x[nsv:]
    nu, tau = z[: len(M)], float(z[len(M)])
    return status, G, F, nu, tau


def _solve_once_dual(data, d, settings):
    """The same SDP in its dual embedding: variables (nu, tau), the slack S(nu, tau) in the PSD cone."""
    import clarabel
    from scipy import sparse

    M, Af, M0, a0, Mobj, cobj, obj_scale = data
    r, c, w = _svec_index(d)
    nsv, npts, P = len(r), Af.shape[1], len(M)
    nx = P + 1
    q = np.zeros(nx)
    q[-1] = 1.0
    Az = np.hstack([Af.T, a0[:, None]])
    Apsd = -np.hstack([(M[:, r, c] * w).T, (M0[r, c] * w)[:, None]])
    A = sparse.vstack([sparse.csc_matrix(Az), -sparse.eye(nx), sparse.csc_matrix(Apsd)]).tocsc()
    b = np.r_[cobj / obj_scale, np.zeros(nx), -(Mobj[r, c] * w) / obj_scale]
    st = clarabel.DefaultSettings()
    st.verbose = False
    for k, v in settings.items():
        setattr(st, k, v)
    sol = clarabel.DefaultSolver(sparse.csc_matrix((nx, nx)), q, A, b,
                                 [clarabel.ZeroConeT(npts), clarabel.NonnegativeConeT(nx),
                                  clarabel.PSDTriangleConeT(d)], st).solve()
    x, z = np.asarray(sol.x), np.asarray(sol.z)
    F = -z[:npts]
    zg = z[npts + nx:]
    G = np.zeros((d, d))
    G[r, c] = zg / w
    G[c, r] = zg / w
    return str(sol.status), G, F, x[:P], float(x[P])


_STATUS = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate", "MaxIterations": "max_iterations",
           "MaxTime": "max_time", "PrimalInfeasible": "infeasible", "DualInfeasible": "unbounded",
           "AlmostPrimalInfeasible": "infeasible_inaccurate", "AlmostDualInfeasible": "unbounded_inaccurate",
           "NumericalError": "numerical_error", "InsufficientProgress": "insufficient_progress"}


def _scale(kind: str, mu: float, L: float) -> float:
    return {"L": 1.0 / L, "geo": 1.0 / math.sqrt(mu * L), "mu": 1.0 / mu}[kind]


def _worst(steps, mu, L, metric, attempts=None, solve=None):
    """Run the attempts; return ``(value, tau, dresid, presid, accuracy, status, tried, instance)``."""
    attempts = attempts_for(metric) if attempts is None else attempts
    lb = _quadratic_lb(steps, mu, L, metric)
    obj_scale = lb if lb > 1e-12 else 1.0  # the objective is divided by it: the value is O(1)
    tried, last = [], "not_run"
    cache = {}
    for emb, kind, settings in attempts:
        s = _scale(kind, mu, L)
        if kind not in cache:
            S = _Structure(steps, metric, 1.0 / s)
            cache[kind] = (S, _build(S, mu * s, L * s, metric))
        S, (M, Af, M0, a0, Mobj, cobj) = cache[kind]
        run = solve or (_solve_once_dual if emb == "dual" else _solve_once)
        status, G, F, nu, tau = run((M, Af, M0, a0, Mobj, cobj, obj_scale), S.d, settings)
        status = _STATUS.get(status, status)
        last = status
        if status != "optimal":
            tried.append((emb, kind, _settings_str(settings), status))
            continue
        value, presid, dresid, tau, err = check_solution(M, Af, M0, a0, Mobj, cobj, G, F, nu, tau, obj_scale)
        sc = max(1.0, abs(value))
        failed = [name for name, bad in (("primal", presid > PRIMAL_TOL * sc), ("dual", dresid > DUAL_TOL * sc),
                                         ("gap", abs(value - tau) > GAP_TOL * sc),
                                         ("error", not err <= ACC_TOL * abs(value))) if bad]
        if failed:
            last = (f"optimal_rejected[{','.join(failed)}](dual_res={dresid:.1e}, primal_res={presid:.1e}, "
                    f"gap={abs(value - tau):.1e}, error={err / max(abs(value), 1e-300):.1e})")
            tried.append((emb, kind, _settings_str(settings), last))
            continue
        tried.append((emb, kind, _settings_str(settings), "optimal"))
        inst = _instance(S, steps, G, F, mu, L, s, metric, value * obj_scale)
        return (value * obj_scale, tau * obj_scale, dresid * obj_scale, presid, err / abs(value), "optimal",
                tuple(tried), inst)
    return None, None, None, None, None, last, tuple(tried), None


def _settings_str(settings: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in settings.items()) or "default"


def _instance(S: _Structure, steps, G, F, mu, L, s, metric, value) -> WorstInstance:
    """Factor G = P'P (clipped eigen-decomposition, as PEPit) and undo the scaling f -> s f."""
    ev, V = np.linalg.eigh(0.5 * (G + G.T))
    keep = ev > 1e-12 * max(ev.max(), 1e-300)
    P = (np.sqrt(ev[keep]) * V[:, keep]).T  # (r, d): G ~ P' P
    X = S.X @ P.T  # points (in the scaled problem: x unchanged, gradients scaled by s, f by s)
    Gr = S.Gr @ P.T / s
    Fv = np.asarray(F, dtype=float) / s
    x0 = P[:, 0].copy()
    xN = S.xN @ P.T
    fN = float(Fv[S.iN]) if S.iN is not None else None
    f0 = float(Fv[S.i0]) if S.i0 is not None else None
    return WorstInstance(mu, L, metric, tuple(steps), x0, X, Gr, Fv, np.array(S.calls, dtype=int), xN, fN, f0,
                         float(value))


def worst_case(method, N: int, mu: float, L: float, alpha=None, beta=None, metric: str = "dist", *,
               attempts=None) -> WorstCase:
    """Exact N-step worst case of a linear ``method`` on S(mu, L) (performance estimation SDP).

    Args:
        method: ``"gd"``, ``"hb"`` or ``"nesterov"`` (with ``alpha``, ``beta``); a registered linear
            method's name; a linear :class:`~polyak.solvers.base.Method` (its hyperparameters fixed or
            scheduled); a state-space record with fields ``A, B, C, D`` (the same every step); or a list
            of N of them (one per step).
        N: number of steps (>= 1).
        mu, L: the class, ``0 < mu < L``.
        alpha, beta: legacy names only: numbers or arrays of length N (schedules); default the classical tuning.
        metric: ``"dist"`` (||x_N - x*||^2 / ||x_0 - x*||^2) or ``"fgap"`` ((f(x_N) - f*)/(f(x_0) - f*)).
        attempts: the (embedding, scaling, CLARABEL settings) triples tried in order (default
            :func:`attempts_for` ``(metric)``).

    Returns:
        :class:`WorstCase`; ``value`` is ``None`` unless a solve was ``optimal`` and passed the checks;
        ``instance`` is the worst-case :class:`WorstInstance` when there is a value.

    Raises:
        ValueError: bad N, mu, L, metric or hyperparameters, a state space of the wrong shape or that
            does not keep x* fixed, or a nonlinear method (``require_linear``).
    """
    N, mu, L = _check_class(N, mu, L, metric)
    name, steps, a, b = _resolve(method, N, alpha, beta, mu, L)
    return _worst_case_steps(name, steps, N, mu, L, metric, a, b, attempts)


def _worst_case_steps(name, steps, N, mu, L, metric, a=(), b=(), attempts=None) -> WorstCase:
    t0 = time.perf_counter()
    value, tau, resid, presid, acc, status, tried, inst = _worst(steps, mu, L, metric, attempts)
    return WorstCase(name, N, metric, mu, L, a, b, value, tau, None if value is None else abs(value - tau),
                     resid, status, time.perf_counter() - t0, SOLVER, presid, tried, inst, acc)


def _star(args):
    return _worst_case_steps(*args)


def worst_cases(settings, *, executor=None) -> list:
    """Many worst cases, optionally spread over any :class:`concurrent.futures.Executor`.

    ``settings`` is an iterable of dicts of :func:`worst_case` keyword arguments (``method``, ``N``,
    ``mu``, ``L``, optional ``alpha``, ``beta``, ``metric``). Every method is turned into its state-space
    matrices here, in the calling process, so only arrays travel to the workers (a user's method
    defined in a notebook works with a process pool). The results are in the order of ``settings`` and
    identical to the serial ones (each solve is deterministic and independent of the others).
    """
    jobs = []
    for s in settings:
        s = dict(s)
        metric = s.pop("metric", "dist")
        N, mu, L = _check_class(s.pop("N"), s.pop("mu"), s.pop("L"), metric)
        name, steps, a, b = _resolve(s.pop("method"), N, s.pop("alpha", None), s.pop("beta", None), mu, L)
        if s:
            raise ValueError(f"worst_cases: unknown keys {sorted(s)}")
        jobs.append((name, steps, N, mu, L, metric, a, b))
    if executor is None:
        return [_star(j) for j in jobs]
    return list(executor.map(_star, jobs))


# ----------------------------------------------------------------------------------------------
# PEPit


def pep_with_pepit(method: str, N: int, mu: float, L: float, alpha=None, beta=None, metric: str = "dist",
                   *, return_primal_or_dual: str = "dual", normalize: bool = True) -> float:
    """The same worst case computed by PEPit (the reference implementation; imported lazily).

    Legacy names only. Builds ``SmoothStronglyConvexFunction(mu, L)``, runs the same recursion with
    PEPit's points and solves with CLARABEL through PEPit's cvxpy wrapper. Returns PEPit's value (its
    dual bound by default, as PEPit does). ``normalize=True`` (default) rescales to L = 1 first (the
    ratio is invariant): measured here, at mu = 1, L = 1000, N = 5, Nesterov, PEPit with CLARABEL on
    the raw scale reports 4.08 with status optimal where the worst case is 11.60 (it gives 11.60 at L = 1).
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

