"""l2-regularised logistic regression on synthetic data.

Problem and assumptions
    f(x) = (1/n) sum_i log(1 + exp(-y_i a_i^T x)) + (mu/2) ||x||^2 with labels y_i in {-1, +1}.
    The l2 weight is called ``mu`` because it is the strong-convexity constant.

Data
    a_i ~ N(0, I_d); y_i = sign(a_i^T w) for a hidden w ~ N(0, I_d), each label flipped with
    probability ``label_flip`` (so the data are nearly, not exactly, separable and x* stays
    moderate even for small mu).

Constants
    The Hessian is (1/n) A^T diag(s_i (1 - s_i)) A + mu I with s_i = sigmoid(y_i a_i^T x), and
    0 < s (1 - s) <= 1/4, so mu is the strong-convexity constant and
    L = mu + lambda_max(A^T A) / (4 n) (attained at x = 0, where every s_i = 1/2).
    x* by scipy's ``trust-exact`` (Newton trust region with the exact Hessian), then plain Newton
    steps until the gradient stops decreasing (round-off: ||grad f(x*)|| ~ 1e-17, so x* is exact
    to ~eps ||x*|| and rate fits on ||x_k - x*|| can go down to ~1e-15); a RuntimeError unless
    ||grad f(x*)|| <= 1e-12. Since f is mu-strongly convex, f(x*) - min f <= ||grad f(x*)||^2 / (2 mu),
    far below 1e-10. f* = f(x*).

Finite sum
    f = (1/n) sum_i f_i, f_i(x) = log(1 + exp(-y_i a_i^T x)) + (mu/2) ||x||^2; ``_grad_sample``
    averages grad f_i over the sampled rows (unbiased under uniform sampling).

Numerics
    Values use logaddexp(0, -m) and gradients sigmoid(-m): no overflow for large margins m.

Example
-------
>>> p = LogisticProblem(dim=5, n=100, mu=[1e-2, 1e-1])
>>> p.batch, bool(p.mu[0] == 1e-2), bool(p.L[0] > p.mu[0])
(2, True, True)
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from .base import Problem, as_batch, check_dim, default_x0

GTOL = 1e-12


def _np_parts(x: np.ndarray, A: np.ndarray, y: np.ndarray, lam: float):
    """Value, gradient, Hessian in plain numpy (for the reference solve only)."""
    from scipy.special import expit

    n = A.shape[0]
    m = y * (A @ x)
    f = np.mean(np.logaddexp(0.0, -m)) + 0.5 * lam * x @ x
    s = expit(-m)
    g = -(A.T @ (y * s)) / n + lam * x
    w = s * (1.0 - s)
    H = (A.T * w) @ A / n + lam * np.eye(A.shape[1])
    return f, g, H


def solve_logistic(A: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The minimiser to round-off (at least ||grad|| <= 1e-12): scipy trust-exact, then Newton polishing."""
    from scipy.optimize import minimize

    d = A.shape[1]
    res = minimize(
        lambda x: _np_parts(x, A, y, lam)[0],
        np.zeros(d),
        jac=lambda x: _np_parts(x, A, y, lam)[1],
        hess=lambda x: _np_parts(x, A, y, lam)[2],
        method="trust-exact",
        options={"gtol": 1e-13, "maxiter": 500},
    )
    x = res.x
    _, g, H = _np_parts(x, A, y, lam)
    gnorm = np.linalg.norm(g)
    for _ in range(30):  # Newton until the gradient stops decreasing (round-off), not just below GTOL
        x_new = x - np.linalg.solve(H, g)
        _, g_new, H_new = _np_parts(x_new, A, y, lam)
        gn_new = np.linalg.norm(g_new)
        if not gn_new < 0.5 * gnorm:
            if gn_new < gnorm:
                x, gnorm = x_new, gn_new
            break
        x, g, H, gnorm = x_new, g_new, H_new, gn_new
    if not gnorm <= GTOL:
        raise RuntimeError(f"logistic: the reference solve reached ||grad f(x*)|| = {gnorm:.3g} > {GTOL:g}")
    return x


