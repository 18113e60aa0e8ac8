"""Schedules: hyperparameters that are functions of the step index k.

A schedule is composed with a method rather than baked into it (design.md): any method
hyperparameter marked schedulable accepts a :class:`Schedule` in place of a number, e.g.
``make_method("hb", alpha=0.1, beta=Schedule.sequence(betas))``. Before a run the engine
tabulates every schedule once over the horizon (numpy, float64), so a step only indexes a table.

Schedule parameters may be arrays; they broadcast with the other hyperparameters into the
hyperparameter grid.

Example
-------
>>> s = Schedule.sequence([0.5, 0.25, 0.125])
>>> s.table(4).tolist()            # held at its last value past the end
[0.5, 0.25, 0.125, 0.125]
>>> harmonic().table(3, offset=1).tolist()
[1.0, 0.5, 0.3333333333333333]
"""

from __future__ import annotations

from typing import Callable

import numpy as np


class Schedule:
    """A hyperparameter as a function of the step index ``k``.

    Args:
        fn: ``fn(k, **params) -> array``; ``k`` is an integer array of shape ``(T, 1, ..., 1)``
            (one trailing axis per dimension of the parameter grid) and ``params`` are numpy
            arrays broadcast to the grid; the result must broadcast to ``(T, *shape)``.
        name: a short description for reports (default: the function's ``__name__``, or
            ``"custom"`` for a lambda).
        params: schedule parameters (numbers or arrays), part of the hyperparameter grid.

    >>> s = Schedule(lambda k: 0.9 * (1 - k / 100))
    >>> s.name, float(s(50))
    ('custom', 0.45)
    """

    def __init__(self, fn: Callable[..., np.ndarray], name: str | None = None, **params: object) -> None:
        if not callable(fn):
            raise ValueError(f"Schedule needs a callable fn(k, **params); got {type(fn).__name__}")
        if name is None:
            name = getattr(fn, "__name__", "") or "custom"
            name = "custom" if name == "<lambda>" else name
        self.fn = fn
        self.name = name
        arrays = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        for key, val in arrays.items():
            if not np.all(np.isfinite(val)):
                raise ValueError(f"schedule {name}: parameter {key} must be finite; got {val}")
        self.params = arrays
        self.shape: tuple[int, ...] = np.broadcast_shapes(*(a.shape for a in arrays.values())) if arrays else ()

    def table(self, steps: int, offset: int = 0) -> np.ndarray:
        """Values at k = offset, ..., offset + steps - 1, shape ``(steps, *self.shape)``."""
        k = np.arange(offset, offset + steps).reshape((steps,) + (1,) * len(self.shape))
        params = {key: np.broadcast_to(v, self.shape) for key, v in self.params.items()}
        out = np.asarray(self.fn(k, **params), dtype=float)
        return np.broadcast_to(out, (steps,) + self.shape).copy()

    def __call__(self, k: int) -> np.ndarray:
        return self.table(1, offset=int(k))[0]

    def describe(self) -> dict:
        return {"schedule": self.name, **{k: v.tolist() for k, v in self.params.items()}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v.tolist()}" for k, v in self.params.items())
        return f"Schedule({self.name}{', ' if args else ''}{args})"

    # -- constructors --------------------------------------------------------------------
    @staticmethod
    def sequence(values: object) -> "Schedule":
        """An explicit sequence ``values[k]`` (axis 0 is k), held at its last value afterwards."""
        vals = np.asarray(values, dtype=float)
        if vals.ndim == 0 or vals.shape[0] == 0:
            raise ValueError("schedule sequence must be a non-empty array with k on axis 0")
        if not np.all(np.isfinite(vals)):
            raise ValueError("schedule sequence must be finite (no NaN or inf)")

        def fn(k: np.ndarray) -> np.ndarray:
            idx = np.minimum(k.reshape(-1), vals.shape[0] - 1)
            return vals[idx]

        s = Schedule(fn, "sequence")
        s.shape = vals.shape[1:]
        return s

    @staticmethod
    def constant(value: object) -> "Schedule":
        return Schedule(lambda k, value: value + 0 * k, "constant", value=value)


def harmonic(scale: object = 1.0) -> Schedule:
    """``c_k = scale / k`` for k >= 1 (and ``scale`` at k = 0): SPA's primal-averaging weights.

    With the SPA convention that step k uses ``c_{k+1}``, ``harmonic()`` gives
    ``c_{k+1} = 1/(k+1)``, which is primal averaging (papers.md, Defazio 2020).
    """
    return Schedule(lambda k, scale: scale / np.maximum(k, 1), "harmonic", scale=scale)


def nesterov_convex(kind: str = "fista") -> Schedule:
    """Nesterov's momentum for (non-strongly) convex functions, as a function of k.

    ``"fista"``: FISTA exactly (Beck-Teboulle 2009, eq. (4.1)-(4.3) without the prox): t_0 = 1,
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2 and beta_k = (t_{k-1} - 1)/t_k for k >= 1 (beta_0 = 0,
    which never acts). In Beck-Teboulle's 1-based indexing y_{k+1} = x_k + ((t_k - 1)/t_{k+1})
    (x_k - x_{k-1}) with t_1 = 1; polyak's step k forms y from x_k and x_{k-1}, so its beta_k is
    their (t_k - 1)/t_{k+1} with t shifted by one: beta_1 = 0, beta_2 = (t_1 - 1)/t_2 = 0.2818
    ``"k/(k+3)"``: beta_k = k/(k+3) (a common closed form). Both give f(x_k) - f* = O(1/k^2) with
    alpha = 1/L; Beck-Teboulle's Thm 4.4 constant 2 L ||x_0 - x*||^2/(k+1)^2 is proved for
    ``"fista"`` (checked against PEPit's FISTA worst case in tests/solvers/test_fista_schedule.py).

    >>> nesterov_convex().table(4).round(6).tolist()
    [0.0, 0.0, 0.281754, 0.434043]
    """
    if kind == "fista":

        def fn(k: np.ndarray) -> np.ndarray:
            n = int(k.max()) + 2
            t = np.empty(n)
            t[0] = 1.0
            for i in range(1, n):
                t[i] = (1.0 + np.sqrt(1.0 + 4.0 * t[i - 1] ** 2)) / 2.0
            kk = k.reshape(-1)
            prev = t[np.maximum(kk - 1, 0)]
            return np.where(kk >= 1, (prev - 1.0) / t[kk], 0.0)

        return Schedule(fn, "nesterov-fista")
    if kind == "k/(k+3)":
        return Schedule(lambda k: k / (k + 3.0), "nesterov-k/(k+3)")
    raise ValueError(f"kind must be 'fista' or 'k/(k+3)'; got {kind!r}")
