"""Hand-written linear rules (ema, sgdm, spa, demon-sgdm) reach the analysis tools through their
declared ``linear_form``, checked against their own step.

The references are written here from each paper's update equations, independently of polyak's
forms: the per-eigenvalue iteration matrix of each rule in its own state (EMA on (x, d), torch's
SGD on (x, buf), SPA on (x, z)), and the mapped heavy ball of polyak's forms.py where the test
says so.
"""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import is_linear, make_method, state_space
from polyak.solvers.heavy_ball import EMAMomentum
from polyak.solvers.linear import linear_form


def own_matrix(name: str, h: dict, lam: float) -> np.ndarray:
    """Iteration matrix on the rule's own state at eigenvalue lam (g = lam x), from the update."""
    if name == "ema":  # d+ = b d + (1 - b) lam x, x+ = x - eta d+
        e, b = h["eta"], h["beta"]
        return np.array([[1 - e * (1 - b) * lam, -e * b], [(1 - b) * lam, b]])
    if name == "sgdm":  # buf+ = m buf + lam x, x+ = x - lr buf+
        lr, m = h["lr"], h["momentum"]
        return np.array([[1 - lr * lam, -lr * m], [lam, m]])
    if name == "sgdm-nesterov":  # buf+ = m buf + lam x, x+ = x - lr (lam x + m buf+)
        lr, m = h["lr"], h["momentum"]
        return np.array([[1 - lr * lam * (1 + m), -lr * m * m], [lam, m]])
    # spa: z+ = z - eta lam x, x+ = (1 - c) x + c z+
    e, c = h["eta"], h["c"]
    return np.array([[1 - c - c * e * lam, c], [-e * lam, 1.0]])


def draw(name: str, rng) -> tuple[dict, dict]:
    if name == "ema":
        h = dict(eta=rng.uniform(0.01, 0.5), beta=rng.uniform(0.0, 0.95))
        return h, h
    if name.startswith("sgdm"):
        h = dict(lr=rng.uniform(0.01, 0.5), momentum=rng.uniform(0.0, 0.95))
        return h, dict(h, nesterov=name.endswith("nesterov"))
    h = dict(eta=rng.uniform(0.01, 1.0), c=rng.uniform(0.05, 1.0))
    return h, h


