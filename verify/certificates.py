"""Linear-rate certificates for gradient descent, heavy ball and Nesterov (a Lyapunov SDP).

Problem and assumptions
-----------------------
``f`` is mu-strongly convex and L-smooth on R^d (the class S(mu, L), ``0 < mu <= L``), minimiser
``x*``. The method is the first-order momentum family with fixed ``(alpha, beta, gamma)``::

    y_k     = x_k + gamma (x_k - x_{k-1})
    x_{k+1} = x_k + beta (x_k - x_{k-1}) - alpha grad f(y_k)

``gamma = 0`` is heavy ball (the canonical HB form of the toolkit), ``gamma = beta`` is Nesterov's
method, ``beta = gamma = 0`` is gradient descent. As a Lur'e system with state
``xi_k = (x_k, x_{k-1})``, input ``u_k = grad f(y_k)`` and output ``y_k``::

    A = [[1 + beta, -beta], [1, 0]],  B = [[-alpha], [0]],  C = [1 + gamma, -gamma].

All constraints below are invariant under rotations of R^d, so the 1-D lifting (matrices of size 4)
is exact for every d (lessard2016, sec. 4.2).

What is computed
----------------
The smallest ``rho`` (to ``tol``) for which a Lyapunov function::

    V_k = [x_k - x*, x_{k-1} - x*, u_k]' P [x_k - x*, x_{k-1} - x*, u_k] + lam (f(y_k) - f*)

exists with ``lam >= 0``, ``V_k >= ||x_k - x*||^2`` at every admissible point (an S-procedure over the
interpolation inequalities between ``y_k`` and ``x*``; the quadratic part P itself need not be PSD) and
``V_{k+1} <= rho^2 V_k`` for every ``f`` in S(mu, L) and every trajectory. The decrease is certified by
the S-procedure over the six smooth strongly convex interpolation inequalities (taylor2017, Thm 4)
between the three points ``y_k``, ``y_{k+1}`` and ``x*``: a 4x4 linear matrix inequality in
``(P, lam, nu)`` plus two linear equations matching the function values. Then, for all k,
``||x_k - x*||^2 <= V_k <= rho^(2k) V_0``: a linear rate ``rho`` in the distance to the optimum.

This is the iteration-independent Lyapunov formulation of taylor2018 (Taylor, Van Scoy, Lessard,
"Lyapunov functions for first-order methods: tight automated convergence guarantees"), with the
state augmented by the last gradient. It is provably at least as tight as lessard2016's Theorem 4
with the sector IQC plus the weighted off-by-one IQC (their Lemma 10): that IQC is a nonnegative
combination (weights rho^2 and 1 - rho^2) of the interpolation inequalities between (y_{k-1}, y_k)
and (y_k, x*), whose function values telescope; the telescoped quantity W_k = (L - mu)(f(y_k) - f* - mu/2 |y_k - x*|^2) - 1/2 |u_k - mu (y_k - x*)|^2
(>= 0 by the (y_k, x*) inequality) joins V, and LRP's Lyapunov matrix on (xi_{k+1}, filter state) is
a quadratic form in (xi_k, u_k), i.e. of the form of P above. The quadratic part of W_k is negative
semidefinite, which is why positivity is imposed through the S-procedure and not as ``P >= 0``
(with ``P >= e1 e1'`` the LRP rates are *not* reached: 0.766 against 0.752 for Nesterov at kappa 10).
Every LRP certificate therefore maps to one here (the tests check
``rate <= LRP rate`` on a grid with an LRP-style LMI written from scratch).

Algorithm
---------
Bisection on rho. The problem is scale-normalised (L -> 1, alpha -> alpha L) and compiled once:
rho^2 and every matrix that depends on (mu, L, alpha, beta, gamma) are ``cp.Parameter`` objects that
enter affinely (DPP), so the whole sweep over methods and parameters reuses one compiled problem.
The search starts from the quadratic lower bound (no rate below the worst quadratic can be
certified). A point is feasible only if CLARABEL returns ``optimal`` *and* the returned multipliers
pass an a-posteriori check (eigenvalues of both matrix inequalities, signs of the multipliers, the
function-value equations);
``optimal_inaccurate``, ``infeasible`` or a failed check count as "not certified at that rho".
If rho = 1 is not certified, or no rho < 1 is, the result says ``certified=False`` and
``rate=None``: heavy ball tuned for quadratics with large kappa has no certificate (it can cycle,
lessard2016 sec. 4.6, goujaud2023).

Guarantee (provenance)
----------------------
Soundness of the certificate: lessard2016 Thm 4 / taylor2018 Thm 1 with taylor2017 Thm 4 [paper].
Gradient descent: the certified rate equals max(|1 - alpha mu|, |1 - alpha L|) (tested).

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
import time
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

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


@dataclass(frozen=True)
class RateCertificate:
    """Result of :func:`certify_rate`.

    ``rate`` is the best certified rho (``None`` when nothing below 1 is certified); ``bracket`` is
    the final bisection interval (lower end: largest rho found not certifiable, or the quadratic
    lower bound; upper end: ``rate``, or 1.0); ``status`` is the solver status of the accepted solve
    (or of the last solve when nothing was certified); ``solves`` counts SDP solves.
    """

    method: str
    mu: float
    L: float
    alpha: float
    beta: float
    gamma: float
    rate: Optional[float]
    certified: bool
    status: str
    bracket: tuple
    solves: int
    seconds: float
    solver: str = SOLVER

    def to_dict(self) -> dict:
        return {
            "method": self.method, "mu": self.mu, "L": self.L, "alpha": self.alpha, "beta": self.beta,
            "gamma": self.gamma, "rate": self.rate, "certified": self.certified, "status": self.status,
            "bracket": list(self.bracket), "solves": self.solves, "seconds": self.seconds,
            "solver": self.solver,
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


def check_method_params(method: str, mu: float, L: float, alpha=None, beta=None):
    """Validate and complete ``(method, mu, L, alpha, beta)``; return ``(method, mu, L, alpha, beta, gamma)``.

    Raises ``ValueError`` naming the parameter and its admissible range.
    """
    key = str(method).lower()
    if key not in METHODS:
        raise ValueError(f"method must be one of gd, hb, nesterov; got {method!r}")
    m = METHODS[key]
    mu = _finite("mu", mu)
    L = _finite("L", L)
    if mu <= 0:
        raise ValueError(f"mu must be > 0 (strong convexity); got {mu}")
    if L < mu:
        raise ValueError(f"L must be >= mu (0 < mu <= L); got mu={mu}, L={L}")
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
    """
    lam = np.linspace(mu, L, grid)
    # discriminant t^2 - 4 d = 0 with t, d affine in lambda: add its real roots in [mu, L]
    a1, a0 = -alpha * (1 + gamma), 1 + beta
    d1, d0 = -alpha * gamma, beta
    roots = np.roots([a1 * a1, 2 * a0 * a1 - 4 * d1, a0 * a0 - 4 * d0]) if a1 != 0 else np.array([])
    roots = np.real(roots[np.isreal(roots)]) if roots.size else roots
    lam = np.concatenate([lam, roots[(roots >= mu) & (roots <= L)]])
    t = a0 + a1 * lam
    d = d0 + d1 * lam
    disc = t * t - 4 * d
    sq = np.sqrt(np.abs(disc))
    r = np.where(disc >= 0, (np.abs(t) + sq) / 2, np.sqrt(np.maximum(d, 0.0)))
    return float(r.max())


