"""A certificate's Lyapunov function, and its independent check by PEPit (verify/certificate_check.py).

References: PEPit 0.5.1 (a one-step performance estimation problem over SmoothStronglyConvexFunction
written from (A, B, C, D), nothing of our SDP reused), and trajectories of the method on random
quadratics of the class in the scale of the call (numpy).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from test_certificates_general import extrapolated_two_call, family, momentum_form, three_state

from polyak.verify.certificate_check import check_certificate
from polyak.verify.certificates import certify_rate

pytest.importorskip("PEPit")


def random_system(rng, kind, L):
    """Random admissible methods of the kinds the other certificate tests draw."""
    if kind == "hb":
        return family(float(rng.uniform(0.3, 1.2) / L), float(rng.uniform(0, 0.7)), 0.0)
    if kind == "nesterov":
        b = float(rng.uniform(0, 0.8))
        return family(float(rng.uniform(0.3, 1.0) / L), b, b)
    if kind == "momentum":  # state (x_k, v_k = x_k - x_{k-1}), extrapolation g in [0, b]
        a, b = float(rng.uniform(0.3, 1.0) / L), float(rng.uniform(0, 0.7))
        return momentum_form(a, b, float(rng.uniform(0, 1)) * b)
    if kind == "two-call":  # y^1 = x_k, y^2 = x_k + c (x_k - x_{k-1}) - a g^1, x_{k+1} = x_k + b (x_k - x_{k-1}) - a g^2
        return extrapolated_two_call(float(rng.uniform(0.2, 0.9) / L), float(rng.uniform(0, 0.6)), float(rng.uniform(0, 0.6)))
    return three_state(float(rng.uniform(0.3, 1.0) / L), float(rng.uniform(0, 0.5)), float(rng.uniform(-0.2, 0.2)))


def _cases(seed, count):
    rng = np.random.default_rng(seed)
    kinds = ("hb", "nesterov", "momentum", "two-call", "three-state")
    out = []
    for i in range(count):
        L = float(np.exp(rng.uniform(math.log(3.0), math.log(300.0))))
        mu = float(rng.uniform(0.5, 2.0))
        out.append((kinds[i % len(kinds)], mu, mu * L, random_system(rng, kinds[i % len(kinds)], mu * L)))
    return out


def _trajectory_values(c, H, xi0, steps):
    """V_k and ||x_k - x*||^2 along the method on f = 1/2 x' H x (x* = 0), in the scale of the call."""
    A, B, C, D = c.system
    n, m = B.shape
    xi = xi0.copy()  # (n, d)
    V, dist = [], []
    for _ in range(steps):
        g = []
        for i in range(m):
            y = C[i] @ xi + sum(D[i, l] * g[l] for l in range(i))
            g.append(H @ y)
        f = [0.5 * float((C[i] @ xi + sum(D[i, l] * g[l] for l in range(i))) @ H
                         @ (C[i] @ xi + sum(D[i, l] * g[l] for l in range(i)))) for i in range(m)]
        s = np.vstack([xi, np.array(g)])  # (n + m, d): the rows of s_k
        V.append(float(np.einsum("ab,ad,bd->", c.P, s, s)) + float(np.dot(c.lam, f)))
        dist.append(float(xi[0] @ xi[0]))
        xi = A @ xi + B @ np.array(g)
    return np.array(V), np.array(dist)


