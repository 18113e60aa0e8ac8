"""N-step worst cases: agreement with PEPit, closed forms, lower bounds from quadratics, solver status."""

from __future__ import annotations

import math

import numpy as np
import pytest

from polyak.verify import pep as pep_mod
from polyak.verify.pep import demon_schedule, pep_with_pepit, worst_case

pytest.importorskip("PEPit")

# cvxpy warns "Solution may be inaccurate" inside PEPit's own solves near degenerate optima
pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

REL = 1e-4


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def quadratic_worst(method, N, mu, L, alpha, beta, metric, n=2001):
    """Max over f = lam/2 x^2, lam in [mu, L], of the N-step ratio (x_{-1} = x_0): a lower bound on the PEP."""
    alpha = np.broadcast_to(np.asarray(alpha, float), (N,))
    beta = np.broadcast_to(np.asarray(beta, float), (N,))
    best = 0.0
    for lam in np.linspace(mu, L, n):
        xp, x = 1.0, 1.0
        for k in range(N):
            gam = beta[k] if method == "nesterov" else 0.0
            y = x + gam * (x - xp)
            xp, x = x, x + beta[k] * (x - xp) - alpha[k] * lam * y
        best = max(best, x * x)  # both metrics: (x_N/x_0)^2 on a quadratic
    return best


@pytest.mark.parametrize("method", ["gd", "hb", "nesterov"])
@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_agrees_with_pepit(method, metric):
    for N in (1, 2, 3, 5):
        wc = worst_case(method, N, 1.0, 10.0, metric=metric)
        ref = pep_with_pepit(method, N, 1.0, 10.0, metric=metric)
        assert wc.status == "optimal" and wc.certified
        assert rel(wc.value, ref) <= REL, (N, wc.value, ref)
        # the reported dual bound is a dual-feasible point: gap and residual are small
        assert wc.gap <= 1e-6 * max(1.0, wc.value) and wc.dual_residual <= 1e-6
        # and it is not vacuous: a quadratic attains at least this much, PEP can only be larger
        a, b = wc.alpha, wc.beta
        assert wc.value >= quadratic_worst(method, N, 1.0, 10.0, a, b, metric) * (1 - 1e-5)


def test_agrees_with_pepit_other_tunings():
    # HB with Ghadimi's tuning (ghadimi2015) and a larger kappa; Nesterov at LRP's quadratic tuning
    cases = [("hb", 3, 1.0, 30.0, 1 / 30, math.sqrt((1 - 1 / 30) * (1 - 1.0)) + 0.3, "fgap"),
             ("nesterov", 4, 0.5, 50.0, 4 / 150.5, 0.75, "dist")]
    for m, N, mu, L, a, b, met in cases:
        wc = worst_case(m, N, mu, L, a, b, metric=met)
        assert rel(wc.value, pep_with_pepit(m, N, mu, L, a, b, metric=met)) <= REL


@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_demon_schedule_agrees_with_pepit(metric):
    N = 5
    beta = demon_schedule(0.9, N)
    # the schedule is Demon's closed form: beta_t/(1-beta_t) decays linearly
    ratio = beta / (1 - beta)
    assert np.allclose(np.diff(ratio), -9.0 / N)
    alpha = np.linspace(0.12, 0.08, N)  # a step-size schedule as well
    wc = worst_case("hb", N, 1.0, 10.0, alpha, beta, metric=metric)
    ref = pep_with_pepit("hb", N, 1.0, 10.0, alpha, beta, metric=metric)
    assert rel(wc.value, ref) <= REL
    # a schedule is not a constant: the constant-beta worst case differs
    const = worst_case("hb", N, 1.0, 10.0, alpha, 0.9, metric=metric)
    assert rel(const.value, wc.value) > 1e-2