# ----------------------------------------------------------------------------------------
# the parametrised SDP (built once, module level)
# ----------------------------------------------------------------------------------------
# variables w = (x_k, x_{k-1}, u_k, u_{k+1}); function values (f_k, f_{k+1}); x* = 0, g* = 0, f* = 0.
_NW, _NS = 4, 3
_PAIRS = [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]  # points: 0 = y_k, 1 = y_{k+1}, 2 = x*


def _vec(M: np.ndarray) -> np.ndarray:
    return M.reshape(-1, order="F")


def _interp_data(mu: float, L: float, alpha: float, beta: float, gamma: float):
    """Numeric data for one point, in normalised units (caller passes L = 1).

    Returns (K1, Qs, Af): vec(E1' P E1) = K1 vec(P); vec(sum nu_ij Q_ij) = Qs nu;
    f-coefficients of sum nu_ij phi_ij = Af nu (rows f_k, f_{k+1}).
    """
    E1 = np.array([[1 + beta, -beta, -alpha, 0.0], [1.0, 0, 0, 0], [0, 0, 0, 1.0]])
    K1 = np.kron(E1.T, E1.T)  # vec(E1' P E1) = (E1' kron E1') vec(P)
    Y = [np.array([1 + gamma, -gamma, 0, 0]), (1 + gamma) * E1[0] - gamma * np.array([1.0, 0, 0, 0]), np.zeros(4)]
    G = [np.array([0, 0, 1.0, 0]), np.array([0, 0, 0, 1.0]), np.zeros(4)]
    F = [np.array([1.0, 0]), np.array([0, 1.0]), np.zeros(2)]
    q = mu / L
    Qs = np.zeros((_NW * _NW, len(_PAIRS)))
    Af = np.zeros((2, len(_PAIRS)))
    for c, (i, j) in enumerate(_PAIRS):
        dx, dg = Y[i] - Y[j], G[i] - G[j]
        # (1 - mu/L)(f_j - f_i + <g_j, x_i - x_j>)
        #   + 1/2 [ |dg|^2 / L + mu |dx|^2 - 2 (mu/L) <g_j - g_i, x_j - x_i> ]  <= 0
        M = (1 - q) * 0.5 * (np.outer(G[j], dx) + np.outer(dx, G[j]))
        M += 0.5 * (np.outer(dg, dg) / L + mu * np.outer(dx, dx) - (mu / L) * (np.outer(dg, dx) + np.outer(dx, dg)))
        Qs[:, c] = _vec(M)
        Af[:, c] = (1 - q) * (F[j] - F[i])
    # pairs (y_k, x*) and (x*, y_k) involve only s_k = (x_k, x_{k-1}, u_k): their 3x3 blocks
    Qpos = np.stack([Qs[:, 2].reshape(_NW, _NW, order="F")[:_NS, :_NS].reshape(-1, order="F"),
                     Qs[:, 3].reshape(_NW, _NW, order="F")[:_NS, :_NS].reshape(-1, order="F")], axis=1)
    return K1, Qs, Af, Qpos


