"""The torch optimizers' guards: parameters without a gradient, sparse gradients, non-contiguous
parameters, unsupported dtypes; and that a parameter without a gradient changes nothing for the others."""

from __future__ import annotations

import pytest
from conftest import make_mlp, rings

torch = pytest.importorskip("torch")

from polyak.solvers import torch_optim as to  # noqa: E402

X, Y = rings(64, seed=1)
ALL = [
    (to.DemonSGD, dict(lr=0.05, T=60)),
    (to.DemonAdam, dict(lr=0.01, T=60)),
    (to.AdaptiveHB, dict(lr=0.05)),
    (to.AdaptiveHB, dict(lr=0.05, block="global")),
    (to.AdaptiveHBAdam, dict(lr=0.01, block="global")),
    (to.AMSGD, dict(lr=0.05)),
    (to.AMAdamW, dict(lr=0.01, block="global")),
]
IDS = [f"{c.__name__}-{kw.get('block', 'default')}" for c, kw in ALL]


def _steps(opt, model, n, frozen=None):
    for _ in range(n):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), Y).backward()
        if frozen is not None:
            frozen.grad = None  # as if it took no part in the loss
        opt.step()


@pytest.mark.parametrize("cls,kw", ALL, ids=IDS)
def test_a_parameter_without_gradient_is_left_alone_and_changes_nothing_else(cls, kw):
    # model A: the first bias has no gradient at any step; model B: the first bias is not given to
    # the optimizer at all. The bias is used in the forward pass of both, so both see the same
    # gradients for the other tensors: they must move identically, and the bias not at all.
    a, b = make_mlp(4), make_mlp(4)
    bias_a, bias_b = a[0].bias, b[0].bias
    before = bias_a.detach().clone()
    opt_a = cls(a.parameters(), **kw)
    opt_b = cls([p for p in b.parameters() if p is not bias_b], **kw)
    for _ in range(8):
        _steps(opt_a, a, 1, frozen=bias_a)
        _steps(opt_b, b, 1, frozen=bias_b)
    assert torch.equal(bias_a.detach(), before) and bias_a not in opt_a.state
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa.detach(), pb.detach())
    assert not torch.equal(a[2].weight.detach(), make_mlp(4)[2].weight.detach())  # the others moved


@pytest.mark.parametrize("cls,kw", ALL, ids=IDS)
def test_sparse_gradients_are_refused(cls, kw):
    emb = torch.nn.Embedding(10, 3, sparse=True).double()
    opt = cls(emb.parameters(), **kw)
    emb(torch.tensor([1, 2, 2])).sum().backward()
    assert emb.weight.grad.is_sparse
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_non_contiguous_parameters_and_half_precision_are_refused_at_the_first_step():
    base = torch.zeros(4, 6, dtype=torch.float64)
    p = torch.nn.Parameter(base.t())  # a transposed view: not contiguous
    assert not p.is_contiguous()
    p.grad = torch.ones_like(p)
    with pytest.raises(RuntimeError, match="contiguous"):
        to.AMSGD([p], lr=0.1).step()
    for cls, kw in ALL:  # every optimizer, already at step 0 (AdaptiveHB needs no backend there)
        q = torch.nn.Parameter(torch.zeros(3, dtype=torch.float16))
        q.grad = torch.ones_like(q)
        with pytest.raises(TypeError, match="float32 and float64"):
            cls([q], **kw).step()
