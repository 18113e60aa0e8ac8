"""Benchmark: a 100-point sweep of certified rates against kappa (heavy ball, Nesterov), and of N-step
worst cases, polyak against AutoLyap and PEPit, in one process.

What is compared
----------------
* Rates (polyak vs AutoLyap 0.2.1): the smallest rho for which an iteration-independent quadratic
  Lyapunov function with a function-value term is certified over S(mu, L), found by bisection
  (tolerance 1e-6) with CLARABEL through cvxpy, only status "optimal" accepted on both sides
  (AutoLyap: ``SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=False)``,
  ``LinearConvergence.bisection_search_rho`` with ``get_parameters_distance_to_solution``; AutoLyap's
  rho contracts V, i.e. it is our rho^2, so sqrt is compared). The Lyapunov ansatz is the same for heavy
  ball (state (x_k, x_{k-1}, grad f(x_k)) and f(x_k)); for Nesterov AutoLyap's lower bound is on
  ||y_k - y*|| where ours is on ||x_k - x*||, so the numbers may differ slightly.
  polyak compiles its SDP once; AutoLyap builds a cvxpy problem per point.
* N-step worst cases (polyak.verify.pep vs PEPit 0.5.1): ||x_N - x*||^2 / ||x_0 - x*||^2, N = 5, the
  same SDP; PEPit rebuilds and recompiles it per point, polyak updates parameters.
  PEPit has no rate-bisection tool; this is its comparable quantity.

Tunings: heavy ball alpha = 1/L, beta = 0.5 (the quadratic-optimal pair has no certificate for kappa
above ~20, which would make the sweep trivial); Nesterov alpha = 1/L, beta = (sqrt k - 1)/(sqrt k + 1).
kappa = logspace(0.5, 3, 100), mu = 1.

Run: python benchmarks/certify_sweep.py [--points 100] [--write]
"""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
import time
import warnings

import numpy as np


def tunings(method, k):
    if method == "hb":
        return 1.0 / k, 0.5
    return 1.0 / k, (math.sqrt(k) - 1) / (math.sqrt(k) + 1)


def polyak_rates(method, kappas):
    from polyak.verify.certificates import certify_rate

    return [certify_rate(method, 1.0, k, *tunings(method, k), tol=1e-6).rate for k in kappas]


def autolyap_rates(method, kappas):
    from autolyap import IterationIndependent, SolverOptions
    from autolyap.algorithms import GradientNesterovMomentum, HeavyBallMethod
    from autolyap.problemclass import InclusionProblem, SmoothStronglyConvex

    LC = IterationIndependent.LinearConvergence
    cls = HeavyBallMethod if method == "hb" else GradientNesterovMomentum
    opts = SolverOptions(backend="cvxpy", cvxpy_solver="CLARABEL", cvxpy_accept_inaccurate=False)
    out = []
    for k in kappas:
        a, b = tunings(method, k)
        prob = InclusionProblem([SmoothStronglyConvex(1.0, k)])
        algo = cls(gamma=a, delta=b)
        P, p, T, t = LC.get_parameters_distance_to_solution(algo)
        res = LC.bisection_search_rho(prob, algo, P, T, p, t, solver_options=opts, tol=1e-6, verbosity=0)
        out.append(math.sqrt(res["rho"]) if res["status"] == "feasible" else None)
    return out


def polyak_pep(method, kappas, N):
    from polyak.verify.pep import worst_case

    return [worst_case(method, N, 1.0, k, *tunings(method, k), metric="dist").value for k in kappas]


def pepit_pep(method, kappas, N):
    from polyak.verify.pep import pep_with_pepit

    return [pep_with_pepit(method, N, 1.0, k, *tunings(method, k), metric="dist") for k in kappas]


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def maxdiff(a, b, relative=False):
    d = []
    for x, y in zip(a, b):
        if x is None or y is None:
            if (x is None) != (y is None):
                return float("inf")
            continue
        d.append(abs(x - y) / (abs(y) if relative else 1.0))
    return max(d) if d else 0.0


def machine():
    import clarabel
    import cvxpy

    try:
        model = [l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                 if l.startswith("Model name")][0]
    except Exception:  # pragma: no cover
        model = platform.processor()
    import os

    return (f"{os.cpu_count()} cores, {model}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"cvxpy {cvxpy.__version__}, clarabel {clarabel.__version__}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # AutoLyap/PEPit solves warn on inaccurate intermediate solutions
    kappas = np.logspace(0.5, 3, args.points)
    # warm-up (imports, first compilation) outside the timings, counted separately
    from polyak.verify.certificates import certify_rate
    from polyak.verify.pep import worst_case

    t0 = time.perf_counter()
    certify_rate("hb", 1.0, 10.0, 0.1, 0.5)
    worst_case("hb", args.N, 1.0, 10.0, 0.1, 0.5)
    compile_s = time.perf_counter() - t0
    rows = []
    for method in ("hb", "nesterov"):
        ours, t_ours = timed(polyak_rates, method, kappas)
        theirs, t_al = timed(autolyap_rates, method, kappas)
        rows.append((f"rate sweep, {method}", "AutoLyap", t_ours, t_al, maxdiff(ours, theirs),
                     sum(r is not None for r in ours), sum(r is not None for r in theirs)))
        pw, t_pw = timed(polyak_pep, method, kappas, args.N)
        pp, t_pp = timed(pepit_pep, method, kappas, args.N)
        rows.append((f"PEP N={args.N} sweep, {method}", "PEPit", t_pw, t_pp, maxdiff(pw, pp, relative=True),
                     sum(r is not None for r in pw), sum(r is not None for r in pp)))
        print(f"{method}: rates at kappa 10, 100, 1000: " + ", ".join(
            f"{k:.0f}: {certify_rate(method, 1.0, k, *tunings(method, k)).rate:.6f}" for k in (10.0, 100.0, 1000.0)))
    lines = [
        "## Certificates sweep",
        "",
        f"Machine: {machine()}. Script: `python benchmarks/certify_sweep.py --write` "
        f"({args.points} values of kappa in logspace(0.5, 3), mu = 1; one process; one-off compilation and "
        f"imports {compile_s:.2f} s, excluded). See the script's docstring for exactly what is compared.",
        "",
        "| sweep | reference | polyak (s) | reference (s) | speed-up | max difference | certified (polyak / ref) |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, ref, a, b, d, na, nb in rows:
        kind = "abs. in rho" if "rate" in name else "relative"
        lines.append(f"| {name} | {ref} | {a:.2f} | {b:.2f} | {b / a:.1f}x | {d:.1e} ({kind}) | {na} / {nb} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        import pathlib
        import re

        path = pathlib.Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
        old = path.read_text() if path.exists() else "# Benchmarks\n\n"
        pat = re.compile(r"## Certificates sweep\n.*?(?=\n## |\Z)", re.S)
        new = pat.sub(text.rstrip("\n") + "\n", old) if pat.search(old) else old.rstrip("\n") + "\n\n" + text
        path.write_text(new)


if __name__ == "__main__":
    main()
