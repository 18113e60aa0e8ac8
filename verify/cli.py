"""Handlers of ``polyak verify`` and ``polyak certify`` (wired in ``polyak/cli.py``).

``run_certify(args)`` lives here too (written by the certificates' owner, appended to this file).
"""

from __future__ import annotations

from typing import Any


# ----------------------------------------------------------------------------------------
# polyak verify
# ----------------------------------------------------------------------------------------
def _fmt(x: Any) -> str:
    import numpy as np

    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    a = np.asarray(x, dtype=float)
    if a.ndim == 0 or a.size == 1:
        v = float(a.reshape(-1)[0])
        return f"{v:.6g}"
    return f"[{a.min():.6g}..{a.max():.6g}] ({a.size})"


def _environment(args: Any) -> dict:
    import platform
    import sys
    from importlib import metadata

    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("polyak", "numpy", "scipy", "sympy", "torch", "cvxpy", "clarabel"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"versions": versions, "backend": args.backend, "device": getattr(args, "device", None),
            "seed": getattr(args, "seed", 0), "suite": args.suite, "only": args.only}


def run_verify(args: Any) -> int:
    """``polyak verify``: run the papers' claims, print a table; exit 0 if all hold, 1 if one fails,
    2 if one errors. ``args``: suite, backend, only, json (PATH or None), progress (and optional seed)."""
    import json
    import time

    from polyak.verify.claims import summarize
    from polyak.verify.runner import collect, exit_code, run_claims, select

    seed = int(getattr(args, "seed", 0) or 0)
    user = getattr(args, "claims", None)
    if user:
        from polyak.verify.runner import load_claims

        claims = load_claims(user, args.suite)
        if getattr(args, "with_library", False):
            claims = collect(args.suite) + claims
    else:
        claims = collect(args.suite)
    chosen = select(claims, args.only)
    if not chosen:
        raise ValueError(f"no claim matches --only {args.only!r} in suite {args.suite!r}")
    t0 = time.perf_counter()
    from polyak.verify.runner import open_executor

    with open_executor(getattr(args, "workers", None), getattr(args, "scheduler", None)) as ex:
        results = run_claims(chosen, backend=args.backend, seed=seed, progress=bool(getattr(args, "progress", False)),
                             executor=ex, device=getattr(args, "device", None))
    total = time.perf_counter() - t0

    head = ("claim", "paper", "relation", "predicted", "measured", "margin", "status", "seconds")
    rows = [(r.claim, r.paper, r.relation, _fmt(r.predicted), _fmt(r.measured),
             "-" if r.margin != r.margin else f"{r.margin:+.2e}", r.status, f"{r.seconds:.2f}") for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    notes = [r for r in results if r.status in ("error", "skipped", "not checkable")]
    if notes:
        print()
        for r in notes:
            why = r.details.get("error") or r.details.get("reason", "")
            print(f"{r.claim}: {r.status}: {why}")
    counts = summarize(results)
    print()
    line = f"{counts['pass']} passed, {counts['FAIL']} failed"
    if counts["error"]:
        line += f", {counts['error']} errors"
    print(line)
    other = []
    if counts["skipped"]:
        other.append(f"{counts['skipped']} skipped")
    if counts["not checkable"]:
        other.append(f"{counts['not checkable']} not checkable here")
    dev = f" ({args.device})" if getattr(args, "device", None) else ""
    tail = f"suite {args.suite}, backend {args.backend}{dev}, seed {seed}, {total:.1f} s"
    print((", ".join(other) + "; " if other else "") + tail)
    if args.json:
        report = {"environment": _environment(args), "seconds": total, "counts": counts,
                  "results": [r.to_dict() for r in results]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, allow_nan=False)
    return exit_code(results)


# ----------------------------------------------------------------------------------------
# polyak certify  (run_certify; owner: certificates; self-contained)
# ----------------------------------------------------------------------------------------
def run_certify(args: Any) -> int:
    """``polyak certify METHOD --mu M --L L [--alpha A --beta B] [--steps N --metric dist|fgap] [--json]``.

    Without ``--steps``: the linear-rate certificate (:func:`polyak.verify.certificates.certify_rate`);
    JSON keys ``certified``, ``rate`` (null when not certified), ``status``, ``seconds``, ``bracket``,
    ``solves`` and the inputs. With ``--steps N``: the N-step worst case
    (:func:`polyak.verify.pep.worst_case`); keys ``certified``, ``worst_case`` (null unless the solver
    status is optimal), ``dual_bound``, ``gap``, ``status``, ``seconds``. Exit 0 when it ran
    (certified or not); bad input raises ValueError (exit 2).
    """
    import time

    from polyak.cli import dump_json

    method, mu, L = args.method, args.mu, args.L
    alpha, beta = getattr(args, "alpha", None), getattr(args, "beta", None)
    steps, metric = getattr(args, "steps", None), getattr(args, "metric", "dist") or "dist"
    t0 = time.perf_counter()
    if steps is None:
        from polyak.verify.certificates import certify_rate

        c = certify_rate(method, mu, L, alpha, beta)
        report = {
            "method": c.method, "mu": c.mu, "L": c.L, "alpha": c.alpha, "beta": c.beta, "gamma": c.gamma,
            "certified": bool(c.certified), "rate": c.rate, "status": c.status,
            "bracket": list(c.bracket), "solves": c.solves, "solver": c.solver,
            "seconds": time.perf_counter() - t0,
        }
        if args.json:
            print(dump_json(report))
        else:
            head = f"{c.method} mu={c.mu:g} L={c.L:g} alpha={c.alpha:.6g} beta={c.beta:.6g}"
            if c.certified:
                print(f"{head}: certified linear rate {c.rate:.6f} (status {c.status}, {c.solves} solves)")
            else:
                print(f"{head}: NOT certified (no Lyapunov certificate with rate < 1; last status {c.status})")
        return 0
    from polyak.verify.pep import worst_case

    if steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps}")
    w = worst_case(method, steps, mu, L, alpha, beta, metric=metric)
    report = {
        "method": w.method, "mu": w.mu, "L": w.L, "alpha": w.alpha[0], "beta": w.beta[0], "steps": w.N,
        "metric": w.metric, "certified": bool(w.certified), "worst_case": w.value, "dual_bound": w.dual_bound,
        "gap": w.gap, "dual_residual": w.dual_residual, "status": w.status, "solver": w.solver,
        "seconds": time.perf_counter() - t0,
    }
    if args.json:
        print(dump_json(report))
    else:
        name = "||x_N-x*||^2/||x_0-x*||^2" if metric == "dist" else "(f(x_N)-f*)/(f(x_0)-f*)"
        if w.certified:
            print(f"{w.method} N={w.N}: worst case of {name} = {w.value:.8g} (dual bound {w.dual_bound:.8g}, "
                  f"status {w.status})")
        else:
            print(f"{w.method} N={w.N}: no worst case (solver status {w.status})")
    return 0
