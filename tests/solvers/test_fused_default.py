"""The default engine on eigenbasis quadratics: the in-place iteration-matrix kernel (issue 12).

``simulate`` steps a linear method with constant scalar hyperparameters on a noise-free
eigenbasis quadratic with its per-coordinate iteration matrix, in place (``fused=None``, the
default, on numpy). It rounds differently from the method's own step, so what is guaranteed is
agreement to 1e-12 relative (to the initial error) with three independent computations: the
method's own step (``fused=False``), a bare numpy loop of the recursion, and the closed form
``xi_k = V diag(w)^k V^{-1} xi_0`` from the eigen-decomposition of each coordinate's matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import kernels
from polyak.solvers.schedules import Schedule
from polyak.solvers.triple_momentum import triple_momentum_tuning


def _problem(x_star="random", P=3, d=30, seed=4):
    return polyak.make_problem("quadratic", mu=1.0, L=[20.0, 60.0, 100.0][:P], dim=d, spectrum="uniform",
                               instances=P, x_star=x_star, seed=seed)


def _hb_params(rng, L):
    # a random admissible heavy-ball tuning: beta in (0.1, 0.9), alpha in (0.2, 0.9) * 2 (1 + beta) / L
    beta = float(rng.uniform(0.1, 0.9))
    alpha = float(rng.uniform(0.2, 0.9) * 2 * (1 + beta) / L)
    return alpha, beta


@pytest.mark.parametrize("x_star", ["zero", "random"])
def test_default_heavy_ball_equals_bare_loop_and_eigen_closed_form(x_star):
    rng = np.random.default_rng(11)
    p = _problem(x_star)
    lam, xs, x0 = p.eigenvalues, p.x_star, p.x0
    scale = np.abs(x0 - xs).max()
    for _ in range(3):
        alpha, beta = _hb_params(rng, 100.0)
        T = 120
        tr = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), p, T, seeds=2, record_every=1,
                             keep_last=T + 1)
        # (1) the bare numpy loop of the recursion
        x, xp = x0.copy(), x0.copy()
        for _ in range(T):
            x, xp = x - alpha * lam * (x - xs) + beta * (x - xp), x
        np.testing.assert_allclose(tr.x_final[:, 0], x, rtol=0, atol=1e-12 * scale)
        np.testing.assert_array_equal(tr.x_final[:, 0], tr.x_final[:, 1])  # seeds: same runs
        # (2) the closed form: per coordinate, T(lam) = [[1 + beta - alpha lam, -beta], [1, 0]]
        M = np.zeros(lam.shape + (2, 2))
        M[..., 0, 0], M[..., 0, 1], M[..., 1, 0] = 1 + beta - alpha * lam, -beta, 1.0
        w, V = np.linalg.eig(M)
        Vinv = np.linalg.inv(V)
        e0 = np.stack([x0 - xs, x0 - xs], axis=-1)[..., None]
        err0 = np.linalg.norm(x0 - xs, axis=-1).max()
        for k in (1, 7, 40, T):
            ek = ((V * w[..., None, :] ** k) @ (Vinv @ e0))[..., 0, 0].real
            np.testing.assert_allclose(tr.x_tail[k, :, 0], ek + xs, rtol=0, atol=1e-12 * scale)
            # records at k: distance, f and the gradient norm of the closed-form error
            np.testing.assert_allclose(tr.dist[k, :, 0], np.linalg.norm(ek, axis=-1), rtol=0, atol=1e-12 * err0)
            np.testing.assert_allclose(tr.gnorm[k, :, 0], np.linalg.norm(lam * ek, axis=-1), rtol=0,
                                       atol=1e-12 * 100 * err0)
            np.testing.assert_allclose(tr.fval[k, :, 0], 0.5 * np.einsum("pi,pi->p", lam * ek, ek), rtol=0,
                                       atol=1e-12 * 100 * err0**2)
        # (3) the method's own step
        own = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta), p, T, seeds=2, record_every=1,
                              fused=False)
        np.testing.assert_allclose(tr.x_final, own.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(tr.dist, own.dist, rtol=0, atol=1e-12 * own.dist[0].max())
        np.testing.assert_array_equal(tr.beta, own.beta)
    # a wrong iteration matrix would be caught: another beta moves the iterates far more than 1e-12
    other = polyak.simulate(polyak.make_method("hb", alpha=alpha, beta=beta * 0.99), p, T)
    assert np.abs(other.x_final[:, 0] - x).max() > 1e-6 * scale


@polyak.linear_method(a=0.02, b=0.4, register=False)
def coupled(x, y, grad, *, a, b):
    """Two computed rows that read each other's old value (the in-place plan needs its scratch)."""
    g = grad(x)
    return x - a * g + b * (x - y), 0.5 * x + 0.5 * y - a * g


