"""Rates from trajectories: the asymptotic linear rate (:func:`fit_rate`) and sublinear exponents.

:func:`fit_rate` is the one linear-rate fit of polyak: least squares of log e_k against k (model
``rho^k``) or against k and log k (``k^p rho^k``, for double roots), over the second half of the
records above the floor (``floor`` times the initial error, default 1e-12, or a detected plateau
such as an x* known only to ~1e-13). It reports the model, the window, the RMS residual (in
natural-log units), the floor and the rate over the last half of the window, so a reader can judge
the fit. :func:`fit_linear_rate` and :func:`fit_linear_rate_transient` are the same fit under
their older names. Sublinear exponents are fitted on log e_k against log k.

>>> import numpy as np
>>> k = np.arange(200); fit = fit_linear_rate(3.0 * 0.9 ** k, k)
>>> round(fit.rate, 12), fit.residual < 1e-12
(0.9, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# scipy.stats costs ~1.5 s to import: line fits use _line (numpy) and seed_stats imports it when called


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y ~ intercept + slope x: (slope, intercept), computed as scipy's linregress
    does (np.cov with bias=1), so the numbers are the same to the last bit."""
    xmean, ymean = np.mean(x, None), np.mean(y, None)
    ssxm, ssxym, _, _ = np.cov(x, y, bias=1).flat
    slope = float(ssxym / ssxm) if ssxm != 0 else 0.0
    return slope, float(ymean - slope * xmean)


@dataclass(frozen=True)
class RateFit:
    """A fitted rate.

    ``rate``: rho (linear fits) or the exponent p of e_k ~ C k^-p (:func:`fit_sublinear_exponent`);
    ``window``: the record indices [start, end) used; ``residual``: the RMS residual of the fit in
    natural-log units; ``points``: end - start; ``intercept``: log C. Linear fits also report
    ``model`` (``"rho^k"`` or ``"k^p rho^k"``), ``power`` (p, 0 for ``"rho^k"``), ``floor`` (the
    error level where the window was cut: the relative floor, or a detected plateau) and
    ``tail_rate`` (the same model fitted on the last half of the window: a fit that has reached the
    asymptotic regime gives the same rate there; their gap is reported by :meth:`describe`).
    """

    rate: float
    window: tuple[int, int]
    residual: float
    points: int
    intercept: float = float("nan")
    model: str = "rho^k"
    power: float = 0.0
    floor: float = float("nan")
    tail_rate: float = float("nan")

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.rate) and self.points >= 3)

    def describe(self) -> str:
        """One line: model, rate, window, residual, floor and the tail check (for messages)."""
        model = self.model if self.model != "k^p rho^k" else f"k^p rho^k with p = {self.power:.3g}"
        tail = ""
        if np.isfinite(self.tail_rate) and np.isfinite(self.rate):
            tail = f", last-half rate {self.tail_rate:.8g} ({self.tail_rate / self.rate - 1:+.2g})"
        return (f"model {model}, rate {self.rate:.8g}, window {self.window[0]}..{self.window[1]} "
                f"({self.points} points), RMS log residual {self.residual:.3g}, floor {self.floor:.3g}{tail}")

    def to_dict(self) -> dict:
        return {"rate": self.rate, "model": self.model, "power": self.power, "window": list(self.window),
                "points": self.points, "residual": self.residual, "intercept": self.intercept,
                "floor": self.floor, "tail_rate": self.tail_rate}


PLATEAU_DROP = 1e6
MIN_POINTS = 4
PLATEAU_MARGIN = 1e3


