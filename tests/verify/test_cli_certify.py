"""`polyak certify`: JSON keys, exit codes, numbers consistent with the library."""

from __future__ import annotations

import json

import pytest

from polyak.cli import main


def run(capsys, argv):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_certify_rate_json(capsys):
    rc, out, _ = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.15", "--json"])
    assert rc == 0
    d = json.loads(out)
    for key in ("certified", "rate", "status", "seconds", "method", "mu", "L", "alpha", "beta"):
        assert key in d
    assert d["certified"] is True and d["status"] == "optimal"
    assert abs(d["rate"] - 0.85) < 3e-6  # max(|1 - 0.15|, |1 - 1.5|)


def test_certify_not_certified_exits_1(capsys):
    # classical hb tuning on kappa = 100 has no Lyapunov certificate (Lessard et al. 2016's counterexample)
    rc, out, _ = run(capsys, ["certify", "hb", "--mu", "1", "--L", "100", "--json"])
    d = json.loads(out)
    assert rc == 1 and d["certified"] is False and d["rate"] is None and d["status"] != "optimal"
    rc, out, _ = run(capsys, ["certify", "hb", "--mu", "1", "--L", "100"])
    assert rc == 1 and "NOT certified" in out


def test_certify_claimed_rate(capsys):
    # gd with alpha = 0.15 on [1, 10]: the exact rate is max(|1 - 0.15|, |1 - 1.5|) = 0.85
    rc, out, _ = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.15", "--rate", "0.86", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["certified"] is True and d["claimed_rate"] == 0.86
    rc, out, _ = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.15", "--rate", "0.84", "--json"])
    d = json.loads(out)
    assert rc == 1 and d["certified"] is False
    rc, out, _ = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.15", "--rate", "0.84"])
    assert rc == 1 and "NOT certified" in out
    rc, _, err = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--rate", "-1"])
    assert rc == 2 and "--rate" in err


def test_certify_steps_claimed_rate(capsys):
    # gd, alpha = 1/L: the N-step worst case of ||x_N - x*||^2 is (1 - mu/L)^(2N) = 0.9^6 for N = 3
    argv = ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.1", "--steps", "3", "--json"]
    rc, out, _ = run(capsys, argv + ["--rate", "0.9001"])
    assert rc == 0 and json.loads(out)["rate_certified"] is True
    rc, out, _ = run(capsys, argv + ["--rate", "0.8999"])
    assert rc == 1 and json.loads(out)["rate_certified"] is False


def test_certify_pep_memory_guard(capsys):
    rc, out, err = run(capsys, ["certify", "hb", "--mu", "1", "--L", "10", "--steps", "100000"])
    assert rc == 2 and out == "" and "--max-memory" in err and "Traceback" not in err and len(err.splitlines()) == 1
    rc, out, err = run(capsys, ["certify", "hb", "--mu", "1", "--L", "10", "--steps", "60", "--max-memory", "1T"])
    assert rc == 2 and "--max-seconds" in err


def test_certify_steps_json(capsys):
    rc, out, _ = run(capsys, ["certify", "gd", "--mu", "1", "--L", "10", "--alpha", "0.1", "--steps", "3",
                              "--metric", "fgap", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["certified"] is True and d["status"] == "optimal"
    assert abs(d["worst_case"] - 0.9**6) / 0.9**6 < 1e-4 and "seconds" in d


def test_certify_bad_input_exits_2(capsys):
    rc, _, err = run(capsys, ["certify", "hb", "--mu", "2", "--L", "1"])
    assert rc == 2 and "L" in err
    rc, _, err = run(capsys, ["certify", "hb", "--mu", "1", "--L", "10", "--beta", "1.5"])
    assert rc == 2 and "beta" in err
    rc, _, err = run(capsys, ["certify", "adam", "--mu", "1", "--L", "10"])
    assert rc == 2 and "method" in err


def test_certify_text_output(capsys):
    rc, out, _ = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "10"])
    assert rc == 0 and "certified linear rate" in out


USER_METHOD = '''
import polyak


@polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0, register=False)
def plain_hb(x, x_prev, grad, *, alpha, beta, gamma):
    y = x + gamma * (x - x_prev)
    return x + beta * (x - x_prev) - alpha * grad(y), x
'''


