"""`polyak verify`: table, summary line, exit codes 0/1/2, --json report."""

from __future__ import annotations

import json
import re

import pytest

from polyak.cli import main
from polyak.verify.claims import Claim


def run(capsys, *argv):
    code = main(["verify", *argv])
    return code, capsys.readouterr().out


def test_pass_exit_0_and_json(capsys, tmp_path):
    path = tmp_path / "report.json"
    code, out = run(capsys, "--suite", "fast", "--only", "polyak1964.gd-*", "--json", str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["claim", "status", "margin", "(of", "scale)"]
    assert lines[1].split() == ["relation", "predicted", "measured", "seconds"]
    assert re.search(r"^2 passed, 0 failed$", out, re.M)
    rep = json.loads(path.read_text())
    assert rep["counts"]["pass"] == 2 and rep["environment"]["backend"] == "numpy" and rep["environment"]["seed"] == 0
    assert rep["environment"]["versions"]["numpy"]
    assert {r["claim"] for r in rep["results"]} == {"polyak1964.gd-optimal-rate", "polyak1964.gd-step-1/L"}


def _fake(monkeypatch, measure):
    claim = Claim(id="fake.claim", paper="polyak1964", statement="s", provenance="[derived]", relation="tight",
                  measure=measure, predict=1.0, rtol=1e-3)
    import polyak.verify.runner as runner

    monkeypatch.setattr(runner, "collect", lambda suite="fast": [claim])


def test_fail_exit_1(capsys, monkeypatch):
    _fake(monkeypatch, lambda s, b: 1.5)
    code, out = run(capsys, "--only", "fake")
    assert code == 1 and re.search(r"^0 passed, 1 failed$", out, re.M) and "FAIL" in out


def test_error_exit_2(capsys, monkeypatch):
    def boom(seed, backend):
        raise RuntimeError("kaput")

    _fake(monkeypatch, boom)
    code, out = run(capsys, "--only", "fake")
    assert code == 2 and re.search(r"^0 passed, 0 failed, 1 errors$", out, re.M) and "kaput" in out


def test_no_match_is_an_input_error(capsys):
    code = main(["verify", "--only", "no-such-claim-anywhere"])
    assert code == 2
    assert "no claim matches" in capsys.readouterr().err


def test_not_checkable_is_listed_not_passed(capsys):
    code, out = run(capsys, "--only", "demon.headline")
    assert code == 0 and re.search(r"^0 passed, 0 failed$", out, re.M) and "not checkable" in out


def _row(out: str, claim: str) -> tuple[str, str]:
    """The two lines of ``claim``'s row in the table."""
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.split()[:1] == [claim])
    return lines[i], lines[i + 1]


def test_table_prints_every_margin_with_its_scale(capsys, tmp_path):
    # demon.*: relative (|predicted|), Lyapunov (max(|V_k|, |V_k+1|)) and a stated numeric scale with
    # a note too long for the table (shortened, marked *, written out below), and a not-checkable claim
    path = tmp_path / "r.json"
    code, out = run(capsys, "--only", "demon.*", "--json", str(path))
    assert code == 0
    results = json.loads(path.read_text())["results"]
    kinds = set()
    for r in results:
        first, second = _row(out, r["claim"])
        assert first.split()[1] == r["status"].split()[0] and second.split()[0] == r["relation"]
        scale = r["details"].get("margin_scale")
        if scale is None:  # not checkable: no margin, no scale
            assert r["status"] == "not checkable" and first.rstrip().endswith("-")
            kinds.add("none")
            continue
        margin = f"{float(r['margin']):+.2e}"
        shown = first.split(margin + " of ", 1)[1]  # the margin is followed by the scale it is relative to
        if shown.endswith("*"):
            assert len(scale) > 22 and scale.startswith(shown[:-1] + " (")
            assert f"* {r['claim']}: margin relative to {scale.split(' (')[0]}" in out
            kinds.add("note")
        else:
            assert shown == scale
            kinds.add(scale)
    assert kinds == {"none", "note", "|predicted|", "max(|V_k|, |V_k+1|)"}


def test_table_fits_100_columns_for_the_library_claims():
    # every claim id of the full suite, with the widest values the library's claims produce
    # (arrays of 1608 negative entries in exponent notation, "not checkable", the longest scale)
    import numpy as np

    from polyak.verify.claims import Result
    from polyak.verify.cli import WIDTH, format_table
    from polyak.verify.runner import collect

    wide = -1.23456789e-5 * np.ones(1608)
    scales = ["|predicted|", "|bound_k|", "max(|V_k|, |V_k+1|)", "|claimed rate|", "1 (prediction 0)",
              "0.000136874 (the largest |second difference| of beta_t on the run)"]
    claims = collect("full")
    results = [Result(claim=c.id, paper=c.paper, relation="decreasing" if i % 2 else "certified", predicted=wide,
                      measured=wide, margin=-1.23e8 if i % 3 else float("nan"),
                      passed=None, status="not checkable" if i == 0 else "pass", seconds=1234.56,
                      provenance=c.provenance, details={"margin_scale": scales[i % len(scales)]})
               for i, c in enumerate(claims)]
    lines, notes = format_table(results)
    assert len(lines) == 3 + 2 * len(claims)
    assert max(len(line) for line in lines) <= WIDTH == 100
    assert max(len(c.id) for c in claims) <= 48  # what the layout was sized for
    assert any(line.startswith("* ") for line in notes)
    # the same rows with one claim id of 60 characters overflow: the check above can fail
    long = [Result(**{**r.__dict__, "claim": "x" * 60}) for r in results[:6]]
    assert max(len(line) for line in format_table(long)[0]) > WIDTH
