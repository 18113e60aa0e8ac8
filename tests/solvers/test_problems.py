"""Problem constants are right: curvature in [mu, L], x* stationary and f* optimal to 1e-10.

Every reference quantity here is computed from the problem's data with textbook formulas (normal
equations, the logistic Hessian, finite differences), never with the code under test.
Tolerances are derived: finite-difference errors from the step h and a bound on the next
derivative, rounding from eps times the size of the summed terms.
"""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

import polyak
from polyak.solvers import get_backend

EPS = np.finfo(float).eps
OPT_TOL = 1e-10


# -- problems under test, built once ------------------------------------------------------------
@pytest.fixture(scope="module")
def problems():
    return {
        "least-squares": polyak.make_problem("least-squares", dim=6, n=40, reg=[0.0, 0.05], instances=2, seed=1),
        "logistic": polyak.make_problem("logistic", dim=5, n=80, mu=[1e-3, 1e-1], seed=2),
        "lessard": polyak.make_problem("lessard", dim=3, mu=[1.0, 2.0], L=[25.0, 9.0]),
        "nonconvex": polyak.make_problem("nonconvex", dim=5, L=[10.0, 4.0], c=[1.0, 2.0], a_min=0.3, seed=3),
    }


NAMES = ["least-squares", "logistic", "lessard", "nonconvex"]


def third_derivative_bound(p, name, v):
    """Bound on |d^3/dt^3 f(x + t v)| for a unit v (0 where f is piecewise quadratic)."""
    if name == "logistic":
        # loss''' = s''(m) a^3 with |sigmoid''| <= 1/(6 sqrt 3)
        return np.max(np.mean(np.abs(p.A @ v) ** 3, axis=1)) / (6 * np.sqrt(3))
    if name == "nonconvex":
        # sum_i c sin(z_i) w_i^3 with w = Q v, ||w|| = 1
        return float(np.max(p.c))
    return 0.0


def n_terms(p, name):
    return getattr(p, "n_samples", 0) + p.dim


def away_from_breakpoints(X, h):
    """Move LRP points away from the breakpoints 1 and 2 by more than h (f''' = 0 elsewhere)."""
    for b in (1.0, 2.0):
        close = np.abs(X - b) < 10 * h
        X = np.where(close, X + 30 * h, X)
    return X


# -- numpy and torch agree -----------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_numpy_torch_oracles_agree(problems, name, rng):
    pytest.importorskip("torch")
    p = problems[name]
    X = 2.0 * rng.standard_normal((p.batch, 7, p.dim))
    bn, bt = p.bind(get_backend("numpy")), p.bind(get_backend("torch", device="cpu"))
    Xt = get_backend("torch", device="cpu").asarray(X)
    g_np, g_t = bn.grad(X), bt.grad(Xt).numpy()
    f_np, f_t = bn.f(X), bt.f(Xt).numpy()
    np.testing.assert_allclose(g_t, g_np, rtol=1e-12, atol=1e-12 * np.max(np.abs(g_np)))
    np.testing.assert_allclose(f_t, f_np, rtol=1e-12, atol=1e-12 * np.max(np.abs(f_np)))


# -- gradients match central finite differences of f --------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(problems, name, rng):
    p = problems[name]
    h = 1e-5
    for _ in range(5):
        X = 1.5 * rng.standard_normal((p.batch, p.dim))
        if name == "lessard":
            X = away_from_breakpoints(X, h)
        v = rng.standard_normal(p.dim)
        v /= np.linalg.norm(v)
        fd = (p.f(X + h * v) - p.f(X - h * v)) / (2 * h)
        exact = p.grad(X) @ v
        # truncation h^2/6 max|f'''|, rounding 2 * (k eps |terms|) / (2h) with k summed terms;
        # |terms| bounded by |f| + L ||x||^2 + 1 (the cosines of the non-convex function)
        scale = np.abs(p.f(X)) + p.L * np.sum(X * X, axis=1) + p.dim
        tol = h**2 / 6 * third_derivative_bound(p, name, v) + n_terms(p, name) * EPS * scale / h
        assert np.all(np.abs(fd - exact) <= tol), (fd - exact, tol)


