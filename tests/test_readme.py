"""The README's Python examples run, and say what they claim."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(blocks()) >= 2


def test_readme_engine_example_runs():
    ns: dict = {}
    exec(blocks()[0], ns)  # noqa: S102 - our own README
    traj = ns["traj"]
    assert traj.dist.shape == (501, 3, 1)
    # each kappa at its own optimum converges at (sqrt(kappa) - 1)/(sqrt(kappa) + 1) per step
    rho = (np.sqrt([10.0, 100.0, 1000.0]) - 1) / (np.sqrt([10.0, 100.0, 1000.0]) + 1)
    assert np.all(traj.dist[-1, :, 0] < 10 * 501 * rho ** 500 + 1e-12)


def test_readme_rate_check_example(pytester: pytest.Pytester):
    pytester.makepyfile(test_mine=blocks()[1])
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