# ----------------------------------------------------------------------------------------
# the Lyapunov function a certificate carries
# ----------------------------------------------------------------------------------------
def test_certificate_carries_its_lyapunov_function_in_the_scale_of_the_call():
    """On random quadratics of S(mu, L) (d = 4, Hessian eigenvalues in [mu, L], endpoints included)
    the returned (P, lam) decrease by rate^2 per step and stay above ||x_k - x*||^2 along the
    method's own trajectories, at L far from 1 (a normalised-scale P would be wrong by factors L)."""
    rng = np.random.default_rng(7)
    for kind, mu, L, ss in _cases(11, 10):
        c = certify_rate(ss, mu, L)
        assert c.certified, (kind, mu, L)
        n, m = ss.B.shape
        assert c.P.shape == (n + m, n + m) and c.lam.shape == (m,) and np.allclose(c.P, c.P.T)
        assert all(np.array_equal(x, y) for x, y in zip(c.system, (ss.A, ss.B, ss.C, ss.D)))
        assert set(c.multipliers) == {"nu", "tau", "pairs", "pos_pairs"}
        assert len(c.multipliers["nu"]) == len(c.multipliers["pairs"]) == (2 * m + 1) * 2 * m
        for _ in range(3):
            Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
            H = Q @ np.diag(np.concatenate([[mu, L], rng.uniform(mu, L, 2)])) @ Q.T
            V, dist = _trajectory_values(c, H, rng.standard_normal((n, 4)), 40)
            assert np.all(dist <= V * (1 + 1e-7) + 1e-12), (kind, mu, L)
            assert np.all(V[1:] <= c.rate ** 2 * V[:-1] * (1 + 1e-7) + 1e-12 * V[0]), (kind, mu, L)


def test_lyapunov_fields_do_not_change_equality_or_the_report():
    a, b = certify_rate("hb", 1.0, 10.0, 0.1, 0.5), certify_rate("hb", 1.0, 10.0, 0.1, 0.5)
    assert a.P is not None and b.P is not None
    assert dataclasses.replace(a, seconds=b.seconds) == b  # arrays take no part in ==
    assert set(a.to_dict()) == {"method", "mu", "L", "alpha", "beta", "gamma", "rate", "certified", "status",
                                "bracket", "solves", "seconds", "solver", "quadratic_bound", "hyper", "shape"}
    none = certify_rate("hb", 1.0, 100.0)  # quadratic-optimal HB: no certificate, no Lyapunov function
    assert not none.certified and none.P is None and none.lam is None and none.system is None


# ----------------------------------------------------------------------------------------
# the PEPit check passes our certificates ...
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kappa", [100.0, 1000.0])
def test_nesterov_certificates_pass_the_pep_check(kappa):
    """The numbers that AutoLyap's strict bisection does not reach (see test_certificates_autolyap.py)."""
    c = certify_rate("nesterov", 1.0, kappa)
    r = check_certificate(c)
    assert r.passed and r.statuses == ("optimal", "optimal"), r
    assert abs(r.decrease) <= 1e-6 and abs(r.positivity) <= 1e-6
    low = check_certificate(dataclasses.replace(c, rate=c.rate - 1e-3))
    assert not low.passed and low.decrease > 1e-3, low  # ~2 rho 1e-3 where V is tight


def _check_random(seed, count):
    for kind, mu, L, ss in _cases(seed, count):
        c = certify_rate(ss, mu, L)
        r = check_certificate(c)
        assert r.passed, (kind, mu, L, r)
        low = check_certificate(dataclasses.replace(c, rate=c.rate - 1e-3))
        assert not low.passed and low.decrease > 1e-4, (kind, mu, L, low)


def test_pep_check_on_random_methods():
    _check_random(3, 10)


@pytest.mark.slow
def test_pep_check_on_more_random_methods():
    _check_random(4, 60)


@pytest.mark.parametrize("name", ["hb", "nesterov"])
def test_pep_check_on_random_named_methods(name):
    rng = np.random.default_rng(20261202 + len(name))
    for _ in range(2):
        L = float(np.exp(rng.uniform(math.log(4.0), math.log(400.0))))
        c = certify_rate(name, 1.0, L, float(rng.uniform(0.3, 1.0) / L), float(rng.uniform(0.0, 0.8)))
        assert c.certified
        assert check_certificate(c).passed, c


# ----------------------------------------------------------------------------------------
# ... and rejects wrong claims
# ----------------------------------------------------------------------------------------
def test_pep_check_rejects_perturbed_lyapunov_functions():
    c = certify_rate("nesterov", 1.0, 10.0)
    assert check_certificate(c).passed
    rng = np.random.default_rng(5)
    E = rng.standard_normal(c.P.shape)
    bad = check_certificate(dataclasses.replace(c, P=c.P * (1 + 0.05 * (E + E.T) / 2)))
    assert not bad.passed and bad.decrease > 1e-4, bad
    # (P, lam) / 1000 still decreases (the decrease is homogeneous) but is no longer above ||x - x*||^2
    small = check_certificate(dataclasses.replace(c, P=c.P / 1000, lam=c.lam / 1000))
    assert small.decrease <= 1e-6 and small.positivity > 1e-4 and not small.passed, small
    # without the function-value term
    nolam = check_certificate(dataclasses.replace(c, lam=0 * c.lam))
    assert not nolam.passed, nolam