class _RateSDP:
    """One compiled feasibility SDP; parameters: rho^2, K1, Qs, Af."""

    def __init__(self) -> None:
        import cvxpy as cp

        self.cp = cp
        self.rho2 = cp.Parameter(nonneg=True, name="rho2")
        self.K1 = cp.Parameter((_NW * _NW, _NS * _NS), name="K1")
        self.Qs = cp.Parameter((_NW * _NW, len(_PAIRS)), name="Qs")
        self.Af = cp.Parameter((2, len(_PAIRS)), name="Af")
        self.P = cp.Variable((_NS, _NS), symmetric=True, name="P")
        self.lam = cp.Variable(nonneg=True, name="lam")
        self.nu = cp.Variable(len(_PAIRS), nonneg=True, name="nu")
        E0 = np.hstack([np.eye(_NS), np.zeros((_NS, 1))])
        K0 = np.kron(E0.T, E0.T)
        vP = cp.vec(self.P, order="F")
        vL = self.K1 @ vP - self.rho2 * (K0 @ vP) - self.Qs @ self.nu
        Lmat = cp.reshape(vL, (_NW, _NW), order="F")
        Lsym = 0.5 * (Lmat + Lmat.T)
        e1 = np.zeros((_NS, _NS))
        e1[0, 0] = 1.0
        fcoef = self.Af @ self.nu  # coefficients of (f_k, f_{k+1}) in sum nu phi
        # positivity V_k >= ||x_k - x*||^2 on every admissible point (S-procedure with the two
        # interpolation inequalities between y_k and x*); the quadratic part of V need not be PSD
        self.Qpos = cp.Parameter((_NS * _NS, 2), name="Qpos")
        self.tau = cp.Variable(2, nonneg=True, name="tau")
        Pos = self.P - e1 + cp.reshape(self.Qpos @ self.tau, (_NS, _NS), order="F")
        cons = [
            Lsym << 0,
            0.5 * (Pos + Pos.T) >> 0,
            self.Af[0, 2] * self.tau[0] + self.Af[0, 3] * self.tau[1] == -self.lam,
            fcoef[0] == -self.rho2 * self.lam,
            fcoef[1] == self.lam,
        ]
        self.prob = cp.Problem(cp.Minimize(0), cons)
        self._K0, self._E0 = K0, E0
        self.compiled = False

    def feasible(self, rho: float, data) -> tuple:
        """Solve at rho; return (accepted: bool, status: str)."""
        cp = self.cp
        K1, Qs, Af, Qpos = data
        self.rho2.value = rho * rho
        self.K1.value, self.Qs.value, self.Af.value, self.Qpos.value = K1, Qs, Af, Qpos
        try:
            with warnings.catch_warnings():  # "Solution may be inaccurate": reported through status
                warnings.simplefilter("ignore", UserWarning)
                self.prob.solve(solver=SOLVER, ignore_dpp=False)
            status = self.prob.status
        except cp.error.SolverError as exc:  # pragma: no cover - solver crash is "not certified"
            return False, f"solver_error: {exc}"
        self.compiled = True
        if status != cp.OPTIMAL:
            return False, status
        return self._post_check(rho, K1, Qs, Af, Qpos), status

    def _post_check(self, rho, K1, Qs, Af, Qpos) -> bool:
        P, nu, tau = self.P.value, self.nu.value, self.tau.value
        if P is None or nu is None or tau is None or self.lam.value is None:
            return False
        lam = float(self.lam.value)
        scale = 1.0 + np.abs(P).max() + lam + np.abs(nu).sum() + np.abs(tau).sum()
        vP = _vec(P)
        Lm = (K1 @ vP - rho * rho * (self._K0 @ vP) - Qs @ nu).reshape(_NW, _NW, order="F")
        Lm = 0.5 * (Lm + Lm.T)
        e1 = np.zeros((_NS, _NS))
        e1[0, 0] = 1.0
        tol = 1e-7 * scale
        ok = np.linalg.eigvalsh(Lm).max() <= tol
        Pos = P - e1 + (Qpos @ tau).reshape(_NS, _NS, order="F")
        ok &= np.linalg.eigvalsh(0.5 * (Pos + Pos.T)).min() >= -tol
        ok &= nu.min() >= -tol and lam >= -tol and tau.min() >= -tol
        ok &= abs(Af[0, 2] * tau[0] + Af[0, 3] * tau[1] + lam) <= tol
        fc = Af @ nu
        ok &= abs(fc[0] + rho * rho * lam) <= tol and abs(fc[1] - lam) <= tol
        return bool(ok)


