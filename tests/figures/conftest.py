"""Fixtures for the figure tests: one fast regeneration of every figure, shared by the data tests."""

import argparse
import os
import time

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def fast_run(tmp_path_factory):
    """Run ``polyak figures --fast --out DIR`` (the CLI path) once; return (DIR, seconds)."""
    from polyak.figures.cli import run_figures

    out = tmp_path_factory.mktemp("figures-out")
    args = argparse.Namespace(names=[], fast=True, out=str(out), format="png,pdf", progress=False, list=False)
    t0 = time.perf_counter()
    rc = run_figures(args)
    seconds = time.perf_counter() - t0
    assert rc == 0
    return out, seconds


@pytest.fixture(scope="session")
def fast_data(fast_run):
    """name -> (data, sidecar), loaded from the cache the CLI run wrote."""
    import polyak.figures as pf

    out, _ = fast_run
    return {n: pf.compute(n, fast=True, cache_dir=out / "data") for n in pf.names()}
