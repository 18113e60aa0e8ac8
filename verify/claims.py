"""Claims and Results: a paper's statement bound to an experiment and a relation.

A :class:`Claim` says *what* is predicted (``predict``: a number, an array, or a callable of the
:class:`Context`), *how* it is measured (``measure(seed, backend)``: runs the engine and returns
a number, an array or a :class:`Measurement`), and *which relation* must hold between them:

``tight``
    ``|measured - predicted| <= rtol * |predicted| + atol`` (arrays: max-norm of the difference
    against the max-norm of the prediction). ``margin = (measured - predicted)/|predicted|``
    (signed, scalar claims) or the relative max-norm error (arrays).
``upper``
    ``measured_k <= bound_k (1 + rtol) + atol`` at *every* k (the measured sequence never above the
    predicted bound sequence). ``margin = max_k (measured_k - bound_k)/scale_k``: negative is
    slack, positive is the worst relative excess. The scale is stated and reported
    (``details["margin_scale"]``): ``|bound_k|`` by default; a claim whose bound is 0 somewhere
    (a sign condition) must state its own ``scale`` (a number or ``scale(ctx)``), e.g. the size
    of the measured quantity, so that margins of different claims are comparable.
``decreasing``
    the measured sequence (a Lyapunov function along a trajectory) never increases by more than
    round-off: ``V_{k+1} - V_k <= rtol * max(|V_k|, |V_{k+1}|) + atol`` for every k.
    ``margin = max_k (V_{k+1} - V_k)/max(|V_k|, |V_{k+1}|)``. ``predict`` is unused (None).
``certified``
    ``measure`` returns an SDP certificate (``verify/certificates.py``: ``.certified``, ``.rate``,
    ``.status``); the claim holds iff the solver status is ``optimal``, a certificate exists, and
    its rate is ``<= predicted (1 + rtol)``. Anything else (infeasible, inaccurate, no certificate)
    fails. ``margin = (certified rate - claimed)/claimed``.

A failing claim is information: :func:`evaluate` returns a :class:`Result` with ``passed=False``
and never raises for a failed relation. An exception while measuring or predicting becomes a
Result with status ``"error"`` (and the traceback in ``details``). A claim whose dependencies are
not available (a method or module not written yet) is ``"skipped"`` with the reason; a statement
that cannot be checked by this toolkit (an empirical deep-learning headline) is declared with
``checkable=False`` and reported as ``"not checkable"``, never as passed.

Every claim carries its provenance tag exactly as ``shared/papers.md`` writes it (``[paper]``,
``[code]``, ``[group]``, ``[derived]``, ``[derived numerically]``...) and a ``tolerance_note``: why its
tolerance is what it is (derived, not tuned until it passes).

References: taylor2017 (certificates), and the papers' modules in ``polyak.papers``.

Example
-------
>>> c = Claim(id="demo.one-third", paper="polyak1964", statement="1/3 is about 0.3333",
...           provenance="[derived]", relation="tight", predict=1 / 3,
...           measure=lambda seed, backend: 0.3333, rtol=1e-3, tolerance_note="4 digits")
>>> r = evaluate(c)
>>> r.status, round(r.margin, 6)
('pass', -0.0001)
"""

from __future__ import annotations

import importlib
import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

RELATIONS = ("tight", "upper", "decreasing", "certified")
SUITES = ("fast", "full")
PROVENANCE_TAGS = ("[paper]", "[code]", "[group]", "[derived]", "[derived numerically]", "[open]")
STATUSES = ("pass", "FAIL", "error", "skipped", "not checkable")


@dataclass
class Measurement:
    """What ``measure`` returns when a bare number is not enough.

    ``value``: the measured number or sequence; ``details``: anything worth reporting (fit window,
    residual, seed statistics...); ``context``: numbers the prediction needs from the run (for
    bounds that depend on the start, e.g. ``f(x_0) - f*``), passed to ``predict`` via
    :class:`Context`; ``k``: the step index of each entry of a sequence (for reports).
    """

    value: Any
    details: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    k: Any = None


@dataclass(frozen=True)
class Context:
    """What a ``predict`` callable may look at: the seed, the backend and the measurement."""

    seed: int
    backend: str
    measurement: Measurement


