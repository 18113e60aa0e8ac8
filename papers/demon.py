"""Demon: decaying momentum (Chen, Wolfe, Li, Kyrillidis, arXiv 1910.04952).

Statements (papers.md, Demon):

* [paper] the rule beta_t/(1 - beta_t) = (1 - t/T) beta_init/(1 - beta_init); [derived] its properties:
  ``effective-step-linear``: 1/(1 - beta_t) = 1 + (1 - t/T) beta_init/(1 - beta_init), so the effective
  step eta/(1 - beta_t) decays exactly linearly from eta/(1 - beta_init) (t = 0) to eta (t = T,
  beta_T = 0); ``decreasing``: beta_t is non-increasing on [0, T]; ``concave``: its second differences
  are <= 0. Measured on the engine's schedule (``solvers.demon.demon_schedule``), predicted by the
  ``demon-beta`` Derivation.
* [derived] ``sgdm-is-hb``: Demon SGDM (v_{t+1} = beta_t v_t - eta g_t, theta_{t+1} = theta_t + v_{t+1})
  is heavy ball with alpha = eta and beta_t: the engine's ``demon-sgdm`` iterates equal heavy ball
  driven by the Derivation's closed-form beta_t (t clamped to [0, T]) on logistic regression.
* [paper] headline: Top-1 in 39% and Top-3 in 85% of 28 deep-learning settings. An empirical
  deep-learning result: not checkable by this toolkit, declared as such (never reported as passed).

References: chen2019demon.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import derived

PAPER = "chen2019demon"


def _params(seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    return float(rng.uniform(0.5, 0.99)), float(rng.integers(10, 1000))


def _closed(name: str, t, T, beta_init):
    return derived("demon-beta", name, t=t, T=T, beta_init=beta_init)


def _table(seed: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    from polyak.solvers.demon import demon_schedule

    b0, T = _params(seed)
    t = np.arange(int(T) + 1, dtype=float)
    return t, demon_schedule(b0, T).table(int(T) + 1), b0, T


def _effective(seed: int, backend: str) -> Measurement:
    t, beta, b0, T = _table(seed)
    return Measurement(1.0 / (1.0 - beta), context={"t": t, "T": T, "b0": b0},
                       details={"beta_init": b0, "T": T, "beta_0": float(beta[0]), "beta_T": float(beta[-1])})


def _effective_pred(ctx) -> np.ndarray:
    c = ctx.measurement.context
    return np.broadcast_to(_closed("effective_step_factor", c["t"], c["T"], c["b0"]), c["t"].shape)


def _sequence(seed: int, backend: str) -> Measurement:
    t, beta, b0, T = _table(seed)
    return Measurement(beta, k=t, details={"beta_init": b0, "T": T})


def _second_diff(seed: int, backend: str) -> Measurement:
    t, beta, b0, T = _table(seed)
    return Measurement(np.diff(beta, 2), k=t[1:-1], details={"beta_init": b0, "T": T})


def _sgdm_vs_hb(seed: int, backend: str) -> Measurement:
    from polyak.solvers import Schedule, make_method, make_problem, simulate

    b0, T = _params(seed)
    T = float(min(T, 150.0))
    steps = int(T) + 50  # past T: t is clamped, beta = 0
    prob = make_problem("logistic", dim=8, n=100, mu=0.01, seed=seed)
    eta = 0.5 / float(prob.L[0])
    demon = simulate(make_method("demon-sgdm", eta=eta, beta_init=b0, T=T), prob, steps, backend=backend,
                     keep_last=steps + 1)
    t = np.minimum(np.arange(steps + 1, dtype=float), T)
    betas = _closed("beta_t", t, T, b0)
    hb = simulate(make_method("hb", alpha=eta, beta=Schedule.sequence(betas)), prob, steps, backend=backend,
                  keep_last=steps + 1)
    return Measurement(demon.x_tail.reshape(steps + 1, -1), context={"hb": hb.x_tail.reshape(steps + 1, -1)},
                       details={"beta_init": b0, "T": T, "eta": eta, "steps": steps})


def claims() -> list[Claim]:
    req = ("derivation:demon-beta", "method:demon-sgdm", "attr:polyak.solvers.demon:demon_schedule")
    return [
        Claim(
            id="demon.effective-step-linear", paper=PAPER,
            statement="1/(1 - beta_t) = 1 + (1 - t/T) beta_init/(1 - beta_init) for t = 0..T: the effective step "
                      "eta/(1-beta_t) decays linearly from eta/(1-beta_init) to eta, beta_T = 0 (beta_init, T drawn "
                      "by the seed)",
            provenance="[derived]", relation="tight", measure=_effective, predict=_effective_pred, rtol=1e-12,
            tolerance_note="an identity evaluated in float64: 1/(1 - beta_t) loses at most ~1/(1-beta_init) <= 100 "
                           "ulps relative, ~2e-14",
            requires=req,
        ),
        Claim(
            id="demon.beta-decreasing", paper=PAPER,
            statement="Demon's beta_t is non-increasing in t on [0, T] (and 0 at T)",
            provenance="[derived]", relation="decreasing", measure=_sequence, rtol=0.0,
            tolerance_note="beta_t is strictly decreasing with steps >= beta_init/(T (1 - ...)) >> round-off; no "
                           "allowance",
            requires=req,
        ),
        Claim(
            id="demon.beta-concave", paper=PAPER,
            statement="Demon's beta_t is concave on [0, T]: its second differences are <= 0",
            provenance="[derived]", relation="upper", measure=_second_diff, predict=0.0, atol=1e-15,
            scale=lambda ctx: float(np.max(np.abs(ctx.measurement.value))),
            scale_note="the largest |second difference| of beta_t on the run",
            tolerance_note="second differences of values <= 1 computed in float64: round-off <= 4 ulps ~ 1e-15",
            requires=req,
        ),
        Claim(
            id="demon.sgdm-is-hb", paper=PAPER,
            statement="Demon SGDM equals heavy ball with alpha = eta and beta_t (t clamped to [0, T]), iterate by "
                      "iterate, on logistic regression, including steps past T",
            provenance="[derived]", relation="tight", measure=_sgdm_vs_hb,
            predict=lambda ctx: ctx.measurement.context["hb"], rtol=1e-12,
            tolerance_note="two float64 evaluations of the same map with operations in a different order: "
                           "differences of a few ulps per step, contracting (the iteration is stable), < 1e-13",
            requires=req + ("problem:logistic",),
        ),
        Claim(
            id="demon.headline-39-85", paper=PAPER,
            statement="over 28 deep-learning settings Demon was Top-1 in 39% and Top-3 in 85% of them (cosine LR: "
                      "17% / 60%)",
            provenance="[paper]", relation="tight", measure=None, checkable=False,
            reason="an empirical deep-learning benchmark result: it cannot be checked by simulation on the "
                   "toolkit's problems, and is not faked",
        ),
    ]
