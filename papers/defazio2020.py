"""Momentum via primal averaging (Defazio, arXiv 2010.00406).

Statements (papers.md, Defazio):

* [derived] ``spa-is-hb``: SPA (z_{k+1} = z_k - eta g(x_k), x_{k+1} = (1-c) x_k + c z_{k+1}) with constant
  (eta, c) is heavy ball with (alpha, beta) from the ``spa-to-hb`` map: the engine's ``spa`` iterates
  equal ``hb`` driven by ``polyak.theory.spa_to_hb`` (random eta, c by the seed; logistic regression).
* [derived] ``primal-averaging-map``: c_{k+1} = 1/(k+1) (primal averaging) maps to beta_k = (k-1)/(k+1),
  alpha_k = eta/(k+1): the engine's ``spa`` with ``harmonic()`` equals heavy ball driven by the
  ``spa-primal-averaging`` Derivation's schedules.
* [derived] ``lyapunov-*``: for L-smooth f (convex or not), alpha <= (1 - beta^2)/L,
  V_k = Lambda_k + (alpha/2) sum_{j<k} ||grad f(x_j)||^2 with Lambda_k = f(x_k) + ((1 - L alpha)/(2 alpha))
  ||x_k - x_{k-1}||^2 (the ``spa-lyapunov`` Derivation) is non-increasing along deterministic heavy
  ball: checked on a quadratic, on logistic regression and on the non-convex problem.
* [derived] ``grad-average-bound``: hence (1/K) sum_{k<K} ||grad f(x_k)||^2 <= 2 (f(x_0) - f*)/(alpha K) at
  every K (sigma = 0), on the non-convex problem.
* [paper] ``schedule-free-b1-is-primal-averaging`` (defazio2024, papers.md "Descendant"): schedule-free
  SGD with b = 1 (gradients at x) and a constant step is SPA with c_{k+1} = 1/(k+1), i.e. primal
  averaging: the engine's ``schedule-free`` (checked step by step against the ``schedulefree``
  package in the tests) equals ``spa`` with ``harmonic()``, iterate by iterate.
* The paper's own theorem constants are [open]: not encoded.

References: defazio2020, defazio2024.
"""

from __future__ import annotations

import numpy as np

from polyak.verify.claims import Claim, Measurement

from ._common import columns, derived, f, theory

PAPER = "defazio2020"


def _logistic(seed: int):
    from polyak.solvers import make_problem

    return make_problem("logistic", dim=8, n=100, mu=0.01, seed=seed)


def _spa_vs_hb(seed: int, backend: str) -> Measurement:
    from polyak.solvers import make_method, simulate

    rng = np.random.default_rng(seed)
    prob = _logistic(seed)
    c = float(rng.uniform(0.05, 0.9))
    eta = float(rng.uniform(0.1, 1.0)) / float(prob.L[0])
    alpha, beta = (f(v) for v in theory("spa_to_hb")(eta, c, c))
    steps = 200
    a = simulate(make_method("spa", eta=eta, c=c), prob, steps, backend=backend, keep_last=steps + 1)
    b = simulate(make_method("hb", alpha=alpha, beta=beta), prob, steps, backend=backend, keep_last=steps + 1)
    return Measurement(a.x_tail.reshape(steps + 1, -1), context={"hb": b.x_tail.reshape(steps + 1, -1)},
                       details={"eta": eta, "c": c, "alpha": alpha, "beta": beta})


def schedule_free_measure(b_sf: float = 1.0):
    """Measurement of schedule-free SGD with interpolation ``b_sf`` against primal-averaging SPA
    (``b_sf != 1`` is a deliberately wrong version, used by the tests)."""

    def measure(seed: int, backend: str) -> Measurement:
        from polyak.solvers import make_method, simulate
        from polyak.solvers.schedules import harmonic

        prob = _logistic(seed)
        lr = float(np.random.default_rng(seed).uniform(0.1, 1.0)) / float(prob.L[0])
        steps = 200
        a = simulate(make_method("schedule-free", lr=lr, b=b_sf), prob, steps, backend=backend, keep_last=steps + 1)
        b = simulate(make_method("spa", eta=lr, c=harmonic()), prob, steps, backend=backend, keep_last=steps + 1)
        return Measurement(a.x_tail.reshape(steps + 1, -1), context={"spa": b.x_tail.reshape(steps + 1, -1)},
                           details={"lr": lr, "b": b_sf})

    return measure


def _primal_avg(seed: int, backend: str) -> Measurement:
    from polyak.solvers import Schedule, make_method, simulate
    from polyak.solvers.schedules import harmonic

    prob = _logistic(seed)
    eta = float(np.random.default_rng(seed).uniform(0.1, 1.0)) / float(prob.L[0])
    steps = 200
    k = np.arange(steps + 1, dtype=float)
    alpha_k = derived("spa-primal-averaging", "alpha", eta=eta, k=k)
    beta_k = np.clip(derived("spa-primal-averaging", "beta", eta=eta, k=k), 0.0, None)  # beta_0 = -1 is never used: x_{-1} = x_0
    a = simulate(make_method("spa", eta=eta, c=harmonic()), prob, steps, backend=backend, keep_last=steps + 1)
    b = simulate(make_method("hb", alpha=Schedule.sequence(np.broadcast_to(alpha_k, k.shape)),
                             beta=Schedule.sequence(np.broadcast_to(beta_k, k.shape))), prob, steps, backend=backend,
                 keep_last=steps + 1)
    return Measurement(a.x_tail.reshape(steps + 1, -1), context={"hb": b.x_tail.reshape(steps + 1, -1)},
                       details={"eta": eta})


