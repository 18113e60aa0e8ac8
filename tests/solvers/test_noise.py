"""Noise models: unbiased, the stated variance, common random numbers, reproducible, validated.

The noisy gradient is read off one gradient-descent step with alpha = 1 (x_1 = x_0 - g_noisy), or
with an alpha grid (g_noisy = (x_0 - x_1) / alpha). Statistical checks use 5 standard errors
computed from sigma (or the exact finite-sum moments) and the number of seeds.
"""

import numpy as np
import pytest

import polyak

Z = 5.0  # standard errors
M = 4000  # seeds for the statistical checks


def noisy_grads(problem, seeds, backend="numpy", x0=None):
    """(P, S, d) noisy gradients at x0 (default problem.x0), one per seed."""
    t = polyak.simulate(polyak.make_method("gd", alpha=1.0), problem, 1, seeds=seeds, backend=backend,
                        device="cpu" if backend == "torch" else None, x0=x0)
    start = problem.x0 if x0 is None else np.broadcast_to(x0, problem.x0.shape)
    return start[:, None, :] - t.x_final


def quad(**kw):
    return polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=4, seed=7, **kw)


# -- unbiased with the stated variance -----------------------------------------------------------------
def test_additive_mean_and_variance():
    sigma = 0.5
    p = quad(noise="additive", sigma=sigma)
    g = p.grad(p.x0)  # (1, d) exact
    E = noisy_grads(p, M)[0] - g  # (M, d) noise
    assert np.all(np.abs(E.mean(0)) <= Z * sigma / np.sqrt(M))
    # sample variance of normal data: standard error sigma^2 sqrt(2 / (M - 1))
    assert np.all(np.abs(E.var(0, ddof=1) - sigma**2) <= Z * sigma**2 * np.sqrt(2 / (M - 1)))
    # coordinates independent: sample correlation within 5 / sqrt(M)
    C = np.corrcoef(E.T)
    assert np.all(np.abs(C[np.triu_indices(4, 1)]) <= Z / np.sqrt(M))


def test_multiplicative_mean_variance_and_zero_at_optimum():
    sigma = 0.3
    p = quad(noise="multiplicative", sigma=sigma)
    g = p.grad(p.x0)[0]
    assert np.all(np.abs(g) > 1e-3)
    E = noisy_grads(p, M)[0] - g
    assert np.all(np.abs(E.mean(0)) <= Z * sigma * np.abs(g) / np.sqrt(M))
    var = (sigma * g) ** 2
    assert np.all(np.abs(E.var(0, ddof=1) - var) <= Z * var * np.sqrt(2 / (M - 1)))
    # relative noise: the ratio noise / g is the same N(0, sigma^2) draw whatever g is
    # and at x* (g = 0) there is no noise at all
    np.testing.assert_array_equal(noisy_grads(p, 5, x0=p.x_star[0]), 0.0)


