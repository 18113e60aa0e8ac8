"""Goujaud, Taylor, Dieuleveut 2023: heavy-ball tunings that accelerate on quadratics cycle.

Statement (papers.md, Classics) [paper]: any heavy-ball tuning that accelerates on quadratics makes
heavy ball cycle on some smooth strongly convex function. Checked for the quadratic-optimal tuning
(alpha*, beta*) at kappa drawn by the seed in [30, 100] on one explicit function of the class, the
LRP family (``solvers.problems.lessard``: curvature mu on [1, 2), L elsewhere): the prediction is the
attracting period-3 orbit solved exactly with sympy in ``theory/lessard_cycle.py`` (linear
equations on each piece, an independent derivation: neither the engine nor
``verify.counterexamples.find_periodic_orbit``), the measurement the engine's heavy ball from
x_0 = 3.1. (On this family no attracting period-3 orbit exists at kappa = 20.)

References: goujaud2023, lessard2016.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import f, theory

PAPER = "goujaud2023"


KAPPA_RANGE = (30.0, 100.0)
START = 3.1


def _kappa(seed: int) -> float:
    return float(np.random.default_rng(seed).uniform(*KAPPA_RANGE))


def _cycle(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method, make_problem, simulate

    kappa = _kappa(seed)
    alpha, beta, _ = (f(v) for v in theory("hb_optimal")(1.0, kappa))
    tr = simulate(make_method("hb", alpha=alpha, beta=beta), make_problem("lessard", dim=1, mu=1.0, L=kappa),
                  1200, x0=[START], keep_last=3, backend=backend)
    tail = np.sort(tr.x_tail.reshape(3))
    return Measurement(tail, context={"kappa": kappa},
                       details={"kappa": kappa, "alpha": alpha, "beta": beta, "start": START,
                                "final_distance": float(tr.dist[-1].max()),
                                "min_distance_last_100": float(tr.dist[-100:].min())})


def _orbit(ctx) -> np.ndarray:
    # independent of the engine and of verify.counterexamples: solved exactly with sympy in theory/
    from polyak.theory.lessard_cycle import hb_optimal_cycle

    return np.sort(np.array([float(v) for v in hb_optimal_cycle(ctx.measurement.context["kappa"])]))


def claims() -> list[Claim]:
    return [
        Claim(
            id="goujaud2023.hb-optimal-cycles", paper=PAPER,
            statement="heavy ball with the quadratic-optimal (alpha*, beta*) (kappa drawn in [30, 100]) does not "
                      "converge on a 1-D mu-strongly convex L-smooth function (the LRP family: curvature 1 on [1, 2), "
                      "kappa elsewhere): from x_0 = 3.1 its last iterates are the attracting period-3 orbit solved "
                      "exactly from the affine pieces (theory/lessard_cycle.py), away from x* = 0",
            provenance="[paper] (the instance and its orbit: [derived], theory/lessard_cycle.py)", relation="tight",
            measure=_cycle, predict=_orbit, rtol=1e-9,
            tolerance_note="the orbit attracts (monodromy spectral radius < 1, checked in theory/); after 1200 steps "
                           "the engine is on it to round-off; alpha and beta enter the exact solve as rationals "
                           "within 1e-16 of their floats; 1e-9 leaves room and rejects any non-periodic motion",
            requires=("problem:lessard", "module:polyak.theory.lessard_cycle", "attr:polyak.theory:hb_optimal"),
        ),
    ]
