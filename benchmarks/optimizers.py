"""Per-step cost of the polyak torch optimizers against torch.optim on a 10M-parameter model.

Run: ``python benchmarks/optimizers.py [--params 10_000_000] [--steps 20] [--rounds 5] [--threads T] [--clock wall|cpu]``

The model is a list of float32 parameter tensors (4 x 2.5M by default; shapes like big Linear
layers) with fixed synthetic gradients, so only ``optimizer.step()`` is timed. Every optimizer
runs in the same process, interleaved over rounds; the fastest step (and the median) of each is reported with its
ratio to the reference: ``torch.optim.SGD(momentum=0.9)`` for the SGD-type optimizers and
``torch.optim.AdamW(foreach=True)`` for the Adam-type ones. Target: ratio <= 1.5.

On a shared machine use ``--threads 1 --clock cpu``: each step is timed by the CPU time of this
process (``time.process_time``: user + system, which includes page faults) instead of the wall
clock, so time spent waiting for a core other jobs hold is not counted. The 1-minute load average
before and after the run is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from polyak.solvers import torch_optim as po


def make_params(n_params: int, n_tensors: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    size = n_params // n_tensors
    cols = 1000
    ps = []
    for _ in range(n_tensors):
        p = torch.nn.Parameter(torch.randn(size // cols, cols, generator=gen))
        p.grad = 1e-3 * torch.randn(p.shape, generator=gen)
        ps.append(p)
    return ps


CONFIGS = {
    # name: (factory, reference)
    "torch SGD(momentum=0.9)": (lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9), None),
    "torch AdamW(foreach)": (lambda ps: torch.optim.AdamW(ps, lr=1e-3, foreach=True), None),
    "DemonSGD": (lambda ps: po.DemonSGD(ps, lr=1e-3, T=10_000), "torch SGD(momentum=0.9)"),
    "DemonAdam": (lambda ps: po.DemonAdam(ps, lr=1e-3, T=10_000), "torch AdamW(foreach)"),
    "AdaptiveHB (A1, tensor)": (lambda ps: po.AdaptiveHB(ps, lr=1e-3), "torch SGD(momentum=0.9)"),
    "AdaptiveHB (A1, global)": (lambda ps: po.AdaptiveHB(ps, lr=1e-3, block="global"), "torch SGD(momentum=0.9)"),
    "AdaptiveHBAdam": (lambda ps: po.AdaptiveHBAdam(ps, lr=1e-3), "torch AdamW(foreach)"),
    "AMSGD (global)": (lambda ps: po.AMSGD(ps, lr=1e-3), "torch SGD(momentum=0.9)"),
    "AMAdamW (tensor)": (lambda ps: po.AMAdamW(ps, lr=1e-3), "torch AdamW(foreach)"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=int, default=10_000_000)
    ap.add_argument("--tensors", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--clock", default="wall", choices=("wall", "cpu"), help="wall clock (default) or process CPU time")
    ap.add_argument("--only", default=None, help="comma-separated substrings: time only the matching optimizers (and the references)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    configs = dict(CONFIGS)
    if args.only:
        keep = [w.strip() for w in args.only.split(",")]
        configs = {k: v for k, v in CONFIGS.items() if v[1] is None or any(w in k for w in keep)}
    load_before = os.getloadavg()
    runs = {}
    for name, (factory, _) in configs.items():
        ps = make_params(args.params, args.tensors)
        opt = factory(ps)
        for _ in range(3):  # warm-up: state allocation
            opt.step()
        runs[name] = (ps, opt)
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds * args.steps):  # round-robin, one step at a time
        for name, (ps, opt) in runs.items():
            t0 = clock()
            opt.step()
            times[name].append(clock() - t0)
    # the fastest step of each: robust to other load on a shared machine (medians also reported)
    med = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    rows = []
    for name, (_, ref) in configs.items():
        ratio = None if ref is None else med[name] / med[ref]
        rmed = None if ref is None else median[name] / median[ref]
        rows.append({"optimizer": name, "ms_per_step": 1e3 * med[name], "median_ms": 1e3 * median[name], "reference": ref,
                     "ratio": ratio, "median_ratio": rmed})
    n = sum(p.numel() for p in next(iter(runs.values()))[0])
    info = {"params": n, "tensors": args.tensors, "dtype": "float32", "torch": torch.__version__,
            "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(), "clock": args.clock,
            "load_before": load_before, "load_after": os.getloadavg()}
    if args.json:
        print(json.dumps({"info": info, "rows": rows}, indent=2))
        return
    print(f"{n:,} float32 parameters in {args.tensors} tensors; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"clock {args.clock}; load average {info['load_before'][0]:.2f} before, {info['load_after'][0]:.2f} after")
    print(f"{'optimizer':28s} {'best ms':>8s} {'ratio':>6s} {'median ms':>10s} {'ratio':>6s}  reference")
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        rmed = "" if r["median_ratio"] is None else f"{r['median_ratio']:.2f}"
        print(f"{r['optimizer']:28s} {r['ms_per_step']:8.2f} {ratio:>6s} {r['median_ms']:10.2f} {rmed:>6s}  {r['reference'] or ''}")


if __name__ == "__main__":
    main()