# -- curvature lies in [mu, L] ---------------------------------------------------------------------
def test_least_squares_spectrum_from_data(problems):
    p = problems["least-squares"]
    for i in range(p.batch):
        s = np.linalg.svd(p.A[i], compute_uv=False)
        eig = s**2 / p.n_samples + p.reg[i]
        tol = 1e-12 * eig.max()
        assert eig.min() >= p.mu[i] - tol and eig.max() <= p.L[i] + tol
        assert abs(eig.min() - p.mu[i]) <= tol and abs(eig.max() - p.L[i]) <= tol  # tight


def test_least_squares_requested_spectrum():
    p = polyak.make_problem("least-squares", dim=5, n=20, mu=[0.5, 1.0], L=[8.0, 100.0], reg=[0.0, 0.25], seed=4)
    for i, (mu, L) in enumerate([(0.5, 8.0), (1.0, 100.0)]):
        H = p.A[i].T @ p.A[i] / 20 + p.reg[i] * np.eye(5)
        np.testing.assert_allclose(np.linalg.eigvalsh(H), np.linspace(mu, L, 5), rtol=1e-12, atol=1e-12 * L)
        assert p.mu[i] == mu and p.L[i] == L


def test_least_squares_underdetermined_is_convex_with_min_norm_solution():
    p = polyak.make_problem("least-squares", dim=8, n=5, seed=5)
    assert p.mu[0] == 0.0
    A, y = p.A[0], p.y[0]
    # min-norm solution: zero residual (n < d, full row rank) and in the row space of A
    np.testing.assert_allclose(A @ p.x_star[0], y, atol=1e-12 * np.linalg.norm(y))
    coef = np.linalg.solve(A @ A.T, A @ p.x_star[0])
    np.testing.assert_allclose(A.T @ coef, p.x_star[0], atol=1e-12)
    assert abs(p.f_star[0]) <= 1e-20


def fd_hessian(p, X, h):
    """Central-difference Hessians (P, d, d) of the problem's gradient at X (P, d), symmetrised."""
    cols = []
    for j in range(p.dim):
        e = np.zeros(p.dim)
        e[j] = h
        cols.append((p.grad(X + e) - p.grad(X - e)) / (2 * h))
    Hs = np.stack(cols, axis=-1)
    return 0.5 * (Hs + np.swapaxes(Hs, 1, 2))


def fd_hessian_tol(p, name, X, h):
    """Spectral-norm bound on the FD Hessian error: sqrt(d) x (column truncation + rounding)."""
    if name == "logistic":
        # loss'''' = s'''(m) a^4 with |sigmoid'''| <= 1/8; column j: (1/n) sum ||a_i|| |a_ij|^3 / 8
        M = np.max(np.mean(np.linalg.norm(p.A, axis=2)[..., None] * np.abs(p.A) ** 3, axis=1)) / 8
        gscale = np.mean(np.linalg.norm(p.A, axis=2), axis=1) + p.mu * np.linalg.norm(X, axis=1)
    else:  # nonconvex: Q^T (c cos(z) w^3), ||w|| = 1
        M = float(np.max(p.c))
        gscale = p.L * (np.linalg.norm(X, axis=1) + np.linalg.norm(p.b, axis=1)) + np.max(p.c) * np.sqrt(p.dim)
    k = n_terms(p, name)
    return np.sqrt(p.dim) * (h**2 / 6 * M + 2 * k * EPS * gscale / h)


def test_logistic_sampled_curvature_in_mu_L(problems, rng):
    p = problems["logistic"]
    h = 1e-4
    for scale in (0.0, 0.5, 2.0, 10.0):
        X = scale * rng.standard_normal((p.batch, p.dim))
        eig = np.linalg.eigvalsh(fd_hessian(p, X, h))
        tol = fd_hessian_tol(p, "logistic", X, h)
        assert np.all(eig[:, 0] >= p.mu - tol) and np.all(eig[:, -1] <= p.L + tol), (eig, p.mu, p.L, tol)
        if scale == 0.0:  # at x = 0 every sigmoid is 1/2: lambda_max = L exactly
            np.testing.assert_allclose(eig[:, -1], p.L, atol=np.max(tol))
    # and from the textbook Hessian (1/n) A^T diag(s(1 - s)) A + mu I at random points
    for _ in range(20):
        x = 3 * rng.standard_normal(p.dim)
        for i in range(p.batch):
            s = expit(p.y[i] * (p.A[i] @ x))
            H = (p.A[i].T * (s * (1 - s))) @ p.A[i] / p.n_samples + p.mu[i] * np.eye(p.dim)
            e = np.linalg.eigvalsh(H)
            assert e[0] >= p.mu[i] * (1 - 1e-12) and e[-1] <= p.L[i] * (1 + 1e-12)


