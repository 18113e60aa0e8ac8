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
    return {"versions": versions, "backend": args.backend, "seed": getattr(args, "seed", 0), "suite": args.suite,
            "only": args.only}


def run_verify(args: Any) -> int:
    """``polyak verify``: run the papers' claims, print a table; exit 0 if all hold, 1 if one fails,
    2 if one errors. ``args``: suite, backend, only, json (PATH or None), progress (and optional seed)."""
    import json
    import time

    from polyak.verify.claims import summarize
    from polyak.verify.runner import collect, exit_code, run_claims, select

    seed = int(getattr(args, "seed", 0) or 0)
    claims = collect(args.suite)
    chosen = select(claims, args.only)
    if not chosen:
        raise ValueError(f"no claim matches --only {args.only!r} in suite {args.suite!r}")
    t0 = time.perf_counter()
    results = run_claims(chosen, backend=args.backend, seed=seed, progress=bool(getattr(args, "progress", False)))
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
    tail = f"suite {args.suite}, backend {args.backend}, seed {seed}, {total:.1f} s"
    print((", ".join(other) + "; " if other else "") + tail)
    if args.json:
        report = {"environment": _environment(args), "seconds": total, "counts": counts,
                  "results": [r.to_dict() for r in results]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, allow_nan=False)
    return exit_code(results)
