"""Demon (chen2019demon): the schedule against its closed form, Demon SGDM = heavy ball = SPA."""

from __future__ import annotations

import numpy as np
import pytest

from polyak.solvers import Schedule, make_method, make_problem, simulate
from polyak.solvers.demon import demon_beta, demon_schedule

CASES = [(T, b) for T in (1, 7, 100, 1000) for b in (0.0, 0.5, 0.9, 0.99)]


@pytest.mark.parametrize("T,beta_init", CASES)
def test_schedule_closed_form_endpoints_monotone_and_range(T, beta_init):
    t = np.arange(-5, 2 * T + 1)
    beta = demon_beta(t, T, beta_init)
    assert beta[t == 0][0] == pytest.approx(beta_init, rel=1e-15, abs=0)
    assert np.all(beta[t <= 0] == beta[t == 0][0])  # clamped before 0
    assert np.all(beta[t >= T] == 0.0)  # beta_T = 0 exactly, and clamped after T
    assert np.all(np.diff(beta) <= 0.0)  # non-increasing
    assert np.all((beta >= 0.0) & (beta <= beta_init))


@pytest.mark.parametrize("T,beta_init", CASES)
def test_schedule_effective_step_identity(T, beta_init):
    # 1/(1 - beta_t) = 1 + (1 - t/T) beta_init/(1 - beta_init): the identity that defines Demon.
    # 1/(1 - beta) amplifies the rounding of beta by 1/(1 - beta_init) <= 100: rtol 100 * 4 eps.
    t = np.arange(0, T + 1)
    lhs = 1.0 / (1.0 - demon_beta(t, T, beta_init))
    rhs = 1.0 + (1.0 - t / T) * beta_init / (1.0 - beta_init)
    np.testing.assert_allclose(lhs, rhs, rtol=400 * np.finfo(float).eps, atol=0)


def test_delayed_decay_holds_then_decays_over_the_shifted_window():
    T, t0, b = 100, 30, 0.9
    t = np.arange(0, 2 * T)
    beta = demon_beta(t, T, b, t0)
    assert np.all(beta[t <= t0] == pytest.approx(b, rel=1e-15))
    s = t[(t >= t0) & (t <= T)]
    np.testing.assert_allclose(1 / (1 - demon_beta(s, T, b, t0)), 1 + (1 - (s - t0) / (T - t0)) * b / (1 - b), rtol=1e-13)
    assert np.all(beta[t >= T] == 0)


def test_schedule_object_tabulates_demon_beta():
    table = demon_schedule(0.9, 50, 5).table(80)
    np.testing.assert_array_equal(table, demon_beta(np.arange(80), 50, 0.9, 5))


def _quad():
    return make_problem("quadratic", mu=1.0, L=100.0, dim=20, basis="random", seed=3)


@pytest.mark.parametrize("eta,T,t0", [(0.01, 50, 0), (0.015, 200, 0), (0.005, 120, 40)])
def test_demon_sgdm_equals_heavy_ball_with_demon_schedule(eta, T, t0):
    prob, steps = _quad(), 300
    a = simulate(make_method("demon-sgdm", eta=eta, beta_init=0.9, T=T, t0=t0), prob, steps, keep_last=1)
    b = simulate(make_method("hb", alpha=eta, beta=demon_schedule(0.9, T, t0)), prob, steps, keep_last=1)
    np.testing.assert_allclose(a.dist, b.dist, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.beta, b.beta)  # the recorded beta_t is the schedule


def spa_from_hb(alpha: np.ndarray, beta: np.ndarray, c_last: float = 1.0):
    """Reverse map HB (alpha_k, beta_k), k < K, to SPA (eta_k, c_k), c_K = c_last (papers.md):
    c_k = c_{k+1}/(beta_k + c_{k+1}) backwards, eta_k = alpha_k/c_{k+1}."""
    K = len(alpha)
    c = np.empty(K + 1)
    c[K] = c_last
    for k in range(K - 1, -1, -1):
        c[k] = c[k + 1] / (beta[k] + c[k + 1])
    return alpha / c[1:], c


