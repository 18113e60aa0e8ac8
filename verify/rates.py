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
    ``model`` (``"rho^k"``, ``"k^p rho^k"`` or ``"(a+bk) rho^k"``), ``power`` (p: 0 for
    ``"rho^k"``, 1 for ``"(a+bk) rho^k"``), ``floor`` (the error level where the window was cut: the
    relative floor, or a detected plateau), ``tail_rate`` (the same model fitted on the last half of
    the window: a fit that has reached the asymptotic regime gives the same rate there; their gap is
    reported by :meth:`describe`) and, for ``"(a+bk) rho^k"``, ``coef`` = (a, b, c) of
    e_k = rho^(k - k1) sqrt((a + b (k - k1))^2 + c^2), k1 the first k of the window.
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
    coef: tuple[float, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.rate) and self.points >= 3)

    def describe(self) -> str:
        """One line: model, rate, window, residual, floor and the tail check (for messages)."""
        model = self.model if self.model != "k^p rho^k" else f"k^p rho^k with p = {self.power:.3g}"
        if self.model == DOUBLE and len(self.coef) == 3:
            a, b, c = self.coef
            model = f"(a+bk) rho^k (double root; a = {a:.3g}, b = {b:.3g}, c = {c:.3g})"
        tail = ""
        if np.isfinite(self.tail_rate) and np.isfinite(self.rate):
            tail = f", last-half rate {self.tail_rate:.8g} ({self.tail_rate / self.rate - 1:+.2g})"
        return (f"model {model}, rate {self.rate:.8g}, window {self.window[0]}..{self.window[1]} "
                f"({self.points} points), RMS log residual {self.residual:.3g}, floor {self.floor:.3g}{tail}")

    def to_dict(self) -> dict:
        return {"rate": self.rate, "model": self.model, "power": self.power, "window": list(self.window),
                "points": self.points, "residual": self.residual, "intercept": self.intercept,
                "floor": self.floor, "tail_rate": self.tail_rate, "coef": list(self.coef)}


PLATEAU_DROP = 1e6
MIN_POINTS = 4
PLATEAU_MARGIN = 1e3


