"""The papers' optimizers for torch users: ``from polyak.optim import DemonSGD, AdaptiveHB, ...``.

Drop-in ``torch.optim.Optimizer`` classes (they share the step rules of the simulation engine;
see :mod:`polyak.solvers.torch_optim` for the details): :class:`DemonSGD`, :class:`DemonAdam`
(Chen et al. 2019, decaying momentum), :class:`AdaptiveHB`, :class:`AdaptiveHBAdam` (Sun et al.
2021, adaptive heavy ball), :class:`AMSGD`, :class:`AMAdamW` (Topollai and Choromanska 2025,
Adaptive Memory). torch is imported only when one of them is first used; without torch the
import raises an ImportError that says how to install it (``pip install "polyak[torch]"``).

>>> import torch
>>> from polyak.optim import DemonSGD
>>> model = torch.nn.Linear(3, 1)
>>> opt = DemonSGD(model.parameters(), lr=0.1, beta_init=0.9, T=100)
>>> loss = model(torch.ones(2, 3)).pow(2).mean(); loss.backward(); opt.step()
>>> round(opt.state[model.weight]["beta"], 6)  # beta_0 = beta_init
0.9
"""

from __future__ import annotations

__all__ = ["DemonSGD", "DemonAdam", "AdaptiveHB", "AdaptiveHBAdam", "AMSGD", "AMAdamW"]


def __getattr__(name: str):
    if name in __all__:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ImportError(
                f"polyak.optim.{name} needs torch, which is not installed; install it with "
                f'pip install "polyak[torch]" (pins torch==2.13.0, CPU build)') from None
        from polyak.solvers import torch_optim

        value = getattr(torch_optim, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'polyak.optim' has no attribute {name!r}")


def __dir__():
    return __all__
