"""Noise models that wrap any problem: the gradient oracle a method sees becomes stochastic.

Kinds (g = grad f(x), xi ~ N(0, I_d) drawn afresh at every oracle call)
    ``"additive"``: g + sigma xi. Unbiased, covariance sigma^2 I, E||noise||^2 = sigma^2 d.
    ``"multiplicative"`` (relative): g * (1 + sigma xi) elementwise. Unbiased, coordinate j has
        variance sigma^2 g_j^2, so E||noise||^2 = sigma^2 ||g||^2: the noise vanishes at x*
        (the "strong growth" regime).
    ``"minibatch"``: for a finite sum f = (1/n) sum_i f_i, the average of grad f_i over
        ``batch_size`` indices drawn uniformly with replacement. Unbiased, covariance
        (1/b) [(1/n) sum_i grad f_i grad f_i^T - g g^T].

Common random numbers
    Every seed has its own stream; at each oracle call one (d,) vector (or (b,) index set) is drawn
    per seed and shared by every problem instance and hyperparameter setting that runs with that
    seed. So runs that share a seed see the same noise at the same step, a hyperparameter grid
    differs only through the hyperparameters, and a batched run equals the same runs done one
    by one. The loop over seeds is the only Python loop.

Streams
    numpy: ``default_rng(SeedSequence([seed, TAG]))``; torch: a ``torch.Generator`` on the
    run's device seeded from the same SeedSequence. numpy and torch draw different numbers, so
    noisy runs agree across backends in distribution, not number by number. Draws are made in
    float64 and cast to the run's dtype, so float32 and float64 runs see the same noise.

Example
-------
>>> from polyak.solvers import make_method, make_problem, simulate
>>> p = make_problem("quadratic", mu=1, L=10, dim=3, noise="additive", sigma=0.1)
>>> p.noise.kind, p.noise.sigma
('additive', 0.1)
>>> t = simulate(make_method("gd", alpha=0.1), p, 5, seeds=2)
>>> t.dist.shape
(6, 1, 2)
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..backend import Backend
from .base import BoundProblem, Problem

KINDS = ("additive", "multiplicative", "minibatch")
#: Mixed into every seed so that noise streams differ from other uses of the same seed.
TAG = 0x6E6F697365  # "noise"


def _seed_sequence(seed: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), TAG])


class NoiseModel:
    """A stochastic gradient oracle; see the module docstring.

    Attributes:
        kind: "additive", "multiplicative" or "minibatch".
        sigma: noise level (additive, multiplicative); 0 for minibatch.
        batch_size: minibatch size b (minibatch only; None otherwise).
    """

    def __init__(self, kind: str, sigma: float = 0.0, batch_size: int | None = None, n_samples: int | None = None):
        self.kind, self.sigma, self.batch_size, self.n_samples = kind, sigma, batch_size, n_samples

    def __repr__(self) -> str:
        extra = f"batch_size={self.batch_size}" if self.kind == "minibatch" else f"sigma={self.sigma:g}"
        return f"NoiseModel({self.kind}, {extra})"

    def streams(self, seeds: Sequence[int], be: Backend) -> list:
        """One generator per seed, on the backend's device."""
        if be.name == "numpy":
            return [np.random.default_rng(_seed_sequence(s)) for s in seeds]
        import torch

        out = []
        for s in seeds:
            state = int(_seed_sequence(s).generate_state(1, np.uint64)[0])
            out.append(torch.Generator(device=be.device).manual_seed(state))
        return out

    # -- drawing: one draw per seed, stacked along the seed axis -----------------------------
    def _normal(self, streams: list, d: int, be: Backend) -> Any:
        """(S, d) standard normal draws in the run's dtype."""
        if be.name == "numpy":
            return be.asarray(np.stack([r.standard_normal(d) for r in streams]))
        import torch

        xs = [torch.randn(d, generator=g, device=be.device, dtype=torch.float64) for g in streams]
        return torch.stack(xs).to(be.native_dtype)

    def _indices(self, streams: list, n: int, b: int, be: Backend) -> Any:
        """(S, b) integer row indices, uniform on {0, ..., n-1} with replacement."""
        if be.name == "numpy":
            return np.stack([r.integers(0, n, size=b) for r in streams])
        import torch

        return torch.stack([torch.randint(0, n, (b,), generator=g, device=be.device) for g in streams])

    def grad(self, bound: BoundProblem, X: Any, streams: list, shape: tuple[int, int, int, int], be: Backend) -> Any:
        """Noisy gradient at X of shape (P, H*S, d); ``shape`` is (P, H, S, d)."""
        P, H, S, d = shape
        if self.kind == "minibatch":
            idx = self._indices(streams, self.n_samples, self.batch_size, be)
            return bound.grad_sample(X.reshape(P, H, S, d), idx).reshape(P, H * S, d)
        g = bound.grad(X).reshape(P, H, S, d)
        xi = self._normal(streams, d, be).reshape(1, 1, S, d)
        if self.kind == "additive":
            out = g + self.sigma * xi
        else:
            out = g * (1.0 + self.sigma * xi)
        return out.reshape(P, H * S, d)


