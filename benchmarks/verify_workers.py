"""Speed-up of ``polyak verify`` on worker processes (or a Dask cluster) over the serial run.

Run: ``python benchmarks/verify_workers.py [--suite fast] [--workers 1,2] [--repeat 3] [--scheduler ADDR]
[--mode cli|inprocess|both]``

Two measurements, each configuration in a fresh process, configurations interleaved over
``--repeat`` rounds so that a change of load hits every one alike:

``cli`` (end to end, as a user sees it): the wall-clock time of the whole command
``polyak verify --suite S --json F`` (serial), then ``... --workers N`` for every N (and
``... --scheduler ADDR`` when given). Imports, the workers' start and their one-off set-ups
(each worker imports sympy and builds the derivations its claims need) are part of it: it is
what ``--workers`` has to beat, and it is bounded by what both workers must do alike (Amdahl).

``inprocess`` (the sweep itself): a fresh process collects the claims and first imports every
module the suite imports when it runs (the list is taken from a serial run in another process),
then times ``run_claims`` alone: serial, or a ``local_executor(N)`` (started inside the timed
region; with the default ``fork`` start the workers inherit those imports) with ``run_claims(...,
executor=ex)``. What remains in both is the claims' work and their first-use set-ups
(derivations, caches), which every worker that needs one repeats.

``--baseline`` adds, end to end, ``--workers N`` run as before this round (a fork server that
preloads sympy, scipy and cvxpy, then one task per claim), for a before/after under the same load.

Reported per configuration: the fastest and the median wall time and their speed-ups over
serial; and a CPU-time estimate of the critical path that a loaded machine does not inflate
(waiting for a core is not CPU time): the parent's CPU time plus the largest worker's (each
worker reports its own ``time.process_time()``, through a wrapper this script installs; only
with workers forked from the parent, the default on Linux; "-" otherwise). Also the 1-minute
load average before and after, the number of cores, and a check that every run's results equal
the serial run's (same claims in the same order, same numbers; only the timings differ). The
script exits 1 if a report differs. Target: >= 1.7x with 2 workers on 2 cores.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _numbers(d):
    from polyak.verify.runner import without_timings

    return without_timings(d)


_FOLDER: list[str] = []
_INNER: list = []


def _timed(*a, **k):
    """``runner._evaluate_tasks``, then this process's CPU time so far written to the folder."""
    out = _INNER[0](*a, **k)
    with open(os.path.join(_FOLDER[0], f"w{os.getpid()}"), "w", encoding="utf-8") as fh:
        fh.write(repr(time.process_time()))
    return out


def _instrument(folder: str) -> None:
    """Make every worker task write its process's CPU time so far to ``folder`` (workers forked
    from this process inherit the wrapper; it travels by name, as ``__main__._timed``)."""
    import polyak.verify.runner as runner

    _FOLDER[:] = [folder]
    _INNER[:] = [runner._evaluate_tasks]
    runner._evaluate_tasks = _timed


def _workers_cpu(folder: str) -> list[float]:
    out = []
    for path in glob.glob(os.path.join(folder, "w*")):
        with open(path, encoding="utf-8") as fh:
            out.append(float(fh.read()))
    return out


def _self_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# ----------------------------------------------------------------------------------------
# children (each run is a fresh process)
# ----------------------------------------------------------------------------------------
#: the design before issue 12's second round: a fork server that preloads the heavy libraries, one task per claim
BASELINE_PRELOAD = ("numpy", "scipy.linalg", "scipy.stats", "sympy", "cvxpy", "polyak.verify.runner",
                    "polyak.verify.rates", "polyak.verify.certificates", "polyak.verify.pep", "polyak.solvers",
                    "polyak.theory")


def _baseline() -> None:
    """Run ``--workers N`` as before (fork server with :data:`BASELINE_PRELOAD`, ``chunks="claim"``)."""
    import polyak.verify.runner as runner

    runner.PRELOAD = BASELINE_PRELOAD
    local, run = runner.local_executor, runner.run_claims
    runner.local_executor = lambda workers, threads=None, start=None: local(workers, threads, start="forkserver")
    runner.run_claims = lambda *a, **k: run(*a, **{**k, "chunks": "claim"})