def test_nonconvex_curvature_in_minus_L_L_with_negative_curvature(problems, rng):
    p = problems["nonconvex"]
    h = 1e-4
    lo = np.inf
    for scale in (0.5, 2.0, 5.0):
        X = scale * rng.standard_normal((p.batch, p.dim))
        eig = np.linalg.eigvalsh(fd_hessian(p, X, h))
        tol = fd_hessian_tol(p, "nonconvex", X, h)
        assert np.all(eig[:, 0] >= -p.L - tol) and np.all(eig[:, -1] <= p.L + tol)
        lo = min(lo, eig[:, 0].min())
    # at x = 0 (z = 0) the curvature along the first rotated axis is a_min - c < 0
    X0 = np.zeros((p.batch, p.dim))
    eig0 = np.linalg.eigvalsh(fd_hessian(p, X0, h))
    tol0 = fd_hessian_tol(p, "nonconvex", X0, h)
    np.testing.assert_allclose(eig0[:, 0], 0.3 - np.array([1.0, 2.0]), atol=np.max(tol0))
    assert np.all(eig0[:, 0] < 0)
    # L is attained: put the coordinate with the largest a_i at z = pi (cos = -1), the others at 0
    z = np.zeros((p.batch, p.dim))
    z[np.arange(p.batch), np.argmax(p.a, axis=1)] = np.pi
    Xl = np.einsum("pij,pi->pj", p.Q, z)
    eigl = np.linalg.eigvalsh(fd_hessian(p, Xl, h))
    np.testing.assert_allclose(eigl[:, -1], p.L, atol=np.max(fd_hessian_tol(p, "nonconvex", Xl, h)))