@dataclass(frozen=True, eq=False)
class Claim:
    """A checkable statement of a paper.

    Attributes:
        id: unique, dotted (``"polyak1964.hb-optimal-rate"``).
        paper: bib key in ``papers/refs.bib``.
        statement: the statement in words, with the theorem or equation where known.
        provenance: the papers.md tag (``[paper]``, ``[derived]``...), optionally followed by text.
        relation: one of :data:`RELATIONS`.
        predict: the prediction: a value, or ``predict(ctx: Context)``; None for ``decreasing``.
        measure: ``measure(seed, backend)`` -> value or :class:`Measurement`.
        rtol, atol: the tolerance of the relation (see the module docstring).
        tolerance_note: why the tolerance is what it is.
        scale, scale_note: the scale of the ``upper`` margin (a number or ``scale(ctx)``) and what
            it is; None: ``|bound_k|`` (then the bound must be non-zero everywhere).
        suite: ``"fast"`` (part of ``polyak verify``'s default) or ``"full"`` (large batches).
        requires: what must exist for the claim to run: ``"method:NAME"``, ``"problem:NAME"``,
            ``"module:dotted.name"`` or ``"attr:dotted.module:name"``; a missing one skips the claim
            with the reason.
        checkable: False for statements that this toolkit cannot check (reported, never passed).
        reason: why a claim is not checkable (or any note shown with a skip).
        seeds_matter: whether ``seed`` changes the experiment (random instance, noise); the tests
            run claims over several seeds.
    """

    id: str
    paper: str
    statement: str
    provenance: str
    relation: str
    measure: Callable[[int, str], Any] | None
    predict: Any = None
    rtol: float = 0.0
    atol: float = 0.0
    tolerance_note: str = ""
    scale: Any = None
    scale_note: str = ""
    suite: str = "fast"
    requires: tuple[str, ...] = ()
    checkable: bool = True
    reason: str = ""
    seeds_matter: bool = True

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"claim {self.id}: relation must be one of {', '.join(RELATIONS)}; got {self.relation!r}")
        if self.suite not in SUITES:
            raise ValueError(f"claim {self.id}: suite must be 'fast' or 'full'; got {self.suite!r}")
        if not any(self.provenance.startswith(t) for t in PROVENANCE_TAGS):
            raise ValueError(
                f"claim {self.id}: provenance must start with a papers.md tag ({', '.join(PROVENANCE_TAGS)}); "
                f"got {self.provenance!r}"
            )
        if self.provenance.startswith("[open]") and self.checkable:
            raise ValueError(f"claim {self.id}: an [open] statement is not the paper's claim; declare checkable=False")
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError(f"claim {self.id}: rtol and atol must be >= 0")
        if self.checkable and self.measure is None:
            raise ValueError(f"claim {self.id}: a checkable claim needs a measure callable")
        if self.checkable and self.relation != "decreasing" and self.predict is None:
            raise ValueError(f"claim {self.id}: relation {self.relation!r} needs a prediction")

    def with_(self, **changes: Any) -> "Claim":
        """A copy with some fields replaced (e.g. a deliberately wrong prediction, for tests)."""
        from dataclasses import replace

        return replace(self, **changes)

    def missing(self) -> list[str]:
        """Requirements that are not available now (empty when the claim can run)."""
        return [r for r in self.requires if not _available(r)]


@dataclass
class Result:
    """The outcome of running one claim.

    ``status`` is one of ``pass``, ``FAIL``, ``error``, ``skipped``, ``not checkable``;
    ``passed`` is True/False for pass/FAIL and None otherwise. ``predicted`` and ``measured`` are
    the headline numbers shown in a table (for sequences: the values at the worst k); the full
    sequences and fit diagnostics are in ``details``.
    """

    claim: str
    paper: str
    relation: str
    predicted: Any
    measured: Any
    margin: float
    passed: bool | None
    status: str
    seconds: float
    provenance: str
    statement: str = ""
    tolerance: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    seed: int = 0
    backend: str = "numpy"

    def to_dict(self) -> dict:
        return {
            "claim": self.claim, "paper": self.paper, "relation": self.relation,
            "predicted": _jsonable(self.predicted), "measured": _jsonable(self.measured),
            "margin": _jsonable(self.margin), "passed": self.passed, "status": self.status,
            "seconds": self.seconds, "provenance": self.provenance, "statement": self.statement,
            "tolerance": _jsonable(self.tolerance), "details": _jsonable(self.details), "seed": self.seed,
            "backend": self.backend,
        }


