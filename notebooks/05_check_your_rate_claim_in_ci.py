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
# # Checking your own rate claim in CI
#
# Suppose your paper says: *heavy ball with $\alpha = 4/(\sqrt L + \sqrt\mu)^2$ and
# $\beta = ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2$ converges at rate $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ on
# quadratics.* Here are three ways to keep that claim honest in continuous integration.

# %%
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

import polyak
from polyak.verify import assert_rate

FAST = os.environ.get("POLYAK_FAST", "0") == "1"

# %% [markdown]
# ## 1. One line: `assert_rate`
#
# `assert_rate(method, problem, rate, relation, rtol)` simulates, fits the asymptotic rate over the
# second half of the records above the floating-point floor, and raises `AssertionError` with the
# numbers when the claim fails. The fit chooses its model from the data: heavy ball at its optimum has
# double roots, its error is $\sim k\rho^k$, and a plain log-linear fit would be biased upwards by about
# $\log(k_2/k_1)/(k_2-k_1)$; the default fit sees the $k$ factor and fits the double-root model
# $e_k^2 = ((a + bk)^2 + c^2)\rho^{2k}$ (it reports the model, its coefficients, the window and the
# residual). So the textbook claim passes as a tight claim at `rtol=2e-3`.

# %%
mu, L = 1.0, 100.0
sk = np.sqrt(L / mu)
rho = (sk - 1) / (sk + 1)
method = polyak.make_method("hb", alpha=4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, beta=rho**2)
problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=20 if FAST else 100, spectrum="linspace")
fits = assert_rate(method, problem, rho, rtol=2e-3)
print(f"fitted {fits[0].rate:.5f} vs claimed {rho:.5f}: ok;", fits[0].describe())

# %% [markdown]
# A wrong claim fails loudly:

# %%
try:
    assert_rate(method, problem, 0.99 * rho, rtol=2e-3)
except AssertionError as exc:
    print("AssertionError:", str(exc)[:300])

# %% [markdown]
# ## 2. The pytest plugin
#
# Installing `polyak` registers a pytest plugin with a `rate_check` fixture (it is `assert_rate`),
# so your test file needs no imports from our test helpers:

# %%
test_code = textwrap.dedent(
    """
    import numpy as np
    from polyak.solvers import make_method, make_problem

    def test_heavy_ball_claim(rate_check):
        mu, L = 1.0, 100.0
        rho = (np.sqrt(L) - 1) / (np.sqrt(L) + 1)
        m = make_method("hb", alpha=4 / (np.sqrt(L) + 1) ** 2, beta=rho**2)
        p = make_problem("quadratic", mu=mu, L=L, dim=20, spectrum="linspace")
        rate_check(m, p, rho, rtol=2e-3)
    """
)
with tempfile.TemporaryDirectory() as tmp:
    Path(tmp, "test_claim.py").write_text(test_code)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tmp],
                         capture_output=True, text=True, cwd=tmp)
print(res.stdout[-400:])
assert res.returncode == 0

# %% [markdown]
# ## 3. The command line
#
# `polyak verify` runs the claims declared in `polyak.papers` and exits non-zero when one fails;
# `polyak certify hb --mu 1 --L 10 --alpha 0.1 --beta 0.3` certifies a rate over *all* smooth strongly
# convex functions. A CI job can be as short as
#
# ```yaml
# - run: pip install polyak
# - run: polyak verify --suite fast
# - run: pytest tests/test_my_claims.py
# ```

# %%
res = subprocess.run([sys.executable, "-m", "polyak", "certify", "hb", "--mu", "1", "--L", "10",
                      "--alpha", "0.1", "--beta", "0.3"], capture_output=True, text=True)
print(res.stdout[-600:] or res.stderr[-600:])
