"""Registered problems: ``make_problem(name, **params)``.

Each factory takes the problem's own parameters plus the noise options ``noise`` (None,
"additive", "multiplicative", "minibatch"), ``sigma`` and ``batch_size``.
"""

from __future__ import annotations

from typing import Any

from ..registry import register_problem
from .quadratic import QuadraticProblem


def _with_noise(problem, noise, sigma, batch_size):
    if noise is None:
        return problem
    from .noise import add_noise

    return add_noise(problem, noise, sigma=sigma, batch_size=batch_size)


@register_problem("quadratic")
def quadratic(
    mu: Any = 1.0,
    L: Any = 100.0,
    dim: int = 50,
    spectrum: str = "linspace",
    eigenvalues: Any = None,
    basis: str = "eigen",
    instances: int = 1,
    x_star: str = "zero",
    seed: int = 0,
    mp_ratio: float = 0.5,
    noise: str | None = None,
    sigma: float = 0.0,
    batch_size: int | None = None,
):
    """Quadratic with spectrum in [mu, L]; see :class:`~polyak.solvers.problems.quadratic.QuadraticProblem`."""
    p = QuadraticProblem(mu=mu, L=L, dim=dim, spectrum=spectrum, eigenvalues=eigenvalues, basis=basis,
                         instances=instances, x_star=x_star, seed=seed, mp_ratio=mp_ratio)
    return _with_noise(p, noise, sigma, batch_size)
