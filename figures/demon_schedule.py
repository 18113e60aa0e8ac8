"""Demon's decaying momentum beta_t and its effective step eta/(1 - beta_t).

Demon (chen2019demon) chooses beta_t so that the total future contribution of a gradient,
beta_t/(1 - beta_t), decays linearly to 0 at t = T. Equivalently the effective step
eta/(1 - beta_t) = eta (1 + (1 - t/T) beta_init/(1 - beta_init)) falls *linearly* from
eta/(1 - beta_init) to eta, while beta_t itself stays high for long and drops late (it is concave).

Data: the closed form ``polyak.theory.demon_beta_closed_form`` (lines) beside the beta_t recorded by
one batched ``simulate`` run of ``demon-sgdm`` over several beta_init (markers).
"""

from __future__ import annotations

import numpy as np

from .registry import register


def plot(data, axes) -> None:
    ax0, ax1 = axes[0]
    t, T, eta = data["t"], float(data["T"]), float(data["eta"])
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    ts, every = data["t_sim"], int(data["marker_every"])
    for i, b0 in enumerate(data["beta_init"]):
        c = colors[i % len(colors)]
        ax0.plot(t, data["beta_closed"][:, i], color=c, label=fr"$\beta_{{\rm init}} = {b0:g}$ (closed form)")
        ax0.plot(ts[::every], data["beta_sim"][::every, i], "o", mfc="none", color=c, ms=5)
        ax1.plot(t, 1 / (1 - data["beta_closed"][:, i]), color=c, label=fr"$\beta_{{\rm init}} = {b0:g}$")
        ax1.plot(ts[::every], 1 / (1 - data["beta_sim"][::every, i]), "o", mfc="none", color=c, ms=5)
    from matplotlib.lines import Line2D

    h = ax0.get_legend_handles_labels()[0] + [Line2D([], [], ls="", marker="o", mfc="none", color="0.3",
                                                     label=r"$\beta_t$ recorded by simulate (demon-sgdm)")]
    ax0.legend(handles=h, loc="lower left")
    ax0.set_xlabel(f"iteration $t$ (horizon $T = {T:g}$)")
    ax0.set_ylabel(r"momentum $\beta_t$")
    ax0.set_title(r"$\beta_t/(1-\beta_t)$ decays linearly: $\beta_t$ drops late")
    ax1.set_xlabel(f"iteration $t$ (horizon $T = {T:g}$)")
    ax1.set_ylabel(r"effective step in units of $\eta$: $1/(1-\beta_t)$")
    ax1.set_title(r"effective step $\eta/(1-\beta_t)$ falls linearly to $\eta$")
    ax1.legend(loc="upper right")


@register(
    "demon_schedule",
    "Demon's beta_t and effective step eta/(1 - beta_t): closed form beside the simulated schedule",
    config={"beta_init": [0.5, 0.9, 0.95, 0.99], "T": 1000, "eta": 0.01, "dim": 10, "marker_every": 50},
    fast={"T": 200, "marker_every": 10},
    panels=(1, 2), size=(10.0, 4.2), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th

    b0 = np.asarray(cfg["beta_init"], dtype=float)
    T, eta = float(cfg["T"]), float(cfg["eta"])
    t = np.arange(int(T) + 1, dtype=float)
    closed = np.asarray(th.demon_beta_closed_form(t[:, None], T, b0[None, :]), dtype=float)
    problem = polyak.make_problem("quadratic", mu=0.1, L=1.0, dim=int(cfg["dim"]))
    traj = polyak.simulate(polyak.make_method("demon-sgdm", eta=eta, beta_init=b0, T=T), problem, int(T))
    # the record at k >= 1 is the beta_t of step t = k - 1 (record 0 holds beta_0 as well)
    sim = traj.beta[1:, 0, :, 0]
    return {"t": t, "T": np.float64(T), "eta": np.float64(eta), "beta_init": b0, "beta_closed": closed,
            "t_sim": traj.k[1:] - 1.0, "beta_sim": sim, "marker_every": np.int64(cfg["marker_every"])}