@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_gd_closed_form_and_monotone(metric):
    mu, L = 1.0, 10.0
    for alpha in (0.05, 0.15, 0.19):
        rho = max(abs(1 - alpha * mu), abs(1 - alpha * L))
        prev = math.inf
        for N in (1, 2, 3, 4):
            wc = worst_case("gd", N, mu, L, alpha, metric=metric)
            assert rel(wc.value, rho ** (2 * N)) <= REL, (alpha, N, wc.value, rho ** (2 * N))
            # a wrong claim (1% tighter) is contradicted by the computed worst case
            assert not rel(0.99 * rho ** (2 * N), wc.value) <= REL
            assert wc.value <= prev + 1e-9  # nonincreasing in N for gradient descent
            prev = wc.value


def test_nesterov_fgap_below_classical_bound():
    """f(x_N) - f* <= (1 - 1/sqrt(kappa))^N (f(x_0) - f* + mu/2 |x_0 - x*|^2) <= 2 (1 - 1/sqrt k)^N (f(x0)-f*)."""
    k = 10.0
    for N in (2, 4):
        wc = worst_case("nesterov", N, 1.0, k, metric="fgap")
        assert wc.value <= 2 * (1 - 1 / math.sqrt(k)) ** N


def test_status_not_optimal_gives_no_value(monkeypatch):
    """A solve cut short (max_iter=2) is never reported as a worst case, at any attempt."""
    for name in ("_solve_once", "_solve_once_dual"):
        orig = getattr(pep_mod, name)
        monkeypatch.setattr(pep_mod, name, lambda data, d, settings, _o=orig: _o(data, d, {**settings, "max_iter": 2}))
    wc = worst_case("hb", 3, 1.0, 10.0)
    assert wc.status != "optimal" and wc.value is None and wc.dual_bound is None and not wc.certified
    assert wc.instance is None and len(wc.tried) == len(pep_mod.attempts_for("dist"))
    assert all(t[-1] == "max_iterations" for t in wc.tried), wc.tried


@pytest.mark.parametrize(
    "kwargs,word",
    [
        (dict(method="gd", N=0, mu=1.0, L=10.0), "N"),
        (dict(method="gd", N=2, mu=1.0, L=1.0), "L"),
        (dict(method="gd", N=2, mu=0.0, L=1.0), "mu"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, alpha=[0.1, 0.1, 0.1]), "alpha"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, alpha=0.1, beta=1.2), "beta"),
        (dict(method="hb", N=2, mu=1.0, L=10.0, metric="grad"), "metric"),
        (dict(method="sgd", N=2, mu=1.0, L=10.0), "method"),
    ],
)
def test_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        worst_case(**kwargs)


def test_large_kappa_scaling_regression():
    """At kappa = 1000 CLARABEL on the raw scale can report 'optimal' with a wrong value (PEPit too:
    4.08 instead of 11.60 here); polyak's residual check and rescaling must give the right one."""
    k = 1000.0
    b = (math.sqrt(k) - 1) / (math.sqrt(k) + 1)
    wc = worst_case("nesterov", 5, 1.0, k, 1 / k, b)
    ref = pep_with_pepit("nesterov", 5, 1.0, k, 1 / k, b)  # normalised to L = 1
    assert rel(wc.value, ref) <= REL
    assert wc.value >= quadratic_worst("nesterov", 5, 1.0, k, 1 / k, b, "dist") * (1 - 1e-5)
    raw = pep_with_pepit("nesterov", 5, 1.0, k, 1 / k, b, normalize=False)
    assert wc.value > raw  # documents the raw-scale failure; if PEPit fixes it this fails loudly


# ---------------------------------------------------------------------------------------------------
# the general (state-space) form, the a-posteriori checks, the instance, sweeps


def hb_ss(a, b):
    return pep_mod.legacy_state_space(a, b, 0.0)