_SDP: Optional[_RateSDP] = None


def _sdp() -> _RateSDP:
    global _SDP
    if _SDP is None:
        _SDP = _RateSDP()
    return _SDP


# ----------------------------------------------------------------------------------------
# public
# ----------------------------------------------------------------------------------------
def certify_rate(method: str, mu: float, L: float, alpha: Optional[float] = None, beta: Optional[float] = None,
                 *, tol: float = 1e-6) -> RateCertificate:
    """Certify a linear rate for ``method`` with fixed ``(alpha, beta)`` on S(mu, L) by bisection on rho.

    Args:
        method: ``"gd"``, ``"hb"`` or ``"nesterov"``.
        mu, L: the class, ``0 < mu <= L``.
        alpha, beta: step and momentum (defaults: :func:`classical_tuning`); ``alpha >= 0``,
            ``beta in [0, 1)`` (0 for gd).
        tol: width of the final bisection bracket.

    Returns:
        :class:`RateCertificate`; ``rate`` is an upper bound on the linear rate of ``||x_k - x*||``
        (within ``tol`` of the smallest certifiable rho), or ``None`` with ``certified=False``.
    """
    m, mu, L, alpha, beta, gamma = check_method_params(method, mu, L, alpha, beta)
    tol = _finite("tol", tol)
    if not tol > 0:
        raise ValueError(f"tol must be > 0; got {tol}")
    t0 = time.perf_counter()
    sdp = _sdp()
    mun, an = mu / L, alpha * L  # normalise L -> 1
    data = _interp_data(mun, 1.0, an, beta, gamma)
    lo = max(0.0, quadratic_rate(mun, 1.0, an, beta, gamma) - 1e-9)
    solves = 1
    ok, status = sdp.feasible(1.0, data)
    if not ok or lo >= 1.0:
        return RateCertificate(m, mu, L, alpha, beta, gamma, None, False, status, (min(lo, 1.0), 1.0), solves,
                               time.perf_counter() - t0)
    hi, hi_status = 1.0, status
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        ok, st = sdp.feasible(mid, data)
        solves += 1
        if ok:
            hi, hi_status = mid, st
        else:
            lo = mid
    certified = hi < 1.0
    return RateCertificate(m, mu, L, alpha, beta, gamma, hi if certified else None, certified,
                           hi_status, (lo, hi), solves, time.perf_counter() - t0)


