"""GPU benchmark: 1e6 heavy-ball runs on eigenbasis quadratics, and a dense shared-Hessian case.

Eigenbasis case: ``--instances`` quadratics (kappa in [10, 1e4], evenly spaced spectra, d = 100)
x a grid of ``--grid`` step sizes = 1e6 runs by default, 1000 steps, in float32 and float64, run
in chunks of instances so that the state fits in the device's memory. Dense case: one random-basis
quadratic (d = 1024) shared by ``--dense-runs`` runs (a grid of step sizes): a matrix product per step.

Printed for each case, in one process:
  * bytes a step must move: read x and x_prev, write x (the eigenvalues are shared by the grid
    points of an instance and stay in cache; dense: the Hessian is read once per step);
  * the achieved bandwidth (those bytes / measured time per step) and its ratio to the device's
    peak memory bandwidth (table below, by device name) and to a measured copy bandwidth
    (``y.copy_(x)`` on an array of the state's size);
  * the ratio to a bare torch loop of the same arithmetic on the same device (no records);
  * the engine's path: ``simulate``'s default on torch, on CUDA with triton the ``torch.compile``d
    fused step (one kernel a step; then also timed: the eager in-place kernels), else the eager
    in-place fused kernels (a grid of
    step sizes: ``T00 = 1 + beta - alpha lambda`` materialised once per run, then
    ``x_prev.mul_(-beta).addcmul_(T00, x)``: 2 kernels, 6 array passes against the bound's 3, so
    eager torch is at best 2x of the bound on a grid), against the method's own step
    (``fused=False``) and the cost of recording every step (timed on a tenth of the steps).
Target (issue 12): within 2x of the memory-bandwidth bound on an H200.

``--small`` runs a few thousand runs on the CPU in seconds (the test suite runs it).
Usage: python benchmarks/gpu.py [--device cuda] [--small] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import polyak

#: Peak memory bandwidth (bytes/s) by device name fragment (vendor data sheets).
PEAK_BANDWIDTH = {
    "H200": 4.8e12,
    "H100 SXM": 3.35e12,
    "H100 NVL": 3.9e12,
    "H100 PCIe": 2.0e12,
    "H100": 3.35e12,
    "A100-SXM4-80GB": 2.039e12,
    "A100 80GB PCIe": 1.935e12,
    "A100": 1.555e12,
}


def peak_bandwidth(name: str) -> float | None:
    for key, value in PEAK_BANDWIDTH.items():
        if key.lower() in name.lower():
            return value
    return None


def sync(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(torch, device, fn):
    sync(torch, device)
    t0 = time.perf_counter()
    out = fn()
    sync(torch, device)
    return time.perf_counter() - t0, out


def copy_bandwidth(torch, device, n_elems, dtype):
    x = torch.ones(n_elems, dtype=dtype, device=device)
    y = torch.empty_like(x)
    y.copy_(x)
    reps = 10
    t, _ = timed(torch, device, lambda: [y.copy_(x) for _ in range(reps)])
    return 2 * x.numel() * x.element_size() * reps / t


def hb_params(kappa):
    alpha = 4 / (np.sqrt(kappa) + 1) ** 2
    beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    return alpha, beta


def eigen_case(torch, device, dtype, instances, grid, d, steps, chunk, own=True, rec=True):
    """Engine and bare loop on instances x grid runs; returns a dict of figures."""
    kappas = np.linspace(10.0, 1e4, instances)
    scales = np.linspace(0.5, 1.0, grid)  # step-size grid: fractions of each instance's alpha*
    dt = getattr(torch, dtype)
    t_engine = t_bare = t_own = t_rec = t_eager = 0.0
    worst = worst_own = 0.0
    from polyak.solvers import kernels

    # CUDA with triton (and a large enough run): the torch.compile'd step
    compiled = kernels.torch_compile_wanted(device, float(min(chunk, instances)) * grid * d * steps)
    for c0 in range(0, instances, chunk):
        ks = kappas[c0 : c0 + chunk]
        problem = polyak.make_problem("quadratic", mu=1.0, L=ks, dim=d, seed=0)
        a, b = hb_params(ks)
        method = polyak.make_method("hb", alpha=a[:, None] * scales[None, :], beta=b[:, None] + 0 * scales[None, :])
        run = lambda: polyak.simulate(method, problem, steps, record_every=steps, per_problem=True,  # noqa: E731
                                      backend="torch", device=device, dtype=dtype)
        if compiled:  # compile outside the timing (both graphs: a step without and one with records)
            kernels.USE_TORCH_COMPILE = True  # (2 steps are below the automatic threshold)
            polyak.simulate(method, problem, 2, record_every=2, per_problem=True, backend="torch", device=device,
                            dtype=dtype)
            kernels.USE_TORCH_COMPILE = "auto"
        t, tr = timed(torch, device, run)
        if compiled:  # the eager in-place kernels on the same chunk
            kernels.USE_TORCH_COMPILE = False
            t_e, _ = timed(torch, device, run)
            kernels.USE_TORCH_COMPILE = "auto"
            t_eager += t_e
        t_engine += t
        # the method's own step (fused=False: the general loop, several kernels and temporaries per step)
        if own:
            t, tr_own = timed(torch, device, lambda: polyak.simulate(method, problem, steps, record_every=steps,
                                                                      per_problem=True, backend="torch", device=device,
                                                                      dtype=dtype, fused=False))
            t_own += t
            worst_own = max(worst_own, float(np.max(np.abs(tr.x_final - tr_own.x_final))) / np.abs(problem.x0).max())
            del tr_own
        # records every step (distance, f, gradient norm on the device), on a tenth of the steps
        if rec:
            t, _ = timed(torch, device, lambda: polyak.simulate(method, problem, max(1, steps // 10), record_every=1,
                                                                 per_problem=True, backend="torch", device=device,
                                                                 dtype=dtype))
            t_rec += t * (steps / max(1, steps // 10))
        # the bare loop: the same arithmetic, no engine
        lam = torch.as_tensor(problem.eigenvalues[:, None, :], dtype=dt, device=device)
        al = torch.as_tensor((a[:, None] * scales[None, :])[..., None], dtype=dt, device=device)
        be = torch.as_tensor(np.broadcast_to(b[:, None, None], (len(ks), grid, 1)).copy(), dtype=dt, device=device)
        x0 = torch.as_tensor(np.broadcast_to(problem.x0[:, None, :], (len(ks), grid, d)).copy(), dtype=dt,
                             device=device)

        def bare():
            x, xp = x0.clone(), x0.clone()
            for _ in range(steps):
                g = lam * x
                x, xp = x - al * g + be * (x - xp), x
            return x

        t, xb = timed(torch, device, bare)
        t_bare += t
        ref = xb.cpu().numpy()
        worst = max(worst, float(np.max(np.abs(tr.x_final[:, :, 0] - ref))) / np.abs(problem.x0).max())
        del x0, lam, al, be, xb
    runs = instances * grid
    elem = 4 if dtype == "float32" else 8
    bytes_step = 3 * runs * d * elem
    out = {"runs": runs, "d": d, "steps": steps, "dtype": dtype, "chunk_instances": chunk,
           "engine_path": ("torch fused, compiled (TorchCompiledStepper, torch.compile)" if compiled else
                           "torch in-place fused (TorchInPlaceStepper, per-run coefficients: TorchGridKernel)"),
           "engine_s": t_engine, "bare_torch_s": t_bare, "bytes_per_step": bytes_step,
           "engine_GBps": bytes_step * steps / t_engine / 1e9, "bare_GBps": bytes_step * steps / t_bare / 1e9,
           "engine_over_bare": t_engine / t_bare, "max_rel_diff_engine_vs_bare": worst}
    if compiled:
        out.update(eager_fused_s=t_eager, eager_fused_over_engine=t_eager / t_engine,
                   eager_fused_GBps=bytes_step * steps / t_eager / 1e9)
    if own:
        out.update(own_step_s=t_own, own_step_over_engine=t_own / t_engine, max_rel_diff_engine_vs_own_step=worst_own)
    if rec:
        out.update(record_every_step_s_scaled=t_rec, record_every_step_over_engine=t_rec / t_engine)
    return out


def dense_case(torch, device, dtype, runs, d, steps):
    problem = polyak.make_problem("quadratic", mu=1.0, L=100.0, dim=d, spectrum="uniform", basis="random", seed=1)
    a, b = hb_params(100.0)
    method = polyak.make_method("hb", alpha=a * np.linspace(0.5, 1.0, runs), beta=b)
    t_engine, _ = timed(torch, device, lambda: polyak.simulate(method, problem, steps, record_every=steps,
                                                                backend="torch", device=device, dtype=dtype))
    dt = getattr(torch, dtype)
    A = torch.as_tensor(problem.hessian[0], dtype=dt, device=device)
    X = torch.as_tensor(np.broadcast_to(problem.x0, (runs, d)).copy(), dtype=dt, device=device)
    t_mm, _ = timed(torch, device, lambda: [X @ A for _ in range(steps)])
    elem = 4 if dtype == "float32" else 8
    bytes_step = 3 * runs * d * elem + d * d * elem
    flops_step = 2 * runs * d * d
    return {"runs": runs, "d": d, "steps": steps, "dtype": dtype, "engine_s": t_engine, "bare_matmul_s": t_mm,
            "bytes_per_step": bytes_step, "engine_GBps": bytes_step * steps / t_engine / 1e9,
            "engine_TFLOPs": flops_step * steps / t_engine / 1e12, "engine_over_matmul": t_engine / t_mm}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    ap.add_argument("--small", action="store_true", help="a few thousand runs on the CPU, seconds")
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--grid", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=None, help="instances per chunk (default: fit the memory)")
    ap.add_argument("--dense-runs", type=int, default=65536)
    ap.add_argument("--dense-dim", type=int, default=1024)
    ap.add_argument("--dense-steps", type=int, default=200)
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    import torch

    if args.small:
        device = args.device or "cpu"
        args.instances, args.grid, args.dim, args.steps = 20, 50, 20, 50
        args.dense_runs, args.dense_dim, args.dense_steps = 256, 64, 20
    else:
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if not str(device).startswith("cuda"):
        torch.set_num_threads(1)  # a shared CPU: one thread, so that the ratios are not contention
    name = torch.cuda.get_device_name(device) if str(device).startswith("cuda") else (platform.processor() or "cpu")
    peak = peak_bandwidth(name) if str(device).startswith("cuda") else None
    if args.chunk is None:
        if str(device).startswith("cuda"):
            free, _ = torch.cuda.mem_get_info(device)
            per_instance = args.grid * args.dim * 8 * 12  # ~12 state-sized arrays live at once in float64
            args.chunk = max(1, min(args.instances, int(0.5 * free // per_instance)))
        else:
            args.chunk = args.instances
    out = {"device": str(device), "device_name": name, "peak_bandwidth_GBps": None if peak is None else peak / 1e9,
           "torch": torch.__version__, "load_average": os.getloadavg(), "cases": []}
    for dtype in ("float32", "float64"):
        elem = torch.float32 if dtype == "float32" else torch.float64
        copy_bw = copy_bandwidth(torch, device, args.grid * args.dim * min(args.chunk, args.instances), elem)
        case = eigen_case(torch, device, dtype, args.instances, args.grid, args.dim, args.steps, args.chunk)
        case["copy_GBps"] = copy_bw / 1e9
        case["engine_over_copy_bound"] = copy_bw / (case["engine_GBps"] * 1e9)
        if peak is not None:
            case["engine_over_peak_bound"] = peak / (case["engine_GBps"] * 1e9)
        out["cases"].append({"case": "eigen", **case})
        dense = dense_case(torch, device, dtype, args.dense_runs, args.dense_dim, args.dense_steps)
        out["cases"].append({"case": "dense", **dense})
    for c in out["cases"]:
        line = (f"{c['case']:6s} {c['dtype']}: {c['runs']} runs x d={c['d']} x {c['steps']} steps: "
                f"engine {c['engine_s']:.3f} s, {c['bytes_per_step'] / 1e6:.1f} MB/step, {c['engine_GBps']:.1f} GB/s")
        if c["case"] == "eigen":
            if "eager_fused_s" in c:
                line += f"; eager fused {c['eager_fused_s']:.3f} s ({c['eager_fused_over_engine']:.2f}x the compiled)"
            if "own_step_s" in c:
                line += f"; own step {c['own_step_s']:.3f} s (own/engine {c['own_step_over_engine']:.2f}x)"
            if "record_every_step_over_engine" in c:
                line += f"; records every step {c['record_every_step_over_engine']:.2f}x"
            line += (f"; bare torch loop {c['bare_torch_s']:.3f} s (engine/bare {c['engine_over_bare']:.2f}x); "
                     f"copy {c['copy_GBps']:.1f} GB/s (bound ratio {c['engine_over_copy_bound']:.2f}x)")
            if "engine_over_peak_bound" in c:
                line += f"; peak {out['peak_bandwidth_GBps']:.0f} GB/s (ratio {c['engine_over_peak_bound']:.2f}x)"
        else:
            line += f", {c['engine_TFLOPs']:.2f} TFLOP/s; engine/bare matmul {c['engine_over_matmul']:.2f}x"
        print(line)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