def test_state_space_equals_legacy_numbers():
    """A method given as matrices (one per step, a schedule) is the legacy problem: same value."""
    N, a = 4, np.linspace(0.12, 0.08, 4)
    b = demon_schedule(0.9, N)
    for metric in ("dist", "fgap"):
        legacy = worst_case("hb", N, 1.0, 10.0, a, b, metric=metric)
        general = worst_case([hb_ss(a[k], b[k]) for k in range(N)], N, 1.0, 10.0, metric=metric)
        assert general.value == legacy.value and general.tried == legacy.tried
        # a fixed StateSpace is repeated every step
        one = worst_case(hb_ss(0.1, 0.5), N, 1.0, 10.0, metric=metric)
        assert one.value == worst_case("hb", N, 1.0, 10.0, 0.1, 0.5, metric=metric).value


def test_identical_calls_identical_results():
    """No cached compilation: the same inputs give the same numbers, whatever ran before."""
    first = worst_case("nesterov", 6, 1.0, 50.0, metric="fgap")
    worst_case("hb", 6, 1.0, 50.0, metric="fgap")  # something else in between
    worst_case("gd", 3, 0.5, 5.0)
    again = worst_case("nesterov", 6, 1.0, 50.0, metric="fgap")
    assert (first.value, first.dual_bound, first.status, first.tried) == (again.value, again.dual_bound, again.status, again.tried)


@pytest.mark.parametrize("metric", ["dist", "fgap"])
def test_instance_interpolates_and_reproduces_value(metric):
    N, mu, L = 5, 0.1, 1.0
    a = 0.5
    wc = worst_case("hb", N, mu, L, a, math.sqrt((1 - a * mu) * (1 - a * L)), metric=metric)
    inst = wc.instance
    chk = inst.check()
    assert chk["interpolation"] <= 1e-7 and chk["points"] <= 1e-10 and chk["xN"] <= 1e-10 and chk["value"] <= 1e-7
    # independently of the checker: the points satisfy the S(mu, L) interpolation inequalities
    X = np.vstack([inst.points, 0 * inst.x0])
    Gr = np.vstack([inst.gradients, 0 * inst.x0])
    F = np.r_[inst.values, 0.0]
    worst = -np.inf
    for i in range(len(F)):
        for j in range(len(F)):
            if i != j:
                dx, dg = X[i] - X[j], Gr[i] - Gr[j]
                rhs = F[j] + Gr[j] @ dx + (dg @ dg / L + mu * dx @ dx - 2 * mu / L * dg @ dx) / (2 * (1 - mu / L))
                worst = max(worst, rhs - F[i])
    assert worst <= 1e-7 * max(1.0, inst.x0 @ inst.x0)
    # and running heavy ball by hand on those gradients gives the value
    x, xp = inst.x0, inst.x0
    for k in range(N):
        g = inst.gradients[inst.calls[k, 0]]
        assert np.allclose(inst.points[inst.calls[k, 0]], x, atol=1e-10)
        x, xp = x - a * g + math.sqrt((1 - a * mu) * (1 - a * L)) * (x - xp), x
    got = x @ x / (inst.x0 @ inst.x0) if metric == "dist" else inst.fN / inst.f0
    assert rel(got, wc.value) <= 1e-7
    if metric == "fgap":
        assert np.allclose(x, inst.xN, atol=1e-10)


def test_instance_check_rejects_a_wrong_instance():
    """The instance checks can fail: a perturbed gradient breaks interpolation and the rerun."""
    import dataclasses

    inst = worst_case("hb", 3, 1.0, 10.0, 0.1, 0.5).instance
    g = inst.gradients.copy()
    g[0] *= 1.01
    bad = dataclasses.replace(inst, gradients=g).check()
    assert bad["interpolation"] > 1e-5 or bad["value"] > 1e-5
    bad_f = dataclasses.replace(inst, values=inst.values * 0.9).check()
    assert bad_f["interpolation"] > 1e-5


def _tamper(monkeypatch, fn):
    for name in ("_solve_once", "_solve_once_dual"):
        orig = getattr(pep_mod, name)

        def wrapped(data, d, settings, _o=orig):
            status, G, F, nu, tau = _o(data, d, settings)
            return fn(status, G, F, nu, tau)

        monkeypatch.setattr(pep_mod, name, wrapped)