# ----------------------------------------------------------------------------------------
# requirements
# ----------------------------------------------------------------------------------------
def _available(req: str) -> bool:
    kind, _, name = req.partition(":")
    try:
        if kind == "method":
            from polyak.solvers import list_methods

            return name in list_methods()
        if kind == "problem":
            from polyak.solvers import list_problems

            return name in list_problems()
        if kind == "module":
            importlib.import_module(name)
            return True
        if kind == "attr":
            mod, _, attr = name.partition(":")
            return hasattr(importlib.import_module(mod), attr)
        if kind == "derivation":
            from polyak.theory import names

            return name in names()
    except ImportError:
        return False
    raise ValueError(f"unknown requirement kind in {req!r}; use method:, problem:, module:, attr: or derivation:")


# ----------------------------------------------------------------------------------------
# relations
# ----------------------------------------------------------------------------------------
def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def check_tight(measured: Any, predicted: Any, rtol: float, atol: float = 0.0) -> tuple[bool, float, dict]:
    m, p = _as_array(measured), _as_array(predicted)
    if m.shape != p.shape and m.size != 1 and p.size != 1:
        raise ValueError(f"tight: measured shape {m.shape} and predicted shape {p.shape} differ")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(p))):
        return False, float("inf"), {"reason": "non-finite measured or predicted value"}
    diff = float(np.max(np.abs(m - p)))
    scale = float(np.max(np.abs(p)))
    ok = diff <= rtol * scale + atol
    if m.size == 1 and p.size == 1:
        margin = float((m.item() - p.item()) / scale) if scale > 0 else float(m.item() - p.item())
    else:
        margin = diff / scale if scale > 0 else diff
    return bool(ok), margin, {"abs_error": diff, "margin_scale": "|predicted|" if scale > 0 else "1 (prediction 0)"}


def check_upper(measured: Any, bound: Any, rtol: float, atol: float = 0.0, scale: Any = None) -> tuple[bool, float, dict]:
    """``measured_k <= bound_k (1 + rtol) + atol`` at every k; margin relative to ``scale`` (a
    positive number) or, when None, to ``|bound_k|`` (ValueError if a bound is 0: state a scale)."""
    m, b = np.broadcast_arrays(_as_array(measured), _as_array(bound))
    if m.size == 0:
        raise ValueError("upper: empty measured sequence")
    if not np.all(np.isfinite(b)):
        return False, float("inf"), {"reason": "non-finite bound"}
    finite = np.isfinite(m)
    excess = np.where(finite, m - b, np.inf)
    if scale is None:
        if np.any(b == 0):
            raise ValueError("upper: the bound is 0 at some k, so |bound_k| is no scale for the margin; "
                             "the claim must state `scale`")
        scale_arr, scale_text = np.abs(b), "|bound_k|"
    else:
        sc = float(scale)
        if not (np.isfinite(sc) and sc > 0):
            raise ValueError(f"upper: scale must be a positive number; got {scale!r}")
        scale_arr, scale_text = np.full(b.shape, sc), f"{sc:.6g}"
    ratio = excess / scale_arr
    worst = int(np.argmax(ratio))
    ok = bool(np.all(excess <= rtol * np.abs(b) + atol))
    viol = np.flatnonzero(excess > rtol * np.abs(b) + atol)
    return ok, float(ratio.reshape(-1)[worst]), {
        "worst_index": worst, "violations": int(viol.size),
        "first_violation": int(viol[0]) if viol.size else None, "margin_scale": scale_text,
        "slack": float(max(0.0, -ratio.reshape(-1)[worst])),
    }


def check_decreasing(values: Any, rtol: float, atol: float = 0.0) -> tuple[bool, float, dict]:
    v = _as_array(values).reshape(-1)
    if v.size < 2:
        raise ValueError("decreasing: need at least two values")
    if not np.all(np.isfinite(v)):
        return False, float("inf"), {"reason": "non-finite Lyapunov value"}
    inc = np.diff(v)
    scale = np.maximum(np.maximum(np.abs(v[:-1]), np.abs(v[1:])), 1e-300)
    rel = inc / scale
    worst = int(np.argmax(rel))
    viol = np.flatnonzero(inc > rtol * scale + atol)
    return bool(viol.size == 0), float(rel[worst]), {
        "worst_index": worst, "violations": int(viol.size),
        "first_violation": int(viol[0]) if viol.size else None, "margin_scale": "max(|V_k|, |V_k+1|)",
    }


