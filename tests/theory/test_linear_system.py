"""theory/linear_system.py: the per-eigenvalue iteration matrix of (A, B, C, D) against the
hand-written heavy-ball and Nesterov matrices of theory/, and numerically against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import polyak
from polyak.theory import heavy_ball as hbmod
from polyak.theory.linear_system import LAM, Z, iteration_matrix, linear_system
from polyak.verify.linear import linear_derivation


def test_hb_matches_hand_written_matrix_symbolically():
    d = linear_derivation(polyak.make_method("hb"))
    a, b = sp.Symbol("alpha", real=True), sp.Symbol("beta", real=True)
    # theory/heavy_ball.py writes T = [[1 + b - a lam, -b], [1, 0]] and p = det(zI - T) by hand
    p_hand = hbmod._char_poly(a, b, LAM)
    assert sp.simplify(d.expressions["charpoly"] - p_hand.subs(hbmod.z, Z)) == 0
    T_hand = sp.Matrix([[1 + b - a * LAM, -b], [1, 0]])
    T = sp.Matrix(2, 2, [d.expressions[f"T_{i}{j}"] for i in range(2) for j in range(2)])
    assert sp.simplify(T - T_hand) == sp.zeros(2, 2)
    hb_deriv = polyak.theory.get("hb-quadratic")
    # the trace of hb-quadratic (written by hand) equals the traced one
    tr_hand = hb_deriv.expressions["trace"].subs({hbmod.alpha: a, hbmod.beta: b, hbmod.lam: LAM})
    assert sp.simplify(d.expressions["trace"] - tr_hand) == 0


def test_nesterov_matches_hand_written_polynomial():
    from polyak.theory import nesterov as nmod

    d = linear_derivation(polyak.make_method("nesterov"))
    a, b = sp.Symbol("alpha", real=True), sp.Symbol("beta", real=True)
    # x+ = (1 + b)(1 - a lam) x - b (1 - a lam) x_prev: p = z^2 - (1 + b)(1 - a lam) z + b (1 - a lam)
    q = 1 - a * LAM
    p_hand = Z**2 - (1 + b) * q * Z + b * q
    assert sp.simplify(d.expressions["charpoly"] - p_hand) == 0
    assert "nesterov-quadratic" in polyak.theory.names() and nmod is not None


def test_two_call_method_and_identities(rng):
    a = sp.Symbol("a", positive=True)
    A, B = sp.Matrix([[1]]), sp.Matrix([[0, -a]])
    C, D = sp.Matrix([[1], [1]]), sp.Matrix([[0, 0], [-a, 0]])
    d = linear_system(A, B, C, D)
    # extragradient on lam x^2/2: x+ = x - a lam (x - a lam x) = (1 - a lam + a^2 lam^2) x
    assert sp.simplify(d.expressions["T_00"] - (1 - a * LAM + a**2 * LAM**2)) == 0
    for key in d.identities:
        assert d.residual(key) == 0
    # numeric spot check of T(lambda) against numpy at random values
    for _ in range(5):
        av, lv = rng.uniform(0.01, 1), rng.uniform(0.1, 10)
        An, Bn, Cn, Dn = (np.array(M.subs(a, av), dtype=float) for M in (A, B, C, D))
        Tn = An + Bn @ np.linalg.solve(np.eye(2) - lv * Dn, lv * Cn)
        np.testing.assert_allclose(float(d.expressions["T_00"].subs({a: av, LAM: lv})), Tn[0, 0], rtol=1e-13)


def test_tmm_charpoly_numeric_roots(rng):
    from polyak.solvers.triple_momentum import triple_momentum_tuning

    d = linear_derivation("triple-momentum")
    tun = triple_momentum_tuning(1.0, 50.0)
    sub = {sp.Symbol(k, real=True): v for k, v in tun.items()}
    for lv in rng.uniform(1.0, 50.0, 4):
        p = sp.Poly(d.expressions["charpoly"].subs(sub).subs(LAM, lv), Z)
        roots = np.roots([float(c) for c in p.all_coeffs()])
        ss = polyak.solvers.state_space(polyak.make_method("triple-momentum", **tun))
        T = ss.iteration_matrix(lv)
        np.testing.assert_allclose(np.sort_complex(roots), np.sort_complex(np.linalg.eigvals(T)), atol=1e-10)


def test_rejects_bad_matrices():
    with pytest.raises(ValueError, match="strictly lower triangular"):
        linear_system(sp.Matrix([[1]]), sp.Matrix([[1]]), sp.Matrix([[1]]), sp.Matrix([[1]]))
    with pytest.raises(ValueError, match="shapes must be"):
        iteration_matrix(sp.Matrix([[1, 0]]), sp.Matrix([[1]]), sp.Matrix([[1]]), sp.Matrix([[0]]))
    with pytest.raises(ValueError, match="not linear"):
        linear_derivation(polyak.make_method("adam"))
