"""Adaptive heavy ball's momentum beta_k against the best beta for its step and against beta*.

Adaptive heavy ball (sun2021adaptive; variant A1) sets beta_k = clip((1 - sqrt(alpha h_k))^2, 0, 1 - delta)
from the secant curvature h_k = ||g_k - g_{k-1}|| / ||x_k - x_{k-1}||. On a quadratic mu <= h_k <= L,
so beta_k stays within the image of [mu, L] under that map; it settles near the best constant
momentum *for the given alpha*, ``polyak.theory.hb_best_beta(alpha, mu, L)``, which equals Polyak's
beta* only at alpha = alpha*.

Data: one batched ``simulate`` over a grid of step sizes on a quadratic with spectrum in [mu, L].
Left: beta_k against k for a few steps (dashed: best beta for that alpha; black dotted: beta*).
Right: the settled beta_k (median over the second half of the run, before the error reaches the
rounding floor) against alpha L, beside the best-beta curve.
"""

from __future__ import annotations

import numpy as np

from .registry import register


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    k = data["k"]
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    aL = data["alphaL"]
    for c, i in zip(colors, data["show"]):
        end = int(data["end"][i])
        ax0.plot(k[1:end], data["beta"][1:end, i], color=c, label=fr"$\alpha L = {aL[i]:.2g}$")
        ax0.axhline(data["best_beta"][i], color=c, ls="--", lw=1.0)
    ax0.axhline(float(data["beta_star"]), color="black", ls=":", lw=1.3)
    ax0.set_xlabel("iteration $k$ (until the error reaches $10^{-10}$)")
    ax0.set_ylabel(r"momentum $\beta_k$ (heavy-ball form)")
    ax0.set_title(fr"adaptive heavy ball (A1), quadratic, $\kappa = {float(data['kappa']):g}$")
    from matplotlib.lines import Line2D

    h = ax0.get_legend_handles_labels()[0]
    h += [Line2D([], [], color="0.3", ls="--", lw=1.0, label=r"best $\beta$ for that $\alpha$"),
          Line2D([], [], color="black", ls=":", lw=1.3, label=r"$\beta^\star$ (Polyak)")]
    ax0.legend(handles=h, loc="lower right", ncol=2)
    a_line = data["alphaL_line"]
    ax1.plot(a_line, data["best_beta_line"], "-", color="#D55E00", label=r"best $\beta$ for $\alpha$ (closed form)")
    ax1.fill_between(a_line, data["lo_line"], data["hi_line"], color="#D55E00", alpha=0.12,
                     label=r"range of $(1-\sqrt{\alpha h})^2$, $h \in [\mu, L]$")
    ax1.plot(aL, data["settled"], "o", color="#0072B2", mfc="none", label=r"settled $\beta_k$ (measured)")
    ax1.axhline(float(data["beta_star"]), color="black", ls=":", lw=1.3, label=r"$\beta^\star$")
    ax1.axvline(float(data["alpha_star"]) * float(data["L"]), color="black", ls=":", lw=0.8)
    ax1.set_xscale("log")
    ax1.set_xlabel(r"step size $\alpha L$ (dimensionless, log scale)")
    ax1.set_ylabel(r"momentum $\beta$")
    ax1.set_title(r"settled momentum against step size")
    ax1.legend(loc="lower left")


@register(
    "adaptive_hb_beta",
    "Adaptive heavy ball's beta_k against the best beta for its alpha and against beta*",
    config={"mu": 1.0, "L": 100.0, "dim": 50, "steps": 600, "alphaL": [0.02, 3.5, 25], "show": [0.05, 0.2, 1.0, 3.2]},
    fast={"dim": 20, "steps": 300, "alphaL": [0.02, 3.5, 12]},
    panels=(1, 2), size=(11.0, 4.4), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th

    mu, L = float(cfg["mu"]), float(cfg["L"])
    lo_, hi_, n = cfg["alphaL"]
    aL = np.unique(np.concatenate([np.geomspace(float(lo_), float(hi_), int(n)), np.asarray(cfg["show"], float)]))
    alpha = aL / L
    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=int(cfg["dim"]), spectrum="linspace")
    traj = polyak.simulate(polyak.make_method("adaptive-hb", lr=alpha), problem, int(cfg["steps"]))
    beta = traj.beta[:, 0, :, 0]
    rel = traj.dist[:, 0, :, 0] / traj.dist[:1, 0, :, 0]
    below = ~(rel > 1e-10)
    end = np.where(below.any(axis=0), np.argmax(below, axis=0), rel.shape[0])
    settled = np.array([np.median(beta[max(1, e // 2):e, i]) for i, e in enumerate(end)])
    a_star, b_star, _ = (float(v) for v in th.hb_optimal(mu, L))
    a_line = np.geomspace(aL.min(), min(aL.max(), 3.999), 300) / L
    f = lambda h: (1 - np.sqrt(a_line * h)) ** 2  # noqa: E731
    hs = np.linspace(mu, L, 400)[:, None]
    vals = (1 - np.sqrt(a_line[None, :] * hs)) ** 2
    show = np.array([int(np.argmin(np.abs(aL - s))) for s in cfg["show"]])
    return {
        "k": traj.k, "alphaL": aL, "alpha": alpha, "beta": beta, "end": end, "settled": settled,
        "best_beta": np.asarray(th.hb_best_beta(alpha, mu, L), float), "beta_star": np.float64(b_star),
        "alpha_star": np.float64(a_star), "mu": np.float64(mu), "L": np.float64(L), "kappa": np.float64(L / mu),
        "alphaL_line": a_line * L, "best_beta_line": np.asarray(th.hb_best_beta(a_line, mu, L), float),
        "lo_line": np.clip(vals.min(axis=0), 0, 0.99), "hi_line": np.clip(np.maximum(f(mu), f(L)), 0, 0.99),
        "show": show, "diverged": traj.diverged[0, :, 0], "rel_err": rel,
    }
