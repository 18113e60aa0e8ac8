"""Shared pieces for the theory tests: a derandomized hypothesis profile and admissible samplers."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "polyak-theory", derandomize=True, max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def draw_values(data: st.DataObject, symbols: list) -> dict[str, float]:
    """Draw an admissible value for each sympy symbol, respecting the derivations' domains.

    Dependent draws (L from mu, alpha from L, t from T, gd from gg and dd) keep every domain
    relation of every derivation satisfied: 0 < mu <= L, alpha L < 1, 0 <= t <= T, gd^2 < gg dd.
    """
    names = {s.name: s for s in symbols}
    out: dict[str, float] = {}
    u = lambda lo, hi: data.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))  # noqa: E731
    if "mu" in names or "L" in names:
        out["mu"] = u(0.01, 10.0)
        out["L"] = out["mu"] * 10 ** u(0.0, 4.0)
    if "T" in names or "t" in names:
        out["T"] = u(1.0, 1000.0)
        out["t"] = out["T"] * u(0.0, 1.0)
    if {"gg", "gd", "dd"} & set(names):
        out["gg"], out["dd"] = u(0.1, 10.0), u(0.1, 10.0)
        out["gd"] = u(-0.95, 0.95) * math.sqrt(out["gg"] * out["dd"])
    special = {
        "alpha": lambda: u(0.01, 0.99) / out["L"] if "L" in out else u(0.01, 2.0),
        "beta": lambda: u(0.0, 0.99),
        "beta_init": lambda: u(0.01, 0.99),
        "beta_k": lambda: u(0.0, 0.99),
        "c": lambda: u(0.01, 1.0),
        "c_k": lambda: u(0.01, 1.0),
        "c_k1": lambda: u(0.01, 1.0),
        "lam": lambda: u(0.0, 1.0) if not names["lam"].is_positive else u(0.01, 100.0),
        "r": lambda: u(0.01, 0.99),
    }
    for name, sym in names.items():
        if name in out:
            continue
        if name in special:
            out[name] = special[name]()
        elif sym.is_integer:
            out[name] = float(data.draw(st.integers(1 if sym.is_positive else 0, 200)))
        elif sym.is_positive:
            out[name] = u(0.05, 3.0)
        elif sym.is_nonnegative:
            out[name] = u(0.0, 3.0)
        else:
            out[name] = u(-3.0, 3.0)
    return {k: v for k, v in out.items() if k in names}


def close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return bool(abs(a - b) <= rtol * max(1.0, abs(a), abs(b)))


__all__ = ["draw_values", "close", "np"]
