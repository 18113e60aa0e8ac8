"""Rates from trajectories: log-linear and log-log fits over a window above the floating-point floor.

A linear rate rho is fitted by least squares of log e_k against k over a window that starts
after a burn-in (a fifth of the usable records, to skip the transient) and ends before the error
reaches the floor (``floor`` times the initial error, default 1e-12, or a non-finite value).
The window and the RMS residual of the fit (in natural-log units) are reported with the rate, so
a reader can judge the fit. Sublinear exponents are fitted on log e_k against log k.

>>> import numpy as np
>>> k = np.arange(200); fit = fit_linear_rate(3.0 * 0.9 ** k, k)
>>> round(fit.rate, 12), fit.residual < 1e-12
(0.9, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class RateFit:
    """A fitted rate: ``rate`` (rho, or the exponent p of e_k ~ C k^-p), the window of record
    indices [start, end) used, the RMS log residual, and the number of points."""

    rate: float
    window: tuple[int, int]
    residual: float
    points: int
    intercept: float = float("nan")

    @property
    def ok(self) -> bool:
        return np.isfinite(self.rate) and self.points >= 3


def usable_window(err: np.ndarray, floor: float = 1e-12, burn_in: float = 0.2) -> tuple[int, int]:
    """Indices [start, end) of records that are finite, positive and above ``floor * err[0]``."""
    err = np.asarray(err, dtype=float)
    if err.ndim != 1:
        raise ValueError(f"err must be 1-D (one run); got shape {err.shape}")
    if not (0 <= burn_in < 1):
        raise ValueError(f"burn_in must be in [0, 1); got {burn_in}")
    if err.size == 0 or not np.isfinite(err[0]) or err[0] <= 0:
        return (0, 0)
    level = max(floor * err[0], 1e-290)
    below = ~np.isfinite(err) | (err <= level)
    end = int(np.argmax(below)) if below.any() else err.size
    start = int(burn_in * end)
    return (start, end)


def fit_linear_rate(err: np.ndarray, k: np.ndarray | None = None, *, floor: float = 1e-12,
                    burn_in: float = 0.2, window: tuple[int, int] | None = None) -> RateFit:
    """Fit e_k ~ C rho^k; returns a :class:`RateFit` (rate = rho; NaN when under 3 points)."""
    err = np.asarray(err, dtype=float)
    k = np.arange(err.size) if k is None else np.asarray(k, dtype=float)
    if k.shape != err.shape:
        raise ValueError(f"k and err must have the same shape; got {k.shape} and {err.shape}")
    start, end = usable_window(err, floor, burn_in) if window is None else window
    if end - start < 3:
        return RateFit(float("nan"), (start, end), float("nan"), max(end - start, 0))
    kk, ll = k[start:end], np.log(err[start:end])
    res = stats.linregress(kk, ll)
    resid = ll - (res.intercept + res.slope * kk)
    return RateFit(float(np.exp(res.slope)), (start, end), float(np.sqrt(np.mean(resid**2))), end - start,
                   float(res.intercept))


def fit_sublinear_exponent(err: np.ndarray, k: np.ndarray, *, k_min: float = 10.0) -> RateFit:
    """Fit e_k ~ C k^(-p) on log-log axes over k >= k_min (finite, positive errors); rate = p."""
    err = np.asarray(err, dtype=float)
    k = np.asarray(k, dtype=float)
    mask = (k >= k_min) & np.isfinite(err) & (err > 0)
    idx = np.flatnonzero(mask)
    if idx.size < 3:
        return RateFit(float("nan"), (0, 0), float("nan"), int(idx.size))
    lk, ll = np.log(k[idx]), np.log(err[idx])
    res = stats.linregress(lk, ll)
    resid = ll - (res.intercept + res.slope * lk)
    return RateFit(float(-res.slope), (int(idx[0]), int(idx[-1]) + 1), float(np.sqrt(np.mean(resid**2))),
                   int(idx.size), float(res.intercept))


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
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return SeedStats(n, mean, std, float(sem), level, float(t * sem))


def fit_linear_rate_transient(err: np.ndarray, k: np.ndarray | None = None, *, power: float = 1.0,
                              window: tuple[int, int] | None = None, floor: float = 1e-12,
                              burn_in: float = 0.2) -> RateFit:
    """Fit e_k ~ C k^power rho^k (a Jordan-block transient: ``power`` = multiplicity - 1).

    Least squares of log e_k - power log k against k over the window (k >= 1 only). With
    ``power=0`` this is :func:`fit_linear_rate`. Used for heavy ball at the quadratic optimum,
    whose double roots give errors ~ k rho^k (papers.md, Classics): the plain fit over [k1, k2]
    would be biased upward by about power * log(k2/k1)/(k2 - k1) in log rho.
    """
    err = np.asarray(err, dtype=float)
    k = np.arange(err.size) if k is None else np.asarray(k, dtype=float)
    if k.shape != err.shape:
        raise ValueError(f"k and err must have the same shape; got {k.shape} and {err.shape}")
    start, end = usable_window(err, floor, burn_in) if window is None else window
    start = max(start, int(np.argmax(k >= 1)) if np.any(k >= 1) else end)
    if end - start < 3:
        return RateFit(float("nan"), (start, end), float("nan"), max(end - start, 0))
    kk = k[start:end]
    ll = np.log(err[start:end]) - power * np.log(kk)
    res = stats.linregress(kk, ll)
    resid = ll - (res.intercept + res.slope * kk)
    return RateFit(float(np.exp(res.slope)), (start, end), float(np.sqrt(np.mean(resid**2))), end - start,
                   float(res.intercept))
