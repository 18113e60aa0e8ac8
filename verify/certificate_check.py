"""An independent check of a rate certificate's Lyapunov function, by performance estimation (PEPit).

Problem
-------
:func:`polyak.verify.certificates.certify_rate` returns, with a certified rate ``rho``, the Lyapunov
function it found (``cert.P``, ``cert.lam``, ``cert.system = (A, B, C, D)``, in the scale of the
call)::

    V_k = s_k' P s_k + sum_i lam_i (f(y_k^i) - f*),    s_k = (xi_k - xi*, u_k),  u_k = (grad f(y_k^1), ...)

and claims, for every f in S(mu, L) and every state xi_k (state 0 is x_k),

    (decrease)    V_{k+1} <= rho^2 V_k,
    (positivity)  ||x_k - x*||^2 <= V_k.

This module checks both claims without the SDP of :mod:`polyak.verify.certificates` (no matrices,
pairs, multipliers or solver calls of it are reused): each claim is the sign of the optimal value of
a one-step performance estimation problem written in PEPit's primitives (goujaud2022pepit;
taylor2017's interpolation of S(mu, L) is PEPit's ``SmoothStronglyConvexFunction``)::

    decrease:    maximise V_{k+1} - rho^2 V_k   subject to  V_k <= 1,
    positivity:  maximise ||x_k - x*||^2 - V_k         subject to  sum_j ||xi_k^j - xi*^j||^2 <= 1,

over f in S(mu, L) and free state displacements ``d_j = xi_k^j - xi*^j`` (PEPit points), with the
method's step written from ``(A, B, C, D)``: ``y_k^i = x* + sum_j C_ij d_j + sum_{l<i} D_il g_l``,
``g_i = grad f(y_k^i)``, ``d' = A d + B g``, and the same calls at step k + 1 (decrease only: the
positivity problem has the points ``y_k^i, x*`` alone; the unused calls of step k + 1 leave free
directions that made CLARABEL end ``optimal_inaccurate`` on two-call methods). (The positions are
taken relative to ``x*`` as in the certificate: ``C xi* = x*`` and state 0 of ``xi*`` is ``x*``.)
Both problems are homogeneous of degree 2 in the points, so each value is 0 when the claim holds
and positive (or +inf: the solve then does not end ``optimal``) when it fails; the interpolation
conditions among the points of each problem (``y_k^i, y_{k+1}^i, x*``, resp. ``y_k^i, x*``) are
necessary and sufficient for them to come from an f in S(mu, L) (taylor2017 Thm 4), so each PEP is
exact for its claim. The positivity problem is solved with (P, lam) divided by ``s = max(1, max |P_ij|,
max |lam_i|)`` (at the scale L = 1 below; its value is divided by s; without it CLARABEL fails on
Nesterov at kappa = 1000, where P's entries are ~1e4). The PEP part passes when both values are
``<= tol`` (default 1e-6; a claimed rate lowered by 1e-3 gives a decrease value of about
2 rho 1e-3 = 2e-3 where the certificate is tight).

Resolution, measured: CLARABEL's accuracy on these PEPs is ~1e-6 in the value, so a claim a few
1e-6 below the true rate can pass the PEPs (an AutoLyap certificate 2.7e-6 below the quadratic lower
bound, with a one-step violation of 5.1e-6 at V = 1 on f = mu/2 x^2, got a decrease value of
1.2e-6; tests/verify/test_certificates_autolyap.py). So both claims are also checked exactly on the
quadratics f = c/2 x^2, c on a grid of [mu, L] (``grid`` points, endpoints included), by linear
algebra (generalised eigenvalues; see :func:`_quadratics`), with tolerance ``qtol`` (default 1e-8;
polyak's certificates have margins <= -5e-7 there on 80 random methods). Quadratics are only part
of the class: this part is sharp but not sufficient; the PEPs are sufficient but resolve ~1e-6.
If the decrease PEP does not end ``optimal`` it is solved again with (P, lam) / s, then with
``sum_j ||d_j||^2 <= 1``, then ``sum_j ||d_j||^2 + sum_i ||g_i||^2 <= 1`` in place of ``V_k <= 1``
(same sign of the value, other units); the first ``optimal`` value is reported.

The PEP is solved at the scale L = 1 (f -> f / L: ``B, D`` times ``L``; ``P``'s gradient block times
``L`` and the gradient-gradient block ``L^2``, ``lam`` times ``L``; the values are unchanged), because
PEPit with CLARABEL returns wrong values on the raw scale at L = 1000 (see
:func:`polyak.verify.pep.pep_with_pepit`). A PEP solve that does not end ``optimal`` fails the check.

Example
-------
>>> from polyak.verify.certificates import certify_rate
>>> from polyak.verify.certificate_check import check_certificate
>>> c = certify_rate("nesterov", mu=1.0, L=10.0)
>>> check_certificate(c).passed
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

__all__ = ["CertificateCheck", "check_certificate"]

SOLVER = "CLARABEL"


@dataclass(frozen=True)
class CertificateCheck:
    """Result of :func:`check_certificate`.

    ``decrease`` and ``positivity`` are the optimal values of the two PEPs (``inf`` when the solve
    did not end ``optimal``, e.g. an unbounded problem); ``statuses`` the PEPit/cvxpy statuses;
    ``quadratic_decrease`` and ``quadratic_positivity`` the same two quantities on the quadratics of
    the class (exact linear algebra on a grid of curvatures); ``passed`` is ``decrease <= tol and
    positivity <= tol`` and both quadratic values ``<= qtol``.
    """

    passed: bool
    decrease: float
    positivity: float
    tol: float
    rho: float
    statuses: tuple
    quadratic_decrease: float = math.nan
    quadratic_positivity: float = math.nan
    qtol: float = math.nan


def _normalised(cert: Any) -> tuple:
    """(A, B L, C, D L, P_n, lam_n, mu / L): the claim for f / L in S(mu / L, 1), u_n = u / L."""
    if not getattr(cert, "certified", False) or cert.P is None or cert.system is None:
        raise ValueError("cert must be a certified RateCertificate carrying its Lyapunov function "
                         "(P, lam, system); got one without")
    A, B, C, D = (np.asarray(M, dtype=float) for M in cert.system)
    n, m = B.shape
    L = float(cert.L)
    P = np.asarray(cert.P, dtype=float)
    lam = np.asarray(cert.lam, dtype=float).reshape(-1)
    if P.shape != (n + m, n + m) or lam.shape != (m,):
        raise ValueError(f"cert.P must be {(n + m, n + m)} and cert.lam {(m,)} for a system with n={n}, m={m}; "
                         f"got {P.shape} and {lam.shape}")
    # s = (d, u) = (d, L u_n): s' P s = s_n' S P S s_n with S = diag(1, ..., L, ...); lam f = (lam L) f_n
    S = np.concatenate([np.ones(n), np.full(m, L)])
    return A, B * L, C, D * L, S[:, None] * P * S[None, :], lam * L, float(cert.mu) / L


def _combination(coefs, points):
    out = None
    for c, p in zip(coefs, points):
        c = float(c)
        if c != 0.0:
            out = c * p if out is None else out + c * p
    return out


def _build(A, B, C, D, q, next_step: bool = True):
    """The PEP skeleton: (problem, d, g, f, d1, g1, f1, fs) for the normalised method on S(q, 1)
    (without the calls of step k + 1 when ``next_step`` is False: d1, g1, f1 are then None)."""
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    n, m = B.shape
    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexFunction, mu=q, L=1.0)
    xs = func.stationary_point()
    fs = func(xs)
    d = [problem.set_initial_point() for _ in range(n)]

    def calls(dv):
        g, f = [], []
        for i in range(m):
            off = _combination(list(C[i]) + list(D[i, :i]), list(dv) + g)
            y = xs if off is None else xs + off
            gi, fi = func.oracle(y)
            g.append(gi)
            f.append(fi)
        return g, f

    g, f = calls(d)
    if not next_step:
        return problem, d, g, f, None, None, None, fs
    d1 = []
    for i in range(n):
        v = _combination(list(A[i]) + list(B[i]), d + g)
        d1.append(v if v is not None else 0 * d[0])
    g1, f1 = calls(d1)
    return problem, d, g, f, d1, g1, f1, fs


def _V(P, lam, s, f, fs):
    """s' P s + sum lam_i (f_i - f*) as a PEPit expression."""
    k = len(s)
    out = None
    for a in range(k):
        for b in range(k):
            c = float(P[a, b])
            if c != 0.0:
                term = c * (s[a] * s[b])
                out = term if out is None else out + term
    for li, fi in zip(lam, f):
        if float(li) != 0.0:
            term = float(li) * (fi - fs)
            out = term if out is None else out + term
    return out


