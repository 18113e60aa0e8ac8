"""The Method noun: a named, pure step rule with validated hyperparameters.

A method family is a :class:`MethodRule` subclass with

* ``params``: the hyperparameters (:class:`Param`), each with a default, a valid range and a doc;
* ``init(x0, h, be) -> State`` and ``step(state, oracle, k, h, be) -> State``: pure functions
  over a ``NamedTuple`` state of arrays. ``x0`` and every state array have shape ``(P, N, d)``
  (problems x runs x coordinates) or ``(P, N, 1)`` for per-run scalars; ``h`` maps each
  hyperparameter to its value at step ``k``, an array broadcastable to ``(P, N, 1)``;
  ``be`` is the :class:`~polyak.solvers.backend.Backend`. Every state has fields ``x`` (the
  iterate that is measured) and ``beta`` (the momentum coefficient actually used, in the
  canonical heavy-ball form).

A :class:`Method` binds a rule to hyperparameter values (numbers, arrays that form a grid, or
:class:`~polyak.solvers.schedules.Schedule` objects). ``make_method(name, **hyper)`` builds one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, NamedTuple

import numpy as np

from .schedules import Schedule


@dataclass(frozen=True)
class Param:
    """A hyperparameter: default, valid range, and whether it may vary (grid, schedule).

    ``kind`` is "float" (may be an array or a Schedule), or a static kind: "bool", "int",
    "choice" (one of ``choices``). Ranges are ``lo``/``hi`` with open or closed ends.
    """

    name: str
    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    lo_closed: bool = True
    hi_closed: bool = True
    kind: str = "float"
    choices: tuple = ()
    schedulable: bool = True

    def range_text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        left = "[" if (self.lo_closed and self.lo is not None) else "("
        right = "]" if (self.hi_closed and self.hi is not None) else ")"
        return f"{left}{lo}, {hi}{right}"

    def check_values(self, method: str, values: np.ndarray, where: str = "") -> None:
        """Raise ValueError naming the parameter and its range if any value is outside it."""
        vals = np.asarray(values, dtype=float)
        bad = ~np.isfinite(vals)
        if self.lo is not None:
            bad |= (vals < self.lo) if self.lo_closed else (vals <= self.lo)
        if self.hi is not None:
            bad |= (vals > self.hi) if self.hi_closed else (vals >= self.hi)
        if np.any(bad):
            first = vals[bad].reshape(-1)[0]
            raise ValueError(
                f"{method}: {self.name} ({self.doc}) must be in {self.range_text()}{where}; got {first:g}"
            )

    def coerce(self, method: str, value: Any) -> Any:
        """Validate one user value; return the stored form (array, Schedule or static value)."""
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise ValueError(f"{method}: {self.name} ({self.doc}) must be true or false; got {value!r}")
        if self.kind == "choice":
            if value in self.choices:
                return value
            raise ValueError(f"{method}: {self.name} ({self.doc}) must be {self.range_text()}; got {value!r}")
        if self.kind == "int":
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                self.check_values(method, np.asarray(value))
                return int(value)
            if isinstance(value, float) and value.is_integer():
                self.check_values(method, np.asarray(value))
                return int(value)
            raise ValueError(f"{method}: {self.name} ({self.doc}) must be an integer in {self.range_text()}; got {value!r}")
        if isinstance(value, Schedule):
            if not self.schedulable:
                raise ValueError(f"{method}: {self.name} cannot be a schedule")
            return value
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{method}: {self.name} ({self.doc}) must be a number in {self.range_text()}; got {value!r}") from None
        self.check_values(method, arr)
        return arr


class MethodRule:
    """Base class of a method family. Subclasses set ``name``, ``params`` and ``State``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    #: schedules of these hyperparameters are tabulated at k + offset (SPA uses c_{k+1} at step k)
    offsets: ClassVar[Mapping[str, int]] = {}

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def check(self, hyper: Mapping[str, Any]) -> None:
        """Cross-parameter checks (hook); values are already range-checked one by one."""

    #: Optional hook for a hand-written rule that is linear in its state and gradients:
    #: ``linear_form(self, hyper) -> Method`` returns a linear method (:func:`polyak.linear_method`)
    #: whose measured iterates equal this rule's for every problem and start, so that the analysis
    #: tools (certificates, PEP, quadratic rates, counterexamples) accept the rule; it raises
    #: ValueError, saying why, for hyperparameters where no such form exists. The tools check the
    #: form against the rule's own step before using it (:func:`polyak.solvers.linear.linear_form`).
    linear_form: ClassVar[Any] = None

    def init(self, x0: Any, h: Mapping[str, Any], be: Any) -> NamedTuple:  # pragma: no cover
        raise NotImplementedError

    def step(self, state: Any, oracle: Any, k: int, h: Mapping[str, Any], be: Any) -> NamedTuple:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Method:
    """A method rule bound to hyperparameter values.

    ``hyper`` holds numpy arrays (a grid, broadcast together), Schedules, or static values.
    ``hyper_shape`` is the broadcast shape of all array-valued hyperparameters and schedule
    parameters; ``simulate`` runs every point of it.
    """

    rule: MethodRule
    hyper: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def hyper_shape(self) -> tuple[int, ...]:
        shapes = []
        for p in self.rule.params:
            v = self.hyper[p.name]
            if isinstance(v, Schedule):
                shapes.append(v.shape)
            elif isinstance(v, np.ndarray):
                shapes.append(v.shape)
        return np.broadcast_shapes(*shapes) if shapes else ()

    def with_hyper(self, **changes: Any) -> "Method":
        """A copy with some hyperparameters replaced (validated again)."""
        values = {**{k: v for k, v in self.hyper.items()}, **changes}
        return build_method(self.rule, values)

    def describe(self) -> dict:
        """JSON-friendly hyperparameters."""
        out: dict[str, Any] = {}
        for p in self.rule.params:
            v = self.hyper[p.name]
            if isinstance(v, Schedule):
                out[p.name] = v.describe()
            elif isinstance(v, np.ndarray):
                out[p.name] = v.tolist()
            else:
                out[p.name] = v
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"Method({self.name}: {args})"


