"""Interactive exploration for the notebooks: sliders over heavy ball's (alpha, beta).

:func:`hb_explorer` draws the heavy-ball convergence region on quadratics with spectrum in
[mu, L] (the closed-form worst-case rate :func:`polyak.theory.hb_rate` as colour, the boundary
alpha L = 2 (1 + beta), the best beta for each alpha and Polyak's optimum), marks a chosen
(alpha L, beta), and next to it the simulated ``||x_k - x*||`` of heavy ball at that point against
the predicted envelope rho^k.

In a live Jupyter kernel with ipywidgets the returned object displays as two sliders and the plot
redrawn on every move. Anywhere else (a static page, nbconvert, these docs, a kernel without
ipywidgets) it displays as the static plot at the chosen values: its display bundle carries both
the widget view and an ``image/png``, and a renderer without a live widget manager shows the PNG.

>>> from polyak.figures.explore import hb_explorer
>>> ex = hb_explorer(mu=1.0, L=10.0, alpha_L=1.0, beta=0.3)
>>> round(ex.rate, 4)  # max over the spectrum of the iteration matrix's spectral radius
0.8449
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: slider ranges: alpha L in (0, ALPHA_L_MAX], beta in [0, BETA_MAX]
ALPHA_L_MAX = 4.4
BETA_MAX = 0.98


def _check(mu: float, L: float, alpha_L: float, beta: float) -> tuple[float, float, float, float]:
    mu, L, alpha_L, beta = (float(v) for v in (mu, L, alpha_L, beta))
    if not (np.isfinite(mu) and mu > 0):
        raise ValueError(f"mu must be > 0; got {mu}")
    if not (np.isfinite(L) and L >= mu):
        raise ValueError(f"L must be >= mu = {mu}; got {L}")
    if not (np.isfinite(alpha_L) and 0 < alpha_L <= ALPHA_L_MAX):
        raise ValueError(f"alpha_L (alpha times L) must be in (0, {ALPHA_L_MAX}]; got {alpha_L}")
    if not (np.isfinite(beta) and 0 <= beta <= BETA_MAX):
        raise ValueError(f"beta must be in [0, {BETA_MAX}]; got {beta}")
    return mu, L, alpha_L, beta


def _kernel_is_live() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel attached)."""
    import sys

    if "IPython" not in sys.modules:
        return False
    ip = sys.modules["IPython"].get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


