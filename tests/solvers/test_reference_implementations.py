"""The engine against independent implementations: torch.optim.SGD and schedulefree's reference SGD.

Both run on the same quadratic; each step the reference computes its own gradient from its own
iterate (torch autograd-free: g = A (p - x*)), so equal iterates mean equal gradients.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import polyak

torch = pytest.importorskip("torch")

STEPS = 40


@pytest.fixture(scope="module")
def quad():
    return polyak.make_problem("quadratic", mu=0.2, L=2.0, dim=5, basis="random", x_star="random", seed=11)


def reference_iterates(quad, make_opt, steps=STEPS, closure_eval=None):
    A = torch.tensor(quad.hessian[0], dtype=torch.float64)
    xs = torch.tensor(quad.x_star[0], dtype=torch.float64)
    p = torch.nn.Parameter(torch.tensor(quad.x0[0], dtype=torch.float64))
    opt = make_opt([p])
    out = [p.detach().clone().numpy()]
    for _ in range(steps):
        p.grad = A @ (p.detach() - xs)
        opt.step()
        out.append((closure_eval(opt, p) if closure_eval else p.detach().clone()).numpy())
    return np.stack(out)


def engine_iterates(quad, name, steps=STEPS, **hyper):
    tr = polyak.simulate(polyak.make_method(name, **hyper), quad, steps, keep_last=steps + 1)
    return tr.x_tail[:, 0, 0]


COMBOS = [
    (m, d, n, wd)
    for m, d, n, wd in itertools.product([0.0, 0.5, 0.9], [0.0, 0.3], [False, True], [0.0, 0.1])
    if not (n and (m == 0 or d != 0))  # torch rejects nesterov without momentum or with dampening
]


@pytest.mark.parametrize("momentum,dampening,nesterov,weight_decay", COMBOS)
def test_sgdm_matches_torch_optim_sgd(quad, momentum, dampening, nesterov, weight_decay):
    lr = 0.3
    ref = reference_iterates(
        quad,
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                   weight_decay=weight_decay),
    )
    ours = engine_iterates(quad, "sgdm", lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                           weight_decay=weight_decay)
    assert np.max(np.abs(ref[1:] - ref[0])) > 1e-2  # the run moved
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_sgdm_rejects_what_torch_rejects():
    with pytest.raises(ValueError, match="nesterov"):
        polyak.make_method("sgdm", lr=0.1, momentum=0.0, nesterov=True)
    with pytest.raises(ValueError, match="dampening"):
        polyak.make_method("sgdm", lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize("b,warmup,r,weight_lr_power,wd", [
    (0.9, 0, 0.0, 2.0, 0.0),
    (0.5, 5, 0.0, 2.0, 0.0),
    (0.9, 3, 1.0, 1.0, 0.05),
    (1.0 - 1e-9, 0, 0.0, 0.0, 0.0),
])
def test_schedule_free_matches_schedulefree_reference(quad, b, warmup, r, weight_lr_power, wd):
    sf = pytest.importorskip("schedulefree")
    lr = 0.4

    def make(ps):
        return sf.SGDScheduleFreeReference(ps, lr=lr, momentum=b, warmup_steps=warmup, r=r,
                                           weight_lr_power=weight_lr_power, weight_decay=wd)

    def x_of(opt, p):  # the averaged iterate x (what eval mode would load)
        return opt.state[p]["x"].detach().clone()

    ref = reference_iterates(quad, make, closure_eval=x_of)
    ours = engine_iterates(quad, "schedule-free", lr=lr, b=b, warmup_steps=warmup, r=r,
                           weight_lr_power=weight_lr_power, weight_decay=wd)
    assert np.max(np.abs(ref[1:] - ref[0])) > 1e-2
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