def test_lessard_reproduces_lrp_and_generalises():
    p = polyak.make_problem("lessard")  # mu = 1, L = 25: the LRP function
    x = np.array([-3.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    lrp = np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))
    np.testing.assert_allclose(p.grad(x.reshape(1, -1, 1))[0, :, 0], lrp, rtol=1e-15)
    # f is the integral of f' from 0 (f(0) = 0), piece by piece in closed form
    def integral(t):
        a = min(t, 1.0) if t > 0 else t
        out = 12.5 * a * a
        if t > 1:
            b = min(t, 2.0)
            out += 0.5 * (b * b - 1) + 24 * (b - 1)
        if t > 2:
            out += 12.5 * (t * t - 4) - 24 * (t - 2)
        return out

    np.testing.assert_allclose(p.f(x.reshape(1, -1, 1))[0], [integral(t) for t in x], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("mu,L", [(1.0, 25.0), (2.0, 9.0), (0.5, 0.5)])
def test_lessard_strongly_convex_and_smooth(mu, L, rng):
    """For all pairs: mu ||x-y||^2 <= <g(x) - g(y), x - y> <= L ||x-y||^2 and the quadratic bounds."""
    p = polyak.make_problem("lessard", dim=2, mu=mu, L=L)
    X = 2.0 + 1.5 * rng.standard_normal((1, 400, 2))  # around the breakpoints
    Y = 2.0 + 1.5 * rng.standard_normal((1, 400, 2))
    gX, gY, fX, fY = p.grad(X), p.grad(Y), p.f(X), p.f(Y)
    D = X - Y
    dd = np.sum(D * D, axis=-1)
    mono = np.sum((gX - gY) * D, axis=-1)
    tol = 8 * EPS * L * np.sum(X * X + Y * Y, axis=-1)
    assert np.all(mono >= mu * dd - tol) and np.all(mono <= L * dd + tol)
    lin = fY + np.sum(gY * D, axis=-1)
    assert np.all(fX >= lin + 0.5 * mu * dd - tol) and np.all(fX <= lin + 0.5 * L * dd + tol)
    # continuity at the breakpoints
    for b in (1.0, 2.0):
        left, right = p.f(np.full((1, 1, 2), b - 1e-12)), p.f(np.full((1, 1, 2), b))
        assert abs(left - right).max() <= 4 * L * b * 1e-12


def test_lessard_heavy_ball_cycles_from_default_start():
    """lessard2016: HB with alpha = 1/9, beta = 4/9 does not converge on the LRP function."""
    p = polyak.make_problem("lessard")
    t = polyak.simulate(polyak.make_method("hb", alpha=1 / 9, beta=4 / 9), p, 600)
    assert not t.diverged.any()
    assert t.dist[-30:].min() > 0.5  # stuck away from x* = 0 ...
    gd = polyak.simulate(polyak.make_method("gd", alpha=1 / 25), p, 600)
    assert gd.dist[-1].max() < 1e-10  # ... while gradient descent converges


# -- x* stationary, f* optimal ---------------------------------------------------------------------
def reference_grad(p, name, X):
    """Textbook gradients in plain numpy from the problem's data, X (P, d)."""
    if name == "least-squares":
        R = np.einsum("pnd,pd->pn", p.A, X) - p.y
        return np.einsum("pnd,pn->pd", p.A, R) / p.n_samples + p.reg[:, None] * X
    if name == "logistic":
        m = p.y * np.einsum("pnd,pd->pn", p.A, X)
        return -np.einsum("pnd,pn->pd", p.A, p.y * expit(-m)) / p.n_samples + p.mu[:, None] * X
    if name == "lessard":
        mu, L = p.mu[:, None], p.L[:, None]
        return np.where(X < 1, L * X, np.where(X < 2, mu * X + L - mu, L * X - L + mu))
    z = np.einsum("pij,pj->pi", p.Q, X)
    return np.einsum("pij,pi->pj", p.Q, p.a * (z - p.b) - p.c[:, None] * np.sin(z))


@pytest.mark.parametrize("name", NAMES)
def test_x_star_stationary_and_f_star_its_value(problems, name):
    p = problems[name]
    g = reference_grad(p, name, p.x_star)
    scale = p.L * np.maximum(1.0, np.linalg.norm(p.x_star, axis=1))
    assert np.all(np.linalg.norm(g, axis=1) <= OPT_TOL * scale)
    np.testing.assert_allclose(p.f(p.x_star), p.f_star, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_f_star_optimal_under_perturbations(problems, name, rng):
    p = problems[name]
    for r in (1e-8, 1e-5, 1e-3, 1e-1, 1.0, 5.0):
        U = rng.standard_normal((p.batch, 200, p.dim))
        U *= r / np.linalg.norm(U, axis=-1, keepdims=True)
        fv = p.f(p.x_star[:, None, :] + U)
        assert np.all(fv >= p.f_star[:, None] - OPT_TOL), (r, (fv - p.f_star[:, None]).min())


def test_logistic_optimum_certified_and_matches_independent_solver(problems):
    p = problems["logistic"]
    g = reference_grad(p, "logistic", p.x_star)
    gn = np.linalg.norm(g, axis=1)
    assert np.all(gn <= 1e-12)
    # strong convexity: f(x*) - min f <= ||grad f(x*)||^2 / (2 mu)
    assert np.all(gn**2 / (2 * p.mu) <= OPT_TOL)
    for i in range(p.batch):
        A, y, lam, n = p.A[i], p.y[i], p.mu[i], p.n_samples

        def fun(x):
            m = y * (A @ x)
            return np.mean(np.logaddexp(0, -m)) + 0.5 * lam * x @ x, -A.T @ (y * expit(-m)) / n + lam * x

        res = minimize(fun, np.ones(p.dim), jac=True, method="L-BFGS-B",
                       options={"ftol": 0, "gtol": 1e-11, "maxiter": 10000, "maxcor": 30})
        # an independent minimiser cannot be lower, and agrees to 1e-10
        assert res.fun >= p.f_star[i] - 1e-14
        assert res.fun - p.f_star[i] <= OPT_TOL
        # and its distance to x* is bounded by strong convexity: ||x - x*|| <= ||grad f(x)|| / mu
        assert np.linalg.norm(res.x - p.x_star[i]) <= np.linalg.norm(fun(res.x)[1]) / lam + 1e-12 / lam


def test_logistic_optimum_is_exact_to_round_off(problems):
    # x* is polished until the gradient stops decreasing: ||grad f(x*)|| is at the rounding level of the
    # gradient's sum, eps * ||(1/n) sum_i |a_i| s_i + mu |x*|||, not merely <= 1e-12 (a rate fit on
    # ||x_k - x*|| then sees round-off, ~1e-16, and no plateau at ||grad|| / mu). The second problem is
    # the rate-fit grid's kappa = 1e3 instance, where stopping at <= 1e-12 left ||grad|| = 1.2e-14.
    for p in (problems["logistic"], polyak.make_problem("logistic", dim=10, n=200, mu=[1e-3, 1e-4], seed=0)):
        _assert_logistic_round_off(p)


def _assert_logistic_round_off(p):
    m = p.y * np.einsum("pnd,pd->pn", p.A, p.x_star)
    g = reference_grad(p, "logistic", p.x_star)
    scale = np.einsum("pnd,pn->pd", np.abs(p.A), expit(-m)) / p.n_samples + p.mu[:, None] * np.abs(p.x_star)
    assert np.all(np.linalg.norm(g, axis=1) <= 10 * EPS * np.linalg.norm(scale, axis=1))


def test_nonconvex_global_minimum_by_multistart(problems, rng):
    """No local search from 100 random starts finds a value below f*."""
    p = problems["nonconvex"]
    for i in range(p.batch):
        def fun(x):
            z = p.Q[i] @ x
            e = z - p.b[i]
            val = np.sum(0.5 * p.a[i] * e * e + p.c[i] * np.cos(z))
            return val, p.Q[i].T @ (p.a[i] * e - p.c[i] * np.sin(z))

        radius = 2 * np.sqrt(p.c[i] / p.a[i].min()) + np.linalg.norm(p.b[i])
        best = np.inf
        for _ in range(100):
            x0 = radius * rng.uniform(-1, 1, p.dim)
            best = min(best, minimize(fun, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-10}).fun)
        assert best >= p.f_star[i] - OPT_TOL
        assert best <= p.f_star[i] + 1e-6  # and the searches do reach it


# -- the wrapped constants and validation ------------------------------------------------------------
def test_batch_layout_and_constants_shapes(problems):
    for name, p in problems.items():
        assert p.L.shape == (p.batch,) and p.x_star.shape == (p.batch, p.dim) and p.f_star.shape == (p.batch,)
        assert p.x0.shape == (p.batch, p.dim)
        assert (p.mu is None) == (name == "nonconvex")
    assert problems["least-squares"].batch == 4 and problems["logistic"].batch == 2


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("least-squares", dict(mu=1.0), "mu and L"),
        ("least-squares", dict(mu=2.0, L=1.0), "mu"),
        ("least-squares", dict(mu=0.1, L=1.0, reg=0.5), "reg"),
        ("least-squares", dict(n=0), "n must"),
        ("least-squares", dict(reg=-1.0), "reg"),
        ("least-squares", dict(y_noise=float("nan")), "y_noise"),
        ("logistic", dict(mu=0.0), "mu"),
        ("logistic", dict(label_flip=0.5), "label_flip"),
        ("logistic", dict(dim=0), "dim"),
        ("lessard", dict(mu=30.0, L=25.0), "mu"),
        ("lessard", dict(L=-1.0), "L"),
        ("lessard", dict(start=float("inf")), "start"),
        ("nonconvex", dict(c=0.1, a_min=0.2), "c "),
        ("nonconvex", dict(L=1.0), "L "),
        ("nonconvex", dict(a_min=-1.0), "a_min"),
        ("nonconvex", dict(dim=1), "dim"),
        ("lessard", dict(reg=1.0), "unknown parameter"),
    ],
)
def test_bad_parameters_raise_naming_them(name, params, match):
    with pytest.raises(ValueError, match=match):
        polyak.make_problem(name, **params)