@polyak.linear_method(a=0.01, register=False)
def extragradient(x, grad, *, a):
    """Two gradient calls, the second at a point that uses the first (D != 0: T is quadratic in lambda)."""
    y = x - a * grad(x)
    return x - a * grad(y)


@polyak.linear_method(alpha=0.005, beta=0.3, gamma=0.2, register=False)
def tmm(x, x_prev, grad, *, alpha, beta, gamma):
    y = x + gamma * (x - x_prev)
    return x + beta * (x - x_prev) - alpha * grad(y), x


@pytest.mark.parametrize("make", [lambda: coupled(), lambda: extragradient(), lambda: tmm(),
                                  lambda: polyak.make_method("nesterov", alpha=0.008, beta=0.7),
                                  lambda: polyak.make_method("triple-momentum", **triple_momentum_tuning(1.0, 100.0)),
                                  lambda: polyak.make_method("gd", alpha=0.015)])
@pytest.mark.parametrize("x_star", ["zero", "random"])
@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
def test_user_and_builtin_linear_methods_fused_by_default_agree_with_their_own_step(make, x_star, compiled,
                                                                                     monkeypatch):
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(kernels, "USE_NUMBA", compiled)
    kinds = []
    real_step = kernels.NumbaStepper.step
    monkeypatch.setattr(kernels.NumbaStepper, "step", lambda self, *a, **k: (kinds.append(1), real_step(self, *a, **k))[1])
    used = []
    real = kernels.InPlaceStepper.__init__
    monkeypatch.setattr(kernels.InPlaceStepper, "__init__", lambda self, *a, **k: (used.append(1), real(self, *a, **k))[1])
    p = _problem(x_star)
    m = make()
    own = polyak.simulate(m, p, 150, seeds=2, record_every=5, keep_last=2, fused=False)
    assert not used
    scale = np.abs(p.x0 - p.x_star).max()
    for bs in (None, 30, 95, float("inf")):
        tr = polyak.simulate(m, p, 150, seeds=2, record_every=5, keep_last=2, block_size=bs)
        np.testing.assert_allclose(tr.x_final, own.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(tr.x_tail, own.x_tail, rtol=0, atol=1e-12 * scale)
        for f in ("dist", "gnorm"):
            a, b = getattr(tr, f), getattr(own, f)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * b[0].max() * (100 if f == "gnorm" else 1))
        np.testing.assert_allclose(tr.fval, own.fval, rtol=0, atol=1e-12 * own.fval[0].max())
        np.testing.assert_array_equal(tr.beta, own.beta)
        np.testing.assert_array_equal(tr.k, own.k)
    assert len(used) == 4
    assert bool(kinds) == compiled  # the compiled kernel ran exactly when asked for
    # fused=True is the same computation as the default
    same = polyak.simulate(m, p, 150, seeds=2, record_every=5, keep_last=2, fused=True)
    np.testing.assert_array_equal(same.x_final, tr.x_final if bs is None else same.x_final)


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
def test_divergence_on_the_fused_path_is_reported_like_the_own_step(compiled, monkeypatch):
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(kernels, "USE_NUMBA", compiled)
    p = _problem("random")
    m = polyak.make_method("hb", alpha=0.05, beta=0.5)  # alpha L = 5 > 2 (1 + beta): diverges on L = 60, 100
    a = polyak.simulate(m, p, 400, record_every=3, keep_last=2)
    b = polyak.simulate(m, p, 400, record_every=3, keep_last=2, fused=False)
    assert a.diverged.any() and not a.diverged.all()
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=1e-12)
    for f in ("dist", "fval", "gnorm"):
        x, y = getattr(a, f), getattr(b, f)
        np.testing.assert_array_equal(np.isinf(x), np.isinf(y))
        fin = np.isfinite(y)
        np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12 * y[0].max() * (100 if f != "dist" else 1))


def test_not_eligible_runs_take_the_own_step_bit_for_bit():
    p = _problem("random")
    grid = polyak.make_method("hb", alpha=[0.01, 0.02], beta=0.5)
    np.testing.assert_array_equal(polyak.simulate(grid, p, 50).x_final, polyak.simulate(grid, p, 50, fused=False).x_final)
    with pytest.raises(ValueError, match="fused must be None"):
        polyak.simulate(polyak.make_method("gd", alpha=0.01), p, 5, fused="yes")


