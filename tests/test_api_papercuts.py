"""The Python API as the README promises it: grids over named axes, dtypes as numpy/torch objects,
schedules from plain callables, rate_check's ValueError, torch optimizers under polyak.optim, a short
Trajectory repr, and fast imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import polyak
from polyak.solvers import Schedule


def test_grid_is_the_outer_product():
    alphas, betas = [0.01, 0.02, 0.03], [0.5, 0.9]
    m = polyak.make_method("hb", **polyak.grid(alpha=alphas, beta=betas))
    problem = polyak.make_problem("quadratic", mu=1, L=10, dim=4)
    traj = polyak.simulate(m, problem, steps=30)
    assert traj.dist.shape == (31, 1, 3, 2, 1)
    assert traj.axis_names() == ("records", "problems", "alpha", "beta", "seeds")
    # every grid point equals the same run done alone
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            alone = polyak.simulate(polyak.make_method("hb", alpha=a, beta=b), problem, steps=30)
            np.testing.assert_allclose(traj.dist[:, 0, i, j, 0], alone.dist[:, 0, 0], rtol=1e-12, atol=0)


def test_grid_three_axes_and_plain_broadcast_documented():
    g = polyak.grid(lr=[0.1, 0.2], beta_init=[0.5, 0.7, 0.9], T=100.0)
    assert {k: v.shape for k, v in g.items()} == {"lr": (2, 1, 1), "beta_init": (1, 3, 1), "T": (1, 1, 1)}
    # without grid, equal-length arrays pair up (broadcasting), and unequal lengths are refused
    paired = polyak.make_method("hb", alpha=[0.01, 0.02, 0.03], beta=[0.1, 0.2, 0.3])
    assert paired.hyper_shape == (3,)
    with pytest.raises(ValueError, match="do not broadcast"):
        polyak.make_method("hb", alpha=[0.01, 0.02, 0.03], beta=[0.1, 0.2])
    for bad in ({}, {"alpha": [[0.1, 0.2]]}, {"alpha": []}, {"alpha": "fast"}):
        with pytest.raises(ValueError, match="grid"):
            polyak.grid(**bad)


def test_trajectory_repr_is_short_with_named_axes():
    m = polyak.make_method("hb", **polyak.grid(alpha=[0.01, 0.02, 0.03], beta=[0.5, 0.6]))
    traj = polyak.simulate(m, polyak.make_problem("quadratic", L=[10.0, 20.0], dim=3), steps=200, seeds=2)
    text = repr(traj)
    assert len(text.splitlines()) <= 4 and len(text) < 400, text
    assert "(records=201, problems=2, alpha=3, beta=2, seeds=2)" in text
    assert "hb on quadratic" in text and "0 of 24 runs" in text
    assert str(traj) == text
    # a per-problem tuning names the hyperparameters of the remaining grid axes only
    L = np.array([10.0, 100.0])
    m2 = polyak.make_method("hb", alpha=4 / (np.sqrt(L) + 1) ** 2, beta=((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2)
    t2 = polyak.simulate(m2, polyak.make_problem("quadratic", L=list(L), dim=3), steps=10, per_problem=True)
    assert t2.axis_names() == ("records", "problems", "seeds")


def test_diverged_runs_in_repr():
    traj = polyak.simulate(polyak.make_method("gd", alpha=[0.1, 0.5]), polyak.make_problem("quadratic", L=10, dim=3),
                           steps=100)
    assert "1 of 2 runs" in repr(traj)  # alpha = 0.5 > 2/L diverges


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")])
def test_dtype_objects_accepted(dtype):
    traj = polyak.simulate(polyak.make_method("gd", alpha=0.1), polyak.make_problem("quadratic", L=10, dim=3),
                           steps=5, dtype=dtype)
    ref = polyak.simulate(polyak.make_method("gd", alpha=0.1), polyak.make_problem("quadratic", L=10, dim=3),
                          steps=5, dtype="float32")
    np.testing.assert_array_equal(traj.dist, ref.dist)
    with pytest.raises(ValueError, match="dtype"):
        polyak.simulate(polyak.make_method("gd"), polyak.make_problem("quadratic", dim=3), steps=2, dtype=np.int32)


def test_torch_dtype_accepted():
    torch = pytest.importorskip("torch")
    from polyak.solvers import get_backend

    assert get_backend("torch", device="cpu", dtype=torch.float32).dtype == "float32"
    assert get_backend("numpy", dtype=torch.float64).dtype == "float64"
    with pytest.raises(ValueError, match="dtype"):
        get_backend("torch", device="cpu", dtype=torch.float16)


def test_schedule_from_a_plain_callable():
    def decay(k):
        return 0.9 * (1 - k / 100)

    s = Schedule(decay)
    assert s.name == "decay" and Schedule(lambda k: k).name == "custom"
    np.testing.assert_allclose(s.table(3), [0.9, 0.891, 0.882])
    traj = polyak.simulate(polyak.make_method("hb", alpha=0.01, beta=Schedule(lambda k: 0.9 * (1 - k / 100))),
                           polyak.make_problem("quadratic", dim=3), steps=50)
    np.testing.assert_allclose(traj.beta[1:4, 0, 0], [0.9, 0.891, 0.882])
    with pytest.raises(ValueError, match="callable"):
        Schedule(0.9)


@pytest.mark.parametrize("rate", [np.array([0.5, 0.6]), [0.5, 0.6], "fast", True])
def test_assert_rate_bad_rate_is_value_error(rate):
    from polyak.verify import assert_rate

    with pytest.raises(ValueError, match="rate"):
        assert_rate(polyak.make_method("gd", alpha=0.5), polyak.make_problem("quadratic", mu=1, L=3, dim=5), rate)


def test_rate_check_fixture_value_error(pytester):
    pytester.makepyfile("""
        import numpy as np, pytest
        def test_it(rate_check):
            from polyak import make_method, make_problem
            with pytest.raises(ValueError):
                rate_check(make_method("gd", alpha=0.5), make_problem("quadratic", mu=1, L=3, dim=5), np.array([0.5, 0.5]))
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_polyak_optim_reexports_the_torch_optimizers():
    pytest.importorskip("torch")
    import polyak.optim as optim
    from polyak.solvers import torch_optim

    for name in optim.__all__:
        assert getattr(optim, name) is getattr(torch_optim, name)
    assert set(optim.__all__) == set(torch_optim.__all__)
    with pytest.raises(AttributeError):
        optim.NoSuchOptimizer  # noqa: B018


