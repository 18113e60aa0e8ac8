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
# # Momentum as primal averaging
#
# Defazio (2020) writes SGD with momentum as *stochastic primal averaging* (SPA):
# $$z_{k+1} = z_k - \eta_k\, g(x_k), \qquad x_{k+1} = (1 - c_{k+1})\, x_k + c_{k+1}\, z_{k+1}, \qquad z_0 = x_0 .$$
# Eliminating $z$ gives heavy ball with
# $$\alpha_k = \eta_k c_{k+1}, \qquad \beta_k = \frac{c_{k+1}(1 - c_k)}{c_k}.$$
# Constant parameters: $c = 1 - \beta$, $\eta = \alpha / (1 - \beta)$. With $c_{k+1} = 1/(k+1)$ the sequence
# $x_k$ is the running average of the $z_k$: primal averaging.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import polyak
import polyak.figures as pf
import polyak.theory as th
from polyak.solvers import Schedule, harmonic
from polyak.solvers.forms import hb_from_spa, spa_from_hb

FAST = os.environ.get("POLYAK_FAST", "0") == "1"
K = 100 if FAST else 400

# %% [markdown]
# ## The map, symbolically and numerically

# %%
d = th.get("spa-to-hb")
for name, expr in d.expressions.items():
    print(f"{name} = {expr}")
eta = np.full(K, 0.2)
c = 1.0 / np.maximum(np.arange(K + 1), 1.0)  # c_{k+1} = 1/(k+1)
alpha_k, beta_k = hb_from_spa(eta, c)
print("beta_k for k = 1..5:", np.round(beta_k[1:6], 4), " (k-1)/(k+1):", np.round((np.arange(1, 6) - 1) / (np.arange(1, 6) + 1), 4))

# %% [markdown]
# ## Same iterates, two forms
#
# We run SPA and heavy ball (with the mapped, time-varying $\alpha_k, \beta_k$) on the same quadratic.

# %%
problem = polyak.make_problem("quadratic", mu=0.1, L=1.0, dim=10)
spa = polyak.simulate(polyak.make_method("spa", eta=0.2, c=harmonic()), problem, K, keep_last=K + 1)
hb = polyak.simulate(polyak.make_method("hb", alpha=Schedule.sequence(alpha_k), beta=Schedule.sequence(beta_k)),
                     problem, K, keep_last=K + 1)
print("max |x_SPA - x_HB| =", np.abs(spa.x_tail - hb.x_tail).max())

# %% [markdown]
# The reverse map (heavy ball to SPA) must run *backwards*: $c_k = c_{k+1}/(\beta_k + c_{k+1})$. The
# forward recursion amplifies rounding errors.

# %%
eta_back, c_back = spa_from_hb(alpha_k, beta_k, c_last=c[-1])
print("backward recursion recovers c:", np.allclose(c_back[1:], c[1:]), " eta:", np.allclose(eta_back, eta))

# %% [markdown]
# ## A Lyapunov function in SPA form
#
# For $L$-smooth $f$ (convexity not needed) and $\alpha \le (1 - \beta^2)/L$,
# $$\Lambda_k = f(x_k) + \frac{1 - L\alpha}{2\alpha}\, \|x_k - x_{k-1}\|^2$$
# decreases by at least $\tfrac{\alpha}{2}\|\nabla f(x_k)\|^2$ per step (derived in `polyak.theory`; weaker
# than the paper's own constants, which we could not read).

# %%
print("alpha_max =", th.get("spa-lyapunov").expressions["alpha_max"])
pf.show("spa_lyapunov", fast=True)

# %% [markdown]
# And the trajectories of both forms, drawn on top of each other:

# %%
pf.show("spa_vs_hb", fast=True)

# %% [markdown]
# **Take-away.** Momentum is averaging: a heavy-ball method is an SGD sequence $z_k$ whose iterates
# are averaged with weights $c_k$. Schedules for $\beta_k$ become schedules for the averaging weights,
# which is how schedule-free SGD was born:

# %%
pf.show("schedule_free_heatmap", fast=True)