def _child_cli(argv: list[str], out: str) -> None:
    import contextlib
    import io

    folder = tempfile.mkdtemp()
    if "--baseline" in argv:  # fork-server workers do not inherit the CPU-time wrapper: not installed
        argv = [a for a in argv if a != "--baseline"]
        _baseline()
    else:
        _instrument(folder)
    from polyak.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    parent = _self_cpu()  # interpreter start-up included
    ws = _workers_cpu(folder)
    with open(out + ".cpu", "w", encoding="utf-8") as fh:
        json.dump({"rc": rc, "parent_cpu": parent, "workers_cpu": ws}, fh)


def _modules_of_a_run(suite: str) -> list[str]:
    from polyak.verify.runner import collect, run_claims

    claims = collect(suite)
    before = set(sys.modules)
    run_claims(claims)
    return sorted(m for m in set(sys.modules) - before if not m.startswith("__"))


def _child_inprocess(suite: str, workers: int, modules: list[str], out: str) -> None:
    import importlib

    from polyak.verify.runner import collect, local_executor, run_claims

    claims = collect(suite)
    failed = 0
    for m in modules:
        try:
            importlib.import_module(m)
        except Exception:  # a module that only imports in its own context: counted, left out
            failed += 1
    folder = tempfile.mkdtemp()
    _instrument(folder)
    c0, w0 = time.process_time(), time.perf_counter()
    if workers == 0:
        res = run_claims(claims)
    else:
        with local_executor(workers) as ex:
            res = run_claims(claims, executor=ex)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"wall": wall, "parent_cpu": cpu, "workers_cpu": _workers_cpu(folder), "not_imported": failed,
                   "results": [r.to_dict() for r in res]}, fh)


# ----------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------
def _run_cli(extra: list[str], suite: str, out: str) -> tuple[float, float | None, list]:
    argv = ["verify", "--suite", suite, "--json", out, *extra]
    cmd = [sys.executable, __file__, "--_child", "cli", "--_out", out, "--", *argv]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    with open(out + ".cpu", encoding="utf-8") as fh:
        cpu = json.load(fh)
    if cpu["rc"] not in (0, 1):  # 1: a claim failed (information); anything else: broken
        raise SystemExit(f"polyak {' '.join(argv)} exited {cpu['rc']}: {proc.stderr.strip()[-500:]}")
    crit = _critical(cpu["parent_cpu"], cpu["workers_cpu"], extra)
    with open(out, encoding="utf-8") as fh:
        return wall, crit, json.load(fh)["results"]


def _critical(parent: float, workers: list[float], extra: list[str]) -> float | None:
    if not extra:
        return parent
    n = int(extra[1]) if extra[0] == "--workers" else None
    if not workers or (n is not None and len(workers) != n) or "--baseline" in extra:
        return None  # workers not forked from the parent (or one never ran a task): not measured
    return parent + max(workers)


def _run_inprocess(workers: int, suite: str, modules_file: str, out: str) -> tuple[float, float | None, list]:
    cmd = [sys.executable, __file__, "--_child", "inprocess", "--_out", out, "--suite", suite,
           "--_modules", modules_file, "--workers", str(workers)]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    with open(out, encoding="utf-8") as fh:
        rep = json.load(fh)
    crit = _critical(rep["parent_cpu"], rep["workers_cpu"], ["--workers", str(workers)] if workers else [])
    return rep["wall"], crit, rep["results"]


