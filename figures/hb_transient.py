"""Heavy ball at Polyak's optimum: errors behave like k rho^k, not rho^k.

At alpha* = 4/(sqrt L + sqrt mu)^2, beta* = ((sqrt kappa - 1)/(sqrt kappa + 1))^2 the
characteristic polynomial z^2 - (1 + beta - alpha lambda) z + beta has a double root at the extreme
eigenvalues lambda = mu and lambda = L (papers.md, Classics). A double root is a Jordan block, so the
error is (a + b k) rho^k: the curve lies above every rho^k line and bends towards it only slowly.

Data: one ``simulate`` call (one tuning per kappa, ``per_problem=True``) on quadratics whose spectrum
fills [mu, L]; rho* from ``polyak.theory.hb_optimal``. Left: relative error with rho^k (dashed) and
k rho^k (dotted), each scaled to meet the curve at k = k_ref. Right: the error divided by rho^k
(grows linearly) and by (k+1) rho^k (stays bounded).
"""

from __future__ import annotations

import numpy as np

from .registry import register


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    k = data["k"]
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    for i, kap in enumerate(data["kappa"]):
        c = colors[i % len(colors)]
        e, rho, kr = data["rel_err"][:, i], data["rho"][i], int(data["k_ref"][i])
        ok = e > data["floor"]
        ax0.semilogy(k[ok], e[ok], color=c, label=fr"$\kappa={kap:g}$, $\rho^\star={rho:.3f}$")
        ax0.semilogy(k[ok], e[kr] * rho ** (k[ok] - kr), "--", color=c, lw=1.0, alpha=0.8)
        ax0.semilogy(k[ok], e[kr] * (k[ok] + 1) / (kr + 1) * rho ** (k[ok] - kr), ":", color=c, lw=1.4)
        ax1.semilogy(k[ok], e[ok] / rho ** k[ok], "--", color=c, lw=1.0)
        ax1.semilogy(k[ok], e[ok] / ((k[ok] + 1) * rho ** k[ok]), "-", color=c, label=fr"$\kappa={kap:g}$")
    from matplotlib.lines import Line2D

    h0, l0 = ax0.get_legend_handles_labels()
    h0 += [Line2D([], [], ls="--", color="0.3", lw=1.0, label=r"$C\,\rho^{\star k}$"),
           Line2D([], [], ls=":", color="0.3", lw=1.4, label=r"$C\,(k+1)\,\rho^{\star k}$")]
    ax0.legend(handles=h0, loc="upper right")
    ax0.set_xlabel("iteration $k$")
    ax0.set_ylabel(r"$\|x_k - x_\star\| \,/\, \|x_0 - x_\star\|$")
    ax0.set_title(r"heavy ball at $(\alpha^\star, \beta^\star)$ on quadratics")
    h1 = [Line2D([], [], ls="--", color="0.3", lw=1.0, label=r"$e_k / \rho^{\star k}$ (grows like $k$)"),
          Line2D([], [], ls="-", color="0.3", label=r"$e_k / ((k+1)\rho^{\star k})$ (bounded)")]
    h1 += ax1.get_legend_handles_labels()[0]
    ax1.legend(handles=h1, loc="center right")
    ax1.set_xlabel("iteration $k$")
    ax1.set_ylabel(r"relative error $e_k$ / reference sequence")
    ax1.set_title(r"the $k\,\rho^k$ transient of the double root")


@register(
    "hb_transient",
    "Heavy-ball error curves at the optimum: the k rho^k transient",
    config={"kappas": [10.0, 100.0, 1000.0], "dim": 40, "steps": 700, "k_ref": 0.5},
    fast={"kappas": [10.0, 100.0], "dim": 20, "steps": 300},
    panels=(1, 2), size=(10.0, 4.2), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th

    kappa = np.asarray(cfg["kappas"], dtype=float)
    alpha, beta, rho = (np.asarray(v, dtype=float) for v in th.hb_optimal(np.ones_like(kappa), kappa))
    problem = polyak.make_problem("quadratic", mu=1.0, L=kappa, dim=int(cfg["dim"]), spectrum="linspace")
    traj = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), problem, int(cfg["steps"]),
                           per_problem=True)
    err = traj.dist[:, :, 0]
    rel = err / err[:1]
    floor = 1e-13
    # reference index: a fraction of the way to the floor, per kappa
    last = np.array([np.flatnonzero(rel[:, i] > floor).max() for i in range(kappa.size)])
    k_ref = np.maximum(1, (float(cfg["k_ref"]) * last).astype(int))
    return {"k": traj.k, "kappa": kappa, "alpha": alpha, "beta": beta, "rho": rho, "rel_err": rel,
            "k_ref": k_ref, "floor": np.float64(floor)}
