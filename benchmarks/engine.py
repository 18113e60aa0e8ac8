"""Engine benchmark: heavy ball on B = 1024 eigenbasis quadratics of d = 1000 for 1000 steps.

Compared in one process (ratios, not absolute times, are the result):
  (m) the memory bound: the bytes a heavy-ball step must move (read x, x_prev, the eigenvalues,
      write x: 4 arrays of B x d float64) at the bandwidth of ``np.add(x, y, out=z)`` on arrays of
      the same size, measured here (3 arrays per add);
  (a) polyak's engine as a user calls it, ``simulate`` with records only at the end: the default,
      which on an eigenbasis quadratic is the in-place iteration-matrix kernel (compiled with
      numba when ``polyak[fast]`` is installed, else the numpy kernel), and (a') recording every
      step (distance, f, gradient norm, beta); the same with the numpy kernel forced
      (``kernels.USE_NUMBA = False``); the method's own step (``fused=False``, the general path
      every other method takes) and one block of it;
  (u) a user-defined linear method (``@polyak.linear_method``, a heavy ball with a gradient at an
      extrapolated point, the same bytes per step) with the default and with its own step;
  (g) a grid of 16 step sizes on B/16 problems (the same number of runs; the eigenvalues are read
      once per problem, so its bound is 3 arrays plus 1/16), default and own step;
  (b) what a user would otherwise write: a Python loop stepping ``torch.optim.SGD`` once per problem
      (timed on a subset of problems and steps, reported per problem-step, then scaled to the batch);
  (c) a bare vectorised numpy loop doing only the arithmetic of the same steps;
  (k) the kernel choice: one heavy-ball step on the same arrays written with numexpr (if
      installed), blocked numpy with ``out=``, torch CPU in place, and numba, each per step over
      the memory bound;
And with a dense Hessian shared by the batch: the engine against the bare matrix product per step.

Times are CPU seconds of this process (``time.process_time``, best of ``--repeat``): on a machine
shared with other jobs they are far more stable than wall time (both are printed); torch, numexpr
and BLAS run on one thread so that CPU time is comparable. The load average is printed next to them.
Every ratio in the JSON's "ratios (CPU time)" is named ``X_over_Y`` (X's CPU time divided by Y's);
"targets" says which ratio each target of issue 12 is about and whether it is met in this run.

With ``--backend torch`` the engine is the torch backend's default (the in-place fused kernel)
and the JSON's "torch" section adds, in the same process: the memory bound measured with
``torch.add`` on the device, bare torch loops (out of place and in place), and the engine, the
method's own step and recording every step against them (on CUDA in synchronised wall time).

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


#: called after each timed call (torch.cuda.synchronize on a CUDA device: kernels run asynchronously)
SYNC = [lambda: None]


def best_of(fn, repeat=3):
    """(best CPU seconds, best wall seconds) of ``repeat`` calls (progress on stderr)."""
    cpu, wall = [], []
    for _ in range(repeat):
        SYNC[0]()
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        SYNC[0]()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    print(f"  {getattr(fn, '__name__', 'fn')}: cpu {min(cpu):.3f} s, wall {min(wall):.3f} s", file=sys.stderr, flush=True)
    return min(cpu), min(wall)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict:
    out = {}
    for name in ("numba", "numexpr"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    return out


def kernel_choice(lam: np.ndarray, alpha: float, beta: float, repeat: int) -> dict:
    """ms per heavy-ball step ``x_new = T00 x - beta x_prev`` (T00 = 1 + beta - alpha lam) on the
    benchmark's arrays, written with each candidate: numexpr (one call), numpy blocked with out=
    (3 calls per 16 rows), torch CPU in place (``x_prev.mul_(-beta).addcmul_(T00, x)``), numba."""
    B, d = lam.shape
    rng = np.random.default_rng(1)
    x, xp = rng.standard_normal((2, B, d))
    T00 = 1 + beta - alpha * lam
    n = 20

    def per_step(fn):
        fn()
        c, _ = best_of(lambda: [fn() for _ in range(n)], repeat)
        return c / n * 1e3

    out = {}
    try:
        import numexpr

        numexpr.set_num_threads(1)
        out["numexpr"] = per_step(lambda: numexpr.evaluate("T00 * x + nb * xp", out=xp,
                                                          local_dict=dict(T00=T00, x=x, nb=-beta, xp=xp)))
    except ImportError:
        out["numexpr"] = None
    rows = 16
    tmp = np.empty((rows, d))
    views = [(T00[i:i + rows], x[i:i + rows], xp[i:i + rows]) for i in range(0, B, rows)]

    def blocked():
        for t0, xs, xps in views:
            np.multiply(xps, -beta, out=xps)
            np.multiply(t0, xs, out=tmp[: len(xs)])
            np.add(xps, tmp[: len(xs)], out=xps)

    out["numpy_blocked_out"] = per_step(blocked)
    import torch

    X, XP, TT = (torch.from_numpy(a) for a in (x, xp, T00))
    out["torch_cpu_in_place"] = per_step(lambda: XP.mul_(-beta).addcmul_(TT, X))
    try:
        import numba

        @numba.njit(fastmath={"reassoc", "contract", "nsz"})
        def step(t0, x, xp, nb):
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    xp[i, j] = t0[i, j] * x[i, j] + nb * xp[i, j]

        out["numba"] = per_step(lambda: step(T00, x, xp, -beta))
    except ImportError:
        out["numba"] = None
    return out


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

    # (t) torch: the memory bound from a 3-array torch.add of the same arrays on the device, and bare
    # torch loops of the same arithmetic (out of place, as a user writes it; in place, 2 kernels a step)
    tb = None
    if args.backend == "torch":
        dev = args.device or "cpu"
        cuda = str(dev).startswith("cuda")
        if cuda:
            SYNC[0] = torch.cuda.synchronize
        clock = 1 if cuda else 0  # CUDA: wall time (the CPU only queues kernels); CPU: CPU time
        ta, tb_, tc = (torch.as_tensor(a, device=dev) for a in (xa, ya, za))
        t_tadd = best_of(lambda: [torch.add(ta, tb_, out=tc) for _ in range(50)], rep)
        t_tadd = (t_tadd[0] / 50, t_tadd[1] / 50)
        tbw = bytes_add / t_tadd[clock]
        lam_t = torch.as_tensor(lam, device=dev)
        x0_t = torch.as_tensor(x0, device=dev)
        T00_t = 1 + beta - alpha * lam_t

        def bare_torch():
            x, xp = x0_t.clone(), x0_t.clone()
            for _ in range(T):
                g = lam_t * x
                x, xp = x - alpha * g + beta * (x - xp), x
            return x

        def bare_torch_in_place():
            x, xp = x0_t.clone(), x0_t.clone()
            for _ in range(T):
                xp.mul_(-beta).addcmul_(T00_t, x)
                x, xp = xp, x
            return x

        t_bare_t = best_of(bare_torch, rep)
        t_bare_ti = best_of(bare_torch_in_place, rep)
        tb = {"clock": "wall (CUDA)" if cuda else "cpu", "add_GBps": tbw / 1e9,
              "memory_bound_s": bytes_step / tbw * T, "bare_torch": t_bare_t, "bare_torch_in_place": t_bare_ti,
              "i": clock}

    # (a) engine: the default (compiled kernel when numba is installed), then the numpy kernel
    from polyak.solvers import kernels

    compiled = kernels.numba_wanted(B * d, "float64", T) and args.backend == "numpy"
    polyak.simulate(method, problem, 2, record_every=1, **be_kw)  # compile (once per machine: disk cache)
    t_engine = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, **be_kw), rep)
    t_engine_rec = best_of(lambda: polyak.simulate(method, problem, T, record_every=1, **be_kw), rep)
    kernels.USE_NUMBA = False
    t_np = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, **be_kw), rep)
    t_np_rec = best_of(lambda: polyak.simulate(method, problem, T, record_every=1, **be_kw), rep)
    kernels.USE_NUMBA = "auto"
    t_own = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, fused=False, **be_kw), rep)
    t_own_rec = best_of(lambda: polyak.simulate(method, problem, T, record_every=1, fused=False, **be_kw), 1)
    t_engine_one = best_of(lambda: polyak.simulate(method, problem, T, record_every=T, block_size=float("inf"),
                                                    fused=False, **be_kw), 1)

    # (u) a user-defined linear method: heavy ball with its gradient at x + gamma (x - x_prev)
    @polyak.linear_method(alpha=alpha, beta=beta, gamma=0.05, register=False)
    def user_hb(x, x_prev, grad, *, alpha, beta, gamma):
        return x - alpha * grad(x + gamma * (x - x_prev)) + beta * (x - x_prev), x

    user = user_hb(alpha=alpha * 0.9, beta=beta, gamma=0.05)  # spectral radius 0.874 on [1, 100]
    polyak.simulate(user, problem, 2, record_every=1, **be_kw)
    t_user = best_of(lambda: polyak.simulate(user, problem, T, record_every=T, **be_kw), rep)
    t_user_rec = best_of(lambda: polyak.simulate(user, problem, T, record_every=1, **be_kw), rep)
    t_user_own = best_of(lambda: polyak.simulate(user, problem, T, record_every=T, fused=False, **be_kw), 1)
    a_user = polyak.simulate(user, problem, T, record_every=T, **be_kw)
    b_user = polyak.simulate(user, problem, T, record_every=T, fused=False, **be_kw)
    scale = np.abs(x0).max()
    assert np.abs(a_user.x_final - b_user.x_final).max() <= 1e-12 * scale, "user method: kernel and own step disagree"

    # (g) a grid: 16 step sizes x B/16 problems (the same number of runs), one call
    Pg, Hg = max(1, B // 16), 16
    gprob = polyak.make_problem("quadratic", mu=mu, L=L, dim=d, spectrum="uniform", instances=Pg, seed=2)
    gmeth = polyak.make_method("hb", alpha=alpha * np.linspace(0.5, 1.0, Hg), beta=beta)
    polyak.simulate(gmeth, gprob, 2, record_every=1, **be_kw)
    t_grid = best_of(lambda: polyak.simulate(gmeth, gprob, T, record_every=T, **be_kw), rep)
    t_grid_rec = best_of(lambda: polyak.simulate(gmeth, gprob, T, record_every=1, **be_kw), rep)
    t_grid_own = best_of(lambda: polyak.simulate(gmeth, gprob, T, record_every=T, fused=False, **be_kw), 1)
    g_a = polyak.simulate(gmeth, gprob, T, record_every=T, **be_kw)
    g_b = polyak.simulate(gmeth, gprob, T, record_every=T, fused=False, **be_kw)
    assert np.abs(g_a.x_final - g_b.x_final).max() <= 1e-12 * np.abs(gprob.x0).max(), "grid: kernel and own step disagree"
    bytes_grid = (3 * Pg * Hg * d + Pg * d) * 8  # x, x_prev, x_new of every run; the eigenvalues once per problem
    t_bound_grid = bytes_grid / bandwidth * T

    # (c) bare numpy arithmetic
    def bare():
        x, xp = x0.copy(), x0.copy()
        for _ in range(T):
            g = lam * x
            x, xp = x - alpha * g + beta * (x - xp), x
        return x

    t_bare = best_of(bare, rep)
    ref = polyak.simulate(method, problem, T, record_every=T, **be_kw)
    assert np.allclose(ref.x_final[:, 0], bare(), rtol=0, atol=1e-12 * scale), "engine and bare loop disagree"
    own = polyak.simulate(method, problem, T, record_every=T, fused=False, **be_kw)
    assert np.allclose(ref.x_final, own.x_final, rtol=0, atol=1e-12 * scale), "kernel and own step disagree"

    # (k) one heavy-ball step written with each candidate library, on the same arrays
    kern = kernel_choice(lam, alpha, beta, rep)

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
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                    **versions(), "load_average_before": load0, "load_average_after": load1},
        "sizes": {"B": B, "d": d, "steps": T, "dense_steps": Td, "torch_loop_subset": [nb, Tb],
                  "grid": {"problems": Pg, "step_sizes": Hg, "bytes_per_step": bytes_grid}},
        "bandwidth": {"add_GBps": bandwidth / 1e9, "bytes_per_step": bytes_step,
                      "bound_ms_per_step": t_bound / T * 1e3},
        "engine_kernel": ("numba (compiled in-place kernel, polyak[fast])" if compiled else
                          "numpy (in-place kernel; " + ("the run is below numba's size threshold)"
                                                        if kernels.importlib_find("numba") else
                                                        "numba not installed)")) if args.backend == "numpy" else
                         f"{args.backend}: the in-place fused kernel (kernels.TorchInPlaceStepper)",
        "how_to_read": ("CPU seconds of this process, best of --repeat; every ratio is X_over_Y = CPU(X) / CPU(Y); "
                        "memory_bound = bytes a heavy-ball step must move (x, x_prev, eigenvalues read; x written) "
                        "/ the bandwidth of np.add on arrays of the same size, times the steps; the targets of "
                        "issue 12 are for the default sizes (B=1024, d=1000), not --quick (arrays in cache)"),
        "seconds": {"engine": pair(t_engine), "engine_record_every_step": pair(t_engine_rec),
                    "engine_numpy_kernel": pair(t_np), "engine_numpy_kernel_record_every_step": pair(t_np_rec),
                    "engine_own_step": pair(t_own), "engine_own_step_record_every_step": pair(t_own_rec),
                    "engine_own_step_one_block": pair(t_engine_one),
                    "user_method": pair(t_user), "user_method_record_every_step": pair(t_user_rec),
                    "user_method_own_step": pair(t_user_own), "grid": pair(t_grid),
                    "grid_record_every_step": pair(t_grid_rec), "grid_own_step": pair(t_grid_own),
                    "grid_memory_bound": t_bound_grid, "bare_numpy": pair(t_bare),
                    "memory_bound": t_bound, "torch_loop_scaled": pair(t_torch), "dense_engine": pair(t_dense),
                    "dense_bare_matmul": pair(t_mm)},
        "ratios (CPU time)": {
            "engine_over_memory_bound": t_engine[0] / t_bound,
            "engine_record_every_step_over_engine": t_engine_rec[0] / t_engine[0],
            "torch_loop_over_engine": t_torch[0] / t_engine[0],
            "engine_numpy_kernel_over_memory_bound": t_np[0] / t_bound,
            "engine_numpy_kernel_record_every_step_over_engine_numpy_kernel": t_np_rec[0] / t_np[0],
            "torch_loop_over_engine_numpy_kernel": t_torch[0] / t_np[0],
            "engine_own_step_over_memory_bound": t_own[0] / t_bound,
            "engine_own_step_record_every_step_over_engine_own_step": t_own_rec[0] / t_own[0],
            "engine_own_step_one_block_over_engine_own_step": t_engine_one[0] / t_own[0],
            "user_method_over_memory_bound": t_user[0] / t_bound,
            "user_method_record_every_step_over_user_method": t_user_rec[0] / t_user[0],
            "user_method_own_step_over_memory_bound": t_user_own[0] / t_bound,
            "grid_over_grid_memory_bound": t_grid[0] / t_bound_grid,
            "grid_record_every_step_over_grid": t_grid_rec[0] / t_grid[0],
            "grid_own_step_over_grid_memory_bound": t_grid_own[0] / t_bound_grid,
            "engine_over_bare_numpy": t_engine[0] / t_bare[0],
            "bare_numpy_over_memory_bound": t_bare[0] / t_bound,
            "dense_engine_over_dense_bare_matmul": t_dense[0] / t_mm[0],
        },
        "kernel_choice_ms_per_step (one heavy-ball step on the same arrays)": kern,
        "kernel_choice_over_memory_bound": {k: v / (t_bound / T * 1e3) for k, v in kern.items()},
        "backend": args.backend,
    }
    if tb is not None:
        i = tb["i"]
        bound_t = tb["memory_bound_s"]
        out["torch"] = {
            "how_to_read": (f"{tb['clock']} seconds; memory bound = the same bytes per step at the bandwidth of "
                            "torch.add on arrays of the same size on the same device; bare torch = the same arithmetic "
                            "in a Python loop of torch ops (out of place; in place: x_prev.mul_(-beta).addcmul_(T00, x))"),
            "add_GBps": tb["add_GBps"], "memory_bound_s": bound_t,
            "seconds": {"engine": t_engine[i], "engine_record_every_step": t_engine_rec[i],
                        "engine_own_step": t_own[i], "bare_torch": tb["bare_torch"][i],
                        "bare_torch_in_place": tb["bare_torch_in_place"][i]},
            "ratios": {"engine_over_torch_memory_bound": t_engine[i] / bound_t,
                       "engine_record_every_step_over_engine": t_engine_rec[i] / t_engine[i],
                       "engine_own_step_over_engine": t_own[i] / t_engine[i],
                       "engine_own_step_over_torch_memory_bound": t_own[i] / bound_t,
                       "engine_over_bare_torch": t_engine[i] / tb["bare_torch"][i],
                       "engine_over_bare_torch_in_place": t_engine[i] / tb["bare_torch_in_place"][i],
                       "bare_torch_in_place_over_torch_memory_bound": tb["bare_torch_in_place"][i] / bound_t,
                       "user_method_over_torch_memory_bound": t_user[i] / bound_t,
                       "grid_over_engine": t_grid[i] / t_engine[i]},
        }
    r = out["ratios (CPU time)"]
    if tb is not None:  # the targets against the bound measured with torch on the device
        r = dict(r, engine_over_memory_bound=out["torch"]["ratios"]["engine_over_torch_memory_bound"],
                 user_method_over_memory_bound=out["torch"]["ratios"]["user_method_over_torch_memory_bound"],
                 engine_record_every_step_over_engine=out["torch"]["ratios"]["engine_record_every_step_over_engine"])
    out["targets"] = {
        "default simulate within 2x of the memory bound (engine_over_memory_bound <= 2)":
            r["engine_over_memory_bound"] <= 2.0,
        "user-defined linear method within 2x (user_method_over_memory_bound <= 2)":
            r["user_method_over_memory_bound"] <= 2.0,
        "records every step <= 1.3x the no-record run (engine_record_every_step_over_engine <= 1.3)":
            r["engine_record_every_step_over_engine"] <= 1.3,
        "torch.optim loop >= 100x the engine (torch_loop_over_engine >= 100)": r["torch_loop_over_engine"] >= 100,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
