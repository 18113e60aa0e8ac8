"""Linear-rate certificates for any linear first-order method (a Lyapunov SDP over S(mu, L)).

Problem and assumptions
-----------------------
``f`` is mu-strongly convex and L-smooth on R^d (the class S(mu, L), ``0 < mu <= L``), minimiser
``x*``. The method is linear with fixed coefficients, in state-space form::

    xi_{k+1} = A xi_k + B u_k,    y_k = C xi_k + D u_k,    u_k = (grad f(y_k^1), ..., grad f(y_k^m))

with ``n`` state vectors (state 0 is the measured iterate ``x_k``) and ``m`` gradient calls per step;
``D`` is strictly lower triangular (each call may use the results of earlier ones). Any linear
:class:`~polyak.solvers.base.Method` (built-in or user-defined, traced by
:func:`polyak.solvers.linear.state_space`) or a raw ``StateSpace`` is accepted. The names ``gd``,
``hb`` and ``nesterov`` keep their classical meaning with ``(alpha, beta)``::

    y_k     = x_k + gamma (x_k - x_{k-1})
    x_{k+1} = x_k + beta (x_k - x_{k-1}) - alpha grad f(y_k)

(``gamma = 0`` heavy ball, ``gamma = beta`` Nesterov, ``beta = gamma = 0`` gradient descent), that is
``xi_k = (x_k, x_{k-1})``, ``A = [[1 + beta, -beta], [1, 0]]``, ``B = [[-alpha], [0]]``,
``C = [[1 + gamma, -gamma]]``, ``D = 0``. All constraints below are invariant under rotations of
R^d, so the 1-D lifting is exact for every d (lessard2016, sec. 4.2).

What is computed
----------------
The smallest ``rho`` (to ``tol``) for which a Lyapunov function::

    V_k = s_k' P s_k + sum_i lam_i (f(y_k^i) - f*),    s_k = (xi_k - xi*, u_k)

exists with ``lam >= 0``, ``V_k >= ||x_k - x*||^2`` at every admissible point (an S-procedure over the
interpolation inequalities among ``y_k^1, ..., y_k^m`` and ``x*``; the quadratic part P itself need
not be PSD) and ``V_{k+1} <= rho^2 V_k`` for every ``f`` in S(mu, L) and every trajectory. The
decrease is certified by the S-procedure over *all* ordered pairs of the smooth strongly convex
interpolation inequalities (taylor2017, Thm 4) among the ``2m + 1`` points ``y_k^i``, ``y_{k+1}^i``
and ``x*`` of two consecutive steps: a linear matrix inequality of size ``n + 2m`` in
``(P, lam, nu)`` plus ``2m`` linear equations matching the function values. Then, for all k,
``||x_k - x*||^2 <= V_k <= rho^(2k) V_0``: a linear rate ``rho`` in the distance to the optimum.
For the 3-parameter family (n = 2, m = 1) this is exactly the 4x4 LMI with six inequalities of the
first version of this module; the numbers are unchanged (tested).

This is the iteration-independent Lyapunov formulation of taylor2018 (Taylor, Van Scoy, Lessard,
"Lyapunov functions for first-order methods: tight automated convergence guarantees"), with the
state augmented by the last gradients, the formulation AutoLyap's ``IterationIndependent`` search uses
with ``h = 0``, in reduced coordinates: AutoLyap's Lyapunov matrix acts on (xi_k, u_k, y*), where the
translation (xi*, 0, 1) leaves every inequality unchanged, so its SDP has no strictly feasible point
(t'Qt = 0 is forced) and CLARABEL often ends "inaccurate" above the threshold; with
``cvxpy_accept_inaccurate=False`` its bisection reads those as infeasible and reported Nesterov rates
up to 1.6e-2 above ours (kappa = 1000), with ``True`` it accepts solutions some of which are no
certificates. Accepting only AutoLyap's solutions that pass the independent check
(:func:`polyak.verify.certificate_check.check_certificate`) gives our rates to <= 1e-5 on the
Nesterov sweep and on random methods (tests/verify/test_certificates_autolyap.py). It is provably at least as tight as
lessard2016's Theorem 4 with the sector IQC plus the weighted off-by-one IQC (their Lemma 10): that
IQC is a nonnegative combination (weights rho^2 and 1 - rho^2) of the interpolation inequalities
between (y_{k-1}, y_k) and (y_k, x*), whose function values telescope; the telescoped quantity
W_k = (L - mu)(f(y_k) - f* - mu/2 ||y_k - x*||^2) - 1/2 ||u_k - mu (y_k - x*)||^2 (>= 0 by the (y_k, x*)
inequality) joins V, and LRP's Lyapunov matrix on (xi_{k+1}, filter state) is a quadratic form in
(xi_k, u_k), i.e. of the form of P above. The quadratic part of W_k is negative semidefinite, which
is why positivity is imposed through the S-procedure and not as ``P >= 0`` (with ``P >= e1 e1'`` the
LRP rates are *not* reached: 0.766 against 0.752 for Nesterov at kappa 10). Every LRP certificate
therefore maps to one here (the tests check ``rate <= LRP rate`` on a grid with an LRP-style LMI
written from scratch). Feasibility is monotone in rho (a certificate at rho gives one at every
rho' > rho: add (rho'^2 - rho^2) times the positivity multipliers to the (y_k, x*) multipliers),
which is what makes bisection sound.

Algorithm
---------
Bisection on rho. The problem is scale-normalised (L -> 1, B -> L B, D -> L D). For each method the
conic data of the SDP is assembled once as ``G(rho) = G_0 + rho^2 G_2`` and handed to CLARABEL
directly (``backend="clarabel"``, the default: cvxpy's per-solve canonicalisation cost 88% of the time
of a solve of this size); ``backend="cvxpy"`` solves the same SDP written in cvxpy (one DPP-compiled
problem per shape (n, m)) and is the cross-check of the direct assembly in the tests. The search
starts from the quadratic lower bound ``lo`` (no rate below the worst quadratic can be certified) and
runs on the bisection lattice ``lo + i (1 - lo) / 2^K`` (spacing <= ``tol``): the result is the lattice
point where the verdict switches, whatever the starting point, so a sweep can start each point from a
guess extrapolated from its neighbours (a bracket grown around the guess, then bisection) and still
return the numbers of independent calls (up to solver noise within ~1e-6 of the threshold). A solve
that ends neither ``optimal`` nor ``infeasible`` (e.g. CLARABEL's InsufficientProgress in the thin band
just above the threshold) is retried once without static regularisation. A point is feasible only if CLARABEL returns ``Solved`` (status ``optimal``)
*and* the returned multipliers pass an a-posteriori check (eigenvalues of both matrix inequalities,
signs of the multipliers, the function-value equations), evaluated from the original matrices, not
from the assembled conic data; ``optimal_inaccurate``, ``infeasible``, a solver error or a failed
check count as "not certified at that rho". If no rho < 1 is certified the result says
``certified=False`` and ``rate=None`` (rate 1 is not a linear rate): heavy ball tuned for quadratics
with large kappa has no certificate (it can cycle, lessard2016 sec. 4.6, goujaud2023).

:func:`certify_rates` sweeps many points; it splits the sweep into fixed chunks of consecutive points
(each chunk searched from its own first point), so the result does not depend on ``executor`` (any
:class:`concurrent.futures.Executor`, e.g. a process pool or a ``dask.distributed`` client's
``get_executor()``): same numbers, same order as the serial run.

Guarantee (provenance)
----------------------
Soundness of the certificate: lessard2016 Thm 4 / taylor2018 Thm 1 with taylor2017 Thm 4 [paper].
Each certificate carries its Lyapunov function (``P``, ``lam``, ``multipliers``, ``system``: see
:class:`RateCertificate`), which :func:`polyak.verify.certificate_check.check_certificate` checks
without this SDP (one-step PEPit problems and the quadratics of the class); the Nesterov
certificates at kappa = 100 and 1000 pass it, and it rejects them at rate - 1e-3 (tested).
Gradient descent: the certified rate equals ``max(|1 - alpha mu|, |1 - alpha L|)`` (tested); the triple
momentum method certifies at 1 - sqrt(mu/L) (vanscoy2018) (tested).

References: lessard2016, taylor2017, taylor2018, goujaud2023, ghadimi2015.

Example
-------
>>> from polyak.verify.certificates import certify_rate
>>> c = certify_rate("gd", mu=1.0, L=10.0, alpha=0.1)
>>> c.certified, round(c.rate, 4)
(True, 0.9)
>>> certify_rate("hb", mu=1.0, L=100.0).certified   # quadratic-optimal HB: no certificate
False
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

__all__ = [
    "RateCertificate",
    "certify_rate",
    "certify_rates",
    "check_rate",
    "classical_tuning",
    "quadratic_rate",
    "check_method_params",
]

METHODS = {"gd": "gd", "hb": "hb", "heavy_ball": "hb", "heavy-ball": "hb", "nesterov": "nesterov", "nag": "nesterov"}
SOLVER = "CLARABEL"
BACKENDS = ("clarabel", "cvxpy")


@dataclass(frozen=True)
class RateCertificate:
    """Result of :func:`certify_rate`.

    ``rate`` is the best certified rho (``None`` when nothing below 1 is certified); ``bracket`` is
    the final bisection interval (lower end: largest rho found not certifiable, or the quadratic
    lower bound; upper end: ``rate``, or 1.0); ``status`` is the solver status of the accepted solve
    (or of the last solve when nothing was certified); ``solves`` counts SDP solves;
    ``quadratic_bound`` is the worst spectral radius over the quadratics of the class (a lower
    bound on any rate). ``alpha``, ``beta``, ``gamma`` are set for the named 3-parameter methods and
    from a Method's hyperparameters of these names (``None`` otherwise); ``hyper`` holds a Method's hyperparameters; ``shape`` is ``(n, m)``.

    The Lyapunov function (``None`` unless ``certified``), at the certified ``rho = rate`` and in the
    scale of the call (class S(mu, L), the gradients of ``f`` itself, not the normalised L = 1 problem)::

        V_k = s_k' P s_k + sum_i lam[i] (f(y_k^i) - f*),    s_k = (xi_k - xi*, u_k),  u_k = (grad f(y_k^1), ...)

    with ``||x_k - x*||^2 <= V_k`` and ``V_{k+1} <= rate^2 V_k`` for every f in S(mu, L).
    ``system = (A, B, C, D)`` is the certified method (same scale); ``P`` is ``(n + m) x (n + m)``;
    ``lam`` has ``m`` entries. ``multipliers`` holds the S-procedure multipliers (``nu`` for the
    decrease, over the ordered pairs ``pairs`` of the points ``(y_k^1..m, y_{k+1}^1..m, x*)``,
    numbered 0..2m; ``tau`` for the bound below, over ``pos_pairs`` of ``(y_k^1..m, x*)`` numbered
    0..m-1 and 2m), each multiplying the inequality ``(1 - mu/L)(f_j - f_i + <g_j, x_i - x_j>) +
    1/2 (|g_i - g_j|^2 / L + mu |x_i - x_j|^2 - 2 (mu/L) <g_i - g_j, x_i - x_j>) <= 0`` of the pair
    (i, j). These arrays do not take part in ``==`` and are not in :meth:`to_dict` (the JSON reports
    are unchanged); :func:`polyak.verify.certificate_check.check_certificate` checks them
    independently (PEPit).
    """

    method: str
    mu: float
    L: float
    alpha: Optional[float]
    beta: Optional[float]
    gamma: Optional[float]
    rate: Optional[float]
    certified: bool
    status: str
    bracket: tuple
    solves: int
    seconds: float
    solver: str = SOLVER
    quadratic_bound: Optional[float] = None
    hyper: Optional[dict] = None
    shape: tuple = (2, 1)
    P: Optional[np.ndarray] = field(default=None, compare=False, repr=False)
    lam: Optional[np.ndarray] = field(default=None, compare=False, repr=False)
    multipliers: Optional[dict] = field(default=None, compare=False, repr=False)
    system: Optional[tuple] = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        return {
            "method": self.method, "mu": self.mu, "L": self.L, "alpha": self.alpha, "beta": self.beta,
            "gamma": self.gamma, "rate": self.rate, "certified": self.certified, "status": self.status,
            "bracket": list(self.bracket), "solves": self.solves, "seconds": self.seconds,
            "solver": self.solver, "quadratic_bound": self.quadratic_bound, "hyper": self.hyper,
            "shape": list(self.shape),
        }


# ----------------------------------------------------------------------------------------
# input checks and classical tunings
# ----------------------------------------------------------------------------------------
def _finite(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number; got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def _check_class(mu: float, L: float) -> tuple:
    mu = _finite("mu", mu)
    L = _finite("L", L)
    if mu <= 0:
        raise ValueError(f"mu must be > 0 (strong convexity); got {mu}")
    if L < mu:
        raise ValueError(f"L must be >= mu (0 < mu <= L); got mu={mu}, L={L}")
    return mu, L


def check_method_params(method: str, mu: float, L: float, alpha=None, beta=None):
    """Validate and complete ``(method, mu, L, alpha, beta)``; return ``(method, mu, L, alpha, beta, gamma)``.

    For the named 3-parameter methods ``gd``, ``hb``, ``nesterov``. Raises ``ValueError`` naming the
    parameter and its admissible range.
    """
    key = str(method).lower()
    if key not in METHODS:
        raise ValueError(f"method must be one of gd, hb, nesterov; got {method!r}")
    m = METHODS[key]
    mu, L = _check_class(mu, L)
    a0, b0 = classical_tuning(m, mu, L)
    alpha = a0 if alpha is None else _finite("alpha", alpha)
    beta = b0 if beta is None else _finite("beta", beta)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0; got {alpha}")
    if not (0.0 <= beta < 1.0):
        raise ValueError(f"beta must lie in [0, 1); got {beta}")
    if m == "gd" and beta != 0.0:
        raise ValueError(f"beta must be 0 for gd (use hb for momentum); got {beta}")
    gamma = beta if m == "nesterov" else 0.0
    return m, mu, L, alpha, beta, gamma


def classical_tuning(method: str, mu: float, L: float) -> tuple:
    """The default ``(alpha, beta)`` of each method.

    gd: alpha = 2/(L + mu); hb: alpha = 4/(sqrt L + sqrt mu)^2, beta = ((sqrt k - 1)/(sqrt k + 1))^2
    (Polyak's quadratic-optimal pair); nesterov: alpha = 1/L, beta = (sqrt k - 1)/(sqrt k + 1).
    """
    m = METHODS.get(str(method).lower())
    k = L / mu
    sk = math.sqrt(k)
    if m == "gd":
        return 2.0 / (L + mu), 0.0
    if m == "hb":
        return 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((sk - 1) / (sk + 1)) ** 2
    if m == "nesterov":
        return 1.0 / L, (sk - 1) / (sk + 1)
    raise ValueError(f"method must be one of gd, hb, nesterov; got {method!r}")


def quadratic_rate(mu: float, L: float, alpha: float, beta: float, gamma: float, grid: int = 2001) -> float:
    """Worst spectral radius over quadratics lambda/2 x^2, lambda in [mu, L]: a lower bound on any rate.

    The iteration matrix on lambda is [[1 + beta - alpha (1 + gamma) lambda, -(beta - alpha gamma lambda)],
    [1, 0]]. Evaluated on a grid plus the endpoints and the points where the discriminant
    vanishes; every evaluated lambda is a function of the class, so the value is a valid lower bound.
    For a general linear method see :func:`polyak.verify.quadratic.quadratic_rate`.
    """
    return _quadratic_rate_affine(1 + beta, -alpha * (1 + gamma), beta, -alpha * gamma, mu, L, grid)


def _quadratic_rate_affine(a0: float, a1: float, d0: float, d1: float, mu: float, L: float, grid: int = 2001) -> float:
    """max over lambda in [mu, L] of the spectral radius of a 2x2 matrix with trace a0 + a1 lambda and
    determinant d0 + d1 lambda (grid, endpoints and the double-root points)."""
    lam = np.linspace(mu, L, grid)
    # discriminant t^2 - 4 d = 0 with t, d affine in lambda: add its real roots in [mu, L]
    roots = np.roots([a1 * a1, 2 * a0 * a1 - 4 * d1, a0 * a0 - 4 * d0]) if a1 != 0 else np.array([])
    roots = np.real(roots[np.isreal(roots)]) if roots.size else roots
    lam = np.concatenate([lam, roots[(roots >= mu) & (roots <= L)]])
    t = a0 + a1 * lam
    d = d0 + d1 * lam
    disc = t * t - 4 * d
    sq = np.sqrt(np.abs(disc))
    r = np.where(disc >= 0, (np.abs(t) + sq) / 2, np.sqrt(np.maximum(d, 0.0)))
    return float(r.max())


def _quadratic_bound_ss(A, B, C, D, mu: float, L: float, grid: int = 2001) -> float:
    """max over lambda in [mu, L] (grid, endpoints included) of the spectral radius of
    A + lambda B (I - lambda D)^{-1} C: every grid point is a quadratic of the class, so a lower bound."""
    n, m = B.shape
    if n == 2 and m == 1:
        # T(lambda) = A + lambda B C: trace and determinant affine in lambda (B C has rank 1)
        b, c = B[:, 0], C[0]
        adj = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])
        return _quadratic_rate_affine(A[0, 0] + A[1, 1], float(c @ b), A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0],
                                      float(c @ adj @ b), mu, L, grid)
    if n == 1 and m == 1:
        return max(abs(A[0, 0] + lam_ * B[0, 0] * C[0, 0]) for lam_ in (mu, L))
    lam = np.linspace(mu, L, grid)
    Ms = np.eye(m)[None] - lam[:, None, None] * D[None]
    K = np.linalg.solve(Ms, np.broadcast_to(C, (grid,) + C.shape))  # (I - lam D)^{-1} C
    T = A[None] + lam[:, None, None] * np.einsum("ij,gjk->gik", B, K)
    return float(np.abs(np.linalg.eigvals(T)).max())


# ----------------------------------------------------------------------------------------
# the method, as a normalised state-space system
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Point:
    """One certification problem, resolved and validated (picklable: arrays and numbers only)."""

    name: str
    mu: float
    L: float
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray
    alpha: Optional[float] = None
    beta: Optional[float] = None
    gamma: Optional[float] = None
    hyper: Optional[dict] = None
    legacy: bool = False

    @property
    def shape(self) -> tuple:
        return (self.A.shape[0], self.B.shape[1])

    def normalised(self) -> tuple:
        """(A, B L, C, D L) and mu / L: the same question for f / L in S(mu / L, 1)."""
        return self.A, self.B * self.L, self.C, self.D * self.L, self.mu / self.L

    def quadratic_bound(self) -> float:
        A, B, C, D, q = self.normalised()
        if self.legacy:
            return quadratic_rate(q, 1.0, self.alpha * self.L, self.beta, self.gamma)
        return _quadratic_bound_ss(A, B, C, D, q, 1.0)


def _legacy_matrices(alpha: float, beta: float, gamma: float) -> tuple:
    from .pep import legacy_state_space  # one definition of the (alpha, beta, gamma) family

    ss = legacy_state_space(alpha, beta, gamma)
    return ss.A, ss.B, ss.C, ss.D


def _check_state_space(name: str, A, B, C, D) -> tuple:
    from polyak.solvers.linear import check_state_space

    # no row-sum check here: a certificate is invariant under a change of state coordinates, so a
    # realisation whose fixed state is not (x*, ..., x*) (e.g. (x, v = x - x_prev)) certifies too
    ss = check_state_space((A, B, C, D), name, fixed_point=False)
    return ss.A, ss.B, ss.C, ss.D


def _fixed_hyper(method: Any, tool: str) -> dict:
    from polyak.solvers.schedules import Schedule

    out = {}
    for key, v in dict(getattr(method, "hyper", {})).items():
        if isinstance(v, Schedule):
            raise ValueError(f"{tool}: {method.name}: hyperparameter {key} is a Schedule; a linear-rate "
                             "certificate needs fixed coefficients (use polyak.verify.pep.worst_case for "
                             "scheduled methods)")
        if isinstance(v, np.ndarray):
            if v.size != 1:
                raise ValueError(f"{tool}: {method.name}: hyperparameter {key} is a grid of shape {v.shape}; "
                                 "certify one setting at a time (or pass a list of Methods to certify_rates)")
            v = float(v.reshape(-1)[0])
        out[key] = v if isinstance(v, (bool, str, int)) else float(v)
    return out


def _resolve(method: Any, mu: float, L: float, alpha=None, beta=None, tool: str = "certify_rate") -> _Point:
    """Turn ``(method, mu, L, alpha, beta)`` into a validated :class:`_Point`."""
    if isinstance(method, _Point):
        return method
    if isinstance(method, str) and method.lower() in METHODS:
        m, mu, L, alpha, beta, gamma = check_method_params(method, mu, L, alpha, beta)
        return _Point(m, mu, L, *_check_state_space(m, *_legacy_matrices(alpha, beta, gamma)),
                      alpha=alpha, beta=beta, gamma=gamma, legacy=True)
    mu, L = _check_class(mu, L)
    if isinstance(method, str):  # another registered method
        try:
            from polyak.solvers.registry import make_method

            hyper = {k: v for k, v in (("alpha", alpha), ("beta", beta)) if v is not None}
            obj = make_method(method, **hyper)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"method must be gd, hb, nesterov, a registered linear method, a Method or a "
                             f"StateSpace; got {method!r} ({exc})") from None
        try:
            return _resolve(obj, mu, L, tool=tool)
        except ValueError as exc:
            raise ValueError(f"method {method!r}: {exc}") from None
    if all(hasattr(method, k) for k in "ABCD") and not hasattr(method, "rule"):  # a StateSpace
        if alpha is not None or beta is not None:
            raise ValueError("alpha, beta: only for the named methods gd, hb, nesterov or a Method's "
                             "hyperparameters; a StateSpace carries its coefficients")
        name = str(getattr(method, "name", "state-space"))
        return _Point(name, mu, L, *_check_state_space(name, method.A, method.B, method.C, method.D))
    if hasattr(method, "rule") and not hasattr(method, "hyper") and callable(method):
        method = method()  # a linear method's definition (polyak.linear_method): its default hyperparameters
    if hasattr(method, "rule"):  # a polyak Method
        if alpha is not None or beta is not None:
            method = method.with_hyper(**{k: v for k, v in (("alpha", alpha), ("beta", beta)) if v is not None})
        try:
            from polyak.solvers.linear import constant_state_space, require_linear
        except ImportError:  # pragma: no cover - the tracer is part of polyak.solvers
            raise ValueError(f"{tool}: Method objects need polyak.solvers.linear (not available)") from None
        require_linear(method, tool)
        hyper = _fixed_hyper(method, tool)
        ss = constant_state_space(method, tool)[1]  # also refuses a schedule its linear form introduces
        name = method.name
        named = {k: (float(hyper[k]) if isinstance(hyper.get(k), float) else None) for k in ("alpha", "beta", "gamma")}
        return _Point(name, mu, L, *_check_state_space(name, ss.A, ss.B, ss.C, ss.D), hyper=hyper, **named)
    raise ValueError(f"method must be gd, hb, nesterov, a registered linear method, a Method or a StateSpace; "
                     f"got {method!r}")


# ----------------------------------------------------------------------------------------
# the LMI data for one (A, B, C, D)
# ----------------------------------------------------------------------------------------
def _vec(M: np.ndarray) -> np.ndarray:
    return M.reshape(-1, order="F")


_SVEC_CACHE: dict = {}


def _svec_index(n: int):
    """Row and column indices (i <= j) of CLARABEL's PSD-triangle order (upper triangle, column-major)
    and the scale (1 on the diagonal, sqrt 2 off it)."""
    if n not in _SVEC_CACHE:
        rows = np.array([i for j in range(n) for i in range(j + 1)])
        cols = np.array([j for j in range(n) for i in range(j + 1)])
        _SVEC_CACHE[n] = (rows, cols, np.where(rows == cols, 1.0, math.sqrt(2.0)))
    return _SVEC_CACHE[n]


def _svec(M: np.ndarray) -> np.ndarray:
    """svec of a symmetric matrix, or of each matrix of a stack (..., n, n)."""
    rows, cols, scale = _svec_index(M.shape[-1])
    return M[..., rows, cols] * scale


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("pa,pb->pab", a, b)


def _interp_stack(mu: float, L: float, X, G, I, J) -> np.ndarray:
    """Quadratic parts of the interpolation inequalities phi_ij <= 0 (taylor2017 Thm 4, scaled by
    1 - mu/L) for all pairs (i, j) = (I[p], J[p]) of points with rows X (positions), G (gradients)::

        (1 - mu/L)(f_j - f_i + <g_j, x_i - x_j>) + 1/2 [|g_i - g_j|^2 / L + mu |x_i - x_j|^2
                                                        - 2 (mu/L) <g_i - g_j, x_i - x_j>] <= 0
    """
    q = mu / L
    dx, dg, gj = X[I] - X[J], G[I] - G[J], G[J]
    M = (1 - q) * 0.5 * (_outer(gj, dx) + _outer(dx, gj))
    M += 0.5 * (_outer(dg, dg) / L + mu * _outer(dx, dx) - q * (_outer(dg, dx) + _outer(dx, dg)))
    return M


class _Structure:
    """What the rate LMI of a shape (n, m) needs that does not depend on the method's coefficients:
    selections, pairs, the rho^2 part of the conic data, cones (built once per shape, then shared)."""

    def __init__(self, n: int, m: int) -> None:
        import clarabel
        import scipy.sparse as sp

        self.sp = sp
        self.n, self.m = n, m
        ns, nw = n + m, n + 2 * m
        self.ns, self.nw = ns, nw
        Z = np.zeros
        self.E0 = np.hstack([np.eye(ns), Z((ns, m))])
        self.Gk = np.hstack([Z((m, n)), np.eye(m), Z((m, m))])
        self.Gk1 = np.hstack([Z((m, n + m)), np.eye(m)])
        self.G = np.vstack([self.Gk, self.Gk1, Z((1, nw))])  # gradients of y_k^1..m, y_{k+1}^1..m, x*
        F = np.vstack([np.eye(2 * m), Z((1, 2 * m))])
        npts = 2 * m + 1
        self.pairs = [(i, j) for i in range(npts) for j in range(npts) if i != j]
        self.I, self.J = (np.array(v) for v in zip(*self.pairs))
        self.Af1 = (F[self.J] - F[self.I]).T  # (2m, npairs), times (1 - mu/L)
        pos_pts = list(range(m)) + [2 * m]  # positivity: pairs among y_k^1..m and x*, in s coordinates
        self.pos_pairs = [(i, j) for i in pos_pts for j in pos_pts if i != j]
        self.Ip, self.Jp = (np.array(v) for v in zip(*self.pos_pairs))
        self.Afpos1 = (F[self.Jp] - F[self.Ip])[:, :m].T  # (m, npos), times (1 - mu/L)
        self.e1 = np.zeros((ns, ns))
        self.e1[0, 0] = 1.0
        # conic data: x = (p (svec-coordinates of P), lam, nu, tau); G(rho) x + s = h, s in K
        self.pidx = [(i, j) for j in range(ns) for i in range(j + 1)]  # P = sum p_c S_c
        self.PI, self.PJ = (np.array(v) for v in zip(*self.pidx))
        self.half = np.where(self.PI == self.PJ, 0.5, 1.0)[:, None, None]
        npv, nnu, ntau = len(self.pidx), len(self.pairs), len(self.pos_pairs)
        self.sl = (slice(0, npv), slice(npv, npv + m), slice(npv + m, npv + m + nnu),
                   slice(npv + m + nnu, npv + m + nnu + ntau))
        nx = npv + m + nnu + ntau
        nz, nnn = 3 * m, m + nnu + ntau
        nt1, nt2 = nw * (nw + 1) // 2, ns * (ns + 1) // 2
        self.rows = (slice(0, m), slice(m, 2 * m), slice(2 * m, 3 * m), slice(nz + nnn, nz + nnn + nt1),
                     slice(nz + nnn + nt1, nz + nnn + nt1 + nt2))
        G0 = np.zeros((nz + nnn + nt1 + nt2, nx))
        G2 = np.zeros_like(G0)
        h = np.zeros(G0.shape[0])
        _, sl_, snu, stau = self.sl
        r_f0, r_f1, r_pos, r_dec, r_psd = self.rows
        # zero cone: Af[:m] nu + rho^2 lam = 0; Af[m:] nu - lam = 0; Afpos tau + lam = 0
        G2[r_f0, sl_] = np.eye(m)
        G0[r_f1, sl_] = -np.eye(m)
        G0[r_pos, sl_] = np.eye(m)
        # nonnegative cone: s = (lam, nu, tau)
        G0[nz:nz + nnn, npv:] = -np.eye(nnn)
        # PSD (decrease): s = -LMI(x), i.e. G x = svec(E1' P E1 - rho^2 E0' P E0 - sum nu Q)
        G2[r_dec, :npv] = -_svec(self.sym_basis(self.E0)).T
        # PSD (positivity): s = svec(P - e1 + sum tau Qpos), i.e. G x = -svec(P + sum tau Qpos), h = -svec(e1)
        G0[r_psd, :npv] = -_svec(self.sym_basis(np.eye(ns))).T
        h[r_psd] = -_svec(self.e1)
        self.G0, self.G2, self.h, self.nx = G0, G2, h, nx
        self.cones = [clarabel.ZeroConeT(nz), clarabel.NonnegativeConeT(nnn), clarabel.PSDTriangleConeT(nw),
                      clarabel.PSDTriangleConeT(ns)]
        self.Pobj = sp.csc_matrix((nx, nx))
        self.q = np.zeros(nx)

    def sym_basis(self, E: np.ndarray) -> np.ndarray:
        """E' S_c E for every basis matrix S_c = e_i e_j' + e_j e_i' (i < j) or e_i e_i' of P."""
        M = _outer(E[self.PI], E[self.PJ])
        return self.half * (M + M.transpose(0, 2, 1))


_STRUCTURES: dict = {}
_STRUCT_LOCK = threading.Lock()


def _structure(n: int, m: int) -> _Structure:
    key = (n, m)
    if key not in _STRUCTURES:
        with _STRUCT_LOCK:
            if key not in _STRUCTURES:
                _STRUCTURES[key] = _Structure(n, m)
    return _STRUCTURES[key]


class _LMIData:
    """Every matrix of the rate LMI for a normalised (A, B, C, D) on S(mu, 1).

    Coordinates w = (xi_k, u_k, u_{k+1}) (size n + 2m), s_k = (xi_k, u_k) (size n + m); function
    values (f(y_k^1..m), f(y_{k+1}^1..m)); x* = 0, g* = 0, f* = 0. Points: y_k^i = C_i xi_k + D_i u_k,
    y_{k+1}^i = C_i (A xi_k + B u_k) + D_i u_{k+1}, and x*.
    """

    def __init__(self, A, B, C, D, mu: float) -> None:
        n, m = A.shape[0], B.shape[1]
        st = self.st = _structure(n, m)
        self.n, self.m, self.ns, self.nw = n, m, st.ns, st.nw
        Z = np.zeros
        self.E0 = st.E0
        self.E1 = np.vstack([np.hstack([A, B, Z((n, m))]), st.Gk1])
        Yk = np.hstack([C, D, Z((m, m))])
        Yk1 = np.hstack([C @ A, C @ B, D])
        X = np.vstack([Yk, Yk1, Z((1, st.nw))])
        q = mu
        self.pairs, self.pos_pairs = st.pairs, st.pos_pairs
        self.Q = _interp_stack(mu, 1.0, X, st.G, st.I, st.J)
        self.Af = (1 - q) * st.Af1
        self.Qpos = _interp_stack(mu, 1.0, X[:, :st.ns], st.G[:, :st.ns], st.Ip, st.Jp)
        self.Afpos = (1 - q) * st.Afpos1
        self.e1 = st.e1
        self._G0 = None

    # ---- the a-posteriori check, from the matrices above (independent of the conic assembly)
    def check(self, rho: float, P, lam, nu, tau) -> bool:
        if P is None or lam is None or nu is None or tau is None:
            return False
        P, lam, nu, tau = (np.asarray(v, dtype=float) for v in (P, lam, nu, tau))
        if not (np.all(np.isfinite(P)) and np.all(np.isfinite(lam)) and np.all(np.isfinite(nu))
                and np.all(np.isfinite(tau))):
            return False
        r2 = rho * rho
        scale = 1.0 + np.abs(P).max() + np.abs(lam).sum() + np.abs(nu).sum() + np.abs(tau).sum()
        tol = 1e-7 * scale
        Lm = self.E1.T @ P @ self.E1 - r2 * (self.E0.T @ P @ self.E0) - np.tensordot(nu, self.Q, axes=1)
        ok = np.linalg.eigvalsh(0.5 * (Lm + Lm.T)).max() <= tol
        Pos = P - self.e1 + np.tensordot(tau, self.Qpos, axes=1)
        ok &= np.linalg.eigvalsh(0.5 * (Pos + Pos.T)).min() >= -tol
        ok &= nu.min() >= -tol and lam.min() >= -tol and tau.min() >= -tol
        ok &= np.abs(self.Afpos @ tau + lam).max() <= tol
        fc = self.Af @ nu
        ok &= np.abs(fc[: self.m] + r2 * lam).max() <= tol and np.abs(fc[self.m:] - lam).max() <= tol
        return bool(ok)

    # ---- direct CLARABEL data: G(rho) = G0 + rho^2 G2 (G2 and h are the structure's)
    def G(self, rho: float):
        st = self.st
        if self._G0 is None:
            G0 = st.G0.copy()
            _, _, snu, stau = st.sl
            r_f0, r_f1, r_pos, r_dec, _ = st.rows
            npv = st.sl[0].stop
            G0[r_f0, snu] = self.Af[: self.m]
            G0[r_f1, snu] = self.Af[self.m:]
            G0[r_pos, stau] = self.Afpos
            G0[r_dec, :npv] = _svec(st.sym_basis(self.E1)).T
            G0[r_dec, snu] = -_svec(self.Q).T
            G0[st.rows[4], stau] = -_svec(self.Qpos).T
            self._G0 = G0
        return st.sp.csc_matrix(self._G0 + (rho * rho) * st.G2)

    def unpack(self, x: np.ndarray) -> tuple:
        st = self.st
        P = np.zeros((st.ns, st.ns))
        P[st.PI, st.PJ] = x[st.sl[0]]
        P[st.PJ, st.PI] = x[st.sl[0]]
        return P, x[st.sl[1]], x[st.sl[2]], x[st.sl[3]]


_STATUS = {
    "Solved": "optimal", "AlmostSolved": "optimal_inaccurate", "PrimalInfeasible": "infeasible",
    "AlmostPrimalInfeasible": "infeasible_inaccurate", "DualInfeasible": "unbounded",
    "AlmostDualInfeasible": "unbounded_inaccurate", "MaxIterations": "max_iterations",
    "MaxTime": "max_time", "NumericalError": "numerical_error", "InsufficientProgress": "insufficient_progress",
}


# CLARABEL settings of the attempts at one rho: its defaults, then (only if that ends neither
# "optimal" with a passing check nor "infeasible", e.g. InsufficientProgress in the thin band above
# the threshold) without static regularisation. Measured on the Nesterov sweep at kappa near 1000: the
# retry removes the non-optimal verdicts scattered among certified rhos just above the threshold.
_ATTEMPTS: tuple = ({}, {"static_regularization_enable": False})


def _clarabel_solve(data: _LMIData, rho: float, attempt: int = 0) -> tuple:
    """One direct CLARABEL solve at rho: ``(status, P, lam, nu, tau)`` (None values unless optimal)."""
    import clarabel

    st = data.st
    G = data.G(rho)
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    for key, value in _ATTEMPTS[attempt].items():
        setattr(settings, key, value)
    try:
        sol = clarabel.DefaultSolver(st.Pobj, st.q, G, st.h, st.cones, settings).solve()
    except Exception as exc:  # pragma: no cover - a solver crash is "not certified"
        return f"solver_error: {exc}", None, None, None, None
    status = _STATUS.get(str(sol.status).split(".")[-1], str(sol.status))
    if status != "optimal":
        return status, None, None, None, None
    return (status,) + data.unpack(np.asarray(sol.x))


class _CvxpyLMI:
    """The same SDP written in cvxpy: one DPP-compiled problem per shape (n, m)."""

    def __init__(self, n: int, m: int) -> None:
        import cvxpy as cp

        self.cp = cp
        ns, nw = n + m, n + 2 * m
        npairs, npos = (2 * m + 1) * 2 * m, (m + 1) * m
        self.rho2 = cp.Parameter(nonneg=True, name="rho2")
        self.K1 = cp.Parameter((nw * nw, ns * ns), name="K1")
        self.Qs = cp.Parameter((nw * nw, npairs), name="Qs")
        self.Af = cp.Parameter((2 * m, npairs), name="Af")
        self.Qpos = cp.Parameter((ns * ns, npos), name="Qpos")
        self.Afpos = cp.Parameter((m, npos), name="Afpos")
        self.P = cp.Variable((ns, ns), symmetric=True, name="P")
        self.lam = cp.Variable(m, nonneg=True, name="lam")
        self.nu = cp.Variable(npairs, nonneg=True, name="nu")
        self.tau = cp.Variable(npos, nonneg=True, name="tau")
        E0 = np.hstack([np.eye(ns), np.zeros((ns, m))])
        K0 = np.kron(E0.T, E0.T)
        vP = cp.vec(self.P, order="F")
        Lmat = cp.reshape(self.K1 @ vP - self.rho2 * (K0 @ vP) - self.Qs @ self.nu, (nw, nw), order="F")
        e1 = np.zeros((ns, ns))
        e1[0, 0] = 1.0
        Pos = self.P - e1 + cp.reshape(self.Qpos @ self.tau, (ns, ns), order="F")
        fcoef = self.Af @ self.nu
        cons = [
            0.5 * (Lmat + Lmat.T) << 0,
            0.5 * (Pos + Pos.T) >> 0,
            self.Afpos @ self.tau == -self.lam,
            fcoef[:m] == -self.rho2 * self.lam,
            fcoef[m:] == self.lam,
        ]
        self.prob = cp.Problem(cp.Minimize(0), cons)

    def solve(self, data: _LMIData, rho: float) -> tuple:
        cp = self.cp
        self.rho2.value = rho * rho
        self.K1.value = np.kron(data.E1.T, data.E1.T)
        self.Qs.value = np.stack([_vec(Q) for Q in data.Q], axis=1)
        self.Af.value = data.Af
        self.Qpos.value = np.stack([_vec(Q) for Q in data.Qpos], axis=1)
        self.Afpos.value = data.Afpos
        try:
            with warnings.catch_warnings():  # "Solution may be inaccurate": reported through status
                warnings.simplefilter("ignore", UserWarning)
                self.prob.solve(solver=SOLVER, ignore_dpp=False)
        except cp.error.SolverError as exc:  # pragma: no cover - a solver crash is "not certified"
            return f"solver_error: {exc}", None, None, None, None
        status = self.prob.status
        if status != cp.OPTIMAL:
            return status, None, None, None, None
        return status, self.P.value, self.lam.value, self.nu.value, self.tau.value


_LOCAL = threading.local()  # cvxpy problems carry mutable parameters: one set per thread


def _cvxpy_solve(data: _LMIData, rho: float) -> tuple:
    cache = getattr(_LOCAL, "cvxpy", None)
    if cache is None:
        cache = _LOCAL.cvxpy = {}
    key = (data.n, data.m)
    if key not in cache:
        cache[key] = _CvxpyLMI(*key)
    return cache[key].solve(data, rho)


def _feasible_solution(data: _LMIData, rho: float, backend: str) -> tuple:
    """Solve at rho; return ``(accepted, status, (P, lam, nu, tau) or None)``: accepted only if
    ``optimal`` and the a-posteriori check passes (normalised scale)."""
    attempts = len(_ATTEMPTS) if backend == "clarabel" else 1
    for attempt in range(attempts):
        if backend == "clarabel":
            status, P, lam, nu, tau = _clarabel_solve(data, rho, attempt=attempt)
        else:
            status, P, lam, nu, tau = _cvxpy_solve(data, rho)
        if status == "optimal":
            if data.check(rho, P, lam, nu, tau):
                return True, status, tuple(np.array(v, dtype=float) for v in (P, lam, nu, tau))
            status = "optimal_failed_check"
        elif status == "infeasible":
            break
    return False, status, None


def _feasible(data: _LMIData, rho: float, backend: str) -> tuple:
    """Solve at rho; return ``(accepted, status)``: accepted only if ``optimal`` and the check passes."""
    ok, status, _ = _feasible_solution(data, rho, backend)
    return ok, status


def _user_scale(pt: _Point, data: _LMIData, sol: tuple) -> dict:
    """The normalised solution (f / L in S(mu / L, 1), u / L) in the scale of the call.

    With g = f / L: grad g = u / L, and every interpolation inequality of g is the one of f divided by
    L. So V = s_n' P_n s_n + lam_n (g - g*) with s_n = (xi, u / L) is s' P s + lam (f - f*) with
    P = T P_n T, T = diag(I_n, I_m / L), lam = lam_n / L; the multipliers divide by L likewise."""
    P, lam, nu, tau = sol
    n, m = pt.shape
    T = np.concatenate([np.ones(n), np.full(m, 1.0 / pt.L)])
    mult = {"nu": nu / pt.L, "tau": tau / pt.L, "pairs": list(data.pairs), "pos_pairs": list(data.pos_pairs)}
    return dict(P=T[:, None] * P * T[None, :], lam=lam / pt.L, multipliers=mult,
                system=tuple(np.array(M, dtype=float) for M in (pt.A, pt.B, pt.C, pt.D)))


# ----------------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------------
def _search(feasible, lo: float, tol: float, guess: Optional[float] = None, step: Optional[float] = None):
    """Smallest certified rho in (lo, 1) to ``tol``; ``lo`` is known not certifiable.

    The search runs on the lattice ``rho_i = lo + i h``, ``h = (1 - lo) / 2^K <= tol`` (i = 0..2^K),
    and returns the lattice point where the verdict switches, so its result does not depend on where
    it started (for verdicts monotone in rho, which they are in exact arithmetic: see the module
    docstring). Without ``guess``: check rho = 1 first (nothing certified there: stop), then bisect.
    With ``guess``: grow a bracket around it (steps of ``step``, doubling), then bisect. Returns
    ``(hi, lo, hi_status, last_status, solves)``; ``hi_status`` is None unless a solve at ``hi`` was
    accepted.
    """
    K = max(0, math.ceil(math.log2((1.0 - lo) / tol)))
    N = 2 ** K
    h = (1.0 - lo) / N
    last, solves = None, 0

    def rho(i: int) -> float:
        return 1.0 if i >= N else lo + i * h

    def probe(i: int):
        nonlocal solves, last
        ok, st = feasible(rho(i))
        solves += 1
        last = st
        return ok, st

    i_lo, i_hi, hi_status = 0, N, None  # i_lo: not certifiable; i_hi: certified (if hi_status) or N
    if guess is None or not (lo < guess < 1.0):
        ok, st = probe(N)
        if not ok:
            return 1.0, lo, None, st, solves
        hi_status = st
    else:
        d = max(1, int(round(max(tol, step or tol) / h)))
        p = min(max(int(round((guess - lo) / h)), 1), N)
        ok, st = probe(p)
        if ok:
            i_hi, hi_status = p, st
            while i_hi - d > i_lo:  # go down until not certified
                ok, st = probe(i_hi - d)
                if ok:
                    i_hi, hi_status = i_hi - d, st
                    d *= 2
                else:
                    i_lo = i_hi - d
                    break
        else:
            i_lo = p
            while True:  # go up until certified, or not certified at 1
                q = min(i_lo + d, N)
                ok, st = probe(q)
                if ok:
                    i_hi, hi_status = q, st
                    break
                i_lo = q
                if q >= N:
                    return 1.0, rho(i_lo), None, st, solves
                d *= 2
    while i_hi - i_lo > 1:
        mid = (i_lo + i_hi) // 2
        ok, st = probe(mid)
        if ok:
            i_hi, hi_status = mid, st
        else:
            i_lo = mid
    return rho(i_hi), rho(i_lo), hi_status, last, solves


def _certify_point(pt: _Point, tol: float, backend: str, guess=None, step=None, qlb=None) -> RateCertificate:
    t0 = time.perf_counter()
    A, B, C, D, q = pt.normalised()
    qlb = pt.quadratic_bound() if qlb is None else qlb
    lo = max(0.0, qlb - 1e-9)
    common = dict(solver=SOLVER if backend == "clarabel" else f"{SOLVER} (cvxpy)", quadratic_bound=qlb,
                  hyper=pt.hyper, shape=pt.shape)
    args = (pt.name, pt.mu, pt.L, pt.alpha, pt.beta, pt.gamma)
    if lo >= 1.0:  # the worst quadratic does not contract: no linear rate
        return RateCertificate(*args, None, False, "below_quadratic_lower_bound", (1.0, 1.0), 0,
                               time.perf_counter() - t0, **common)
    data = _LMIData(A, B, C, D, q)
    accepted: dict = {}  # rho -> the accepted solution there (the search returns one of these rhos)

    def feasible(r: float) -> tuple:
        ok, st, sol = _feasible_solution(data, r, backend)
        if ok:
            accepted[r] = sol
        return ok, st

    hi, lo, hi_status, last, solves = _search(feasible, lo, tol, guess, step)
    certified = hi_status is not None and hi < 1.0  # rate 1 is not a linear rate
    lyap = _user_scale(pt, data, accepted[hi]) if certified else {}
    return RateCertificate(*args, hi if certified else None, certified, hi_status if certified else last,
                           (lo, hi), solves, time.perf_counter() - t0, **common, **lyap)


def _check_tol(tol: float) -> float:
    tol = _finite("tol", tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must lie in (0, 1); got {tol}")
    return tol


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    return backend


# ----------------------------------------------------------------------------------------
# public
# ----------------------------------------------------------------------------------------
def certify_rate(method: Any, mu: float, L: float, alpha: Optional[float] = None, beta: Optional[float] = None,
                 *, tol: float = 1e-6, guess: Optional[float] = None, backend: str = "clarabel") -> RateCertificate:
    """Certify a linear rate for a linear method with fixed coefficients on S(mu, L) by bisection on rho.

    Parameters
    ----------
    method : str, Method or StateSpace
        ``"gd"``, ``"hb"``, ``"nesterov"`` (with ``alpha``, ``beta``), the name of another registered
        linear method, a linear :class:`~polyak.solvers.base.Method` (built-in or user-defined; its
        hyperparameters must be fixed numbers), or a ``StateSpace`` with matrices ``A, B, C, D``.
        Nonlinear rules raise ``ValueError`` with the reason.
    mu, L : float
        The class, ``0 < mu <= L``.
    alpha, beta : float, optional
        For the named methods: step and momentum (defaults: :func:`classical_tuning`); ``alpha >= 0``,
        ``beta in [0, 1)`` (0 for gd). For a Method: override its hyperparameters of these names.
    tol : float
        Width of the final bisection bracket, in (0, 1).
    guess : float, optional
        Where to start the search (e.g. a neighbouring point's rate); the result is the same to ``tol``.
    backend : {"clarabel", "cvxpy"}
        CLARABEL on directly assembled data (default) or the same SDP through cvxpy.

    Returns
    -------
    RateCertificate
        ``rate`` is an upper bound on the linear rate of ``||x_k - x*||`` (within ``tol`` of the
        smallest certifiable rho), or ``None`` with ``certified=False``.
    """
    pt = _resolve(method, mu, L, alpha, beta, "certify_rate")
    tol = _check_tol(tol)
    if guess is not None:
        guess = _finite("guess", guess)
    return _certify_point(pt, tol, _check_backend(backend), guess)


def check_rate(method: Any, mu: float, L: float, alpha: Optional[float] = None, beta: Optional[float] = None,
               *, rate: float, backend: str = "clarabel") -> tuple:
    """Is the claimed linear rate ``rate`` certified (one SDP solve)? Returns ``(certified, status)``.

    ``method`` as in :func:`certify_rate`. ``certified`` is True only for CLARABEL status ``optimal``
    with multipliers that pass the a-posteriori check; a claim below the quadratic lower bound is
    rejected without a solve (status ``"below_quadratic_lower_bound"``).
    """
    pt = _resolve(method, mu, L, alpha, beta, "check_rate")
    rate = _finite("rate", rate)
    if not 0.0 <= rate:
        raise ValueError(f"rate must be >= 0; got {rate}")
    if rate < pt.quadratic_bound() - 1e-9:
        return False, "below_quadratic_lower_bound"
    A, B, C, D, q = pt.normalised()
    return _feasible(_LMIData(A, B, C, D, q), rate, _check_backend(backend))


_EXTRAPOLATE = {0: (1.0,), 1: (2.0, -1.0), 2: (3.0, -3.0, 1.0)}


def _certify_chunk(points: list, tol: float, backend: str) -> list:
    """Certify consecutive points; each search starts from a guess extrapolated from the previous ones.

    What is extrapolated (quadratically, from the last three certified points) is the gap between the
    certified rate and the quadratic lower bound, which varies more slowly than the rate; the first
    bracket step is the last extrapolation error (or a tenth of the change of the quadratic bound).
    """
    out, prev, err = [], [], None
    for pt in points:
        qlb = pt.quadratic_bound()
        guess = step = None
        if prev:
            gaps = [r - q for q, r in prev[-3:]]
            coef = _EXTRAPOLATE[len(gaps) - 1]
            guess = qlb + sum(c * g for c, g in zip(coef, reversed(gaps)))
            guess = min(max(guess, qlb + 0.5 * tol), 1.0 - 0.5 * tol)
            step = max(tol, 0.1 * abs(qlb - prev[-1][0])) if err is None else max(tol, 0.5 * err)
        c = _certify_point(pt, tol, backend, guess, step, qlb=qlb)
        out.append(c)
        if c.certified:
            if guess is not None:
                err = abs(c.rate - guess)
            prev.append((qlb, c.rate))
        else:
            prev, err = [], None
    return out


def certify_rates(method: Any, mu: Any, L_array: Sequence[float], alpha_array: Optional[Sequence] = None,
                  beta_array: Optional[Sequence] = None, *, tol: float = 1e-6, executor: Any = None,
                  chunk: int = 25, backend: str = "clarabel") -> list:
    """Certify a sweep of points (``mu``, ``L``, ``alpha``, ``beta`` broadcast together).

    Parameters
    ----------
    method : str, Method, StateSpace, or a sequence of them (one per point)
        As in :func:`certify_rate`.
    mu : float or array
    L_array : array of float
    alpha_array, beta_array : array, optional
        ``None``: classical tuning at each point (named methods) or the Method's own values.
    tol : float
        Bisection tolerance at each point.
    executor : concurrent.futures.Executor, optional
        Where to run the chunks (a ``ProcessPoolExecutor``, a ``dask.distributed`` client's
        ``get_executor()``, ...); ``None`` runs them here. The result does not depend on it.
    chunk : int
        Points per chunk. Within a chunk each point's search starts from the rates of the previous
        points (see below), so ~5-6 solves per point instead of ~17; chunks are fixed by
        the point order alone, so every executor gives the serial numbers.
    backend : {"clarabel", "cvxpy"}

    Returns
    -------
    list of RateCertificate
        In the order of the points.
    """
    tol = _check_tol(tol)
    backend = _check_backend(backend)
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer; got {chunk!r}")
    chunk = int(chunk)
    Ls = np.atleast_1d(np.asarray(L_array, dtype=float))
    if Ls.ndim != 1:
        raise ValueError(f"L_array must be one-dimensional; got shape {Ls.shape}")
    shape = Ls.shape
    try:
        mus = np.broadcast_to(np.asarray(mu, dtype=float), shape)
        al = [None] * Ls.size if alpha_array is None else list(np.broadcast_to(np.asarray(alpha_array, dtype=float), shape))
        be = [None] * Ls.size if beta_array is None else list(np.broadcast_to(np.asarray(beta_array, dtype=float), shape))
    except ValueError:
        raise ValueError("mu, L_array, alpha_array, beta_array must broadcast to one shape") from None
    if isinstance(method, (list, tuple)):
        if len(method) != Ls.size:
            raise ValueError(f"method: a sequence must have one entry per point ({Ls.size}); got {len(method)}")
        methods = list(method)
    else:
        methods = [method] * Ls.size
    points = [_resolve(methods[i], float(mus[i]), float(Ls[i]), None if al[i] is None else float(al[i]),
                       None if be[i] is None else float(be[i]), "certify_rates") for i in range(Ls.size)]
    chunks = [points[i:i + chunk] for i in range(0, len(points), chunk)]
    if executor is None:
        parts = [_certify_chunk(c, tol, backend) for c in chunks]
    else:
        futures = [executor.submit(_certify_chunk, c, tol, backend) for c in chunks]
        parts = [f.result() for f in futures]
    return [c for part in parts for c in part]
