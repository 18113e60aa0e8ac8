"""Why AutoLyap's Nesterov rates were looser than polyak's: the numbers, under both of AutoLyap's
solver policies, with every certificate checked independently (PEPit).

What is compared, at the points of benchmarks/certify_sweep.py (kappa = logspace(0.5, 3, P), mu = 1;
heavy ball alpha = 1/L, beta = 0.5; Nesterov alpha = 1/L, beta = (sqrt k - 1)/(sqrt k + 1)):

* polyak: ``certify_rates`` (tol 1e-6) on the heavy-ball family and on Nesterov in the state
  (y_k, x_{k-1}) (so that both tools bound ||y_k - y*||^2, AutoLyap's measure), each certificate
  checked by :func:`polyak.verify.certificate_check.check_certificate` (both PEPs <= 1e-6).
* AutoLyap 0.2.1 (``HeavyBallMethod`` / ``GradientNesterovMomentum``, ``get_parameters_distance_to_solution``,
  ``bisection_search_rho`` with CLARABEL through cvxpy, tol 1e-8 on its rho = our rho^2), with
  ``cvxpy_accept_inaccurate=False`` ("strict": what the sweep compared against) and with AutoLyap's
  default ``True``. Its terminal certificate (Q, q) is mapped to our coordinates (for Nesterov
  s = (T xi, u), T = [[1 + b, -b], [0, 1]]) and checked by the same PEPit problems.
* "verified": a bisection (tol 1e-7) on AutoLyap's SDP and solves (inaccurate ones included; CLARABEL's
  defaults, then without static regularisation) where a rho counts only if AutoLyap's solution passes
  ``check_certificate``: AutoLyap's formulation without
  either solver policy's artefact.
* How often AutoLyap's strict verdicts are not monotone: at 8 rhos between polyak's rate and
  AutoLyap's strict result, the number of points where some rho is ``feasible`` (optimal) while a
  larger one is ``not_solved`` (CLARABEL ``AlmostSolved``: AutoLyap's bisection treats it as infeasible).

Run: python benchmarks/certify_autolyap.py [--points 100] [--stride 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
import warnings

import numpy as np


def tunings(method, k):
    if method == "hb":
        return 1.0 / k, 0.5
    return 1.0 / k, (math.sqrt(k) - 1) / (math.sqrt(k) + 1)


@dataclasses.dataclass(frozen=True)
class StateSpace:
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray


def family(a, b, g):
    return StateSpace(np.array([[1 + b, -b], [1.0, 0]]), np.array([[-a], [0.0]]), np.array([[1 + g, -g]]),
                      np.zeros((1, 1)))


def coordinates(method, b):
    """T with polyak's state = T (x_k, x_{k-1}) (identity for heavy ball, y-first for Nesterov)."""
    return np.eye(2) if method == "hb" else np.array([[1 + b, -b], [0.0, 1.0]])


def polyak_system(method, k):
    a, b = tunings(method, k)
    s = family(a, b, 0.0 if method == "hb" else b)
    T = coordinates(method, b)
    Ti = np.linalg.inv(T)
    return StateSpace(T @ s.A @ Ti, T @ s.B, s.C @ Ti, s.D)


def autolyap(method, k, accept_inaccurate):
    from autolyap import IterationIndependent, SolverOptions
    from autolyap.algorithms import GradientNesterovMomentum, HeavyBallMethod
    from autolyap.problemclass import InclusionProblem, SmoothStronglyConvex

    LC = IterationIndependent.LinearConvergence
    a, b = tunings(method, k)
    algo = (HeavyBallMethod if method == "hb" else GradientNesterovMomentum)(gamma=a, delta=b)
    P, p, T, t = LC.get_parameters_distance_to_solution(algo)
    prob = InclusionProblem([SmoothStronglyConvex(1.0, k)])
    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=accept_inaccurate)
    res = LC.bisection_search_rho(prob, algo, P, T, p, t, solver_options=opts, tol=1e-8, verbosity=0)
    return res, (prob, algo, P, p, T, t)


def autolyap_as_certificate(ours, method, k, res):
    """AutoLyap's (Q, q) at its rho, in polyak's coordinates (y* = 0: Q's (xi, u) block, q's f(y_k))."""
    n, m = 2, 1
    Q, q = res["certificate"]["Q"], res["certificate"]["q"]
    M = np.eye(n + m)
    M[:n, :n] = np.linalg.inv(coordinates(method, tunings(method, k)[1]))
    return dataclasses.replace(ours, rate=math.sqrt(res["rho"]), P=M.T @ Q[:n + m, :n + m] @ M,
                               lam=np.asarray(q[:m], dtype=float))


