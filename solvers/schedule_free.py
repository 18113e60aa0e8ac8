"""Schedule-free SGD (Defazio et al. 2024), as the ``schedulefree`` package's reference SGD.

Algorithm [paper; code: schedulefree.SGDScheduleFreeReference], with y_0 = z_0 = x_0:
    lr_k = lr * min(1, (k+1)/warmup_steps);   w_k = (k+1)^r * (max_{j<=k} lr_j)^weight_lr_power
    c_{k+1} = w_k / sum_{j<=k} w_j
    z_{k+1} = z_k - lr_k (grad f(y_k) + wd y_k)
    x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1}
    y_{k+1} = b x_{k+1} + (1 - b) z_{k+1}

The measured iterate is the average x. With b = 1 (gradients at x) and a constant step it is SPA
with c_{k+1} = 1/(k+1): primal averaging (papers.md). ``beta`` records the SPA-form momentum of
x, c_{k+1}(1 - c_k)/c_k. References: defazio2024, defazio2020.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .base import MethodRule, Param
from .registry import register_method


class SFState(NamedTuple):
    x: Any
    z: Any
    y: Any
    weight_sum: Any
    lr_max: Any
    c_prev: Any
    beta: Any


@register_method
class ScheduleFreeSGD(MethodRule):
    name = "schedule-free"
    title = "schedule-free SGD"
    params = (
        Param("lr", 1.0, "learning rate gamma", lo=0.0),
        Param("b", 0.9, "interpolation y = b x + (1 - b) z (schedulefree's momentum)", lo=0.0, hi=1.0),
        Param("weight_decay", 0.0, "L2 penalty at y", lo=0.0),
        Param("warmup_steps", 0, "linear warmup steps", kind="int", lo=0.0),
        Param("r", 0.0, "polynomial weighting power", lo=0.0, schedulable=False),
        Param("weight_lr_power", 2.0, "power of lr_max in the averaging weights", lo=0.0, schedulable=False),
    )

    def init(self, x0, h, be):
        z1 = be.zeros_like(x0[..., :1])
        return SFState(x0, x0, x0, z1, z1 - 1.0, z1 + 1.0, z1)

    def step(self, s, oracle, k, h, be):
        warm = h["warmup_steps"]
        lr = h["lr"] * (min(1.0, (k + 1) / warm) if warm > 0 else 1.0)
        lr_max = be.maximum(s.lr_max, lr + 0.0 * s.lr_max)
        weight = float(k + 1) ** h["r"] * lr_max ** h["weight_lr_power"]
        weight_sum = s.weight_sum + weight
        c = be.where(weight_sum > 0, weight / be.where(weight_sum > 0, weight_sum, 1.0), 0.0)
        g = oracle.grad(s.y) + h["weight_decay"] * s.y
        z = s.z - lr * g
        x = (1.0 - c) * s.x + c * z
        b = h["b"]
        y = b * x + (1.0 - b) * z
        beta = be.where(s.c_prev > 0, c * (1.0 - s.c_prev) / be.where(s.c_prev > 0, s.c_prev, 1.0), 0.0)
        return SFState(x, z, y, weight_sum, lr_max, c, beta)
