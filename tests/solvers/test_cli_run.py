"""`polyak run`: JSON contents, options for every hyperparameter, errors exit 2 without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from polyak.cli import main


def run_json(capsys, *args):
    code = main(["run", *args, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_run_json_fields(capsys):
    rep = run_json(capsys, "--method", "hb", "--problem", "quadratic", "--mu", "1", "--L", "100", "--dim", "8",
                   "--alpha", str(4 / 121), "--beta", str((9 / 11) ** 2), "--steps", "300")
    for key in ("fitted_rate", "final_dist", "final_gap", "diverged", "beta_trace", "x_tail"):
        assert key in rep
    # at the optimum the error is ~ (a + b k) rho^k (double roots): the fit uses that model and recovers 9/11
    assert rep["fit_model"] == "(a+bk) rho^k" and rep["fit_power"] == 1.0 and len(rep["fit_coef"]) == 3
    assert abs(rep["fitted_rate"] / (9 / 11) - 1) < 2e-3, rep["fitted_rate"]
    assert rep["diverged"] == [False]
    assert len(rep["beta_trace"]) == 301 and rep["beta_trace"][5] == pytest.approx((9 / 11) ** 2)
    assert np.asarray(rep["x_tail"]).shape == (10, 8)


def test_run_x0_and_dimension_limit_for_x_tail(capsys):
    rep = run_json(capsys, "--method", "gd", "--alpha", "0.5", "--mu", "1", "--L", "1", "--dim", "3",
                   "--x0", "2", "--steps", "3")
    # alpha = 1/(2L) halves the error each step from x0 = (2, 2, 2)
    np.testing.assert_allclose(rep["x_tail"][-1], [0.25, 0.25, 0.25], rtol=1e-15)
    big = run_json(capsys, "--method", "gd", "--dim", "11", "--steps", "2")
    assert "x_tail" not in big


def test_run_hyphenated_hyperparameter(capsys):
    rep = run_json(capsys, "--method", "sgdm", "--lr", "0.01", "--weight-decay", "0.1", "--steps", "5")
    assert rep["hyper"]["weight_decay"] == 0.1


@pytest.mark.parametrize("args,match", [
    (["--method", "hb", "--beta", "1.5"], r"beta \(momentum\) must be in \[0, 1\)"),
    (["--method", "hb", "--alpha", "-1"], r"alpha \(step size\) must be in \[0, inf\)"),
    (["--method", "hb", "--mu", "5", "--L", "1"], "mu"),
    (["--method", "warp"], "unknown method"),
    (["--method", "hb", "--problem", "nope"], "unknown problem"),
    (["--method", "hb", "--backend", "jax"], "backend must be one of"),
    (["--method", "hb", "--colour", "red"], "unknown option"),
    (["--method", "hb", "--steps", "0"], "--steps: must be a positive integer"),
])
def test_run_bad_input_exits_2(capsys, args, match):
    import re

    assert main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert "Traceback" not in err


def test_console_entry_point_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "polyak", "run", "--method", "hb", "--beta", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "beta (momentum) must be in [0, 1)" in proc.stderr
    assert "Traceback" not in proc.stderr