def per_sample_grads_least_squares(p, x):
    """(n, d) gradients of f_i(x) = (a_i^T x - y_i)^2 / 2 + reg/2 ||x||^2 (textbook)."""
    A, y = p.A[0], p.y[0]
    return A * (A @ x - y)[:, None] + p.reg[0] * x


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
@pytest.mark.parametrize("b", [1, 4])
def test_minibatch_mean_and_finite_sum_variance(b, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    p = polyak.make_problem("least-squares", dim=3, n=30, reg=0.1, seed=2, noise="minibatch", batch_size=b)
    x = p.x0[0]
    G = per_sample_grads_least_squares(p, x)
    g = G.mean(0)
    np.testing.assert_allclose(g, p.grad(p.x0)[0], rtol=1e-12, atol=1e-14)  # the finite sum is f
    U = G - g
    m2, m4 = (U**2).mean(0), (U**4).mean(0)
    var = m2 / b  # variance of the mean of b draws with replacement
    mu4 = (m4 + 3 * (b - 1) * m2**2) / b**3  # its fourth central moment
    E = noisy_grads(p, M, backend=backend)[0] - g
    assert np.all(np.abs(E.mean(0)) <= Z * np.sqrt(var / M))
    assert np.all(np.abs(E.var(0, ddof=1) - var) <= Z * np.sqrt((mu4 - var**2) / M))
    if b == 1:  # each draw is one of the per-sample gradients, every row equally likely
        D = np.linalg.norm((E + g)[:, None, :] - G[None], axis=-1)  # (M, n)
        assert np.all(D.min(1) <= 1e-12 * np.max(np.linalg.norm(G, axis=1)))
        counts = np.bincount(D.argmin(1), minlength=30)
        q = 1 / 30  # binomial counts: mean M q, standard error sqrt(M q (1 - q))
        assert np.all(np.abs(counts - M * q) <= Z * np.sqrt(M * q * (1 - q)))


def test_minibatch_logistic_unbiased():
    p = polyak.make_problem("logistic", dim=3, n=40, mu=0.1, seed=4, noise="minibatch", batch_size=5)
    x = p.x0[0]
    A, y = p.A[0], p.y[0]
    s = 1 / (1 + np.exp(y * (A @ x)))
    G = -A * (y * s)[:, None] + 0.1 * x  # per-sample gradients (textbook)
    g = G.mean(0)
    E = noisy_grads(p, 2000)[0] - g
    var = ((G - g) ** 2).mean(0) / 5
    assert np.all(np.abs(E.mean(0)) <= Z * np.sqrt(var / 2000))


# -- common random numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_crn_same_seed_same_noise_across_hyperparameters_and_problems(kind):
    p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 30.0], dim=4, seed=1, noise=kind, sigma=0.4)
    alphas = np.array([0.05, 0.2, 0.7])
    seeds = (3, 8)
    t = polyak.simulate(polyak.make_method("gd", alpha=alphas), p, 1, seeds=seeds)
    x0 = p.x0[:, None, None, :]
    G = (x0 - t.x_final) / alphas[None, :, None, None]  # (P, H, S, d)
    g = p.grad(p.x0)[:, None, None, :]
    noise = G - g if kind == "additive" else (G - g) / (0.4 * g)  # the standard normal draw xi
    ref = noise[0, 0]  # (S, d)
    tol = 1e-13 * (1 + np.max(np.abs(G) / np.abs(g if kind == "multiplicative" else 1)))
    for i in range(p.batch):
        for h in range(alphas.size):
            np.testing.assert_allclose(noise[i, h], ref, atol=tol)
    assert np.min(np.abs(ref[0] - ref[1])) > 1e-6  # different seeds, different noise


def test_crn_minibatch_same_rows_across_hyperparameters():
    p = polyak.make_problem("least-squares", dim=3, n=50, seed=3, noise="minibatch", batch_size=2)
    alphas = np.array([0.01, 0.1])
    t = polyak.simulate(polyak.make_method("gd", alpha=alphas), p, 1, seeds=(0, 1, 2))
    G = (p.x0[:, None, None, :] - t.x_final) / alphas[None, :, None, None]
    np.testing.assert_allclose(G[0, 0], G[0, 1], rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(G[0, 0, 0] - G[0, 0, 1]) > 1e-6


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
@pytest.mark.parametrize("kind", ["additive", "minibatch"])
def test_same_seed_reproducible_and_batched_equals_looped(backend, kind):
    if backend == "torch":
        pytest.importorskip("torch")
    extra = dict(sigma=0.3) if kind == "additive" else dict(batch_size=3)
    p = polyak.make_problem("least-squares", dim=4, n=20, reg=[0.0, 0.1], seed=5, noise=kind, **extra)
    alphas = np.array([0.05, 0.2])
    seeds = (0, 11, 2)
    dev = "cpu" if backend == "torch" else None
    run = lambda m, s: polyak.simulate(m, p, 15, seeds=s, backend=backend, device=dev)  # noqa: E731
    t1 = run(polyak.make_method("hb", alpha=alphas, beta=0.5), seeds)
    t2 = run(polyak.make_method("hb", alpha=alphas, beta=0.5), seeds)
    np.testing.assert_array_equal(t1.x_final, t2.x_final)
    for h, a in enumerate(alphas):
        for j, s in enumerate(seeds):
            one = run(polyak.make_method("hb", alpha=float(a), beta=0.5), (s,))
            np.testing.assert_allclose(t1.x_final[:, h, j], one.x_final[:, 0], rtol=1e-13, atol=1e-15)
    # different seeds, different trajectories
    assert np.min(np.linalg.norm(t1.x_final[:, :, 0] - t1.x_final[:, :, 1], axis=-1)) > 1e-8


@pytest.mark.torch
def test_torch_noise_statistics():
    pytest.importorskip("torch")
    sigma = 0.5
    p = quad(noise="additive", sigma=sigma)
    E = noisy_grads(p, 1000, backend="torch")[0] - p.grad(p.x0)
    assert np.all(np.abs(E.mean(0)) <= Z * sigma / np.sqrt(1000))
    assert np.all(np.abs(E.var(0, ddof=1) - sigma**2) <= Z * sigma**2 * np.sqrt(2 / 999))


def test_float32_run_sees_the_same_noise():
    p = quad(noise="additive", sigma=0.5)
    t64 = polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 3, seeds=(4, 5))
    t32 = polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 3, seeds=(4, 5), dtype="float32")
    np.testing.assert_allclose(t32.x_final, t64.x_final, rtol=0, atol=1e-5)


