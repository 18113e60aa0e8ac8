"""Claims: the relations on hand-made numbers, statuses, and every true fast claim over 10 seeds."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from polyak.verify.claims import Claim, Measurement, check_certified, check_decreasing, check_tight, check_upper, evaluate
from polyak.verify.runner import collect

SEEDS = range(10)


def mk(**kw):
    base = dict(id="t.x", paper="polyak1964", statement="s", provenance="[derived]", relation="tight",
                measure=lambda s, b: 1.0, predict=1.0, rtol=1e-3)
    base.update(kw)
    return Claim(**base)


# ---------------------------------------------------------------- relations on known numbers
def test_tight_relation():
    assert check_tight(1.0005, 1.0, 1e-3)[0]
    ok, margin, _ = check_tight(1.002, 1.0, 1e-3)
    assert not ok and math.isclose(margin, 0.002, rel_tol=1e-9)
    assert check_tight(0.9995, 1.0, 1e-3)[1] == pytest.approx(-5e-4)
    assert check_tight([1.0, 2.0], [1.0, 2.001], 1e-3)[0]
    assert not check_tight([1.0, 2.0], [1.0, 2.01], 1e-3)[0]
    assert not check_tight(float("nan"), 1.0, 1.0)[0]


def test_upper_relation_every_k():
    b = np.array([1.0, 0.5, 0.25])
    ok, margin, info = check_upper([1.0, 0.4, 0.2], b, 0.0)
    assert ok and margin == 0.0
    ok, margin, info = check_upper([0.9, 0.4, 0.26], b, 0.0)  # above the bound only at the last k
    assert not ok and info["first_violation"] == 2 and margin == pytest.approx(0.04)
    assert not check_upper([0.9, np.inf, 0.1], b, 0.0)[0]  # a diverged value is above any bound


def test_decreasing_relation():
    assert check_decreasing([3.0, 2.0, 2.0, 1.0], 0.0)[0]
    ok, margin, info = check_decreasing([3.0, 2.0, 2.1, 1.0], 0.0)
    assert not ok and info["first_violation"] == 1 and margin == pytest.approx(0.1 / 2.1)
    assert check_decreasing([1.0, 1.0 + 1e-16], 1e-12)[0]  # round-off allowance


def test_certified_relation_needs_optimal_status():
    good = SimpleNamespace(status="optimal", certified=True, rate=0.9)
    assert check_certified(good, 0.9, 1e-6)[0]
    assert not check_certified(good, 0.85, 1e-6)[0]
    for status, cert, rate in (("optimal_inaccurate", True, 0.9), ("infeasible", False, None), ("optimal", False, None)):
        assert not check_certified(SimpleNamespace(status=status, certified=cert, rate=rate), 0.95, 1e-6)[0]


# ---------------------------------------------------------------- statuses
def test_fail_is_a_result_not_an_exception():
    r = evaluate(mk(measure=lambda s, b: 1.1))
    assert r.status == "FAIL" and r.passed is False and r.margin == pytest.approx(0.1)


def test_exception_is_an_error_result():
    def boom(seed, backend):
        raise RuntimeError("broken measurement")

    r = evaluate(mk(measure=boom))
    assert r.status == "error" and r.passed is None and "broken measurement" in r.details["error"]


def test_missing_requirement_skips_with_reason():
    r = evaluate(mk(requires=("method:no-such-method",)))
    assert r.status == "skipped" and "no-such-method" in r.details["reason"]


def test_not_checkable_is_never_passed():
    r = evaluate(mk(measure=None, predict=None, checkable=False, reason="empirical"))
    assert r.status == "not checkable" and r.passed is None


def test_claim_validation():
    with pytest.raises(ValueError, match="relation"):
        mk(relation="roughly")
    with pytest.raises(ValueError, match="provenance"):
        mk(provenance="derived")
    with pytest.raises(ValueError, match="open"):
        mk(provenance="[open]")


def test_prediction_may_use_the_measurement():
    c = mk(measure=lambda s, b: Measurement(2.0 * s, context={"s": s}), predict=lambda ctx: 2.0 * ctx.measurement.context["s"] + 2.0,
           rtol=0.0, atol=2.0)
    assert evaluate(c, seed=3).status == "pass"


# ---------------------------------------------------------------- the papers' true claims, 10 seeds
FAST = [c for c in collect("fast") if c.checkable]


def test_every_paper_module_has_fast_claims():
    from polyak.papers import MODULES

    papers_with = {c.id.split(".")[0] for c in FAST}
    assert set(MODULES) <= papers_with


@pytest.mark.parametrize("claim", FAST, ids=[c.id for c in FAST])
def test_true_claim_passes_for_10_seeds(claim):
    if claim.missing():
        pytest.skip(f"{claim.id} needs {claim.missing()}")
    for seed in SEEDS:
        r = evaluate(claim, seed=seed)
        assert r.status == "pass", (seed, r.status, r.predicted, r.measured, r.margin, r.details.get("error"))
    if claim.seeds_matter:
        # the seed changes something real (instance, start, parameters): two seeds measure different numbers
        # (or the experiment's parameters, in the details, when the measured value is a seed-free limit,
        # as the attracting LRP cycle reached from different starts)
        ma, mb = (claim.measure(s, "numpy") for s in (0, 1))
        a, b = _values(ma), _values(mb)
        differ = a.shape != b.shape or not np.array_equal(a, b)
        if not differ and isinstance(ma, Measurement):
            differ = repr(ma.details) != repr(mb.details)
        assert differ, claim.id


def _values(m) -> np.ndarray:
    v = m.value if isinstance(m, Measurement) else m
    if hasattr(v, "rate") and hasattr(v, "status"):  # a certificate
        v = [v.rate, v.L] if hasattr(v, "L") else [v.rate]
    return np.asarray(v, dtype=float)


def test_a_measurement_of_one_element_evaluates_to_its_number():
    # a (1,) array (one problem instance, one seed) is a number in the report: numpy 2.4 refuses
    # float() of it, which made evaluate crash instead of reporting
    from polyak.verify.claims import Claim, evaluate

    c = Claim(id="t.one", paper="polyak1964", statement="s", provenance="[derived]", relation="tight",
              measure=lambda seed, backend: np.array([0.5]), predict=np.array([0.5]), rtol=1e-12)
    r = evaluate(c)
    assert r.status == "pass" and r.measured == 0.5 and r.predicted == 0.5
