"""Linear methods benchmark: the one-definition path against a hand-written rule, in one process.

Measured (ratios are the result, not absolute times):
  (a) tracing: defining a method with ``polyak.linear_method`` (validation trace plus the two
      traces that detect the heavy-ball form), and one ``state_space`` call;
  (b) ``simulate`` of heavy ball on B eigenbasis quadratics of dimension d for T steps:
        - ``hand``: the hand-written heavy-ball MethodRule as it was before the built-in ``hb``
          became a linear method (copied here as the baseline);
        - ``builtin``: the built-in ``hb`` (now a linear method);
        - ``user``: a user's HB-form linear method written with ``polyak.linear_method``;
        - ``user-tmm``: the user's triple-momentum form (one more extrapolation per step).
      Round-robin repeats, best and median per variant; ratios against ``hand``.

Usage: python benchmarks/linear_methods.py [--quick] [--backend numpy|torch]
Writes a JSON summary to stdout; BENCHMARKS.md records the numbers with the machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any, NamedTuple

import numpy as np

import polyak
from polyak.solvers import MethodRule, Param, forget_linear_method, state_space
from polyak.solvers.base import build_method


class _HBState(NamedTuple):
    x: Any
    x_prev: Any
    beta: Any


class HandHB(MethodRule):
    """The hand-written heavy ball of solvers/heavy_ball.py before it became a linear method."""

    name = "bench-hand-hb"
    params = (Param("alpha", 0.01, "step size", lo=0.0), Param("beta", 0.9, "momentum", lo=0.0, hi=1.0, hi_closed=False))

    def init(self, x0, h, be):
        return _HBState(x0, x0, h["beta"] + be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        x, b = s.x, h["beta"]
        return _HBState(x - h["alpha"] * oracle.grad(x) + b * (x - s.x_prev), x, b)


def define_user_methods():
    @polyak.linear_method(alpha=0.1, beta=0.5)
    def bench_user_hb(x, x_prev, grad, *, alpha, beta):
        return x - alpha * grad(x) + beta * (x - x_prev), x

    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
    def bench_user_tmm(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    return bench_user_hb, bench_user_tmm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    B, d, T = (64, 100, 100) if args.quick else (256, 500, 300)
    mu, L = 1.0, 100.0
    alpha = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2

    # (a) tracing
    t0 = time.perf_counter()
    for _ in range(20):
        forget = [n for n in ("bench-user-hb", "bench-user-tmm") if n in polyak.list_methods()]
        for n in forget:
            forget_linear_method(n)
        user_hb, user_tmm = define_user_methods()
    t_define = (time.perf_counter() - t0) / 20 / 2
    m_user = user_hb(alpha=alpha, beta=beta)
    t0 = time.perf_counter()
    for _ in range(200):
        state_space(m_user)
    t_ss = (time.perf_counter() - t0) / 200

    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", instances=B, seed=0)
    variants = {
        "hand": build_method(HandHB(), {"alpha": alpha, "beta": beta}),
        "builtin": polyak.make_method("hb", alpha=alpha, beta=beta),
        "user": m_user,
        "user-tmm": user_tmm(alpha=alpha, beta=beta, gamma=0.1),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    finals = {}
    for _ in range(args.repeat):  # round robin, so load changes hit every variant alike
        for name, m in variants.items():
            t0 = time.perf_counter()
            tr = polyak.simulate(m, problem, T, record_every=T, backend=args.backend)
            times[name].append(time.perf_counter() - t0)
            finals[name] = tr.x_final
    np.testing.assert_array_equal(finals["user"], finals["hand"])  # same arithmetic, same numbers
    np.testing.assert_array_equal(finals["builtin"], finals["hand"])
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "sizes": {"B": B, "d": d, "T": T, "backend": args.backend, "repeat": args.repeat},
        "define_seconds": t_define,
        "state_space_seconds": t_ss,
        "simulate_best_seconds": best,
        "simulate_median_seconds": med,
        "ratio_best_vs_hand": {k: best[k] / best["hand"] for k in best},
        "ratio_median_vs_hand": {k: med[k] / med["hand"] for k in med},
    }
    for n in ("bench-user-hb", "bench-user-tmm"):
        forget_linear_method(n)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
