"""The papers' methods as ``torch.optim.Optimizer`` classes, sharing the engine's step rule.

Each optimizer calls the same rule functions as the engine (``demon.py``, ``adaptive_hb.py``,
``adaptive_memory.py``, ``adam.py``) through a torch :class:`~polyak.solvers.backend.Backend`, on
every parameter tensor viewed as a ``(1, 1, numel)`` array (the engine's ``(P, N, d)`` layout with
one problem and one run). Where a method has one momentum for many coordinates, ``block`` chooses
its scope: ``"tensor"`` (one beta per parameter tensor) or ``"global"`` (one beta per parameter
group: the inner products of the rule are sums, accumulated over the group's tensors before the
shared scalar formula is applied -- the engine's ``blocks=1`` on the concatenated vector).

Hyperparameters are validated by the engine's ``Param`` ranges (the errors name the parameter and
its range), for the defaults and for every parameter group. ``lr`` is the group key (so torch's
LR schedulers work); it is the engine's ``eta`` for Demon SGDM and ``lr`` elsewhere. Parameter
groups, closures (``step(closure)`` returns the loss; AM's ``delta="loss-gap"`` needs one),
``state_dict`` round-trips and weight decay are supported; sparse gradients are not.

Multi-tensor path (``foreach``, :class:`AdaptiveHB`, :class:`AMSGD`, :class:`AMAdamW`): like
torch.optim's option of that name, ``foreach=None`` (default) or ``True`` runs a parameter group
through multi-tensor kernels; ``foreach=False`` keeps the per-tensor loop over the engine's shared
rule functions. In the foreach path

- the reductions a rule needs before any coordinate can move (||g_k - g_{k-1}||^2 and
  ||x_k - x_{k-1}||^2; AM's ||e||^2 and ||g||^2 or <e, g>, e = d - g; in Adam's metric) run as
  ``torch._foreach_*`` kernels over the small tensors and, for tensors above ``_CHUNK_BYTES``
  (256 KiB), in L2-sized chunks, so that the kernels after the first one (the difference, the
  copy of g_k kept for the next step, the weighted products) read the chunk from cache: one pass
  over memory instead of one per kernel;
- the betas of all blocks are computed at once, from one vector of per-tensor sums;
- the heavy-ball / AM update of each block is one call of torch's fused SGD kernel
  (``torch._fused_sgd_``, what ``torch.optim.SGD(fused=True)`` runs): one pass instead of three.
  Its momentum is a Python float, so the betas are read back once per group and step
  (``.tolist()``: free on the CPU, one synchronisation on an accelerator);
- with numba installed (``polyak[fast]``), AdaptiveHB (A1) runs its two passes over each CPU tensor
  of at least ``NUMBA_MIN_NUMEL`` elements as compiled loops instead (``USE_NUMBA``; the
  environment variable ``POLYAK_NUMBA=0`` turns them off): the reduction reads g_{k-1} and g_k
  once and writes g_k over g_{k-1}, the update reads x, dx, g_k once and writes x, dx with
  ||dx_{k+1}||^2 summed on the way (8 array passes per step; torch's default SGD step makes 9),
  sums in float64; they write through numpy views and then bump the tensors' version counters
  as an in-place torch op would;
- AM-AdamW keeps Adam's preconditioner P in a work array per parameter (not state: not saved,
  rebuilt on demand; one more array of the parameters' size) instead of a fresh temporary per step.

Both paths keep the same state, so ``foreach`` can be switched between steps, and both give the
engine's iterates (tests: 1e-12 in float64 at random hyperparameters); they differ by rounding
only: the fused kernel rounds its two products separately, the A1 update passes its step as the
kernel's 1 - dampening = 1 - (1 + lr) (exact to 2^-53 absolute), norms are squared ``vector_norm``
values, chunk sums are added in a different order, and AM with ``delta="inner"`` uses an identity
that needs no <e, g> (see :func:`am_beta_inner`).

Classes: :class:`DemonSGD`, :class:`DemonAdam`, :class:`AdaptiveHB`, :class:`AdaptiveHBAdam`,
:class:`AMSGD`, :class:`AMAdamW`. Each records the momentum it used in ``state[p]["beta"]``
(the paper's beta_t; for Adaptive Memory the paper's beta_t, not the heavy-ball form).

References: chen2019demon, sun2021adaptive, topollai2025adaptive, kingma2015adam, loshchilov2019adamw.

>>> import torch
>>> model = torch.nn.Linear(3, 1)
>>> opt = AMSGD(model.parameters(), lr=0.1)
>>> loss = model(torch.ones(2, 3)).pow(2).mean(); loss.backward(); opt.step()
>>> sorted(opt.state[model.weight])
['beta', 'd', 'f_prev', 'step']
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .backend import get_backend, require_torch
from .base import build_method
from .registry import get_method_rule

torch = require_torch()

from .adam import adam_moments, adam_precond, adam_second_moment, adam_update, ema  # noqa: E402
from .adaptive_hb import adaptive_hb_adam_bc1, adaptive_hb_adam_step, adaptive_hb_beta_from_sums, adaptive_hb_update, secant_sums  # noqa: E402
from .adaptive_memory import am_beta_from_sums, am_delta_over_eta, am_direction, am_sums, am_update  # noqa: E402
from .demon import demon_adam_corrections, demon_adam_dampened, demon_adam_precond, demon_beta, demon_sgdm_update  # noqa: E402

__all__ = ["DemonSGD", "DemonAdam", "AdaptiveHB", "AdaptiveHBAdam", "AMSGD", "AMAdamW"]

BLOCK_CHOICES = ("global", "tensor")


class _PolyakOptimizer(torch.optim.Optimizer):
    """Common machinery: validation through the engine's Params, backends, flat views."""

    rule_name = ""
    lr_name = "lr"  # the engine's name of torch's "lr"
    default_block: str | None = None  # None: the optimizer has no block option
    supports_foreach = False  # True: a ``foreach`` option (multi-tensor path, default on)

    def __init__(self, params: Iterable[Any], **hyper: Any) -> None:
        rule = get_method_rule(self.rule_name)
        defaults: dict[str, Any] = {}
        for p in rule.params:
            if p.name == "blocks":
                continue
            key = "lr" if p.name == self.lr_name else p.name
            defaults[key] = p.default
        if self.default_block is not None:
            defaults["block"] = self.default_block
        if self.supports_foreach:
            defaults["foreach"] = None
        unknown = sorted(set(hyper) - set(defaults))
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown hyperparameter(s) {', '.join(unknown)}; valid: {', '.join(defaults)}")
        defaults.update(hyper)
        self._validate(defaults)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        rule = get_method_rule(self.rule_name)
        values = {}
        for p in rule.params:
            if p.name == "blocks":
                continue
            key = "lr" if p.name == self.lr_name else p.name
            values[p.name] = group[key]
        build_method(rule, values)  # raises ValueError naming the parameter and its range
        if self.default_block is not None and group.get("block") not in BLOCK_CHOICES:
            raise ValueError(f"{type(self).__name__}: block must be one of {', '.join(BLOCK_CHOICES)}; got {group.get('block')!r}")
        if self.supports_foreach and group.get("foreach") is not None and not isinstance(group.get("foreach"), bool):
            raise ValueError(f"{type(self).__name__}: foreach must be True, False or None (default: True); got {group.get('foreach')!r}")

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        self._validate(self.param_groups[-1])

    @staticmethod
    def _backend(p: Any) -> Any:
        if p.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"polyak optimizers support float32 and float64 parameters; got {p.dtype}")
        return get_backend("torch", device=str(p.device), dtype="float64" if p.dtype == torch.float64 else "float32")

    @staticmethod
    def _items(group: dict) -> list[tuple[Any, Any, Any]]:
        """(param, flat param (1, 1, n), flat grad (1, 1, n)) of the params that have a gradient."""
        out = []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("polyak optimizers do not support sparse gradients")
            if not p.is_contiguous():
                raise RuntimeError("polyak optimizers need contiguous parameters (they update flat views in place)")
            if p.dtype not in (torch.float32, torch.float64):  # checked here: not every rule asks for a backend at step 0
                raise TypeError(f"polyak optimizers support float32 and float64 parameters; got {p.dtype}")
            out.append((p, p.detach().view(1, 1, -1), p.grad.detach().reshape(1, 1, -1)))
        return out

    def _buffer(self, p: Any, key: str) -> Any:
        """A flat work array of p's size kept between steps (not state: not saved, rebuilt on demand)."""
        cache = self.__dict__.setdefault("_work", {})
        buf = cache.get((id(p), key))
        if buf is None or buf.shape[0] != p.numel() or buf.dtype != p.dtype or buf.device != p.device:
            buf = cache[(id(p), key)] = torch.empty(p.numel(), dtype=p.dtype, device=p.device)
        return buf

    def _scratch(self, like: Any) -> Any:
        """A flat scratch view of like's size, one array per (dtype, device) shared by all tensors."""
        cache = self.__dict__.setdefault("_work", {})
        key = ("scratch", like.dtype, like.device)
        buf = cache.get(key)
        if buf is None or buf.numel() < like.numel():
            buf = cache[key] = torch.empty(like.numel(), dtype=like.dtype, device=like.device)
        return buf[: like.numel()]

    @staticmethod
    def _scalar(value: float, like: Any) -> Any:
        return torch.full((1, 1, 1), float(value), dtype=like.dtype, device=like.device)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step for every parameter group; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            items = self._items(group)
            if not items:
                continue
            fe = group.get("foreach")
            if self.supports_foreach and fe is not False and _fast_kernels(torch, fe):
                self._group_step_foreach(group, items, loss)
            else:
                self._group_step(group, items, loss)
        return loss

    def _group_step(self, group: dict, items: list, loss: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _group_step_foreach(self, group: dict, items: list, loss: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _zeros(p: Any) -> Any:
        return torch.zeros_like(p, memory_format=torch.contiguous_format)

    @staticmethod
    def _flat(t: Any) -> Any:
        return t.view(1, 1, -1)

    def _secant_beta(self, group: dict, idx: list, items: list, states: list, grads: list, lr: Any, variant: str,
                     precond: list | None = None) -> tuple[Any, Any]:
        """Adaptive heavy-ball beta of one block (shared by AdaptiveHB and AdaptiveHBAdam): the secant sums
        ||g_{k-1} - g_k||^2 and ||x_k - x_{k-1}||^2 accumulated over the block's tensors (in Adam's metric
        when ``precond`` is given), then the engine's formula; beta_0 = 0 is kept at the first step."""
        st0 = states[idx[0]]
        if st0["step"] == 0:
            return st0["beta"], st0["beta_raw"]
        be = self._backend(items[idx[0]][0])
        dg2 = dx2 = None
        for i in idx:
            dg = self._flat(states[i]["g_prev"]).sub_(grads[i])  # g_{k-1} - g_k: the sign does not enter
            a, b = secant_sums(dg, self._flat(states[i]["dx"]), be, None if precond is None else precond[i])
            dg2, dx2 = (a, b) if dg2 is None else (dg2 + a, dx2 + b)
        return adaptive_hb_beta_from_sums(dg2, dx2, lr, group["delta"], variant, st0["beta"], st0["beta_raw"], be)

    def _blocks_of(self, group: dict, items: list) -> list[list[int]]:
        """Index lists of the tensors that share one beta."""
        return [list(range(len(items)))] if group["block"] == "global" else [[i] for i in range(len(items))]


# --------------------------------------------------------------------------------------------
# Multi-tensor helpers (the ``foreach`` path)
# --------------------------------------------------------------------------------------------
# Reductions over tensors larger than this many bytes run in chunks of this size: the chunk just
# read (and written) by the first kernel is still in L2 for the next ones, so a reduction that needs
# g_k - g_{k-1} or an e = d - g costs one pass over memory instead of one per kernel.
_CHUNK_BYTES = 1 << 18


def _chunk_len(t: Any) -> int:
    return max(1, _CHUNK_BYTES // t.element_size())


def _split(ts: list) -> tuple[list, list]:
    """Indices of the tensors reduced with multi-tensor kernels (small) and in chunks (large)."""
    small, large = [], []
    for i, t in enumerate(ts):
        (large if t.numel() > _chunk_len(t) else small).append(i)
    return small, large


def _per_tensor(n: int, small: list, small_vals: Any, large: list, large_vals: list) -> Any:
    """Per-tensor values in parameter order: ``small_vals`` a vector for the small tensors, ``large_vals``
    a list of 0-dim tensors for the large ones."""
    if not large:
        return small_vals
    lv = torch.stack(large_vals)
    if not small:
        return lv
    out = torch.empty(n, dtype=torch.promote_types(small_vals.dtype, lv.dtype), device=lv.device)
    out[torch.tensor(small, device=lv.device)] = small_vals.to(out.dtype)
    out[torch.tensor(large, device=lv.device)] = lv.to(out.dtype)
    return out


def _secant_reduce(gps: list, gs: list, dxs: list, known: list) -> tuple[Any, Any]:
    """(||g_prev - g||^2, ||dx||^2) per tensor, leaving g_prev = g (the copy for the next step);
    ``known[i]``: ||dx_i||^2 when the last update already summed it (chunked A1 update), else None."""
    small, large = _split(gps)
    dg, dx = [], []
    if small:
        a, b = [gps[i] for i in small], [gs[i] for i in small]
        torch._foreach_sub_(a, b)
        dg = torch.stack(torch._foreach_norm(a)) ** 2
        dx = torch.stack(torch._foreach_norm([dxs[i] for i in small])) ** 2
        torch._foreach_copy_(a, b)
    ldg, ldx = [], []
    for i in large:
        if _numba_ok(gps[i], gs[i], dxs[i]):
            a, b = _numba_secant(gps[i], gs[i], dxs[i], known[i] is None)
            ldg.append(a)
            ldx.append(known[i] if known[i] is not None else b)
            continue
        ch = _chunk_len(gps[i])
        sa, sb = [], []
        if known[i] is not None:
            for u, g in zip(gps[i].split(ch), gs[i].split(ch)):
                u.sub_(g)
                sa.append(torch.dot(u, u))
                u.copy_(g)
            ldx.append(known[i])
        else:
            for u, g, w in zip(gps[i].split(ch), gs[i].split(ch), dxs[i].split(ch)):
                u.sub_(g)
                sa.append(torch.dot(u, u))
                u.copy_(g)
                sb.append(torch.dot(w, w))
            ldx.append(torch.stack(sb).sum())
        ldg.append(torch.stack(sa).sum())
    n = len(gps)
    return _per_tensor(n, small, dg, large, ldg), _per_tensor(n, small, dx, large, ldx)


def _am_reduce(ds: list, gs: list, inner: bool) -> tuple[Any, Any]:
    """d <- e = d - g; per tensor (||e||^2, ||g||^2) if ``inner`` else (||e||^2, <e, g>)."""
    small, large = _split(ds)
    ee, other = [], []
    if small:
        a, b = [ds[i] for i in small], [gs[i] for i in small]
        torch._foreach_sub_(a, b)
        ee = torch.stack(torch._foreach_norm(a)) ** 2
        other = torch.stack(torch._foreach_norm(b)) ** 2 if inner else torch.stack([torch.dot(u, v) for u, v in zip(a, b)])
    lee, lother = [], []
    for i in large:
        ch = _chunk_len(ds[i])
        sa, sb = [], []
        for e, g in zip(ds[i].split(ch), gs[i].split(ch)):
            e.sub_(g)
            sa.append(torch.dot(e, e))
            sb.append(torch.dot(g, g) if inner else torch.dot(e, g))
        lee.append(torch.stack(sa).sum())
        lother.append(torch.stack(sb).sum())
    n = len(ds)
    return _per_tensor(n, small, ee, large, lee), _per_tensor(n, small, other, large, lother)


def _am_adam_reduce(vs: list, gs: list, ds: list, Ps: list, b2: float, bc2s: list, eps: float, inner: bool,
                    scratch: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Adam's v <- b2 v + (1 - b2) g^2, P = sqrt(v)/sqrt(bc2) + eps (torch's order), d <- e = d - g;
    per tensor (<e, e/P>, <g, g/P>) if ``inner`` else (<e, e/P>, <e/P, g>)."""
    small, large = _split(ds)
    ee, other = [], []
    if small:
        v, g, d, P = ([t[i] for i in small] for t in (vs, gs, ds, Ps))
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, g, g, value=1.0 - b2)
        torch._foreach_copy_(P, v)
        torch._foreach_sqrt_(P)
        torch._foreach_div_(P, [bc2s[i] ** 0.5 for i in small])
        torch._foreach_add_(P, eps)
        torch._foreach_sub_(d, g)
        ee, other = [], []
        for e, gi, Pi in zip(d, g, P):  # weighted sums through one scratch array (no fresh temporaries)
            a, b = _weighted_sums(e, gi, Pi, scratch(e), inner)
            ee.append(a)
            other.append(b)
        ee, other = torch.stack(ee), torch.stack(other)
    lee, lother = [], []
    for i in large:
        ch = _chunk_len(ds[i])
        sa, sb = [], []
        root = bc2s[i] ** 0.5
        w = scratch(ds[i][:ch])
        for v, g, e, P in zip(vs[i].split(ch), gs[i].split(ch), ds[i].split(ch), Ps[i].split(ch)):
            ww = w[: e.numel()]
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            torch.sqrt(v, out=P)
            P.div_(root).add_(eps)
            e.sub_(g)
            a, b = _weighted_sums(e, g, P, ww, inner)
            sa.append(a)
            sb.append(b)
        lee.append(torch.stack(sa).sum())
        lother.append(torch.stack(sb).sum())
    n = len(ds)
    return _per_tensor(n, small, ee, large, lee), _per_tensor(n, small, other, large, lother)


def _weighted_sums(e: Any, g: Any, P: Any, w: Any, inner: bool) -> tuple[Any, Any]:
    """(<e, e/P>, <g, g/P>) when ``inner``, else (<e, e/P>, <e/P, g>), through the scratch ``w``."""
    torch.div(e, P, out=w)
    a = torch.dot(e, w)
    if inner:
        torch.div(g, P, out=w)
        return a, torch.dot(g, w)
    return a, torch.dot(w, g)


def _am_adam_update(xs: list, gs: list, ds: list, Ps: list, cs: list, lr: float, wd: float) -> None:
    """d_i <- c_i e_i + g_i (d holds e), x_i <- x_i (1 - lr wd) - lr d_i / P_i (large tensors in chunks)."""
    small, large = _split(ds)
    if small:
        x, g, d, P = ([t[i] for i in small] for t in (xs, gs, ds, Ps))
        torch._foreach_mul_(d, [cs[i] for i in small])
        torch._foreach_add_(d, g)
        if wd:
            torch._foreach_mul_(x, 1.0 - lr * wd)
        torch._foreach_addcdiv_(x, d, P, value=-lr)
    for i in large:
        ch, c = _chunk_len(ds[i]), cs[i]
        for x, g, d, P in zip(xs[i].split(ch), gs[i].split(ch), ds[i].split(ch), Ps[i].split(ch)):
            torch.add(g, d, alpha=c, out=d)  # d <- g + c e, one kernel
            if wd:
                x.mul_(1.0 - lr * wd)
            x.addcdiv_(d, P, value=-lr)


#: the private torch kernels the foreach path calls (present in the pinned torch 2.13.0)
FAST_KERNELS = ("_fused_sgd_", "_foreach_norm", "_foreach_mul_", "_foreach_add_", "_foreach_addcdiv_")


def _fast_kernels(torch: Any, foreach: Any) -> bool:
    """Whether the foreach path can run on this torch: with ``foreach=None`` (default) a torch
    without these private kernels falls back to the per-tensor loop; ``foreach=True`` there is an error."""
    missing = [k for k in FAST_KERNELS if not hasattr(torch, k)]
    if not missing:
        return True
    if foreach is True:
        raise RuntimeError(f"foreach=True needs torch.{', torch.'.join(missing)}, which this torch "
                           f"({torch.__version__}) lacks; use foreach=None (falls back to the loop) or False")
    return False


def _fused_a1_chunked(x: Any, g: Any, dx: Any, beta: float, lr: float) -> Any:
    """A1's dx <- beta dx - lr g, x <- x + dx through the fused kernel, chunk by chunk, each chunk's
    ||dx||^2 summed while it is in cache: returns ||dx_{k+1}||^2, which the next step needs."""
    ch = 2 * _chunk_len(x)
    acc = []
    for xc, gc, dc in zip(x.split(ch), g.split(ch), dx.split(ch)):
        torch._fused_sgd_([xc], [gc], [dc], weight_decay=0.0, momentum=beta, lr=-1.0, dampening=1.0 + lr,
                          nesterov=False, maximize=False, is_first_step=False)
        acc.append(torch.dot(dc, dc))
    return torch.stack(acc).sum()


# -- compiled passes for large CPU tensors (numba, optional: pip install 'polyak[fast]') --------------------
#: "auto": AdaptiveHB's two passes over a large CPU tensor (A1) run as compiled loops when numba is
#: installed (the environment variable POLYAK_NUMBA=0 turns them off); False: never. Eager torch
#: needs three kernels per chunk for ||g_k - g_{k-1}||^2 with the copy of g_k (and the square-sum of
#: dx after the update), each a pass over the chunk; one compiled loop reads every array once,
#: writes once and sums in registers (sums in float64, their order reassociated so the loop
#: vectorises: a difference from torch's sums of the size of float round-off, ~1e-16 relative).
USE_NUMBA: Any = "auto"
NUMBA_MIN_NUMEL = 1 << 16

_SECANT_SRC = """
import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def kernel(gp, g, dx, with_dx):
    # sum (gp - g)^2 and gp <- g; with_dx: also sum dx^2 (float64 sums)
    s = 0.0
    t = 0.0
    for i in range(gp.size):
        d = np.float64(gp[i]) - np.float64(g[i])
        s += d * d
        gp[i] = g[i]
    if with_dx:
        for i in range(dx.size):
            v = np.float64(dx[i])
            t += v * v
    return s, t
"""

_A1_SRC = """
import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def kernel(x, g, dx, beta, lr):
    # dx <- beta dx - lr g, x <- x + dx (each rounded once from float64); returns sum dx^2
    s = 0.0
    for i in range(x.size):
        d = beta * np.float64(dx[i]) - lr * np.float64(g[i])
        dx[i] = d
        v = np.float64(dx[i])
        x[i] += dx[i]
        s += v * v
    return s
"""


def _numba_ok(*ts: Any) -> bool:
    """Whether the compiled passes take these tensors: numba installed and allowed, CPU, float32 or
    float64, contiguous, one dtype, at least NUMBA_MIN_NUMEL elements."""
    import os

    if USE_NUMBA is False or os.environ.get("POLYAK_NUMBA", "").strip() in ("0", "false", "False", "no"):
        return False
    t0 = ts[0]
    if t0.device.type != "cpu" or t0.dtype not in (torch.float32, torch.float64) or t0.numel() < NUMBA_MIN_NUMEL:
        return False
    if not all(t.dtype == t0.dtype and t.device == t0.device and t.is_contiguous() for t in ts):
        return False
    from .kernels import importlib_find

    return importlib_find("numba")


def _np(t: Any) -> Any:
    return t.detach().numpy()


def _written(*ts: Any) -> None:
    """Bump the version counters of tensors written through numpy views (as an in-place torch op
    does), so that autograd still detects a saved tensor the step modified."""
    from torch.autograd.graph import increment_version

    for t in ts:
        increment_version(t)


def _numba_secant(gp: Any, g: Any, dx: Any, with_dx: bool) -> tuple[Any, Any]:
    """(||gp - g||^2, ||dx||^2 or None) as 0-dim tensors of gp's dtype, leaving gp = g: one compiled pass."""
    from .kernels import _compile

    a, b = _compile(_SECANT_SRC)(_np(gp), _np(g), _np(dx), with_dx)
    _written(gp)
    mk = lambda v: torch.tensor(v, dtype=gp.dtype)  # noqa: E731
    return mk(a), (mk(b) if with_dx else None)


def _numba_a1(x: Any, g: Any, dx: Any, beta: float, lr: float) -> Any:
    """A1's update of one large CPU tensor in one compiled pass: returns ||dx_{k+1}||^2 (0-dim tensor)."""
    from .kernels import _compile

    s = _compile(_A1_SRC)(_np(x), _np(g), _np(dx), float(beta), float(lr))
    _written(x, dx)
    return torch.tensor(s, dtype=x.dtype)


def _per_tensor_values(vals: list, n: int, blocks: list) -> list:
    """One Python value per tensor from one per block (global: the same for all)."""
    return vals * n if len(blocks) == 1 else vals


def _block_sums(v: Any, blocks: list) -> Any:
    """Per-tensor values -> one value per block: the sum for one block over all tensors ("global"),
    the values themselves for one block per tensor ("tensor", the only two partitions)."""
    return v.sum().reshape(1) if len(blocks) == 1 else v


def _buckets(idx: list, tensors: list) -> list:
    """``idx`` split by (device, dtype) of ``tensors[i]``: the fused kernel takes one of each per call."""
    out: dict = {}
    for i in idx:
        out.setdefault((tensors[i].device, tensors[i].dtype), []).append(i)
    return list(out.values())


def _fused_momentum(xs: list, gs: list, bufs: list, idx: list, momentum: float, dampening: float, lr: float) -> None:
    """buf_i <- momentum buf_i + (1 - dampening) g_i,  x_i <- x_i - lr buf_i  for i in ``idx``: one
    pass of torch's fused SGD kernel (``torch._fused_sgd_``, torch.optim.SGD(fused=True)) per
    (device, dtype); the kernel computes 1 - dampening in double and rounds each product once.
    momentum = 0 is the kernel's first step (buf <- g), which is this rule only for dampening = 0;
    callers route momentum = 0 with dampening != 0 elsewhere."""
    first = momentum == 0.0
    if first and dampening != 0.0:  # pragma: no cover - callers route this case elsewhere
        raise AssertionError("momentum 0 needs dampening 0")
    for b in _buckets(idx, xs):
        torch._fused_sgd_([xs[i] for i in b], [gs[i] for i in b], [bufs[i] for i in b], weight_decay=0.0,
                          momentum=1.0 if first else momentum, lr=lr, dampening=dampening, nesterov=False,
                          maximize=False, is_first_step=first)


def am_beta_inner(ee: Any, gg: Any, lam: Any, beta_max: Any, be: Any) -> tuple[Any, Any]:
    """AM's beta_t for ``delta="inner"`` from ||e||^2 and ||g||^2 alone (e = d - g): with
    Delta_t/eta = <g, d> = <e, g> + ||g||^2 and <e, d> = ||e||^2 + <e, g>, the numerator
    (1 + lam) <g, d> - <e, g> - lam <e, d> is (1 + lam) ||g||^2 - lam ||e||^2 [derived]: <e, g>
    cancels, so the foreach path skips that pass. Same clip and degenerate case (||e|| = 0:
    Delta_t/eta = ||g||^2 >= 0 gives beta_max) as :func:`am_beta_from_sums`, which it calls."""
    return am_beta_from_sums(ee, 0.0 * ee, ee, gg, lam, beta_max, be)


# --------------------------------------------------------------------------------------------
class DemonSGD(_PolyakOptimizer):
    """Demon SGDM: v' = beta_t v - lr (g + wd x), x' = x + v', beta_t Demon's schedule.

    See ``polyak.solvers.demon`` for the algorithm and its provenance (chen2019demon).

    Args:
        params: parameters or parameter groups.
        lr: step size eta (> 0 sensible; >= 0 accepted).
        beta_init: beta_0 in [0, 1) (default 0.9).
        T: decay horizon (beta_T = 0), >= 1 (default 1000); t0: delay (our formula), 0 <= t0 < T.
        weight_decay: L2 penalty added to the gradient.
    """

    rule_name = "demon-sgdm"
    lr_name = "eta"

    def _group_step(self, group, items, loss):
        for p, x, g in items:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["momentum_buffer"] = self._zeros(p)
            k = st["step"]
            beta = float(demon_beta(k, group["T"], group["beta_init"], group["t0"]))
            if group["weight_decay"]:
                g = g + group["weight_decay"] * x
            demon_sgdm_update(x, self._flat(st["momentum_buffer"]), g, group["lr"], beta, inplace=True)
            st["beta"] = beta
            st["step"] = k + 1


class DemonAdam(_PolyakOptimizer):
    """Demon Adam, ``variant="paper"`` (Algorithm 2 as printed, default), ``"port-ema"`` or ``"polyak"``.

    See ``polyak.solvers.demon`` for the two variants, their bias corrections and provenance.

    Args:
        lr, beta_init, T, t0, beta2, eps, weight_decay (decoupled), variant, first_moment and
        bias_correction (variant "polyak" only).
    """

    rule_name = "demon-adam"

    def _group_step(self, group, items, loss):
        for p, x, g in items:
            be = self._backend(p)
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = self._zeros(p)
                st["exp_avg_sq"] = self._zeros(p)
                st["beta_prod"] = 1.0
            k = st["step"]
            beta = float(demon_beta(k, group["T"], group["beta_init"], group["t0"]))
            var = group["variant"]
            m, v = adam_moments(self._flat(st["exp_avg"]), self._flat(st["exp_avg_sq"]), g, beta, group["beta2"],
                                dampened=demon_adam_dampened(var, group["first_moment"]), inplace=True)
            prod = st["beta_prod"] * beta
            bc1, bc2 = demon_adam_corrections(k, prod, group["beta2"], group["first_moment"], group["bias_correction"],
                                              var, beta)
            P = demon_adam_precond(v, bc2, group["eps"], var, be, inplace=True)
            adam_update(x, m, P, group["lr"], bc1, group["weight_decay"], inplace=True)
            st.update(beta_prod=prod, beta=beta, step=k + 1)


# --------------------------------------------------------------------------------------------
class AdaptiveHB(_PolyakOptimizer):
    """Adaptive heavy ball, SGD version: beta_k from the secant curvature estimate.

    A1 (default): x' = x - lr g + beta_k (x - x_prev), beta_k = clip((1 - sqrt(lr h_k))^2, 0, 1 - delta);
    A2: EMA form with ((1 - lr h_k)/(1 + lr h_k))^2. See ``polyak.solvers.adaptive_hb`` (sun2021adaptive).

    Args:
        lr, delta (in (0, 1); default 1e-2, the A2 group uses 1e-3), variant ("A1", "A2"),
        weight_decay (L2, added to the gradient), block ("tensor" default, or "global"), foreach
        (None/True: the multi-tensor path, default; False: the per-tensor loop).
    """

    rule_name = "adaptive-hb"
    default_block = "tensor"
    supports_foreach = True

    def _init_state(self, st: dict, p: Any, variant: str) -> None:
        st["step"] = 0
        st["dx"] = self._zeros(p)
        st["g_prev"] = self._zeros(p)
        if variant == "A2":
            st["d"] = self._zeros(p)
        st["beta"] = self._scalar(0.0, p)
        st["beta_raw"] = self._scalar(0.0, p)

    def _group_step(self, group, items, loss):
        lr, variant = group["lr"], group["variant"]
        grads, states = [], []
        for p, x, g in items:
            st = self.state[p]
            if not st:
                self._init_state(st, p, variant)
            if group["weight_decay"]:
                g = g + group["weight_decay"] * x
            grads.append(g)
            states.append(st)
        for idx in self._blocks_of(group, items):
            beta, raw = self._secant_beta(group, idx, items, states, grads, lr, variant)
            for i in idx:
                p, x, _ = items[i]
                st = states[i]
                d = self._flat(st["d"]) if variant == "A2" else None
                adaptive_hb_update(x, self._flat(st["dx"]), d, grads[i], lr, beta, variant, inplace=True)
                st["g_prev"].copy_(grads[i].view(p.shape))
                st.update(beta=beta, beta_raw=raw, step=st["step"] + 1)

    def _group_step_foreach(self, group, items, loss):
        lr, variant, wd = group["lr"], group["variant"], group["weight_decay"]
        states = []
        for p, _, _ in items:
            st = self.state[p]
            if not st:
                self._init_state(st, p, variant)
            states.append(st)
        xs = [x.view(-1) for _, x, _ in items]
        gs = [g.view(-1) for _, _, g in items]
        if wd:
            gs = torch._foreach_add(gs, xs, alpha=wd)
        dxs = [st["dx"].view(-1) for st in states]
        gps = [st["g_prev"].view(-1) for st in states]
        blocks = self._blocks_of(group, items)
        heads = [states[idx[0]] for idx in blocks]  # a block starts with its first tensor's step (as the loop)
        beta_prev = torch.cat([st["beta"].reshape(1) for st in heads])
        raw_prev = torch.cat([st["beta_raw"].reshape(1) for st in heads])
        started = [st["step"] > 0 for st in heads]
        if any(started):
            # ||dx_k||^2 is known when the last step's chunked A1 update summed it (and nothing moved dx since)
            known = [st["dx_sq"][1] if st.get("dx_sq") is not None and st["dx_sq"][0] == st["step"] else None for st in states]
            dg2, dx2 = _secant_reduce(gps, gs, dxs, known)  # and g_prev <- g_k (the sign of g_k - g_{k-1} does not enter)
            dg2, dx2 = _block_sums(dg2, blocks), _block_sums(dx2, blocks)
            be = self._backend(items[0][0])
            beta, raw = adaptive_hb_beta_from_sums(dg2, dx2, lr, group["delta"], variant, beta_prev, raw_prev, be)
            if not all(started):  # beta_0 = 0 is kept at a block's first step
                mask = torch.tensor(started, device=beta.device)
                beta, raw = torch.where(mask, beta, beta_prev), torch.where(mask, raw, raw_prev)
        else:
            beta, raw = beta_prev, raw_prev
            torch._foreach_copy_(gps, gs)
        ds = [st["d"].view(-1) for st in states] if variant == "A2" else None
        per = _per_tensor_values(beta.tolist(), len(items), blocks)  # one read-back per group and step
        for idx in blocks:  # one pass of the fused kernel per block (and dtype)
            bval = per[idx[0]]
            if variant == "A1":  # dx' = beta dx - lr g, x' = x + dx'
                if bval == 0.0:  # the kernel's momentum 0 is its first step (buf <- g): spelled out
                    for i in idx:
                        torch.mul(gs[i], -lr, out=dxs[i])
                    torch._foreach_add_([xs[i] for i in idx], [dxs[i] for i in idx])
                else:  # the kernel's buf = dx, coefficient 1 - (1 + lr) = -lr (to 2^-53), step -(-1) buf
                    small, large = _split([xs[i] for i in idx])
                    if small:
                        _fused_momentum(xs, gs, dxs, [idx[j] for j in small], bval, 1.0 + lr, -1.0)
                    for j in large:  # in chunks, each followed by its share of ||dx_{k+1}||^2 (dx still in L2)
                        i = idx[j]
                        a1 = _numba_a1 if _numba_ok(xs[i], gs[i], dxs[i]) else _fused_a1_chunked
                        states[i]["dx_sq"] = (states[i]["step"] + 1, a1(xs[i], gs[i], dxs[i], bval, lr))
            else:  # d' = beta d + (1 - beta) g, x' = x - lr d', dx' = -lr d'
                _fused_momentum(xs, gs, ds, idx, bval, bval, lr)
                for i in idx:
                    torch.mul(ds[i], -lr, out=dxs[i])
        bviews, rviews = beta.view(-1, 1, 1, 1).unbind(0), raw.view(-1, 1, 1, 1).unbind(0)
        for b, idx in enumerate(blocks):
            for i in idx:
                states[i].update(beta=bviews[b], beta_raw=rviews[b], step=states[i]["step"] + 1)


class AdaptiveHBAdam(_PolyakOptimizer):
    """Adaptive heavy ball, Adam version: Adam with beta1 replaced by beta_k each step.

    See ``polyak.solvers.adaptive_hb`` for the options (``metric``, ``bias_correction``) and why
    the defaults are what they are; they are [open] in the paper.

    Args:
        lr, delta, variant, beta2, eps, weight_decay (decoupled), metric ("euclidean" default,
        "preconditioned"), bias_correction ("exact", "current-beta"), block ("tensor", "global").
    """

    rule_name = "adaptive-hb-adam"
    default_block = "tensor"

    def _group_step(self, group, items, loss):
        lr, b2 = group["lr"], group["beta2"]
        Ps, states = [], []
        for p, x, g in items:
            be = self._backend(p)
            st = self.state[p]
            if not st:
                st["step"] = 0
                for key in ("dx", "exp_avg", "exp_avg_sq", "g_prev"):
                    st[key] = self._zeros(p)
                st["beta_prod"] = self._scalar(1.0, p)
                st["beta"] = self._scalar(0.0, p)
                st["beta_raw"] = self._scalar(0.0, p)
            k = st["step"]
            v = adam_second_moment(self._flat(st["exp_avg_sq"]), g, b2, inplace=True)
            Ps.append(adam_precond(v, 1.0 - b2 ** (k + 1), group["eps"], be, inplace=True))
            states.append(st)
        for idx in self._blocks_of(group, items):
            pre = Ps if group["metric"] == "preconditioned" else None
            beta, raw = self._secant_beta(group, idx, items, states, [it[2] for it in items], lr, group["variant"], pre)
            for i in idx:
                p, x, g = items[i]
                st = states[i]
                k = st["step"]
                m = ema(self._flat(st["exp_avg"]), g, beta, inplace=True)
                prod = st["beta_prod"] * beta
                bc1 = adaptive_hb_adam_bc1(k, beta, prod, group["bias_correction"])
                adaptive_hb_adam_step(x, self._flat(st["dx"]), m, Ps[i], lr, bc1, group["weight_decay"], inplace=True)
                st["g_prev"].copy_(g.view(p.shape))
                st.update(beta_prod=prod, beta=beta, beta_raw=raw, step=k + 1)


# --------------------------------------------------------------------------------------------
class _AMOptimizer(_PolyakOptimizer):
    adamw = False
    supports_foreach = True

    def _group_step(self, group, items, loss):
        lr, lam, kind = group["lr"], group["lam"], group["delta"]
        if kind == "loss-gap" and loss is None:
            raise ValueError(f"{type(self).__name__}: delta='loss-gap' needs step(closure) with a closure that returns the loss")
        f = None if loss is None else float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
        grads, dprev, Ps, states = [], [], [], []
        for p, x, g in items:
            be = self._backend(p)
            st = self.state[p]
            first = not st
            if first:
                st["step"] = 0
                st["f_prev"] = 0.0
                st["beta"] = self._scalar(0.0, p)
                st["d"] = self._zeros(p)
                if self.adamw:
                    st["exp_avg_sq"] = self._zeros(p)
            k = st["step"]
            if self.adamw:
                v = adam_second_moment(self._flat(st["exp_avg_sq"]), g, group["beta2"], inplace=True)
                Ps.append(adam_precond(v, 1.0 - group["beta2"] ** (k + 1), group["eps"], be, inplace=True))
            else:
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * x
                Ps.append(None)
            grads.append(g)
            d = self._flat(st["d"])
            if first:
                d.copy_(g)  # d_0 = g_0
            dprev.append(d)
            states.append(st)
        for idx in self._blocks_of(group, items):
            be = self._backend(items[idx[0]][0])
            st0 = states[idx[0]]
            sums = None
            for i in idx:
                s = am_sums(grads[i], dprev[i], be, Ps[i])
                sums = s if sums is None else tuple(a + b for a, b in zip(sums, s))
            ee, eg, ed, gd = sums
            f_now = 0.0 if f is None else f
            f_prev = f_now if st0["step"] == 0 else st0["f_prev"]
            doe = am_delta_over_eta(kind, gd, f_now, f_prev, lr)
            beta, _ = am_beta_from_sums(ee, eg, ed, doe, lam, group["beta_max"], be)
            for i in idx:
                p, x, _ = items[i]
                st = states[i]
                d = am_direction(dprev[i], grads[i], beta, lam, inplace=True)
                am_update(x, d, lr, group["weight_decay"] if self.adamw else 0.0, Ps[i], inplace=True)
                st.update(beta=beta, f_prev=f_now, step=st["step"] + 1)

    def _group_step_foreach(self, group, items, loss):
        lr, lam, kind, wd, bmax = group["lr"], group["lam"], group["delta"], group["weight_decay"], group["beta_max"]
        if kind == "loss-gap" and loss is None:
            raise ValueError(f"{type(self).__name__}: delta='loss-gap' needs step(closure) with a closure that returns the loss")
        f = None if loss is None else float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
        states, first = [], []
        for p, _, _ in items:
            st = self.state[p]
            first.append(not st)
            if not st:
                st["step"] = 0
                st["f_prev"] = 0.0
                st["beta"] = self._scalar(0.0, p)
                st["d"] = self._zeros(p)
                if self.adamw:
                    st["exp_avg_sq"] = self._zeros(p)
            states.append(st)
        xs = [x.view(-1) for _, x, _ in items]
        gs = [g.view(-1) for _, _, g in items]
        ds = [st["d"].view(-1) for st in states]
        if not self.adamw and wd:
            gs = torch._foreach_add(gs, xs, alpha=wd)
        if any(first):  # d_0 = g_0
            torch._foreach_copy_([ds[i] for i, a in enumerate(first) if a], [gs[i] for i, a in enumerate(first) if a])
        blocks = self._blocks_of(group, items)
        if self.adamw:
            b2 = group["beta2"]
            vs = [st["exp_avg_sq"].view(-1) for st in states]
            # P = sqrt(v) / sqrt(1 - beta2^(k+1)) + eps (torch's order), in buffers kept between steps:
            # fresh 10 MB temporaries cost page faults on every step
            Ps = [self._buffer(p, "P") for p, _, _ in items]
            bc2s = [1.0 - b2 ** (st["step"] + 1) for st in states]
            ee, other = _am_adam_reduce(vs, gs, ds, Ps, b2, bc2s, group["eps"], kind == "inner", self._scratch)
        else:
            ee, other = _am_reduce(ds, gs, kind == "inner")  # d holds e = d - g until the update
        ee = _block_sums(ee, blocks)
        if kind == "inner":
            gg = _block_sums(other, blocks)
        else:
            eg = _block_sums(other, blocks)
        be = self._backend(items[0][0])
        heads = [states[idx[0]] for idx in blocks]
        f_now = 0.0 if f is None else f
        if kind == "inner":
            beta, _ = am_beta_inner(ee, gg, lam, bmax, be)
        else:
            f_prev = torch.tensor([f_now if st["step"] == 0 else st["f_prev"] for st in heads], dtype=ee.dtype, device=ee.device)
            doe = am_delta_over_eta(kind, eg, f_now, f_prev, lr)
            beta, _ = am_beta_from_sums(ee, eg, ee + eg, doe, lam, bmax, be)
        c = (beta + lam) / (1.0 + lam)  # the heavy-ball weight of d
        per = _per_tensor_values(c.tolist(), len(items), blocks)  # one read-back per group and step
        if self.adamw:  # d' = c e + g, x' = x (1 - lr wd) - lr d' / P
            _am_adam_update(xs, gs, ds, Ps, per, lr, wd)
        else:  # d' = c e + g, x' = x - lr d': one pass of the fused kernel per block (and dtype)
            for idx in blocks:
                _fused_momentum(xs, gs, ds, idx, per[idx[0]], 0.0, lr)
        bviews = beta.view(-1, 1, 1, 1).unbind(0)
        for b, idx in enumerate(blocks):
            for i in idx:
                states[i].update(beta=bviews[b], f_prev=f_now, step=states[i]["step"] + 1)


class AMSGD(_AMOptimizer):
    """AM-SGD: d' = ((beta_t + lam) d + (1 - beta_t) g)/(1 + lam), x' = x - lr d', beta_t in closed form.

    See ``polyak.solvers.adaptive_memory`` for the closed form, the ``delta`` options and provenance
    (topollai2025adaptive).

    Args:
        lr (> 0), lam (>= 0, default 0.1), beta_max in [0, 1) (default 0.9), delta ("inner",
        "loss-gap", "zero"), weight_decay (L2), block ("global" default, or "tensor"), foreach
        (None/True: the multi-tensor path, default; False: the per-tensor loop).
    """

    rule_name = "am-sgd"
    default_block = "global"


class AMAdamW(_AMOptimizer):
    """AM-AdamW: Adaptive Memory in Adam's metric, decoupled weight decay, beta_max = 0.89.

    Args:
        lr (> 0), lam, beta_max (default 0.89), delta, beta2, eps, weight_decay (decoupled, 1e-2),
        block ("tensor" default, as the code; or "global"), foreach (None/True: the multi-tensor
        path, which keeps Adam's P in one work array per parameter; False: the per-tensor loop).
    """

    rule_name = "am-adamw"
    default_block = "tensor"
    adamw = True
