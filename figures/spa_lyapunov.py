"""The SPA Lyapunov function along trajectories: monotone where f(x_k) is not.

For L-smooth f (convex or not) and heavy ball with alpha <= (1 - beta^2)/L (in SPA form
L eta <= 2 - c), Lambda_k = f(x_k) + ((1 - L alpha)/(2 alpha)) ||x_k - x_{k-1}||^2 satisfies
Lambda_{k+1} <= Lambda_k - (alpha/2) ||grad f(x_k)||^2 (``polyak.theory.spa_lyapunov``,
[derived]). The function value itself oscillates under momentum.

Data: SPA (``make_method("spa")`` with c = 1 - beta, eta = alpha/(1 - beta)) on the smooth non-convex
test function ``make_problem("nonconvex")``, several (alpha, beta) at and below the bound, in one
batched ``simulate`` call; Lambda_k from the recorded f(x_k) and iterates.
"""

from __future__ import annotations

import numpy as np

from .registry import register


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    k = data["k"]
    fs = float(data["f_star"])
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    floor = 1e-15
    for i, (a, b) in enumerate(zip(data["alphaL"], data["beta"])):
        c = colors[i % len(colors)]
        lab = fr"$\beta = {b:g}$, $\alpha L = {a:.2g}$" + (" (at the bound)" if data["at_bound"][i] else "")
        ax0.semilogy(k, np.maximum(data["Lambda"][:, i] - fs, floor), color=c, label=lab)
        ax0.semilogy(k, np.maximum(data["fval"][:, i] - fs, floor), ":", color=c, lw=1.1)
        dec = -np.diff(data["Lambda"][:, i]) / np.abs(data["Lambda"][0, i] - fs)
        ax1.semilogy(k[1:], np.maximum(dec, floor), color=c, lw=1.0)
        bad = dec < 0
        if bad.any():
            ax1.plot(k[1:][bad], np.full(bad.sum(), floor), "x", color="red", ms=6)
    from matplotlib.lines import Line2D

    h = ax0.get_legend_handles_labels()[0] + [
        Line2D([], [], color="0.3", label=r"$\Lambda_k - f_\star$"),
        Line2D([], [], color="0.3", ls=":", label=r"$f(x_k) - f_\star$")]
    ax0.legend(handles=h, loc="lower left", fontsize=7.5)
    ax0.set_xlabel("iteration $k$")
    ax0.set_ylabel(r"gap to $f_\star$ (log scale)")
    ax0.set_title(r"$\Lambda_k = f(x_k) + \frac{1 - L\alpha}{2\alpha}\|x_k - x_{k-1}\|^2$ on a non-convex $f$")
    ax1.set_xlabel("iteration $k$")
    ax1.set_ylabel(r"decrease $(\Lambda_k - \Lambda_{k+1}) / (\Lambda_0 - f_\star)$ (log scale)")
    ax1.set_title(r"$\Lambda$ decreases at every step (an increase would show as a red $\times$)")


@register(
    "spa_lyapunov",
    "The SPA Lyapunov function along trajectories (non-convex, alpha <= (1 - beta^2)/L)",
    config={"dim": 10, "L": 10.0, "steps": 300, "beta": [0.0, 0.5, 0.8, 0.5, 0.8], "frac": [1.0, 1.0, 1.0, 0.5, 0.5]},
    fast={"steps": 150},
    panels=(1, 2), size=(11.0, 4.4), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th

    L = float(cfg["L"])
    beta = np.asarray(cfg["beta"], float)
    frac = np.asarray(cfg["frac"], float)
    alpha = frac * (1 - beta**2) / L
    problem = polyak.make_problem("nonconvex", dim=int(cfg["dim"]), L=L)
    steps = int(cfg["steps"])
    method = polyak.make_method("spa", eta=alpha / (1 - beta), c=1 - beta)
    traj = polyak.simulate(method, problem, steps, keep_last=steps + 1)
    X = traj.x_tail[:, 0, :, 0, :]  # (R, n, d)
    step = np.concatenate([np.zeros((1,) + X.shape[1:2]), np.sum(np.diff(X, axis=0) ** 2, axis=-1)])
    fval = traj.fval[:, 0, :, 0]
    lam = np.asarray(th.spa_lyapunov(fval, step, alpha[None, :], L), dtype=float)
    return {"k": traj.k, "alpha": alpha, "alphaL": alpha * L, "beta": beta, "at_bound": frac >= 1.0,
            "Lambda": lam, "fval": fval, "step_sq": step, "gnorm": traj.gnorm[:, 0, :, 0],
            "f_star": np.float64(problem.f_star[0]), "L": np.float64(L)}
