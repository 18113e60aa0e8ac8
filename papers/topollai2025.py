"""Adaptive Memory momentum (Topollai, Choromanska, arXiv 2510.04988, AISTATS 2026).

Statements (papers.md, Adaptive Memory):

* [paper] the update d_{t+1} = ((beta_t + lambda)/(1 + lambda)) d_t + ((1 - beta_t)/(1 + lambda)) g_t with
  beta_t in [0, beta_max]: then d_{t+1} is a convex combination of d_t and g_t, and the heavy-ball-form
  momentum (beta_t + lambda)/(1 + lambda) (what the engine records) lies in [lambda/(1+lambda),
  (beta_max + lambda)/(1 + lambda)]. Two ``upper`` claims along AM-SGD runs on logistic regression.
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


def claims() -> list[Claim]:
    note = "an identity of the clipped update: only round-off of (beta + lambda)/(1 + lambda), ~1e-16; atol 1e-14"
    req = ("method:am-sgd", "problem:logistic")
    return [
        Claim(id="topollai2025.beta-max", paper=PAPER,
              statement="AM-SGD's heavy-ball momentum (beta_t + lambda)/(1 + lambda) <= (beta_max + lambda)/(1 + lambda) "
                        "(beta_t <= beta_max; lambda = 0.1, beta_max = 0.9), logistic regression",
              provenance="[paper]", relation="upper", measure=lambda s, b: _run(s, b, 1.0),
              predict=(BMAX + LAM) / (1 + LAM), atol=1e-14, tolerance_note=note, requires=req),
        Claim(id="topollai2025.beta-nonnegative", paper=PAPER,
              statement="AM-SGD's heavy-ball momentum >= lambda/(1 + lambda) (beta_t >= 0): d_{t+1} is a convex "
                        "combination of d_t and g_t (checked as -beta^HB <= -lambda/(1+lambda))",
              provenance="[paper]", relation="upper", measure=lambda s, b: _run(s, b, -1.0),
              predict=-LAM / (1 + LAM), atol=1e-14, tolerance_note=note, requires=req),
    ]
