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
    Every seed has its own stream. At each oracle call one (d,) vector (or (b,) index set) is drawn
    per seed and shared by every problem instance and hyperparameter setting that runs with that
    seed. So runs that share a seed see the same noise at the same step, a hyperparameter grid
    differs only through the hyperparameters, and a batched run equals the same runs done one
    by one (bit for bit: the draw of a seed does not depend on which other seeds run with it).

Streams (counter-based: one vectorised call per oracle call draws for every seed)
    The noise of seed ``s`` at step ``k``, oracle call ``c`` of that step (0 for methods that take
    one gradient per step) is a pure function of ``(s, k, c)``: Philox4x32-10 (Salmon et al.,
    "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the generator of cuRAND and of
    torch's CUDA generator) with key = ``SeedSequence([s, TAG]).generate_state(2, uint32)`` and
    counter ``(j, k, c, purpose)``, evaluated as integer array arithmetic on the run's backend and
    device, for all seeds and coordinates in one call (there is no Python loop over seeds). The
    32-bit words become 53-bit uniforms as numpy does (``(a >> 5) * 2**26 + (b >> 6)) / 2**53``,
    normals by Box-Muller (block ``j`` gives coordinates ``2j`` and ``2j + 1``), row indices as
    ``floor(u * n)``.

What is guaranteed across backends
    * the integer words and the uniforms are identical, bit for bit, on numpy, torch CPU and
      torch CUDA (integer arithmetic and exact conversions);
    * the normals go through ``log``, ``sqrt``, ``cos`` and ``sin``, whose last bit may differ
      between libraries and devices: numpy and torch agree to ~1e-15 relative (tested to 1e-13),
      so a noisy run on numpy and on torch follows the same path up to that rounding, amplified
      by the dynamics (tests compare trajectories to 1e-10 relative over short runs);
    * minibatch indices are identical bit for bit on every backend (the uniforms are exact and
      ``u * n`` is correctly rounded), except when ``u * n`` falls within rounding of an integer;
    * draws are made in float64 and cast to the run's dtype, so float32 and float64 runs see the
      same noise up to that cast.

    Streams are not those of ``numpy.random`` or ``torch.randn``: noise drawn before this scheme
    (one ``default_rng`` per seed) is not reproduced. Steps must stay below 2**32.

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

    def streams(self, seeds: Sequence[int], be: Backend) -> "NoiseStreams":
        """The Philox keys of ``seeds`` on the backend's device (one stream per seed)."""
        return NoiseStreams(seeds, be)

    def perturb(self, g: Any, xi: Any) -> Any:
        """The noisy gradient from the exact one ``g`` and standard normals ``xi`` (broadcast)."""
        if self.kind == "additive":
            return g + self.sigma * xi
        return g * (1.0 + self.sigma * xi)

    def grad(self, bound: BoundProblem, X: Any, streams: "NoiseStreams", shape: tuple[int, int, int, int], be: Backend,
             k: int = 0, call: int = 0) -> Any:
        """Noisy gradient at X of shape (P, H*S, d); ``shape`` is (P, H, S, d); step ``k``, call ``call``."""
        P, H, S, d = shape
        if self.kind == "minibatch":
            idx = streams.indices(k, call, self.n_samples, self.batch_size)
            return bound.grad_sample(X.reshape(P, H, S, d), idx).reshape(P, H * S, d)
        g = bound.grad(X).reshape(P, H, S, d)
        xi = streams.normal(k, call, d).reshape(1, 1, S, d)
        return self.perturb(g, xi).reshape(P, H * S, d)


# -- Philox4x32-10 on integer arrays (numpy int64 or torch int64) -------------------------------
_M32 = 0xFFFFFFFF
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)
_NORMAL, _INDEX = 0, 1  # the counter's fourth word: what the words are for


def philox4x32(ctr: Sequence[Any], key: Sequence[Any], rounds: int = 10) -> tuple[Any, Any, Any, Any]:
    """Philox4x32-R on arrays of 32-bit words held in int64 (numpy or torch; they broadcast).

    64-bit products wrap in int64 with the bits of the unsigned product, so the high word is
    ``(p >> 32) & 0xFFFFFFFF`` on both libraries. Checked against Random123's known-answer vectors.
    """
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(rounds):
        if r:
            k0 = (k0 + _PHILOX_W[0]) & _M32
            k1 = (k1 + _PHILOX_W[1]) & _M32
        p0 = c0 * _PHILOX_M[0]
        p1 = c2 * _PHILOX_M[1]
        c0, c1, c2, c3 = ((p1 >> 32) & _M32) ^ c1 ^ k0, p1 & _M32, ((p0 >> 32) & _M32) ^ c3 ^ k1, p0 & _M32
    return c0, c1, c2, c3