def test_certify_a_user_method_from_its_file(capsys, tmp_path):
    # The user's file defines heavy ball once (gamma = 0); polyak certify path.py:NAME must give the
    # same certified rate as the built-in hb at the same (alpha, beta), and the same N-step worst case.
    f = tmp_path / "mine.py"
    f.write_text(USER_METHOD)
    spec = f"{f}:plain_hb"
    args = ["--mu", "1", "--L", "10", "--alpha", "0.1", "--beta", "0.3", "--json"]
    rc_u, out_u, _ = run(capsys, ["certify", spec, *args])
    rc_b, out_b, _ = run(capsys, ["certify", "hb", *args])
    du, db = json.loads(out_u), json.loads(out_b)
    assert rc_u == rc_b == 0 and du["certified"] and db["certified"]
    assert abs(du["rate"] - db["rate"]) < 2e-6
    rc_u, out_u, _ = run(capsys, ["certify", spec, *args, "--steps", "3"])
    rc_b, out_b, _ = run(capsys, ["certify", "hb", *args, "--steps", "3"])
    wu, wb = json.loads(out_u), json.loads(out_b)
    assert rc_u == rc_b == 0
    assert abs(wu["worst_case"] - wb["worst_case"]) <= 1e-6 * wb["worst_case"]
    assert wu["hyper"] == {"alpha": 0.1, "beta": 0.3, "gamma": 0.0}
    # a claimed rate below the quadratic worst case of this tuning is refused with exit 1
    rc, out, _ = run(capsys, ["certify", spec, *args[:-1], "--rate", "0.5"])
    assert rc == 1 and "NOT certified" in out


def test_certify_refuses_nonlinear_and_missing_methods(capsys, tmp_path):
    rc, _, err = run(capsys, ["certify", "adaptive-hb", "--mu", "1", "--L", "10"])
    assert rc == 2 and "not linear" in err and err.count("\n") == 1
    rc, _, err = run(capsys, ["certify", str(tmp_path / "nope.py") + ":x", "--mu", "1", "--L", "10"])
    assert rc == 2 and "does not exist" in err


def test_certify_takes_a_methods_own_hyperparameters_as_options(capsys):
    # EMA momentum (eta, beta) is heavy ball with alpha = eta (1 - beta) (forms.py): same certificate
    from polyak.verify.certificates import certify_rate

    rc, out, _ = run(capsys, ["certify", "ema", "--mu", "1", "--L", "10", "--eta", "0.1", "--beta", "0.5", "--json"])
    assert rc == 0
    rep = json.loads(out)
    assert rep["hyper"]["eta"] == 0.1 and rep["rate"] == pytest.approx(
        certify_rate("hb", 1.0, 10.0, 0.05, 0.5).rate, abs=1e-9)
    rc, _, err = run(capsys, ["certify", "triple-momentum", "--mu", "1", "--L", "10", "--bogus", "1"])
    assert rc == 2 and "unknown option(s) --bogus" in err
    rc, _, err = run(capsys, ["certify", "hb", "--mu", "1", "--L", "10", "--eta", "3"])
    assert rc == 2 and "hb takes --alpha and --beta" in err


def test_certify_check_passes_on_our_certificate_and_fails_on_a_lowered_rate(capsys, monkeypatch):
    # --check runs polyak.verify.check_certificate on the certificate found: Nesterov at kappa = 50
    # passes (values at the PEPs' resolution); the same certificate claiming rate - 1e-3 (certify_rate
    # patched to return it) is rejected by the real check: exit 1, FAILED, a decrease value ~2 rho 1e-3
    pytest.importorskip("PEPit")
    import dataclasses

    import polyak.verify.certificates as vc

    rc, out, _ = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "50", "--check", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["certified"] and d["check"]["passed"] is True
    assert d["check"]["decrease"] <= 1e-6 and d["check"]["positivity"] <= 1e-6
    assert d["check"]["statuses"] == ["optimal", "optimal"]
    real = vc.certify_rate
    monkeypatch.setattr(vc, "certify_rate", lambda *a, **k: dataclasses.replace(real(*a, **k), rate=real(*a, **k).rate - 1e-3))
    rc, out, _ = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "50", "--check"])
    assert rc == 1 and "independent check FAILED" in out
    rc, out, _ = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "50", "--check", "--json"])
    d = json.loads(out)
    assert d["check"]["passed"] is False and d["check"]["decrease"] > 1e-4


@pytest.mark.parametrize("argv,needle", [
    (["--steps", "3"], "without --steps and --rate"),
    (["--rate", "0.95"], "without --steps and --rate"),
])
def test_certify_check_only_with_the_rate_certificate(capsys, argv, needle):
    rc, _, err = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "50", "--check", *argv])
    assert rc == 2 and needle in err


def test_certify_check_without_pepit_says_how_to_install(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PEPit" else real(name, *a))
    rc, _, err = run(capsys, ["certify", "nesterov", "--mu", "1", "--L", "50", "--check"])
    assert rc == 2 and "pip install 'polyak[pep]'" in err
