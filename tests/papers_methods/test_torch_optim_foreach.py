"""The multi-tensor path (``foreach=True``, the default) of AdaptiveHB, AMSGD and AMAdamW against
the per-tensor loop (``foreach=False``) and the engine, at random hyperparameters (fixed seeds),
with several parameter groups, parameters without a gradient, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EngineOnMLP, flat_params, make_mlp, rings

torch = pytest.importorskip("torch")

from polyak.solvers import make_method  # noqa: E402
from polyak.solvers import torch_optim as to  # noqa: E402

X, Y = rings(96, seed=3)
XB, YB = rings(480, seed=4)


def loss_fn(model):
    return torch.nn.functional.cross_entropy(model(X), Y)


class Minibatches:
    """Loss on batch k of 4 (a fixed shuffled schedule) at the k-th call: stochastic gradients, so
    that d_t - g_t is not small and AM's beta_t is not pinned at beta_max (full-batch gradients
    change slowly and clip it there); every run gets its own counter and the same batches."""

    def __init__(self, seed):
        self.order = np.random.default_rng(seed).permutation(480).reshape(120, 4)
        self.k = 0

    def __call__(self, model):
        rows = torch.as_tensor(self.order[self.k % 120])
        self.k += 1
        return torch.nn.functional.cross_entropy(model(XB[rows]), YB[rows])


def _closure_on(opt, model, batches):
    def closure():
        opt.zero_grad()
        loss = batches(model)
        loss.backward()
        return loss

    return closure


def _closure(opt, model, x=X, y=Y):
    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    return closure


def _draw(rng, name):
    """Random admissible hyperparameters of one optimizer (torch kwargs, engine kwargs, partition)."""
    if name == "ahb":
        variant = str(rng.choice(["A1", "A2"]))
        kw = dict(lr=float(10 ** rng.uniform(-2.5, -0.5)), delta=float(10 ** rng.uniform(-3, -1)), variant=variant,
                  weight_decay=float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)])))
        block = str(rng.choice(["tensor", "global"]))
        return to.AdaptiveHB, dict(kw, block=block), "adaptive-hb", kw, block
    if name == "amsgd":
        kw = dict(lr=float(10 ** rng.uniform(-2.5, -0.5)), lam=float(rng.uniform(0.0, 0.5)), beta_max=float(rng.uniform(0.5, 0.95)),
                  delta=str(rng.choice(["inner", "loss-gap", "zero"])), weight_decay=float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)])))
        block = str(rng.choice(["tensor", "global"]))
        return to.AMSGD, dict(kw, block=block), "am-sgd", kw, block
    kw = dict(lr=float(10 ** rng.uniform(-3.5, -1.5)), lam=float(rng.uniform(0.0, 0.5)), beta_max=float(rng.uniform(0.5, 0.95)),
              delta=str(rng.choice(["inner", "loss-gap", "zero"])), beta2=float(rng.uniform(0.9, 0.9999)),
              eps=float(10 ** rng.uniform(-9, -6)), weight_decay=float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)])))
    block = str(rng.choice(["tensor", "global"]))
    return to.AMAdamW, dict(kw, block=block), "am-adamw", kw, block


def _three_runs(name, seed, steps):
    """foreach, loop and engine on the same minibatch schedule; returns the worst gaps, the beta_t
    recorded at every step (first weight) and the optimizer's hyperparameters."""
    cls, tkw, ename, ekw, part = _draw(np.random.default_rng(100 + seed), name)
    m_f, m_l, m_e = make_mlp(seed), make_mlp(seed), make_mlp(seed)
    b_f, b_l, b_e = Minibatches(seed), Minibatches(seed), Minibatches(seed)
    opt_f = cls(m_f.parameters(), foreach=True, **tkw)
    opt_l = cls(m_l.parameters(), foreach=False, **tkw)
    eng = EngineOnMLP(make_method(ename, **ekw), m_e, b_e, part)
    worst_fl = worst_fe = 0.0
    betas = []
    for _ in range(steps):
        opt_f.step(_closure_on(opt_f, m_f, b_f))
        opt_l.step(_closure_on(opt_l, m_l, b_l))
        eng.step()
        worst_fl = max(worst_fl, float(np.abs(flat_params(m_f) - flat_params(m_l)).max()))
        worst_fe = max(worst_fe, float(np.abs(flat_params(m_f) - eng.x()).max()))
        betas.append(float(opt_f.state[m_f[0].weight]["beta"]))
        assert betas[-1] == pytest.approx(float(opt_l.state[m_l[0].weight]["beta"]), abs=1e-12)
    assert np.abs(flat_params(m_f) - flat_params(make_mlp(seed))).max() > 1e-4  # it moved
    return worst_fl, worst_fe, np.array(betas[1:]), tkw


