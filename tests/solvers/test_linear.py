"""Linear methods (solvers/linear.py): tracing against hand-written matrices, simulation against
independent hand-written loops, registration, and the errors a user meets."""

from __future__ import annotations

import numpy as np
import pytest

import polyak
from polyak.solvers import (
    Schedule,
    forget_linear_method,
    is_linear,
    make_method,
    make_problem,
    require_linear,
    simulate,
    state_space,
    state_spaces,
    symbolic_state_space,
)
from polyak.solvers.linear import LinearCombination, trace


def define_tmm():
    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
    def triple_momentum(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    return triple_momentum


def define_extragradient():
    @polyak.linear_method(alpha=0.1)
    def extra_gradient(x, grad, *, alpha):
        return x - alpha * grad(x - alpha * grad(x))

    return extra_gradient


# -- tracing ------------------------------------------------------------------------------------
def test_traced_builtins_equal_hand_written_matrices(rng):
    for _ in range(5):
        a, b = rng.uniform(0.01, 2.0), rng.uniform(0.0, 0.99)
        gd = state_space(make_method("gd", alpha=a))
        np.testing.assert_array_equal(gd.A, [[1.0]])
        np.testing.assert_array_equal(gd.B, [[-a]])
        np.testing.assert_array_equal(gd.C, [[1.0]])
        np.testing.assert_array_equal(gd.D, [[0.0]])
        hb = state_space(make_method("hb", alpha=a, beta=b))
        np.testing.assert_allclose(hb.A, [[1 + b, -b], [1, 0]], rtol=1e-15)
        np.testing.assert_allclose(hb.B, [[-a], [0]], rtol=1e-15)
        np.testing.assert_allclose(hb.C, [[1, 0]], rtol=1e-15)
        np.testing.assert_array_equal(hb.D, [[0.0]])
        ne = state_space(make_method("nesterov", alpha=a, beta=b))
        np.testing.assert_allclose(ne.A, [[1 + b, -b], [1, 0]], rtol=1e-15)
        np.testing.assert_allclose(ne.B, [[-a], [0]], rtol=1e-15)
        np.testing.assert_allclose(ne.C, [[1 + b, -b]], rtol=1e-15)


def test_user_tmm_traces_to_its_matrices(rng, forget_names):
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    for _ in range(5):
        a, b, g = rng.uniform(0.01, 1), rng.uniform(0, 1), rng.uniform(0, 1)
        ss = state_space(tmm(alpha=a, beta=b, gamma=g))
        np.testing.assert_allclose(ss.A, [[1 + b, -b], [1, 0]], rtol=1e-14)
        np.testing.assert_allclose(ss.B, [[-a], [0]], rtol=1e-14)
        np.testing.assert_allclose(ss.C, [[1 + g, -g]], rtol=1e-14)
        np.testing.assert_array_equal(ss.D, [[0.0]])


def test_two_gradient_calls_give_strictly_lower_D(rng, forget_names):
    eg = define_extragradient()
    forget_names.append("extra-gradient")
    a = rng.uniform(0.01, 1)
    ss = state_space(eg(alpha=a))
    # y0 = x, y1 = x - a u0, x+ = x - a u1
    np.testing.assert_allclose(ss.A, [[1.0]])
    np.testing.assert_allclose(ss.B, [[0.0, -a]])
    np.testing.assert_allclose(ss.C, [[1.0], [1.0]])
    np.testing.assert_allclose(ss.D, [[0.0, 0.0], [-a, 0.0]])
    assert eg.rule.m == 2


def test_symbolic_state_space_matches_numeric(rng, forget_names):
    sp = pytest.importorskip("sympy")
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    A, B, C, D = symbolic_state_space(tmm)
    al, be, ga = sp.symbols("alpha beta gamma", real=True)
    assert sp.simplify(A - sp.Matrix([[1 + be, -be], [1, 0]])) == sp.zeros(2, 2)
    assert sp.simplify(C - sp.Matrix([[1 + ga, -ga]])) == sp.zeros(1, 2)
    assert B == sp.Matrix([[-al], [0]])
    vals = dict(alpha=rng.uniform(0, 1), beta=rng.uniform(0, 1), gamma=rng.uniform(0, 1))
    ss = state_space(tmm(**vals))
    sub = {al: vals["alpha"], be: vals["beta"], ga: vals["gamma"]}
    for S, N in zip((A, B, C, D), (ss.A, ss.B, ss.C, ss.D)):
        np.testing.assert_allclose(np.array(S.subs(sub), dtype=float), N, rtol=1e-14)


def test_tracer_rejects_nonlinear_operations():
    with pytest.raises(Exception, match="multiplies two values"):
        LinearCombination({0: 1.0}) * LinearCombination({1: 1.0})
    with pytest.raises(Exception, match="affine"):
        LinearCombination({0: 1.0}) + 1.0
    # numpy arrays and torch tensors as coefficients (grids) defer to the tracer
    out = np.array([1.0, 2.0]) * LinearCombination({0: 1.0})
    assert isinstance(out, LinearCombination)
    np.testing.assert_array_equal(out.c[0], [1.0, 2.0])


def test_schedules_evaluated_at_k_with_offsets(forget_names):
    betas = np.array([0.1, 0.2, 0.3, 0.4])
    m = make_method("hb", alpha=0.5, beta=Schedule.sequence(betas))
    sss = state_spaces(m, 4)
    for k, ss in enumerate(sss):
        np.testing.assert_allclose(ss.A[0], [1 + betas[k], -betas[k]])

    @polyak.linear_method(alpha=0.1, c=0.5, offsets={"c": 1})
    def shifted(x, grad, *, alpha, c):
        return x - alpha * c * grad(x)

    forget_names.append("shifted")
    ss = state_space(shifted(c=Schedule.sequence([1.0, 0.5, 0.25])), k=0)
    np.testing.assert_allclose(ss.B, [[-0.1 * 0.5]])  # c_{k+1} at step k


def test_state_space_needs_scalars():
    with pytest.raises(ValueError, match="alpha of method hb is a grid"):
        state_space(make_method("hb", alpha=[0.1, 0.2], beta=0.5))


def test_nonlinear_rules_refused_with_reason():
    for name in ("adaptive-hb", "adam"):
        if name not in polyak.list_methods():
            continue
        m = make_method(name)
        assert not is_linear(m)
        with pytest.raises(ValueError, match=rf"certify_rate: method {name} is not linear in the state and gradients \(its coefficients may depend on k, not on the iterates\)"):
            require_linear(m, "certify_rate")
        with pytest.raises(ValueError, match="not linear"):
            state_space(m)
    assert is_linear(make_method("hb"))
    require_linear(make_method("nesterov"), "pep")  # no error


# -- errors at definition -----------------------------------------------------------------------
def test_nonlinear_step_rejected_at_definition():
    with pytest.raises(ValueError, match=r"sq-step: the step is not linear .* multiplies two values"):
        @polyak.linear_method(alpha=0.1, register=False)
        def sq_step(x, grad, *, alpha):
            return x - alpha * grad(x) * x


def test_wrong_state_length_names_the_method():
    with pytest.raises(ValueError, match=r"bad-length: the step returns 3 values, but its state has 2"):
        @polyak.linear_method(alpha=0.1, register=False)
        def bad_length(x, x_prev, grad, *, alpha):
            return x - alpha * grad(x), x, x_prev


def test_undeclared_hyperparameter_names_the_method():
    with pytest.raises(ValueError, match=r"undeclared: the step uses hyperparameter 'gamma', which is not declared"):
        @polyak.linear_method(alpha=0.1, register=False)
        def undeclared(x, grad, *, alpha, gamma):
            return x - alpha * gamma * grad(x)

    with pytest.raises(ValueError, match=r"unused: hyperparameter 'delta' is declared but the step does not take it"):
        @polyak.linear_method(alpha=0.1, delta=2.0, register=False)
        def unused(x, grad, *, alpha):
            return x - alpha * grad(x)

    with pytest.raises(ValueError, match=r"undeclared-use: .*delta"):
        @polyak.linear_method(alpha=0.1, register=False)
        def undeclared_use(x, grad, *, alpha, **h):
            return x - alpha * h["delta"] * grad(x)


def test_registration_replace_and_clash(forget_names):
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    assert "triple-momentum" in polyak.list_methods()
    m = make_method("triple-momentum", alpha=0.2, beta=0.1, gamma=0.3)
    assert m.rule is tmm.rule
    tmm2 = define_tmm()  # the same cell run again: replaced silently
    assert make_method("triple-momentum").rule is tmm2.rule
    with pytest.raises(ValueError, match=r"the name 'gd' is already taken .*polyak.solvers.gd"):
        @polyak.linear_method(alpha=0.1)
        def gd(x, grad, *, alpha):
            return x - 2 * alpha * grad(x)
    assert make_method("gd", alpha=0.5).rule.fn.__module__ == "polyak.solvers.gd"  # the built-in stays


# -- simulation ---------------------------------------------------------------------------------
def _quadratic(seed=0):
    return make_problem("quadratic", mu=0.5, L=[4.0, 2.0], dim=5, basis="random", spectrum="uniform", seed=seed)


def _grad_fn(problem):
    bound = problem.bind(polyak.solvers.get_backend("numpy"))
    return lambda X: bound.grad(X)


def test_user_tmm_simulates_like_a_hand_loop(rng, forget_names):
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    p = _quadratic()
    g = _grad_fn(p)
    for _ in range(3):
        a, b, c = rng.uniform(0.05, 0.3), rng.uniform(0, 0.9), rng.uniform(0, 0.9)
        tr = simulate(tmm(alpha=a, beta=b, gamma=c), p, 40)
        x = np.asarray(p.x0, dtype=float)[:, None, :].copy()
        xp = x.copy()
        for _k in range(40):
            y = x + c * (x - xp)
            x, xp = x + b * (x - xp) - a * g(y), x
        np.testing.assert_allclose(tr.x_final[:, 0], x[:, 0], rtol=1e-12, atol=1e-14)
        assert np.all(np.isnan(tr.beta))  # not heavy-ball form for generic gamma


def test_user_tmm_batched_equals_looped_and_torch(forget_names):
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    p = _quadratic(1)
    grid = dict(alpha=np.array([0.1, 0.2])[:, None], gamma=np.array([0.0, 0.3, 0.6]))
    batched = simulate(tmm(beta=0.4, **grid), p, 30)
    assert batched.x_final.shape == (2, 2, 3, 1, 5)
    for i, a in enumerate([0.1, 0.2]):
        for j, gm in enumerate([0.0, 0.3, 0.6]):
            looped = simulate(tmm(alpha=a, beta=0.4, gamma=gm), p, 30)
            np.testing.assert_allclose(batched.x_final[:, i, j], looped.x_final, rtol=1e-13, atol=1e-15)
    pytest.importorskip("torch")
    t = simulate(tmm(beta=0.4, **grid), p, 30, backend="torch")
    np.testing.assert_allclose(t.x_final, batched.x_final, rtol=0, atol=1e-12)


def test_user_schedule_matches_hand_loop(forget_names):
    tmm = define_tmm()
    forget_names.append("triple-momentum")
    p = _quadratic(2)
    g = _grad_fn(p)
    betas = np.linspace(0.0, 0.8, 25)
    tr = simulate(tmm(alpha=0.2, beta=Schedule.sequence(betas), gamma=0.25), p, 25)
    x = np.asarray(p.x0, dtype=float)[:, None, :].copy()
    xp = x.copy()
    for k in range(25):
        y = x + 0.25 * (x - xp)
        x, xp = x + betas[k] * (x - xp) - 0.2 * g(y), x
    np.testing.assert_allclose(tr.x_final[:, 0], x[:, 0], rtol=1e-12, atol=1e-14)


def test_two_call_method_simulates_like_a_hand_loop(forget_names):
    eg = define_extragradient()
    forget_names.append("extra-gradient")
    p = _quadratic(3)
    g = _grad_fn(p)
    tr = simulate(eg(alpha=np.array([0.1, 0.3])), p, 30)
    for j, a in enumerate([0.1, 0.3]):
        x = np.asarray(p.x0, dtype=float)[:, None, :].copy()
        for _k in range(30):
            x = x - a * g(x - a * g(x))
        np.testing.assert_allclose(tr.x_final[:, j, 0], x[:, 0], rtol=1e-12, atol=1e-14)


def test_builtin_hb_equals_user_hb_bitwise(forget_names):
    @polyak.linear_method(alpha=0.1, beta=0.5)
    def my_hb(x, x_prev, grad, *, alpha, beta):
        return x - alpha * grad(x) + beta * (x - x_prev), x

    forget_names.append("my-hb")
    p = _quadratic(4)
    a = simulate(my_hb(alpha=0.3, beta=Schedule.sequence(np.linspace(0.1, 0.6, 20))), p, 20)
    b = simulate(make_method("hb", alpha=0.3, beta=Schedule.sequence(np.linspace(0.1, 0.6, 20))), p, 20)
    np.testing.assert_array_equal(a.x_final, b.x_final)
    # heavy-ball form is detected: beta is recorded as the HB momentum
    np.testing.assert_array_equal(a.beta, b.beta)
    assert my_hb.rule._beta_mode == ("param", "beta")


def test_hb_form_with_derived_momentum_is_traced_each_step(forget_names):
    # x+ = x - eta g + c^2 (x - x_prev): heavy-ball form with momentum c^2, found by tracing
    @polyak.linear_method(eta=0.1, c=0.5)
    def ema_like(x, x_prev, grad, *, eta, c):
        return (1 + c * c) * x - c * c * x_prev - eta * grad(x), x

    forget_names.append("ema-like")
    cs = np.linspace(0.1, 0.7, 10)
    tr = simulate(ema_like(c=Schedule.sequence(cs)), _quadratic(5), 10)
    assert ema_like.rule._beta_mode == ("trace",)
    np.testing.assert_allclose(tr.beta[1:, 0, 0], cs**2, rtol=1e-12)
    assert tr.beta[0, 0, 0] == pytest.approx(cs[0] ** 2)


# -- the registered examples: triple momentum and robust momentum -------------------------------
def test_registered_tmm_matrices_and_pepit_loop(rng):
    from polyak.solvers.triple_momentum import triple_momentum_tuning

    t = triple_momentum_tuning(1.0, 30.0)
    a, b, g, d = t["alpha"], t["beta"], t["gamma"], t["delta"]
    ss = state_space(make_method("triple-momentum", **t))
    # state (x, xi, xi_prev): xi+ = (1+b) xi - b xi_prev - a u, y = (1+g) xi - g xi_prev, x+ = (1+d) xi+ - d xi
    np.testing.assert_allclose(ss.A, [[0, (1 + d) * (1 + b) - d, -(1 + d) * b], [0, 1 + b, -b], [0, 1, 0]], rtol=1e-14)
    np.testing.assert_allclose(ss.B, [[-(1 + d) * a], [-a], [0]], rtol=1e-14)
    np.testing.assert_allclose(ss.C, [[0, 1 + g, -g]], rtol=1e-14)
    # simulate against PEPit's loop (examples/unconstrained_convex_minimization/triple_momentum.py)
    p = _quadratic(6)
    grad = _grad_fn(p)
    tr = simulate(make_method("triple-momentum", **t), p, 30)
    x0 = np.asarray(p.x0, dtype=float)[:, None, :]
    x_old, x_new = x0.copy(), x0.copy()
    y = x0.copy()
    for _ in range(30):
        x_inter = (1 + b) * x_new - b * x_old - a * grad(y)
        y = (1 + g) * x_inter - g * x_new
        x = (1 + d) * x_inter - d * x_new
        x_new, x_old = x_inter, x_new
    # PEPit updates y at the end of a step (y_0 = x_0); ours forms y_k at the start: the same points
    np.testing.assert_allclose(tr.x_final[:, 0], x[:, 0], rtol=1e-12, atol=1e-14)


def test_user_tmm_simulated_rate_agrees_with_theory(forget_names):
    from polyak.solvers.triple_momentum import triple_momentum_tuning
    from polyak.verify import fit_linear_rate

    tmm = define_tmm()
    forget_names.append("triple-momentum")
    for kappa in (10.0, 100.0):
        t = triple_momentum_tuning(1.0, kappa)
        p = make_problem("quadratic", mu=1.0, L=kappa, dim=30, spectrum="linspace")
        tr = simulate(tmm(alpha=t["alpha"], beta=t["beta"], gamma=t["gamma"]), p, 400)
        fit = fit_linear_rate(tr.dist[:, 0, 0], tr.k, floor=1e-13)
        # log-rate within 5%: the extreme eigenvalues mu and L both attain rho (no Jordan block)
        assert np.log(fit.rate) == pytest.approx(np.log(1 - 1 / np.sqrt(kappa)), rel=0.05)