def check_rate(method: str, mu: float, L: float, alpha: Optional[float] = None, beta: Optional[float] = None,
               *, rate: float) -> tuple:
    """Is the claimed linear rate ``rate`` certified (one SDP solve)? Returns ``(certified, status)``.

    ``certified`` is True only for CLARABEL status ``optimal`` with multipliers that pass the
    a-posteriori check; a claim below the quadratic lower bound is rejected without a solve
    (status ``"below_quadratic_lower_bound"``).
    """
    m, mu, L, alpha, beta, gamma = check_method_params(method, mu, L, alpha, beta)
    rate = _finite("rate", rate)
    if not 0.0 <= rate:
        raise ValueError(f"rate must be >= 0; got {rate}")
    mun, an = mu / L, alpha * L
    if rate < quadratic_rate(mun, 1.0, an, beta, gamma) - 1e-9:
        return False, "below_quadratic_lower_bound"
    return _sdp().feasible(rate, _interp_data(mun, 1.0, an, beta, gamma))


def certify_rates(method: str, mu: float, L_array: Sequence[float], alpha_array: Optional[Sequence] = None,
                  beta_array: Optional[Sequence] = None, *, tol: float = 1e-6) -> list:
    """Sweep :func:`certify_rate` over arrays (broadcast together), reusing the one compiled problem.

    ``mu`` is a scalar or an array; ``alpha_array``/``beta_array`` may be ``None`` (classical tuning at
    each point) or contain ``None``/NaN-free floats. Returns a list of :class:`RateCertificate`.
    """
    Ls = np.atleast_1d(np.asarray(L_array, dtype=float))
    mus = np.broadcast_to(np.asarray(mu, dtype=float), Ls.shape)
    al = [None] * Ls.size if alpha_array is None else list(np.broadcast_to(np.asarray(alpha_array, dtype=float), Ls.shape))
    be = [None] * Ls.size if beta_array is None else list(np.broadcast_to(np.asarray(beta_array, dtype=float), Ls.shape))
    return [certify_rate(method, float(mus[i]), float(Ls[i]), al[i], be[i], tol=tol) for i in range(Ls.size)]
