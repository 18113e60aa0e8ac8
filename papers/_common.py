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


def columns(a: np.ndarray) -> np.ndarray:
    """(R, ...) -> (R, n): one column per run."""
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1)
