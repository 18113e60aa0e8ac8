"""The papers' methods are registered, record beta, run on numpy and torch alike, show in `polyak run`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from polyak.solvers import list_methods, make_method, make_problem, simulate

NAMES = ["demon-sgdm", "demon-adam", "adaptive-hb", "adaptive-hb-adam", "am-sgd", "am-adamw", "adam", "adamw"]
HYPER = {
    "demon-sgdm": dict(eta=0.01, T=20),
    "demon-adam": dict(lr=0.01, T=20),
    "adaptive-hb": dict(lr=0.01, blocks=2),
    "adaptive-hb-adam": dict(lr=0.01),
    "am-sgd": dict(lr=0.01, delta="loss-gap"),
    "am-adamw": dict(lr=0.01, blocks=5),
    "adam": dict(lr=0.01),
    "adamw": dict(lr=0.01),
}


def test_all_names_are_registered():
    assert set(NAMES) <= set(list_methods())


@pytest.mark.parametrize("name", NAMES)
def test_numpy_and_torch_backends_agree_and_beta_is_recorded(name):
    pytest.importorskip("torch")
    prob = make_problem("quadratic", mu=1.0, L=50.0, dim=10, basis="random", seed=0)
    method = make_method(name, **HYPER[name])
    a = simulate(method, prob, 30, keep_last=1)
    b = simulate(method, prob, 30, keep_last=1, backend="torch", device="cpu")
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.beta, b.beta, rtol=0, atol=1e-12)
    assert np.all(np.isfinite(a.beta)) and np.all((a.beta >= 0) & (a.beta < 1))


@pytest.mark.parametrize("name", NAMES)
def test_a_grid_of_learning_rates_runs_as_one_batch_equal_to_separate_runs(name):
    prob = make_problem("quadratic", mu=1.0, L=50.0, dim=10, basis="random", seed=0)
    key = "eta" if name == "demon-sgdm" else "lr"
    grid = np.array([0.005, 0.02])
    batched = simulate(make_method(name, **{**HYPER[name], key: grid}), prob, 25, keep_last=1)
    for i, v in enumerate(grid):
        one = simulate(make_method(name, **{**HYPER[name], key: v}), prob, 25, keep_last=1)
        np.testing.assert_allclose(batched.x_final[:, i], one.x_final[:, 0] if one.x_final.ndim == batched.x_final.ndim else one.x_final, rtol=0, atol=1e-14)


def test_polyak_run_json_shows_the_demon_beta_trace(capsys):
    from polyak.cli import main

    assert main(["run", "--method", "demon-sgdm", "--eta", "0.01", "--T", "10", "--steps", "12", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    trace = np.asarray(report["beta_trace"]).reshape(-1)
    from polyak.solvers.demon import demon_beta

    np.testing.assert_allclose(trace[1:], demon_beta(np.arange(12), 10, 0.9), rtol=0, atol=1e-15)


def test_importing_the_engine_does_not_import_torch_or_the_optimizers():
    code = "import sys, polyak.solvers, polyak.solvers.methods; print('torch' in sys.modules, 'polyak.solvers.torch_optim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
