"""The Problem noun: a batched gradient oracle with what theory needs to know.

A :class:`Problem` holds ``P`` problem instances of dimension ``d`` (a batch: several kappas, or
several random draws), its data in numpy float64, and the constants theory uses:

* ``mu``, ``L``: arrays of shape ``(P,)``; ``mu`` may be None (non-convex) or 0 (convex);
* ``x_star`` ``(P, d)`` and ``f_star`` ``(P,)`` where known (None otherwise);
* ``x0`` ``(P, d)``: the default start.

Oracles take ``X`` of shape ``(P, N, d)`` (N runs per instance) and return gradients of the same
shape and values of shape ``(P, N)``. :meth:`Problem.bind` moves the data to a backend once.
Subclasses implement ``_arrays()`` (data to move) and ``_grad`` / ``_f`` on the bound data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..backend import Backend


class Problem:
    """Base class; see the module docstring."""

    name: str = ""
    #: True when ``_grad_sample`` exists: the problem is a finite sum of ``n_samples`` terms.
    finite_sum: bool = False

    def __init__(
        self,
        *,
        dim: int,
        mu: np.ndarray | None,
        L: np.ndarray,
        x_star: np.ndarray | None,
        f_star: np.ndarray | None,
        x0: np.ndarray,
        params: Mapping[str, Any],
    ) -> None:
        self.dim = int(dim)
        self.L = np.asarray(L, dtype=float)
        self.batch = int(self.L.shape[0])
        self.mu = None if mu is None else np.asarray(mu, dtype=float)
        self.x_star = None if x_star is None else np.asarray(x_star, dtype=float)
        self.f_star = None if f_star is None else np.asarray(f_star, dtype=float)
        self.x0 = np.asarray(x0, dtype=float)
        self.params = dict(params)
        if self.x0.shape != (self.batch, self.dim):
            raise ValueError(f"{self.name}: x0 must have shape ({self.batch}, {self.dim}); got {self.x0.shape}")

    # -- to be provided by subclasses -------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        raise NotImplementedError

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        raise NotImplementedError

    def _f_from_grad(self, X: Any, G: Any, D: Mapping[str, Any], be: Backend) -> Any:
        """f(X) when the exact gradient ``G`` at X is known (the engine's records reuse the step's
        gradient); override where it saves work (quadratics: f = 1/2 <X - x*, G> + f*)."""
        return self._f(X, D, be)

    # -- public --------------------------------------------------------------------------
    @property
    def kappa(self) -> np.ndarray | None:
        if self.mu is None or np.any(self.mu <= 0):
            return None
        return self.L / self.mu

    def bind(self, be: Backend) -> "BoundProblem":
        D = {k: be.asarray(v) for k, v in self._arrays().items()}
        xs = None if self.x_star is None else be.asarray(self.x_star[:, None, :])
        fs = None if self.f_star is None else be.asarray(self.f_star[:, None])
        return BoundProblem(self, be, D, xs, fs)

    def grad(self, X: np.ndarray) -> np.ndarray:
        """Gradient on numpy input of shape (P, N, d) or (P, d)."""
        return self._numpy_call(self._grad, X)

    def f(self, X: np.ndarray) -> np.ndarray:
        """Value on numpy input of shape (P, N, d) or (P, d)."""
        return self._numpy_call(self._f, X)

    def _numpy_call(self, fn: Any, X: np.ndarray) -> np.ndarray:
        from ..backend import get_backend

        be = get_backend("numpy")
        X = np.asarray(X, dtype=float)
        squeeze = X.ndim == 2
        if squeeze:
            X = X[:, None, :]
        if X.ndim != 3 or X.shape[0] != self.batch or X.shape[2] != self.dim:
            raise ValueError(
                f"{self.name}: X must have shape ({self.batch}, N, {self.dim}) or ({self.batch}, {self.dim}); got {X.shape}"
            )
        D = {k: np.asarray(v) for k, v in self._arrays().items()}
        out = fn(X, D, be)
        return out[:, 0] if squeeze else out

    def describe(self) -> dict:
        out = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.params.items()}
        out.update(dim=self.dim, batch=self.batch)
        return out

    def __repr__(self) -> str:
        return f"Problem({self.name}, batch={self.batch}, dim={self.dim}, params={self.params})"


@dataclass
class BoundProblem:
    """A problem whose data lives on one backend; oracles take (P, N, d) arrays."""

    problem: Problem
    be: Backend
    data: Mapping[str, Any]
    x_star: Any  # (P, 1, d) or None
    f_star: Any  # (P, 1) or None

    def grad(self, X: Any) -> Any:
        return self.problem._grad(X, self.data, self.be)

    def f(self, X: Any) -> Any:
        return self.problem._f(X, self.data, self.be)

    def grad_sample(self, X4: Any, idx: Any) -> Any:
        """Minibatch gradient: X4 (P, H, S, d), idx (S, b) integer rows; returns (P, H, S, d)."""
        return self.problem._grad_sample(X4, self.data, self.be, idx)


def as_batch(value: Any, name: str) -> np.ndarray:
    """A problem parameter as a flat float array (numbers become length-1 arrays)."""
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D list of numbers; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf); got {arr.tolist()}")
    return arr


def check_mu_L(mu: np.ndarray, L: np.ndarray, *, allow_zero_mu: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast mu and L and check 0 < mu <= L (or 0 <= mu with allow_zero_mu)."""
    try:
        mu, L = np.broadcast_arrays(mu, L)
    except ValueError:
        raise ValueError(f"mu and L must broadcast together; got lengths {mu.size} and {L.size}") from None
    if np.any(L <= 0):
        raise ValueError(f"L (smoothness) must be > 0; got {L[L <= 0][0]:g}")
    if np.any(mu < 0) or (not allow_zero_mu and np.any(mu <= 0)):
        rng = "[0, L]" if allow_zero_mu else "(0, L]"
        raise ValueError(f"mu (strong convexity) must be in {rng}; got {mu[(mu <= 0)][0]:g}")
    if np.any(mu > L):
        i = int(np.argmax(mu > L))
        raise ValueError(f"mu (strong convexity) must be in (0, L]: mu <= L is required; got mu={mu[i]:g} > L={L[i]:g}")
    return mu.astype(float).copy(), L.astype(float).copy()


def check_dim(dim: Any, name: str = "dim") -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer, float)) or float(dim) != int(dim) or int(dim) < 1:
        raise ValueError(f"{name} must be a positive integer; got {dim!r}")
    return int(dim)


def default_x0(rng: np.random.Generator, batch: int, dim: int, x_star: np.ndarray | None, radius: float = 1.0) -> np.ndarray:
    """A random start at distance ``radius`` from x* (or from 0): same direction for every instance."""
    u = rng.standard_normal(dim)
    u *= radius / np.linalg.norm(u)
    base = np.zeros((batch, dim)) if x_star is None else x_star
    return base + u[None, :]
