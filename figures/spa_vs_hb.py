"""SPA (stochastic primal averaging) and heavy ball: the same iterates, two forms.

Defazio's SPA form z_{k+1} = z_k - eta_k g(x_k), x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1} is heavy
ball with alpha_k = eta_k c_{k+1}, beta_k = c_{k+1} (1 - c_k)/c_k (``polyak.solvers.forms.hb_from_spa``).
Two settings on a 2-D quadratic: constant c = 1 - beta (momentum), and c_{k+1} = 1/(k+1) (primal
averaging, whose HB form has beta_k = (k-1)/(k+1) and alpha_k = eta/(k+1)). Each form runs as one
batched ``simulate`` call over both settings; the right panel shows the distance between the two
trajectories, which stays at rounding level.
"""

from __future__ import annotations

import numpy as np

from .registry import register

NAMES = ("constant $c = 1-\\beta$", "primal averaging $c_{k+1} = 1/(k+1)$")


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    lam = data["eigenvalues"]
    g = np.linspace(-1.25, 1.25, 200)
    X1, X2 = np.meshgrid(g * data["box"][0], g * data["box"][1])
    F = 0.5 * (lam[0] * X1**2 + lam[1] * X2**2)
    ax0.contour(X1, X2, F, levels=np.geomspace(F.max() * 1e-3, F.max(), 9), colors="0.8", linewidths=0.6)
    colors = ["#0072B2", "#D55E00"]
    n = int(data["n_show"])
    for i, name in enumerate(NAMES):
        spa, hb = data["x_spa"][:n, i], data["x_hb"][:n, i]
        ax0.plot(hb[:, 0], hb[:, 1], "-", color=colors[i], lw=1.2, label=f"heavy ball form, {name}")
        ax0.plot(spa[:, 0], spa[:, 1], "o", mfc="none", color=colors[i], ms=5, label=f"SPA form, {name}")
        gap = np.linalg.norm(data["x_spa"][:, i] - data["x_hb"][:, i], axis=-1)
        ax1.semilogy(data["k"], np.maximum(gap, 1e-18), color=colors[i], label=r"$\|x_k^{\rm SPA} - x_k^{\rm HB}\|$, " + name)
        ax1.semilogy(data["k"], data["dist_hb"][:, i], ":", color=colors[i], lw=1.2,
                     label=r"$\|x_k - x_\star\|$, " + name)
    ax0.plot(0, 0, "*", color="black", ms=10, label=r"$x_\star$")
    ax0.set_xlabel("$x^{(1)}$ (eigen-coordinate, $\\lambda = %g$)" % lam[0])
    ax0.set_ylabel("$x^{(2)}$ (eigen-coordinate, $\\lambda = %g$)" % lam[1])
    ax0.set_title(f"first {n} iterates on a 2-D quadratic")
    ax0.legend(loc="lower left", fontsize=7.5)
    ax1.axhline(1e-18, color="0.6", lw=0.6)
    ax1.set_ylim(1e-18, 10)
    ax1.set_xlabel("iteration $k$")
    ax1.set_ylabel("distance (floored at $10^{-18}$)")
    ax1.set_title("the two forms agree to rounding error")
    ax1.legend(loc="center right", bbox_to_anchor=(1.0, 0.33), fontsize=7.5)


@register(
    "spa_vs_hb",
    "SPA and heavy-ball trajectories on top of each other (constant momentum and primal averaging)",
    config={"eigenvalues": [1.0, 10.0], "x0": [1.0, 0.6], "beta": 0.7, "alpha": 0.05, "eta_pa": 0.15,
            "steps": 200, "n_show": 40},
    fast={"steps": 100},
    panels=(1, 2), size=(11.0, 4.6), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    from polyak.solvers import Schedule
    from polyak.solvers.forms import hb_from_spa

    K = int(cfg["steps"])
    beta, alpha, eta_pa = float(cfg["beta"]), float(cfg["alpha"]), float(cfg["eta_pa"])
    lam = np.asarray(cfg["eigenvalues"], dtype=float)
    problem = polyak.make_problem("quadratic", eigenvalues=lam, dim=lam.size, basis="eigen")
    x0 = np.asarray(cfg["x0"], dtype=float)
    # SPA parameters of the two settings, c_0..c_K and eta_0..eta_{K-1}
    kk = np.arange(K + 1, dtype=float)
    c = np.stack([np.full(K + 1, 1.0 - beta), 1.0 / np.maximum(kk, 1.0)], axis=1)
    eta = np.stack([np.full(K, alpha / (1.0 - beta)), np.full(K, eta_pa)], axis=1)
    a_hb = np.empty((K, 2))
    b_hb = np.empty((K, 2))
    for j in range(2):
        a_hb[:, j], b_hb[:, j] = hb_from_spa(eta[:, j], c[:, j])
    spa = polyak.make_method("spa", eta=Schedule.sequence(eta), c=Schedule.sequence(c))
    hb = polyak.make_method("hb", alpha=Schedule.sequence(a_hb), beta=Schedule.sequence(b_hb))
    t_spa = polyak.simulate(spa, problem, K, x0=x0, keep_last=K + 1)
    t_hb = polyak.simulate(hb, problem, K, x0=x0, keep_last=K + 1)
    return {
        "k": t_hb.k, "eigenvalues": lam, "box": np.abs(x0), "x_spa": t_spa.x_tail[:, 0, :, 0, :],
        "x_hb": t_hb.x_tail[:, 0, :, 0, :], "dist_hb": t_hb.dist[:, 0, :, 0], "alpha_hb": a_hb, "beta_hb": b_hb,
        "c": c, "eta": eta, "n_show": np.int64(cfg["n_show"]),
    }