def usable_window(err: np.ndarray, floor: float = 1e-12, burn_in: float = 0.5) -> tuple[int, int]:
    """Indices [start, end) of the records to fit: finite, positive, above the floor, after burn-in.

    The window ends at the first record that is non-finite or at most ``level``, where ``level``
    is the larger of ``floor * err[0]`` and, when the errors have *plateaued*, ``1e3`` times the
    plateau: the run is said to have plateaued when its smallest error is at least ``1e6`` below
    ``err[0]`` and is already reached (within a factor 10) before the last tenth of the finite
    records. A plateau is an error floor that is not relative to the start (``||x_k - x*||`` with
    an x* known to ~1e-13, round-off around x* != 0); cutting 1e3 above it keeps its effect on
    log e_k below 1e-3. A steadily decreasing run misdetected as plateaued only loses its last
    records, never gains a biased one. The window starts after ``burn_in`` of the usable records
    (default half: the asymptotic rate is what the tail shows).
    """
    return _window(err, floor, burn_in)[:2]


def _window(err: np.ndarray, floor: float, burn_in: float) -> tuple[int, int, float]:
    err = np.asarray(err, dtype=float)
    if err.ndim != 1:
        raise ValueError(f"err must be 1-D (one run); got shape {err.shape}")
    if not (0 <= burn_in < 1):
        raise ValueError(f"burn_in must be in [0, 1); got {burn_in}")
    if not floor >= 0:
        raise ValueError(f"floor must be >= 0; got {floor}")
    if err.size == 0 or not np.isfinite(err[0]) or err[0] <= 0:
        return (0, 0, float("nan"))
    bad = ~np.isfinite(err) | (err <= 0)
    n_fin = int(np.argmax(bad)) if bad.any() else err.size
    level = max(floor * err[0], 1e-290)
    fin = err[:n_fin]
    level = max(level, PLATEAU_MARGIN * _plateaued(fin))
    below = ~np.isfinite(err) | (err <= level)
    end = int(np.argmax(below)) if below.any() else err.size
    start = min(int(burn_in * end), max(end - MIN_POINTS, 0))  # short runs keep at least MIN_POINTS
    return (start, end, level / err[0])


def _plateaued(fin: np.ndarray) -> float:
    """The plateau of a run (its median error over the last tenth) when it has one, else 0.

    Plateaued: that median is at least 1e6 below the start, the last tenth stays within a factor
    10 of it (90th percentile; dips below do not count) and it was first reached (within 10x)
    before the last tenth."""
    n = fin.size
    last = fin[int(0.9 * n):]
    if n < 20 or last.size == 0:
        return 0.0
    med = float(np.median(last))
    flat = float(np.percentile(last, 90)) <= 10.0 * med
    early = int(np.argmax(fin <= 10.0 * med)) < 0.9 * n
    return med if (med < fin[0] / PLATEAU_DROP and flat and early) else 0.0


def _lstsq(k: np.ndarray, ll: np.ndarray, power: float | None) -> tuple[float, float, float, float]:
    """log e = a + p log k + k log rho by least squares; (log rho, p, a, RMS residual)."""
    if power is None:
        X = np.column_stack([np.ones_like(k), np.log(k), k])
        coef, *_ = np.linalg.lstsq(X, ll, rcond=None)
        a, p, s = coef
    else:
        y = ll - power * np.log(k)
        X = np.column_stack([np.ones_like(k), k])
        (a, s), *_ = np.linalg.lstsq(X, y, rcond=None)
        p = power
    resid = ll - (a + p * np.log(k) + s * k)
    return float(s), float(p), float(a), float(np.sqrt(np.mean(resid ** 2)))


MODELS = ("auto", "rho^k", "k^p rho^k")
POWER_GAIN = 0.7


