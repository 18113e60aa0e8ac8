"""Noisy quadratics: the stationary error of heavy ball against step size and momentum.

With additive gradient noise g = A x + sigma xi (xi ~ N(0, I)), heavy ball on a quadratic does not
converge: it settles into a stationary distribution whose mean squared error is, per eigenvalue
lambda, the stationary variance of the 2x2 linear system [[1 + beta - alpha lambda, -beta], [1, 0]] driven
by alpha sigma xi. The prediction here solves that discrete Lyapunov equation (scipy) per eigenvalue
and sums; the measurement averages ||x_k - x*||^2 over the second half of a long run and over seeds,
all settings in one batched ``simulate`` call. At equal effective step alpha/(1 - beta) momentum does not
reduce the noise floor; at equal alpha it raises it by about (1 + beta)/(1 - beta).
"""

from __future__ import annotations

import numpy as np

from .registry import register


def stationary_mse(alpha: np.ndarray, beta: np.ndarray, lam: np.ndarray, sigma: float) -> np.ndarray:
    """Sum over eigenvalues of the stationary E e^2 of HB driven by additive noise (Lyapunov equation)."""
    from scipy.linalg import solve_discrete_lyapunov

    alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
    out = np.zeros(alpha.shape)
    for idx in np.ndindex(alpha.shape):
        a, b = alpha[idx], beta[idx]
        tot = 0.0
        for l in lam:
            T = np.array([[1 + b - a * l, -b], [1.0, 0.0]])
            if np.max(np.abs(np.linalg.eigvals(T))) >= 1:
                tot = np.inf
                break
            Q = np.array([[(a * sigma) ** 2, 0.0], [0.0, 0.0]])
            tot += solve_discrete_lyapunov(T, Q)[0, 0]
        out[idx] = tot
    return out


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    aL, betas = data["alphaL"], data["beta"]
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    fine = data["alphaL_fine"]
    for j, b in enumerate(betas):
        c = colors[j % len(colors)]
        ax0.plot(fine, data["theory_fine"][:, j], "-", color=c, lw=1.2, label=fr"$\beta = {b:g}$")
        ax0.plot(aL, data["measured"][:, j], "o", mfc="none", color=c, ms=5)
    ax0.set_xscale("log")
    ax0.set_yscale("log")
    ax0.set_xlabel(r"step size $\alpha L$ (dimensionless, log scale)")
    ax0.set_ylabel(r"stationary $\mathbb{E}\,\|x_k - x_\star\|^2$")
    ax0.set_title(fr"heavy ball, additive noise $\sigma = {float(data['sigma']):g}$, $\kappa = {float(data['L']):g}$, $d = {int(data['dim'])}$")
    from matplotlib.lines import Line2D

    h = ax0.get_legend_handles_labels()[0] + [
        Line2D([], [], color="0.3", lw=1.2, label="Lyapunov equation"),
        Line2D([], [], color="0.3", ls="", marker="o", mfc="none", label=f"measured ({int(data['seeds'])} seeds)")]
    ax0.legend(handles=h, loc="upper left", ncol=2)
    # right: against beta at fixed effective step alpha / (1 - beta)
    bf = data["beta_fine"]
    for i, e in enumerate(data["eff"]):
        c = colors[i % len(colors)]
        ax1.plot(bf, data["theory_eff_fine"][:, i], "-", color=c, lw=1.2, label=fr"$\alpha L/(1-\beta) = {e:g}$")
        ax1.plot(data["beta_eff"], data["measured_eff"][:, i], "o", mfc="none", color=c, ms=5)
    ax1.set_yscale("log")
    allv = np.concatenate([data["theory_eff_fine"].ravel(), data["measured_eff"].ravel()])
    ax1.set_ylim(allv.min() / 3, allv.max() * 3)
    ax1.set_xlabel(r"momentum $\beta$ (effective step $\alpha/(1-\beta)$ held fixed)")
    ax1.set_ylabel(r"stationary $\mathbb{E}\,\|x_k - x_\star\|^2$")
    ax1.set_title("at a fixed effective step, momentum hardly changes the floor")
    ax1.legend(loc="center left")


@register(
    "noisy_quadratic",
    "Noisy quadratics: stationary error against step size and momentum (measured vs Lyapunov equation)",
    config={"mu": 1.0, "L": 10.0, "dim": 10, "sigma": 0.1, "steps": 4000, "seeds": 8,
            "alphaL": [0.02, 1.0, 7], "beta": [0.0, 0.5, 0.9], "eff": [0.05, 0.5], "beta_eff": [0.0, 0.3, 0.6, 0.8, 0.9]},
    fast={"steps": 1500, "seeds": 3, "alphaL": [0.02, 1.0, 4], "beta_eff": [0.0, 0.5, 0.8]},
    panels=(1, 2), size=(11.0, 4.4), plot=plot,
)
def compute(cfg) -> dict:
    import polyak

    mu, L, d, sigma = float(cfg["mu"]), float(cfg["L"]), int(cfg["dim"]), float(cfg["sigma"])
    lo, hi, n = cfg["alphaL"]
    aL = np.geomspace(float(lo), float(hi), int(n))
    betas = np.asarray(cfg["beta"], float)
    eff = np.asarray(cfg["eff"], float)
    beff = np.asarray(cfg["beta_eff"], float)
    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="linspace", noise="additive", sigma=sigma)
    lam = np.linspace(mu, L, d)
    steps, seeds = int(cfg["steps"]), int(cfg["seeds"])
    # one run over the union of both grids: (alpha, beta) pairs flattened into 1-D arrays
    A1, B1 = np.meshgrid(aL / L, betas, indexing="ij")
    A2 = (eff[None, :] * (1 - beff[:, None])) / L
    B2 = np.broadcast_to(beff[:, None], A2.shape)
    alpha = np.concatenate([A1.ravel(), A2.ravel()])
    beta = np.concatenate([B1.ravel(), B2.ravel()])
    traj = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), problem, steps, seeds=seeds,
                           x0=np.zeros(d), record_every=5)
    half = traj.k >= steps // 2
    sq = traj.dist[half, 0] ** 2  # (R, H, S)
    mse = sq.mean(axis=(0, 2))
    n1 = A1.size
    fine = np.geomspace(float(lo), float(hi), 60)
    bf = np.linspace(0.0, float(beff.max()), 60)
    return {
        "alphaL": aL, "beta": betas, "measured": mse[:n1].reshape(A1.shape),
        "theory": stationary_mse(A1, B1, lam, sigma),
        "alphaL_fine": fine, "theory_fine": stationary_mse(fine[:, None] / L, betas[None, :], lam, sigma),
        "eff": eff, "beta_eff": beff, "measured_eff": mse[n1:].reshape(A2.shape),
        "theory_eff": stationary_mse(A2, B2, lam, sigma),
        "beta_fine": bf, "theory_eff_fine": stationary_mse(eff[None, :] * (1 - bf[:, None]) / L, bf[:, None], lam, sigma),
        "mu": np.float64(mu), "L": np.float64(L), "dim": np.int64(d), "sigma": np.float64(sigma),
        "seeds": np.int64(seeds), "steps": np.int64(steps), "eigenvalues": lam,
        "n_samples": np.int64(sq.shape[0] * sq.shape[2]),
    }
