"""Heavy ball tuned for quadratics cycles on the Lessard-Recht-Packard function.

The LRP function (``make_problem("lessard")``) is 1-strongly convex and 25-smooth, piecewise
quadratic with breakpoints at x = 1 and x = 2 (slopes 25, 1, 25). Heavy ball with Polyak's quadratic
tuning for kappa = 25, alpha = 1/9 and beta = 4/9 (``polyak.theory.hb_optimal(1, 25)``), started at
x_0 = x_{-1} = 3.3, never converges: it falls into a period-3 limit cycle that visits all three
pieces (lessard2016, sec. 4.6; goujaud2023 show such cycles are unavoidable for accelerating HB tunings).

The problem is separable, so one ``simulate`` call runs every start as its own coordinate. Left: the
iterates from x_0 = 3.3 against k. Middle: the phase plot (x_k, x_{k+1}); the cycle is a triangle,
converging starts spiral into the origin. Right: ``|x_k - x*|`` from several starts (log scale): most
starts converge at a linear rate, some are captured by the cycle; the share of captured starts over
a fine scan of [-4, 4] is reported.
"""

from __future__ import annotations

import numpy as np

from ._util import note
from .registry import register


def plot(data, axes) -> None:
    ax0, ax1, ax2 = axes[0]
    X = data["x"]  # (steps + 1, n_show)
    k = data["k"]
    starts = data["starts"]
    i0 = int(data["cycle_index"])
    n0 = int(data["n_zoom"])
    for y, lab in ((1.0, "breakpoints"), (2.0, None)):
        ax0.axhline(y, color="0.55", lw=0.8, ls=":", label=lab)
    ax0.axhline(0.0, color="black", lw=0.8, label=r"minimiser $x_\star = 0$")
    ax0.plot(k[:n0], X[:n0, i0], "o-", color="#D55E00", ms=3.5, lw=1.0, label=fr"heavy ball from $x_0 = {starts[i0]:g}$")
    ax0.set_xlabel("iteration $k$")
    ax0.set_ylabel("iterate $x_k$")
    ax0.set_title(fr"$\alpha = {float(data['alpha']):.4g}$, $\beta = {float(data['beta']):.4g}$: no convergence")
    ax0.legend(loc="lower right", fontsize=7.5)
    colors = ["#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    others = [j for j in range(X.shape[1]) if j != i0][:2]
    n_ph = int(data["n_phase"])
    for j in others:
        c = colors[others.index(j)]
        ax1.plot(X[:n_ph, j], X[1:n_ph + 1, j], "-", color=c, lw=0.9, alpha=0.85,
                 label=fr"from $x_0 = {starts[j]:g}$ (converges)")
        ax1.plot(X[0, j], X[1, j], "s", color=c, ms=5)
    ax1.plot(X[:n_ph, i0], X[1:n_ph + 1, i0], "-", color="#D55E00", lw=0.8, alpha=0.45,
             label=fr"from $x_0 = {starts[i0]:g}$")
    ax1.plot(X[0, i0], X[1, i0], "s", color="#D55E00", ms=5)
    cyc = data["cycle"]
    tri = np.concatenate([cyc, cyc[:1]])
    ax1.plot(tri[:-1], tri[1:], "o-", color="#D55E00", lw=2.0, ms=6, label="period-3 cycle")
    ax1.plot(0, 0, "*", color="black", ms=10, label=r"$x_\star$")
    for v in (1.0, 2.0):
        ax1.axvline(v, color="0.55", lw=0.8, ls=":")
        ax1.axhline(v, color="0.55", lw=0.8, ls=":")
    ax1.set_xlabel("$x_k$")
    ax1.set_ylabel("$x_{k+1}$")
    ax1.set_title(f"phase plot, first {n_ph} steps (squares: starts)")
    ax1.legend(loc="lower left", fontsize=7.5)
    E = np.abs(X)
    tiny = 1e-16
    ci = 0
    for j in range(X.shape[1]):
        c = "#D55E00" if j == i0 else colors[ci % len(colors)]
        if j != i0:
            ci += 1
        e = np.maximum(E[:, j], tiny)
        ax2.semilogy(k, e, color=c, lw=1.6 if j == i0 else 1.1, label=fr"$x_0 = {starts[j]:g}$" + (" (cycles)" if data["captured_show"][j] else ""))
    ax2.set_ylim(tiny, 1e2)
    ax2.set_xlabel("iteration $k$")
    ax2.set_ylabel(r"$|x_k - x_\star|$ (floored at $10^{-16}$)")
    ax2.set_title("convergence from other starts")
    ax2.legend(loc="center right", fontsize=7.5)
    n, m = int(data["scan_n"]), int(data["scan_captured"])
    note(ax2, f"{m} of {n} starts on a grid of [{data['scan_lo']:g}, {data['scan_hi']:g}]\nend in the cycle", "lower left")


@register(
    "lessard_cycle",
    "The Lessard-Recht-Packard cycle: trajectory and phase plot, beside convergence from other starts",
    config={"mu": 1.0, "L": 25.0, "steps": 300, "starts": [3.3, 2.6, -1.7, 0.9, -3.6], "n_zoom": 40, "n_phase": 25,
            "scan": [-4.0, 4.0, 801]},
    fast={"steps": 200, "scan": [-4.0, 4.0, 161]},
    panels=(1, 3), size=(13.0, 4.2), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    import polyak.theory as th

    mu, L = float(cfg["mu"]), float(cfg["L"])
    alpha, beta, _ = (float(v) for v in th.hb_optimal(mu, L))
    show = np.asarray(cfg["starts"], dtype=float)
    lo, hi, n = cfg["scan"]
    scan = np.linspace(float(lo), float(hi), int(n))
    starts = np.concatenate([show, scan])
    steps = int(cfg["steps"])
    problem = polyak.make_problem("lessard", dim=starts.size, mu=mu, L=L)
    traj = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), problem, steps, x0=starts,
                           keep_last=steps + 1)
    X = traj.x_tail[:, 0, 0, :]  # (steps + 1, d): every coordinate is one start
    tail = np.abs(X[-30:]).max(axis=0)
    captured = tail > 1e-3
    i0 = int(np.flatnonzero(captured[: show.size])[0]) if captured[: show.size].any() else 0
    cyc = X[-3:, i0]
    return {
        "k": traj.k, "x": X[:, : show.size], "starts": show, "alpha": np.float64(alpha), "beta": np.float64(beta),
        "mu": np.float64(mu), "L": np.float64(L), "cycle_index": np.int64(i0), "cycle": cyc,
        "captured_show": captured[: show.size], "scan_starts": scan, "scan_captured_mask": captured[show.size:],
        "scan_n": np.int64(scan.size), "scan_captured": np.int64(captured[show.size:].sum()),
        "scan_lo": np.float64(lo), "scan_hi": np.float64(hi), "n_zoom": np.int64(cfg["n_zoom"]), "n_phase": np.int64(cfg["n_phase"]),
        "tail_x": X[-12:, : show.size],
    }
