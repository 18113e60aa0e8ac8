"""The torch backend's in-place fused path (issue 12, the engine at GPU scale).

On torch, ``simulate`` steps a linear method on a noise-free eigenbasis quadratic with its
per-coordinate iteration matrix by default (``fused=None``), in place
(:class:`~polyak.solvers.kernels.TorchInPlaceStepper`): scalar hyperparameters as on numpy, and on
torch also constant grids (:class:`~polyak.solvers.kernels.TorchGridKernel`). Checked here against
three independent computations -- the method's own step on torch (``fused=False``), numpy's default
kernel and, in float32, a float64 run -- at random admissible hyperparameters; divergence is flagged
as on the own step; and the step loop never reads a tensor back to the host (every ``.item()``,
``bool()``, ``float()`` of a tensor dispatches ``aten._local_scalar_dense``, which is what
synchronises on a device) nor allocates a state-sized array per step.
"""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import kernels

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TORCH = dict(backend="torch", device="cpu")


def _problem(x_star, P=3, d=24, seed=4):
    return polyak.make_problem("quadratic", mu=1.0, L=[20.0, 60.0, 100.0][:P], dim=d, spectrum="uniform",
                               instances=P, x_star=x_star, seed=seed)


@polyak.linear_method(a=0.02, b=0.4, register=False)
def coupled(x, y, grad, *, a, b):
    """Two computed rows that read each other's old value (the in-place plan goes through scratch)."""
    g = grad(x)
    return x - a * g + b * (x - y), 0.5 * x + 0.5 * y - a * g


@polyak.linear_method(alpha=0.005, beta=0.3, gamma=0.2, register=False)
def tmm(x, x_prev, grad, *, alpha, beta, gamma):
    y = x + gamma * (x - x_prev)
    return x + beta * (x - x_prev) - alpha * grad(y), x


def _random_method(name, rng, L=100.0):
    """A random admissible tuning (spectral radius < 1 on [1, L])."""
    beta = float(rng.uniform(0.1, 0.8))
    if name == "hb":
        return polyak.make_method("hb", alpha=float(rng.uniform(0.2, 0.9) * 2 * (1 + beta) / L), beta=beta)
    if name == "nesterov":
        return polyak.make_method("nesterov", alpha=float(rng.uniform(0.2, 0.9) / L), beta=beta)
    if name == "gd":
        return polyak.make_method("gd", alpha=float(rng.uniform(0.2, 1.8) / L))
    if name == "tmm":
        return tmm(alpha=float(rng.uniform(0.2, 0.8) / L), beta=beta, gamma=float(rng.uniform(0.0, 0.3)))
    return coupled(a=float(rng.uniform(0.2, 0.8) / L), b=float(rng.uniform(0.1, 0.5)))


@pytest.fixture
def used(monkeypatch):
    """Counts the torch in-place steppers built (the fused path ran) and the grid kernels."""
    n = {"stepper": 0, "grid": 0}
    real = kernels.TorchInPlaceStepper.__init__
    realg = kernels.TorchGridKernel.__init__

    def init(self, *a, **k):
        n["stepper"] += 1
        real(self, *a, **k)

    def ginit(self, *a, **k):
        n["grid"] += 1
        realg(self, *a, **k)

    monkeypatch.setattr(kernels.TorchInPlaceStepper, "__init__", init)
    monkeypatch.setattr(kernels.TorchGridKernel, "__init__", ginit)
    return n


def _close(a, b, tol, with_tail=True):
    """Trajectories a and b agree to ``tol`` relative to b's initial values, field by field."""
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=tol * np.abs(b.x_final).max() + tol * 1e-300)
    if with_tail:
        np.testing.assert_allclose(a.x_tail, b.x_tail, rtol=0, atol=tol * np.abs(b.x_tail).max())
    for f in ("dist", "gnorm", "fval"):
        x, y = getattr(a, f), getattr(b, f)
        np.testing.assert_allclose(x, y, rtol=0, atol=tol * np.abs(y[0]).max())
    np.testing.assert_array_equal(a.k, b.k)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)


