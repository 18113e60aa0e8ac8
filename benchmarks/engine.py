"""Engine benchmark: heavy ball on B = 1024 eigenbasis quadratics of d = 1000 for 1000 steps.

Compared in one process (ratios, not absolute times, are the result):
  (a) polyak's engine, ``simulate`` with records only at the end (and, for information, every step);
  (b) what a user would otherwise write: a Python loop stepping ``torch.optim.SGD`` once per problem
      (timed on a subset of problems and steps, reported per problem-step, then scaled to the batch);
  (c) a bare vectorised numpy loop doing only the arithmetic of the same steps.
And with a dense Hessian shared by the batch: the engine against the bare matrix product per step.

Usage: python benchmarks/engine.py [--quick] [--backend numpy|torch] [--device cuda]
Writes a JSON summary to stdout; BENCHMARKS.md records the numbers with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import polyak


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    B, d, T = (128, 200, 100) if args.quick else (1024, 1000, 1000)
    mu, L = 1.0, 100.0
    alpha = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2

    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", instances=B, seed=0)
    method = polyak.make_method("hb", alpha=alpha, beta=beta)
    lam = problem.eigenvalues
    x0 = problem.x0
    be_kw = dict(backend=args.backend, device=args.device)

    # (a) engine
    t_engine = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, **be_kw))
    t_engine_rec = best_of(lambda: polyak.simulate(method, problem, T, record_every=1, **be_kw), repeat=1)

    # (c) bare numpy arithmetic
    def bare():
        x, xp = x0.copy(), x0.copy()
        for _ in range(T):
            g = lam * x
            x, xp = x - alpha * g + beta * (x - xp), x
        return x

    t_bare = best_of(bare)
    ref = polyak.simulate(method, problem, T, record_every=T)
    assert np.allclose(ref.x_final[:, 0], bare(), rtol=0, atol=1e-12), "engine and bare loop disagree"

    # (b) a Python loop of torch.optim.SGD, one optimizer per problem (subset, per problem-step)
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    nb, Tb = (8, 50) if args.quick else (16, 200)
    lam_t = torch.tensor(lam[:nb])

    def torch_loop():
        for i in range(nb):
            p = torch.nn.Parameter(torch.tensor(x0[i]))
            opt = torch.optim.SGD([p], lr=alpha, momentum=beta)
            for _ in range(Tb):
                opt.zero_grad(set_to_none=True)
                p.grad = lam_t[i] * p.detach()
                opt.step()

    t_torch_sub = best_of(torch_loop, repeat=1)
    t_torch = t_torch_sub * (B / nb) * (T / Tb)

    # dense Hessian shared by the batch: B runs (a grid of B step sizes) on one random-basis quadratic
    Td = 20 if args.quick else 100
    dense = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", basis="random", seed=1)
    grid = polyak.make_method("hb", alpha=alpha * np.linspace(0.5, 1.0, B), beta=beta)
    t_dense = best_of(lambda: polyak.simulate(grid, dense, Td, record_every=Td, **be_kw))
    A = dense.hessian[0]
    X = np.broadcast_to(dense.x0, (B, d)).copy()

    def bare_matmul():
        for _ in range(Td):
            X @ A

    t_mm = best_of(bare_matmul)

    out = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__},
        "sizes": {"B": B, "d": d, "steps": T, "dense_steps": Td, "torch_loop_subset": [nb, Tb]},
        "seconds": {"engine": t_engine, "engine_record_every_step": t_engine_rec, "bare_numpy": t_bare,
                    "torch_loop_scaled": t_torch, "dense_engine": t_dense, "dense_bare_matmul": t_mm},
        "ratios": {"torch_loop_over_engine": t_torch / t_engine, "engine_over_bare": t_engine / t_bare,
                   "engine_recording_over_bare": t_engine_rec / t_bare, "dense_engine_over_matmul": t_dense / t_mm},
        "backend": args.backend,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