class HBExplorer:
    """The heavy-ball region with a chosen point; see :func:`hb_explorer`.

    Attributes:
        mu, L: the spectrum's bounds.
        alpha_L, beta: the chosen point (the step is ``alpha = alpha_L / L``).
        rate: the closed-form worst-case rate at the point (>= 1: no convergence).
        steps: the simulated steps.
    """

    def __init__(self, mu: float, L: float, alpha_L: float, beta: float, steps: int = 120, n_grid: int = 121):
        self.mu, self.L, self.alpha_L, self.beta = _check(mu, L, alpha_L, beta)
        self.steps, self.n_grid = int(steps), int(n_grid)
        if self.steps < 2:
            raise ValueError(f"steps must be >= 2; got {steps}")
        self._region = None

    @property
    def rate(self) -> float:
        import polyak.theory as th

        return float(th.hb_rate(self.alpha_L / self.L, self.beta, self.mu, self.L))

    def region(self) -> dict:
        """The closed-form rate on an (alpha L, beta) grid, the best-beta curve and the optimum."""
        if self._region is None:
            import polyak.theory as th

            mu, L = self.mu, self.L
            aL = np.linspace(0.0, ALPHA_L_MAX, self.n_grid)[1:]
            bb = np.linspace(0.0, BETA_MAX, self.n_grid)
            rate = np.asarray(th.hb_rate(aL[:, None] / L, bb[None, :], mu, L), dtype=float)
            a_line = np.linspace(1e-4, 4.0 / L, 401)[:-1]
            best = np.asarray(th.hb_best_beta(a_line, mu, L), dtype=float)
            keep = best <= BETA_MAX
            a_opt, b_opt, r_opt = (float(v) for v in th.hb_optimal(mu, L))
            self._region = {"alphaL": aL, "beta": bb, "rate": rate, "best_aL": a_line[keep] * L,
                            "best_beta": best[keep], "opt": (a_opt * L, b_opt, r_opt)}
        return self._region

    def trajectory(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """``(k, ||x_k - x*|| / ||x_0 - x*||, diverged)`` of heavy ball at the point."""
        import polyak

        dim = 20
        problem = polyak.make_problem("quadratic", mu=self.mu, L=self.L, dim=dim, spectrum="linspace")
        tr = polyak.simulate(polyak.make_method("hb", alpha=self.alpha_L / self.L, beta=self.beta), problem,
                             self.steps)
        err = np.asarray(tr.dist[:, 0, 0], dtype=float)
        return np.asarray(tr.k), err / err[0], bool(np.asarray(tr.diverged).any())

    def figure(self) -> Any:
        """The static plot at the chosen point (a matplotlib Figure that displays inline)."""
        import matplotlib as mpl

        from .io import shown_figure_class, style

        reg = self.region()
        k, err, diverged = self.trajectory()
        rho = self.rate
        with style():
            fig = shown_figure_class()(figsize=(11.0, 4.4), layout="constrained")
            ax0, ax1 = fig.subplots(1, 2)
            cmap = mpl.colormaps["viridis"].with_extremes(over="#bdbdbd", bad="#bdbdbd")
            norm = mpl.colors.Normalize(max(np.floor(10 * reg["opt"][2]) / 10 - 0.1, 0.0), 1.0)
            im = ax0.pcolormesh(reg["alphaL"], reg["beta"], np.where(np.isfinite(reg["rate"]), reg["rate"], 2.0).T,
                                cmap=cmap, norm=norm, shading="nearest", rasterized=True)
            b = np.linspace(0.0, BETA_MAX, 50)
            ax0.plot(2 * (1 + b), b, "-", color="#D55E00", lw=1.4, label=r"boundary $\alpha L = 2(1+\beta)$")
            ax0.plot(reg["best_aL"], reg["best_beta"], "--", color="black", lw=1.1, label=r"best $\beta$ for $\alpha$")
            ax0.plot(*reg["opt"][:2], "*", ms=12, mfc="#E69F00", mec="black", label=fr"optimum, $\rho^\star = {reg['opt'][2]:.3f}$")
            ax0.plot(self.alpha_L, self.beta, "o", ms=9, mfc="white", mec="black", mew=1.5, label="your choice")
            ax0.set_xlim(0, ALPHA_L_MAX)
            ax0.set_ylim(0, BETA_MAX)
            ax0.set_xlabel(r"step size $\alpha L$")
            ax0.set_ylabel(r"momentum $\beta$")
            ax0.set_title(fr"worst-case rate on $[\mu, L] = [{self.mu:g}, {self.L:g}]$")
            ax0.legend(loc="upper left", fontsize=7, facecolor="white", framealpha=0.9)
            fig.colorbar(im, ax=ax0, extend="max", shrink=0.9, label=r"$\rho$ (grey: diverges)")
            finite = np.isfinite(err) & (err > 0)
            ax1.semilogy(k[finite], err[finite], color="#D55E00", label=r"heavy ball $\|x_k - x_\star\|$")
            if rho < 1:
                ax1.semilogy(k, np.maximum(rho ** k, 1e-300), ":", color="black", label=fr"$\rho^k$, $\rho = {rho:.3f}$")
            ax1.set_ylim(1e-16, 1e3)
            ax1.set_xlabel("iteration $k$")
            ax1.set_ylabel(r"$\|x_k - x_\star\| / \|x_0 - x_\star\|$")
            verdict = "diverges" if (diverged or rho >= 1) else f"rate {rho:.3f}"
            ax1.set_title(fr"$\alpha L = {self.alpha_L:.2f}$, $\beta = {self.beta:.2f}$: {verdict}")
            ax1.legend(loc="lower left", fontsize=8)
        return fig

    def widget(self) -> Any:
        """The live version: ipywidgets sliders over alpha L and beta (ImportError without ipywidgets)."""
        import ipywidgets as w

        def update(alpha_L: float, beta: float):
            self.alpha_L, self.beta = _check(self.mu, self.L, alpha_L, beta)[2:]
            return self.figure()

        return w.interactive(
            update,
            alpha_L=w.FloatSlider(value=self.alpha_L, min=0.02, max=ALPHA_L_MAX, step=0.02, description="alpha L",
                                  continuous_update=False),
            beta=w.FloatSlider(value=self.beta, min=0.0, max=BETA_MAX, step=0.01, description="beta",
                               continuous_update=False),
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        data: dict = {}
        bundle = None
        if _kernel_is_live():
            try:
                bundle = self.widget()._repr_mimebundle_(include=include, exclude=exclude)
            except ImportError:  # no ipywidgets: the static plot only
                bundle = None
        if bundle:
            data.update(bundle[0] if isinstance(bundle, tuple) else bundle)
        data["image/png"] = self.figure()._repr_png_()
        data["text/plain"] = (f"HBExplorer(mu={self.mu:g}, L={self.L:g}, alpha_L={self.alpha_L:g}, beta={self.beta:g}, "
                              f"rate={self.rate:.4f})")
        return data

    def __repr__(self) -> str:
        return f"HBExplorer(mu={self.mu:g}, L={self.L:g}, alpha_L={self.alpha_L:g}, beta={self.beta:g})"


def hb_explorer(mu: float = 1.0, L: float = 10.0, alpha_L: float = 1.0, beta: float = 0.5, steps: int = 120) -> HBExplorer:
    """Heavy ball's region and rate with sliders over ``alpha L`` and ``beta`` (static plot without a kernel).

    Args:
        mu, L: the spectrum [mu, L] of the quadratic, ``0 < mu <= L``.
        alpha_L: the step times L, in (0, 4.4].
        beta: the momentum, in [0, 0.98].
        steps: heavy-ball steps simulated for the right panel.

    Returns:
        :class:`HBExplorer`; a notebook cell ending with it shows the sliders (live kernel with
        ipywidgets) or the static plot.
    """
    return HBExplorer(mu, L, alpha_L, beta, steps)
