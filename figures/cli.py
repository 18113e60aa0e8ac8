"""``polyak figures``: regenerate figures (all, or the named ones) into one folder."""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def run_figures(args: Any) -> int:
    """Handle ``polyak figures``. ``args``: names (list), fast, out, format (comma string), progress, list.

    Unknown figure names or formats raise ValueError naming them and the valid ones (exit 2).
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    from .io import check_formats, render
    from .registry import get, names

    if getattr(args, "list", False):
        for n in names():
            print(f"{n:24s} {get(n).title}")
        return 0
    fmts = check_formats(getattr(args, "format", "png,pdf") or "png,pdf")
    wanted = list(getattr(args, "names", None) or []) or names()
    bad = [n for n in wanted if n not in names()]
    if bad:
        raise ValueError(f"unknown figure(s) {', '.join(map(repr, bad))}; valid figures: {', '.join(names())}")
    out = getattr(args, "out", "figures-out") or "figures-out"
    fast = bool(getattr(args, "fast", False))
    it = wanted
    bar = None
    from polyak.cli import want_progress

    if want_progress(args):
        from tqdm.auto import tqdm

        bar = tqdm(wanted, desc="figures", unit="fig")
        it = bar
    t_all = time.perf_counter()
    for n in it:
        if bar is not None:
            bar.set_postfix_str(n)
        t0 = time.perf_counter()
        paths = render(n, out, fast=fast, formats=fmts)
        line = f"{n:24s} {time.perf_counter() - t0:6.1f} s  " + "  ".join(str(p) for p in paths)
        if bar is not None:
            bar.write(line)
        else:
            print(line)
    print(f"{len(wanted)} figure(s) in {time.perf_counter() - t_all:.1f} s under {out}", file=sys.stderr)
    return 0
