"""Exact conversions between momentum forms, constant and time-varying.

Canonical form (heavy ball, HB):  x_{k+1} = x_k - alpha_k g_k + beta_k (x_k - x_{k-1}),  x_{-1} = x_0.
Every function takes per-step sequences (numpy arrays indexed by k = 0..K-1; numbers are treated
as constant sequences of length ``steps``) and returns the sequences of the other form, such
that the two methods produce the same iterates x_k (to round-off). All maps are [derived]
(papers.md); the tests check each against simulation to 1e-12.

Forms
    EMA:   d_{k+1} = b_k d_k + (1 - b_k) g_k,  x_{k+1} = x_k - eta_k d_{k+1},  d_0 = 0.
           alpha_k = eta_k (1 - b_k),  beta_k = b_k eta_k / eta_{k-1}.
    torch: buf_0 = g_0, buf_k = m_k buf_{k-1} + (1 - tau) g_k,  x_{k+1} = x_k - lr_k buf_k.
           alpha_0 = lr_0, alpha_k = lr_k (1 - tau),  beta_k = m_k lr_k / lr_{k-1}.
    SPA:   z_{k+1} = z_k - eta_k g_k,  x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1},  z_0 = x_0.
           alpha_k = eta_k c_{k+1},  beta_k = c_{k+1} (1 - c_k) / c_k.
           Reverse: choose c_K, then c_k = c_{k+1} / (beta_k + c_{k+1}) backwards and
           eta_k = alpha_k / c_{k+1}. The forward recursion c_{k+1} = beta_k c_k / (1 - c_k)
           amplifies round-off (its derivative is beta/(1 - c)^2 > 1 near the fixed point), so it
           is never used.

    Demon SGDM: alpha_k = eta, beta_k = Demon's beta_t.

At k = 0 the momentum term multiplies x_0 - x_{-1} = 0, so beta_0 never changes the iterates;
the maps still return a well-defined beta_0.

>>> a, b = hb_from_spa(eta=2.0, c=[0.5, 0.5, 0.5, 0.5])
>>> a.tolist(), b.tolist()
([1.0, 1.0, 1.0], [0.5, 0.5, 0.5])
>>> eta, c = spa_from_hb([1.0, 1.0, 1.0], [0.5, 0.5, 0.5])
>>> eta.tolist(), c.tolist()
([2.0, 2.0, 2.0], [0.5, 0.5, 0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _seq(x: Any, steps: int | None, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        if steps is None:
            raise ValueError(f"{name} is a number: pass steps to make it a sequence")
        arr = np.full(steps, float(arr))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D sequence; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if steps is not None and arr.size != steps:
        raise ValueError(f"{name} must have {steps} entries; got {arr.size}")
    return arr


def _check(arr: np.ndarray, name: str, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    bad = (arr <= lo if lo_open else arr < lo) | (arr >= hi if hi_open else arr > hi)
    if np.any(bad):
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be in {rng}; got {arr[bad][0]:g}")


# -- EMA ---------------------------------------------------------------------------------------
def hb_from_ema(eta: Any, b: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """HB (alpha_k, beta_k) of the EMA form with step eta_k and momentum b_k."""
    b = _seq(b, steps, "b")
    eta = _seq(eta, b.size, "eta")
    _check(eta, "eta", 0, np.inf, lo_open=True)
    _check(b, "b", 0, 1, hi_open=True)
    alpha = eta * (1.0 - b)
    beta = b.copy()
    beta[1:] = b[1:] * eta[1:] / eta[:-1]
    return alpha, beta


def ema_from_hb(alpha: Any, beta: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """EMA (eta_k, b_k) that reproduces HB (alpha_k, beta_k); b_0 = beta_0 (d_0 = 0).

    eta_k = alpha_k + beta_k eta_{k-1}, b_k = beta_k eta_{k-1} / eta_k: a stable forward recursion.
    """
    beta = _seq(beta, steps, "beta")
    alpha = _seq(alpha, beta.size, "alpha")
    _check(alpha, "alpha", 0, np.inf, lo_open=True)
    _check(beta, "beta", 0, 1, hi_open=True)
    eta, b = np.empty_like(alpha), np.empty_like(alpha)
    b[0] = beta[0]
    eta[0] = alpha[0] / (1.0 - beta[0])
    for k in range(1, alpha.size):
        eta[k] = alpha[k] + beta[k] * eta[k - 1]
        b[k] = beta[k] * eta[k - 1] / eta[k]
    return eta, b


# -- torch.optim.SGD ---------------------------------------------------------------------------
def hb_from_sgdm(lr: Any, momentum: Any, dampening: float = 0.0, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """HB (alpha_k, beta_k) of torch-style SGD with momentum (nesterov=False, no weight decay)."""
    momentum = _seq(momentum, steps, "momentum")
    lr = _seq(lr, momentum.size, "lr")
    _check(lr, "lr", 0, np.inf, lo_open=True)
    _check(momentum, "momentum", 0, 1, hi_open=True)
    _check(np.asarray([dampening]), "dampening", 0, 1)
    alpha = lr * (1.0 - dampening)
    alpha[0] = lr[0]
    beta = momentum.copy()
    beta[1:] = momentum[1:] * lr[1:] / lr[:-1]
    return alpha, beta


def sgdm_from_hb(alpha: Any, beta: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """torch-style (lr_k, momentum_k), dampening 0, reproducing HB: lr_k = alpha_k,
    momentum_k = beta_k alpha_{k-1} / alpha_k (must stay in [0, 1))."""
    beta = _seq(beta, steps, "beta")
    alpha = _seq(alpha, beta.size, "alpha")
    _check(alpha, "alpha", 0, np.inf, lo_open=True)
    m = beta.copy()
    m[1:] = beta[1:] * alpha[:-1] / alpha[1:]
    _check(m, "momentum (beta_k alpha_{k-1}/alpha_k)", 0, 1, hi_open=True)
    return alpha.copy(), m


# -- SPA (Defazio 2020) ------------------------------------------------------------------------
def hb_from_spa(eta: Any, c: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """HB (alpha_k, beta_k), k = 0..K-1, of SPA with eta_k (K entries) and c_0..c_K (K+1 entries).

    Step k uses c_{k+1}; c_0 only sets beta_0 (which never acts). Pass ``steps`` with numbers.
    """
    if steps is not None and np.ndim(c) == 0:
        c = np.full(steps + 1, float(c))
    c = _seq(c, None, "c")
    eta = _seq(eta, c.size - 1, "eta")
    _check(c, "c", 0, 1, lo_open=True)
    _check(eta, "eta", 0, np.inf, lo_open=True)
    alpha = eta * c[1:]
    beta = c[1:] * (1.0 - c[:-1]) / c[:-1]
    return alpha, beta


def spa_from_hb(alpha: Any, beta: Any, c_last: float | None = None, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """SPA (eta_k for k < K, c_k for k <= K) reproducing HB (alpha_k, beta_k), by the backward recursion.

    Args:
        alpha, beta: HB sequences (K entries) or numbers with ``steps``.
        c_last: c_K; default 1 - beta_{K-1}, the fixed point for constant beta (so constant
            HB maps to constant SPA, c = 1 - beta, eta = alpha/(1 - beta)).
    """
    beta = _seq(beta, steps, "beta")
    alpha = _seq(alpha, beta.size, "alpha")
    _check(alpha, "alpha", 0, np.inf)
    _check(beta, "beta", 0, 1, hi_open=True)
    K = alpha.size
    c = np.empty(K + 1)
    c[K] = 1.0 - beta[-1] if c_last is None else float(c_last)
    _check(c[K:], "c_last", 0, 1, lo_open=True)
    for k in range(K - 1, -1, -1):
        c[k] = c[k + 1] / (beta[k] + c[k + 1])
    eta = alpha / c[1:]
    return eta, c


def spa_c_forward(beta: Any, c0: float, steps: int | None = None) -> np.ndarray:
    """The forward recursion c_{k+1} = beta_k c_k / (1 - c_k), for demonstrating its instability only."""
    beta = _seq(beta, steps, "beta")
    c = np.empty(beta.size + 1)
    c[0] = c0
    for k in range(beta.size):
        c[k + 1] = beta[k] * c[k] / (1.0 - c[k])
    return c


# -- Demon SGDM (Chen et al. 2019) ---------------------------------------------------------------
def hb_from_demon(eta: float, beta_t: Any) -> tuple[np.ndarray, np.ndarray]:
    """Demon SGDM theta_{t+1} = theta_t - eta g_t + beta_t v_t, v_{t+1} = beta_t v_t - eta g_t (v_0 = 0)
    is HB with alpha_t = eta and beta_t, since v_t = theta_t - theta_{t-1}."""
    beta_t = _seq(beta_t, None, "beta_t")
    _check(beta_t, "beta_t", 0, 1, hi_open=True)
    _check(np.asarray([eta], dtype=float), "eta", 0, np.inf, lo_open=True)
    return np.full(beta_t.size, float(eta)), beta_t.copy()
