"""Adaptive Memory momentum (Topollai, Choromanska, arXiv 2510.04988, AISTATS 2026).

Statements (papers.md, Adaptive Memory):

* [paper] the update d_{t+1} = ((beta_t + lambda)/(1 + lambda)) d_t + ((1 - beta_t)/(1 + lambda)) g_t with
  beta_t in [0, beta_max]: then d_{t+1} is a convex combination of d_t and g_t, and the heavy-ball-form
  momentum (beta_t + lambda)/(1 + lambda) (what the engine records) lies in [lambda/(1+lambda),
  (beta_max + lambda)/(1 + lambda)]. Checking that the recorded values lie in that range would only
  check the code's own clip; the claim ``beta-max-attained`` checks instead that the cap is
  *reached* along a run on logistic regression (gradients consistent from step to step keep
  beta_t at beta_max), as a ``tight`` relation on the largest recorded value.
* [paper, summary] "keeps beta high on consistent gradients and cuts it when they oscillate": the
  quantitative form is not the paper's statement; not encoded (TODO: a measured claim with a derived
  threshold).
* Convergence O(1/sqrt(T)): constants [open], not encoded.

References: topollai2025adaptive.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import columns

PAPER = "topollai2025adaptive"
LAM, BMAX = 0.1, 0.9


def _run(seed: int, backend: str, sign: float) -> Measurement:
    from polyak.solvers import make_method, make_problem, simulate

    prob = make_problem("logistic", dim=10, n=200, mu=0.01, seed=seed)
    lr = float(np.random.default_rng(seed).uniform(0.2, 1.5)) / float(prob.L[0])
    tr = simulate(make_method("am-sgd", lr=lr, lam=LAM, beta_max=BMAX), prob, 300, backend=backend)
    beta = columns(tr.beta)[1:, 0]
    return Measurement(sign * beta, k=tr.k[1:], details={"lr": lr})


def _max_beta(seed: int, backend: str) -> Measurement:
    meas = _run(seed, backend, 1.0)
    beta = np.asarray(meas.value)
    return Measurement(float(beta.max()), details={**meas.details, "steps_at_max": int(np.sum(beta >= beta.max() - 1e-14)),
                                                  "steps": int(beta.size), "min_beta_hb": float(beta.min())})


def claims() -> list[Claim]:
    req = ("method:am-sgd", "problem:logistic")
    return [
        Claim(id="topollai2025.beta-max-attained", paper=PAPER,
              statement="AM-SGD keeps its memory weight at the cap on consistent gradients: along a run on logistic "
                        "regression the heavy-ball momentum (beta_t + lambda)/(1 + lambda) reaches (beta_max + lambda)/"
                        "(1 + lambda) (beta_t = beta_max is attained, lambda = 0.1, beta_max = 0.9), and never exceeds it",
              provenance="[paper]", relation="tight", measure=_max_beta, predict=(BMAX + LAM) / (1 + LAM), rtol=1e-12,
              tolerance_note="the cap is attained exactly (a clip); (beta + lambda)/(1 + lambda) adds ~1e-16 round-off; "
                             "a bound 2% too loose or a cap that is never reached fails",
              requires=req),
    ]
