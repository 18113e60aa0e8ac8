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
    head = out.splitlines()[0].split()
    assert head == ["claim", "paper", "relation", "predicted", "measured", "margin", "status", "seconds"]
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
