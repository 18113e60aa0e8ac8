"""The heavy-ball convergence region on quadratics, with the rate as colour.

For f with spectrum in [mu, L], heavy ball converges iff 0 <= beta < 1 and 0 < alpha L < 2 (1 + beta)
(Jury's criterion on z^2 - (1 + beta - alpha lambda) z + beta at lambda = L). Inside, the worst-case
rate is ``polyak.theory.hb_rate``; the rate-optimal beta for a given alpha is
``hb_best_beta`` = max((1 - sqrt(alpha mu))^2, (sqrt(alpha L) - 1)^2), and Polyak's optimum
(``hb_optimal``) sits where the two branches meet.

Left: the closed-form rate on a fine grid. Right: the rate measured (log-linear fit of
||x_k - x*||) on a coarser grid of the same plane, all points in one ``simulate`` call. Grey: no
convergence (rate >= 1 or diverged). Both panels carry the theoretical boundary
alpha L = 2 (1 + beta), the best-beta curve and the optimum.
"""

from __future__ import annotations

import numpy as np

from .registry import register


def _overlay(ax, data, legend: bool) -> None:
    b = data["beta_line"]
    ax.plot(2 * (1 + b), b, "-", color="white", lw=2.2)
    ax.plot(2 * (1 + b), b, "-", color="#D55E00", lw=1.4, label=r"boundary $\alpha L = 2(1+\beta)$")
    ax.plot(data["alpha_line_L"], data["best_beta_line"], "--", color="black", lw=1.2,
            label=r"best $\beta$ for each $\alpha$")
    ax.plot(data["opt_alphaL"], data["opt_beta"], "*", ms=13, mfc="#E69F00", mec="black", mew=0.8,
            label=fr"optimum $(\alpha^\star L, \beta^\star)$, $\rho^\star = {float(data['opt_rho']):.3f}$")
    ax.set_xlabel(r"step size $\alpha L$ (dimensionless)")
    ax.set_ylabel(r"momentum $\beta$")
    ax.set_xlim(0, float(data["alphaL"].max()))
    ax.set_ylim(0, float(data["beta"].max()))
    ax.grid(False)
    if legend:
        ax.legend(loc="upper left", facecolor="white", framealpha=0.9)


def plot(data, axes) -> None:
    import matplotlib as mpl

    ax0, ax1 = axes[0]
    cmap = mpl.colormaps["viridis"].with_extremes(over="#bdbdbd", bad="#bdbdbd")
    lo = np.floor(10 * float(data["opt_rho"])) / 10 - 0.1
    norm = mpl.colors.Normalize(max(lo, 0.0), 1.0)
    r = np.where(np.isfinite(data["rate"]), data["rate"], 2.0)
    im = ax0.pcolormesh(data["alphaL"], data["beta"], r.T, cmap=cmap, norm=norm, shading="nearest",
                        rasterized=True)
    ax0.contour(data["alphaL"], data["beta"], r.T, levels=[0.5, 0.7, 0.8, 0.9, 0.95], colors="white",
                linewidths=0.6, alpha=0.7)
    m = np.where(np.isfinite(data["measured"]), data["measured"], 2.0)
    ax1.pcolormesh(data["alphaL_sim"], data["beta_sim"], m.T, cmap=cmap, norm=norm, shading="nearest",
                   rasterized=True)
    kappa = float(data["kappa"])
    ax0.set_title(fr"closed form (polyak.theory.hb_rate), $\kappa = {kappa:g}$")
    ax1.set_title(fr"measured: fitted rate of $\|x_k - x_\star\|$, {int(data['steps'])} steps")
    _overlay(ax0, data, legend=True)
    _overlay(ax1, data, legend=False)
    cb = ax1.figure.colorbar(im, ax=[ax0, ax1], extend="max", shrink=0.9, pad=0.02)
    cb.set_label(r"linear rate $\rho$ (grey: does not converge)")


@register(
    "hb_region",
    "Heavy-ball convergence region in (alpha L, beta), rate as colour, with the optimum",
    config={"kappa": 10.0, "n_fine": 241, "n_sim": 45, "steps": 400, "dim": 30, "alphaL_max": 4.4,
            "beta_max": 0.98},
    fast={"n_fine": 121, "n_sim": 25, "steps": 250, "dim": 12},
    panels=(1, 2), size=(11.0, 4.6), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th
    from polyak.verify.rates import fit_linear_rate

    kappa, mu, L = float(cfg["kappa"]), 1.0, float(cfg["kappa"])
    aL = np.linspace(0.0, float(cfg["alphaL_max"]), int(cfg["n_fine"]))[1:]
    bb = np.linspace(0.0, float(cfg["beta_max"]), int(cfg["n_fine"]))
    rate = np.asarray(th.hb_rate(aL[:, None] / L, bb[None, :], mu, L), dtype=float)
    # measured: one batched run over a coarse grid (alpha outer, beta inner)
    aL_s = np.linspace(0.0, float(cfg["alphaL_max"]), int(cfg["n_sim"]) + 1)[1:]
    bb_s = np.linspace(0.0, float(cfg["beta_max"]), int(cfg["n_sim"]))
    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=int(cfg["dim"]), spectrum="linspace")
    method = polyak.make_method("hb", alpha=aL_s[:, None] / L, beta=bb_s[None, :])
    traj = polyak.simulate(method, problem, int(cfg["steps"]))
    err = traj.dist[:, 0, :, :, 0]  # (R, A, B)
    measured = np.full((aL_s.size, bb_s.size), np.nan)
    for i in range(aL_s.size):
        for j in range(bb_s.size):
            if traj.diverged[0, i, j, 0]:
                measured[i, j] = np.inf
                continue
            fit = fit_linear_rate(err[:, i, j], traj.k, burn_in=0.5)
            measured[i, j] = fit.rate
    a_opt, b_opt, r_opt = (float(v) for v in th.hb_optimal(mu, L))
    a_line = np.linspace(1e-4, 4.0 / L, 401)[:-1]
    best = np.asarray(th.hb_best_beta(a_line, mu, L), dtype=float)
    keep = best <= float(cfg["beta_max"])
    beta_line = np.linspace(0.0, float(cfg["beta_max"]), 50)
    return {
        "kappa": np.float64(kappa), "alphaL": aL, "beta": bb, "rate": rate,
        "alphaL_sim": aL_s, "beta_sim": bb_s, "measured": measured, "steps": np.int64(cfg["steps"]),
        "diverged": traj.diverged[0, :, :, 0],
        "opt_alphaL": np.float64(a_opt * L), "opt_beta": np.float64(b_opt), "opt_rho": np.float64(r_opt),
        "alpha_line_L": a_line[keep] * L, "best_beta_line": best[keep], "beta_line": beta_line,
        "alpha_max_line": np.asarray(th.hb_alpha_max(beta_line, L), dtype=float) * L,
    }
