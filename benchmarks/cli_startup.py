"""CPU time of ``polyak`` commands started as fresh processes, against ``python -c pass``.

Usage: ``python benchmarks/cli_startup.py [--tree PATH ...] [--repeat 5]``: each tree (a source
checkout, put first on PYTHONPATH; default: the installed polyak) runs every command ``repeat``
times; the table shows the least CPU time (user + system of the child, from ``resource``, so the
load of a shared machine inflates it less than wall time) and its ratio to the bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys

COMMANDS = [["--help"], ["derive"], ["derive", "hb-quadratic-optimal", "--at", "mu=1,L=100"],
            ["run", "--method", "hb", "--steps", "10", "--dim", "5"], ["run", "--list"]]


def cpu(argv: list[str], env: dict) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--tree", action="append", default=None, help="source checkout(s) to compare (default: installed)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per command, the least is kept (default: 5)")
    args = ap.parse_args()
    trees = args.tree or [None]
    env0 = dict(os.environ)
    base = min(cpu([sys.executable, "-c", "pass"], env0) for _ in range(args.repeat))
    print(f"python -c pass: {base:.3f} s CPU (baseline); load {os.getloadavg()[0]:.1f}")
    print("| command | " + " | ".join(f"{t or 'installed'} s CPU (x baseline)" for t in trees) + " |")
    print("| --- |" + " ---: |" * len(trees))
    for cmd in COMMANDS:
        cells = []
        for t in trees:
            env = dict(env0)
            if t:
                env["PYTHONPATH"] = t
            best = min(cpu([sys.executable, "-m", "polyak", *cmd], env) for _ in range(args.repeat))
            cells.append(f"{best:.2f} ({best / base:.0f}x)")
        print(f"| polyak {' '.join(cmd)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
