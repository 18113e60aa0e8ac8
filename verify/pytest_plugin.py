"""pytest plugin of polyak (entry point ``pytest11``: ``polyak = "polyak.verify.pytest_plugin"``).

Loaded in every pytest session where polyak is installed, so it imports nothing heavy at import
time (no numpy, scipy, sympy, cvxpy, torch): everything is imported inside the fixture.

What it provides
----------------
* the fixture ``rate_check``: the function :func:`polyak.verify.assert_rate`, so a test asserts a
  rate claim in one line::

      def test_my_tuning(rate_check):
          from polyak.solvers import make_method, make_problem
          rate_check(make_method("gd", alpha=0.5), make_problem("quadratic", mu=1, L=3, dim=5), 0.5)

* the fixture ``polyak_verify``: a function ``polyak_verify(claim_or_pattern, seed=0,
  backend="numpy")`` that runs a :class:`polyak.verify.Claim` (or the claims of ``polyak.papers``
  whose id matches a pattern, full suite) and fails the test with the Result's numbers unless every
  one passes (skipped claims skip the test, with their reason);

* the marker ``polyak_claim(pattern, seed=0, backend="numpy")``: a test marked with it runs the
  matching papers' claims before its body (the body may be just ``pass``)::

      @pytest.mark.polyak_claim("polyak1964.gd-optimal-rate")
      def test_gd_claim():
          pass

The command-line options are none; the marker is registered (``--strict-markers`` safe).
"""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "polyak_claim(pattern, seed=0, backend='numpy'): run the polyak.papers claims whose id matches "
        "pattern before the test; fail with their numbers unless all pass",
    )


def _run(target, seed=0, backend="numpy"):
    from polyak.verify.claims import Claim, evaluate
    from polyak.verify.runner import collect, select

    if isinstance(target, Claim):
        claims = [target]
    else:
        claims = select(collect("full"), str(target))
        if not claims:
            raise pytest.UsageError(f"polyak: no claim matches {target!r}")
    results = [evaluate(c, seed=seed, backend=backend) for c in claims]
    bad = [r for r in results if r.status in ("FAIL", "error")]
    if bad:
        lines = []
        for r in bad:
            extra = r.details.get("error", "")
            lines.append(f"{r.claim} [{r.relation}] {r.status}: predicted {r.predicted!r}, measured {r.measured!r}, "
                         f"margin {r.margin:+.3g}; tolerance {r.tolerance.get('rtol')} ({r.tolerance.get('note')}) {extra}")
        pytest.fail("polyak claim(s) failed:\n" + "\n".join(lines), pytrace=False)
    skipped = [r for r in results if r.status in ("skipped", "not checkable")]
    if skipped and len(skipped) == len(results):
        pytest.skip("; ".join(f"{r.claim}: {r.details.get('reason', r.status)}" for r in skipped))
    return results


@pytest.fixture
def rate_check():
    """``polyak.verify.assert_rate``: ``rate_check(method, problem, rate, relation="tight", rtol=...)``."""
    from polyak.verify.api import assert_rate

    return assert_rate


@pytest.fixture
def polyak_verify():
    """Run a Claim (or the papers' claims matching a pattern); fail the test unless all pass."""
    return _run


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("polyak_claim")
    if marker is None:
        return
    if not marker.args:
        raise pytest.UsageError("polyak_claim needs a claim id pattern, e.g. @pytest.mark.polyak_claim('polyak1964.*')")
    _run(marker.args[0], seed=marker.kwargs.get("seed", 0), backend=marker.kwargs.get("backend", "numpy"))