def test_polyak_optim_without_torch_says_how_to_install():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import polyak.optim\n"
            "try:\n    polyak.optim.DemonSGD\nexcept ImportError as e:\n    print('IE', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("IE") and 'pip install "polyak[torch]"' in out


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout.split()
    return set(out)


def test_cli_startup_imports_nothing_heavy():
    heavy = {"scipy", "scipy.stats", "sympy", "torch", "cvxpy", "matplotlib", "numpy"}
    mods = _imported("import contextlib, io\nfrom polyak.cli import build_parser\nbuild_parser().format_help()")
    assert not (heavy & mods), heavy & mods
    # derive imports sympy (it is symbolic) but no numeric stack beyond numpy: no scipy, torch, cvxpy
    mods = _imported("import contextlib, io\nfrom polyak.cli import main\n"
                     "with contextlib.redirect_stdout(io.StringIO()): main(['derive'])")
    assert "sympy" in mods and not ({"scipy.stats", "torch", "cvxpy", "matplotlib"} & mods), \
        {"scipy.stats", "torch", "cvxpy", "matplotlib"} & mods


def test_line_fit_matches_scipy_linregress():
    from scipy import stats

    from polyak.verify.rates import _line

    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(3, 200))
        x = np.sort(rng.uniform(-5, 500, n))
        y = rng.normal(size=n) + rng.normal() * x
        res = stats.linregress(x, y)
        slope, intercept = _line(x, y)
        assert abs(slope - res.slope) <= 1e-14 * max(1.0, abs(res.slope))
        assert abs(intercept - res.intercept) <= 1e-12 * max(1.0, abs(res.intercept))
    assert _line(np.arange(5.0), np.log([1.0, 0.5, 0.25, 0.125, 0.0625])) == (
        stats.linregress(np.arange(5.0), np.log([1.0, 0.5, 0.25, 0.125, 0.0625]))[:2])


def test_run_imports_no_scipy_stats():
    mods = _imported("import contextlib, io\nfrom polyak.cli import main\n"
                     "with contextlib.redirect_stdout(io.StringIO()): main(['run', '--method', 'hb', '--dim', '3', '--steps', '5'])")
    assert "scipy.stats" not in mods


def test_readme_documents_grid_and_torch_optimizers():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "polyak.grid(" in text and "from polyak.optim import" in text
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    engine = blocks[0]
    ns: dict = {}
    exec(engine, ns)  # noqa: S102 - our own README
    assert ns["sweep"].axis_names() == ("records", "problems", "alpha", "beta", "seeds")
    assert "(records=101, problems=3, alpha=3, beta=2, seeds=1)" in repr(ns["sweep"])
    torch_block = next(b for b in blocks if "polyak.optim" in b)
    pytest.importorskip("torch")
    ns = {}
    exec(torch_block, ns)  # noqa: S102
    assert ns["opt"].state[ns["model"].weight]["step"] == 5
