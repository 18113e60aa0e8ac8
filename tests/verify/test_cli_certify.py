"""`polyak certify`: JSON keys, exit codes, numbers consistent with the library."""

from __future__ import annotations

import json

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


def test_certify_not_certified_exits_0(capsys):
    rc, out, _ = run(capsys, ["certify", "hb", "--mu", "1", "--L", "100", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["certified"] is False and d["rate"] is None and d["status"] != "optimal"


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