class NoiseStreams:
    """Counter-based streams, one per seed, on one backend: draws for every seed in one call."""

    def __init__(self, seeds: Sequence[int], be: Backend) -> None:
        self.seeds, self.be, self.S = tuple(int(s) for s in seeds), be, len(seeds)
        keys = np.stack([_seed_sequence(s).generate_state(2, np.uint32) for s in self.seeds]).astype(np.int64)
        self.k0, self.k1 = self._int(keys[:, :1]), self._int(keys[:, 1:])  # (S, 1) each

    def _int(self, a: np.ndarray) -> Any:
        be = self.be
        if be.name == "numpy":
            return np.asarray(a, dtype=np.int64)
        import torch

        return torch.as_tensor(np.asarray(a, dtype=np.int64), device=be.device)

    def _f64(self, a: Any) -> Any:
        if self.be.name == "numpy":
            return a.astype(np.float64)
        import torch

        return a.to(torch.float64)

    def _arange(self, n: int, start: int = 0) -> Any:
        if self.be.name == "numpy":
            return np.arange(start, start + n, dtype=np.int64)
        import torch

        return torch.arange(start, start + n, dtype=torch.int64, device=self.be.device)

    def words(self, k0: int, steps: int, call: int, blocks: int, purpose: int) -> tuple[Any, Any, Any, Any]:
        """The four (steps, S, blocks) words of Philox at counters (j, k, call, purpose) for
        k in [k0, k0 + steps) and j < blocks: one vectorised evaluation for every seed."""
        if not (0 <= k0 and k0 + steps <= 2**32):
            raise ValueError(f"step index k must be in [0, 2**32) for the noise streams; got {k0 + steps - 1}")
        j = self._arange(blocks)[None, None, :]
        ks = self._arange(steps, k0)[:, None, None]
        return philox4x32((j, ks, call & _M32, purpose), (self.k0[None], self.k1[None]))

    def uniforms(self, k0: int, steps: int, call: int, blocks: int, purpose: int) -> tuple[Any, Any]:
        """Two (steps, S, blocks) float64 uniforms on [0, 1) with 53 random bits each."""
        w0, w1, w2, w3 = self.words(k0, steps, call, blocks, purpose)
        scale = 2.0 ** -53
        u1 = self._f64((w0 >> 5) * 67108864 + (w1 >> 6)) * scale
        u2 = self._f64((w2 >> 5) * 67108864 + (w3 >> 6)) * scale
        return u1, u2

    def normals(self, k0: int, steps: int, call: int, d: int) -> Any:
        """(steps, S, d) standard normals for steps k0, k0 + 1, ... in the run's dtype (drawn in
        float64, Box-Muller)."""
        be = self.be
        blocks = (d + 1) // 2
        u1, u2 = self.uniforms(k0, steps, call, blocks, _NORMAL)
        lib = be.lib
        r = lib.sqrt(-2.0 * lib.log1p(-u1))  # log(1 - u1), 1 - u1 in (0, 1]
        t = (2.0 * math.pi) * u2
        z = lib.stack([r * lib.cos(t), r * lib.sin(t)], -1).reshape(steps, self.S, 2 * blocks)[..., :d]
        return z.astype(be.dtype) if be.name == "numpy" else z.to(be.native_dtype)

    def normal(self, k: int, call: int, d: int) -> Any:
        """(S, d) standard normals of step ``k``, oracle call ``call``."""
        return self.normals(k, 1, call, d)[0]

    def indices_steps(self, k0: int, steps: int, call: int, n: int, b: int) -> Any:
        """(steps, S, b) integer row indices, uniform on {0, ..., n-1} with replacement."""
        be = self.be
        blocks = (b + 1) // 2
        u1, u2 = self.uniforms(k0, steps, call, blocks, _INDEX)
        lib = be.lib
        u = lib.stack([u1, u2], -1).reshape(steps, self.S, 2 * blocks)[..., :b]
        idx = lib.floor(u * n)
        if be.name == "numpy":
            return idx.astype(np.int64)
        import torch

        return idx.to(torch.int64)

    def indices(self, k: int, call: int, n: int, b: int) -> Any:
        """(S, b) row indices of step ``k``, oracle call ``call``."""
        return self.indices_steps(k, 1, call, n, b)[0]


class NoiseDraws:
    """The draws of one run, computed ahead for several steps at once and served per (step, call).

    A draw is a pure function of (seed, step, call), so drawing steps k .. k + T - 1 in one
    vectorised call gives the same numbers as drawing them one by one; ``ahead`` bounds the
    memory (T * S * d elements).
    """

    def __init__(self, noise: NoiseModel, streams: NoiseStreams, d: int, steps: int, ahead: int = 1 << 16) -> None:
        self.noise, self.streams, self.d, self.steps = noise, streams, d, steps
        width = noise.batch_size if noise.kind == "minibatch" else d
        self.T = max(1, min(steps, ahead // max(1, streams.S * width)))
        self.cache: dict[int, tuple[int, Any]] = {}

    def get(self, k: int, call: int) -> Any:
        hit = self.cache.get(call)
        if hit is None or not hit[0] <= k < hit[0] + hit[1].shape[0]:
            T = max(1, min(self.T, self.steps - k))
            if self.noise.kind == "minibatch":
                arr = self.streams.indices_steps(k, T, call, self.noise.n_samples, self.noise.batch_size)
            else:
                arr = self.streams.normals(k, T, call, self.d)
            hit = self.cache[call] = (k, arr)
        return hit[1][k - hit[0]]


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

    def _f_from_grad(self, X: Any, G: Any, D: Mapping[str, Any], be: Backend) -> Any:
        return self.inner._f_from_grad(X, G, D, be)

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
