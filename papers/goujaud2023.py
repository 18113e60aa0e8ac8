"""Goujaud, Taylor, Dieuleveut 2023: heavy-ball tunings that accelerate on quadratics cycle.

Statement (papers.md, Classics) [paper]: any heavy-ball tuning that accelerates on quadratics makes
heavy ball cycle on some smooth strongly convex function. Checked for the quadratic-optimal tuning
(alpha*, beta*) at kappa drawn by the seed in [20, 100]: ``verify.counterexamples.find_periodic_orbit``
constructs a 1-D function in S(mu, L) (its class checks must hold) and a period-3 orbit of heavy ball on
it; the claim simulates heavy ball independently (a plain loop here, from two consecutive orbit points)
for 30 periods and compares the iterates with the orbit.

References: goujaud2023, lessard2016.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import f, theory

PAPER = "goujaud2023"


def _search(seed: int):
    from polyak.verify.counterexamples import find_periodic_orbit

    kappa = float(np.random.default_rng(seed).uniform(20.0, 100.0))
    alpha, beta, _ = (f(v) for v in theory("hb_optimal")(1.0, kappa))
    orb = find_periodic_orbit(1.0, kappa, alpha, beta, 3)
    return kappa, alpha, beta, orb


def _cycle(seed: int, backend: str) -> Measurement:
    kappa, alpha, beta, orb = _search(seed)
    if not orb.found:
        raise RuntimeError(f"no period-3 orbit found at kappa = {kappa:g}")
    if not orb.class_checks.get("in_class", False):
        raise RuntimeError(f"the constructed function is not in S(1, {kappa:g}): {orb.class_checks}")
    x = list(orb.orbit)
    x_prev, x_cur = x[-1], x[0]
    periods = 30
    seq = []
    for _ in range(3 * periods):  # heavy ball, written plainly: x+ = x - alpha f'(x) + beta (x - x_prev)
        x_next = x_cur - alpha * orb.function.grad(np.array([x_cur]))[0] + beta * (x_cur - x_prev)
        x_prev, x_cur = x_cur, float(x_next)
        seq.append(x_cur)
    last = np.array(seq[-3:])
    order = [(i + 1) % 3 for i in range(3)]  # after 3*periods steps from x_0 the last three are x_1, x_2, x_0
    return Measurement(last, context={"orbit": np.array([x[i] for i in order])},
                       details={"kappa": kappa, "alpha": alpha, "beta": beta, "orbit": x, "margin": orb.margin,
                                "class_checks": orb.class_checks, "distance_to_x*": float(np.abs(last).min())})


def claims() -> list[Claim]:
    return [
        Claim(
            id="goujaud2023.hb-optimal-cycles", paper=PAPER,
            statement="heavy ball with the quadratic-optimal (alpha*, beta*) (kappa in [20, 100]) has a period-3 "
                      "cycle on a 1-D mu-strongly convex L-smooth function: 30 periods of heavy ball started on "
                      "the orbit stay on it (so it does not converge to x* = 0)",
            provenance="[paper]", relation="tight", measure=_cycle,
            predict=lambda ctx: ctx.measurement.context["orbit"], rtol=1e-8,
            tolerance_note="the orbit solves linear equations (one affine piece per point) to ~1e-15; 90 steps of "
                           "heavy ball amplify round-off at most by the orbit's (possibly unstable) linearisation, "
                           "measured < 1e-12 relative; 1e-8 leaves room and still rejects any non-periodic motion",
            requires=("attr:polyak.verify.counterexamples:find_periodic_orbit", "attr:polyak.theory:hb_optimal"),
        ),
    ]
