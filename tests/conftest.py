"""Shared test configuration: float64, a derandomized hypothesis profile, optional torch."""

import os

import numpy as np
import pytest

try:  # hypothesis is a test extra
    from hypothesis import settings

    settings.register_profile("polyak", derandomize=True, deadline=None, max_examples=50)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "polyak"))
except ImportError:  # pragma: no cover
    pass

os.environ.setdefault("MPLBACKEND", "Agg")
# the tests build every derivation (they test the builders), not a copy from the disk cache;
# tests/theory/test_derivation_cache.py tests the cache in a temporary folder
os.environ.setdefault("POLYAK_DERIVATION_CACHE", "0")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def torch_or_skip():
    return pytest.importorskip("torch")


@pytest.fixture
def forget_names():
    """Names of user-defined linear methods a test registers; removed (examples restored) after it."""
    names: list[str] = []
    yield names
    from polyak.solvers import forget_linear_method

    for n in names:
        try:
            forget_linear_method(n)
        except ValueError:
            pass
