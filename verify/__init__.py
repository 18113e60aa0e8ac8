"""polyak.verify: turn the papers' statements into checks (claims, rates, certificates, the runner).

Public API (everything is imported lazily, so ``import polyak.verify`` is cheap; the certificate
tools import cvxpy only when first used):

* :func:`assert_rate` -- one-line rate assertion for a user's own tests (:func:`measure_rate`: the
  fits it checks; :func:`default_floor`: their error floor);
* :class:`Claim`, :class:`Result`, :class:`Measurement`, :func:`evaluate` -- ``verify/claims.py``;
* :func:`run_claims`, :func:`collect` -- ``verify/runner.py``;
* :func:`fit_rate` (the asymptotic linear rate; also under the names :func:`fit_linear_rate`,
  :func:`fit_linear_rate_transient`), :func:`fit_sublinear_exponent`,
  :class:`RateFit`, :func:`seed_stats`, :class:`SeedStats` -- ``verify/rates.py``;
* :func:`certify_rate`, :class:`RateCertificate` -- ``verify/certificates.py`` (cvxpy);
  :func:`check_certificate`, :class:`CertificateCheck` -- ``verify/certificate_check.py`` (PEPit:
  an independent check of a certificate's Lyapunov function);
* :func:`quadratic_rate`, :func:`quadratic_worst_case` -- ``verify/quadratic.py`` (any linear method);
* :func:`linear_derivation` -- ``verify/linear.py`` (a linear method's symbolic iteration matrix);
* :func:`worst_case`, :func:`worst_cases`, :class:`WorstCase`, :class:`WorstInstance` (``verify/pep.py``), ``lessard_cycle``, ``find_periodic_orbit``
  (``verify/counterexamples.py``) where present.

>>> import polyak.verify as v
>>> round(v.fit_rate([1.0, 0.5, 0.25, 0.125, 0.0625], burn_in=0.0).rate, 12)
0.5
"""

from __future__ import annotations

_LAZY = {
    "assert_rate": "api",
    "measure_rate": "api",
    "default_floor": "api",
    "Claim": "claims",
    "Result": "claims",
    "Measurement": "claims",
    "Context": "claims",
    "evaluate": "claims",
    "run_claims": "runner",
    "collect": "runner",
    "exit_code": "runner",
    "fit_rate": "rates",
    "fit_linear_rate": "rates",
    "fit_linear_rate_transient": "rates",
    "fit_sublinear_exponent": "rates",
    "RateFit": "rates",
    "SeedStats": "rates",
    "seed_stats": "rates",
    "certify_rate": "certificates",
    "check_rate": "certificates",
    "RateCertificate": "certificates",
    "check_certificate": "certificate_check",
    "CertificateCheck": "certificate_check",
    "WorstCase": "pep",
    "WorstInstance": "pep",
    "worst_case": "pep",
    "worst_cases": "pep",
    "lessard_cycle": "counterexamples",
    "find_periodic_orbit": "counterexamples",
    "quadratic_rate": "quadratic",
    "quadratic_worst_case": "quadratic",
    "linear_derivation": "linear",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
