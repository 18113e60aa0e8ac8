"""One report for one method and one class S(mu, L): ``polyak analyze METHOD --mu M --L L``.

What is computed (each part with its wall time, and "not available: <why>" when a tool cannot
take the method):

* ``quadratic``: the exact worst spectral radius over quadratics with spectrum in [mu, L]
  (:func:`polyak.verify.quadratic.quadratic_worst_case`), a lower bound on any certified rate;
* ``simulated_quadratic``: the rate fitted (``fit_linear_rate``) on random quadratics with
  spectrum in [mu, L] (mu and L included), 4 instances;
* ``simulated_logistic``: the rate fitted on l2-regularised logistic regression with strong
  convexity mu (its smoothness constant L_f comes from the data and is reported; the method's
  tuning is for L, so L_f > L means the problem is outside the class);
* ``certified``: ``polyak.verify.certificates.certify_rate(method, mu, L)``, the rate LMI over
  S(mu, L) (only an ``optimal`` solve counts);
* ``pep``: ``polyak.verify.pep.worst_case(method, N, mu, L)`` for N = 1..10 (distance metric);
* ``counterexample``: a search for periodic orbits of the method on 1-D piecewise quadratics of
  the class (:func:`polyak.verify.counterexamples.find_periodic_orbit`), periods 2..4.

The library function is :func:`analyze`; the CLI prints :func:`format_report` or the JSON of the
report. METHOD is a registered name or ``path/to/file.py:NAME`` (:func:`polyak.solvers.linear.load_method`).

>>> import polyak
>>> from polyak.verify.analyze import analyze
>>> rep = analyze(polyak.make_method("gd", alpha=2 / 11), 1.0, 10.0, parts=("quadratic",))
>>> round(rep["quadratic"]["rate"], 12)
0.818181818182
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["PARTS", "analyze", "format_report", "plot_report"]

PARTS = ("quadratic", "simulated_quadratic", "simulated_logistic", "certified", "pep", "counterexample")


def _timed(fn: Callable[[], dict]) -> dict:
    t0 = time.perf_counter()
    try:
        out = fn()
        out.setdefault("status", "ok")
    except (ValueError, TypeError, NotImplementedError, ImportError) as exc:
        out = {"status": "not available", "reason": f"{type(exc).__name__}: {exc}"}
    out["seconds"] = time.perf_counter() - t0
    return out


def _fit(tr, floor: float) -> dict:
    from polyak.verify.rates import fit_linear_rate

    err = tr.error()
    err = err.reshape(err.shape[0], -1)
    rates = []
    for j in range(err.shape[1]):
        e = err[:, j]
        if not np.all(np.isfinite(e)):
            rates.append(math.inf)
            continue
        rates.append(fit_linear_rate(e, tr.k, floor=floor * max(float(e[0]), 1e-300)).rate)
    r = np.asarray(rates, dtype=float)
    return {"rate": float(np.nanmax(r)) if np.any(np.isfinite(r)) or np.any(np.isinf(r)) else float("nan"),
            "rates": r.tolist(), "diverged": bool(tr.diverged.any())}


def _steps_for(rho: float | None) -> int:
    if rho is None or not (0 < rho < 1):
        return 400
    return int(min(4000, max(50, math.ceil(math.log(1e-10) / math.log(rho)))))


def analyze(
    method: Any,
    mu: float,
    L: float,
    *,
    seed: int = 0,
    parts: Iterable[str] = PARTS,
    pep_steps: int = 10,
    periods: Iterable[int] = (2, 3, 4),
    backend: str = "numpy",
) -> dict:
    """Analyse ``method`` (a Method, a ``linear_method`` definition, a name or ``file.py:NAME``)
    on S(mu, L). Returns a JSON-friendly dict, one entry per part (see the module docstring)."""
    from polyak.solvers import make_problem, simulate
    from polyak.solvers.linear import _as_method, load_method
    from polyak.verify.quadratic import _check_class

    if isinstance(method, str):
        method = load_method(method)
    m = _as_method(method)
    mu, L = _check_class(mu, L)
    parts = tuple(parts)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"analyze: unknown part(s) {', '.join(unknown)}; valid: {', '.join(PARTS)}")
    if isinstance(pep_steps, bool) or not isinstance(pep_steps, (int, np.integer)) or pep_steps < 1:
        raise ValueError(f"analyze: pep_steps must be a positive integer; got {pep_steps!r}")
    report: dict[str, Any] = {"method": m.name, "hyper": m.describe(), "mu": mu, "L": L, "seed": seed}
    rho_q: list[float | None] = [None]

    def quadratic() -> dict:
        from polyak.verify.quadratic import quadratic_worst_case

        w = quadratic_worst_case(m, mu, L)
        rho_q[0] = w.rate
        return {"rate": w.rate, "worst_lambda": w.lam}

    def sim_quadratic() -> dict:
        p = make_problem("quadratic", mu=mu, L=L, dim=40, spectrum="uniform", instances=4, seed=seed)
        steps = _steps_for(rho_q[0])
        tr = simulate(m, p, steps, backend=backend)
        return {**_fit(tr, 1e-11), "steps": steps, "problem": "quadratic dim 40, 4 instances, spectrum uniform"}

    def sim_logistic() -> dict:
        p = make_problem("logistic", dim=20, n=200, mu=mu, seed=seed)
        Lf = float(np.asarray(p.L).reshape(-1)[0])
        steps = _steps_for(rho_q[0])
        tr = simulate(m, p, steps, backend=backend)
        out = {**_fit(tr, 1e-9), "steps": steps, "L_f": Lf, "in_class": bool(Lf <= L * (1 + 1e-12))}
        if Lf > L:
            out["note"] = f"the problem's smoothness {Lf:.4g} exceeds L = {L:g}: outside the class analysed"
        return out

    def certified() -> dict:
        from polyak.verify import certificates

        cert = certificates.certify_rate(m, mu, L)
        d = cert.to_dict() if hasattr(cert, "to_dict") else {"rate": getattr(cert, "rate", None)}
        return {"rate": d.get("rate"), "certified": bool(d.get("certified")), "solver_status": d.get("status"),
                "bracket": d.get("bracket")}

    def pep() -> dict:
        from polyak.verify import pep as pepmod

        rows = []
        for N in range(1, int(pep_steps) + 1):
            wc = pepmod.worst_case(m, N, mu, L)
            rows.append({"N": N, "value": wc.value, "status": wc.status, "certified": bool(wc.certified)})
        return {"metric": "dist", "worst_cases": rows}

    def counterexample() -> dict:
        from polyak.verify.counterexamples import find_periodic_orbit

        found = []
        for p in periods:
            o = find_periodic_orbit(mu, L, m, period=int(p))
            found.append({"period": int(p), "found": bool(o.found), "margin": o.margin,
                          "orbit": list(o.orbit), "simulation_residual": o.simulation_residual})
        verdict = "cycle found" if any(f["found"] for f in found) else "no periodic orbit of the searched periods"
        return {"verdict": verdict, "periods": found}

    table = {"quadratic": quadratic, "simulated_quadratic": sim_quadratic, "simulated_logistic": sim_logistic,
             "certified": certified, "pep": pep, "counterexample": counterexample}
    if "quadratic" not in parts and any(p.startswith("simulated") for p in parts):
        _timed(quadratic)  # the simulations size their runs from the quadratic rate
    for part in PARTS:
        if part in parts:
            report[part] = _timed(table[part])
    return report


def _num(x: Any) -> str:
    if x is None:
        return "-"
    try:
        return f"{float(x):.6g}"
    except (TypeError, ValueError):
        return str(x)


def format_report(rep: dict) -> str:
    """A plain-text table of :func:`analyze`'s report."""
    hyper = ", ".join(f"{k}={v}" for k, v in rep["hyper"].items())
    lines = [f"{rep['method']} ({hyper}) on S(mu={rep['mu']:g}, L={rep['L']:g})", ""]

    def row(name: str, value: str, part: dict) -> None:
        lines.append(f"  {name:<22} {value:<40} {part.get('seconds', 0.0):8.2f} s")

    for part in PARTS:
        if part not in rep:
            continue
        d = rep[part]
        if d.get("status") != "ok":
            row(part, f"not available: {d.get('reason', '')}"[:200], d)
            continue
        if part == "quadratic":
            row("quadratic worst case", f"rho = {_num(d['rate'])} at lambda = {_num(d['worst_lambda'])}", d)
        elif part == "simulated_quadratic":
            row("simulated (quadratic)", f"rate = {_num(d['rate'])}" + (" (diverged)" if d["diverged"] else ""), d)
        elif part == "simulated_logistic":
            row("simulated (logistic)", f"rate = {_num(d['rate'])}, L_f = {_num(d['L_f'])}" + ("" if d["in_class"] else " (outside class)"), d)
        elif part == "certified":
            row("certified (SDP)", f"rho = {_num(d['rate'])}" if d["certified"] else "no rate < 1 certified", d)
        elif part == "pep":
            nums = [_num(r["value"]) for r in d["worst_cases"]]
            vals = ", ".join(nums)
            if len(vals) > 80:  # the first values that fit, then the last one (not a number cut in two)
                head = []
                for v in nums[:-1]:
                    if len(", ".join(head + [v])) > 80 - len(nums[-1]) - 7:
                        break
                    head.append(v)
                vals = ", ".join(head) + ", ..., " + nums[-1]
            row(f"PEP N=1..{len(d['worst_cases'])} ({d['metric']})", vals, d)
        elif part == "counterexample":
            row("counterexample", d["verdict"], d)
    return "\n".join(lines)


