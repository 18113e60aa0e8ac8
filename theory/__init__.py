"""polyak.theory: symbolic derivations of momentum-method results (sympy only).

Each result is a :class:`~polyak.theory.derivation.Derivation`: the sympy expressions, the symbols
with their assumptions, the steps that produced it, LaTeX, numeric functions (numpy or torch) and
its provenance. ``get(name)`` builds one on first use; ``names()`` lists them. The plain helpers
below (``hb_optimal`` and friends) are lambdified from the derived expressions and accept arrays.

Everything is imported lazily, so ``import polyak.theory`` does not import sympy.

Example:
    >>> import polyak.theory as th
    >>> "hb-quadratic-optimal" in th.names()
    True
    >>> alpha, rho = th.gd_optimal(1.0, 3.0)
    >>> float(alpha), float(rho)
    (0.5, 0.5)
"""

from __future__ import annotations

_LAZY = {
    "Derivation": "derivation",
    "Step": "derivation",
    "get": "derivation",
    "names": "derivation",
    "build_all": "derivation",
    "hb_spectral_radius": "heavy_ball",
    "hb_rate": "heavy_ball",
    "hb_best_beta": "heavy_ball",
    "hb_optimal": "heavy_ball",
    "hb_ema_optimal": "heavy_ball",
    "hb_alpha_max": "heavy_ball",
    "gd_optimal": "gradient_descent",
    "gd_rate": "gradient_descent",
    "nesterov_standard": "nesterov",
    "nesterov_quadratic_optimal": "nesterov",
    "nesterov_spectral_radius": "nesterov",
    "spa_to_hb": "spa",
    "hb_to_spa": "spa",
    "spa_backward_step": "spa",
    "demon_beta_closed_form": "demon",
    "adaptive_hb_beta": "adaptive_hb",
    "am_beta": "adaptive_memory",
    "spa_lyapunov": "lyapunov_spa",
    "gfj_beta": "gfj",
    "linear_system": "linear_system",
    "iteration_matrix": "linear_system",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