def check_certified(cert: Any, claimed: float, rtol: float) -> tuple[bool, float, dict]:
    status = str(getattr(cert, "status", "unknown"))
    certified = bool(getattr(cert, "certified", False))
    rate = getattr(cert, "rate", None)
    info = {"status": status, "certified": certified, "certified_rate": rate, "margin_scale": "|claimed rate|"}
    if hasattr(cert, "to_dict"):
        info["certificate"] = cert.to_dict()
    if status != "optimal" or not certified or rate is None or not math.isfinite(float(rate)):
        return False, float("inf"), info
    margin = (float(rate) - float(claimed)) / abs(float(claimed))
    return bool(float(rate) <= float(claimed) * (1 + rtol)), margin, info


# ----------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------
def evaluate(claim: Claim, *, seed: int = 0, backend: str = "numpy") -> Result:
    """Run one claim and return its :class:`Result` (never raises for a failing claim)."""
    base = dict(claim=claim.id, paper=claim.paper, relation=claim.relation, provenance=claim.provenance,
                statement=claim.statement, seed=seed, backend=backend,
                tolerance={"rtol": claim.rtol, "atol": claim.atol, "note": claim.tolerance_note})
    nan = float("nan")
    if not claim.checkable:
        return Result(predicted=None, measured=None, margin=nan, passed=None, status="not checkable", seconds=0.0,
                      details={"reason": claim.reason}, **base)
    t0 = time.perf_counter()
    try:
        missing = claim.missing()
    except Exception as exc:  # a broken requirement string is an error of the claim
        return _error(base, exc, t0)
    if missing:
        why = "needs " + ", ".join(missing) + " (not available yet)"
        if claim.reason:
            why += "; " + claim.reason
        return Result(predicted=None, measured=None, margin=nan, passed=None, status="skipped",
                      seconds=time.perf_counter() - t0, details={"reason": why}, **base)
    try:
        raw = claim.measure(seed, backend)
        meas = raw if isinstance(raw, Measurement) else Measurement(raw)
        ctx = Context(seed, backend, meas)
        pred = claim.predict(ctx) if callable(claim.predict) else claim.predict
        details = dict(meas.details)
        if claim.relation == "tight":
            ok, margin, info = check_tight(meas.value, pred, claim.rtol, claim.atol)
            shown_m, shown_p = meas.value, pred
        elif claim.relation == "upper":
            sc = claim.scale(ctx) if callable(claim.scale) else claim.scale
            ok, margin, info = check_upper(meas.value, pred, claim.rtol, claim.atol, sc)
            if claim.scale_note:
                info["margin_scale"] += f" ({claim.scale_note})"
            m, b = np.broadcast_arrays(_as_array(meas.value), _as_array(pred))
            w = info["worst_index"]
            shown_m, shown_p = float(m.reshape(-1)[w]), float(b.reshape(-1)[w])
            if meas.k is not None:
                info["worst_k"] = int(np.asarray(meas.k).reshape(-1)[w % np.asarray(meas.k).size])
        elif claim.relation == "decreasing":
            ok, margin, info = check_decreasing(meas.value, claim.rtol, claim.atol)
            v = _as_array(meas.value).reshape(-1)
            w = info["worst_index"]
            shown_p, shown_m = "non-increasing", float(v[w + 1] - v[w])
            if meas.k is not None:
                info["worst_k"] = int(np.asarray(meas.k).reshape(-1)[w])
        else:
            ok, margin, info = check_certified(meas.value, pred, claim.rtol)
            shown_m, shown_p = info["certified_rate"], pred
        details.update(info)
        shown_p, shown_m = _headline(shown_p), _headline(shown_m)
    except Exception as exc:
        return _error(base, exc, t0)
    return Result(predicted=shown_p, measured=shown_m, margin=margin, passed=ok,
                  status="pass" if ok else "FAIL", seconds=time.perf_counter() - t0, details=details, **base)


def _error(base: dict, exc: BaseException, t0: float) -> Result:
    return Result(predicted=None, measured=None, margin=float("nan"), passed=None, status="error",
                  seconds=time.perf_counter() - t0,
                  details={"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}, **base)


def _headline(x: Any) -> Any:
    if isinstance(x, (str, type(None))):
        return x
    a = np.asarray(x, dtype=float)
    return float(a.reshape(())) if a.size == 1 else a  # (numpy 2.4: float() of a (1,) array is an error)


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()] if x.ndim else _jsonable(x.item())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else str(v)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "to_dict"):
        return _jsonable(x.to_dict())
    if isinstance(x, (str, int, bool, type(None))):
        return x
    return repr(x)


def summarize(results: Sequence[Result]) -> dict[str, int]:
    """Counts by status."""
    out = {s: 0 for s in STATUSES}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out