def plot_report(rep: dict, path: str) -> str:
    """Save a figure of the report: the N-step worst cases (PEP, ||x_N - x*||^2 / ||x_0 - x*||^2)
    against rho^(2N) for the quadratic, simulated and certified rates. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    N = np.arange(0, 11)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for key, label, style in (("quadratic", "quadratic worst case", "-"), ("simulated_quadratic", "simulated (quadratic)", ":"),
                              ("certified", "certified (SDP)", "--")):
        d = rep.get(key, {})
        r = d.get("rate") if d.get("status") == "ok" else None
        if r is not None and np.isfinite(r) and r > 0:
            ax.semilogy(N, float(r) ** (2 * N), style, label=f"{label}: rho = {float(r):.4g}")
    pep = rep.get("pep", {})
    if pep.get("status") == "ok":
        rows = [r for r in pep["worst_cases"] if r["value"] is not None]
        if rows:
            ax.semilogy([r["N"] for r in rows], [r["value"] for r in rows], "o", label="PEP worst case (N steps)")
    ax.set_xlabel("N")
    ax.set_ylabel(r"$\|x_N - x^*\|^2 / \|x_0 - x^*\|^2$")
    ax.set_title(f"{rep['method']} on S({rep['mu']:g}, {rep['L']:g})", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