def _solve(problem) -> tuple:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(problem.solve(wrapper="cvxpy", solver=SOLVER, verbose=0))
        status = str(problem.wrapper.prob.status)
    except Exception as exc:  # an unbounded or failed PEP is "claim not verified"
        return math.inf, f"error: {type(exc).__name__}: {exc}"
    if status != "optimal" or not math.isfinite(value):
        return math.inf, status
    return value, status


def check_certificate(cert: Any, *, tol: float = 1e-6, qtol: float = 1e-8, grid: int = 201) -> CertificateCheck:
    """Check a certified :class:`~polyak.verify.certificates.RateCertificate` by two PEPit problems.

    Parameters
    ----------
    cert : RateCertificate
        Certified, with ``P``, ``lam`` and ``system`` (as :func:`certify_rate` returns them); the
        claimed rate is ``cert.rate`` (``dataclasses.replace`` a field to check another claim).
    tol : float
        Largest accepted optimal value of each PEP, in (0, 1).
    qtol : float
        Largest accepted value of each claim on the quadratics (linear algebra; sharper than the PEPs).
    grid : int
        Number of curvatures (endpoints mu and L included) of the quadratics checked.

    Returns
    -------
    CertificateCheck
    """
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a number in (0, 1); got {tol!r}") from None
    if not 0.0 < tol < 1.0:
        raise ValueError(f"tol must lie in (0, 1); got {tol}")
    if not (isinstance(qtol, (int, float)) and 0.0 < qtol < 1.0):
        raise ValueError(f"qtol must lie in (0, 1); got {qtol!r}")
    if int(grid) != grid or grid < 2:
        raise ValueError(f"grid must be an integer >= 2; got {grid!r}")
    grid = int(grid)
    A, B, C, D, P, lam, q = _normalised(cert)
    rho = float(cert.rate)
    if not (math.isfinite(rho) and rho >= 0):
        raise ValueError(f"cert.rate must be a finite number >= 0; got {cert.rate!r}")

    sc = max(1.0, float(np.abs(P).max()), float(np.abs(lam).max()))
    # decrease: max V_{k+1} - rho^2 V_k  s.t.  V_k <= 1; if that solve does not end optimal, the same
    # with (P, lam) / s (the same value: the claim is homogeneous in (P, lam)), then with the states
    # normalised instead (same sign, other units): the value of the first solve that ends optimal
    attempts = ((1.0, "V"), (sc, "V"), (sc, "d"), (sc, "dg"))
    for scale, norm_kind in attempts:
        problem, d, g, f, d1, g1, f1, fs = _build(A, B, C, D, q)
        V0 = _V(P / scale, lam / scale, d + g, f, fs)
        V1 = _V(P / scale, lam / scale, d1 + g1, f1, fs)
        if norm_kind == "V":
            problem.set_initial_condition(V0 <= 1)
        else:
            pts = d + g if norm_kind == "dg" else d
            problem.set_initial_condition(_combination([1.0] * len(pts), [v ** 2 for v in pts]) <= 1)
        problem.set_performance_metric(V1 - rho * rho * V0)
        dec, st_dec = _solve(problem)
        if st_dec == "optimal":
            break

    # positivity: max (||x_k - x*||^2 - V_k) / s  s.t.  sum_j ||d_j||^2 <= 1, s the scale of (P, lam)
    # (without 1/s CLARABEL fails on Nesterov at kappa = 1000, where P's entries are ~1e4)
    problem, d, g, f, _, _, _, fs = _build(A, B, C, D, q, next_step=False)
    V0 = _V(P / sc, lam / sc, d + g, f, fs)
    norm = _combination([1.0] * len(d), [dj ** 2 for dj in d])
    problem.set_initial_condition(norm <= 1)
    problem.set_performance_metric((1.0 / sc) * d[0] ** 2 - V0)
    pos, st_pos = _solve(problem)
    qdec, qpos = _quadratics(A, B, C, D, P, lam, q, rho, grid)
    passed = dec <= tol and pos <= tol and qdec <= qtol and qpos <= qtol
    return CertificateCheck(bool(passed), dec, pos, tol, rho, (st_dec, st_pos), qdec, qpos, qtol)


