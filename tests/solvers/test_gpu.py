"""CUDA checks (``-m gpu``; skipped without a device) and the GPU benchmark's CPU smoke run.

No GPU was lent to the session that wrote these: the CUDA tests have not run yet
(``benchmarks/gpu_check.sh`` runs them with the benchmark in one call).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import polyak

ROOT = Path(__file__).resolve().parents[2]


def _cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch


@pytest.mark.gpu
@pytest.mark.parametrize("noise", [None, "additive"])
def test_cuda_equals_numpy_in_float64(noise):
    _cuda()
    extra = {} if noise is None else dict(noise=noise, sigma=0.1)
    p = polyak.make_problem("quadratic", mu=1.0, L=[10.0, 100.0], dim=50, x_star="random", seed=3, **extra)
    m = polyak.make_method("hb", alpha=[0.005, 0.02, 0.05], beta=0.5)  # one diverges
    tn = polyak.simulate(m, p, 200, seeds=3, record_every=5)
    tc = polyak.simulate(m, p, 200, seeds=3, record_every=5, backend="torch", device="cuda")
    assert tc.diverged.any()
    np.testing.assert_array_equal(tc.diverged_at, tn.diverged_at)
    for f in ("dist", "fval", "gnorm"):
        np.testing.assert_allclose(getattr(tc, f), getattr(tn, f), rtol=1e-10, atol=1e-300)


@pytest.mark.gpu
def test_cuda_noise_words_equal_numpy():
    _cuda()
    from polyak.solvers.backend import get_backend
    from polyak.solvers.problems.noise import NoiseStreams

    sn, sc = NoiseStreams([1, 2], get_backend("numpy")), NoiseStreams([1, 2], get_backend("torch", device="cuda"))
    for a, b in zip(sn.words(3, 4, 0, 17, 0), sc.words(3, 4, 0, 17, 0)):
        np.testing.assert_array_equal(a, b.cpu().numpy())
    np.testing.assert_allclose(sn.normals(3, 4, 0, 33), sc.normals(3, 4, 0, 33).cpu().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.gpu
def test_cuda_run_synchronises_a_constant_number_of_times(monkeypatch):
    torch = _cuda()
    from polyak.solvers.backend import Backend

    p = polyak.make_problem("quadratic", mu=1.0, L=100.0, dim=64, seed=1)
    m = polyak.make_method("hb", alpha=[0.01, 0.05], beta=0.5)
    counts = {}
    for steps in (10, 300):
        n = [0]
        real = Backend.to_numpy

        def to_numpy(self, x, _n=n):
            _n[0] += 1
            return real(self, x)

        with monkeypatch.context() as mp:
            mp.setattr(Backend, "to_numpy", to_numpy)
            mp.setattr(Backend, "any", lambda self, x: (_ for _ in ()).throw(AssertionError("host sync")))
            polyak.simulate(m, p, steps, record_every=1, backend="torch", device="cuda")
        counts[steps] = n[0]
    assert counts[10] == counts[300] <= 8


@pytest.mark.gpu
def test_cuda_float32_fit_uses_the_float32_floor():
    _cuda()
    from polyak.verify.rates import fit_linear_rate

    p = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=30, x_star="random", seed=6)
    t = polyak.simulate(polyak.make_method("gd", alpha=0.1), p, 400, backend="torch", device="cuda", dtype="float32")
    fit = fit_linear_rate(t.dist[:, 0, 0], t.k, floor=t.floor)
    assert abs(fit.rate / 0.9 - 1) < 0.01


@pytest.mark.torch
def test_gpu_benchmark_small_runs_on_cpu(tmp_path):
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "benchmarks" / "gpu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--small", "--device", "cpu", "--json", str(tmp_path / "g.json")])
    cases = {(c["case"], c["dtype"]): c for c in out["cases"]}
    assert set(cases) == {(c, d) for c in ("eigen", "dense") for d in ("float32", "float64")}
    # the engine and the bare loop computed the same iterates
    # (kappa up to 1e4: heavy ball grows transiently, so rounding reaches ~1e-12 of |x0| in 50 steps)
    assert cases["eigen", "float64"]["max_rel_diff_engine_vs_bare"] < 1e-11
    # float32: the tuned heavy ball has a double eigenvalue (a Jordan block per coordinate), so a
    # rounding of eps in its coefficients moves the iterates by ~sqrt(eps) per step: the fused path
    # (T rounded once from float64) and the bare loop (alpha, beta rounded) differ at that level
    assert cases["eigen", "float32"]["max_rel_diff_engine_vs_bare"] < 30 * float(np.finfo(np.float32).eps) ** 0.5
    e = cases["eigen", "float64"]
    # the engine is the torch fused path, timed against the own step and recording every step
    assert e["max_rel_diff_engine_vs_own_step"] < 1e-11 and "fused" in e["engine_path"]
    assert e["own_step_s"] > 0 and e["record_every_step_s_scaled"] > 0
    assert e["bytes_per_step"] == 3 * e["runs"] * e["d"] * 8
    assert (tmp_path / "g.json").exists()
    assert mod.peak_bandwidth("NVIDIA H200") == 4.8e12 and mod.peak_bandwidth("NVIDIA H100 80GB HBM3") == 3.35e12
