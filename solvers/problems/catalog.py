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
        import numpy as np

        given = [f"{k}={v!r}" for k, v, unset in (("sigma", sigma, np.all(np.asarray(sigma, dtype=float) == 0)),
                                                   ("batch_size", batch_size, batch_size is None)) if not unset]
        if given:  # a noise level with no noise model would be ignored silently
            raise ValueError(f"{problem.name}: {', '.join(given)} needs a noise model: pass noise='additive', "
                             "'multiplicative' or 'minibatch' (or drop it)")
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


@register_problem("least-squares")
def least_squares(
    dim: int = 10,
    n: int = 100,
    mu: Any = None,
    L: Any = None,
    reg: Any = 0.0,
    y_noise: float = 0.1,
    instances: int = 1,
    seed: int = 0,
    noise: str | None = None,
    sigma: float = 0.0,
    batch_size: int | None = None,
):
    """Least squares 1/(2n)||Ax - y||^2 + reg/2 ||x||^2; see :class:`~polyak.solvers.problems.least_squares.LeastSquaresProblem`."""
    from .least_squares import LeastSquaresProblem

    p = LeastSquaresProblem(dim=dim, n=n, mu=mu, L=L, reg=reg, y_noise=y_noise, instances=instances, seed=seed)
    return _with_noise(p, noise, sigma, batch_size)


@register_problem("logistic")
def logistic(
    dim: int = 10,
    n: int = 200,
    mu: Any = 1e-2,
    label_flip: float = 0.05,
    instances: int = 1,
    seed: int = 0,
    noise: str | None = None,
    sigma: float = 0.0,
    batch_size: int | None = None,
):
    """l2-regularised logistic regression (mu = the l2 weight); see :class:`~polyak.solvers.problems.logistic.LogisticProblem`."""
    from .logistic import LogisticProblem

    p = LogisticProblem(dim=dim, n=n, mu=mu, label_flip=label_flip, instances=instances, seed=seed)
    return _with_noise(p, noise, sigma, batch_size)


@register_problem("lessard")
def lessard(
    dim: int = 1,
    mu: Any = 1.0,
    L: Any = 25.0,
    start: float = 3.3,
    seed: int = 0,
    noise: str | None = None,
    sigma: float = 0.0,
    batch_size: int | None = None,
):
    """Lessard-Recht-Packard piecewise quadratic (separable in dim > 1); see :class:`~polyak.solvers.problems.lessard.LessardProblem`."""
    from .lessard import LessardProblem

    p = LessardProblem(dim=dim, mu=mu, L=L, start=start, seed=seed)
    return _with_noise(p, noise, sigma, batch_size)


@register_problem("nonconvex")
def nonconvex(
    dim: int = 10,
    L: Any = 10.0,
    c: Any = 1.0,
    a_min: float = 0.2,
    shift: float = 2.0,
    instances: int = 1,
    seed: int = 0,
    noise: str | None = None,
    sigma: float = 0.0,
    batch_size: int | None = None,
):
    """Smooth non-convex sum of rotated a_i z_i^2/2 + c cos z_i; see :class:`~polyak.solvers.problems.nonconvex.NonconvexProblem`."""
    from .nonconvex import NonconvexProblem

    p = NonconvexProblem(dim=dim, L=L, c=c, a_min=a_min, shift=shift, instances=instances, seed=seed)
    return _with_noise(p, noise, sigma, batch_size)
