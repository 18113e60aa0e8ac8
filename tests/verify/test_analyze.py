"""polyak analyze (verify/analyze.py), file.py:NAME methods for analyze/run, and polyak verify --claims."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import polyak
import polyak.theory as th
from polyak.cli import main
from polyak.verify.analyze import analyze, format_report, plot_report

USER_FILE = textwrap.dedent(
    """
    import polyak

    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
    def file_tmm(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x
    """
)


@pytest.fixture
def user_file(tmp_path, forget_names):
    path = tmp_path / "mymethods.py"
    path.write_text(USER_FILE)
    forget_names.append("file-tmm")
    return str(path)


def test_analyze_hb_parts_against_independent_numbers():
    a, b = 0.04, 0.5
    rep = analyze(polyak.make_method("hb", alpha=a, beta=b), 1.0, 25.0,
                  parts=("quadratic", "simulated_quadratic", "certified", "pep"), pep_steps=2)
    rho = float(th.hb_rate(a, b, 1.0, 25.0))
    assert rep["quadratic"]["rate"] == pytest.approx(rho, rel=1e-9)
    # the fitted rate on quadratics with mu and L in the spectrum approaches the worst case from below
    assert rep["simulated_quadratic"]["rate"] == pytest.approx(rho, rel=2e-3)
    cert = rep["certified"]
    assert cert["status"] == "ok" and cert["certified"]
    assert rho - 1e-6 <= cert["rate"] <= 1.0
    rows = rep["pep"]["worst_cases"]
    assert [r["N"] for r in rows] == [1, 2] and all(r["certified"] for r in rows)
    # one step of HB from x_{-1} = x_0 is one GD step: worst ||x_1 - x*||^2 = max(1 - a mu, a L - 1)^2
    assert rows[0]["value"] == pytest.approx(max(1 - a, 25 * a - 1) ** 2, rel=1e-5)
    for r in rep.values():
        if isinstance(r, dict) and "seconds" in r:
            assert r["seconds"] >= 0
    text = format_report(rep)
    assert "quadratic worst case" in text and "certified" in text


def test_analyze_user_method_reports_unavailable_tools_gracefully(forget_names):
    @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0)
    def an_tmm(x, x_prev, grad, *, alpha, beta, gamma):
        y = x + gamma * (x - x_prev)
        return x + beta * (x - x_prev) - alpha * grad(y), x

    forget_names.append("an-tmm")
    from polyak.solvers.triple_momentum import triple_momentum_tuning

    t = triple_momentum_tuning(1.0, 16.0)
    m = an_tmm(alpha=t["alpha"], beta=t["beta"], gamma=t["gamma"])
    rep = analyze(m, 1.0, 16.0, parts=("quadratic", "certified", "counterexample"), pep_steps=1)
    assert rep["quadratic"]["rate"] == pytest.approx(0.75, rel=1e-12)
    c = rep["certified"]
    assert c["status"] in ("ok", "not available")
    if c["status"] == "ok":  # once certify_rate takes general methods: no rate below the quadratic one
        assert c["rate"] is None or c["rate"] >= 0.75 - 1e-6
    else:
        assert "certify_rate" in c["reason"]
    assert rep["counterexample"]["verdict"].startswith("no periodic orbit")


def test_analyze_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown part"):
        analyze(polyak.make_method("gd"), 1.0, 2.0, parts=("nope",))
    with pytest.raises(ValueError, match="0 < mu <= L"):
        analyze(polyak.make_method("gd"), 3.0, 2.0)


def test_cli_analyze_file_method_json(user_file, capsys, tmp_path):
    fig = tmp_path / "rep.png"
    rc = main(["analyze", f"{user_file}:file_tmm", "--mu", "1", "--L", "25", "--alpha", "0.04", "--beta", "0.5",
               "--parts", "quadratic,simulated_quadratic", "--json", "--figure", str(fig)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["method"] == "file-tmm"
    # gamma = 0: heavy ball, whose worst rate has a closed form
    assert rep["quadratic"]["rate"] == pytest.approx(float(th.hb_rate(0.04, 0.5, 1.0, 25.0)), rel=1e-9)
    assert fig.stat().st_size > 1000
    assert main(["analyze", f"{user_file}:file_tmm", "--mu", "1", "--L", "25", "--delta", "1"]) == 2
    assert "unknown option(s) --delta" in capsys.readouterr().err
    assert main(["analyze", f"{user_file}:nothing", "--mu", "1", "--L", "2"]) == 2
    assert "defines no method 'nothing'" in capsys.readouterr().err


def test_cli_run_file_method_matches_simulate(user_file, capsys):
    rc = main(["run", "--method", f"{user_file}:file_tmm", "--alpha", "0.01", "--beta", "0.3", "--gamma", "0.2",
               "--steps", "40", "--json"])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    m = polyak.make_method("file-tmm", alpha=0.01, beta=0.3, gamma=0.2)
    tr = polyak.simulate(m, polyak.make_problem("quadratic"), 40)
    np.testing.assert_allclose(rep["final_dist"], tr.dist[-1].reshape(-1), rtol=1e-12)


CLAIMS_FILE = textwrap.dedent(
    """
    from polyak.verify import Claim, Measurement

    def _rate(seed, backend):
        import polyak
        from polyak.verify.quadratic import quadratic_rate
        return Measurement(quadratic_rate(polyak.make_method("gd", alpha=2 / 11), 1.0, 10.0))

    def claims():
        return [Claim(id="mine.gd-rate", paper="polyak1964", statement="GD at 2/(L+mu) has rate 9/11",
                      provenance="[derived]", relation="tight", measure=_rate, predict=PREDICT, rtol=1e-12)]
    """
)


@pytest.mark.parametrize("predict, code", [("9 / 11", 0), ("0.8", 1)])
def test_cli_verify_user_claims(tmp_path, capsys, predict, code):
    path = tmp_path / f"claims_{code}.py"
    path.write_text(CLAIMS_FILE.replace("PREDICT", predict))
    assert main(["verify", "--claims", str(path)]) == code
    out = capsys.readouterr().out
    assert "mine.gd-rate" in out and "polyak1964.gd-optimal-rate" not in out


def test_cli_verify_claims_bad_path(capsys):
    assert main(["verify", "--claims", "/nonexistent/claims.py"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_plot_report_without_optional_parts(tmp_path):
    rep = analyze(polyak.make_method("gd", alpha=0.1), 1.0, 5.0, parts=("quadratic",))
    out = plot_report(rep, str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").stat().st_size > 1000 and out.endswith("g.png")


def test_a_claims_file_imports_the_users_module_next_to_it(tmp_path, capsys, monkeypatch):
    # as when Python runs a script: the claims file's folder is importable (its own methods module)
    (tmp_path / "my_methods_for_claims.py").write_text(textwrap.dedent(
        """
        import polyak

        @polyak.linear_method(alpha=2 / 11, register=False)
        def my_gd(x, grad, *, alpha):
            return x - alpha * grad(x)
        """))
    (tmp_path / "claims_sibling.py").write_text(textwrap.dedent(
        """
        from polyak.verify import Claim, Measurement
        import my_methods_for_claims as mm

        def _rate(seed, backend):
            from polyak.verify.quadratic import quadratic_rate
            return Measurement(quadratic_rate(mm.my_gd(), 1.0, 10.0))

        def claims():
            return [Claim(id="mine.sibling", paper="polyak1964", statement="GD at 2/(L+mu): 9/11",
                          provenance="[derived]", relation="tight", measure=_rate, predict=9 / 11, rtol=1e-12)]
        """))
    monkeypatch.chdir("/")
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    assert main(["verify", "--claims", str(tmp_path / "claims_sibling.py")]) == 0
    assert "mine.sibling" in capsys.readouterr().out


def test_a_long_pep_row_keeps_whole_numbers_and_the_last_value():
    # 10 worst cases do not fit on the row: the first values that fit, "...", then N = 10's, never
    # a number cut in two (the row was vals[:80] before)
    values = [0.9 ** (k + 1) + 1e-7 * k for k in range(10)]
    rep = {"method": "hb", "hyper": {}, "mu": 1.0, "L": 10.0,
           "pep": {"status": "ok", "metric": "dist", "seconds": 0.1,
                   "worst_cases": [{"N": k + 1, "value": v, "certified": True} for k, v in enumerate(values)]}}
    row = next(line for line in format_report(rep).splitlines() if "PEP N=1..10" in line)
    from polyak.verify.analyze import _num

    assert ", ..., " + _num(values[-1]) in row and _num(values[0]) in row
    shown = row.split("(dist)")[1].split(", ..., ")[0].split(", ")
    assert [s.strip() for s in shown] == [_num(v) for v in values[:len(shown)]]