def _quadratics(A, B, C, D, P, lam, q, rho, grid):
    """The two claims on the quadratics f = lam_q / 2 x^2, lam_q on a grid of [q, 1] (normalised scale),
    by linear algebra: there u = lam_q y, y = K xi with K = (I - lam_q D)^-1 C, the step is
    T = A + lam_q B K, and V = xi' M xi with M = E' P E + sum_i lam_i (lam_q / 2) K_i' K_i, E = (I; lam_q K).
    Returns (max over the grid of max_{V <= 1} V(T xi) - rho^2 V(xi), i.e. the largest generalised
    eigenvalue of (T' M T, M) minus rho^2 (+inf if M is not positive definite and some xi with V = 0
    grows), max over the grid of max_{|xi| <= 1} |x|^2 - V(xi), i.e. lambda_max(e_0 e_0' - M))."""
    import scipy.linalg

    n, m = B.shape
    e0 = np.zeros((n, n))
    e0[0, 0] = 1.0
    qdec = qpos = -math.inf
    for lq in np.linspace(q, 1.0, grid):
        K = np.linalg.solve(np.eye(m) - lq * D, C)
        T = A + lq * B @ K
        E = np.vstack([np.eye(n), lq * K])
        M = E.T @ P @ E + sum(lam[i] * (lq / 2) * np.outer(K[i], K[i]) for i in range(m))
        M = 0.5 * (M + M.T)
        N = T.T @ M @ T
        N = 0.5 * (N + N.T)
        qpos = max(qpos, float(np.linalg.eigvalsh(e0 - M).max()))
        w = np.linalg.eigvalsh(M)
        if w.min() > 1e-12 * max(1.0, w.max()):
            qdec = max(qdec, float(scipy.linalg.eigh(N, M, eigvals_only=True).max()) - rho * rho)
        else:
            top = float(np.linalg.eigvalsh(N - rho * rho * M).max())
            qdec = max(qdec, math.inf if top > 1e-12 * max(1.0, w.max()) else top / max(1.0, w.max()))
    return qdec, qpos

