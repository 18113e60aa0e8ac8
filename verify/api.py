"""``assert_rate``: check a rate claim about a method on a problem in one line of a test.

The method runs on every instance of the problem (and every seed), the error (``||x_k - x*||``
when x* is known, else ``f(x_k) - f*``) is fitted by :func:`~polyak.verify.rates.fit_rate`
(linear rates: the asymptotic rate, with the model ``rho^k`` or ``k^p rho^k`` chosen by the fit) or :func:`~polyak.verify.rates.fit_sublinear_exponent` (``kind="sublinear"``: the
exponent p of e_k ~ C k^-p), and the fitted value is compared with the claimed one:

``relation="tight"``  ``|fitted - rate| <= rtol * rate`` for every run;
``relation="upper"``  ``fitted <= rate * (1 + rtol)`` for every run (linear: the method is at
least as fast as claimed); for ``kind="sublinear"``, ``fitted >= rate * (1 - rtol)`` (the
exponent is at least the claimed one).

With several seeds (a stochastic problem), the per-seed fits are summarised by
:func:`~polyak.verify.rates.seed_stats` and the mean is compared (its confidence interval is in
the message). On failure an ``AssertionError`` names the fitted rate, the model it used, the
window, the fit residual, the floor and the last-half rate, and the claim.

>>> from polyak.solvers import make_method, make_problem
>>> _ = assert_rate(make_method("gd", alpha=0.5), make_problem("quadratic", mu=1, L=3, dim=5), 0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rates import RateFit, fit_rate, fit_sublinear_exponent, seed_stats


def default_floor(problem: Any, metric: str) -> float:
    """The relative error floor of a rate fit of ``problem`` with the error ``metric``.

    0 when the error is ``dist`` = ||x_k - x*|| with x* = 0 exactly (every instance) and no
    gradient noise: x_k is then rounded relative to itself, so the error has no floor and the fit
    may use the records down to ~1e-290 (more of the asymptotic regime). Otherwise ``1e-12``
    (float64 round-off around x* != 0 sits near 1e-16 ||x*||; a plateau above that is detected
    by :func:`~polyak.verify.rates.usable_window`).

    >>> from polyak.solvers import make_problem
    >>> default_floor(make_problem("quadratic", dim=3), "dist")  # x* = 0 is the default
    0.0
    >>> default_floor(make_problem("quadratic", dim=3, x_star="random"), "dist")
    1e-12
    """
    x_star = getattr(problem, "x_star", None)
    if (metric == "dist" and x_star is not None and getattr(problem, "noise", None) is None
            and not np.any(np.asarray(x_star))):
        return 0.0
    return 1e-12


def measure_rate(method: Any, problem: Any, *, steps: int = 500, seeds: Any = (0,), kind: str = "linear",
                 metric: str = "auto", backend: str = "numpy", floor: float | None = None, burn_in: float = 0.5,
                 k_min: float = 10.0, model: str = "auto") -> list[RateFit]:
    """Simulate and fit every run; returns one :class:`RateFit` per run (problem x grid x seed).

    ``floor`` (relative to each run's first error) defaults to :func:`default_floor`.
    """
    from polyak.solvers import simulate

    if kind not in ("linear", "sublinear"):
        raise ValueError(f"kind must be 'linear' or 'sublinear'; got {kind!r}")
    tr = simulate(method, problem, steps, seeds=seeds, backend=backend)
    if metric == "auto":
        err = tr.error()
        used = "dist" if tr.dist is not None else "fgap"
    elif metric in ("dist", "fgap", "gnorm"):
        err = getattr(tr, metric)
        if err is None:
            raise ValueError(f"metric {metric!r} is not available for this problem (x* or f* unknown)")
        used = metric
    else:
        raise ValueError(f"metric must be 'auto', 'dist', 'fgap' or 'gnorm'; got {metric!r}")
    if floor is None:
        floor = default_floor(problem, used)
    cols = np.asarray(err).reshape(err.shape[0], -1)
    fits = []
    for j in range(cols.shape[1]):
        if kind == "linear":
            fits.append(fit_rate(cols[:, j], tr.k, model=model, floor=floor, burn_in=burn_in))
        else:
            fits.append(fit_sublinear_exponent(cols[:, j], tr.k, k_min=k_min))
    return fits


def assert_rate(method: Any, problem: Any, rate: float, relation: str = "tight", rtol: float = 1e-2, *,
                steps: int = 500, seeds: Any = (0,), kind: str = "linear", metric: str = "auto",
                backend: str = "numpy", floor: float | None = None, burn_in: float = 0.5, k_min: float = 10.0,
                model: str = "auto") -> list[RateFit]:
    """Assert that ``method`` converges on ``problem`` at ``rate`` (see the module docstring).

    Args:
        method, problem: from ``make_method`` / ``make_problem``.
        rate: the claimed linear rate rho, or the exponent p with ``kind="sublinear"``.
        relation: "tight" or "upper".
        rtol: relative tolerance (default 1e-2). The default fit recovers the asymptotic rate of
            gradient descent, heavy ball (at and away from its optimum), Nesterov and triple momentum
            on random quadratics, kappa 10..1e4, within 2e-3 relative at the points listed in
            ``tests/verify/test_rate_fit_grid.py`` (and says where it does not).
        steps, seeds, backend: passed to ``simulate``; several seeds are summarised by their mean.
        kind: "linear" (default) or "sublinear".
        metric: "auto" (dist when x* is known, else f gap), "dist", "fgap" or "gnorm".
        floor, burn_in, k_min, model: passed to the fits (``model``: "auto", "rho^k", "k^p rho^k" or
            "(a+bk) rho^k"; ``floor`` defaults to :func:`default_floor`: 0 for x* = 0, else 1e-12).

    Returns:
        The fits (one per run), when the assertion holds.

    Raises:
        AssertionError: with the fitted rate, window, residual and the claim.
        ValueError: on bad arguments.
    """
    if relation not in ("tight", "upper"):
        raise ValueError(f"relation must be 'tight' or 'upper'; got {relation!r}")
    if isinstance(rate, (bool, np.bool_)) or np.ndim(rate) != 0:
        raise ValueError(f"rate must be one positive number; got {rate!r}")
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"rate must be a positive number; got {rate!r}") from None
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be a positive number; got {rate!r}")
    if not rtol >= 0:
        raise ValueError(f"rtol must be >= 0; got {rtol!r}")
    fits = measure_rate(method, problem, steps=steps, seeds=seeds, kind=kind, metric=metric, backend=backend,
                        floor=floor, burn_in=burn_in, k_min=k_min, model=model)
    name = getattr(method, "name", "method")
    what = "rate" if kind == "linear" else "exponent"
    bad = [f for f in fits if not f.ok]
    if bad:
        f = bad[0]
        raise AssertionError(
            f"{name}: could not fit a {what} for {len(bad)} of {len(fits)} runs (window {f.window}, {f.points} "
            f"points above the floor); run longer, lower `floor`, or check for divergence")
    values = np.array([f.rate for f in fits])
    n_seeds = int(seeds) if isinstance(seeds, (int, np.integer)) else len(tuple(seeds))
    if n_seeds > 1:
        per_seed = values.reshape(-1, n_seeds)
        st = [seed_stats(row) for row in per_seed]
        checked = np.array([s.mean for s in st])
        stat_text = "; mean over %d seeds, 95%% CI %s" % (n_seeds, ", ".join(f"[{s.ci[0]:.6g}, {s.ci[1]:.6g}]" for s in st[:3]))
    else:
        checked, stat_text = values, ""
    if relation == "tight":
        err = np.abs(checked - rate) / rate
        worst = int(np.argmax(err))
        ok = err[worst] <= rtol
        claim = f"|fitted - {rate:.6g}| <= {rtol:g} * {rate:.6g}"
    elif kind == "linear":
        err = (checked - rate) / rate
        worst = int(np.argmax(err))
        ok = err[worst] <= rtol
        claim = f"fitted rate <= {rate:.6g} * (1 + {rtol:g})"
    else:
        err = (rate - checked) / rate
        worst = int(np.argmax(err))
        ok = err[worst] <= rtol
        claim = f"fitted exponent >= {rate:.6g} * (1 - {rtol:g})"
    if not ok:
        f = fits[worst * (n_seeds if n_seeds > 1 else 1)]
        detail = f.describe() if kind == "linear" else (f"window {f.window[0]}..{f.window[1]}, {f.points} points, "
                                                         f"RMS log residual {f.residual:.3g}")
        raise AssertionError(
            f"{name}: fitted {what} {checked[worst]:.8g} (run {worst} of {checked.size}) violates {claim} "
            f"[relative error {err[worst]:+.3g}]; fit: {detail}; {steps} steps{stat_text}")
    return fits
