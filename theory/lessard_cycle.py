"""Periodic orbits of heavy ball on a piecewise-quadratic function, solved exactly (sympy).

Problem and assumptions:
    f is 1-D with a piecewise-affine gradient f'(x) = a_j x + b_j on the interval I_j of piece j
    (the pieces given as exact rationals). Heavy ball x_{k+1} = x_k - alpha f'(x_k) + beta (x_k - x_{k-1}).

Result:
    A period-P orbit (x_0, ..., x_{P-1}) whose point x_i lies on piece j_i solves the P linear equations
        x_{i+1} = x_i - alpha (a_{j_i} x_i + b_{j_i}) + beta (x_i - x_{i-1}),   indices mod P.

    For each assignment (j_0, ..., j_{P-1}) the system is solved exactly (rational LU) and
    kept when every x_i lies in its interval I_{j_i} and the points are not all equal (the fixed
    point x* is the trivial solution). The result is the set of orbits up to rotation. An orbit
    attracts nearby starts when the product of the P linear maps of its pieces (the monodromy
    matrix) has spectral radius < 1.

    ``hb_optimal_cycle(kappa)`` does the same for the quadratic-optimal tuning on the LRP family with
    curvature 1 on the middle piece and kappa elsewhere (goujaud2023's claim, one instance).
    ``lessard_orbit()`` applies it to the Lessard-Recht-Packard function (lessard2016, Sec. 4.6):
    f'(x) = 25x (x < 1), x + 24 (1 <= x < 2), 25x - 24 (x >= 2), alpha = 1/9, beta = 4/9, P = 3.
    An independent derivation: it uses nothing from polyak's solvers or verify (in particular not
    ``verify.counterexamples.lessard_cycle``), so the claim ``lessard2016.hb-cycle`` can compare it
    with the engine's simulation.

Provenance: [derived] here; the cycle's existence is [paper] (lessard2016).

References: lessard2016.

Example:
    >>> orb = lessard_orbit()
    >>> [round(float(v), 5) for v in orb]
    [-1.80245, 0.64653, 2.11592]
"""

from __future__ import annotations

import itertools
from typing import Sequence

import sympy as sp

#: The LRP pieces: (slope, intercept, lower end, upper end) with the interval [lo, hi).
LRP_PIECES = (
    (sp.Integer(25), sp.Integer(0), -sp.oo, sp.Integer(1)),
    (sp.Integer(1), sp.Integer(24), sp.Integer(1), sp.Integer(2)),
    (sp.Integer(25), sp.Integer(-24), sp.Integer(2), sp.oo),
)


def monodromy_radius(pieces: Sequence[tuple], assign: Sequence[int], alpha, beta) -> float:
    """Spectral radius of the product of heavy ball's linear maps [[1 + beta - alpha a_j, -beta], [1, 0]]
    along the pieces ``assign`` of an orbit: < 1 means the orbit attracts nearby starts."""
    M = sp.eye(2)
    for j in assign:
        a = pieces[j][0]
        M = sp.Matrix([[1 + beta - alpha * a, -beta], [1, 0]]) * M
    return max(abs(complex(sp.N(ev, 30))) for ev in M.eigenvals())


def periodic_orbits(pieces: Sequence[tuple], alpha, beta, period: int, attracting: bool = False) -> list[tuple]:
    """Every period-``period`` orbit of heavy ball on the piecewise-quadratic ``pieces``, exactly.

    Returns a list of orbits, each a tuple of sympy numbers sorted ascending (one per rotation class);
    ``attracting=True`` keeps those whose monodromy spectral radius is < 1.
    """
    if period < 2:
        raise ValueError(f"period must be >= 2; got {period}")
    alpha, beta = sp.Rational(alpha), sp.Rational(beta)
    found: set[tuple] = set()
    for assign in itertools.product(range(len(pieces)), repeat=period):
        # x_{i+1} - (1 + beta - alpha a_i) x_i + beta x_{i-1} = -alpha b_i, indices mod period
        M = sp.zeros(period, period)
        rhs = sp.zeros(period, 1)
        for i in range(period):
            a, b = pieces[assign[i]][:2]
            M[i, (i + 1) % period] += 1
            M[i, i] -= 1 + beta - alpha * a
            M[i, (i - 1) % period] += beta
            rhs[i] = -alpha * b
        if M.det() == 0:
            continue
        vals = tuple(M.LUsolve(rhs))
        if all(v == vals[0] for v in vals):
            continue  # the fixed point
        if all(pieces[assign[i]][2] <= vals[i] < pieces[assign[i]][3] for i in range(period)):
            if attracting and not monodromy_radius(pieces, assign, alpha, beta) < 1:
                continue
            found.add(tuple(sorted(vals, key=lambda v: float(v))))
    return sorted(found, key=lambda o: [float(v) for v in o])


def lrp_pieces(mu, L) -> tuple:
    """The LRP family (``solvers.problems.lessard``'s function, derived here again): phi' = L x (x < 1),
    mu x + (L - mu) (1 <= x < 2), L x - (L - mu) (x >= 2); mu = 1, L = 25 is lessard2016's."""
    mu, L = sp.Rational(mu), sp.Rational(L)
    return ((L, sp.Integer(0), -sp.oo, sp.Integer(1)), (mu, L - mu, sp.Integer(1), sp.Integer(2)),
            (L, -(L - mu), sp.Integer(2), sp.oo))


def hb_optimal_cycle(kappa) -> tuple:
    """The attracting period-3 orbit of heavy ball with the quadratic-optimal tuning alpha = 4/(sqrt(L) +
    sqrt(mu))^2, beta = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 (mu = 1, L = kappa) on the LRP family:
    a cycle on a 1-D function in S(mu, L), as goujaud2023 say must exist for tunings that accelerate.
    Found for kappa in [30, 100] (none at kappa = 20 on this family). alpha and beta enter as the
    rationals nearest their float values (relative error ~1e-16)."""
    q = float(kappa) ** 0.5
    alpha, beta = sp.Rational(4 / (q + 1) ** 2), sp.Rational(((q - 1) / (q + 1)) ** 2)
    orbits = periodic_orbits(lrp_pieces(1, kappa), alpha, beta, 3, attracting=True)
    if len(orbits) != 1:
        raise RuntimeError(f"expected one attracting period-3 orbit at kappa = {kappa}; found {len(orbits)}")
    return orbits[0]


def lessard_orbit() -> tuple:
    """The attracting period-3 orbit of heavy ball (alpha = 1/9, beta = 4/9) on the LRP function, exact,
    sorted. (There are two period-3 orbits; the other one, (-1.61522, 0.57937, 1.89612), repels.)"""
    orbits = periodic_orbits(LRP_PIECES, sp.Rational(1, 9), sp.Rational(4, 9), 3, attracting=True)
    if len(orbits) != 1:
        raise RuntimeError(f"expected exactly one attracting period-3 orbit of the LRP function; found {len(orbits)}")
    return orbits[0]