def _table(title: str, configs: list[str], walls: dict, crits: dict) -> list[dict]:
    best = {k: min(v) for k, v in walls.items()}
    med = {k: statistics.median(v) for k, v in walls.items()}
    cbest = {k: (min(v) if v and None not in v else None) for k, v in crits.items()}
    cmed = {k: (statistics.median(v) if v and None not in v else None) for k, v in crits.items()}
    base = configs[0]
    rows = []
    for k in configs:
        row = {"config": k, "best_s": best[k], "median_s": med[k], "speedup_best": best[base] / best[k],
               "speedup_median": med[base] / med[k], "cpu_critical_s": cbest[k], "cpu_critical_median_s": cmed[k],
               "speedup_cpu": (cbest[base] / cbest[k]) if cbest[k] and cbest[base] else None,
               "speedup_cpu_median": (cmed[base] / cmed[k]) if cmed[k] and cmed[base] else None}
        rows.append(row)
    print(title)
    print(f"  {'configuration':26s} {'best s':>7s} {'speed-up':>8s} {'median s':>9s} {'speed-up':>8s} "
          f"{'CPU crit. best / median s':>25s} {'speed-up':>13s}")
    for r in rows:
        if r["speedup_cpu"]:
            c = (f"{r['cpu_critical_s']:12.2f} / {r['cpu_critical_median_s']:<10.2f} "
                 f"{r['speedup_cpu']:5.2f}x/{r['speedup_cpu_median']:.2f}x")
        else:
            c = f"{'-':>25s} {'-':>13s}"
        print(f"  {r['config']:26s} {r['best_s']:7.2f} {r['speedup_best']:7.2f}x {r['median_s']:9.2f} "
              f"{r['speedup_median']:7.2f}x {c}")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="fast", choices=("fast", "full"), help="claims to run (default: fast)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default: 1,2)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds, each configuration once per round (default: 3)")
    ap.add_argument("--scheduler", default=None, help="also time a Dask cluster at this address (cli mode)")
    ap.add_argument("--mode", default="both", choices=("cli", "inprocess", "both"),
                    help="end to end (cli), run_claims after the imports (inprocess), or both (default)")
    ap.add_argument("--baseline", action="store_true",
                    help="also time --workers N as before this round (fork server preloading sympy, scipy, "
                         "cvxpy; one task per claim), end to end")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_modules", default=None, help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child == "cli":
        _child_cli(args.rest, args._out)
        return 0
    if args._child == "inprocess":
        with open(args._modules, encoding="utf-8") as fh:
            mods = json.load(fh)
        _child_inprocess(args.suite, int(args.workers), mods, args._out)
        return 0
    if args._child == "modules":
        with open(args._out, "w", encoding="utf-8") as fh:
            json.dump(_modules_of_a_run(args.suite), fh)
        return 0
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if any(w < 1 for w in workers) or args.repeat < 1:
        ap.error("--workers must be integers >= 1 and --repeat >= 1")
    modes = ("cli", "inprocess") if args.mode == "both" else (args.mode,)
    load_before = os.getloadavg()
    mismatches: list[str] = []
    report: dict = {}
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        configs: dict[str, dict[str, list]] = {m: {} for m in modes}
        if "cli" in modes:
            configs["cli"]["serial"] = []
            for w in workers:
                configs["cli"][f"--workers {w}"] = ["--workers", str(w)]
            if args.baseline:
                for w in workers:
                    configs["cli"][f"--workers {w} (before)"] = ["--workers", str(w), "--baseline"]
            if args.scheduler:
                configs["cli"][f"--scheduler {args.scheduler}"] = ["--scheduler", args.scheduler]
        modules_file = os.path.join(tmp, "modules.json")
        if "inprocess" in modes:
            subprocess.run([sys.executable, __file__, "--_child", "modules", "--_out", modules_file, "--suite",
                            args.suite], check=True, stdout=subprocess.DEVNULL)
            configs["inprocess"]["serial run_claims"] = [0]
            for w in workers:
                configs["inprocess"][f"local_executor({w})"] = [w]
        walls = {m: {k: [] for k in configs[m]} for m in modes}
        crits = {m: {k: [] for k in configs[m]} for m in modes}
        for _ in range(args.repeat):
            for m in modes:
                for name, extra in configs[m].items():
                    if m == "cli":
                        wall, crit, results = _run_cli(extra, args.suite, out)
                    else:
                        wall, crit, results = _run_inprocess(extra[0], args.suite, modules_file, out)
                    walls[m][name].append(wall)
                    crits[m][name].append(crit)
                    got = _numbers(results)
                    if reference is None:
                        reference = got
                    elif got != reference:
                        mismatches.append(f"{m}: {name}")
        load_after = os.getloadavg()
        info = {"suite": args.suite, "claims": len(reference or []), "repeat": args.repeat, "cores": os.cpu_count(),
                "load_before": load_before, "load_after": load_after, "identical_results": not mismatches}
        if not args.json:
            print(f"polyak verify --suite {args.suite}: {info['claims']} results, {args.repeat} rounds, "
                  f"{os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        for m in modes:
            title = ("end to end: the whole CLI command in a fresh process" if m == "cli" else
                     "in process: run_claims alone, after the suite's imports (pool start included)")
            if args.json:
                import contextlib
                import io

                with contextlib.redirect_stdout(io.StringIO()):
                    report[m] = _table(title, list(configs[m]), walls[m], crits[m])
            else:
                report[m] = _table(title, list(configs[m]), walls[m], crits[m])
    if args.json:
        print(json.dumps({"info": info, **report}, indent=2))
    else:
        print("results identical to the serial run: " + ("yes" if not mismatches else f"NO ({', '.join(sorted(set(mismatches)))})"))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
