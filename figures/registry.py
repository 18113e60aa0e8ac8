"""The registry of figure recipes.

A recipe is a :class:`Figure`: ``compute(config) -> data`` (a dict of numpy arrays, cached as
``.npz`` with a JSON sidecar by :mod:`polyak.figures.io`) and ``plot(data, axes)`` (draws on the
axes the recipe asked for; no computation). ``config`` is the full configuration; ``fast`` holds the
overrides of the fast mode (``polyak figures --fast``, CI). Each recipe lives in its own module
and registers itself with :func:`register`.

>>> from polyak.figures import names
>>> "rate_vs_kappa" in names()
True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

Data = dict[str, np.ndarray]

#: the recipe modules, in the order figures are listed and drawn
MODULES = (
    "rate_vs_kappa",
    "hb_transient",
    "hb_region",
    "lessard_cycle",
    "demon_schedule",
    "spa_vs_hb",
    "adaptive_hb_beta",
    "adaptive_memory",
    "noisy_quadratic",
    "spa_lyapunov",
    "schedule_free_heatmap",
)


@dataclass(frozen=True)
class Figure:
    """A figure recipe.

    Attributes:
        name: identifier (file stem and CLI name).
        title: one line saying what the figure shows.
        compute: ``compute(config) -> dict`` of numpy arrays (numbers become 0-d arrays).
        plot: ``plot(data, axes)``; ``axes`` is a 2-D numpy array of Axes of shape ``panels``.
        config: the default (full) configuration, JSON-serialisable.
        fast: overrides applied in fast mode.
        panels: (rows, columns) of axes.
        size: figure size in inches.
        seed: the seed recorded in the sidecar (recipes that draw noise pass it to ``simulate``).
    """

    name: str
    title: str
    compute: Callable[[Mapping[str, Any]], Data]
    plot: Callable[[Data, Any], None]
    config: Mapping[str, Any]
    fast: Mapping[str, Any] = field(default_factory=dict)
    panels: tuple[int, int] = (1, 1)
    size: tuple[float, float] = (6.4, 4.2)
    seed: int = 0

    def resolve(self, fast: bool = False, **overrides: Any) -> dict[str, Any]:
        """The configuration used: defaults, then the fast overrides, then ``overrides``."""
        cfg = dict(self.config)
        if fast:
            cfg.update(self.fast)
        unknown = sorted(set(overrides) - set(cfg))
        if unknown:
            raise ValueError(f"figure {self.name!r}: unknown config key(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(sorted(cfg))}")
        cfg.update(overrides)
        cfg["seed"] = cfg.get("seed", self.seed)
        return cfg


_REGISTRY: dict[str, Figure] = {}


def register(name: str, title: str, *, config: Mapping[str, Any], fast: Mapping[str, Any] | None = None,
             panels: tuple[int, int] = (1, 1), size: tuple[float, float] = (6.4, 4.2), seed: int = 0,
             plot: Callable[[Data, Any], None]) -> Callable[[Callable], Callable]:
    """Decorator for a ``compute`` function: registers ``Figure(name, title, compute, plot, ...)``."""

    def deco(compute: Callable[[Mapping[str, Any]], Data]) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"figure {name!r} is registered twice")
        _REGISTRY[name] = Figure(name, title, compute, plot, dict(config), dict(fast or {}), panels, size, seed)
        return compute

    return deco


def _load_all() -> None:
    for mod in MODULES:
        importlib.import_module(f"polyak.figures.{mod}")


def names() -> list[str]:
    """Registered figure names, in drawing order."""
    _load_all()
    order = {m: i for i, m in enumerate(MODULES)}
    return sorted(_REGISTRY, key=lambda n: (order.get(n, len(order)), n))


def get(name: str) -> Figure:
    """The recipe called ``name``; ValueError naming the valid ones otherwise."""
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown figure {name!r}; valid figures: {', '.join(names())}")
    return _REGISTRY[name]