@pytest.mark.parametrize("name", ["hb", "nesterov", "gd", "tmm", "coupled"])
@pytest.mark.parametrize("x_star", ["zero", "random"])
def test_torch_fused_equals_own_step_and_numpy_in_float64(name, x_star, used):
    rng = np.random.default_rng([7, ["hb", "nesterov", "gd", "tmm", "coupled"].index(name), x_star == "zero"])
    p = _problem(x_star)
    for every in (1, 7):
        m = _random_method(name, rng)
        before = used["stepper"]
        own = polyak.simulate(m, p, 90, seeds=2, record_every=every, keep_last=3, fused=False, **TORCH)
        assert used["stepper"] == before  # fused=False: the method's own step
        tr = polyak.simulate(m, p, 90, seeds=2, record_every=every, keep_last=3, **TORCH)
        assert used["stepper"] == before + 1  # the default on torch: the in-place fused path
        tn = polyak.simulate(m, p, 90, seeds=2, record_every=every, keep_last=3)  # numpy's default kernel
        _close(tr, own, 1e-12)
        _close(tr, tn, 1e-12)
        np.testing.assert_array_equal(tr.beta, own.beta)
        assert tr.backend == "torch" and tr.dtype == "float64"
    # the comparison can fail: another hyperparameter moves the iterates far beyond 1e-12
    other = polyak.simulate(_random_method(name, rng), p, 90, **TORCH)
    assert np.abs(other.x_final - tr.x_final[..., :1, :]).max() > 1e-6 * np.abs(tr.x_final).max()


@pytest.mark.parametrize("name", ["hb", "nesterov", "coupled"])
def test_torch_fused_float32_is_at_float32_rounding(name, used):
    """float32: the fused and the own step round differently; both stay within steps x eps32
    (relative to the start) of the float64 run, and of each other."""
    rng = np.random.default_rng(3)
    p = _problem("random")
    m = _random_method(name, rng)
    T = 120
    f32 = polyak.simulate(m, p, T, record_every=4, **TORCH, dtype="float32")
    own32 = polyak.simulate(m, p, T, record_every=4, fused=False, **TORCH, dtype="float32")
    f64 = polyak.simulate(m, p, T, record_every=4, **TORCH)
    assert used["stepper"] == 2 and f32.dtype == "float32"
    tol = 2 * T * float(np.finfo(np.float32).eps)  # a linear accumulation bound (rho < 1): 2 eps per step
    scale = np.abs(p.x0).max()
    for a in (f32, own32):
        np.testing.assert_allclose(a.x_final, f64.x_final, rtol=0, atol=tol * scale)
        np.testing.assert_allclose(a.dist, f64.dist, rtol=0, atol=tol * f64.dist[0].max())
    np.testing.assert_allclose(f32.x_final, own32.x_final, rtol=0, atol=tol * scale)
    # and float32 really rounds: it is not the float64 run
    assert np.abs(f32.x_final - f64.x_final).max() > 1e-10 * scale