def _lyapunov_run(seed: int, backend: str, problem: str, wrong_weight: float = 1.0):
    from polyak.solvers import make_method, make_problem, simulate

    rng = np.random.default_rng(seed)
    if problem == "quadratic":
        prob = make_problem("quadratic", mu=1.0, L=20.0, dim=20, spectrum="uniform", x_star="random", seed=seed)
    elif problem == "logistic":
        prob = _logistic(seed)
    else:
        prob = make_problem("nonconvex", dim=10, L=10.0, seed=seed)
    L = float(prob.L[0])
    beta = float(rng.uniform(0.3, 0.95))
    alpha = float(rng.uniform(0.5, 1.0)) * (1 - beta**2) / L
    steps = 300
    tr = simulate(make_method("hb", alpha=alpha, beta=beta), prob, steps, backend=backend, keep_last=steps + 1)
    x = tr.x_tail.reshape(steps + 1, -1)
    m_sq = np.concatenate([[0.0], np.sum(np.diff(x, axis=0) ** 2, axis=1)])
    fx = columns(tr.fval)[:, 0]
    g2 = columns(tr.gnorm)[:, 0] ** 2
    lam = derived("spa-lyapunov", "Lambda", fx=fx, m_sq=wrong_weight * m_sq, alpha=alpha, L=L)
    V = lam + 0.5 * alpha * np.concatenate([[0.0], np.cumsum(g2[:-1])])
    fstar = None if prob.f_star is None else float(prob.f_star[0])
    return tr, V, dict(alpha=alpha, beta=beta, L=L, g2=g2, fx=fx, fstar=fstar)


def lyapunov_measure(problem: str, wrong_weight: float = 1.0):
    """measure(seed, backend) of V_k; ``wrong_weight`` scales the ||x_k - x_{k-1}||^2 term (tests use it to
    state a Lyapunov function with the wrong weight)."""

    def measure(seed: int, backend: str) -> Measurement:
        tr, V, info = _lyapunov_run(seed, backend, problem, wrong_weight)
        return Measurement(V, k=tr.k, details={k: info[k] for k in ("alpha", "beta", "L")})

    return measure


def _grad_avg(seed: int, backend: str) -> Measurement:
    tr, V, info = _lyapunov_run(seed, backend, "nonconvex")
    K = np.arange(1, len(info["g2"]))
    avg = np.cumsum(info["g2"][:-1]) / K
    return Measurement(avg, k=K, context={"K": K, "gap0": info["fx"][0] - info["fstar"], "alpha": info["alpha"]},
                       details={k: info[k] for k in ("alpha", "beta", "L")})


def _grad_bound(ctx) -> np.ndarray:
    c = ctx.measurement.context
    return np.broadcast_to(derived("spa-lyapunov", "telescoped_bound", gap0=c["gap0"], alpha=c["alpha"], K=c["K"],
                                   sigma=0.0), c["K"].shape)


def _noisy_grad_avg(seed: int, backend: str) -> Measurement:
    """Mean over 32 noise seeds of (1/K) sum_(k<K) ||grad f(x_k)||^2 along heavy ball with additive noise;
    the measured sequence is the upper end of the 95% t confidence interval of that mean, at every K."""
    from polyak.solvers import make_method, make_problem, simulate
    from polyak.verify.rates import seed_stats

    rng = np.random.default_rng(seed)
    sigma, dim, S = 0.3, 10, 32
    prob = make_problem("nonconvex", dim=dim, L=10.0, seed=seed, noise="additive", sigma=sigma)
    L = float(prob.L[0])
    beta = float(rng.uniform(0.3, 0.9))
    alpha = float(rng.uniform(0.5, 1.0)) * (1 - beta**2) / L
    steps = 300
    tr = simulate(make_method("hb", alpha=alpha, beta=beta), prob, steps, seeds=range(S * seed, S * seed + S),
                  backend=backend)
    g2 = tr.gnorm.reshape(steps + 1, S) ** 2
    K = np.arange(1, steps + 1)
    avg = np.cumsum(g2[:-1], axis=0) / K[:, None]
    st = [seed_stats(row) for row in avg]
    upper = np.array([s.ci[1] for s in st])
    gap0 = float(tr.fval.reshape(steps + 1, S)[0, 0] - prob.f_star[0])
    return Measurement(upper, k=K, context={"K": K, "gap0": gap0, "alpha": alpha, "sigma_total": sigma * np.sqrt(dim)},
                       details={"alpha": alpha, "beta": beta, "seeds": S, "final": st[-1].to_dict()})


