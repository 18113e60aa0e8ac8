"""Least squares f(x) = 1/(2n) ||A x - y||^2 + (reg/2) ||x||^2 on synthetic data.

Problem and assumptions
    A is n x d, y = A x_true + y_noise * e with x_true ~ N(0, I/d) and e ~ N(0, I_n). The Hessian
    is the constant matrix H = A^T A / n + reg I, so f is a quadratic: mu and L are the extreme
    eigenvalues of H (mu = 0 when H is singular, e.g. n < d and reg = 0: then f is convex but not
    strongly convex and x* is the minimum-norm minimiser).

Data
    By default A has i.i.d. N(0, 1) entries (the spectrum of A^T A / n is then Marchenko-Pastur
    like, with mu and L computed). With ``mu`` and ``L`` given, A = sqrt(n) U diag(sqrt(lam)) V^T
    with U (n x d, orthonormal columns) and V (Haar) random and lam = linspace(mu - reg, L - reg, d):
    the Hessian spectrum is then exactly linspace(mu, L) (needs n >= d and reg <= mu).

Constants
    mu, L from ``numpy.linalg.eigvalsh(H)`` (or the requested values); x* from ``lstsq`` on the
    stacked system [A; sqrt(n reg) I] x = [y; 0] (backward stable); f* = f(x*) in residual form.

Finite sum
    f = (1/n) sum_i f_i with f_i(x) = (a_i^T x - y_i)^2 / 2 + (reg/2) ||x||^2; ``_grad_sample``
    averages grad f_i over the sampled rows, an unbiased estimate of grad f under uniform sampling.

Example
-------
>>> p = LeastSquaresProblem(dim=5, n=50, mu=0.5, L=[10.0, 20.0])
>>> p.batch, p.kappa.tolist()
(2, [20.0, 40.0])
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from .base import Problem, as_batch, check_dim, check_mu_L, default_x0
from .quadratic import haar_orthogonal


class LeastSquaresProblem(Problem):
    """Batched synthetic least squares; see the module docstring.

    Args:
        dim: dimension d (default 10).
        n: number of samples (rows of A; default 100).
        mu, L: optional target Hessian spectrum [mu, L] (give both or neither; numbers or 1-D
            lists, broadcast with ``reg``); None: Gaussian A and computed constants.
        reg: l2 regularisation weight >= 0 (number or list; default 0).
        y_noise: standard deviation of the target noise (default 0.1; 0 makes f* = reg part only).
        instances: random draws per parameter setting (default 1); batch = settings x instances.
        seed: seed of the data (A, x_true, y, x0; default 0).
    """

    name = "least-squares"
    finite_sum = True

    def __init__(
        self,
        dim: int = 10,
        n: int = 100,
        mu: Any = None,
        L: Any = None,
        reg: Any = 0.0,
        y_noise: float = 0.1,
        instances: int = 1,
        seed: int = 0,
    ) -> None:
        dim = check_dim(dim)
        n = check_dim(n, "n")
        instances = check_dim(instances, "instances")
        y_noise = float(y_noise)
        if not np.isfinite(y_noise) or y_noise < 0:
            raise ValueError(f"y_noise (target noise standard deviation) must be finite and >= 0; got {y_noise}")
        reg_arr = as_batch(reg, "reg")
        if np.any(reg_arr < 0):
            raise ValueError(f"reg (l2 regularisation) must be >= 0; got {reg_arr[reg_arr < 0][0]:g}")
        if (mu is None) != (L is None):
            raise ValueError("mu and L (target Hessian spectrum) must be given together, or neither")
        rng = np.random.default_rng(seed)
        if mu is not None:
            mu_arr, L_arr = check_mu_L(as_batch(mu, "mu"), as_batch(L, "L"), allow_zero_mu=True)
            try:
                mu_arr, L_arr, reg_arr = np.broadcast_arrays(mu_arr, L_arr, reg_arr)
            except ValueError:
                raise ValueError("mu, L and reg must broadcast together") from None
            if np.any(mu_arr < reg_arr):
                raise ValueError("mu must be >= reg: the Hessian A^T A/n + reg I has no eigenvalue below reg")
            if n < dim:
                raise ValueError(f"n must be >= dim when mu and L are given (A needs rank d); got n={n}, dim={dim}")
            if dim == 1 and np.any(mu_arr != L_arr):
                raise ValueError("dim must be >= 2 when mu < L (a 1-D quadratic has one eigenvalue)")
            mu_rep, L_rep = np.repeat(mu_arr, instances), np.repeat(L_arr, instances)
        reg_rep = np.repeat(reg_arr, instances)
        P = reg_rep.size

        As, ys, xs, mus, Ls = [], [], [], [], []
        for p in range(P):
            if mu is None:
                A = rng.standard_normal((n, dim))
            else:
                lam = np.linspace(mu_rep[p], L_rep[p], dim) - reg_rep[p] if dim > 1 else np.array([L_rep[p] - reg_rep[p]])
                U, _ = np.linalg.qr(rng.standard_normal((n, dim)))
                V = haar_orthogonal(rng, dim)
                A = np.sqrt(n) * (U * np.sqrt(np.maximum(lam, 0.0))) @ V.T
            x_true = rng.standard_normal(dim) / np.sqrt(dim)
            y = A @ x_true + y_noise * rng.standard_normal(n)
            H = A.T @ A / n + reg_rep[p] * np.eye(dim)
            eig = np.linalg.eigvalsh(H)
            if mu is None:
                mus.append(max(eig[0], 0.0) if (reg_rep[p] > 0 or n >= dim) else 0.0)
                Ls.append(eig[-1])
            else:
                mus.append(mu_rep[p])
                Ls.append(L_rep[p])
            if reg_rep[p] > 0:
                Aug = np.vstack([A, np.sqrt(n * reg_rep[p]) * np.eye(dim)])
                x_star = np.linalg.lstsq(Aug, np.concatenate([y, np.zeros(dim)]), rcond=None)[0]
            else:
                x_star = np.linalg.lstsq(A, y, rcond=None)[0]
            As.append(A)
            ys.append(y)
            xs.append(x_star)
        self.A = np.stack(As)  # (P, n, d)
        self.y = np.stack(ys)  # (P, n)
        self.reg = reg_rep
        self.n_samples = n
        x_star = np.stack(xs)
        r = np.einsum("pnd,pd->pn", self.A, x_star) - self.y
        f_star = 0.5 * np.sum(r * r, axis=1) / n + 0.5 * reg_rep * np.sum(x_star * x_star, axis=1)
        super().__init__(
            dim=dim,
            mu=np.asarray(mus),
            L=np.asarray(Ls),
            x_star=x_star,
            f_star=f_star,
            x0=default_x0(rng, P, dim, x_star),
            params=dict(dim=dim, n=n, mu=mu, L=L, reg=reg, y_noise=y_noise, instances=instances, seed=seed),
        )

    @property
    def hessian(self) -> np.ndarray:
        """Dense Hessians A^T A / n + reg I, shape (P, d, d)."""
        return np.einsum("pni,pnj->pij", self.A, self.A) / self.n_samples + self.reg[:, None, None] * np.eye(self.dim)

    def _arrays(self) -> dict[str, np.ndarray]:
        n = self.n_samples
        return {
            "A": self.A,  # (P, n, d)
            "At": np.ascontiguousarray(self.A.transpose(0, 2, 1)),  # (P, d, n)
            "Y": self.y[:, :, None],  # (P, n, 1): rows for sampling
            "yrow": self.y[:, None, :],  # (P, 1, n)
            "H": self.hessian,  # (P, d, d), symmetric
            "b": (np.einsum("pnd,pn->pd", self.A, self.y) / n)[:, None, :],  # (P, 1, d)
            "reg": self.reg[:, None, None],  # (P, 1, 1)
        }

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        return X @ D["H"] - D["b"]

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        R = X @ D["At"] - D["yrow"]
        return 0.5 * be.vdot(R, R) / self.n_samples + 0.5 * D["reg"][..., 0] * be.vdot(X, X)

    def _grad_sample(self, X4: Any, D: Mapping[str, Any], be: Backend, idx: Any) -> Any:
        Ab = be.take_rows(D["A"], idx)  # (P, S, b, d)
        yb = be.take_rows(D["Y"], idx)[..., 0]  # (P, S, b)
        b = Ab.shape[-2]
        r = be.einsum("phsd,psbd->phsb", X4, Ab) - yb[:, None]
        return be.einsum("phsb,psbd->phsd", r, Ab) / b + D["reg"][..., None] * X4