def _unclipped(betas, name, tkw):
    hi = 1.0 - tkw["delta"] if name == "ahb" else tkw["beta_max"]
    return float(np.mean((betas > 0) & (betas < hi)))


def _path(chunk, monkeypatch):
    """chunk None: the defaults; 64: tensors above 64 bytes take the chunked eager path (the compiled
    passes off); "compiled": the same tensors through AdaptiveHB's compiled passes (numba)."""
    if chunk is None:
        return
    monkeypatch.setattr(to, "_CHUNK_BYTES", 64)
    if chunk == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(to, "NUMBA_MIN_NUMEL", 1)
    else:
        monkeypatch.setattr(to, "USE_NUMBA", False)


PATHS = dict(argvalues=[None, 64, "compiled"], ids=["chunks-default", "chunks-64B", "compiled"])


@pytest.mark.parametrize("chunk", **PATHS)
@pytest.mark.parametrize("name", ["ahb", "amsgd", "amadamw"])
def test_foreach_path_matches_the_loop_and_the_engine_at_random_hyperparameters(name, chunk, monkeypatch):
    # four random draws each, float64, 30 minibatch steps on the gradient at each run's own iterate:
    # foreach, loop and engine agree to 1e-12. The beta formula, not only its clip, must be
    # compared: adaptive HB's beta_k is inside (0, 1 - delta) at most steps; AM's beta_t is clipped
    # at 0 or beta_max at most steps by nature (measured: 0-28% unclipped per draw with batches
    # of 4), so its four draws must give at least 10 unclipped steps together (measured: 15 for
    # AM-SGD, 13 for AM-AdamW). chunk=64: tensors above 64 bytes (8 float64: the MLP's weights
    # and first bias) go through the chunked reductions (and AM-AdamW's chunked update), the
    # last bias (3 entries) through the multi-tensor kernels, in one group; "compiled": those large
    # tensors through AdaptiveHB's compiled passes instead (AM has none: the chunked path again).
    _path(chunk, monkeypatch)
    if chunk is not None:
        small, large = to._split([p.detach().view(-1) for p in make_mlp(0).parameters()])
        assert small and large
    inside = []
    for seed in range(4):
        worst_fl, worst_fe, betas, tkw = _three_runs(name, seed, 30)
        assert worst_fl <= 1e-12 and worst_fe <= 1e-12, (tkw, worst_fl, worst_fe)
        inside.append(_unclipped(betas, name, tkw) * len(betas))
        if name == "ahb":
            assert inside[-1] >= 0.5 * len(betas), (tkw, betas)
    assert sum(inside) >= 10, inside


def _name_of(model, p):
    return next(n for n, q in model.named_parameters() if q is p)


GROUPED = [
    (to.AdaptiveHB, [dict(lr=0.05, block="global"), dict(lr=0.02, variant="A2", delta=1e-3)]),
    (to.AdaptiveHB, [dict(lr=0.08), dict(lr=0.0)]),
    (to.AMSGD, [dict(lr=0.05, block="tensor", weight_decay=0.01), dict(lr=0.03, lam=0.2, delta="zero")]),
    (to.AMAdamW, [dict(lr=0.01, block="global", delta="zero"), dict(lr=0.02, beta2=0.99, weight_decay=0.0)]),
]


