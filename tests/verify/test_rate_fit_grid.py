"""The default rate fit recovers the asymptotic linear rate within 2e-3 (and rejects 1% off) over a grid.

Grid: kappa in {10, 100, 1e3, 1e4} x methods {GD at 2/(mu+L) and 1/L, heavy ball at its quadratic
optimum (double roots: (a + b k) rho^k), heavy ball away from it (beta = beta*/2: a real slowest root;
beta = beta*^(3/4): complex roots), Nesterov's standard tuning (double root at mu), triple
momentum (Van Scoy et al.; a test-local rule when ``triple-momentum`` is not registered)} x
problems {random quadratic with x* != 0, with x* = 0, l2-regularised logistic regression}.

The prediction is computed here, independently of polyak's theory: the spectral radius of the
iteration's companion matrix at each eigenvalue of the Hessian (``numpy.linalg.eigvalsh`` of the
quadratic's matrix; for logistic regression the Hessian at x*, written out below, with the
method tuned on its extreme eigenvalues: the asymptotic rate is the rate of the linearisation at
x*). Each point calls :func:`polyak.verify.assert_rate` with its defaults (500 steps, the default
fit and floor) and ``rtol=2e-3``, and the same call with the rate 1% too low and 1% too high must
fail.

What makes that hold (issue 10; before, 9 of the 84 points were off by 0.4%-8%): the double-root
model ``(a+bk) rho^k`` (``k rho^k`` leaves the constant a out: +0.3% to +0.4% on logistic regression
even with an exact x*; ``rho^k`` was kept for Nesterov at kappa = 10, +1.6%), chosen when log e_k is
concave and the factor grows like a Jordan block's (the residual alone missed Nesterov at kappa =
10); logistic regression's x* polished to round-off (it stopped at ||grad|| <= 1e-12: a plateau at
5e-13 and 7.5e-12 relative at kappa = 1e3 and 1e4 that left 15-32 records above it, and a fitted
p = 2 at kappa = 1e4, -2.3%); no floor where x* = 0.

Known miss (strict xfail, so a fix shows up): heavy ball at its optimum on logistic regression at
kappa = 10. Its local rate is 0.148, so the error meets round-off (5e-17) after ~20 steps and the
linear regime leaves 8 records (k = 8..15, error 1e-6..1e-12); every root has modulus rho (double
roots at the extreme eigenvalues, complex ones between), so e_k / ((k + 1) rho^k) wobbles by +-1.5%
over those records: 2e-3 in rho is 0.02 in log e over the window, the size of the wobble. Fitted
there: -4.9% (``(a+bk) rho^k``), -0.5% to -4.7% (``k rho^k`` on any window from k = 3..9 to
15..19), +8.1% (``rho^k``).

Other seeds (not in the test: the grid is seed 0) show where the defaults stop: seed 1 fails at 9
points (logistic regression at kappa = 10, where the slowest eigen-direction carries ~6% of the
start and the ratio e_{k+1} / e_k is still 0.98 rho when round-off is met), seed 2 at 2.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest
from scipy.special import expit

import polyak
from polyak.solvers import list_methods
from polyak.solvers.base import MethodRule, Param, build_method
from polyak.verify import assert_rate

KAPPAS = (10.0, 100.0, 1e3, 1e4)
METHODS = ("gd-opt", "gd-1/L", "hb-opt", "hb-real", "hb-complex", "nesterov", "tmm")
KINDS = ("quadratic", "quadratic-x0", "logistic")
RTOL = 2e-3


class _TMMState(NamedTuple):
    x: Any
    xi: Any
    xi_prev: Any
    beta: Any


class _TMM(MethodRule):
    """Triple momentum (Van Scoy, Freeman, Lynch 2018), written for this test."""

    name = "tmm-test-local"
    title = "triple momentum (test-local)"
    params = (Param("mu", 1.0, "mu", lo=0.0), Param("L", 10.0, "L", lo=0.0))

    def init(self, x0, h, be):
        return _TMMState(x0, x0, x0, be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        rho = 1 - np.sqrt(h["mu"] / h["L"])
        a, b = (1 + rho) / h["L"], rho ** 2 / (2 - rho)
        g, d = rho ** 2 / ((1 + rho) * (2 - rho)), rho ** 2 / (1 - rho ** 2)
        xi = (1 + b) * s.xi - b * s.xi_prev - a * oracle.grad((1 + g) * s.xi - g * s.xi_prev)
        return _TMMState((1 + d) * xi - d * s.xi, xi, s.xi, b + 0 * s.beta)


def _tuning(name: str, mu: float, L: float) -> tuple[str, dict]:
    q = np.sqrt(L / mu)
    beta_star = ((q - 1) / (q + 1)) ** 2
    return {
        "gd-opt": ("gd", dict(alpha=2 / (mu + L))),
        "gd-1/L": ("gd", dict(alpha=1 / L)),
        "hb-opt": ("hb", dict(alpha=4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, beta=beta_star)),
        "hb-real": ("hb", dict(alpha=1 / L, beta=0.5 * beta_star)),
        "hb-complex": ("hb", dict(alpha=1 / L, beta=beta_star ** 0.75)),
        "nesterov": ("nesterov", dict(alpha=1 / L, beta=(q - 1) / (q + 1))),
        "tmm": ("tmm", dict(mu=mu, L=L)),
    }[name]


def _companion(kind: str, p: dict, lam: float) -> np.ndarray:
    """The 2x2 (1x1 for GD) iteration matrix on the eigen-direction lam, written from each update."""
    if kind == "gd":
        return np.array([[1 - p["alpha"] * lam]])
    if kind == "hb":  # x+ = x - a lam x + b (x - x_prev)
        return np.array([[1 + p["beta"] - p["alpha"] * lam, -p["beta"]], [1.0, 0.0]])
    if kind == "nesterov":  # y = x + b (x - x_prev), x+ = (1 - a lam) y
        c = 1 - p["alpha"] * lam
        return np.array([[c * (1 + p["beta"]), -c * p["beta"]], [1.0, 0.0]])
    mu, L = p["mu"], p["L"]  # triple momentum on xi
    rho = 1 - np.sqrt(mu / L)
    a, b, g = (1 + rho) / L, rho ** 2 / (2 - rho), rho ** 2 / ((1 + rho) * (2 - rho))
    return np.array([[1 + b - a * lam * (1 + g), -(b - a * lam * g)], [1.0, 0.0]])


def spectral_radius(kind: str, p: dict, eigs: np.ndarray) -> float:
    # a double root is computed to ~sqrt(eps) by eigvals; 1e-8 relative, far below RTOL
    return max(float(np.max(np.abs(np.linalg.eigvals(_companion(kind, p, lam))))) for lam in eigs)


def logistic_hessian_at_star(prob) -> np.ndarray:
    A, y, x = prob.A[0], prob.y[0], prob.x_star[0]
    s = expit(y * (A @ x))
    lam = float(np.asarray(prob.lam).reshape(-1)[0])
    return (A.T * (s * (1 - s))) @ A / A.shape[0] + lam * np.eye(A.shape[1])


def case(kind: str, kappa: float, name: str, seed: int = 0):
    if kind.startswith("quadratic"):
        prob = polyak.make_problem("quadratic", mu=1.0, L=kappa, dim=50, spectrum="uniform", basis="random",
                                   x_star="random" if kind == "quadratic" else "zero", seed=seed)
        eigs = np.linalg.eigvalsh(prob.hessian[0])
        mu, L = 1.0, kappa
    else:
        prob = polyak.make_problem("logistic", dim=10, n=200, mu=1.0 / kappa, seed=seed)
        eigs = np.linalg.eigvalsh(logistic_hessian_at_star(prob))
        mu, L = float(eigs[0]), float(eigs[-1])
    meth, p = _tuning(name, mu, L)
    if meth == "tmm":
        if "triple-momentum" in list_methods():  # the registered linear method, tuned from (mu, L)
            from polyak.solvers.triple_momentum import triple_momentum_tuning

            method = polyak.make_method("triple-momentum", **triple_momentum_tuning(mu, L))
        else:
            method = build_method(_TMM(), p)
    else:
        method = polyak.make_method(meth, **p)
    return method, prob, spectral_radius(meth, p, eigs)


KNOWN_MISSES = {("logistic", 10.0, "hb-opt")}
SAMPLE = {("quadratic", 100.0, m) for m in METHODS} | {("quadratic-x0", 10.0, "hb-opt"), ("quadratic", 1e4, "hb-opt"),
                                                       ("logistic", 1e3, "gd-opt"), ("logistic", 1e4, "tmm")}


def _params():
    out = []
    for kind in KINDS:
        for kappa in KAPPAS:
            for m in METHODS:
                marks = [] if (kind, kappa, m) in SAMPLE else [pytest.mark.slow]
                if (kind, kappa, m) in KNOWN_MISSES:
                    marks.append(pytest.mark.xfail(strict=True, reason="rate 0.148, 8 records above round-off: see module doc"))
                out.append(pytest.param(kind, kappa, m, marks=marks, id=f"{kind}-{kappa:g}-{m}"))
    return out


@pytest.mark.parametrize("kind,kappa,name", _params())
def test_default_fit_recovers_the_rate_and_rejects_1pct(kind, kappa, name):
    method, prob, rho = case(kind, kappa, name)
    fits = assert_rate(method, prob, rho, rtol=RTOL)
    f = fits[0]
    assert f.model in ("rho^k", "(a+bk) rho^k") and f.points >= 4 and np.isfinite(f.residual)
    for wrong in (0.99 * rho, 1.01 * rho):
        with pytest.raises(AssertionError, match="model .*window .*residual"):
            assert_rate(method, prob, wrong, rtol=RTOL)


def test_the_model_is_chosen_from_the_data():
    # heavy ball at its optimum: double roots, the fit says (a+bk) rho^k (p = 1); GD: rho^k
    m, p, rho = case("quadratic", 100.0, "hb-opt")
    f = assert_rate(m, p, rho, rtol=RTOL)[0]
    assert f.model == "(a+bk) rho^k" and f.power == 1.0 and len(f.coef) == 3
    m, p, rho = case("quadratic", 100.0, "gd-opt")
    assert assert_rate(m, p, rho, rtol=RTOL)[0].model == "rho^k"


def test_the_textbook_heavy_ball_claim_passes_with_defaults():
    # issue 10: HB at alpha = 4/121, beta = (9/11)^2 on a kappa = 100 quadratic, three problem sizes
    for dim in (8, 50, 200):
        prob = polyak.make_problem("quadratic", mu=1.0, L=100.0, dim=dim, seed=dim)
        f = assert_rate(polyak.make_method("hb", alpha=4 / 121, beta=(9 / 11) ** 2), prob, 9 / 11, rtol=RTOL)[0]
        assert abs(f.rate * 11 / 9 - 1) < RTOL
