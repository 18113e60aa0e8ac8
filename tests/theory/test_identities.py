"""Every recorded identity of every derivation: zero symbolically, and zero numerically at random
admissible parameters (hypothesis, derandomized). A wrong identity must fail both checks."""

from __future__ import annotations

import functools

import pytest
import sympy as sp
from conftest import close, draw_values
from hypothesis import given, settings
from hypothesis import strategies as st

from polyak.theory import get, names

CASES = [(n, k) for n in names() for k in get(n).identities]


def test_every_derivation_but_the_worst_case_maxima_records_identities() -> None:
    """gd-rate and hb-rate are maxima over the spectrum; test_rates.py checks them numerically."""
    assert len(CASES) >= 40
    assert {n for n in names() if not get(n).identities} == {"gd-rate", "hb-rate"}


@functools.cache
def _numeric(name: str, key: str):
    lhs, rhs = (sp.sympify(e) for e in get(name).identities[key])
    syms = sorted((lhs - rhs).free_symbols | lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    return syms, sp.lambdify(syms, lhs, "numpy"), sp.lambdify(syms, rhs, "numpy")


@pytest.mark.parametrize("name,key", CASES)
def test_identity_simplifies_to_zero(name: str, key: str) -> None:
    assert get(name).residual(key) == 0


@pytest.mark.parametrize("name,key", CASES)
@settings(settings.get_profile("polyak-theory"))
@given(data=st.data())
def test_identity_holds_numerically(name: str, key: str, data: st.DataObject) -> None:
    syms, f_lhs, f_rhs = _numeric(name, key)
    vals = draw_values(data, syms)
    a, b = float(f_lhs(*[vals[s.name] for s in syms])), float(f_rhs(*[vals[s.name] for s in syms]))
    assert close(a, b, 1e-8), (vals, a, b)


def test_a_wrong_identity_is_rejected_both_ways() -> None:
    """The checks can fail: GD's rate claimed for heavy ball is not an identity."""
    d = get("hb-quadratic-optimal")
    mu, L = d.symbols["mu"], d.symbols["L"]
    wrong = d.expressions["rho"] - (L - mu) / (L + mu)
    assert sp.simplify(wrong) != 0
    assert abs(float(wrong.subs({mu: 1, L: 100}))) > 0.1