def test_in_place_plan_uses_its_scratch_when_rows_read_each_other():
    """coupled's two rows both read x and y: the first row goes through the scratch block and is
    copied after the second (the guard that keeps the in-place step from reading a new value)."""
    from polyak.solvers.simulate import _blocks

    p = _problem("random", P=1, d=8)
    bufs = [np.zeros((1, 1, 8)), np.zeros((1, 1, 8))]
    st = kernels.InPlaceStepper(kernels.FusedLinear(coupled(), p, polyak.solvers.backend.get_backend("numpy")), bufs,
                                _blocks(1, 1, 1, 8, 8), p.eigenvalues[:, None], p.x_star[:, None], np.float64)
    new, progs = st.plan((0, 1))
    assert sorted(new) == [0, 1] and any(fn is np.copyto for fn, _ in progs[0])
    q = _problem("zero", P=1, d=8)
    hb = kernels.InPlaceStepper(kernels.FusedLinear(polyak.make_method("hb", alpha=0.1, beta=0.5), q,
                                                    polyak.solvers.backend.get_backend("numpy")), bufs,
                                _blocks(1, 1, 1, 8, 8), q.eigenvalues[:, None], None, np.float64)
    new, progs = hb.plan((0, 1))
    assert new == (1, 0) and len(progs[0]) == 3  # x_new into x_prev's buffer: 3 calls, no copy


def test_when_the_compiled_kernel_is_used(monkeypatch):
    monkeypatch.setattr(kernels, "USE_NUMBA", "auto")
    monkeypatch.delenv("POLYAK_NUMBA", raising=False)
    have = kernels.importlib_find("numba")
    assert kernels.numba_wanted(1 << 20, np.float64) == have
    assert not kernels.numba_wanted(100, np.float64)  # small runs: numpy (no compile)
    assert kernels.numba_wanted(1 << 20, np.float64, steps=100) == have
    assert not kernels.numba_wanted(1 << 20, np.float64, steps=5)  # short runs: numba's import would dominate
    assert not kernels.numba_wanted(1 << 20, np.float32)  # float32: numpy (same rounding as the own step's dtype)
    monkeypatch.setenv("POLYAK_NUMBA", "0")
    assert not kernels.numba_wanted(1 << 20, np.float64)
    monkeypatch.delenv("POLYAK_NUMBA")
    monkeypatch.setattr(kernels, "USE_NUMBA", True)
    assert kernels.numba_wanted(100, np.float64) == have
    monkeypatch.setattr(kernels, "USE_NUMBA", False)
    assert not kernels.numba_wanted(1 << 20, np.float64)


def test_compiled_kernel_without_a_writable_cache_compiles_in_memory(monkeypatch, tmp_path):
    pytest.importorskip("numba")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("POLYAK_CACHE_DIR", str(blocker))  # makedirs(<file>/kernels) fails: OSError
    monkeypatch.setattr(kernels, "_COMPILED", {})
    monkeypatch.setattr(kernels, "USE_NUMBA", True)
    p = _problem("random", P=2, d=6)
    m = extragradient(a=0.013)
    tr = polyak.simulate(m, p, 40, record_every=4)
    own = polyak.simulate(m, p, 40, record_every=4, fused=False)
    np.testing.assert_allclose(tr.x_final, own.x_final, rtol=0, atol=1e-12 * np.abs(p.x0 - p.x_star).max())
    (fn,) = kernels._COMPILED.values()
    assert not fn.targetoptions.get("cache", False) and not list(tmp_path.glob("**/*.py"))


