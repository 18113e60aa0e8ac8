# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Why momentum accelerates on quadratics
#
# We derive the optimal heavy-ball tuning on quadratics, simulate it, and plot the result.
# Everything uses the public API of `polyak`: closed forms from `polyak.theory`, simulations from
# `polyak.simulate`, rate fits from `polyak.verify`.
#
# Set `POLYAK_FAST=1` to run small versions (this is what CI does).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import polyak
import polyak.theory as th
from polyak.verify import fit_linear_rate, fit_linear_rate_transient

FAST = os.environ.get("POLYAK_FAST", "0") == "1"
DIM = 20 if FAST else 100

# %% [markdown]
# ## 1. Derive
#
# On $f(x) = \tfrac12 x^\top A x$ with the spectrum of $A$ in $[\mu, L]$, heavy ball
# $$x_{k+1} = x_k - \alpha \nabla f(x_k) + \beta (x_k - x_{k-1})$$
# decouples along the eigenvectors. For one eigenvalue $\lambda$ the pair $(e_k, e_{k-1})$ is multiplied by
# $$T_\lambda = \begin{pmatrix} 1 + \beta - \alpha\lambda & -\beta \\ 1 & 0 \end{pmatrix},
# \qquad \det(zI - T_\lambda) = z^2 - (1 + \beta - \alpha\lambda) z + \beta .$$
# When the roots are complex their modulus is $\sqrt\beta$, whatever $\lambda$. Choosing $(\alpha, \beta)$
# so that every $\lambda \in [\mu, L]$ gives complex (or double) roots makes the rate $\sqrt\beta$; the
# smallest such $\beta$ is
# $$\alpha^\star = \frac{4}{(\sqrt L + \sqrt \mu)^2}, \qquad
# \beta^\star = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \qquad
# \rho^\star = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} \approx 1 - \frac{2}{\sqrt\kappa},$$
# against $\rho_{\rm GD} = \frac{\kappa - 1}{\kappa + 1} \approx 1 - \frac{2}{\kappa}$ for gradient descent.
# `polyak.theory` derives this with sympy; its record shows the steps.

# %%
d = th.get("hb-quadratic-optimal")
print(d.title)
for name, expr in d.expressions.items():
    print(f"  {name} = {expr}")

# %% [markdown]
# The numeric helpers are lambdified from those expressions:

# %%
kappa = np.array([10.0, 100.0, 1000.0])
alpha_hb, beta_hb, rho_hb = th.hb_optimal(1.0, kappa)
alpha_gd, rho_gd = th.gd_optimal(1.0, kappa)
for k, r1, r2 in zip(kappa, rho_gd, rho_hb):
    print(f"kappa = {k:6g}:  GD rate {r1:.4f} ({np.log(1e-6) / np.log(r1):7.0f} steps to 1e-6),"
          f"  HB rate {r2:.4f} ({np.log(1e-6) / np.log(r2):5.0f} steps)")

# %% [markdown]
# ## 2. Simulate
#
# One `simulate` call runs all three condition numbers, each at its own tuning (`per_problem=True`).

# %%
problem = polyak.make_problem("quadratic", mu=1.0, L=kappa, dim=DIM, spectrum="linspace")
steps = 600 if FAST else 3000
hb = polyak.simulate(polyak.make_method("hb", alpha=alpha_hb, beta=beta_hb), problem, steps, per_problem=True)
gd = polyak.simulate(polyak.make_method("gd", alpha=alpha_gd), problem, steps, per_problem=True)
print(hb.dist.shape)  # (records, problems, seeds)

# %% [markdown]
# ## 3. Measure the rates
#
# At the optimum the extreme eigenvalues give *double* roots, so heavy ball's error is
# $(a + bk)\rho^k$ rather than $\rho^k$: we fit with the $k\rho^k$ model.

# %%
for i, k in enumerate(kappa):
    fit_hb = fit_linear_rate_transient(hb.dist[:, i, 0], hb.k, power=1.0, burn_in=0.5)
    fit_gd = fit_linear_rate(gd.dist[:, i, 0], gd.k, burn_in=0.5)
    print(f"kappa = {k:6g}:  HB measured {fit_hb.rate:.4f} vs {rho_hb[i]:.4f};"
          f"  GD measured {fit_gd.rate:.4f} vs {rho_gd[i]:.4f}")

# %% [markdown]
# ## 4. Plot

# %%
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for i, k in enumerate(kappa):
    (line,) = ax.semilogy(hb.k, hb.dist[:, i, 0] / hb.dist[0, i, 0], label=fr"heavy ball, $\kappa = {k:g}$")
    ax.semilogy(gd.k, gd.dist[:, i, 0] / gd.dist[0, i, 0], "--", color=line.get_color(), label=fr"GD, $\kappa = {k:g}$")
ax.set_ylim(1e-14, 10)
ax.set_xlabel("iteration $k$")
ax.set_ylabel(r"$\|x_k - x_\star\| / \|x_0 - x_\star\|$")
ax.legend(ncol=2, fontsize=8)
plt.show()

# %% [markdown]
# The toolkit's own figure puts the closed form, the measurement and an SDP certificate over *all*
# smooth strongly convex functions side by side (`polyak figures rate_vs_kappa`):

# %%
import polyak.figures as pf

pf.show("rate_vs_kappa", fast=True)

# %% [markdown]
# ## 5. Explore: the heavy-ball region
#
# Move the sliders: the left panel is the closed-form worst-case rate over the spectrum $[\mu, L]$
# (grey: heavy ball diverges; the boundary is $\alpha L = 2(1 + \beta)$), the right one the run at your
# choice against the predicted $\rho^k$. Sliders need a live Jupyter kernel with `ipywidgets`
# (`pip install "polyak[notebooks]"`); elsewhere (a static page, these docs) the cell shows the plot
# at the values below. Try to beat the star.

# %%
from polyak.figures.explore import hb_explorer

hb_explorer(mu=1.0, L=10.0, alpha_L=1.0, beta=0.3)

# %% [markdown]
# **Take-away.** The rate improves from $1 - 2/\kappa$ to $1 - 2/\sqrt\kappa$: at $\kappa = 1000$ that is
# thirty times fewer iterations. The price is the $k\rho^k$ transient and, as the next notebook shows,
# fragility beyond quadratics.
