"""The Derivation record: registry, API, numeric functions, domain checks, LaTeX, cold build time."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import polyak.theory as th
from polyak.theory import get, names

REQUIRED = {
    "hb-quadratic-optimal", "gd-quadratic-optimal", "nesterov-quadratic-optimal", "nesterov-standard",
    "hb-convergence-region", "spa-to-hb", "demon-beta", "am-beta", "adaptive-hb-beta", "spa-lyapunov", "gfj-hb",
}
TAG = re.compile(r"^\[(derived|paper|code|group)\] ")


def test_registry_has_the_required_names_and_rejects_unknown() -> None:
    assert REQUIRED <= set(names())
    with pytest.raises(ValueError, match="unknown derivation 'nope'; known: "):
        get("nope")


@pytest.mark.parametrize("name", names())
def test_every_derivation_is_a_complete_record(name: str) -> None:
    d = get(name)
    assert d is get(name)  # cached
    assert d.name == name and d.title and d.steps and d.expressions and d.assumptions
    assert TAG.match(d.provenance), d.provenance
    assert d.references and all(re.fullmatch(r"[a-z]+\d{4}[a-z]*", k) for k in d.references)
    for key in d.expressions:
        assert set(d.arguments(key)) <= set(d.symbols)
    tex = d._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$") and r"\begin{aligned}" in tex
    assert set(d.uses) <= set(names())


def test_numeric_is_cached_and_numpy_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for name in names():
        d = get(name)
        for key in d.expressions:
            f_np = d.numeric(key)
            assert f_np is d.numeric(key)
            args = d.arguments(key)
            if not args:
                continue
            vals = {a: rng.uniform(0.2, 0.8, 7) for a in args}
            if "L" in vals and "mu" in vals:
                vals["L"] = vals["mu"] * 50
            if "t" in vals and "T" in vals:
                vals["T"] = vals["t"] + 1
            with np.errstate(invalid="ignore"):  # a few random points leave a domain; torch must agree on nan too
                want = np.broadcast_to(f_np(**vals), (7,))
            got = d.numeric(key, backend="torch")(**{a: torch.tensor(v, dtype=torch.float64) for a, v in vals.items()})
            got = np.broadcast_to(np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=float), (7,))
            assert np.allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True), (name, key)
    with pytest.raises(ValueError, match="backend"):
        get("hb-rate").numeric("rate", backend="jax")


@pytest.mark.parametrize(
    "call,param",
    [
        (lambda: th.hb_optimal(2.0, 1.0), "mu = 2"),
        (lambda: th.hb_optimal(-1.0, 1.0), "mu = -1"),
        (lambda: th.gd_optimal(1.0, np.array([2.0, 0.5])), "L = 0.5"),
        (lambda: th.hb_best_beta(5.0, 1.0, 1.0), "alpha = 5"),
        (lambda: th.demon_beta_closed_form(1, 10, 1.5), "beta_init = 1.5"),
        (lambda: th.spa_to_hb(1.0, 0.0, 0.5), "c_k = 0"),
        (lambda: th.gfj_beta(0.5, 1.0, 4.0), "alpha = 0.5"),
        (lambda: get("hb-quadratic-optimal").evaluate(mu=1, L=float("nan")), "L must be finite"),
        (lambda: get("hb-quadratic-optimal").evaluate(mu=1, kappa=3), "unknown parameter"),
        (lambda: get("hb-quadratic-optimal").evaluate(), "give values for L, mu"),
    ],
)
def test_bad_values_raise_naming_the_parameter(call, param: str) -> None:
    with pytest.raises(ValueError, match=re.escape(param)):
        call()


def test_helpers_accept_arrays_and_match_evaluate() -> None:
    mu, L = 1.0, np.array([10.0, 100.0, 1e4])
    a, b, r = th.hb_optimal(mu, L)
    assert a.shape == (3,)
    ev = get("hb-quadratic-optimal").evaluate(mu=1.0, L=100.0)
    assert (a[1], b[1], r[1]) == (ev["alpha"], ev["beta"], ev["rho"])


def test_import_is_cheap_and_build_all_is_fast_from_a_cold_start() -> None:
    code = (
        "import sys, time; import polyak.theory as th; assert 'sympy' not in sys.modules;"
        "t = time.perf_counter(); th.build_all(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 60.0