@pytest.mark.torch
def test_fused_true_on_torch_cpu_agrees_with_the_numpy_default():
    """On torch, fused=True runs FusedLinear.step (out of place, through the general loop): the same
    iterates as numpy's default in-place kernel and the own step, to 1e-12."""
    pytest.importorskip("torch")
    p = _problem("random")
    for m in (tmm(), extragradient(), polyak.make_method("hb", alpha=0.02, beta=0.5)):
        tt = polyak.simulate(m, p, 100, record_every=10, backend="torch", device="cpu", fused=True)
        tn = polyak.simulate(m, p, 100, record_every=10)
        own = polyak.simulate(m, p, 100, record_every=10, backend="torch", device="cpu")
        scale = np.abs(p.x0 - p.x_star).max()
        np.testing.assert_allclose(tt.x_final, tn.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(own.x_final, tn.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(tt.dist, tn.dist, rtol=0, atol=1e-12 * tn.dist[0].max())


@pytest.mark.parametrize("x_star", ["zero", "random"])
def test_grids_schedules_and_per_problem_tunings_run_the_compiled_kernel(x_star, monkeypatch):
    """Hyperparameters that vary run by run (a grid, per_problem) or step by step (schedules: FISTA,
    a sequence) run the compiled kernel with per-run, per-step coefficients (GridFused): the own
    step's iterates, records and momentum to 1e-12."""
    pytest.importorskip("numba")
    monkeypatch.setattr(kernels, "USE_NUMBA", True)
    grids = []
    real = kernels.GridFused.__init__
    monkeypatch.setattr(kernels.GridFused, "__init__", lambda self, *a, **k: (grids.append(1), real(self, *a, **k))[1])
    p = _problem(x_star)
    rng = np.random.default_rng(5)
    cases = [
        (polyak.make_method("hb", alpha=np.sort(rng.uniform(0.004, 0.02, 3))[:, None], beta=rng.uniform(0.2, 0.7, 2)),
         {}),
        (polyak.make_method("hb", alpha=rng.uniform(0.005, 0.02, p.batch), beta=0.5), dict(per_problem=True)),
        (tmm(alpha=[0.002, 0.004], gamma=[0.1, 0.2]), {}),
        (extragradient(a=[0.003, 0.008]), {}),
        (coupled(a=[0.003, 0.01], b=0.3), {}),
        (polyak.make_method("nesterov", alpha=[0.004, 0.008], beta=[0.6, 0.8]), {}),
        (polyak.make_method("nesterov", alpha=0.008, schedule="fista"), {}),
        (polyak.make_method("nesterov", alpha=[0.004, 0.008], schedule="fista"), {}),
        (polyak.make_method("hb", alpha=Schedule.sequence(rng.uniform(0.002, 0.01, 120)), beta=[0.3, 0.6]), {}),
        (tmm(alpha=Schedule.sequence(np.linspace(0.004, 0.001, 120)), gamma=0.1), {}),
    ]
    scale = np.abs(p.x0 - p.x_star).max()
    for m, kw in cases:
        own = polyak.simulate(m, p, 120, seeds=2, record_every=6, keep_last=2, fused=False, **kw)
        tr = polyak.simulate(m, p, 120, seeds=2, record_every=6, keep_last=2, **kw)
        np.testing.assert_allclose(tr.x_final, own.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(tr.x_tail, own.x_tail, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(tr.dist, own.dist, rtol=0, atol=1e-12 * own.dist[0].max())
        np.testing.assert_allclose(tr.gnorm, own.gnorm, rtol=0, atol=1e-12 * own.gnorm[0].max())
        np.testing.assert_allclose(tr.fval, own.fval, rtol=0, atol=1e-12 * own.fval[0].max())
        np.testing.assert_array_equal(tr.beta, own.beta)
    assert len(grids) == len(cases)
    # each run has its own coefficients: the grid's runs differ from each other, as the own step's do
    hb = cases[0][0]
    tr = polyak.simulate(hb, p, 120)
    assert np.abs(tr.x_final[:, 0, 0] - tr.x_final[:, 2, 1]).max() > 1e-3 * scale


@polyak.linear_method(a=0.01, register=False)
def keeps_y(x, y, grad, *, a):
    return x - a * grad(x) + 0.1 * (x - y), y


@polyak.linear_method(a=0.01, register=False)
def swaps(x, y, grad, *, a):
    return y, x - a * grad(x)


@polyak.linear_method(a=0.01, register=False)
def duplicates(x, y, z, grad, *, a):
    """Two state variables copy x: they share a buffer, which the next step's row reads twice."""
    return x - a * grad(x) + 0.2 * (y - z), x, x


# y is zeroed: (x*, x*) is not a fixed point, which the definition warns about (the kernel must still
# reproduce the own step)
with pytest.warns(polyak.solvers.linear.FixedPointWarning, match="state variable 'y', gradient call 0"):
    @polyak.linear_method(a=0.01, register=False)
    def zero_row(x, y, grad, *, a):
        return x - a * grad(x + y), 0 * y


@polyak.linear_method(a=0.01, register=False)
def rotates(x, y, z, grad, *, a):
    return z - a * grad(x), x, y


@pytest.mark.parametrize("make", [keeps_y, swaps, duplicates, zero_row, rotates], ids=lambda f: f.name)
@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
def test_in_place_buffer_plans_of_unusual_structures(make, compiled, monkeypatch):
    """State variables kept, swapped, duplicated, zeroed or rotated: the in-place plan (which buffer
    each new field goes to, when a row needs the scratch block) gives the own step's iterates."""
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(kernels, "USE_NUMBA", compiled)
    p = polyak.make_problem("quadratic", mu=1.0, L=[20.0, 60.0], dim=16, spectrum="uniform", instances=2,
                            x_star="random", seed=4)
    m = make()
    own = polyak.simulate(m, p, 60, seeds=2, record_every=3, keep_last=2, fused=False)
    scale = np.abs(p.x0 - p.x_star).max()
    for bs in (None, 16, float("inf")):
        t = polyak.simulate(m, p, 60, seeds=2, record_every=3, keep_last=2, block_size=bs)
        np.testing.assert_allclose(t.x_final, own.x_final, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(t.x_tail, own.x_tail, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(t.dist, own.dist, rtol=0, atol=1e-12 * own.dist[0].max())