def test_pep_check_reports_an_unbounded_problem_as_failed():
    """V = -s's: V_k <= 1 holds everywhere, so the decrease PEP with V_k <= 1 is unbounded; the check
    falls back to a state normalisation and still finds the violation. A PEP without any normalisation
    (unbounded) is reported as +inf with a non-optimal status by the guard itself."""
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    from polyak.verify import certificate_check as cc

    c = certify_rate("gd", 1.0, 10.0, 0.1)
    r = check_certificate(dataclasses.replace(c, P=-np.eye(c.P.shape[0]), lam=0 * c.lam))
    assert not r.passed and r.decrease > 0.1 and r.quadratic_decrease == math.inf, r
    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexFunction, mu=0.1, L=1.0)
    xs = func.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_performance_metric((x0 - xs) ** 2)  # no initial condition: unbounded
    value, status = cc._solve(problem)
    assert value == math.inf and status != "optimal", (value, status)


def test_pep_check_bad_input():
    c = certify_rate("gd", 1.0, 10.0, 0.1)
    with pytest.raises(ValueError, match="tol"):
        check_certificate(c, tol=0.0)
    with pytest.raises(ValueError, match="qtol"):
        check_certificate(c, qtol=2.0)
    with pytest.raises(ValueError, match="grid"):
        check_certificate(c, grid=1)
    with pytest.raises(ValueError, match="certified"):
        check_certificate(certify_rate("hb", 1.0, 100.0))
    with pytest.raises(ValueError, match="cert.P"):
        check_certificate(dataclasses.replace(c, P=np.eye(5)))
    with pytest.raises(ValueError, match="cert.rate"):
        check_certificate(dataclasses.replace(c, rate=float("nan")))


def test_quadratic_part_rejects_a_claim_just_below_the_quadratic_bound():
    """The triple momentum method certifies at its quadratic worst case 1 - 1/sqrt(kappa): the same
    (P, lam) claimed at 3e-6 below it must fail (no rate below a quadratic's spectral radius exists),
    and the exact quadratic part sees it even where the PEPs' ~1e-6 resolution might not."""
    kappa = 10.0
    sq = 1 / math.sqrt(kappa)
    a, b, g = (2 - sq) / kappa, (1 - sq) ** 2 / (1 + sq), (1 - sq) ** 2 / ((2 - sq) * (1 + sq))
    c = certify_rate(family(a, b, g), 1.0, kappa)
    ok = check_certificate(c)
    assert ok.passed and ok.quadratic_decrease <= 1e-8, ok
    exact = 1 - sq
    bad = check_certificate(dataclasses.replace(c, rate=exact - 3e-6))
    assert not bad.passed and bad.quadratic_decrease > 1e-6, bad


def test_exported_from_polyak_verify():
    import polyak.verify as v

    assert v.check_certificate is check_certificate
    assert "check_certificate" in v.__all__ and "CertificateCheck" in v.__all__


def test_pep_check_catches_a_seeded_soundness_bug_in_the_sdp(monkeypatch):
    """Seeded fault: the SDP's interpolation inequalities with a quadratic part 2% too large (not
    valid on S(mu, L)). certify_rate still 'certifies' (its a-posteriori check reads the same wrong
    matrices), the independent check does not."""
    from polyak.verify import certificates as cert

    real = cert._interp_stack
    monkeypatch.setattr(cert, "_interp_stack", lambda *a: 1.02 * real(*a))
    bad = certify_rate("nesterov", 1.0, 100.0)
    assert bad.certified and bad.status == "optimal"
    r = check_certificate(bad)
    assert not r.passed and r.decrease > 1e-3, r
