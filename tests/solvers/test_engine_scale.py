"""The engine at scale: blocks of runs equal one batch, no host synchronisation per record on a
device, records reuse the step's gradient, counter-based noise streams, float32 floor."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

import polyak
from polyak.solvers.backend import Backend
from polyak.solvers.base import MethodRule, Param, build_method
from polyak.solvers.problems.noise import NoiseDraws, NoiseModel, NoiseStreams, philox4x32
from polyak.solvers.problems.quadratic import QuadraticProblem
from polyak.verify.rates import fit_linear_rate

FIELDS = ("dist", "fval", "gnorm", "beta", "diverged_at", "x_final")


def same(t1, t2, rtol=0.0):
    for f in FIELDS:
        a, b = getattr(t1, f), getattr(t2, f)
        if rtol == 0.0:
            np.testing.assert_array_equal(a, b, err_msg=f)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=f)


class TwoStepState(NamedTuple):
    x: Any
    m: Any
    beta: Any


class UserRule(MethodRule):
    """A user-defined rule (not registered): EMA-like momentum whose new ``m`` is a view of a
    fresh array and whose ``beta`` is passed on unchanged (a buffer the engine must keep)."""

    name = "user-two-step"
    params = (Param("alpha", 0.01, "step size", lo=0.0), Param("beta", 0.5, "momentum", lo=0.0, hi=1.0))

    def init(self, x0, h, be):
        return TwoStepState(x0, be.zeros_like(x0), h["beta"] + be.zeros_like(x0[..., :1]))

    def step(self, s, oracle, k, h, be):
        g = oracle.grad(s.x)
        m = (h["beta"] * s.m + g)[...]  # a view of the temporary
        return TwoStepState(s.x - h["alpha"] * m, m, s.beta)


def user_method(alpha, beta):
    return build_method(UserRule(), {"alpha": alpha, "beta": beta})


# -- blocks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("noise", [None, "additive", "minibatch"])
def test_blocks_equal_one_batch_bit_for_bit(noise):
    """Every block layout (several problems per block, grid points, seeds split) gives the same
    numbers as one batch, including diverging runs, keep_last and noise (least squares: f and
    the gradient are matrix products, whose rounding depends on the block: 1e-13)."""
    if noise == "minibatch":
        p = polyak.make_problem("least-squares", dim=12, n=40, reg=[0.0, 0.1, 0.2], seed=5, noise=noise,
                                batch_size=4)
    else:
        extra = {} if noise is None else dict(noise=noise, sigma=0.2)
        p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 100.0, 30.0], dim=12, spectrum="uniform",
                                x_star="random", seed=3, **extra)
    m = polyak.make_method("hb", alpha=np.array([0.005, 0.02, 0.05])[:, None], beta=[0.5, 0.9])  # 0.05, L=100 diverges
    seeds = (0, 5, 9, 2)
    ref = polyak.simulate(m, p, 60, seeds=seeds, record_every=3, keep_last=2, block_size=float("inf"))
    if noise is None:
        assert ref.diverged.any() and not ref.diverged.all()
    for bs in (12, 30, 100, 12 * 4 * 2, 12 * 4 * 6 + 1):
        t = polyak.simulate(m, p, 60, seeds=seeds, record_every=3, keep_last=2, block_size=bs)
        same(ref, t, rtol=1e-13 if noise == "minibatch" else 0.0)
        np.testing.assert_allclose(ref.x_tail, t.x_tail, rtol=1e-13 if noise == "minibatch" else 0.0)


def test_blocks_for_a_user_rule_and_a_dense_hessian():
    p = polyak.make_problem("quadratic", mu=1.0, L=50.0, dim=20, basis="random", x_star="random", seed=1)
    m = user_method(alpha=[0.01, 0.02, 0.03], beta=0.7)
    one = polyak.simulate(m, p, 40, seeds=3, block_size=float("inf"))
    for bs in (20, 60, 100):
        same(one, polyak.simulate(m, p, 40, seeds=3, block_size=bs), rtol=1e-13)  # matmul rounding
    # the user rule against the same recursion written out here
    x, mom = p.x0[0].copy(), np.zeros(20)
    A = p.hessian[0]
    for _ in range(40):
        mom = 0.7 * mom + A @ (x - p.x_star[0])
        x = x - 0.02 * mom
    np.testing.assert_allclose(one.x_final[0, 1, 0], x, rtol=1e-12, atol=1e-14)


def test_block_size_is_validated():
    p = polyak.make_problem("quadratic", dim=3)
    with pytest.raises(ValueError, match="block_size"):
        polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 2, block_size=0)


# -- records reuse the step's gradient ------------------------------------------------------------
def test_recording_every_step_takes_one_gradient_per_step(monkeypatch):
    calls = []
    orig = QuadraticProblem._grad

    def counted(self, X, D, be):
        calls.append(X.shape)
        return orig(self, X, D, be)

    monkeypatch.setattr(QuadraticProblem, "_grad", counted)
    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5, x_star="random", seed=2)
    # the method's own step (fused=False): the record takes the step's gradient
    t = polyak.simulate(polyak.make_method("hb", alpha=0.1, beta=0.5), p, 50, record_every=1, block_size=float("inf"),
                        fused=False)
    assert len(calls) == 50 + 1  # one per step, plus the last record (the old engine took 2 * 50 + 1)
    # the default on an eigenbasis quadratic is the fused kernel: no oracle call at all (g = lambda e)
    calls.clear()
    polyak.simulate(polyak.make_method("hb", alpha=0.1, beta=0.5), p, 50, record_every=1)
    assert len(calls) == 0
    # and the records are still right: against the problem's own oracle on the kept iterates
    calls.clear()
    t = polyak.simulate(polyak.make_method("hb", alpha=0.1, beta=0.5), p, 6, keep_last=7)
    xs = t.x_tail[:, 0, 0]
    np.testing.assert_allclose(t.gnorm[:, 0, 0], np.linalg.norm(p.grad(xs[None])[0], axis=-1), rtol=1e-14)
    np.testing.assert_allclose(t.fval[:, 0, 0], p.f(xs[None])[0], rtol=1e-14)
    # Nesterov takes its gradient elsewhere: the record computes its own
    calls.clear()
    polyak.simulate(polyak.make_method("nesterov", alpha=0.1, beta=0.5), p, 50, record_every=1, block_size=float("inf"),
                    fused=False)
    assert len(calls) == 2 * 50 + 1


# -- no host synchronisation per record on a device ------------------------------------------------
@pytest.mark.torch
def test_device_mode_reads_back_once_per_run(monkeypatch):
    """With the device policy (flags stay on the device) on torch CPU: the number of reads back
    to the host does not grow with the number of steps or records, and the numbers equal those of
    the CPU policy (which asks ``any`` at each record), diverging runs included."""
    torch = pytest.importorskip("torch")
    p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 100.0], dim=8, x_star="random", seed=4,
                            noise="additive", sigma=0.01)
    m = polyak.make_method("hb", alpha=[0.01, 0.05], beta=0.5)
    kw = dict(backend="torch", device="cpu", seeds=2, keep_last=2)
    cheap = {s: polyak.simulate(m, p, s, **kw) for s in (20, 200)}
    assert cheap[200].diverged.any()
    counts = {}
    monkeypatch.setattr(Backend, "host_sync_is_free", property(lambda self: False))
    for steps in (20, 200):
        n = {"to_numpy": 0, "any": 0, "item": 0, "bool": 0}
        real_to_numpy, real_item, real_bool = Backend.to_numpy, torch.Tensor.item, torch.Tensor.__bool__

        def to_numpy(self, x, _n=n):
            _n["to_numpy"] += 1
            return real_to_numpy(self, x)

        def any_(self, x, _n=n):
            _n["any"] += 1
            return bool(x.any())

        def item(self, _n=n):
            _n["item"] += 1
            return real_item(self)

        def bool_(self, _n=n):
            _n["bool"] += 1
            return real_bool(self)

        with monkeypatch.context() as mp:
            mp.setattr(Backend, "to_numpy", to_numpy)
            mp.setattr(Backend, "any", any_)
            mp.setattr(torch.Tensor, "item", item)
            mp.setattr(torch.Tensor, "__bool__", bool_)
            t = polyak.simulate(m, p, steps, record_every=1, **kw)
        counts[steps] = dict(n)
        same(cheap[steps], t)
        np.testing.assert_array_equal(cheap[steps].x_tail, t.x_tail)
    assert counts[20] == counts[200], counts
    assert counts[200]["any"] == counts[200]["item"] == counts[200]["bool"] == 0, counts
    assert counts[200]["to_numpy"] <= 8, counts


# -- noise streams -----------------------------------------------------------------------------
KAT = [  # Random123's published known-answer vectors for Philox4x32-10 (its tests/kat_vectors)
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("lib", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_philox_known_answers(lib):
    if lib == "numpy":
        arr = lambda v: np.array([v], dtype=np.int64)  # noqa: E731
    else:
        torch = pytest.importorskip("torch")
        arr = lambda v: torch.tensor([v], dtype=torch.int64)  # noqa: E731
    for ctr, key, want in KAT:
        got = philox4x32([arr(v) for v in ctr], [arr(v) for v in key])
        assert [int(w[0]) for w in got] == list(want)
    # and a wrong round count is caught by the same vectors
    got = philox4x32([arr(v) for v in KAT[0][0]], [arr(v) for v in KAT[0][1]], rounds=7)
    assert [int(w[0]) for w in got] != list(KAT[0][2])


def test_streams_are_per_seed_and_drawn_ahead_equal_one_by_one():
    be = polyak.solvers.backend.get_backend("numpy")
    all3 = NoiseStreams([4, 0, 7], be)
    for j, s in enumerate([4, 0, 7]):
        alone = NoiseStreams([s], be)
        np.testing.assert_array_equal(all3.normals(3, 5, 0, 9)[:, j], alone.normals(3, 5, 0, 9)[:, 0])
    ahead = NoiseDraws(NoiseModel("additive", 1.0), all3, 9, 40, ahead=10_000)
    single = NoiseDraws(NoiseModel("additive", 1.0), all3, 9, 40, ahead=1)
    assert ahead.T > 1 and single.T == 1
    for k in range(40):
        np.testing.assert_array_equal(ahead.get(k, 0), single.get(k, 0))
    assert not np.array_equal(all3.normal(1, 0, 9), all3.normal(1, 1, 9))  # a second call differs
    z = NoiseStreams(range(8), be).normals(0, 50, 0, 1000)  # 400,000 draws: moments within 5 s.e.
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs((z**4).mean() - 3) < 5 * np.sqrt(96 / n)
    idx = NoiseStreams(range(4), be).indices_steps(0, 500, 0, 7, 10)
    counts = np.bincount(idx.ravel(), minlength=7)
    assert idx.min() >= 0 and idx.max() <= 6
    assert np.all(np.abs(counts - idx.size / 7) < 5 * np.sqrt(idx.size * (1 / 7) * (6 / 7)))


@pytest.mark.torch
def test_numpy_and_torch_cpu_draw_the_same_noise():
    pytest.importorskip("torch")
    from polyak.solvers.backend import get_backend

    sn, st = NoiseStreams([3, 1], get_backend("numpy")), NoiseStreams([3, 1], get_backend("torch", device="cpu"))
    for a, b in zip(sn.words(7, 3, 0, 11, 0), st.words(7, 3, 0, 11, 0)):
        np.testing.assert_array_equal(a, b.numpy())  # integer words: bit for bit
    np.testing.assert_allclose(sn.normals(7, 3, 0, 21), st.normals(7, 3, 0, 21).numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(sn.indices_steps(7, 3, 0, 50, 9), st.indices_steps(7, 3, 0, 50, 9).numpy())
    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=6, seed=2, noise="additive", sigma=0.3)
    m = polyak.make_method("hb", alpha=[0.05, 0.1], beta=0.5)
    tn = polyak.simulate(m, p, 30, seeds=3)
    tt = polyak.simulate(m, p, 30, seeds=3, backend="torch", device="cpu")
    np.testing.assert_allclose(tt.x_final, tn.x_final, rtol=1e-10, atol=1e-13)
    q = polyak.make_problem("least-squares", dim=4, n=20, seed=5, noise="minibatch", batch_size=3)
    np.testing.assert_allclose(polyak.simulate(m, q, 30, seeds=2, backend="torch", device="cpu").x_final,
                               polyak.simulate(m, q, 30, seeds=2).x_final, rtol=1e-10, atol=1e-13)


# -- float32 --------------------------------------------------------------------------------------
def test_float32_floor_and_divergence_default():
    """A float32 run stalls at its rounding floor (x* != 0): the fit above Trajectory.floor recovers
    GD's rate 1 - 1/kappa (computed from kappa), from records that are all above that floor."""
    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=30, x_star="random", seed=6)
    m = polyak.make_method("gd", alpha=0.1)
    t32 = polyak.simulate(m, p, 400, dtype="float32")
    t64 = polyak.simulate(m, p, 400)
    assert (t32.dtype, t64.dtype) == ("float32", "float64")
    assert t32.floor == 1e-5 and t64.floor == 1e-12 and t32.eps == np.finfo(np.float32).eps
    rho = 1 - 1 / 10
    good = fit_linear_rate(t32.dist[:, 0, 0], t32.k, floor=t32.floor)
    assert abs(good.rate / rho - 1) < 0.01, good
    err = t32.dist[:, 0, 0]
    assert np.all(err[good.window[0] : good.window[1]] > t32.floor * err[0])
    assert np.min(err) > 1e-9 * err[0]  # float32 never reaches float64's levels: the floor is real
    # divergence: 1e8 x the initial error in float32 (squared norms stay finite), 1e12 in float64
    div = polyak.make_method("gd", alpha=0.3)  # alpha L = 3 > 2
    d32 = polyak.simulate(div, p, 200, dtype="float32")
    d64 = polyak.simulate(div, p, 200)
    e0 = np.linalg.norm(p.x0[0] - p.x_star[0])
    k32, k64 = int(d32.diverged_at[0, 0]), int(d64.diverged_at[0, 0])
    assert 0 < k32 < k64
    assert d64.dist[k64 - 1, 0, 0] <= 1e12 * max(e0, 1.0) < np.linalg.norm(d64.x_final[0, 0] - p.x_star[0])


