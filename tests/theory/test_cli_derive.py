"""`polyak derive` through the real entry point: listing, JSON with values, and exit 2 on bad input."""

from __future__ import annotations

import json
import math

import pytest

from polyak.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["derive", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list(capsys) -> None:
    code, out, _ = run(capsys)
    assert code == 0 and "hb-quadratic-optimal" in out and "spa-lyapunov" in out
    code, out, _ = run(capsys, "--json")
    assert code == 0 and {"hb-quadratic-optimal", "gfj-hb"} <= {r["name"] for r in json.loads(out)}


def test_hb_optimal_json_values(capsys) -> None:
    code, out, _ = run(capsys, "hb-quadratic-optimal", "--at", "mu=1,L=100", "--json")
    assert code == 0
    rec = json.loads(out)
    assert {"name", "latex", "provenance", "assumptions", "values"} <= set(rec)
    assert rec["name"] == "hb-quadratic-optimal" and rec["provenance"].startswith("[derived]")
    v = rec["values"]
    assert math.isclose(v["alpha"], 4 / (math.sqrt(100) + 1) ** 2, rel_tol=1e-14)
    assert math.isclose(v["beta"], (9 / 11) ** 2, rel_tol=1e-14)
    assert math.isclose(v["rho"], 9 / 11, rel_tol=1e-14)


@pytest.mark.parametrize(
    "name,at,key,expected",
    [
        ("gd-quadratic-optimal", "mu=1,L=100", "rho", 99 / 101),
        ("nesterov-standard", "mu=1,L=100", "rho", 1 - 1 / 10),
        ("nesterov-quadratic-optimal", "mu=1,L=100", "rho", 1 - 2 / math.sqrt(301)),
        ("demon-beta", "t=50,T=100,beta_init=0.9", "beta_t", 0.45 / 0.55),
        ("spa-to-hb", "eta=2,c_k=0.5,c_k1=0.25", "beta", 0.25),
        ("spa-lyapunov", "c=0.5,L=3", "eta_max", 0.5),
        ("gfj-hb", "alpha=0.5,mu=0.1,L=1", "beta", math.sqrt(0.95 * 0.5)),
    ],
)
def test_values(capsys, name: str, at: str, key: str, expected: float) -> None:
    code, out, _ = run(capsys, name, "--at", at, "--json")
    assert code == 0 and math.isclose(json.loads(out)["values"][key], expected, rel_tol=1e-13)


def test_text_and_latex(capsys) -> None:
    code, out, _ = run(capsys, "hb-quadratic-optimal", "--latex")
    assert code == 0 and r"\begin{aligned}" in out and "provenance" in out
    code, out, _ = run(capsys, "am-beta")
    assert code == 0 and "derivation:" in out and "beta_simplified" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["nope"], "unknown derivation"),
        (["hb-quadratic-optimal", "--at", "mu=2,L=1"], "mu = 2"),
        (["hb-quadratic-optimal", "--at", "mu"], "NAME=VALUE"),
        (["hb-quadratic-optimal", "--at", "mu=x,L=2"], "parameter mu must be a real number"),
        (["hb-quadratic-optimal", "--at", "kappa=3"], "unknown parameter(s) kappa"),
        (["demon-beta", "--at", "t=200,T=100,beta_init=0.9"], "t = 200"),
    ],
)
def test_bad_input_exits_2(capsys, argv: list[str], needle: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and needle in err, err


def test_registered_titles_are_the_built_titles() -> None:
    from polyak.theory import derivation as d

    for n in d.names():
        assert n in d._TITLES, f"{n} registered without a title: listing would build it"
        assert d._TITLES[n] == d.get(n).title, n


def test_listing_builds_nothing() -> None:
    import subprocess
    import sys

    code = ("import contextlib, io\nfrom polyak.cli import main\nfrom polyak.theory import derivation as d\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out: rc = main(['derive'])\n"
            "print(rc, len(out.getvalue().splitlines()), len(d._BUILT))")
    rc, lines, built = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True).stdout.split()
    from polyak.theory import names

    assert (rc, int(lines), built) == ("0", len(names()), "0")