def test_torch_grids_and_per_problem_tunings_run_fused(used):
    """Constant hyperparameters that vary run by run: coefficients per run on the device
    (TorchGridKernel), the own step's numbers to 1e-12; a schedule still takes the own step."""
    rng = np.random.default_rng(5)
    p = _problem("random")
    cases = [
        (polyak.make_method("hb", alpha=np.sort(rng.uniform(0.004, 0.02, 3))[:, None], beta=rng.uniform(0.2, 0.7, 2)),
         {}),
        (polyak.make_method("hb", alpha=rng.uniform(0.005, 0.02, p.batch), beta=0.5), dict(per_problem=True)),
        (polyak.make_method("nesterov", alpha=[0.004, 0.008], beta=[0.6, 0.8]), {}),
        (tmm(alpha=[0.002, 0.004], gamma=[0.1, 0.2]), {}),
        (coupled(a=[0.003, 0.01], b=0.3), {}),
    ]
    for m, kw in cases:
        own = polyak.simulate(m, p, 80, seeds=2, record_every=5, keep_last=2, fused=False, **TORCH, **kw)
        tr = polyak.simulate(m, p, 80, seeds=2, record_every=5, keep_last=2, **TORCH, **kw)
        _close(tr, own, 1e-12)
        np.testing.assert_array_equal(tr.beta, own.beta)
    assert used["grid"] == used["stepper"] == len(cases)
    # the grid's runs have their own coefficients (they differ from each other, as the own step's do)
    tr = polyak.simulate(cases[0][0], p, 80, **TORCH)
    assert np.abs(tr.x_final[:, 0, 0] - tr.x_final[:, 2, 1]).max() > 1e-3
    sched = polyak.make_method("nesterov", alpha=0.008, schedule="fista")
    n = used["stepper"]
    a = polyak.simulate(sched, p, 30, **TORCH)
    assert used["stepper"] == n
    np.testing.assert_array_equal(a.x_final, polyak.simulate(sched, p, 30, fused=False, **TORCH).x_final)
    with pytest.raises(ValueError, match="schedule"):
        polyak.simulate(sched, p, 3, fused=True, **TORCH)


@pytest.mark.parametrize("device_policy", [False, True], ids=["cpu-policy", "device-policy"])
def test_torch_fused_flags_divergence_like_the_own_step(device_policy, used, monkeypatch):
    """A run that blows up is flagged (diverged, step of detection, x_final at detection, inf
    records) exactly as on the own step; with the device policy (no ``any`` per record) too."""
    if device_policy:
        from polyak.solvers.backend import Backend

        monkeypatch.setattr(Backend, "host_sync_is_free", property(lambda self: False))
    p = _problem("random")
    m = polyak.make_method("hb", alpha=0.05, beta=0.5)  # alpha L = 5 > 2 (1 + beta): diverges on L = 60, 100
    grid = polyak.make_method("hb", alpha=[0.005, 0.05], beta=0.5)
    for meth in (m, grid):
        a = polyak.simulate(meth, p, 400, record_every=3, keep_last=2, **TORCH)
        b = polyak.simulate(meth, p, 400, record_every=3, keep_last=2, fused=False, **TORCH)
        assert a.diverged.any() and not a.diverged.all()
        np.testing.assert_array_equal(a.diverged, b.diverged)
        np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
        np.testing.assert_allclose(a.x_final, b.x_final, rtol=1e-12)
        for f in ("dist", "fval", "gnorm"):
            x, y = getattr(a, f), getattr(b, f)
            np.testing.assert_array_equal(np.isinf(x), np.isinf(y))
            assert not np.isnan(x).any()
            fin = np.isfinite(y)
            np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12 * y[0].max() * 100)
    assert used["stepper"] == 2


class _OpLog:
    """Records the aten ops run inside it (a TorchDispatchMode)."""

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        log = self.ops = []

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                log.append(func)
                return func(*args, **(kwargs or {}))

        self.mode = Mode()


def _ops_of_run(steps, record_every, monkeypatch, **kw):
    """The aten ops of the step loop of one fused run (the stepper's steps and the recorder's
    per-record work), from the first step on."""
    import importlib

    sim = importlib.import_module("polyak.solvers.simulate")

    log = _OpLog()
    real_step, real_end = kernels.TorchInPlaceStepper.step, sim._Recorder.end_record

    def step(self, *a, **k):
        with log.mode:
            return real_step(self, *a, **k)

    def end_record(self, *a, **k):
        with log.mode:
            return real_end(self, *a, **k)

    with monkeypatch.context() as mp:
        mp.setattr(kernels.TorchInPlaceStepper, "step", step)
        mp.setattr(sim._Recorder, "end_record", end_record)
        polyak.simulate(polyak.make_method("hb", alpha=0.02, beta=0.5), _problem("random"), steps,
                        record_every=record_every, seeds=2, **TORCH, **kw)
    return log.ops