def fit_rate(err: np.ndarray, k: np.ndarray | None = None, *, model: str = "auto", power: float | None = None,
             floor: float = 1e-12, burn_in: float = 0.5, window: tuple[int, int] | None = None) -> RateFit:
    """The asymptotic linear rate rho of a sequence of errors: *the* rate fit of polyak.

    Every rate that polyak measures goes through this function (``assert_rate``, ``measure_rate``,
    ``polyak run``'s ``fitted_rate``, the figures and the papers' claims).

    Models: ``"rho^k"`` fits log e_k = a + k log rho; ``"k^p rho^k"`` fits log e_k = a + p log k +
    k log rho with p fitted (or fixed by ``power``): the error of a linear iteration whose slowest
    eigenvalue has a Jordan block of size m is ~ k^(m-1) rho^k (heavy ball at its quadratic
    optimum, Nesterov at lambda = mu: double roots, p = 1), and fitting it with ``"rho^k"`` biases
    log rho upward by about p log(k2/k1)/(k2 - k1) over the window [k1, k2]. ``"auto"`` (default)
    fits p freely; when that fit lowers the RMS residual to at most 0.7 times the ``rho^k`` one,
    p is rounded to the nearest integer >= 0 (the Jordan multiplicity minus one: an integer
    asymptotically) and the rate refitted with it; otherwise (p adds nothing: a transient, or an
    oscillation that a free p only chases) the model is ``rho^k``. ``power`` fixes p (and the
    model).

    The window is :func:`usable_window` (the second half of the records above the floor, by
    default), or ``window`` as given. The result also carries the rate fitted on the last half of
    the window (``tail_rate``): when the run is long enough for the slowest mode to dominate the
    two agree, and their gap is a measure of how far from asymptotic the fit is.

    Returns a :class:`RateFit` (rate NaN with fewer than 3 points).

    >>> import numpy as np
    >>> k = np.arange(300); fit = fit_rate((2.0 + 5.0 * k) * 0.9 ** k, k)
    >>> fit.model, round(fit.rate, 4), round(fit.power, 2)
    ('k^p rho^k', 0.9, 1.0)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if power is not None:
        if not np.isfinite(power):
            raise ValueError(f"power must be a finite number; got {power!r}")
        if model == "rho^k" and power != 0:
            raise ValueError("power != 0 needs model 'k^p rho^k' (or 'auto')")
    err = np.asarray(err, dtype=float)
    k = np.arange(err.size, dtype=float) if k is None else np.asarray(k, dtype=float)
    if k.shape != err.shape:
        raise ValueError(f"k and err must have the same shape; got {k.shape} and {err.shape}")
    if window is None:
        start, end, lvl = _window(err, floor, burn_in)
    else:
        start, end = (int(window[0]), int(window[1]))
        lvl = float("nan")
    if model != "rho^k" or power:
        pos = np.flatnonzero(k >= 1)
        start = max(start, int(pos[0])) if pos.size else end
    nan = float("nan")
    if end - start < 3:
        return RateFit(nan, (start, end), nan, max(end - start, 0), floor=lvl)
    kk, ll = k[start:end], np.log(err[start:end])
    if not np.all(np.isfinite(ll)):
        raise ValueError("the window holds non-finite or non-positive errors")
    if power is not None:
        p_fix = float(power)
    elif model == "rho^k":
        p_fix = 0.0
    elif model == "k^p rho^k":
        p_fix = None
    else:
        p_fix = 0.0
        if end - start >= 4:
            _, p_hat, _, res_free = _lstsq(kk, ll, None)
            if res_free <= POWER_GAIN * _lstsq(kk, ll, 0.0)[3]:
                p_fix = float(max(0, round(p_hat)))
    s, p, a, res = _lstsq(kk, ll, p_fix)
    half = (end - start) // 2
    tail = nan
    if end - (start + half) >= 4:
        tail = float(np.exp(_lstsq(kk[half:], ll[half:], p_fix)[0]))
    name = "rho^k" if p_fix == 0.0 else "k^p rho^k"
    return RateFit(float(np.exp(s)), (start, end), res, end - start, a, name, p, lvl, tail)


def fit_linear_rate(err: np.ndarray, k: np.ndarray | None = None, *, floor: float = 1e-12,
                    burn_in: float = 0.5, window: tuple[int, int] | None = None, model: str = "auto") -> RateFit:
    """:func:`fit_rate` (kept under its old name; same defaults).

    >>> import numpy as np
    >>> k = np.arange(200); fit = fit_linear_rate(3.0 * 0.9 ** k, k)
    >>> round(fit.rate, 12), fit.residual < 1e-12, fit.model
    (0.9, True, 'rho^k')
    """
    return fit_rate(err, k, model=model, floor=floor, burn_in=burn_in, window=window)


def fit_sublinear_exponent(err: np.ndarray, k: np.ndarray, *, k_min: float = 10.0) -> RateFit:
    """Fit e_k ~ C k^(-p) on log-log axes over k >= k_min (finite, positive errors); rate = p."""
    err = np.asarray(err, dtype=float)
    k = np.asarray(k, dtype=float)
    mask = (k >= k_min) & np.isfinite(err) & (err > 0)
    idx = np.flatnonzero(mask)
    if idx.size < 3:
        return RateFit(float("nan"), (0, 0), float("nan"), int(idx.size))
    lk, ll = np.log(k[idx]), np.log(err[idx])
    slope, intercept = _line(lk, ll)
    resid = ll - (intercept + slope * lk)
    return RateFit(float(-slope), (int(idx[0]), int(idx[-1]) + 1), float(np.sqrt(np.mean(resid**2))),
                   int(idx.size), float(intercept))


@dataclass(frozen=True)
class SeedStats:
    """Statistics of one scalar measured over independent seeds.

    ``mean``, ``std`` (sample, ddof=1), ``sem`` (standard error std/sqrt(n)) and a two-sided
    Student-t confidence interval ``ci = (lo, hi)`` at ``level`` (mean +- t_{(1+level)/2, n-1} sem).
    With n = 1 the spread is unknown: std, sem and the half-width are NaN and ``ci`` is (-inf, inf)
    (nothing can be excluded from one sample).

    >>> s = seed_stats([1.0, 2.0, 3.0])
    >>> s.mean, round(s.sem, 6), round(s.half_width, 4)
    (2.0, 0.57735, 2.4841)
    """

    n: int
    mean: float
    std: float
    sem: float
    level: float
    half_width: float

    @property
    def ci(self) -> tuple[float, float]:
        if not np.isfinite(self.half_width):
            return (-np.inf, np.inf)
        return (self.mean - self.half_width, self.mean + self.half_width)

    def to_dict(self) -> dict:
        lo, hi = self.ci
        return {"n": self.n, "mean": self.mean, "std": self.std, "sem": self.sem, "level": self.level,
                "ci": [lo, hi]}


def seed_stats(values: np.ndarray, level: float = 0.95) -> SeedStats:
    """Mean, standard error and a t-based confidence interval of ``values`` (one per seed).

    Non-finite values are an error (a diverged run has no mean): ValueError names how many.
    """
    vals = np.asarray(values, dtype=float).reshape(-1)
    if vals.size == 0:
        raise ValueError("seed_stats needs at least one value")
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1); got {level}")
    bad = ~np.isfinite(vals)
    if bad.any():
        raise ValueError(f"seed_stats: {int(bad.sum())} of {vals.size} values are not finite (diverged runs?)")
    n = int(vals.size)
    mean = float(vals.mean())
    if n == 1:
        nan = float("nan")
        return SeedStats(1, mean, nan, nan, level, nan)
    std = float(vals.std(ddof=1))
    sem = std / np.sqrt(n)
    from scipy import stats

    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return SeedStats(n, mean, std, float(sem), level, float(t * sem))


def fit_linear_rate_transient(err: np.ndarray, k: np.ndarray | None = None, *, power: float = 1.0,
                              window: tuple[int, int] | None = None, floor: float = 1e-12,
                              burn_in: float = 0.5) -> RateFit:
    """:func:`fit_rate` with the power p of e_k ~ C k^p rho^k fixed (``power``; 0 is ``rho^k``).

    For a sequence whose Jordan structure is known (heavy ball at the quadratic optimum: double
    roots, ``power=1``); :func:`fit_rate`'s default fits p instead.
    """
    return fit_rate(err, k, model="k^p rho^k" if power else "rho^k", power=float(power), window=window,
                    floor=floor, burn_in=burn_in)
