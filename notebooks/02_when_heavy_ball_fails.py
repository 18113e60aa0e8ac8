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
# # When heavy ball fails
#
# The quadratic analysis of notebook 01 says nothing about other functions. Lessard, Recht and
# Packard (2016) built a function that is 1-strongly convex and 25-smooth on which heavy ball with the
# quadratic-optimal tuning never converges:
# $$f'(x) = \begin{cases} 25x & x < 1 \\ x + 24 & 1 \le x < 2 \\ 25x - 24 & x \ge 2. \end{cases}$$
# For $\kappa = 25$ Polyak's tuning is $\alpha = 1/9$, $\beta = 4/9$.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import polyak
import polyak.theory as th
from polyak.verify.certificates import certify_rate

FAST = os.environ.get("POLYAK_FAST", "0") == "1"
alpha, beta, rho = (float(v) for v in th.hb_optimal(1.0, 25.0))
print(f"alpha = {alpha:.4f}, beta = {beta:.4f}, quadratic rate = {rho:.4f}")

# %% [markdown]
# ## A limit cycle
#
# The problem is separable, so a `dim`-dimensional LRP problem runs `dim` one-dimensional starts at once.

# %%
starts = np.array([3.3, 2.6, -1.7, 0.9])
problem = polyak.make_problem("lessard", dim=starts.size)
steps = 150 if FAST else 400
traj = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), problem, steps, x0=starts, keep_last=steps + 1)
X = traj.x_tail[:, 0, 0, :]
print("last iterates from x0 = 3.3:", np.round(X[-6:, 0], 6))

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax0.plot(traj.k[:40], X[:40, 0], "o-", ms=3)
ax0.axhline(1, ls=":", color="gray")
ax0.axhline(2, ls=":", color="gray")
ax0.set_xlabel("iteration $k$")
ax0.set_ylabel("$x_k$")
ax0.set_title("heavy ball from $x_0 = 3.3$: a period-3 cycle")
for j, s in enumerate(starts):
    ax1.semilogy(traj.k, np.maximum(np.abs(X[:, j]), 1e-16), label=f"$x_0 = {s:g}$")
ax1.set_xlabel("iteration $k$")
ax1.set_ylabel(r"$|x_k - x_\star|$")
ax1.legend()
plt.show()

# %% [markdown]
# ## What a certificate says
#
# A rate that holds for *every* $\mu$-strongly convex, $L$-smooth function can be certified by a small
# semidefinite program (a Lyapunov function found by `cvxpy`). For the quadratic-optimal heavy ball at
# $\kappa = 25$ there is none; gradient descent and Nesterov's method get one.

# %%
for method, a, b in [("hb", alpha, beta), ("gd", 2 / 26, 0.0), ("nesterov", None, None)]:
    c = certify_rate(method, 1.0, 25.0, a, b)
    print(f"{method:9s} certified: {c.certified}  rate: {c.rate}")

# %% [markdown]
# Goujaud, Taylor and Dieuleveut (2023) show this is no accident: every heavy-ball tuning that
# accelerates on quadratics cycles on some smooth strongly convex function. The toolkit's figure:

# %%
import polyak.figures as pf

pf.show("lessard_cycle", fast=True)

# %% [markdown]
# **Take-away.** Quadratic rates are a lower bound on worst-case behaviour, not a guarantee. To claim a
# rate over a function class, certify it (`polyak certify`) rather than simulate it.
