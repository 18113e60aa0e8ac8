"""Linear rate against the condition number for GD, heavy ball and Nesterov.

Three numbers per method and kappa, side by side:

* closed form (``polyak.theory``): the worst-case spectral radius on quadratics of each method at
  its classical tuning -- GD at 2/(L+mu), heavy ball at Polyak's optimum, Nesterov at
  (1/L, (sqrt(kappa)-1)/(sqrt(kappa)+1));
* measured: the rate fitted to ``||x_k - x*||`` of one batched ``simulate`` call per method on a
  quadratic whose spectrum fills [mu, L] (heavy ball and Nesterov have double roots at the extreme
  eigenvalues, so they are fitted as k rho^k with ``fit_linear_rate_transient``);
* certified (``polyak.verify.certificates.certify_rates``): the best rate a Lyapunov SDP proves over
  *all* mu-strongly convex L-smooth functions. Quadratic-optimal heavy ball has no certificate
  beyond small kappa (it can cycle, see ``lessard_cycle``): those points are absent.

The right panel plots 1 - rho on log-log axes, where GD's slope is -1 and the accelerated
methods' slope is -1/2.
"""

from __future__ import annotations

import numpy as np

from ._util import COLORS, LABELS, note
from .registry import register

METHODS = ("gd", "hb", "nesterov")


def _closed_forms(kappa: np.ndarray) -> dict[str, np.ndarray]:
    import polyak.theory as th

    one = np.ones_like(kappa)
    a_gd, r_gd = th.gd_optimal(one, kappa)
    a_hb, b_hb, r_hb = th.hb_optimal(one, kappa)
    a_n, b_n, r_n = th.nesterov_standard(one, kappa)
    return {"gd": (a_gd, 0 * a_gd, r_gd), "hb": (a_hb, b_hb, r_hb), "nesterov": (a_n, b_n, r_n)}


def plot(data, axes) -> None:
    kappa = data["kappa"]
    ax0, ax1 = axes[0]
    for m in METHODS:
        c = COLORS[m]
        closed, meas, cert = data[f"closed_{m}"], data[f"measured_{m}"], data[f"certified_{m}"]
        for ax, tr in ((ax0, lambda r: r), (ax1, lambda r: 1 - r)):
            ax.plot(kappa, tr(closed), "-", color=c)
            ax.plot(kappa, tr(meas), "o", color=c, mfc="none", ms=7)
            ok = np.isfinite(cert)
            ax.plot(kappa[ok], tr(cert[ok]), "x", color=c, ms=6, mew=1.6)
    for ax in (ax0, ax1):
        ax.set_xscale("log")
        ax.set_xlabel(r"condition number $\kappa = L/\mu$")
    ax0.set_ylabel(r"linear rate $\rho$ of $\|x_k - x_\star\|$")
    ax0.set_title("rate (closer to 1 is slower)")
    ax1.set_yscale("log")
    ax1.set_ylabel(r"$1 - \rho$  (log scale)")
    ax1.set_title(r"$1-\rho$: slope $-1$ (GD) vs $-1/2$ (momentum)")
    hb_cert = data["certified_hb"]
    miss = kappa[~np.isfinite(hb_cert)]
    if miss.size:
        note(ax0, f"heavy ball at its quadratic optimum:\nno SDP certificate for $\\kappa \\geq {miss.min():g}$",
             "lower right")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=COLORS[m], label=LABELS[m]) for m in METHODS]
    handles += [Line2D([], [], ls="-", color="0.3", label="closed form (quadratics)"),
                Line2D([], [], ls="", marker="o", mfc="none", color="0.3", ms=7, label="measured (simulation)"),
                Line2D([], [], ls="", marker="x", color="0.3", mew=1.6, label="certified, all of $S_{\\mu,L}$ (SDP)")]
    ax1.legend(handles=handles, loc="lower left")


@register(
    "rate_vs_kappa",
    "Rate against kappa for GD, heavy ball and Nesterov: closed form, measured, SDP-certified",
    config={"kappas": [3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0], "dim": 60, "steps": 3000,
            "cert_max_kappa": 1000.0, "tol": 1e-6},
    fast={"kappas": [3.0, 10.0, 100.0, 1000.0], "dim": 30, "steps": 2000, "cert_max_kappa": 100.0, "tol": 1e-5},
    panels=(1, 2), size=(10.0, 4.4), plot=plot,
)
def compute(cfg) -> dict:
    import polyak
    from polyak.verify.certificates import certify_rates
    from polyak.verify.rates import fit_linear_rate, fit_linear_rate_transient

    kappa = np.asarray(cfg["kappas"], dtype=float)
    forms = _closed_forms(kappa)
    problem = polyak.make_problem("quadratic", mu=1.0, L=kappa, dim=int(cfg["dim"]), spectrum="linspace")
    out: dict[str, np.ndarray] = {"kappa": kappa}
    for m in METHODS:
        alpha, beta, rho = forms[m]
        hyper = {"alpha": np.asarray(alpha, float)} if m == "gd" else {"alpha": np.asarray(alpha, float),
                                                                         "beta": np.asarray(beta, float)}
        traj = polyak.simulate(polyak.make_method(m, **hyper), problem, int(cfg["steps"]), per_problem=True)
        err = traj.dist[:, :, 0]  # (R, P)
        fit = (lambda e, k: fit_linear_rate(e, k, burn_in=0.5)) if m == "gd" else (
            lambda e, k: fit_linear_rate_transient(e, k, power=1.0, burn_in=0.5))
        out[f"measured_{m}"] = np.array([fit(err[:, i], traj.k).rate for i in range(kappa.size)])
        out[f"closed_{m}"] = np.asarray(rho, dtype=float)
        out[f"alpha_{m}"], out[f"beta_{m}"] = np.asarray(alpha, float), np.asarray(beta, float)
        sel = kappa <= float(cfg["cert_max_kappa"])
        cert = np.full(kappa.size, np.nan)
        certs = certify_rates(m, 1.0, kappa[sel], out[f"alpha_{m}"][sel], out[f"beta_{m}"][sel], tol=float(cfg["tol"]))
        cert[np.flatnonzero(sel)] = [c.rate if c.certified else np.nan for c in certs]
        out[f"certified_{m}"] = cert
        out[f"cert_tried_{m}"] = sel
    return out
