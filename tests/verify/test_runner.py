"""The runner: collection from polyak.papers, selection, results, exit codes."""

from __future__ import annotations

import pytest

from polyak.verify.claims import Claim, Result
from polyak.verify.runner import collect, exit_code, run_claims, select


def test_collect_suites():
    fast, full = collect("fast"), collect("full")
    ids = [c.id for c in full]
    assert len(ids) == len(set(ids))
    assert {c.id for c in fast} < set(ids)
    assert all(c.suite == "fast" for c in fast)
    assert any(c.suite == "full" for c in full)
    with pytest.raises(ValueError, match="suite"):
        collect("medium")


def test_select_glob_and_substring():
    claims = collect("fast")
    assert {c.id for c in select(claims, "polyak1964.gd-*")} == {"polyak1964.gd-optimal-rate", "polyak1964.gd-step-1/L"}
    assert all("lyapunov" in c.id for c in select(claims, "lyapunov"))
    assert {c.paper for c in select(claims, "chen2019demon")} == {"chen2019demon"}
    assert select(claims, "no-such-claim") == []


def test_run_claims_returns_results_with_provenance():
    res = run_claims(collect("fast"), only="polyak1964.gd-optimal-rate", seed=3)
    assert len(res) == 1 and isinstance(res[0], Result)
    r = res[0]
    assert r.status == "pass" and r.paper == "polyak1964" and r.provenance.startswith("[derived]")
    assert r.seconds > 0 and r.seed == 3 and r.tolerance["note"]
    d = r.to_dict()
    assert d["claim"] == "polyak1964.gd-optimal-rate" and isinstance(d["measured"], list)


def test_run_claims_validates():
    with pytest.raises(ValueError, match="backend"):
        run_claims([], backend="jax")
    with pytest.raises(ValueError, match="seed"):
        run_claims([], seed=-1)


def _claim(measure, predict=1.0):
    return Claim(id="t.c", paper="polyak1964", statement="s", provenance="[derived]", relation="tight",
                 measure=measure, predict=predict, rtol=1e-3)


def test_exit_codes():
    ok = run_claims([_claim(lambda s, b: 1.0)])
    bad = run_claims([_claim(lambda s, b: 2.0)])
    err = run_claims([_claim(lambda s, b: 1 / 0)])
    assert exit_code(ok) == 0 and exit_code(bad) == 1 and exit_code(err) == 2
    assert exit_code(ok + bad + err) == 2


def test_torch_backend_gives_the_same_numbers():
    pytest.importorskip("torch")
    a = run_claims(collect("fast"), only="polyak1964.gd-optimal-rate", backend="numpy")[0]
    b = run_claims(collect("fast"), only="polyak1964.gd-optimal-rate", backend="torch")[0]
    assert b.status == "pass" and b.backend == "torch"
    assert abs(a.measured - b.measured).max() <= 1e-12