def test_primal_residual_guard_rejects_infeasible_gram(monkeypatch):
    """A solve reported 'Solved' whose Gram matrix violates the interpolation inequalities (here: the
    worst-case Gram matrix scaled by 1.001, which breaks the initial condition and the inequalities by
    ~1e-3, far above PRIMAL_TOL; the dual is untouched) is never reported: the primal-residual check
    must catch it (weakening that check makes this test fail)."""
    clean = worst_case("hb", 4, 1.0, 10.0, 0.1, 0.5)
    assert clean.primal_residual <= pep_mod.PRIMAL_TOL
    _tamper(monkeypatch, lambda st, G, F, nu, tau: (st, 1.001 * G, 1.001 * F, nu, tau))
    wc = worst_case("hb", 4, 1.0, 10.0, 0.1, 0.5)
    assert wc.value is None and not wc.certified
    # every attempt was rejected, and the primal-residual check is among the reasons
    assert all(t[-1].startswith("optimal_rejected[") and "primal" in t[-1].split("]")[0] for t in wc.tried), wc.tried
    # the residual reported is the size of the violation (the initial condition: 1.001 - 1)
    import re

    pres = float(re.search(r"primal_res=([0-9.e+-]+)", wc.tried[0][-1]).group(1))
    assert 5e-4 <= pres <= 1e-1, wc.tried[0]


def test_primal_residual_guard_negative_eigenvalue(monkeypatch):
    """A Gram matrix with a negative eigenvalue (-1e-5) is rejected by the primal check."""
    def neg(st, G, F, nu, tau):
        v = np.zeros(len(G))
        v[-1] = 1.0
        return st, G - 1e-5 * np.outer(v, v), F, nu, tau

    _tamper(monkeypatch, neg)
    wc = worst_case("gd", 3, 1.0, 10.0, 0.1)
    assert wc.value is None and all("primal" in t[-1].split("]")[0] for t in wc.tried), wc.tried


def test_check_solution_numbers():
    """check_solution on a hand-made 1-point problem: residuals are what they should be."""
    # one interpolation row <M, G> + F <= 0 with M = [[1]], objective G, initial G <= 1
    M = np.ones((1, 1, 1))
    Af = np.ones((1, 1))
    M0, a0 = np.ones((1, 1)), np.zeros(1)
    Mobj, cobj = np.ones((1, 1)), np.zeros(1)
    v, pres, dres, tau, err = pep_mod.check_solution(M, Af, M0, a0, Mobj, cobj, np.array([[1.0]]), np.array([-0.5]),
                                                     np.zeros(1), 1.0)
    assert v == 1.0 and pres == pytest.approx(0.5) and dres == pytest.approx(0.0) and tau == 1.0 and err == 0.0
    v, pres, dres, tau, err = pep_mod.check_solution(M, Af, M0, a0, Mobj, cobj, np.array([[1.0]]), np.array([-1.0]),
                                                     np.zeros(1), 0.5)
    # dual slack S = 1 - 0.5 = 0.5 (not NSD): err = |1 - 0.5| + 0.5 tr(G)
    assert pres == 0.0 and dres == pytest.approx(0.5) and err == pytest.approx(1.0)


def test_dual_guard_rejects_wrong_multiplier(monkeypatch):
    """A tampered dual bound (tau halved) fails the dual/gap check: no value."""
    _tamper(monkeypatch, lambda st, G, F, nu, tau: (st, G, F, nu, 0.5 * tau))
    wc = worst_case("hb", 3, 1.0, 10.0, 0.1, 0.5)
    assert wc.value is None and all("gap" in t[-1].split("]")[0] for t in wc.tried), wc.tried