def test_torch_fused_step_loop_never_reads_a_tensor_to_the_host(monkeypatch):
    """With the device policy (as on CUDA), no op of the step loop reads a value back
    (``aten._local_scalar_dense``: .item(), bool(), float() of a tensor), records every step
    included; and a step allocates nothing: between records, every op is in place or ``out=``."""
    from polyak.solvers.backend import Backend

    monkeypatch.setattr(Backend, "host_sync_is_free", property(lambda self: False))
    scalar = torch.ops.aten._local_scalar_dense.default
    every = _ops_of_run(40, 1, monkeypatch)
    assert every and scalar not in every
    sparse = {T: _ops_of_run(T, T, monkeypatch) for T in (20, 200)}
    fresh = {T: [f for f in ops if not f._schema.is_mutable] for T, ops in sparse.items()}
    assert len(sparse[200]) > len(sparse[20])  # the log sees the steps...
    assert len(fresh[200]) == len(fresh[20])  # ...but no step allocates (only the one record does)
    assert all(scalar not in ops for ops in sparse.values())
    # the check can fail: the CPU policy asks ``any`` at each record, a host read
    monkeypatch.setattr(Backend, "host_sync_is_free", property(lambda self: True))
    assert scalar in _ops_of_run(40, 1, monkeypatch)


def test_torch_fused_blocks_change_speed_not_numbers(used):
    """block_size on torch CPU splits the runs into blocks of views (whole arrays by default)."""
    p = _problem("random")
    m = tmm(alpha=0.004, gamma=0.1)
    whole = polyak.simulate(m, p, 60, seeds=3, record_every=4, keep_last=2, **TORCH)
    for bs in (24, 100):
        b = polyak.simulate(m, p, 60, seeds=3, record_every=4, keep_last=2, block_size=bs, **TORCH)
        _close(b, whole, 1e-14)
    grid = polyak.make_method("hb", alpha=[0.005, 0.01, 0.02], beta=0.5)
    _close(polyak.simulate(grid, p, 60, seeds=2, block_size=48, keep_last=2, **TORCH),
           polyak.simulate(grid, p, 60, seeds=2, keep_last=2, fused=False, **TORCH), 1e-12)
    assert used["stepper"] == 4


@pytest.mark.gpu
@pytest.mark.parametrize("dtype,compile_mode", [("float64", False), ("float32", False), ("float64", "auto")],
                         ids=["float64-eager", "float32-eager", "float64-compiled-if-triton"])