def usable_window(err: np.ndarray, floor: float = 1e-12, burn_in: float = 0.5) -> tuple[int, int]:
    """Indices [start, end) of the records to fit: finite, positive, above the floor, after burn-in.

    The window ends at the first record that is non-finite or at most ``level``, where ``level``
    is the larger of ``floor * err[0]`` and, when the errors have *plateaued*, ``1e3`` times the
    plateau: the run is said to have plateaued when the median of its last tenth is at least
    ``1e6`` below ``err[0]``, was first reached (within a factor 10) before the last tenth, and the
    last tenth is flat: its least-squares slope of log e_k is at most a tenth of the run's
    average slope (a run that still decays steadily is not flat, however little its error falls
    within the last tenth). A plateau is an error floor that is not relative to the start
    (``||x_k - x*||`` with an x* known to ~1e-13, round-off around x* != 0); cutting 1e3 above it
    keeps its effect on log e_k below 1e-3. A steadily decreasing run misdetected as plateaued
    only loses its last records, never gains a biased one. ``floor=0`` fits down to ~1e-290 (an
    x* = 0, where rounding is relative to x_k and there is no floor: :func:`~polyak.verify.measure_rate`
    passes it then). The window starts after ``burn_in`` of the usable records (default half: the
    asymptotic rate is what the tail shows).
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
    fin = err[:n_fin]
    level = max(floor * err[0], 1e-290)
    level = max(level, PLATEAU_MARGIN * _plateaued(fin))
    below = ~np.isfinite(err) | (err <= level)
    end = int(np.argmax(below)) if below.any() else err.size
    start = min(int(burn_in * end), max(end - MIN_POINTS, 0))  # short runs keep at least MIN_POINTS
    return (start, end, level / err[0])


def _plateaued(fin: np.ndarray) -> float:
    """The plateau of a run (its median error over the last tenth) when it has one, else 0.

    Plateaued: that median is at least 1e6 below the start, it was first reached (within 10x)
    before the last tenth, and the last tenth is flat (its least-squares slope of log e is at
    most a tenth of the average slope from the start to that median)."""
    n = fin.size
    i0 = int(0.9 * n)
    last = fin[i0:]
    if n < 20 or last.size < 2:
        return 0.0
    med = float(np.median(last))
    if not med < fin[0] / PLATEAU_DROP:
        return 0.0
    slope, _ = _line(np.arange(last.size, dtype=float), np.log(last))
    average = (np.log(fin[0]) - np.log(med)) / (i0 + last.size / 2)
    flat = -slope <= 0.1 * average
    early = int(np.argmax(fin <= 10.0 * med)) < i0
    return med if (flat and early) else 0.0


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


DOUBLE = "(a+bk) rho^k"
MODELS = ("auto", "rho^k", "k^p rho^k", DOUBLE)
POWER_GAIN = 0.7
#: auto picks ``"(a+bk) rho^k"`` (when log e_k is concave over the window) if its factor
#: sqrt((a + b K)^2 + c^2) grows over the window at least DOUBLE_GROWTH times as much (in log) as a
#: Jordan block's, (k2 + 1)/(k1 + 1), ...
DOUBLE_GROWTH = 0.6
#: ... that growth is at least this many standard errors of a trend in log e over the window
#: (RMS residual x sqrt(12 / n_eff), n_eff = points / (1 + 2 x the residuals' autocorrelations summed
#: to the first non-positive one)): an oscillation large or slow against the window does not count ...
DOUBLE_SIGNIFICANCE = 5.0
#: ... and it lowers the RMS residual to at most this fraction of the ``rho^k`` one (complex roots of
#: one modulus oscillate slowly: a factor that follows the oscillation explains next to nothing)
DOUBLE_GAIN = 0.9
#: fewest records for which auto fits the four-parameter double-root model (else ``k^p rho^k``, p = 1)
DOUBLE_MIN_POINTS = 6


@dataclass(frozen=True)
class _Double:
    s: float  # log rho
    coef: tuple[float, float, float]  # (a, b, c) of e_k = rho^(k - k1) sqrt((a + b (k - k1))^2 + c^2)
    intercept: float  # log C, the model's e_{k1} = C rho^{k1}
    residual: float  # RMS in natural-log units
    growth: float  # log of the factor sqrt((a + b K)^2 + c^2) at the end of the window over the start
    n_eff: float  # effective number of independent residuals (:func:`_effective_points`)


def _double(k: np.ndarray, ll: np.ndarray, s_starts: tuple[float, ...]) -> _Double:
    """Fit log e_k = s (k - k1) + log sqrt((a + b (k - k1))^2 + c^2) (scipy's Levenberg-Marquardt).

    The norm of (a + b K) u + c v for orthogonal unit u, v, times rho^K: a double root (a Jordan
    block, (a + b K) rho^K) plus a part of the same modulus orthogonal to it (heavy ball at its
    optimum has double roots at mu and L, the latter of sign (-1)^K, and complex roots of modulus
    rho between; their norms add in squares). Starts: the first of ``s_starts`` with a factor
    growing like k (b = a / k1), the others with one growing by half over the window; the lowest
    cost wins (on the seeded grid of the tests, more starts change no choice of model).
    """
    from scipy.optimize import leastsq  # ~0.4 s to import: only when a double root is fitted

    K = k - k[0]
    y = ll - ll[0]  # normalised: e_{k1} = 1, coefficients of order 1

    def res(t):
        s, a, b, c = t
        return s * K + 0.5 * np.log((a + b * K) ** 2 + c ** 2) - y

    def jac(t):
        s, a, b, c = t
        u = a + b * K
        q = u ** 2 + c ** 2
        return np.column_stack([K, u / q, u * K / q, c / q])

    span = max(float(K[-1]), 1.0)
    starts = [(s_starts[0], 1.0, 1.0 / max(float(k[0]), 1.0), 0.1)]  # grows like k
    starts += [(s, 1.0, 0.5 / span, 0.1) for s in s_starts[1:]]  # grows by half over the window
    best = None
    for x0 in starts:
        # MINPACK's lmder with its automatic scaling, the call least_squares(method="lm",
        # x_scale="jac") makes with its default tolerances, without the wrappers that cost ~2/3 of
        # the time of a fit of this size
        with np.errstate(all="ignore"):
            x = leastsq(res, np.asarray(x0, dtype=float), Dfun=jac, full_output=True, ftol=1e-8, xtol=1e-8,
                        gtol=1e-8, maxfev=400)[0]
            fun = res(x)
        cost = 0.5 * float(fun @ fun)
        if np.all(np.isfinite(x)) and np.isfinite(cost) and (best is None or cost < best[1]):
            best = (x, cost, fun)
    nan = float("nan")
    if best is None:
        return _Double(nan, (nan, nan, nan), nan, nan, nan, nan)
    s, a, b, c = (float(v) for v in best[0])
    if b < 0:  # (a, b) and (-a, -b) are the same model
        a, b = -a, -b
    q0, q1 = a * a + c * c, (a + b * K[-1]) ** 2 + c * c
    scale = float(np.exp(ll[0]))
    n_eff = _effective_points(best[2])
    return _Double(s, (a * scale, b * scale, abs(c) * scale), float(ll[0] + 0.5 * np.log(q0) - s * k[0]),
                   float(np.sqrt(np.mean(best[2] ** 2))), float(0.5 * np.log(q1 / q0)), n_eff)


def _effective_points(r: np.ndarray) -> float:
    """n / (1 + 2 sum_j rho_j), at most n: rho_j the residuals' autocorrelation at lag j, summed up to
    the first lag where it is <= 0 (the initial positive sequence). A slow oscillation (period P)
    counts as ~2 pi n / P points, white noise as n, a smooth misfit as ~1."""
    r = np.asarray(r, dtype=float) - np.mean(r)
    n = r.size
    ss = float(r @ r)
    if n < 3 or ss == 0:
        return float(n)
    acf = np.correlate(r, r, mode="full")[n:] / ss  # lags 1 .. n-1
    neg = np.flatnonzero(acf <= 0)
    tau = 1.0 + 2.0 * float(np.sum(acf[:neg[0] if neg.size else acf.size]))
    return float(min(n, max(n / tau, 1.0)))


def _double_fit(k: np.ndarray, ll: np.ndarray) -> _Double:
    """:func:`_double` started from the ``k rho^k`` and the ``rho^k`` rates (what ``fit_rate`` uses)."""
    return _double(k, ll, (_lstsq(k, ll, 1.0)[0], _lstsq(k, ll, 0.0)[0]))


def _is_double(d: _Double, k: np.ndarray, res0: float) -> bool:
    """Whether the data show a double root: the fitted factor grows like a Jordan block's,
    significantly against the scatter, and the model explains part of the ``rho^k`` residual
    ``res0``."""
    jordan = np.log((k[-1] + 1.0) / (k[0] + 1.0))
    scatter = d.residual * np.sqrt(12.0 / d.n_eff)
    return bool(np.isfinite(d.s) and d.growth >= DOUBLE_GROWTH * jordan and d.growth >= DOUBLE_SIGNIFICANCE * scatter
                and d.residual <= DOUBLE_GAIN * res0)


def fit_rate(err: np.ndarray, k: np.ndarray | None = None, *, model: str = "auto", power: float | None = None,
             floor: float = 1e-12, burn_in: float = 0.5, window: tuple[int, int] | None = None) -> RateFit:
    """The asymptotic linear rate rho of a sequence of errors: *the* rate fit of polyak.

    Every rate that polyak measures goes through this function (``assert_rate``, ``measure_rate``,
    ``polyak run``'s ``fitted_rate``, the figures and the papers' claims).

    Models (all fitted on log e_k, so the residual is in natural-log units):

    * ``"rho^k"``: log e_k = a + k log rho (linear least squares).
    * ``"k^p rho^k"``: log e_k = a + p log k + k log rho with p fitted (or fixed by ``power``).
    * ``"(a+bk) rho^k"``: e_k = rho^(k - k1) sqrt((a + b (k - k1))^2 + c^2), k1 the first k of the
      window, by nonlinear least squares (``scipy.optimize.least_squares``): the error of a linear
      iteration whose slowest eigenvalue is a double root (a Jordan block of size 2: heavy ball at
      its quadratic optimum, Nesterov's standard tuning at lambda = mu), plus an orthogonal part of
      the same modulus (heavy ball's double root at L and its complex roots between). ``k rho^k``
      alone leaves the constant a out: its rate is biased by about (a/b) / k^2 per step, and
      ``rho^k`` by about log(k2/k1)/(k2 - k1) over the window [k1, k2].

    ``"auto"`` (default) fits ``"(a+bk) rho^k"`` when log e_k is concave over the window (the
    ``rho^k`` rate of its last half is below that of the whole window: a double root's k makes it
    so, a transient of a faster mode makes it convex) and takes it when the data show a double
    root: its factor sqrt((a + b K)^2 + c^2) grows over the window at least 0.6 times as much (in
    log) as a Jordan block's, (k2 + 1)/(k1 + 1); that growth is at least 5 standard errors of a
    trend against the residual scatter (an oscillation large or slow against the window does not
    count); and the model lowers the RMS residual to at most 0.9 times the ``rho^k`` one (complex
    roots of one modulus, heavy ball above beta*, oscillate slowly: a factor that follows the
    oscillation explains next to nothing). Otherwise the model is ``rho^k``. When a free p lowers
    the RMS residual to at most 0.7 times the ``rho^k`` one and rounds to 2 or more (a larger
    Jordan block), the model is ``k^p rho^k`` with that p; with fewer than 6 records (too few for
    four parameters) it is ``k^p rho^k`` with p = 1 when p rounds to 1. ``power`` fixes p (and
    the model ``k^p rho^k``). The thresholds were chosen on the seeded grid of the tests and the
    heavy-ball (alpha, beta) plane of ``figures/hb_region.py``.

    The window is :func:`usable_window` (the second half of the records above the floor, by
    default), or ``window`` as given. The result also carries the rate fitted on the last half of
    the window (``tail_rate``): when the run is long enough for the slowest mode to dominate the
    two agree, and their gap is a measure of how far from asymptotic the fit is.

    Returns a :class:`RateFit` (rate NaN with fewer than 3 points, 4 for ``"(a+bk) rho^k"``).

    >>> import numpy as np
    >>> k = np.arange(300); fit = fit_rate((2.0 + 5.0 * k) * 0.9 ** k, k)
    >>> fit.model, round(fit.rate, 10), fit.power
    ('(a+bk) rho^k', 0.9, 1.0)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if power is not None:
        if not np.isfinite(power):
            raise ValueError(f"power must be a finite number; got {power!r}")
        if model == "rho^k" and power != 0:
            raise ValueError("power != 0 needs model 'k^p rho^k' (or 'auto')")
        if model == DOUBLE:
            raise ValueError(f"power fixes p of 'k^p rho^k'; the model {DOUBLE!r} has p = 1")
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
    n = end - start
    if n < 3 or (model == DOUBLE and n < 4):
        return RateFit(nan, (start, end), nan, max(n, 0), floor=lvl)
    kk, ll = k[start:end], np.log(err[start:end])
    if not np.all(np.isfinite(ll)):
        raise ValueError("the window holds non-finite or non-positive errors")
    half = n // 2
    use_double = model == DOUBLE
    if power is not None:
        p_fix = float(power)
    elif model == "rho^k":
        p_fix = 0.0
    elif model in ("k^p rho^k", DOUBLE):
        p_fix = None
    else:
        p_fix = 0.0
        if n >= 4:
            s0, _, _, res0 = _lstsq(kk, ll, 0.0)
            _, p_hat, _, res_free = _lstsq(kk, ll, None)
            p_round = float(max(0, round(p_hat))) if res_free <= POWER_GAIN * res0 else 0.0
            if p_round >= 2.0 or n < DOUBLE_MIN_POINTS:
                p_fix = p_round  # a larger Jordan block; or too few records for four parameters
            elif _lstsq(kk[half:], ll[half:], 0.0)[0] < s0:  # log e concave, as a double root makes it
                dbl = _double_fit(kk, ll)
                use_double = _is_double(dbl, kk, res0)
    if use_double:
        dbl = dbl if model == "auto" else _double_fit(kk, ll)
        tail = nan
        if n - half >= DOUBLE_MIN_POINTS:
            tail = float(np.exp(_double(kk[half:], ll[half:], (dbl.s,)).s))
        return RateFit(float(np.exp(dbl.s)), (start, end), dbl.residual, n, dbl.intercept, DOUBLE, 1.0, lvl, tail,
                       dbl.coef)
    s, p, a, res = _lstsq(kk, ll, p_fix)
    tail = nan
    if n - half >= 4:
        tail = float(np.exp(_lstsq(kk[half:], ll[half:], p_fix)[0]))
    name = "rho^k" if p_fix == 0.0 else "k^p rho^k"
    return RateFit(float(np.exp(s)), (start, end), res, n, a, name, p, lvl, tail)


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