# -- fused linear kernel ---------------------------------------------------------------------------
@pytest.mark.parametrize("x_star", ["zero", "random"])
def test_fused_kernel_equals_the_step_to_rounding(x_star):
    p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 100.0], dim=40, spectrum="uniform", instances=3,
                            x_star=x_star, seed=2)

    @polyak.linear_method(alpha=0.02, beta=0.3, gamma=0.2, register=False)
    def tmm(x, x_prev, grad, *, alpha, beta, gamma):  # a user's linear method (two state variables)
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    for m in (polyak.make_method("hb", alpha=0.02, beta=0.5), polyak.make_method("gd", alpha=0.01),
              polyak.make_method("nesterov", alpha=0.01, beta=0.8), tmm()):
        a = polyak.simulate(m, p, 200, record_every=10)
        for bs in (None, float("inf")):
            b = polyak.simulate(m, p, 200, record_every=10, fused=True, block_size=bs)
            np.testing.assert_allclose(b.x_final, a.x_final, rtol=1e-12, atol=1e-12 * np.abs(p.x0).max())
            np.testing.assert_allclose(b.dist[:8], a.dist[:8], rtol=1e-11)
            np.testing.assert_array_equal(b.beta, a.beta)
    # and a wrong matrix would be caught: the fused run differs from a run with another beta
    other = polyak.simulate(polyak.make_method("hb", alpha=0.03, beta=0.49), p, 200, fused=True)
    assert np.abs(other.x_final - polyak.simulate(polyak.make_method("hb", alpha=0.03, beta=0.5), p, 200).x_final).max() > 1e-8


def test_fused_kernel_refuses_what_it_cannot_run(monkeypatch):
    from polyak.solvers import kernels

    monkeypatch.setattr(kernels, "USE_NUMBA", False)  # a grid runs fused only with the compiled kernel
    q = polyak.make_problem("quadratic", dim=5)
    cases = [
        (polyak.make_method("hb", alpha=[0.1, 0.2], beta=0.5), q, "grid"),
        (polyak.make_method("hb", alpha=0.1, beta=0.5), polyak.make_problem("quadratic", dim=5, noise="additive", sigma=0.1), "noise"),
        (polyak.make_method("hb", alpha=0.1, beta=0.5), polyak.make_problem("quadratic", dim=5, basis="random"), "eigenbasis"),
        (polyak.make_method("nesterov", alpha=0.1, schedule="fista"), q, "schedule"),
        (polyak.make_method("adaptive-hb"), q, "not a linear method"),
    ]
    for m, p, why in cases:
        with pytest.raises(ValueError, match=why):
            polyak.simulate(m, p, 3, fused=True)