def _grouped_run(cls, kws, foreach, dtype, steps=12):
    # two groups (layer 0, layer 2); the first bias gets no gradient for the first 4 steps
    # (grad None: skipped, its state starts later than the others')
    model = make_mlp(7, dtype=dtype)
    groups = [dict(params=list(model[0].parameters()), **kws[0]), dict(params=list(model[2].parameters()), **kws[1])]
    opt = cls(groups, foreach=foreach)
    x = X.to(dtype)
    for k in range(steps):
        closure = _closure(opt, model, x)
        if k < 4:
            def closure(inner=closure):
                loss = inner()
                model[0].bias.grad = None
                return loss
        opt.step(closure)
    return model, opt


@pytest.mark.parametrize("cls,kws", GROUPED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(GROUPED)])
def test_foreach_equals_loop_with_groups_and_params_without_gradient_float64(cls, kws):
    m_f, opt_f = _grouped_run(cls, kws, True, torch.float64)
    m_l, opt_l = _grouped_run(cls, kws, False, torch.float64)
    assert np.abs(flat_params(m_f) - flat_params(m_l)).max() <= 1e-12
    assert opt_f.state[m_f[0].bias]["step"] == 8 and opt_f.state[m_f[0].weight]["step"] == 12
    assert not torch.equal(m_f[0].bias.detach(), make_mlp(7)[0].bias.detach())  # moved once it had a gradient


@pytest.mark.parametrize("chunk", **PATHS)
@pytest.mark.parametrize("cls,kws", GROUPED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(GROUPED)])
def test_foreach_equals_loop_in_float32(cls, kws, chunk, monkeypatch):
    # float32: the two paths round differently (the fused kernel, squared norms); 12 steps of
    # O(1) weights with lr <= 0.08 move them by O(0.1), so a few float32 ulps per step (eps = 6e-8)
    # stay below 1e-5 unless a beta flips across a clip boundary, which these settings do not hit
    # (the compiled passes sum in float64 and round each update once: closer to the loop, not equal)
    _path(chunk, monkeypatch)
    m_f, _ = _grouped_run(cls, kws, True, torch.float32)
    m_l, _ = _grouped_run(cls, kws, False, torch.float32)
    assert all(p.dtype == torch.float32 for p in m_f.parameters())
    assert np.abs(flat_params(m_f) - flat_params(m_l)).max() <= 1e-5


@pytest.mark.parametrize("chunk", **PATHS)
def test_switching_foreach_mid_run_continues_identically(chunk, monkeypatch):
    # both paths keep the same state (dx, g_prev, d, exp_avg_sq, beta): switching is seamless, also
    # back to foreach after loop steps moved dx (the chunked A1 update's ||dx||^2, kept for the
    # next step, is used only at the step it was computed for)
    _path(chunk, monkeypatch)
    for cls, kw in [(to.AdaptiveHB, dict(lr=0.05)), (to.AMSGD, dict(lr=0.05)), (to.AMAdamW, dict(lr=0.01))]:
        m_a, m_b = make_mlp(2), make_mlp(2)
        opt_a, opt_b = cls(m_a.parameters(), foreach=False, **kw), cls(m_b.parameters(), foreach=True, **kw)
        for k in range(18):
            if k in (6, 12):
                opt_b.param_groups[0]["foreach"] = k == 12
            opt_a.step(_closure(opt_a, m_a))
            opt_b.step(_closure(opt_b, m_b))
        assert np.abs(flat_params(m_a) - flat_params(m_b)).max() <= 1e-12
        if cls is to.AdaptiveHB and chunk is not None:  # the kept ||dx||^2 is the one of the current dx
            st = opt_b.state[m_b[0].weight]
            assert st["dx_sq"][0] == st["step"]
            assert float(st["dx_sq"][1]) == pytest.approx(float((st["dx"] ** 2).sum()), rel=1e-13)


def test_zero_momentum_branch_of_am_matches_the_engine():
    # AM-SGD with lam = 0 and delta = "zero": beta_t = clip(-<e, g>/||e||^2, 0, beta_max) is 0
    # whenever <e, g> > 0, so the update's momentum c = beta is 0 (the fused kernel's first-step
    # form, buf <- g). (Adaptive HB's beta = 0 branches, plain gradient step for A1 and the
    # first-step form for A2, are its first step, beta_0 = 0, in every test of this file: the
    # clipped formulas are 0 only at alpha h_k = 1 exactly.)
    m_t, m_e = make_mlp(0), make_mlp(0)
    opt = to.AMSGD(m_t.parameters(), lr=0.1, lam=0.0, delta="zero")
    eng = EngineOnMLP(make_method("am-sgd", lr=0.1, lam=0.0, delta="zero"), m_e, loss_fn, "global")
    zero_steps = 0
    for k in range(25):
        opt.step(_closure(opt, m_t))
        eng.step()
        zero_steps += k > 0 and float(opt.state[m_t[0].weight]["beta"]) == 0.0
        assert np.abs(flat_params(m_t) - eng.x()).max() <= 1e-12
    assert zero_steps >= 3, zero_steps