class LogisticProblem(Problem):
    """Batched l2-regularised logistic regression; see the module docstring.

    Args:
        dim: dimension d (default 10).
        n: number of samples (default 200).
        mu: l2 weight = strong-convexity constant, > 0 (number or 1-D list; default 0.01).
        label_flip: probability in [0, 0.5) of flipping each label (default 0.05).
        instances: random draws per mu (default 1); batch = len(mu) x instances.
        seed: seed of the data and x0 (default 0).
    """

    name = "logistic"
    finite_sum = True

    def __init__(
        self,
        dim: int = 10,
        n: int = 200,
        mu: Any = 1e-2,
        label_flip: float = 0.05,
        instances: int = 1,
        seed: int = 0,
    ) -> None:
        dim = check_dim(dim)
        n = check_dim(n, "n")
        instances = check_dim(instances, "instances")
        mu_arr = as_batch(mu, "mu")
        if np.any(mu_arr <= 0):
            raise ValueError(f"mu (l2 weight = strong convexity) must be > 0; got {mu_arr[mu_arr <= 0][0]:g}")
        label_flip = float(label_flip)
        if not 0 <= label_flip < 0.5:
            raise ValueError(f"label_flip (label flip probability) must be in [0, 0.5); got {label_flip}")
        rng = np.random.default_rng(seed)
        lam = np.repeat(mu_arr, instances)
        P = lam.size
        As, ys, xs, Ls = [], [], [], []
        for p in range(P):
            A = rng.standard_normal((n, dim))
            w = rng.standard_normal(dim)
            y = np.where(A @ w >= 0, 1.0, -1.0)
            y = np.where(rng.random(n) < label_flip, -y, y)
            As.append(A)
            ys.append(y)
            Ls.append(lam[p] + np.linalg.eigvalsh(A.T @ A)[-1] / (4 * n))
            xs.append(solve_logistic(A, y, lam[p]))
        self.A = np.stack(As)
        self.y = np.stack(ys)
        self.lam = lam
        self.n_samples = n
        x_star = np.stack(xs)
        f_star = np.array([_np_parts(xs[p], As[p], ys[p], lam[p])[0] for p in range(P)])
        super().__init__(
            dim=dim,
            mu=lam,
            L=np.asarray(Ls),
            x_star=x_star,
            f_star=f_star,
            x0=default_x0(rng, P, dim, x_star),
            params=dict(dim=dim, n=n, mu=mu, label_flip=label_flip, instances=instances, seed=seed),
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "A": self.A,  # (P, n, d)
            "At": np.ascontiguousarray(self.A.transpose(0, 2, 1)),  # (P, d, n)
            "Y": self.y[:, :, None],  # (P, n, 1): rows for sampling
            "yrow": self.y[:, None, :],  # (P, 1, n)
            "lam": self.lam[:, None, None],  # (P, 1, 1)
        }

    def _grad(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        M = D["yrow"] * (X @ D["At"])  # margins (P, N, n)
        W = D["yrow"] * be.sigmoid(-M)
        return -(W @ D["A"]) / self.n_samples + D["lam"] * X

    def _f(self, X: Any, D: Mapping[str, Any], be: Backend) -> Any:
        M = D["yrow"] * (X @ D["At"])
        loss = be.sum(be.logaddexp(be.zeros_like(M), -M)) / self.n_samples
        return loss + 0.5 * D["lam"][..., 0] * be.vdot(X, X)

    def _grad_sample(self, X4: Any, D: Mapping[str, Any], be: Backend, idx: Any) -> Any:
        Ab = be.take_rows(D["A"], idx)  # (P, S, b, d)
        yb = be.take_rows(D["Y"], idx)[..., 0][:, None]  # (P, 1, S, b)
        b = Ab.shape[-2]
        M = yb * be.einsum("phsd,psbd->phsb", X4, Ab)
        W = yb * be.sigmoid(-M)
        return -be.einsum("phsb,psbd->phsd", W, Ab) / b + D["lam"][..., None] * X4
