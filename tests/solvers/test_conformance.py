"""One conformance suite that every registered method passes.

For each method in the registry: batched equals looped; numpy equals torch CPU within 1e-12;
deterministic under a seed; a zero step size leaves x unchanged; the state dtype is the one asked
for; the recorded beta is finite. Hyperparameters are the method's defaults with the step size
scaled to a safe value on the test problem (L = 1).
"""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import get_method_rule

METHODS = polyak.list_methods()
STEP_NAMES = ("alpha", "lr", "eta")


def step_param(name: str) -> str:
    names = [p.name for p in get_method_rule(name).params]
    for s in STEP_NAMES:
        if s in names:
            return s
    raise AssertionError(f"{name} has no step-size parameter among {STEP_NAMES}")


@pytest.fixture(scope="module")
def problem():
    # random basis: exercises the dense matrix product path; 2 instances
    return polyak.make_problem("quadratic", mu=0.1, L=[1.0, 0.5], dim=6, basis="random", spectrum="uniform", seed=3)


def run(name, problem, steps=25, backend="numpy", dtype="float64", **hyper):
    return polyak.simulate(polyak.make_method(name, **hyper), problem, steps, backend=backend, dtype=dtype)


@pytest.mark.parametrize("name", METHODS)
def test_batched_equals_looped(name, problem):
    s = step_param(name)
    grid = np.array([0.05, 0.2])
    batched = run(name, problem, **{s: grid})
    assert batched.x_final.shape == (2, 2, 1, 6)
    for j, val in enumerate(grid):
        looped = run(name, problem, **{s: float(val)})
        # equal up to the summation order of the BLAS kernel (a matrix product per step)
        np.testing.assert_allclose(batched.x_final[:, j], looped.x_final, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(batched.dist[:, :, j], looped.dist, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", METHODS)
def test_numpy_equals_torch(name, problem):
    pytest.importorskip("torch")
    s = step_param(name)
    a = run(name, problem, **{s: 0.1})
    b = run(name, problem, backend="torch", **{s: 0.1})
    assert b.backend == "torch"
    np.testing.assert_allclose(b.x_final, a.x_final, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.dist, a.dist, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.beta, a.beta, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", METHODS)
def test_deterministic(name, problem):
    s = step_param(name)
    a = run(name, problem, **{s: 0.1})
    b = run(name, problem, **{s: 0.1})
    np.testing.assert_array_equal(a.x_final, b.x_final)
    np.testing.assert_array_equal(a.beta, b.beta)


@pytest.mark.parametrize("name", METHODS)
def test_zero_step_leaves_x_unchanged(name, problem):
    s = step_param(name)
    tr = run(name, problem, **{s: 0.0})
    np.testing.assert_array_equal(tr.x_final[:, 0], problem.x0)
    assert not tr.diverged.any()


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_state_dtype_as_asked(name, problem, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    s = step_param(name)
    tr = run(name, problem, backend=backend, dtype="float32", **{s: 0.1})
    assert tr.x_final.dtype == np.float32
    assert tr.dist.dtype == np.float32
    ref = run(name, problem, **{s: 0.1})
    # float32 follows float64 to single precision over 25 steps
    np.testing.assert_allclose(tr.x_final, ref.x_final, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name", METHODS)
def test_recorded_beta_is_finite_and_a_momentum(name, problem):
    s = step_param(name)
    tr = run(name, problem, **{s: 0.1})
    assert np.all(np.isfinite(tr.beta))
    assert np.all(tr.beta >= 0) and np.all(tr.beta < 1 + 1e-12)
