"""Shared helpers for the papers' methods tests: a small MLP and an engine driver on its gradients."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def make_mlp(seed: int = 0, sizes=(2, 16, 3), dtype=None):
    """A small tanh MLP with deterministic weights (float64 by default)."""
    dtype = dtype or torch.float64
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = torch.nn.Linear(a, b).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen, dtype=dtype) / a ** 0.5)
            lin.bias.copy_(0.1 * torch.randn(b, generator=gen, dtype=dtype))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def blobs(n: int = 256, seed: int = 0, dtype=None, classes: int = 3):
    """A synthetic classification task: 3 Gaussian blobs on a circle in 2-D, with overlap."""
    dtype = dtype or torch.float64
    gen = torch.Generator().manual_seed(1000 + seed)
    y = torch.randint(0, classes, (n,), generator=gen)
    angle = 2 * np.pi * y.to(dtype) / classes
    centers = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    X = centers + 0.6 * torch.randn(n, 2, generator=gen, dtype=dtype)
    return X, y


def flat_params(model) -> np.ndarray:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy().copy()


def set_flat(model, x: np.ndarray) -> None:
    i = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            p.copy_(torch.as_tensor(x[i:i + n]).reshape(p.shape))
            i += n


class FixedOracle:
    """The oracle an engine step sees: a precomputed gradient slice and loss."""

    def __init__(self, g: np.ndarray, f: float):
        self.g, self.fv = g, f

    def grad(self, X):
        return self.g.reshape(X.shape)

    def f(self, X):
        return np.full(X.shape[:2], self.fv)


class EngineOnMLP:
    """Runs an engine method rule on the flat parameters of ``model`` (numpy float64), one engine
    state per partition block: ``"global"`` (one block, the concatenated vector) or ``"tensor"``
    (one block per parameter tensor; the gradient is computed once per step at the full point)."""

    def __init__(self, method, model, loss_fn, partition: str = "global"):
        from polyak.solvers import get_backend

        self.method, self.model, self.loss_fn = method, model, loss_fn
        self.be = get_backend("numpy")
        sizes = [p.numel() for p in model.parameters()]
        if partition == "global":
            bounds = [(0, sum(sizes))]
        else:
            edges = np.cumsum([0] + sizes)
            bounds = list(zip(edges[:-1], edges[1:]))
        self.bounds = bounds
        self.h = {k: (np.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in method.hyper.items()}
        x = flat_params(model)
        self.states = [method.rule.init(x[a:b].reshape(1, 1, -1), self.h, self.be) for a, b in bounds]
        self.k = 0

    def x(self) -> np.ndarray:
        return np.concatenate([s.x.reshape(-1) for s in self.states])

    def step(self) -> None:
        set_flat(self.model, self.x())
        self.model.zero_grad()
        loss = self.loss_fn(self.model)
        loss.backward()
        g = torch.cat([p.grad.reshape(-1) for p in self.model.parameters()]).numpy().copy()
        f = float(loss.detach())
        self.states = [
            self.method.rule.step(s, FixedOracle(g[a:b], f), self.k, self.h, self.be) for s, (a, b) in zip(self.states, self.bounds)
        ]
        self.k += 1


def rings(n: int = 256, seed: int = 0, dtype=None):
    """A synthetic 3-class task: concentric rings of radii 0.5, 1.5, 2.5 (noise 0.15), not linearly separable."""
    dtype = dtype or torch.float64
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    th = 2 * np.pi * torch.rand(n, generator=gen, dtype=dtype)
    r = 0.5 + y.to(dtype) + 0.15 * torch.randn(n, generator=gen, dtype=dtype)
    return torch.stack([r * torch.cos(th), r * torch.sin(th)], 1), y


def run_rule(method, problem, steps: int, x0=None):
    """Run a method's rule by hand on a problem (numpy backend); returns the list of states."""
    from polyak.solvers import get_backend

    be = get_backend("numpy")
    bound = problem.bind(be)
    h = dict(method.hyper)
    X = problem.x0[:, None, :] if x0 is None else np.broadcast_to(np.asarray(x0, float), (problem.batch, 1, problem.dim)).copy()
    s = method.rule.init(X, h, be)
    states = [s]
    for k in range(steps):
        s = method.rule.step(s, bound, k, h, be)
        states.append(s)
    return states
