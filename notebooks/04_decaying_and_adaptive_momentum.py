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
# # Decaying and adaptive momentum
#
# Three ways to choose $\beta$ without knowing $\mu$ and $L$:
#
# * **Demon** (Chen et al. 2019): decay $\beta_t$ so that $\beta_t/(1-\beta_t)$ falls linearly to 0 at $t = T$:
#   $$\beta_t = \frac{\beta_{\rm init}(1 - t/T)}{(1 - \beta_{\rm init}) + \beta_{\rm init}(1 - t/T)}.$$
# * **Adaptive heavy ball** (Sun et al. 2021): estimate the curvature by a secant,
#   $h_k = \|g_k - g_{k-1}\|/\|x_k - x_{k-1}\|$, and use the best momentum for one eigenvalue $h_k$:
#   $\beta_k = (1 - \sqrt{\alpha h_k})^2$, clipped to $[0, 1 - \delta]$.
# * **Adaptive Memory** (Topollai and Choromanska 2025): a closed-form $\beta_t$ from a two-plane proximal model.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import polyak
import polyak.figures as pf
import polyak.theory as th

FAST = os.environ.get("POLYAK_FAST", "0") == "1"

# %% [markdown]
# ## Demon: the effective step decays linearly
#
# $1/(1-\beta_t) = 1 + (1 - t/T)\,\beta_{\rm init}/(1-\beta_{\rm init})$, so the effective step
# $\eta/(1-\beta_t)$ is linear in $t$ even though $\beta_t$ is concave.

# %%
T = 200 if FAST else 1000
t = np.arange(T + 1)
b = th.demon_beta_closed_form(t, T, 0.9)
eff = 1 / (1 - b)
print("second differences of 1/(1 - beta_t):", np.abs(np.diff(eff, 2)).max())
pf.show("demon_schedule", fast=True)

# %% [markdown]
# ## Adaptive heavy ball finds the best momentum for its step
#
# On a quadratic $\mu \le h_k \le L$, so $\beta_k$ stays between the images of $\mu$ and $L$. It settles
# near $\max\{(1-\sqrt{\alpha\mu})^2, (\sqrt{\alpha L}-1)^2\}$, the best constant momentum *for that* $\alpha$ —
# which is $\beta^\star$ only when $\alpha = \alpha^\star$.

# %%
mu, L = 1.0, 100.0
alphas = np.array([0.05, 0.2, 1.0]) / L
problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=20 if FAST else 100, spectrum="linspace")
traj = polyak.simulate(polyak.make_method("adaptive-hb", lr=alphas), problem, 300 if FAST else 1000)
for i, a in enumerate(alphas):
    late = traj.beta[len(traj.k) // 2, 0, i, 0]
    print(f"alpha L = {a * L:4.2f}: beta_k at mid-run = {late:.4f}, best beta = {float(th.hb_best_beta(a, mu, L)):.4f}")

# %%
pf.show("adaptive_hb_beta", fast=True)

# %% [markdown]
# ## Adaptive Memory and the others across step sizes
#
# Iterations to reach $\|x_k - x_\star\| \le 10^{-6}\|x_0 - x_\star\|$ on a quadratic with $\kappa = 100$,
# for every method over a grid of step sizes (one batched simulation per method):

# %%
pf.show("adaptive_memory", fast=True)

# %% [markdown]
# ## With noise
#
# Under gradient noise no constant tuning converges; heavy ball settles at a noise floor. At a fixed
# *effective* step $\alpha/(1-\beta)$ momentum hardly changes that floor:

# %%
pf.show("noisy_quadratic", fast=True)

# %% [markdown]
# **Take-away.** Decaying momentum (Demon) is a step-size schedule in disguise; adaptive momentum
# (adaptive HB, AM) tracks the best $\beta$ for the step you chose, which removes one hyperparameter
# but not the step size.
