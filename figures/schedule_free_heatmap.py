"""Schedule-free SGD: final loss over the interpolation b and the step size gamma.

Schedule-free SGD (defazio2024) evaluates gradients at y = b x + (1 - b) z, steps z with gamma and
averages x = (1 - c) x + c z with c_{t+1} = 1/(t+1); b = 1 is primal averaging and b = 0 is plain SGD on
z with the average x reported. The heat map shows the final suboptimality f(x_K) - f* over a grid of
(b, gamma L), every cell from one batched ``simulate`` call on a quadratic; grey cells diverged or
ended above the initial loss.
"""

from __future__ import annotations

import numpy as np

from .registry import register


def plot(data, axes) -> None:
    import matplotlib as mpl

    ax = axes[0, 0]
    gap = data["final_gap"]
    logg = np.where(data["converged"] & (gap > 0), np.log10(np.maximum(gap, 1e-300)), np.nan)
    cmap = mpl.colormaps["magma_r"].with_extremes(bad="#bdbdbd")
    vmin = max(np.nanmin(logg), -16.0)
    im = ax.pcolormesh(data["b"], data["lrL"], np.ma.masked_invalid(logg).T, cmap=cmap, shading="nearest",
                       vmin=vmin, vmax=np.log10(float(data["initial_gap"])), rasterized=True)
    ax.set_yscale("log")
    ax.set_xlabel(r"interpolation $b$ (gradient at $y = b\,x + (1-b)\,z$)")
    ax.set_ylabel(r"step size $\gamma L$ (dimensionless, log scale)")
    ax.set_title(fr"schedule-free SGD, quadratic $\kappa = {float(data['L'] / data['mu']):g}$, {int(data['steps'])} steps"
                 "\ngrey: diverged or ended above the initial loss")
    i, j = np.unravel_index(np.nanargmin(np.where(np.isfinite(logg), logg, np.inf)), logg.shape)
    ax.plot(data["b"][i], data["lrL"][j], "*", ms=13, mfc="#56B4E9", mec="black", label="lowest final loss")
    ax.legend(loc="lower left")
    ax.grid(False)
    cb = ax.figure.colorbar(im, ax=ax)
    cb.set_label(r"$\log_{10}\,(f(x_K) - f_\star)$")


@register(
    "schedule_free_heatmap",
    "Schedule-free SGD: heat map of the final loss over (b, gamma)",
    config={"mu": 0.01, "L": 1.0, "dim": 30, "steps": 1000, "b": [0.0, 1.0, 21], "lrL": [0.05, 20.0, 25]},
    fast={"dim": 15, "steps": 400, "b": [0.0, 1.0, 11], "lrL": [0.05, 20.0, 12]},
    panels=(1, 1), size=(6.6, 4.8), plot=plot,
)
def compute(cfg) -> dict:
    import polyak

    mu, L = float(cfg["mu"]), float(cfg["L"])
    b = np.linspace(*(float(v) for v in cfg["b"][:2]), int(cfg["b"][2]))
    lo, hi, n = cfg["lrL"]
    lrL = np.geomspace(float(lo), float(hi), int(n))
    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=int(cfg["dim"]), spectrum="linspace")
    traj = polyak.simulate(polyak.make_method("schedule-free", lr=lrL[None, :] / L, b=b[:, None]), problem,
                           int(cfg["steps"]))
    gap = traj.fgap[-1, 0, :, :, 0]
    div = traj.diverged[0, :, :, 0]
    gap = np.where(div, np.inf, gap)
    g0 = float(traj.fgap[0, 0, 0, 0, 0])
    converged = np.isfinite(gap) & (gap < g0)
    return {"b": b, "lrL": lrL, "final_gap": gap, "diverged": div, "converged": converged, "initial_gap": traj.fgap[0, 0, 0, 0, 0],
            "mu": np.float64(mu), "L": np.float64(L), "steps": np.int64(cfg["steps"])}