def claims() -> list[Claim]:
    dec_note = ("Lambda_{k+1} + (alpha/2)||g_k||^2 <= Lambda_k holds exactly in real arithmetic; the float64 values are "
                "sums of terms of size ~|f(x_0)|, so the allowance is 1e-12 relative to |V_k| (~1e3 ulps)")
    out = [
        Claim(id="defazio2020.spa-is-hb", paper=PAPER,
              statement="SPA with constant (eta, c) equals heavy ball with (alpha, beta) = spa_to_hb(eta, c), iterate by "
                        "iterate (logistic regression, eta and c drawn by the seed)",
              provenance="[derived]", relation="tight", measure=_spa_vs_hb,
              predict=lambda ctx: ctx.measurement.context["hb"], rtol=1e-12,
              tolerance_note="the same linear map evaluated in two orders of operations; stable iteration, so "
                             "differences stay at a few ulps",
              requires=("attr:polyak.theory:spa_to_hb", "problem:logistic")),
        Claim(id="defazio2020.primal-averaging-map", paper=PAPER,
              statement="SPA with c_{k+1} = 1/(k+1) (primal averaging) equals heavy ball with beta_k = (k-1)/(k+1), "
                        "alpha_k = eta/(k+1), iterate by iterate",
              provenance="[derived]", relation="tight", measure=_primal_avg,
              predict=lambda ctx: ctx.measurement.context["hb"], rtol=1e-12,
              tolerance_note="as defazio2020.spa-is-hb",
              requires=("derivation:spa-primal-averaging", "problem:logistic")),
        Claim(id="defazio2020.schedule-free-b1-is-primal-averaging", paper="defazio2024",
              statement="schedule-free SGD with b = 1 and a constant step equals SPA with c_{k+1} = 1/(k+1) (primal "
                        "averaging), iterate by iterate (logistic regression, step drawn by the seed)",
              provenance="[paper] defazio2024 (papers.md: b = 1 is primal averaging)", relation="tight",
              measure=schedule_free_measure(1.0), predict=lambda ctx: ctx.measurement.context["spa"], rtol=1e-12,
              tolerance_note="the same averaging recursion written two ways ((1 - c) x + c z against x + c (z - x)); "
                             "stable, so differences stay at a few ulps",
              requires=("problem:logistic",)),
    ]
    for prob, req in (("quadratic", ()), ("logistic", ("problem:logistic",)), ("nonconvex", ("problem:nonconvex",))):
        out.append(Claim(
            id=f"defazio2020.lyapunov-{prob}", paper=PAPER,
            statement=f"V_k = f(x_k) + ((1 - L alpha)/(2 alpha))||x_k - x_(k-1)||^2 + (alpha/2) sum_(j<k) ||grad f(x_j)||^2 "
                      f"is non-increasing along heavy ball with alpha <= (1 - beta^2)/L ({prob}; beta, alpha drawn by "
                      f"the seed)",
            provenance="[derived]", relation="decreasing", measure=lyapunov_measure(prob), rtol=1e-12,
            tolerance_note=dec_note, requires=("derivation:spa-lyapunov",) + req))
    out.append(Claim(
        id="defazio2020.grad-average-bound", paper=PAPER,
        statement="(1/K) sum_(k<K) ||grad f(x_k)||^2 <= 2 (f(x_0) - f*)/(alpha K) at every K <= 300 along heavy ball "
                  "with alpha <= (1 - beta^2)/L on the non-convex problem",
        provenance="[derived]", relation="upper", measure=_grad_avg, predict=_grad_bound, rtol=1e-9,
        tolerance_note="a bound at every K; round-off only",
        requires=("derivation:spa-lyapunov", "problem:nonconvex")))
    out.append(Claim(
        id="defazio2020.grad-average-bound-noisy", paper=PAPER,
        statement="with additive gradient noise (E||noise||^2 = sigma^2), (1/K) sum_(k<K) E||grad f(x_k)||^2 <= "
                  "2 (f(x_0) - f*)/(alpha K) + sigma^2 at every K <= 300 on the non-convex problem: the upper end of "
                  "the 95% confidence interval of the mean over 32 noise seeds stays below the bound",
        provenance="[derived]", relation="upper", measure=_noisy_grad_avg,
        predict=lambda ctx: np.broadcast_to(derived("spa-lyapunov", "telescoped_bound", gap0=ctx.measurement.context["gap0"],
                                                    alpha=ctx.measurement.context["alpha"], K=ctx.measurement.context["K"],
                                                    sigma=ctx.measurement.context["sigma_total"]),
                                            ctx.measurement.context["K"].shape),
        rtol=0.0,
        tolerance_note="a statement about an expectation: the measured value is the upper end of a t-based 95% "
                       "confidence interval of the mean over 32 seeds (so a pass is conservative: the mean is below "
                       "the bound with 97.5% confidence at each K); no further allowance",
        requires=("derivation:spa-lyapunov", "problem:nonconvex")))
    return out