def build_method(rule: MethodRule, values: Mapping[str, Any]) -> Method:
    """Validate ``values`` against ``rule.params`` and return a :class:`Method`."""
    known = {p.name for p in rule.params}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"{rule.name}: unknown hyperparameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(p.name for p in rule.params) or 'none'}"
        )
    hyper: dict[str, Any] = {}
    for p in rule.params:
        hyper[p.name] = p.coerce(rule.name, values.get(p.name, p.default))
    shapes = [v.shape for v in hyper.values() if isinstance(v, (np.ndarray, Schedule))]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{rule.name}: hyperparameter array shapes {', '.join(str(s) for s in shapes)} do not broadcast together"
        ) from None
    rule.check(hyper)
    return Method(rule, hyper)


def tabulate_hyper(method: Method, steps: int) -> dict[str, Any]:
    """Numeric hyperparameters as numpy arrays: constants keep shape ``hyper_shape`` (broadcast),
    schedules become tables of shape ``(steps, *hyper_shape)``. Schedule values are range-checked."""
    shape = method.hyper_shape
    out: dict[str, Any] = {}
    for p in method.rule.params:
        v = method.hyper[p.name]
        if isinstance(v, Schedule):
            off = method.rule.offsets.get(p.name, 0)
            raw = v.table(steps, offset=off)
            raw = raw.reshape((steps,) + (1,) * (len(shape) - len(v.shape)) + v.shape)  # align trailing axes
            table = np.broadcast_to(raw, (steps,) + shape)
            p.check_values(method.name, table, where=f" at every step of schedule {v.name}")
            out[p.name] = ("table", table)
        elif isinstance(v, np.ndarray):
            out[p.name] = ("const", np.broadcast_to(v, shape))
        else:
            out[p.name] = ("static", v)
    return out


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool) and math.isfinite(float(x))