def test_wrapper_keeps_constants_and_exact_oracle():
    plain = polyak.make_problem("logistic", dim=3, n=30, seed=9)
    noisy = polyak.make_problem("logistic", dim=3, n=30, seed=9, noise="additive", sigma=1.0)
    for attr in ("mu", "L", "x_star", "f_star", "x0"):
        np.testing.assert_array_equal(getattr(noisy, attr), getattr(plain, attr))
    np.testing.assert_array_equal(noisy.grad(plain.x0), plain.grad(plain.x0))
    np.testing.assert_array_equal(noisy.A, plain.A)
    assert noisy.name == "logistic" and noisy.noise.kind == "additive" and plain.__dict__.get("noise") is None
    assert noisy.describe()["sigma"] == 1.0


# -- validation --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,params,match",
    [
        ("quadratic", dict(noise="gaussian"), "noise must be one of additive, multiplicative, minibatch"),
        ("quadratic", dict(noise="additive", sigma=-0.1), "sigma"),
        ("quadratic", dict(noise="additive", sigma=float("nan")), "sigma"),
        ("quadratic", dict(noise="multiplicative", sigma=float("inf")), "sigma"),
        ("quadratic", dict(noise="additive", sigma="big"), "sigma"),
        ("quadratic", dict(noise="additive", sigma=0.1, batch_size=3), "batch_size"),
        ("quadratic", dict(noise="minibatch", batch_size=2), "finite-sum"),
        ("lessard", dict(noise="minibatch", batch_size=2), "finite-sum"),
        ("nonconvex", dict(noise="minibatch", batch_size=2), "finite-sum"),
        ("least-squares", dict(n=20, noise="minibatch"), r"batch_size .* \[1, 20\]"),
        ("least-squares", dict(n=20, noise="minibatch", batch_size=0), "batch_size"),
        ("least-squares", dict(n=20, noise="minibatch", batch_size=21), "batch_size"),
        ("least-squares", dict(n=20, noise="minibatch", batch_size=2.5), "batch_size"),
        ("logistic", dict(n=20, noise="minibatch", batch_size=True), "batch_size"),
        ("logistic", dict(n=20, noise="minibatch", batch_size=4, sigma=0.1), "sigma"),
    ],
)
def test_bad_noise_options_raise_naming_them(name, params, match):
    with pytest.raises(ValueError, match=match):
        polyak.make_problem(name, **params)


def test_cannot_wrap_twice():
    from polyak.solvers.problems.noise import add_noise

    p = quad(noise="additive", sigma=0.1)
    with pytest.raises(ValueError, match="already has noise"):
        add_noise(p, "multiplicative", sigma=0.1)
