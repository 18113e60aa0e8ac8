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
    return f"[{a.min():.5g}..{a.max():.5g}] ({a.size})"  # 5 digits: two of them fit a 100-column row


#: the width the table and its notes keep to (notes are wrapped; the table is laid out for it)
WIDTH = 100


def _wrap(text: str) -> str:
    """A note wrapped to :data:`WIDTH` columns (continuation lines indented; no word is cut)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent="    ", break_long_words=False,
                                   break_on_hyphens=False)) or text


#: the widest margin scale shown in the table; a longer one is cut at its note and given in full below
SCALE_WIDTH = 22


def _scale(r: Any) -> tuple[str, str | None]:
    """(the margin's scale as the table shows it, the full text when that was shortened)."""
    full = r.details.get("margin_scale") if isinstance(r.details, dict) else None
    if full is None:
        return "-", None
    full = str(full)
    if len(full) <= SCALE_WIDTH:
        return full, None
    short = full.split(" (", 1)[0]
    if len(short) > SCALE_WIDTH - 1:
        short = short[: SCALE_WIDTH - 2] + "~"
    return short + "*", full


def _margin(r: Any) -> str:
    """``+9.20e-06 of |predicted|``: the margin and the scale it is relative to ("-" when none)."""
    if r.margin != r.margin:  # NaN: not checkable, skipped, error
        return "-"
    return f"{r.margin:+.2e} of {_scale(r)[0]}"


def format_table(results: Any) -> tuple[list[str], list[str]]:
    """The text table of ``polyak verify`` (lines) and the notes on shortened margin scales.

    Two lines per claim, so that it stays within 100 columns for the library's claims (ids up to
    48 characters, arrays shown as ``[min..max] (n)``): the claim, its status and its margin with
    the scale that margin is relative to (``margin_scale`` of the JSON report: ``|predicted|``,
    ``|bound_k|``, ``max(|V_k|, |V_k+1|)``, ``|claimed rate|``, or a number the claim states);
    then, indented, the relation, the prediction, the measurement and the seconds. Margins of
    different claims are comparable because each is divided by its stated scale. A scale longer
    than :data:`SCALE_WIDTH` characters is shown up to its note, marked ``*``, and written out in
    full in the notes.
    """
    first = [(r.claim, r.status, _margin(r)) for r in results]
    second = [(r.relation, _fmt(r.predicted), _fmt(r.measured), f"{r.seconds:.2f}") for r in results]
    h1, h2 = ("claim", "status", "margin (of scale)"), ("relation", "predicted", "measured", "seconds")
    w1 = [max(len(h1[i]), *(len(row[i]) for row in first)) for i in range(2)]
    w2 = [max(len(h2[i]), *(len(row[i]) for row in second)) for i in range(3)]

    def one(row: tuple) -> str:
        return f"{row[0].ljust(w1[0])}  {row[1].ljust(w1[1])}  {row[2]}".rstrip()

    def two(row: tuple) -> str:
        return ("    " + "  ".join(c.ljust(w) for c, w in zip(row[:3], w2)) + "  " + row[3].rjust(7)).rstrip()

    lines = [one(h1), two(h2)]
    lines.append("-" * max(len(lines[0]), len(lines[1])))
    for a, b in zip(first, second):
        lines += [one(a), two(b)]
    notes = [f"* {r.claim}: margin relative to {full}" for r in results for full in [_scale(r)[1]] if full]
    return lines, notes


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
    import builtins
    import json
    import sys
    import time

    from polyak.verify.claims import summarize
    from polyak.verify.runner import collect, exit_code, run_claims, select

    seed = int(getattr(args, "seed", 0) or 0)
    if args.only is not None and not args.only.strip():
        raise ValueError("--only must not be empty (omit it to run every claim of the suite)")
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
    from polyak.cli import want_progress
    from polyak.verify.runner import open_executor

    with open_executor(getattr(args, "workers", None), getattr(args, "scheduler", None)) as ex:
        results = run_claims(chosen, backend=args.backend, seed=seed, progress=want_progress(args),
                             executor=ex, device=getattr(args, "device", None),
                             chunks=getattr(args, "chunks", None) or "module")
    total = time.perf_counter() - t0

    to_stdout = args.json == "-"
    out = sys.stderr if to_stdout else sys.stdout  # --json -: the JSON alone on stdout

    def print(*a: Any) -> None:  # noqa: A001
        builtins.print(*a, file=out)

    lines, scale_notes = format_table(results)
    for line in lines:
        print(line)
    if scale_notes:
        print()
        for line in scale_notes:
            print(_wrap(line))
    notes = [r for r in results if r.status in ("error", "skipped", "not checkable")]
    if notes:
        print()
        for r in notes:
            why = r.details.get("error") or r.details.get("reason", "")
            print(_wrap(f"{r.claim}: {r.status}: {why}"))
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
    if args.json is not None:
        report = {"environment": _environment(args), "seconds": total, "counts": counts,
                  "results": [r.to_dict() for r in results]}
        text = json.dumps(report, indent=2, allow_nan=False)
        if to_stdout:
            builtins.print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
    return exit_code(results)


# ----------------------------------------------------------------------------------------
# polyak certify  (run_certify; owner: certificates; self-contained)
# ----------------------------------------------------------------------------------------
def pep_estimate(N: int, metric: str) -> tuple[float, float]:
    """(bytes, seconds) of an N-step PEP (:mod:`polyak.verify.pep`), from its sizes alone.

    The compiled problem holds the dense parameter ``Qs`` of (pairs x n^2) doubles, pairs = (m+1) m,
    n = m + 1 Gram rows, m = N (+1 for fgap) points; cvxpy's canonicalisation keeps a few copies
    (peak RSS measured on the project machine, 2 cores: 284 MB at N = 30, 579 MB at N = 40, i.e. ~20
    copies over a 130 MB base), and the solve time grew like n^8 (N = 20: 3 s, 30: 25 s, 40: 240 s
    under load): the estimate is 25 s x (n / 31)^8.
    """
    m = N + (1 if metric == "fgap" else 0)
    n = m + 1
    pairs = (m + 1) * m
    mem = 8.0 * pairs * n * n * PEP_COPIES + 150e6
    secs = 0.5 + 25.0 * (n / 31.0) ** 8
    return mem, secs


#: copies of the dense PEP data that cvxpy keeps while compiling (measured: peak RSS / (8 pairs n^2))
PEP_COPIES = 24


#: the methods ``polyak certify`` takes by name with ``--alpha``/``--beta`` (classical tunings by default)
_LEGACY = ("gd", "hb", "nesterov")


def _hyper_text(name: str, mu: float, L: float, hyper: dict) -> str:
    """``name mu=.. L=.. alpha=.. beta=..`` for the text report (non-numeric values as given)."""
    parts = [f"{name} mu={mu:g} L={L:g}"]
    for k, v in hyper.items():
        parts.append(f"{k}={v:.6g}" if isinstance(v, (int, float)) else f"{k}={v}")
    return " ".join(parts)


def run_certify(args: Any) -> int:
    """``polyak certify METHOD --mu M --L L [--alpha A --beta B] [--rate R] [--steps N --metric dist|fgap] [--json]``.

    Without ``--steps``: the linear-rate certificate (:func:`polyak.verify.certificates.certify_rate`);
    JSON keys ``certified``, ``rate`` (null when not certified), ``status``, ``seconds``, ``bracket``,
    ``solves`` and the inputs. With ``--rate R``: one solve, is the claimed rate R certified
    (:func:`polyak.verify.certificates.check_rate`); JSON ``certified``, ``claimed_rate``, ``status``.
    With ``--steps N``: the N-step worst case (:func:`polyak.verify.pep.worst_case`); keys
    ``certified``, ``worst_case`` (null unless the solver status is optimal), ``dual_bound``, ``gap``,
    ``status``, ``seconds``; with ``--rate R`` it asks whether worst_case <= R^(2N) (dist, squared
    norms) or <= R^N (fgap). Exit 0 when certified, 1 when not, 2 on bad input (ValueError).
    """
    import time

    from polyak.cli import EXIT_FAIL, EXIT_OK, check_resources, dump_json

    method, mu, L = args.method, args.mu, args.L
    alpha, beta = getattr(args, "alpha", None), getattr(args, "beta", None)
    steps, metric = getattr(args, "steps", None), getattr(args, "metric", "dist") or "dist"
    claimed = getattr(args, "rate", None)
    if claimed is not None and not 0.0 <= claimed:
        raise ValueError(f"--rate must be >= 0; got {claimed}")
    check = bool(getattr(args, "check", False))
    if check and (steps is not None or claimed is not None):
        raise ValueError("--check re-checks the rate certificate: use it without --steps and --rate")
    if check:
        import importlib.util

        if importlib.util.find_spec("PEPit") is None:
            raise ValueError("--check needs PEPit, which is not installed: pip install 'polyak[pep]'")
    t0 = time.perf_counter()
    extra = list(getattr(args, "extra", None) or [])
    if method in _LEGACY and extra:
        raise ValueError(f"unrecognized arguments {' '.join(extra)}: {method} takes --alpha and --beta "
                         "(see polyak certify --help)")
    if method not in _LEGACY:
        # any linear method: a registered name or path/to/file.py:NAME; its hyperparameters are
        # options as for polyak run (--eta 0.1 --gamma 0.2; --alpha/--beta too), the others keep
        # the method's defaults
        from polyak.run_cmd import parse_hyper
        from polyak.solvers.base import build_method
        from polyak.solvers.linear import require_linear

        for flag, v in (("--alpha", alpha), ("--beta", beta)):
            if v is not None:
                extra += [flag, repr(float(v))]
        rule, hyper = parse_hyper(method, extra)
        method = build_method(rule, hyper)
        require_linear(method, "polyak certify")
        alpha = beta = None
    if steps is None and claimed is not None and not isinstance(method, str):
        from polyak.verify.certificates import check_rate

        ok, status = check_rate(method, mu, L, rate=claimed)
        report = {"method": method.name, "hyper": method.describe(), "mu": mu, "L": L, "claimed_rate": claimed,
                  "certified": bool(ok), "status": status, "seconds": time.perf_counter() - t0}
        if args.json:
            print(dump_json(report))
        else:
            verdict = "certified" if ok else "NOT certified"
            print(f"{_hyper_text(method.name, mu, L, method.describe())}: rate {claimed:g} {verdict} (status {status})")
        return EXIT_OK if ok else EXIT_FAIL
    if steps is None and claimed is not None:
        from polyak.verify.certificates import check_method_params, check_rate

        m, mu_, L_, a_, b_, g_ = check_method_params(method, mu, L, alpha, beta)
        ok, status = check_rate(method, mu, L, alpha, beta, rate=claimed)
        report = {"method": m, "mu": mu_, "L": L_, "alpha": a_, "beta": b_, "gamma": g_, "claimed_rate": claimed,
                  "certified": bool(ok), "status": status, "seconds": time.perf_counter() - t0}
        if args.json:
            print(dump_json(report))
        else:
            head = f"{m} mu={mu_:g} L={L_:g} alpha={a_:.6g} beta={b_:.6g}"
            verdict = "certified" if ok else "NOT certified"
            print(f"{head}: rate {claimed:g} {verdict} (status {status})")
        return EXIT_OK if ok else EXIT_FAIL
    if steps is None:
        from polyak.verify.certificates import certify_rate

        c = certify_rate(method, mu, L, alpha, beta)
        report = {
            "method": c.method, "mu": c.mu, "L": c.L, "alpha": c.alpha, "beta": c.beta, "gamma": c.gamma,
            "certified": bool(c.certified), "rate": c.rate, "status": c.status,
            "bracket": list(c.bracket), "solves": c.solves, "solver": c.solver,
            "seconds": time.perf_counter() - t0,
            **({"hyper": method.describe()} if not isinstance(method, str) else {}),
        }
        passed = bool(c.certified)
        if check and c.certified:
            from polyak.verify.certificate_check import check_certificate

            ck = check_certificate(c)
            passed = bool(ck.passed)
            report["check"] = {"passed": passed, "decrease": ck.decrease, "positivity": ck.positivity,
                               "tol": ck.tol, "quadratic_decrease": ck.quadratic_decrease,
                               "quadratic_positivity": ck.quadratic_positivity, "qtol": ck.qtol,
                               "statuses": list(ck.statuses)}
            report["seconds"] = time.perf_counter() - t0
        if args.json:
            print(dump_json(report))
        else:
            hyper = method.describe() if not isinstance(method, str) else {"alpha": c.alpha, "beta": c.beta}
            head = _hyper_text(c.method, c.mu, c.L, hyper)
            if c.certified:
                print(f"{head}: certified linear rate {c.rate:.6f} (status {c.status}, {c.solves} solves)")
            else:
                print(f"{head}: NOT certified (no Lyapunov certificate with rate < 1; last status {c.status})")
            if "check" in report:
                ck_ = report["check"]
                verdict = "passed" if passed else "FAILED"
                print(f"  independent check {verdict}: one-step PEPs max(V_k+1 - rate^2 V_k) = {ck_['decrease']:.2e}, "
                      f"max(||x_k - x*||^2 - V_k) = {ck_['positivity']:.2e} (tol {ck_['tol']:g}); "
                      f"on quadratics {ck_['quadratic_decrease']:.2e}, {ck_['quadratic_positivity']:.2e} "
                      f"(tol {ck_['qtol']:g})")
        return EXIT_OK if passed else EXIT_FAIL
    from polyak.verify.pep import worst_case

    mem, secs = pep_estimate(steps, metric)
    check_resources(f"the {steps}-step PEP", mem, secs, args)
    w = worst_case(method, steps, mu, L, alpha, beta, metric=metric)
    report = {
        "method": w.method, "mu": w.mu, "L": w.L, "alpha": w.alpha[0] if len(w.alpha) else None,
        "beta": w.beta[0] if len(w.beta) else None,
        **({"hyper": method.describe()} if not isinstance(method, str) else {}), "steps": w.N,
        "metric": w.metric, "certified": bool(w.certified), "worst_case": w.value, "dual_bound": w.dual_bound,
        "gap": w.gap, "dual_residual": w.dual_residual, "status": w.status, "solver": w.solver,
        "seconds": time.perf_counter() - t0,
    }
    ok = bool(w.certified)
    if claimed is not None:
        bound = claimed ** (2 * w.N) if metric == "dist" else claimed ** w.N
        report["claimed_rate"] = claimed
        report["claimed_bound"] = bound
        ok = ok and w.value is not None and w.value <= bound
        report["rate_certified"] = ok
    if args.json:
        print(dump_json(report))
    else:
        name = "||x_N-x*||^2/||x_0-x*||^2" if metric == "dist" else "(f(x_N)-f*)/(f(x_0)-f*)"
        if w.certified:
            print(f"{w.method} N={w.N}: worst case of {name} = {w.value:.8g} (dual bound {w.dual_bound:.8g}, "
                  f"status {w.status})")
        else:
            print(f"{w.method} N={w.N}: no worst case (solver status {w.status})")
        if claimed is not None and w.certified:
            print(f"  claimed rate {claimed:g}: bound {report['claimed_bound']:.8g} "
                  f"{'holds' if ok else 'is EXCEEDED'}")
    return EXIT_OK if ok else EXIT_FAIL