class NoisyProblem(Problem):
    """A problem whose oracle is wrapped by a :class:`NoiseModel`.

    Same constants (mu, L, x*, f*), data, default start and exact ``grad`` / ``f`` as the wrapped
    problem (``inner``); ``simulate`` finds ``noise`` and hands it the gradient calls of the method.
    Other attributes (``hessian``, ``eigenvalues``, ``A`` ...) are those of ``inner``.
    """

    def __init__(self, inner: Problem, noise: NoiseModel) -> None:
        self.inner = inner
        self.noise = noise
        self.name = inner.name
        self.finite_sum = inner.finite_sum
        params = dict(inner.params, noise=noise.kind)
        if noise.kind == "minibatch":
            params["batch_size"] = noise.batch_size
        else:
            params["sigma"] = noise.sigma
        super().__init__(dim=inner.dim, mu=inner.mu, L=inner.L, x_star=inner.x_star, f_star=inner.f_star,
                         x0=inner.x0, params=params)

    def __getattr__(self, attr: str) -> Any:
        # only called when normal lookup fails: forward problem-specific attributes to the inner problem
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def _arrays(self) -> dict[str, np.ndarray]:
        return self.inner._arrays()

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        return self.inner._grad(X, D, be)

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        return self.inner._f(X, D, be)

    def _grad_sample(self, X4: Any, D: Mapping[str, Any], be: Backend, idx: Any) -> Any:
        return self.inner._grad_sample(X4, D, be, idx)


def add_noise(problem: Problem, kind: str, *, sigma: float = 0.0, batch_size: int | None = None) -> NoisyProblem:
    """Wrap ``problem`` with a noise model.

    Args:
        problem: any Problem (for "minibatch": a finite sum, ``problem.finite_sum`` true).
        kind: "additive", "multiplicative" or "minibatch".
        sigma: noise level >= 0 (additive: standard deviation per coordinate; multiplicative:
            relative standard deviation). Not used by "minibatch" (must stay 0).
        batch_size: minibatch size, an integer in [1, n] ("minibatch" only).

    Raises:
        ValueError: unknown kind, sigma negative or not finite, batch_size missing or outside
            [1, n], minibatch on a problem that is not a finite sum, an option the kind does not
            use, or a problem that already has noise.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem from make_problem(); got {type(problem).__name__}")
    if isinstance(problem, NoisyProblem):
        raise ValueError(f"problem {problem.name!r} already has noise ({problem.noise.kind}); wrap the plain problem")
    if kind not in KINDS:
        raise ValueError(f"noise must be one of {', '.join(KINDS)}; got {kind!r}")
    try:
        sigma_f = float(sigma)
    except (TypeError, ValueError):
        raise ValueError(f"sigma (noise level) must be a finite number >= 0; got {sigma!r}") from None
    if not math.isfinite(sigma_f) or sigma_f < 0:
        raise ValueError(f"sigma (noise level) must be a finite number >= 0; got {sigma!r}")
    if kind == "minibatch":
        if not problem.finite_sum:
            raise ValueError(
                f"noise='minibatch' needs a finite-sum problem (least-squares, logistic); {problem.name!r} is not one"
            )
        n = int(problem.n_samples)
        if sigma_f != 0:
            raise ValueError(f"sigma (noise level) is not used by noise='minibatch'; got sigma={sigma!r}")
        if (
            batch_size is None
            or isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer, float))
            or float(batch_size) != int(batch_size)
            or not 1 <= int(batch_size) <= n
        ):
            raise ValueError(f"batch_size (minibatch size) must be an integer in [1, {n}]; got {batch_size!r}")
        return NoisyProblem(problem, NoiseModel("minibatch", 0.0, int(batch_size), n))
    if batch_size is not None:
        raise ValueError(f"batch_size (minibatch size) is only used by noise='minibatch'; got batch_size={batch_size!r} with noise={kind!r}")
    return NoisyProblem(problem, NoiseModel(kind, sigma_f))