def test_demon_sgdm_equals_spa_under_the_reverse_map():
    prob, steps, eta, T = _quad(), 250, 0.012, 200
    beta = demon_beta(np.arange(steps), T, 0.9)
    eta_spa, c = spa_from_hb(np.full(steps, eta), beta)
    a = simulate(make_method("demon-sgdm", eta=eta, beta_init=0.9, T=T), prob, steps, keep_last=1)
    b = simulate(make_method("spa", eta=Schedule.sequence(eta_spa), c=Schedule.sequence(c)), prob, steps, keep_last=1)
    np.testing.assert_allclose(a.dist, b.dist, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=1e-12)
    # SPA's recorded beta_k = c_{k+1}(1 - c_k)/c_k (record k + 1); step 0 has no x_{-1}, so from k = 1
    np.testing.assert_allclose(a.beta[2:], b.beta[2:], rtol=0, atol=1e-12)


def test_demon_effective_step_decays_linearly_from_eta_over_1_minus_beta_init_to_eta():
    # measured from the Trajectory: eta/(1 - beta_k) against k is a straight line (second
    # differences at rounding level) from eta/(1 - beta_init) to eta
    eta, T = 0.01, 100
    tr = simulate(make_method("demon-sgdm", eta=eta, beta_init=0.9, T=T), _quad(), T + 20)
    eff = eta / (1.0 - tr.beta[1:, 0, 0])  # record k + 1 holds the beta of step k
    assert eff[0] == pytest.approx(eta / 0.1, rel=1e-12)
    assert np.all(eff[T:] == eta)
    assert np.max(np.abs(np.diff(eff[: T + 1], 2))) < 1e-14
    np.testing.assert_allclose(np.diff(eff[: T + 1]), -(eta / 0.1 - eta) / T, rtol=1e-9)


def test_demon_adam_ema_variant_with_product_correction_is_adam_when_beta_is_constant():
    # T huge: beta_t = 0.9 up to 1e-13, the product correction 1 - prod beta_i is Adam's 1 - 0.9^(k+1)
    prob = _quad()
    a = simulate(make_method("demon-adam", lr=0.01, beta_init=0.9, T=1e15, variant="polyak", first_moment="ema"), prob, 200, keep_last=1)
    b = simulate(make_method("adam", lr=0.01, beta1=0.9), prob, 200, keep_last=1)
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=1e-9)


def test_demon_adam_variants_are_different_algorithms():
    prob = _quad()
    u = simulate(make_method("demon-adam", lr=0.01, T=100), prob, 100, keep_last=1)
    e = simulate(make_method("demon-adam", lr=0.01, T=100, variant="polyak", first_moment="ema"), prob, 100, keep_last=1)
    n = simulate(make_method("demon-adam", lr=0.01, T=100, variant="polyak", first_moment="ema", bias_correction="none"), prob, 100, keep_last=1)
    assert np.abs(u.x_final - e.x_final).max() > 1e-3
    assert np.abs(e.x_final - n.x_final).max() > 1e-6
    np.testing.assert_array_equal(u.beta, e.beta)


@pytest.mark.parametrize(
    "name,hyper,word",
    [
        ("demon-sgdm", dict(beta_init=1.0), "beta_init"),
        ("demon-sgdm", dict(beta_init=-0.1), "beta_init"),
        ("demon-sgdm", dict(T=0.5), "T"),
        ("demon-sgdm", dict(T=10, t0=10), "t0"),
        ("demon-sgdm", dict(eta=-1.0), "eta"),
        ("demon-adam", dict(first_moment="nesterov"), "first_moment"),
        ("demon-adam", dict(beta2=1.0), "beta2"),
        ("demon-adam", dict(eps=0.0), "eps"),
    ],
)
def test_invalid_hyperparameters_are_rejected_naming_the_parameter(name, hyper, word):
    with pytest.raises(ValueError, match=word):
        make_method(name, **hyper)