@pytest.mark.parametrize("name", ["ema", "sgdm", "sgdm-nesterov", "spa"])
def test_the_form_has_the_rules_spectrum_at_random_parameters(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(5):
        h, kw = draw(name, rng)
        m = make_method(name.split("-")[0], **kw)
        assert is_linear(m)
        ss = state_space(m)
        for lam in rng.uniform(0.0, 10.0, size=4):
            ours = np.sort_complex(np.linalg.eigvals(ss.A + lam * ss.B @ ss.C))
            ref = np.sort_complex(np.linalg.eigvals(own_matrix(name, h, lam)))
            np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_certificate_and_worst_case_equal_the_mapped_heavy_ball():
    # EMA is heavy ball with alpha = eta (1 - beta) (forms.py; Classics in papers.md)
    from polyak.verify import certify_rate
    from polyak.verify.pep import worst_case

    rng = np.random.default_rng(3)
    for _ in range(2):
        eta, beta = rng.uniform(0.02, 0.15), rng.uniform(0.1, 0.8)
        mu, L = 1.0, rng.uniform(5.0, 30.0)
        ema, hb = make_method("ema", eta=eta, beta=beta), make_method("hb", alpha=eta * (1 - beta), beta=beta)
        assert certify_rate(ema, mu, L).rate == pytest.approx(certify_rate(hb, mu, L).rate, rel=1e-8)
        w1, w2 = worst_case(ema, 4, mu, L), worst_case(hb, 4, mu, L)
        assert w1.status == w2.status == "optimal"
        assert w1.value == pytest.approx(w2.value, rel=1e-6)


def test_demon_sgdm_worst_case_is_heavy_ball_with_its_schedule_written_by_hand():
    from polyak.solvers.linear import StateSpace
    from polyak.verify.pep import worst_case

    eta, b0, T, N = 0.05, 0.9, 10.0, 6
    betas = [b0 * (1 - k / T) / ((1 - b0) + b0 * (1 - k / T)) for k in range(N)]  # Demon's beta_t (chen2019demon)
    steps = [StateSpace(np.array([[1 + b, -b], [1.0, 0.0]]), np.array([[-eta], [0.0]]), np.array([[1.0, 0.0]]),
                        np.array([[0.0]])) for b in betas]
    ours = worst_case(make_method("demon-sgdm", eta=eta, beta_init=b0, T=T), N, 1.0, 10.0)
    ref = worst_case(steps, N, 1.0, 10.0)
    assert ours.status == ref.status == "optimal"
    assert ours.value == pytest.approx(ref.value, rel=1e-6)


@pytest.mark.parametrize("kw,needle", [
    (dict(name="sgdm", lr=0.1, momentum=0.5, dampening=0.1), "dampening"),
    (dict(name="sgdm", lr=0.1, momentum=0.5, weight_decay=0.1), "weight_decay"),
    (dict(name="demon-sgdm", weight_decay=0.1), "weight_decay"),
])
def test_no_form_where_none_exists_and_the_reason_is_named(kw, needle):
    m = make_method(kw.pop("name"), **kw)
    assert not is_linear(m)
    with pytest.raises(ValueError, match=needle):
        polyak.verify.certify_rate(m, 1.0, 10.0)


def test_adaptive_rules_are_refused_saying_why():
    m = make_method("adaptive-hb")
    with pytest.raises(ValueError, match="declares no linear_form"):
        state_space(m)


class _LyingEMA(EMAMomentum):
    """A rule whose declared form is wrong (the momentum is dropped)."""

    def linear_form(self, hyper):
        return EMAMomentum().linear_form(dict(hyper, beta=0.0 * np.asarray(hyper["beta"])))


def test_a_form_that_does_not_reproduce_the_step_is_refused():
    from polyak.solvers.base import build_method

    m = build_method(_LyingEMA(), dict(eta=0.1, beta=0.5))
    with pytest.raises(ValueError, match="does not reproduce its step"):
        linear_form(m, "test")
    assert not is_linear(m)


def test_a_buffer_written_as_a_state_variable_is_warned_about_and_the_u_form_is_not():
    import warnings

    from polyak.solvers.linear import FixedPointWarning
    from polyak.verify.pep import worst_case

    with pytest.warns(FixedPointWarning, match="state variable 'd'.*u = x \\+ d"):
        @polyak.linear_method(alpha=0.1, beta=0.9, nu=0.7, register=False)
        def qhm_buffer(x, d, grad, *, alpha, beta, nu):  # d_0 would be x0, not 0
            g = grad(x)
            d_new = beta * d + (1 - beta) * g
            return x - alpha * ((1 - nu) * g + nu * d_new), d_new

    with warnings.catch_warnings():
        warnings.simplefilter("error", FixedPointWarning)

        @polyak.linear_method(alpha=0.1, beta=0.9, nu=0.7, register=False)
        def qhm(x, u, grad, *, alpha, beta, nu):  # u = x + d: d = u - x starts at 0
            g = grad(x)
            d_new = beta * (u - x) + (1 - beta) * g
            x_new = x - alpha * ((1 - nu) * g + nu * d_new)
            return x_new, x_new + d_new

    with pytest.raises(ValueError, match="must sum to 1.*u = x \\+ d"):
        worst_case(qhm_buffer(), 3, 1.0, 10.0)
    # the u form is QHM (Ma and Yarats 2019) as written with d_0 = 0: its iterates, by hand
    prob = polyak.make_problem("quadratic", mu=1.0, L=10.0, dim=5, basis="random", x_star="random", seed=3)
    x0 = np.random.default_rng(4).standard_normal(5)
    tr = polyak.simulate(qhm(), prob, 6, x0=x0, keep_last=6, fused=False)
    H, xs = prob.hessian[0], prob.x_star[0]
    x, d, ref = x0.copy(), np.zeros(5), []
    for _ in range(6):
        g = H @ (x - xs)
        d = 0.9 * d + 0.1 * g
        x = x - 0.1 * (0.3 * g + 0.7 * d)
        ref.append(x.copy())
    np.testing.assert_allclose(tr.x_tail.reshape(6, 5), np.array(ref), rtol=1e-12, atol=1e-14)


def test_a_schedule_introduced_by_the_linear_form_is_refused_where_constant_coefficients_are_needed():
    # Demon SGDM has constant hyperparameters (eta, beta_init, T) but a time-varying beta_t: its
    # rate certificate, quadratic rate and periodic orbits at beta_init alone would be wrong
    from polyak.verify import certify_rate
    from polyak.verify.counterexamples import find_periodic_orbit_linear
    from polyak.verify.quadratic import quadratic_rate

    m = make_method("demon-sgdm", eta=0.05, beta_init=0.9, T=100)
    for call in (lambda: certify_rate(m, 1.0, 10.0), lambda: quadratic_rate(m, 1.0, 10.0),
                 lambda: find_periodic_orbit_linear(m, 1.0, 10.0, 2)):
        with pytest.raises(ValueError, match=r"time-varying hyperparameter\(s\) beta \(in its linear form hb\)"):
            call()
    hb = make_method("hb", alpha=0.05, beta=polyak.solvers.demon.demon_schedule(0.9, 100))
    with pytest.raises(ValueError, match="time-varying"):
        find_periodic_orbit_linear(hb, 1.0, 10.0, 2)
