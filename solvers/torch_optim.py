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
            if items:
                self._group_step(group, items, loss)
        return loss

    def _group_step(self, group: dict, items: list, loss: Any) -> None:  # pragma: no cover
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
        weight_decay (L2, added to the gradient), block ("tensor" default, or "global").
    """

    rule_name = "adaptive-hb"
    default_block = "tensor"

    def _group_step(self, group, items, loss):
        lr, variant = group["lr"], group["variant"]
        grads, states = [], []
        for p, x, g in items:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["dx"] = self._zeros(p)
                st["g_prev"] = self._zeros(p)
                if variant == "A2":
                    st["d"] = self._zeros(p)
                st["beta"] = self._scalar(0.0, p)
                st["beta_raw"] = self._scalar(0.0, p)
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


class AMSGD(_AMOptimizer):
    """AM-SGD: d' = ((beta_t + lam) d + (1 - beta_t) g)/(1 + lam), x' = x - lr d', beta_t in closed form.

    See ``polyak.solvers.adaptive_memory`` for the closed form, the ``delta`` options and provenance
    (topollai2025adaptive).

    Args:
        lr (> 0), lam (>= 0, default 0.1), beta_max in [0, 1) (default 0.9), delta ("inner",
        "loss-gap", "zero"), weight_decay (L2), block ("global" default, or "tensor").
    """

    rule_name = "am-sgd"
    default_block = "global"


class AMAdamW(_AMOptimizer):
    """AM-AdamW: Adaptive Memory in Adam's metric, decoupled weight decay, beta_max = 0.89.

    Args:
        lr (> 0), lam, beta_max (default 0.89), delta, beta2, eps, weight_decay (decoupled, 1e-2),
        block ("tensor" default, as the code; or "global").
    """

    rule_name = "am-adamw"
    default_block = "tensor"
    adamw = True
