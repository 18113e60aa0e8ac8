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
# # Your own method, end to end
#
# Write a momentum method once, as on paper. polyak traces it into its state-space form
# $\xi_{k+1} = A\xi_k + Bu_k$, $y_k = C\xi_k + Du_k$, $u_k = \nabla f(y_k)$, and every analysis takes
# the same object: simulation, the exact worst case over quadratics, the symbolic iteration matrix,
# rate certificates, N-step worst cases (PEP) and the counterexample search.
#
# Our example is the triple momentum method of Van Scoy, Freeman and Lynch (2018), written in the
# three-parameter form (measured at $\xi$).

# %%
import os

import numpy as np

import polyak
from polyak.verify import assert_rate, linear_derivation, quadratic_rate

FAST = os.environ.get("POLYAK_FAST", "0") == "1"


@polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
def triple_momentum(x, x_prev, grad, *, alpha, beta, gamma):
    y = x + gamma * (x - x_prev)
    return x + beta * (x - x_prev) - alpha * grad(y), x


def tmm(mu, L):
    """The paper's tuning with rate rho = 1 - 1/sqrt(kappa)."""
    rho = 1 - np.sqrt(mu / L)
    return triple_momentum(alpha=(1 + rho) / L, beta=rho**2 / (2 - rho), gamma=rho**2 / ((1 + rho) * (2 - rho)))


mu, L = 1.0, 100.0
method = tmm(mu, L)
method

# %% [markdown]
# ## The traced state space
# Two states $(x_k, x_{k-1})$, one gradient call at $y_k = (1+\gamma)x_k - \gamma x_{k-1}$.

# %%
ss = polyak.solvers.state_space(method)
print("A =", ss.A.round(4).tolist())
print("B =", ss.B.round(4).tolist())
print("C =", ss.C.round(4).tolist())
print("D =", ss.D.tolist())

# %% [markdown]
# ## Symbolically: the iteration matrix on a quadratic and its characteristic polynomial
# Along an eigenvector with eigenvalue $\lambda$: $T(\lambda) = A + B\lambda(I - \lambda D)^{-1}C$.

# %%
d = linear_derivation(method)
d.expressions["charpoly"]

# %% [markdown]
# ## The exact worst case over quadratics, against the paper's rate

# %%
kappas = [10.0, 100.0, 1000.0] if FAST else list(np.logspace(0.5, 4, 12))
for kappa in kappas:
    q = quadratic_rate(tmm(1.0, kappa), 1.0, kappa)
    print(f"kappa = {kappa:8.1f}:  quadratic rate {q:.10f}   1 - 1/sqrt(kappa) = {1 - kappa ** -0.5:.10f}")

# %% [markdown]
# ## Simulate, and check the rate as a CI test would

# %%
problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=20 if FAST else 200, spectrum="uniform", instances=3)
traj = polyak.simulate(method, problem, steps=200 if FAST else 600)
print("final distance to x*:", traj.dist[-1].ravel())
assert_rate(method, problem, 1 - np.sqrt(mu / L), rtol=1e-2)
print("assert_rate: the fitted rate is 1 - 1/sqrt(kappa) within 1%")

# %% [markdown]
# ## Over all of $S(\mu, L)$: certificate, N-step worst cases, counterexamples
# `certify_rate` (the rate LMI) and `worst_case` (the PEP) take linear methods as their general
# versions land; `polyak analyze` collects everything in one report, with the time of each part.

# %%
from polyak.verify.analyze import analyze, format_report  # noqa: E402

parts = ("quadratic", "simulated_quadratic", "certified", "pep", "counterexample")
report = analyze(method, mu, L, parts=parts, pep_steps=2 if FAST else 10, periods=(2, 3) if FAST else (2, 3, 4))
print(format_report(report))

# %% [markdown]
# ## A method that is not linear is refused, with the reason

# %%
try:
    quadratic_rate(polyak.make_method("adaptive-hb"), mu, L)
except ValueError as exc:
    print(exc)
