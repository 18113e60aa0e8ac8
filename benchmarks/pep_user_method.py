"""Benchmark: the PEP of a user-defined linear method against the built-in of the same form (one process).

The built-in is ``worst_case("hb", N, mu, L, alpha, beta)`` (the legacy name); the user's method is
the same heavy ball written with ``polyak.linear_method`` (traced into (A, B, C, D) on every call)
and, as a third row, the same matrices passed directly as a StateSpace. Calls alternate (built-in,
user, matrices) so that the machine's load affects all three alike; the ratio of the medians is
reported, and the ratio of the minima (the better estimate of the cost itself on a loaded machine),
with the load average. Both metrics, N = 5 and N = 15, kappa = 100.

Run: python benchmarks/pep_user_method.py [--reps 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    from polyak.verify.pep import legacy_state_space, worst_case

    try:
        import polyak

        @polyak.linear_method(alpha=0.01, beta=0.5, register=False)
        def my_hb(x, x_prev, grad, *, alpha, beta):
            return x - alpha * grad(x) + beta * (x - x_prev), x

        user = my_hb(alpha=0.01, beta=0.5)
    except (ImportError, AttributeError):  # before polyak.linear_method existed
        user = None
    mu, L, a, b = 1.0, 100.0, 0.01, 0.5
    ss = legacy_state_space(a, b, 0.0)
    print(f"load average before: {os.getloadavg()}")
    for N in (5, 15):
        for metric in ("dist", "fgap"):
            calls = {"builtin": lambda: worst_case("hb", N, mu, L, a, b, metric=metric),
                     "matrices": lambda: worst_case(ss, N, mu, L, metric=metric)}
            if user is not None:
                calls["user"] = lambda: worst_case(user, N, mu, L, metric=metric)
            times = {k: [] for k in calls}
            vals = {}
            for _ in range(args.reps):
                for k, f in calls.items():
                    t0 = time.perf_counter()
                    vals[k] = f().value
                    times[k].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in times.items()}
            low = {k: min(v) for k, v in times.items()}
            same = len(set(vals.values())) == 1
            row = ", ".join(f"{k} median {1e3 * med[k]:.1f} ms ({med[k] / med['builtin']:.3f}x), "
                            f"min {1e3 * low[k]:.1f} ms ({low[k] / low['builtin']:.3f}x)" for k in calls)
            print(f"N={N:2d} {metric}: {row}; values identical: {same}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
