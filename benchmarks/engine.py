"""Engine benchmark: heavy ball on B = 1024 eigenbasis quadratics of d = 1000 for 1000 steps.

Compared in one process (ratios, not absolute times, are the result):
  (a) polyak's engine, ``simulate`` with records only at the end, and (a') recording every step
      (distance, f, gradient norm, beta: the record reuses the gradient the step computes);
      then fused=True (the iteration-matrix kernel of solvers/kernels.py) and one block of runs;
  (b) what a user would otherwise write: a Python loop stepping ``torch.optim.SGD`` once per problem
      (timed on a subset of problems and steps, reported per problem-step, then scaled to the batch);
  (c) a bare vectorised numpy loop doing only the arithmetic of the same steps;
  (m) the memory bound: the bytes a heavy-ball step must move (read x, x_prev, the eigenvalues,
      write x: 4 arrays of B x d float64) at the bandwidth of ``np.add(x, y, out=z)`` on arrays of
      the same size, measured here (3 arrays per add);
And with a dense Hessian shared by the batch: the engine against the bare matrix product per step.

Times are CPU seconds of this process (``time.process_time``, best of ``--repeat``): on a machine
shared with other jobs they are far more stable than wall time (both are printed); torch runs on one
thread so that its CPU time is comparable. The load average is printed next to them.

Usage: python benchmarks/engine.py [--quick] [--backend numpy|torch] [--device cuda] [--steps T]
Writes a JSON summary to stdout; BENCHMARKS.md records the numbers with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import polyak


def best_of(fn, repeat=3):
    """(best CPU seconds, best wall seconds) of ``repeat`` calls (progress on stderr)."""
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    print(f"  {getattr(fn, '__name__', 'fn')}: cpu {min(cpu):.3f} s, wall {min(wall):.3f} s", file=sys.stderr, flush=True)
    return min(cpu), min(wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--device", default=None)
    ap.add_argument("--steps", type=int, default=None, help="steps (default 1000; --quick 100)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dense-steps", type=int, default=None, help="steps of the dense case (default 100; --quick 20)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    B, d, T = (128, 200, 100) if args.quick else (1024, 1000, 1000)
    T = args.steps or T
    mu, L = 1.0, 100.0
    alpha = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2
    load0 = os.getloadavg()

    problem = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", instances=B, seed=0)
    method = polyak.make_method("hb", alpha=alpha, beta=beta)
    lam = problem.eigenvalues
    x0 = problem.x0
    be_kw = dict(backend=args.backend, device=args.device)
    rep = args.repeat

    # (m) the memory bound, from a 3-array add of the same arrays
    xa, ya, za = np.random.default_rng(0).standard_normal((3, B, d))
    add_cpu, add_wall = best_of(lambda: [np.add(xa, ya, out=za) for _ in range(50)], rep)
    add_cpu, add_wall = add_cpu / 50, add_wall / 50
    bytes_add = 3 * B * d * 8
    bytes_step = 4 * B * d * 8  # read x, x_prev, eigenvalues; write x (x* = 0)
    bandwidth = bytes_add / add_cpu
    t_bound = bytes_step / bandwidth * T

    # (a) engine
    t_engine = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, **be_kw), rep)
    t_engine_rec = best_of(lambda: polyak.simulate(method, problem, T, record_every=1, **be_kw), rep)
    t_fused = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, fused=True, **be_kw), rep)
    t_engine_one = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, block_size=float("inf"),
                                                    **be_kw), 1)

    # (c) bare numpy arithmetic
    def bare():
        x, xp = x0.copy(), x0.copy()
        for _ in range(T):
            g = lam * x
            x, xp = x - alpha * g + beta * (x - xp), x
        return x

    t_bare = best_of(bare, rep)
    ref = polyak.simulate(method, problem, T, record_every=T)
    assert np.allclose(ref.x_final[:, 0], bare(), rtol=0, atol=1e-12), "engine and bare loop disagree"

    # (b) a Python loop of torch.optim.SGD, one optimizer per problem (subset, per problem-step)
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

    t_torch_sub = best_of(torch_loop, 1)
    scale = (B / nb) * (T / Tb)
    t_torch = (t_torch_sub[0] * scale, t_torch_sub[1] * scale)

    # dense Hessian shared by the batch: B runs (a grid of B step sizes) on one random-basis quadratic
    Td = args.dense_steps or (20 if args.quick else 100)
    dense = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", basis="random", seed=1)
    grid = polyak.make_method("hb", alpha=alpha * np.linspace(0.5, 1.0, B), beta=beta)
    t_dense = best_of(lambda: polyak.simulate(grid, dense, Td, record_every=Td, **be_kw), rep)
    A = dense.hessian[0]
    X = np.broadcast_to(dense.x0, (B, d)).copy()

    def bare_matmul():
        for _ in range(Td):
            X @ A

    t_mm = best_of(bare_matmul, rep)
    load1 = os.getloadavg()

    def pair(t):
        return {"cpu": t[0], "wall": t[1]}

    out = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                    "load_average_before": load0, "load_average_after": load1},
        "sizes": {"B": B, "d": d, "steps": T, "dense_steps": Td, "torch_loop_subset": [nb, Tb]},
        "bandwidth": {"add_GBps": bandwidth / 1e9, "bytes_per_step": bytes_step,
                      "bound_ms_per_step": t_bound / T * 1e3},
        "seconds": {"engine": pair(t_engine), "engine_record_every_step": pair(t_engine_rec),
                    "engine_one_block": pair(t_engine_one), "engine_fused": pair(t_fused), "bare_numpy": pair(t_bare),
                    "memory_bound": t_bound, "torch_loop_scaled": pair(t_torch), "dense_engine": pair(t_dense),
                    "dense_bare_matmul": pair(t_mm)},
        "ratios (CPU time)": {
            "engine_over_memory_bound": t_engine[0] / t_bound,
            "fused_over_memory_bound": t_fused[0] / t_bound,
            "torch_loop_over_fused": t_torch[0] / t_fused[0],
            "torch_loop_over_engine": t_torch[0] / t_engine[0],
            "engine_over_bare": t_engine[0] / t_bare[0],
            "record_every_step_over_no_record": t_engine_rec[0] / t_engine[0],
            "one_block_over_blocks": t_engine_one[0] / t_engine[0],
            "bare_over_memory_bound": t_bare[0] / t_bound,
            "dense_engine_over_matmul": t_dense[0] / t_mm[0],
        },
        "backend": args.backend,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
