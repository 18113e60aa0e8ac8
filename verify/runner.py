"""Run claims: gather them from ``polyak.papers`` and evaluate them into Results.

``collect(suite)`` imports every module named in ``polyak.papers.MODULES`` and calls its
``claims()`` function; the ``"fast"`` suite is the claims marked fast, ``"full"`` is every claim
(the fast ones plus the large batches). ``run_claims`` evaluates them one by one (in the order
given) and never raises for a failing claim: failures and errors are Results.

>>> from polyak.verify.runner import collect, run_claims
>>> res = run_claims(collect("fast"), only="polyak1964.gd-optimal-rate")
>>> [(r.claim, r.status) for r in res]
[('polyak1964.gd-optimal-rate', 'pass')]
"""

from __future__ import annotations

import fnmatch
import importlib
from typing import Iterable, Sequence

from .claims import Claim, Result, evaluate

SUITES = ("fast", "full")


def collect(suite: str = "fast") -> list[Claim]:
    """Every claim of ``polyak.papers`` in ``suite`` ("fast": fast claims; "full": all claims).

    Claim ids must be unique; a duplicate raises ValueError naming it.
    """
    if suite not in SUITES:
        raise ValueError(f"suite must be 'fast' or 'full'; got {suite!r}")
    papers = importlib.import_module("polyak.papers")
    out: list[Claim] = []
    seen: set[str] = set()
    for name in papers.MODULES:
        mod = importlib.import_module(f"polyak.papers.{name}")
        for c in mod.claims():
            if c.id in seen:
                raise ValueError(f"duplicate claim id {c.id!r} (in polyak.papers.{name})")
            seen.add(c.id)
            if suite == "full" or c.suite == "fast":
                out.append(c)
    return out


def select(claims: Iterable[Claim], only: str | None) -> list[Claim]:
    """Claims whose id or paper key matches ``only``: a glob when it has ``*?[``, else a substring."""
    claims = list(claims)
    if not only:
        return claims
    if any(ch in only for ch in "*?["):
        return [c for c in claims if fnmatch.fnmatchcase(c.id, only) or fnmatch.fnmatchcase(c.paper, only)]
    return [c for c in claims if only in c.id or only == c.paper]


def run_claims(claims: Sequence[Claim], *, backend: str = "numpy", seed: int = 0, only: str | None = None,
               progress: bool = False) -> list[Result]:
    """Evaluate ``claims`` (filtered by ``only``) with ``seed`` on ``backend``; one Result each."""
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    chosen = select(claims, only)
    it: Iterable[Claim] = chosen
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(chosen, desc="claims", leave=False)
        it = bar
    out = []
    for c in it:
        if bar is not None:
            bar.set_postfix_str(c.id)
        out.append(evaluate(c, seed=seed, backend=backend))
    return out


def exit_code(results: Sequence[Result]) -> int:
    """0 if every claim that ran passed, 1 if one failed, 2 if one raised an error."""
    if any(r.status == "error" for r in results):
        return 2
    if any(r.status == "FAIL" for r in results):
        return 1
    return 0
