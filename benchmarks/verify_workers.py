"""Speed-up of ``polyak verify`` on worker processes (or a Dask cluster) over the serial run.

Run: ``python benchmarks/verify_workers.py [--suite fast] [--workers 1,2] [--repeat 3] [--scheduler ADDR]``

What is timed: the wall-clock time of the whole command, as a user sees it, each time in a fresh
process: ``polyak verify --suite S --json F`` (serial), then ``... --workers N`` for every N (and
``... --scheduler ADDR`` when given), interleaved over ``--repeat`` rounds so that a change of load
hits every configuration alike. The cold start (imports, the fork server, the workers' own
imports and one-off set-ups) is part of what is timed: it is what ``--workers`` has to beat.

Reported: the fastest and the median wall time of each configuration, its speed-up over the serial
run (fastest over fastest; median over median), the 1-minute load average before and after
(``os.getloadavg``, what ``uptime`` prints), the number of cores; and a check that every run's
JSON report has the serial run's results (same claims in the same order, same numbers; only the
timings differ). The script exits 1 if a report differs. Target: >= 1.7x with 2 workers on 2 cores
(the suite must be large against the cold start for that; see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _numbers(d):
    if isinstance(d, dict):
        return {k: _numbers(v) for k, v in d.items() if k != "seconds"}
    if isinstance(d, list):
        return [_numbers(v) for v in d]
    return d


def _run(extra: list[str], suite: str, out: str) -> tuple[float, list]:
    cmd = [sys.executable, "-m", "polyak", "verify", "--suite", suite, "--json", out, *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: a claim failed (information); anything else: broken
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    with open(out, encoding="utf-8") as fh:
        return wall, json.load(fh)["results"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="fast", choices=("fast", "full"), help="claims to run (default: fast)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default: 1,2)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds, each configuration once per round (default: 3)")
    ap.add_argument("--scheduler", default=None, help="also time a Dask cluster at this address (default: none)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if any(w < 1 for w in workers) or args.repeat < 1:
        ap.error("--workers must be integers >= 1 and --repeat >= 1")
    configs: dict[str, list[str]] = {"serial": []}
    for w in workers:
        configs[f"--workers {w}"] = ["--workers", str(w)]
    if args.scheduler:
        configs[f"--scheduler {args.scheduler}"] = ["--scheduler", args.scheduler]
    load_before = os.getloadavg()
    walls: dict[str, list[float]] = {k: [] for k in configs}
    reference = None
    mismatches = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        for _ in range(args.repeat):
            for name, extra in configs.items():
                wall, results = _run(extra, args.suite, out)
                walls[name].append(wall)
                got = _numbers(results)
                if reference is None:
                    reference = got
                elif got != reference:
                    mismatches.append(name)
    load_after = os.getloadavg()
    best = {k: min(v) for k, v in walls.items()}
    med = {k: statistics.median(v) for k, v in walls.items()}
    rows = [{"config": k, "best_s": best[k], "median_s": med[k], "speedup_best": best["serial"] / best[k],
             "speedup_median": med["serial"] / med[k]} for k in configs]
    info = {"suite": args.suite, "claims": len(reference or []), "repeat": args.repeat, "cores": os.cpu_count(),
            "load_before": load_before, "load_after": load_after, "identical_results": not mismatches}
    if args.json:
        print(json.dumps({"info": info, "rows": rows}, indent=2))
    else:
        print(f"polyak verify --suite {args.suite}: {info['claims']} results, {args.repeat} rounds, {os.cpu_count()} cores; "
              f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        print(f"{'configuration':28s} {'best s':>7s} {'speed-up':>8s} {'median s':>9s} {'speed-up':>8s}")
        for r in rows:
            print(f"{r['config']:28s} {r['best_s']:7.2f} {r['speedup_best']:7.2f}x {r['median_s']:9.2f} {r['speedup_median']:7.2f}x")
        print("results identical to the serial run: " + ("yes" if not mismatches else f"NO ({', '.join(sorted(set(mismatches)))})"))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