def test_cuda_fused_step_loop_does_not_synchronise(dtype, compile_mode, monkeypatch):
    """On CUDA: the fused default equals numpy's (float64: 1e-12; float32: steps x eps), and the
    step loop (stepper steps, per-record bookkeeping) runs under torch.cuda.set_sync_debug_mode("error")."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    import importlib

    sim = importlib.import_module("polyak.solvers.simulate")

    calls = {"step": 0}
    real_step, real_end = kernels.TorchInPlaceStepper.step, sim._Recorder.end_record

    def guarded(fn, count=False):
        def run(self, *a, **k):
            if count:
                calls["step"] += 1
            torch.cuda.set_sync_debug_mode("error")
            try:
                return fn(self, *a, **k)
            finally:
                torch.cuda.set_sync_debug_mode(0)
        return run

    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", compile_mode)
    monkeypatch.setattr(kernels, "TORCH_COMPILE_MIN_WORK", 0)  # (auto: compiled here if triton is installed)
    p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 100.0], dim=64, x_star="random", seed=3)
    m = polyak.make_method("hb", alpha=[0.005, 0.02, 0.05], beta=0.5)  # the last one diverges on L = 100
    # compile (if it does) outside the guard: triton's first launch and autotuning synchronise
    polyak.simulate(m, p, 3, seeds=2, record_every=1, backend="torch", device="cuda", dtype=dtype)
    with monkeypatch.context() as mp:
        mp.setattr(kernels.TorchInPlaceStepper, "step", guarded(real_step, True))
        mp.setattr(sim._Recorder, "end_record", guarded(real_end))
        tc = polyak.simulate(m, p, 200, seeds=2, record_every=1, backend="torch", device="cuda", dtype=dtype)
    assert calls["step"] == 200
    tn = polyak.simulate(m, p, 200, seeds=2, record_every=1, dtype=dtype)
    assert tc.diverged.any()
    np.testing.assert_array_equal(tc.diverged_at, tn.diverged_at)
    tol = 1e-12 if dtype == "float64" else 200 * float(np.finfo(np.float32).eps)
    fin = np.isfinite(tn.dist)
    np.testing.assert_allclose(tc.dist[fin], tn.dist[fin], rtol=tol, atol=tol * tn.dist[0].max())


# -- the compiled step (torch.compile; on CUDA with triton by default, tested here on the CPU) ------
def _compiled_calls(monkeypatch):
    """Counts calls of the compiled step functions (and forces the compiled path)."""
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", True)
    n = {"calls": 0, "built": 0}
    real = kernels._compiled_step

    def counting(spec):
        fn = real(spec)
        n["built"] += 1

        def call(*a, **k):
            n["calls"] += 1
            return fn(*a, **k)

        return call

    monkeypatch.setattr(kernels, "_compiled_step", counting)
    return n


def test_when_the_compiled_step_is_used(monkeypatch):
    monkeypatch.delenv("POLYAK_TORCH_COMPILE", raising=False)
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", "auto")
    assert not kernels.torch_compile_wanted("cpu")  # auto: CUDA with triton only
    assert kernels.torch_compile_wanted("cuda") == kernels.importlib_find("triton")
    assert kernels.torch_compile_wanted("cuda", 1e11) == kernels.importlib_find("triton")
    assert not kernels.torch_compile_wanted("cuda", 1e6)  # a small run: compiling would dominate
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", True)
    assert kernels.torch_compile_wanted("cpu")
    monkeypatch.setenv("POLYAK_TORCH_COMPILE", "0")
    assert not kernels.torch_compile_wanted("cuda")
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", False)
    monkeypatch.setenv("POLYAK_TORCH_COMPILE", "1")
    assert kernels.torch_compile_wanted("cpu")


def test_compiled_step_equals_the_own_step(monkeypatch):
    """torch.compile (inductor, CPU here): one compile per structure and record mode, serving every
    hyperparameter value; the own step's iterates and records to 1e-12, x* != 0."""
    pytest.importorskip("torch._inductor")
    import shutil

    if shutil.which("g++") is None and shutil.which("gcc") is None:
        pytest.skip("inductor on the CPU needs a C++ compiler")
    n = _compiled_calls(monkeypatch)
    p = _problem("random")
    rng = np.random.default_rng(12)
    for every in (1, 9):
        m = _random_method("hb", rng)
        own = polyak.simulate(m, p, 60, seeds=2, record_every=every, keep_last=2, fused=False, **TORCH)
        before = n["calls"]
        tr = polyak.simulate(m, p, 60, seeds=2, record_every=every, keep_last=2, **TORCH)
        assert n["calls"] - before == 60  # every step compiled
        _close(tr, own, 1e-12)
        np.testing.assert_array_equal(tr.beta, own.beta)
    # a structure whose target buffer holds two fields falls back to the eager programs
    @polyak.linear_method(a=0.01, register=False)
    def duplicates(x, y, z, grad, *, a):
        return x - a * grad(x) + 0.2 * (y - z), x, x

    before = n["calls"]
    _close(polyak.simulate(duplicates(), p, 30, keep_last=2, **TORCH),
           polyak.simulate(duplicates(), p, 30, keep_last=2, fused=False, **TORCH), 1e-12)
    assert n["calls"] - before <= 1  # (the first step, while every field still has its own buffer)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_step_other_structures_and_float32(dtype, monkeypatch):
    n = _compiled_calls(monkeypatch)
    p = _problem("random")
    rng = np.random.default_rng(13)
    cases = [_random_method(name, rng) for name in ("nesterov", "gd", "tmm")]
    cases.append(polyak.make_method("hb", alpha=[0.005, 0.01, 0.02], beta=0.5))
    eager = {}
    for m in cases:
        own = polyak.simulate(m, p, 50, seeds=2, record_every=5, keep_last=2, fused=False, dtype=dtype, **TORCH)
        tr = polyak.simulate(m, p, 50, seeds=2, record_every=5, keep_last=2, dtype=dtype, **TORCH)
        if dtype == "float64":
            _close(tr, own, 1e-12)
        else:
            monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", False)
            eager = polyak.simulate(m, p, 50, seeds=2, record_every=5, keep_last=2, dtype=dtype, **TORCH)
            monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", True)
            tol = 2 * 50 * float(np.finfo(np.float32).eps)
            _close(tr, eager, tol)
    assert n["calls"] >= 4 * 50


