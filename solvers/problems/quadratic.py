"""Quadratics f(x) = 1/2 (x - x*)^T A (x - x*) + f* with a chosen spectrum in [mu, L].

Problem and assumptions
    A symmetric with eigenvalues in [mu, L], mu > 0; the extreme eigenvalues are exactly mu and
    L, so kappa = L/mu is exact. f* = 0.

Spectra
    ``"linspace"`` evenly spaced (deterministic); ``"uniform"`` and ``"loguniform"`` random in
    [mu, L]; ``"mp"`` Marchenko-Pastur (eigenvalues of G^T G / n, G Gaussian n x d, n = d/ratio,
    mapped affinely so that the extremes are mu and L); or explicit ``eigenvalues``.

Basis
    ``"eigen"`` (A diagonal: a step costs O(B d)) or ``"random"`` (A = Q diag(lambda) Q^T with Q
    Haar-random orthogonal: a step costs a matrix product).

Example
-------
>>> p = QuadraticProblem(mu=1.0, L=[10.0, 100.0], dim=20)
>>> p.batch, p.kappa.tolist()
(2, [10.0, 100.0])
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from .base import Problem, as_batch, check_dim, check_mu_L, default_x0

SPECTRA = ("linspace", "uniform", "loguniform", "mp")
BASES = ("eigen", "random")


def make_spectrum(kind: str, mu: float, L: float, dim: int, rng: np.random.Generator, mp_ratio: float = 0.5) -> np.ndarray:
    """Eigenvalues in [mu, L] with mu and L included exactly, sorted ascending."""
    if dim == 1:
        return np.array([L])
    if kind == "linspace":
        return np.linspace(mu, L, dim)
    if kind == "uniform":
        inner = rng.uniform(mu, L, dim - 2)
    elif kind == "loguniform":
        inner = np.exp(rng.uniform(np.log(mu), np.log(L), dim - 2))
    elif kind == "mp":
        if not 0 < mp_ratio < 1:
            raise ValueError(f"mp_ratio (d/n of the Marchenko-Pastur spectrum) must be in (0, 1); got {mp_ratio}")
        n = int(np.ceil(dim / mp_ratio))
        G = rng.standard_normal((n, dim))
        w = np.linalg.eigvalsh(G.T @ G / n)
        return np.sort(mu + (L - mu) * (w - w[0]) / (w[-1] - w[0]))
    else:
        raise ValueError(f"spectrum must be one of {', '.join(SPECTRA)}; got {kind!r}")
    return np.sort(np.concatenate([[mu], inner, [L]]))


def haar_orthogonal(rng: np.random.Generator, dim: int) -> np.ndarray:
    from scipy.stats import ortho_group

    return ortho_group.rvs(dim, random_state=rng) if dim > 1 else np.ones((1, 1))


class QuadraticProblem(Problem):
    """Batched quadratics; see the module docstring.

    Args:
        mu, L: numbers or 1-D arrays (broadcast together): one instance family per pair.
        dim: dimension d.
        spectrum: "linspace" (default), "uniform", "loguniform", "mp".
        eigenvalues: explicit eigenvalues (overrides spectrum, mu and L are then their extremes).
        basis: "eigen" (default) or "random".
        instances: random draws per (mu, L) pair (default 1); batch = pairs x instances.
        x_star: "zero" (default) or "random" (N(0, 1/d) coordinates).
        seed: seed of the problem data (spectrum, basis, x*, x0); default 0.
        mp_ratio: d/n for the Marchenko-Pastur spectrum (default 0.5).
    """

    name = "quadratic"

    def __init__(
        self,
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
    ) -> None:
        dim = check_dim(dim)
        instances = check_dim(instances, "instances")
        if basis not in BASES:
            raise ValueError(f"basis must be one of {', '.join(BASES)}; got {basis!r}")
        if x_star not in ("zero", "random"):
            raise ValueError(f"x_star must be 'zero' or 'random'; got {x_star!r}")
        rng = np.random.default_rng(seed)
        if eigenvalues is not None:
            eig = np.atleast_2d(np.asarray(eigenvalues, dtype=float))
            if eig.shape[-1] != dim and dim == 50:  # dim left at its default: take it from the data
                dim = eig.shape[-1]
            if eig.shape[-1] != dim:
                raise ValueError(f"eigenvalues must have dim={dim} entries per instance; got {eig.shape[-1]}")
            if not np.all(np.isfinite(eig)) or np.any(eig <= 0):
                raise ValueError("eigenvalues must be finite and > 0")
            spectra = np.repeat(np.sort(eig, axis=-1), instances, axis=0)
            mus, Ls = spectra[:, 0], spectra[:, -1]
        else:
            if spectrum not in SPECTRA:
                raise ValueError(f"spectrum must be one of {', '.join(SPECTRA)}; got {spectrum!r}")
            mu_arr, L_arr = check_mu_L(as_batch(mu, "mu"), as_batch(L, "L"))
            if dim == 1 and np.any(mu_arr != L_arr):
                raise ValueError("dim must be >= 2 when mu < L (a 1-D quadratic has one eigenvalue)")
            mus = np.repeat(mu_arr, instances)
            Ls = np.repeat(L_arr, instances)
            spectra = np.stack([make_spectrum(spectrum, m, l, dim, rng, mp_ratio) for m, l in zip(mus, Ls)])
        P = spectra.shape[0]
        xs = rng.standard_normal((P, dim)) / np.sqrt(dim) if x_star == "random" else np.zeros((P, dim))
        self.eigenvalues = spectra
        self.basis = basis
        self.Q = np.stack([haar_orthogonal(rng, dim) for _ in range(P)]) if basis == "random" else None
        self._zero_star = x_star == "zero"
        super().__init__(
            dim=dim,
            mu=mus,
            L=Ls,
            x_star=xs,
            f_star=np.zeros(P),
            x0=default_x0(rng, P, dim, xs),
            params=dict(mu=mu, L=L, spectrum=spectrum if eigenvalues is None else "explicit", basis=basis,
                        instances=instances, x_star=x_star, seed=seed),
        )

    @property
    def hessian(self) -> np.ndarray:
        """Dense Hessians, shape (P, d, d)."""
        if self.Q is None:
            return np.stack([np.diag(e) for e in self.eigenvalues])
        if getattr(self, "_hessian", None) is None:
            A = (self.Q * self.eigenvalues[:, None, :]) @ np.swapaxes(self.Q, 1, 2)
            self._hessian = 0.5 * (A + np.swapaxes(A, 1, 2))  # exactly symmetric
        return self._hessian

    def _arrays(self) -> dict[str, np.ndarray]:
        out = {"xs": self.x_star[:, None, :]}
        if self.Q is None:
            out["lam"] = self.eigenvalues[:, None, :]
        else:
            out["A"] = self.hessian
        return out

    def _shift(self, X: Any, D: Mapping[str, Any]) -> Any:
        return X if self._zero_star else X - D["xs"]

    @staticmethod
    def _apply(E: Any, D: Mapping[str, Any]) -> Any:
        if "lam" in D:
            return D["lam"] * E
        A = D["A"]
        if A.shape[0] == 1:  # one Hessian shared by the batch: a single 2-D matrix product
            return (E.reshape(-1, E.shape[-1]) @ A[0]).reshape(E.shape)
        return E @ A

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        return self._apply(self._shift(X, D), D)

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        E = self._shift(X, D)
        return 0.5 * be.vdot(E, self._apply(E, D))

    def _f_from_grad(self, X: Any, G: Any, D: Mapping[str, Any], be: Backend) -> Any:
        # G = A (X - x*): the same numbers as _f, without the second product with A
        return 0.5 * be.vdot(self._shift(X, D), G)
