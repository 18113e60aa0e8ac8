"""Shared helpers of the papers' claims (not a paper): theory look-ups, batched fits, simulations.

Predictions come from ``polyak.theory`` (lambdified derivations), never from formulas retyped here.

The floating-point floor. On a quadratic with x* = 0 every step is a linear combination of the
current iterates, so round-off is relative to the current size and there is no absolute floor:
errors can be followed down to where ||x||^2 underflows (about 1e-154 for ||x||). Claims on such
problems fit over a window down to ``ZERO_STAR_FLOOR`` times the initial error (1e-100, with
margin). With x* != 0 the floor is about 1e-13 relative (cancellation in x - x*), and
``polyak.verify.rates``'s default 1e-12 is used.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

ZERO_STAR_FLOOR = 1e-100


def theory(name: str) -> Callable[..., Any]:
    """A public helper of ``polyak.theory`` (``hb_optimal``...); AttributeError if not there yet."""
    import polyak.theory as th

    return getattr(th, name)


def f(x: Any) -> float:
    return float(np.asarray(x, dtype=float))


def steps_to(rho: float, level: float, power: float = 0.0) -> int:
    """Steps K with K^power rho^K ~ level (how long a run must be to reach ``level``)."""
    k = math.log(level) / math.log(rho)
    for _ in range(20):
        k = (math.log(level) - power * math.log(max(k, 1.0))) / math.log(rho)
    return int(math.ceil(k))


def scaled(cpu: int, gpu: int, backend: str) -> int:
    """Batch size of a full-suite claim: ``gpu`` when the claim runs on the torch backend on a CUDA
    device (``polyak verify --suite full --backend torch --device cuda``, or torch's default device
    when it is a GPU), ``cpu`` otherwise, so that the same command passes in minutes on a CPU. The
    measurement reports the size it used (``details["instances"]``)."""
    if isinstance(cpu, bool) or isinstance(gpu, bool) or int(cpu) < 1 or int(gpu) < int(cpu):
        raise ValueError(f"scaled: need 1 <= cpu <= gpu; got cpu={cpu!r}, gpu={gpu!r}")
    if backend != "torch":
        return int(cpu)
    from polyak.solvers.backend import get_backend

    return int(gpu) if str(get_backend("torch").device).startswith("cuda") else int(cpu)


def columns(a: np.ndarray) -> np.ndarray:
    """(R, ...) -> (R, n): one column per run."""
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1)


def transient_rates(method, problem, rho: float, backend: str, power: float = 1.0):
    """Simulate to ~1e-105 and fit log e_k = a + power log k + k log rho per run (x* = 0 problems).

    Returns (rates array, details) with the windows, the RMS residuals and the a-posteriori bias
    bound 3 max|resid| / W of each fit (a least-squares slope moves by at most ~3 osc(h)/W for a
    leftover h over a window of W steps)."""
    from polyak.solvers import simulate
    from polyak.verify.rates import fit_linear_rate_transient, usable_window

    steps = steps_to(rho, ZERO_STAR_FLOOR * 1e-5, power=power)
    tr = simulate(method, problem, steps, backend=backend)
    err = columns(tr.dist)
    rates, windows, resid, bound = [], [], [], []
    for j in range(err.shape[1]):
        w = usable_window(err[:, j], floor=ZERO_STAR_FLOOR, burn_in=0.25)
        fit = fit_linear_rate_transient(err[:, j], tr.k, window=w, power=power)
        kk = tr.k[w[0]:w[1]]
        r = np.log(err[w[0]:w[1], j]) - power * np.log(kk) - fit.intercept - np.log(fit.rate) * kk
        rates.append(fit.rate)
        windows.append(w)
        resid.append(fit.residual)
        bound.append(3 * float(np.abs(r).max()) / (w[1] - w[0]))
    return np.array(rates), {"fit": f"log e_k = a + {power:g} log k + k log rho", "windows": windows,
                             "residual_rms": resid, "a_posteriori_bias_bound": bound, "steps": steps}


def derived(name: str, expr: str, **values: Any) -> np.ndarray:
    """Evaluate expression ``expr`` of the Derivation ``name`` (``polyak.theory.get``) at ``values``
    (arrays broadcast), passing arguments positionally in the Derivation's order."""
    from polyak.theory import get

    d = get(name)
    args = d.arguments(expr)
    missing = [a for a in args if a not in values]
    if missing:
        raise ValueError(f"{name}.{expr} needs {', '.join(missing)}")
    return np.asarray(d.numeric(expr)(*[values[a] for a in args]), dtype=float)
