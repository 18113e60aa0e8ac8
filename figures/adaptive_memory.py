"""Adaptive Memory (AM-SGD): its beta_t, and iterations to tolerance against step size.

AM (topollai2025adaptive) updates d_{t+1} = ((beta_t + lambda) d_t + (1 - beta_t) g_t)/(1 + lambda),
x_{t+1} = x_t - eta d_{t+1}, with beta_t in closed form from a two-plane proximal model
(``polyak.theory.am_beta``). The engine records the heavy-ball-form coefficient
(beta_t + lambda)/(1 + lambda); the figure converts it back to beta_t.

Left: beta_t along a run on a quadratic, for a few step sizes. Right: iterations until
||x_k - x*|| <= tol ||x_0 - x*|| against the step size for AM-SGD, heavy ball with beta = 0.9,
adaptive heavy ball and Demon SGDM (beta_init = 0.9, T = the budget) -- one batched ``simulate`` call
per method over the step-size grid. Runs that diverge or miss the budget are drawn at the top edge
("not reached"). Each method's own step parameter is on the x axis (AM: eta; the others: alpha);
they differ by the factor 1/(1 - beta) in effective step, so the curves are shifted, not comparable
point by point; compare their minima and the width of their good ranges.
"""

from __future__ import annotations

import numpy as np

from ._util import first_below
from .registry import register

METHODS = (("am-sgd", "AM-SGD", "#56B4E9"), ("hb", r"heavy ball, $\beta = 0.9$", "#D55E00"),
           ("adaptive-hb", "adaptive heavy ball (A1)", "#E69F00"), ("demon-sgdm", r"Demon SGDM, $\beta_{\rm init} = 0.9$", "#CC79A7"))


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    k = data["k"]
    lr = data["lr"]
    colors = ["#0072B2", "#009E73", "#D55E00"]
    for c, i in zip(colors, data["show"]):
        end = int(min(data["iters"][0, i] + 1, k.size)) if np.isfinite(data["iters"][0, i]) else k.size
        ax0.plot(k[1:end], data["am_beta"][1:end, i], color=c, lw=1.0, label=fr"$\eta L = {lr[i] * float(data['L']):.2g}$")
    ax0.axhline(float(data["beta_max"]), color="black", ls=":", lw=1.0, label=r"clip $\beta_{\max}$")
    ax0.set_xscale("log")
    ax0.set_xlabel("iteration $t$ (log scale, until the tolerance is reached)")
    ax0.set_ylabel(r"AM's $\beta_t$ (before mixing with $\lambda$)")
    ax0.set_title(fr"AM-SGD on a quadratic, $\kappa = {float(data['L'] / data['mu']):g}$, $\lambda = {float(data['lam']):g}$")
    ax0.set_ylim(-0.05, 1.0)
    ax0.legend(loc="lower right")
    budget = float(data["steps"])
    for j, (_, label, c) in enumerate(METHODS):
        it = data["iters"][j]
        ok = np.isfinite(it)
        ax1.plot(lr[ok] * float(data["L"]), it[ok], "o-", color=c, ms=4, label=label)
        ax1.plot(lr[~ok] * float(data["L"]), np.full((~ok).sum(), budget * 1.3 * 1.15**j), "x", color=c, ms=5)
    ax1.axhline(budget, color="0.5", lw=0.8, ls="--")
    ax1.text(float(lr.min() * data["L"]), budget * 2.1, f"× = not reached in {int(budget)} steps (or diverged)",
             fontsize=7.5, va="bottom")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_ylim(top=budget * 3.5)
    ax1.set_xlabel(r"step size $\times L$ (each method's own step parameter)")
    ax1.set_ylabel(fr"iterations to $\|x_k - x_\star\| \leq 10^{{{int(round(np.log10(float(data['tol']))))}}}\,\|x_0 - x_\star\|$")
    ax1.set_title("iterations to tolerance against step size")
    ax1.legend(loc="lower left")


@register(
    "adaptive_memory",
    "Adaptive Memory's beta_t, and iterations to tolerance against step size for AM, HB(0.9), adaptive HB, Demon",
    config={"mu": 1.0, "L": 100.0, "dim": 50, "steps": 3000, "tol": 1e-6, "lrL": [0.01, 50.0, 22], "lam": 0.1,
            "beta_max": 0.9, "show": [1.0, 5.0, 20.0]},
    fast={"dim": 20, "steps": 1200, "lrL": [0.01, 50.0, 12]},
    panels=(1, 2), size=(11.0, 4.4), plot=plot,
)
def compute(cfg) -> dict:
    import polyak

    mu, L, steps = float(cfg["mu"]), float(cfg["L"]), int(cfg["steps"])
    lo, hi, n = cfg["lrL"]
    lr = np.geomspace(float(lo), float(hi), int(n)) / L
    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=int(cfg["dim"]), spectrum="linspace")
    hyper = {
        "am-sgd": dict(lr=lr, lam=float(cfg["lam"]), beta_max=float(cfg["beta_max"])),
        "hb": dict(alpha=lr, beta=0.9),
        "adaptive-hb": dict(lr=lr),
        "demon-sgdm": dict(eta=lr, beta_init=0.9, T=float(steps)),
    }
    iters = np.empty((len(METHODS), lr.size))
    am_beta = None
    k = None
    for j, (name, _, _) in enumerate(METHODS):
        traj = polyak.simulate(polyak.make_method(name, **hyper[name]), problem, steps)
        rel = traj.dist[:, 0, :, 0] / traj.dist[:1, 0, :, 0]
        iters[j] = first_below(rel, traj.k, float(cfg["tol"]))
        if name == "am-sgd":
            lam = float(cfg["lam"])
            am_beta = traj.beta[:, 0, :, 0] * (1 + lam) - lam
            k = traj.k
    show = np.array([int(np.argmin(np.abs(lr * L - s))) for s in cfg["show"]])
    return {"k": k, "lr": lr, "iters": iters, "am_beta": am_beta, "show": show, "mu": np.float64(mu),
            "L": np.float64(L), "steps": np.int64(steps), "tol": np.float64(cfg["tol"]), "lam": np.float64(cfg["lam"]),
            "beta_max": np.float64(cfg["beta_max"]), "methods": np.array([m[0] for m in METHODS])}