def _paper_demon_adam(grads, x0, lr, beta_init, T, beta2=0.999, eps=1e-8):
    """Demon Adam as printed (chen2019demon Algorithm 2), on a given gradient sequence, written plainly:
    beta_t from beta_t/(1 - beta_t) = (1 - t/T) beta_init/(1 - beta_init); m_t = g_t + beta_t m_{t-1};
    E_{t+1} = beta2 E_t + (1 - beta2) g_t^2; theta_{t+1} = theta_t - lr m_t / sqrt(E_{t+1} + eps)."""
    theta, m, E = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    out = []
    for t, g in enumerate(grads):
        r = (1 - min(t, T) / T) * beta_init / (1 - beta_init)
        beta_t = r / (1 + r)
        m = g + beta_t * m
        E = beta2 * E + (1 - beta2) * g * g
        theta = theta - lr * m / np.sqrt(E + eps)
        out.append(theta.copy())
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demon_adam_paper_variant_is_algorithm_2_as_printed(seed):
    # the engine on a diagonal quadratic (g = lam * x, x* = 0): the hand loop is fed the engine's gradients
    rng = np.random.default_rng(seed)
    d, steps = 6, 60
    lam = np.sort(rng.uniform(0.5, 5.0, d))
    prob = make_problem("quadratic", eigenvalues=lam, seed=seed)
    lr, b0, T = float(rng.uniform(1e-3, 5e-2)), float(rng.uniform(0.5, 0.95)), int(rng.integers(10, 50))
    tr = simulate(make_method("demon-adam", lr=lr, beta_init=b0, T=T), prob, steps, keep_last=steps + 1)
    xs = tr.x_tail[:, 0, 0]
    assert prob.Q is None and not np.any(prob.x_star)
    grads = lam * xs[:-1]  # the engine's gradients at its own iterates
    ref = _paper_demon_adam(grads, xs[0], lr, b0, T)
    np.testing.assert_allclose(xs[1:], ref, rtol=1e-12, atol=1e-14)
    assert make_method("demon-adam").describe()["variant"] == "paper"


@pytest.mark.parametrize("seed", [0, 1])
def test_demon_adam_paper_variant_on_random_gradients(seed):
    # the update as a function of arbitrary gradients: drive the step rule directly with random g_t
    from polyak.solvers.backend import get_backend
    from polyak.solvers.registry import get_method_rule

    rng = np.random.default_rng(100 + seed)
    d, steps, lr, b0, T = 5, 40, 0.01, 0.9, 25
    grads = rng.standard_normal((steps, d)) * rng.uniform(0.1, 10.0, d)
    x0 = rng.standard_normal(d)

    class Given:
        def __init__(self):
            self.t = 0

        def grad(self, x):
            g = grads[self.t][None, None, :]
            self.t += 1
            return g

    rule, be = get_method_rule("demon-adam"), get_backend("numpy")
    h = {p.name: p.default for p in rule.params}
    h.update(lr=lr, beta_init=b0, T=float(T))
    s = rule.init(x0[None, None, :], h, be)
    oracle, xs = Given(), []
    for k in range(steps):
        s = rule.step(s, oracle, k, h, be)
        xs.append(np.asarray(s.x)[0, 0])
    np.testing.assert_allclose(np.array(xs), _paper_demon_adam(grads, x0, lr, b0, T), rtol=1e-12, atol=1e-15)
    # the common port is a different algorithm on the same gradients
    h.update(variant="port-ema")
    s, oracle = rule.init(x0[None, None, :], h, be), Given()
    for k in range(steps):
        s = rule.step(s, oracle, k, h, be)
    assert np.max(np.abs(np.asarray(s.x)[0, 0] - xs[-1])) > 1e-3


def test_demon_adam_port_ema_is_adam_with_beta1_overwritten():
    # port-ema: m = beta_t m + (1 - beta_t) g, m_hat = m/(1 - beta_t^t), v_hat = v/(1 - beta2^t): with T huge
    # (beta_t = 0.9 to 1e-13) it is Adam with beta1 = 0.9
    prob = _quad()
    a = simulate(make_method("demon-adam", lr=0.01, beta_init=0.9, T=1e15, variant="port-ema"), prob, 200, keep_last=1)
    b = simulate(make_method("adam", lr=0.01, beta1=0.9), prob, 200, keep_last=1)
    np.testing.assert_allclose(a.x_final, b.x_final, rtol=0, atol=1e-9)