def test_a_failed_compile_falls_back_to_the_eager_kernels(monkeypatch):
    """Compiling can fail (no C++ compiler, no triton, a dynamo limit): the run warns and takes the
    eager in-place kernels, with the same numbers."""
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", True)

    def broken(spec):
        def fn(*a, **k):
            raise RuntimeError("no compiler here")
        return fn

    monkeypatch.setattr(kernels, "_compiled_step", broken)
    p = _problem("random")
    m = polyak.make_method("hb", alpha=0.02, beta=0.5)
    with pytest.warns(RuntimeWarning, match="torch.compile of the fused step failed.*no compiler here"):
        tr = polyak.simulate(m, p, 40, record_every=3, keep_last=2, **TORCH)
    monkeypatch.setattr(kernels, "USE_TORCH_COMPILE", False)
    _close(tr, polyak.simulate(m, p, 40, record_every=3, keep_last=2, **TORCH), 0.0)


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_float32_fused_keeps_x_star_as_its_fixed_point(backend):
    """float32, x* != 0, kappa = 1e3: rounding the iteration matrix to float32 moves the fixed point
    of the rounded iteration by ~eps / (1 - rho) (heavy ball's I - T is nearly singular on small
    eigenvalues); the affine part corrected for that rounding keeps x*, so the fused run's floor
    |x_k - x*| is no higher than the own step's (whose gradient vanishes at x* exactly). Without the
    correction the fused floor was 2.2-2.4x the own step's here (19-21 eps |x*| against 8.8)."""
    p = polyak.make_problem("quadratic", mu=1.0, L=1000.0, dim=50, spectrum="uniform", x_star="random", seed=3)
    k = 1000.0
    m = polyak.make_method("hb", alpha=0.9 * 4 / (np.sqrt(k) + 1) ** 2, beta=((np.sqrt(k) - 1) / (np.sqrt(k) + 1)) ** 2)
    kw = dict(dtype="float32", record_every=100, backend=backend, **({"device": "cpu"} if backend == "torch" else {}))
    fused = polyak.simulate(m, p, 3000, **kw)
    own = polyak.simulate(m, p, 3000, fused=False, **kw)
    floor = lambda t: t.dist[-5:, 0, 0].max()  # noqa: E731  (converged: rho^2500 < 1e-30)
    xs = np.linalg.norm(p.x_star[0])
    assert floor(own) < 20 * float(np.finfo(np.float32).eps) * xs  # the own step is at its rounding floor
    assert floor(fused) <= floor(own)