def test_mixed_dtypes_in_one_group_follow_the_loop():
    # a float32 and a float64 tensor in one global block: the block's sums are promoted to float64
    # in both paths; each tensor is updated in its own dtype (one fused call per dtype)
    for cls, kw in [(to.AdaptiveHB, dict(lr=0.05, block="global")), (to.AMSGD, dict(lr=0.05)), (to.AMAdamW, dict(lr=0.01, block="global"))]:
        out = []
        for foreach in (True, False):
            gen = torch.Generator().manual_seed(0)
            a = torch.nn.Parameter(torch.randn(50, generator=gen, dtype=torch.float64))
            b = torch.nn.Parameter(torch.randn(30, generator=gen).float())
            opt = cls([a, b], foreach=foreach, **kw)
            for _ in range(10):
                opt.zero_grad()
                ((a ** 2).sum() + (b.double() ** 4).sum()).backward()
                opt.step()
            out.append((a.detach().clone(), b.detach().clone()))
        assert out[0][0].dtype == torch.float64 and out[0][1].dtype == torch.float32
        assert torch.allclose(out[0][0], out[1][0], rtol=0, atol=1e-5) and torch.allclose(out[0][1], out[1][1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_foreach_must_be_a_bool_or_none(bad):
    with pytest.raises(ValueError, match="foreach"):
        to.AMSGD(make_mlp(0).parameters(), lr=0.1, foreach=bad)
    model = make_mlp(0)
    opt = to.AdaptiveHB(list(model[0].parameters()), lr=0.1)
    with pytest.raises(ValueError, match="foreach"):
        opt.add_param_group({"params": list(model[2].parameters()), "foreach": bad})


def test_foreach_is_only_offered_where_there_is_a_multi_tensor_path():
    assert to.AdaptiveHB(make_mlp(0).parameters()).defaults["foreach"] is None  # None: multi-tensor (default)
    with pytest.raises(ValueError, match="unknown"):
        to.DemonSGD(make_mlp(0).parameters(), lr=0.1, foreach=True)


def test_am_beta_inner_is_the_inner_formula():
    # the identity used by the foreach path: the same beta as the general formula with
    # Delta_t/eta = <g, d>, at random g, d (and a degenerate d = g)
    from polyak.solvers import get_backend
    from polyak.solvers.adaptive_memory import am_beta_from_sums, am_sums

    be = get_backend("torch", dtype="float64")
    rng = np.random.default_rng(5)
    for k in range(20):
        g = torch.as_tensor(rng.normal(size=(1, 1, 40)))
        d = g.clone() if k == 0 else g + torch.as_tensor(rng.normal(size=(1, 1, 40))) * float(10 ** rng.uniform(-3, 1))
        lam, bmax = float(rng.uniform(0, 1)), float(rng.uniform(0.1, 0.99))
        ee, eg, ed, gd = am_sums(g, d, be)
        ref, ref_raw = am_beta_from_sums(ee, eg, ed, gd, lam, bmax, be)
        got, got_raw = to.am_beta_inner(ee, (g * g).sum(-1, keepdim=True), lam, bmax, be)
        assert float(got) == pytest.approx(float(ref), abs=1e-12)
        assert float(got_raw) == pytest.approx(float(ref_raw), rel=1e-10, abs=1e-12)


def test_state_dicts_without_foreach_and_with_the_kept_dx_norm_load(monkeypatch):
    # a state_dict saved before the foreach option existed (no "foreach" key in its groups) loads
    # and runs the default path; one saved mid-run with the chunked A1 update's kept ||dx||^2
    # continues exactly like the uninterrupted run
    import copy

    monkeypatch.setattr(to, "_CHUNK_BYTES", 64)
    model = make_mlp(1)
    opt = to.AdaptiveHB(model.parameters(), lr=0.05)
    for _ in range(5):
        opt.step(_closure(opt, model))
    saved = copy.deepcopy(opt.state_dict())
    saved_model = {k: v.clone() for k, v in model.state_dict().items()}
    assert any("dx_sq" in st for st in saved["state"].values())
    for _ in range(5):
        opt.step(_closure(opt, model))
    old = copy.deepcopy(saved)
    for g in old["param_groups"]:
        del g["foreach"]
    fresh = make_mlp(9)
    fresh.load_state_dict(saved_model)
    opt2 = to.AdaptiveHB(fresh.parameters(), lr=0.05)
    opt2.load_state_dict(old)
    assert opt2.param_groups[0].get("foreach") is None
    for _ in range(5):
        opt2.step(_closure(opt2, fresh))
    assert np.abs(flat_params(model) - flat_params(fresh)).max() == 0.0


def test_a_torch_without_the_private_kernels_falls_back_to_the_loop(monkeypatch):
    # the foreach path calls private kernels (torch._fused_sgd_, torch._foreach_*): where a torch
    # lacks one, the default (foreach=None) runs the per-tensor loop and foreach=True says why
    calls = []
    real = to.AdaptiveHB._group_step_foreach
    monkeypatch.setattr(to.AdaptiveHB, "_group_step_foreach", lambda self, *a: (calls.append(1), real(self, *a)))
    monkeypatch.delattr(torch, "_fused_sgd_")
    m_d, m_l = make_mlp(0), make_mlp(0)
    opt_d = to.AdaptiveHB(m_d.parameters(), lr=0.05)
    opt_l = to.AdaptiveHB(m_l.parameters(), lr=0.05, foreach=False)
    for _ in range(3):
        opt_d.step(_closure(opt_d, m_d))
        opt_l.step(_closure(opt_l, m_l))
    assert calls == []
    assert all(torch.equal(a, b) for a, b in zip(m_d.parameters(), m_l.parameters()))
    m_t = make_mlp(0)
    opt_t = to.AdaptiveHB(m_t.parameters(), lr=0.05, foreach=True)
    with pytest.raises(RuntimeError, match="foreach=True needs torch._fused_sgd_"):
        opt_t.step(_closure(opt_t, m_t))


def test_the_compiled_passes_run_on_large_cpu_tensors_and_bump_versions(monkeypatch):
    # a 70000-element float64 tensor (above NUMBA_MIN_NUMEL) takes the compiled passes by default
    # (spied), gives the chunked eager path's iterates to 1e-12, and leaves autograd able to see
    # that the step modified a tensor a graph saved (numpy writes bump no version counter by
    # themselves); POLYAK_NUMBA=0 turns the passes off
    pytest.importorskip("numba")
    calls = []
    for fn in ("_numba_secant", "_numba_a1"):
        real = getattr(to, fn)
        monkeypatch.setattr(to, fn, lambda *a, _r=real, _n=fn: (calls.append(_n), _r(*a))[1])
    gen = torch.Generator().manual_seed(5)
    H = torch.rand(70000, generator=gen, dtype=torch.float64) + 0.1

    def run(env):
        monkeypatch.setenv("POLYAK_NUMBA", env)
        p = torch.nn.Parameter(torch.ones(70000, dtype=torch.float64))
        opt = to.AdaptiveHB([p], lr=0.3)
        for _ in range(6):
            opt.zero_grad()
            (0.5 * (H * p * p).sum()).backward()
            opt.step()
        return p.detach().clone(), opt, p

    x_c, opt, p = run("1")
    assert calls.count("_numba_a1") >= 4 and calls.count("_numba_secant") >= 4
    n = len(calls)
    x_e, _, _ = run("0")
    assert len(calls) == n  # the eager path ran
    assert float((x_c - x_e).abs().max()) <= 1e-12 and float((x_c - 1).abs().max()) > 1e-3
    monkeypatch.setenv("POLYAK_NUMBA", "1")
    loss = (p * p).sum()  # saves p
    p.grad = torch.ones_like(p)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