def verified(method, k, ours, setup, tol=1e-7):
    """Bisection on AutoLyap's SDP (its solves, inaccurate ones included), a rho counting only if
    AutoLyap's solution there passes check_certificate (PEPit + exact quadratics)."""
    from autolyap import IterationIndependent, SolverOptions

    from polyak.verify.certificate_check import check_certificate

    prob, algo, P, p, T, t = setup
    # CLARABEL's defaults, then without static regularisation (as polyak retries): a CLARABEL error at
    # one rho would otherwise send the bisection up
    opts = [SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=True,
                          cvxpy_solver_params=params) for params in (None, {"static_regularization_enable": False})]

    def ok(r):
        for o in opts:
            res = IterationIndependent.search_lyapunov(prob, algo, P, T, p, t, rho=r * r, solver_options=o,
                                                       verbosity=0)
            if res["status"] == "feasible" and check_certificate(
                    autolyap_as_certificate(ours, method, k, dict(res, rho=r * r))).passed:
                return True
        return False

    lo, hi = ours.quadratic_bound - 1e-9, 1.0 - 1e-9
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def non_monotone(setup, lo, hi, count=8):
    from autolyap import IterationIndependent, SolverOptions

    prob, algo, P, p, T, t = setup
    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=False)
    verdicts = []
    for r in np.linspace(lo, hi, count + 2)[1:-1]:
        res = IterationIndependent.search_lyapunov(prob, algo, P, T, p, t, rho=r * r, solver_options=opts, verbosity=0)
        verdicts.append(res["status"])
    feas = [i for i, v in enumerate(verdicts) if v == "feasible"]
    return bool(feas) and any(v == "not_solved" for v in verdicts[feas[0] + 1:]), verdicts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--stride", type=int, default=1, help="every stride-th point only")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from polyak.verify.certificate_check import check_certificate
    from polyak.verify.certificates import certify_rates

    kappas = np.logspace(0.5, 3, args.points)[::args.stride]
    print(f"load {os.getloadavg()}")
    for method in ("hb", "nesterov"):
        t0 = time.process_time()
        ours = certify_rates([polyak_system(method, k) for k in kappas], 1.0, kappas)
        t_ours = time.process_time() - t0
        ok_ours = [check_certificate(c).passed for c in ours]
        d_strict, d_default, d_ver, ok_al, nm, t_s, t_d = [], [], [], [], 0, 0.0, 0.0
        for c, k in zip(ours, kappas):
            t0 = time.process_time()
            strict, setup = autolyap(method, k, False)
            t_s += time.process_time() - t0
            t0 = time.process_time()
            default, _ = autolyap(method, k, True)
            t_d += time.process_time() - t0
            rs, rd = math.sqrt(strict["rho"]), math.sqrt(default["rho"])
            d_strict.append(rs - c.rate)
            d_default.append(rd - c.rate)
            ok_al.append(check_certificate(autolyap_as_certificate(c, method, k, default)).passed)
            d_ver.append(verified(method, k, c, setup) - c.rate)
            if rs - c.rate > 1e-4:
                nm += non_monotone(setup, c.rate, rs)[0]
        d_strict, d_default = np.array(d_strict), np.array(d_default)
        print(f"{method}: {len(kappas)} points; polyak certificates passing the PEPit check: {sum(ok_ours)}/{len(ours)}")
        print(f"  AutoLyap strict - polyak: max {d_strict.max():+.1e}, min {d_strict.min():+.1e}; "
              f"points with non-monotone strict verdicts above polyak's rate: {nm}")
        print(f"  AutoLyap default - polyak: max {d_default.max():+.1e}, min {d_default.min():+.1e}, "
              f"max |.| {np.abs(d_default).max():.1e}; its certificates passing the PEPit check: "
              f"{sum(ok_al)}/{len(ok_al)} (failing where AutoLyap is below polyak: "
              f"{sum(1 for o, d in zip(ok_al, d_default) if not o and d < 0)})")
        d_ver = np.array(d_ver)
        print(f"  AutoLyap verified (its solves, accepted only if check_certificate passes) - polyak: "
              f"max {d_ver.max():+.1e}, min {d_ver.min():+.1e}, max |.| {np.abs(d_ver).max():.1e}")
        print(f"  CPU s: polyak sweep {t_ours:.2f}, AutoLyap strict {t_s:.2f}, default {t_d:.2f}")
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