@pytest.mark.parametrize(
    "method,word",
    [
        (pep_mod._SS(np.eye(2), np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))), "sum to 1"),
        (pep_mod._SS(np.array([[1.5, -0.5], [1, 0]]), np.ones((2, 1)), np.array([[1.0, 0.0]]), np.ones((1, 1))),
         "strictly lower"),
        (pep_mod._SS(np.array([[1.5, -0.5], [1, 0]]), np.ones((3, 1)), np.array([[1.0, 0.0]]), np.zeros((1, 1))), "B"),
        ([hb_ss(0.1, 0.5)] * 2, "one per step"),
    ],
)
def test_bad_state_space(method, word):
    with pytest.raises(ValueError, match=word):
        worst_case(method, 3, 1.0, 10.0)


def test_legacy_hyperparameters_refused_for_state_space():
    with pytest.raises(ValueError, match="alpha and beta"):
        worst_case(hb_ss(0.1, 0.5), 3, 1.0, 10.0, alpha=0.1)


def test_two_call_method_closed_form():
    """Two gradient steps per iteration at step 1/L each from the same point: u1 = g(x), z = x - u1/L,
    x+ = z - g(z)/L is gradient descent with 2N steps: worst case (1 - mu/L)^(4N) in distance."""
    a = 0.1
    ss = pep_mod._SS(np.array([[1.0]]), np.array([[-a, -a]]), np.array([[1.0], [1.0]]), np.array([[0, 0], [-a, 0]]))
    for N in (1, 2, 3):
        wc = worst_case(ss, N, 1.0, 10.0)
        assert rel(wc.value, (1 - a) ** (4 * N)) <= 1e-6
        assert wc.instance.check()["value"] <= 1e-6


def test_sweep_over_executors_is_identical_and_ordered():
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    settings = [dict(method="hb", N=n, mu=1.0, L=10.0, alpha=0.1, beta=0.5, metric=m) for n in (2, 3) for m in METRICS_]
    settings.append(dict(method=[hb_ss(0.1, b) for b in demon_schedule(0.9, 3)], N=3, mu=1.0, L=10.0))
    serial = pep_mod.worst_cases(settings)
    assert [w.N for w in serial] == [s["N"] for s in settings]
    with ThreadPoolExecutor(2) as ex:
        threaded = pep_mod.worst_cases(settings, executor=ex)
    with ProcessPoolExecutor(2) as ex:
        procs = pep_mod.worst_cases(settings, executor=ex)
    for a, b, c in zip(serial, threaded, procs):
        assert a.value == b.value == c.value and a.tried == b.tried == c.tried and a.metric == b.metric == c.metric
    assert [w.value for w in serial] == [worst_case(**s).value for s in settings]


METRICS_ = ("dist", "fgap")


def test_dual_residual_guard_rejects_infeasible_multipliers(monkeypatch):
    """Multipliers halved (tau kept): the dual slack matrix is no longer NSD and the function-value
    equations fail, while value and tau (so the gap) are unchanged: only the dual check sees it."""
    _tamper(monkeypatch, lambda st, G, F, nu, tau: (st, G, F, 0.5 * np.asarray(nu), tau))
    wc = worst_case("hb", 3, 1.0, 10.0, 0.1, 0.5)
    assert wc.value is None
    assert all("dual" in t[-1].split("]")[0] and "gap" not in t[-1].split("]")[0] for t in wc.tried), wc.tried


@pytest.mark.parametrize("name,hyper", [("gd", dict(alpha=0.1)), ("hb", dict(alpha=0.1, beta=0.5)),
                                        ("nesterov", dict(alpha=0.1, beta=0.5))])
def test_builtin_method_objects_give_the_legacy_numbers(name, hyper):
    """make_method(...) goes through the traced state space (polyak.solvers.linear), the name through the
    legacy momentum family: the same SDP, the same numbers bit for bit."""
    from polyak import make_method

    for metric in ("dist", "fgap"):
        traced = worst_case(make_method(name, **hyper), 4, 1.0, 10.0, metric=metric)
        legacy = worst_case(name, 4, 1.0, 10.0, hyper["alpha"], hyper.get("beta"), metric=metric)
        assert traced.value == legacy.value and traced.method == name
