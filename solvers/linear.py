"""Linear methods: one definition, written as on paper, drives simulation and every analysis.

A *linear method* is a step that is linear in its state and in the gradients it asks for, with
coefficients that may depend on the hyperparameters (and through Schedules on k) but never on the
iterates. It is written once, as plain Python over the state vectors and a ``grad`` oracle:

>>> import polyak
>>> @polyak.linear_method(alpha=0.1, beta=0.5, gamma=0.0, register=False)  # (not registered here)
... def my_tmm(x, x_prev, grad, *, alpha, beta, gamma):
...     y = x + gamma * (x - x_prev)
...     return x + beta * (x - x_prev) - alpha * grad(y), x
>>> m = my_tmm(alpha=0.2, beta=0.3, gamma=0.1)          # a Method, like make_method's
>>> m.name
'my-tmm'
>>> ss = state_space(m)
>>> ss.A.tolist(), ss.B.tolist(), ss.C.tolist(), ss.D.tolist()
([[1.3, -0.3], [1.0, 0.0]], [[-0.2], [0.0]], [[1.1, -0.1]], [[0.0]])

Conventions
    * The positional parameters before the last one are the state ``xi = (xi_0, ..., xi_{n-1})``;
      ``xi_0`` is the iterate that is measured (``Trajectory.dist`` etc.); every state variable
      starts at ``x0`` and equals ``x*`` at the optimum. A buffer that starts at 0 (a momentum
      ``d``, a velocity ``v``) is written through ``u = x + d`` (use ``d = u - x``, return
      ``x_new + d_new``); a step for which ``(x*, ..., x*)`` is not a fixed point gets a
      :class:`FixedPointWarning` when it is defined. The last positional parameter is the gradient oracle (named ``grad`` by
      convention). It may be called ``m >= 1`` times per step; call ``j`` may use the results of
      calls ``0..j-1`` (an explicit method).
    * The keyword-only parameters are the hyperparameters. Their defaults are given to the
      decorator (``@linear_method(alpha=0.1)``) or in the signature (``*, alpha=0.1``). They may be
      numbers, arrays (a grid that ``simulate`` runs as one batch) or
      :class:`~polyak.solvers.schedules.Schedule` objects (time-varying).
    * The step returns the new state in the same order (a tuple of length ``n``; a bare value
      when ``n = 1``).

Tracing
    Calling the step once on symbolic linear combinations (:class:`LinearCombination`, which works
    with coefficients that are floats, numpy arrays or sympy expressions) gives the state-space form

        xi_{k+1} = A xi_k + B u_k,   y_k = C xi_k + D u_k,   u_k = grad f(y_k),

    with ``A`` (n, n), ``B`` (n, m), ``C`` (m, n) (row ``j``: the point of gradient call ``j``) and
    ``D`` (m, m) strictly lower triangular. Each entry multiplies a whole vector (the same
    coefficient on every coordinate). :func:`state_space` gives the numeric matrices of a Method at
    step ``k``; :func:`symbolic_state_space` gives sympy matrices in the hyperparameter symbols.

Simulation
    The engine runs the user's function itself on the backend arrays (numpy or torch, batched
    over ``(P, N, d)``), so a linear method is as fast as a hand-written rule with the same
    arithmetic. ``Trajectory.beta`` records the heavy-ball momentum ``beta_k`` when the method has
    the heavy-ball form for every hyperparameter value (one gradient call, at the measured iterate,
    and ``x_{k+1} - x_k = beta_k (x_k - x_{k-1}) - alpha_k g_k``: then ``beta_k = A_00 - 1``); the
    decorator's ``record_beta`` names a hyperparameter to record instead (Nesterov records its
    ``beta``); otherwise it is NaN.

Hand-written linear rules (``ema``, ``sgdm``, ``spa``, ``demon-sgdm``) keep their own state and
records for simulation and declare ``linear_form(hyper)``: a linear method with the same iterates
(EMA on ``(x, x + d)``, torch's SGD on ``(x, x + buf)``, SPA on ``(x, z)``, Demon SGDM as heavy ball
with its beta schedule). :func:`linear_form` checks the declared form against the rule's own step
on a random quadratic before any analysis uses it, and names the reason where no form exists
(weight decay moves the fixed point; ``sgdm``'s dampening makes step 0 differ). A user's
:class:`~polyak.solvers.base.MethodRule` gets the same by defining ``linear_form``. Nonlinear rules
(adaptive heavy ball, Adam, Adaptive Memory) declare none: they simulate, and :func:`require_linear`
explains why the analysis tools refuse them.

This module imports no sympy at import time; :func:`symbolic_state_space` imports it when called.
"""

from __future__ import annotations

import inspect
import math
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .base import Method, MethodRule, Param, build_method
from .schedules import Schedule

__all__ = [
    "LinearCombination",
    "LinearMethodDef",
    "LinearRule",
    "NonlinearStep",
    "StateSpace",
    "forget_linear_method",
    "is_linear",
    "FixedPointWarning",
    "check_state_space",
    "constant_state_space",
    "linear_form",
    "linear_method",
    "load_method",
    "require_linear",
    "state_space",
    "state_spaces",
    "symbolic_state_space",
    "trace",
]


# -- the tracer ---------------------------------------------------------------------------------
class NonlinearStep(TypeError):
    """The traced step did something that is not linear in the state and the gradients."""


def _is_zero(c: Any) -> bool:
    if isinstance(c, (int, float)):
        return c == 0
    try:
        z = c == 0
        if hasattr(z, "all"):
            return bool(z.all())
        return bool(z)
    except (TypeError, ValueError):  # sympy relational of unknown truth value, etc.
        return False


class LinearCombination:
    """A linear combination ``sum_i c_i e_i`` of the basis vectors (state entries and gradients).

    Supports ``+``, ``-``, multiplication and division by scalars (floats, numpy or torch arrays,
    sympy expressions). Anything else (a product of two combinations, a constant offset, a
    comparison, a nonlinear function) raises :class:`NonlinearStep`.
    """

    __slots__ = ("c",)
    __array_ufunc__ = None  # numpy defers to our reflected operators: array * comb -> comb
    __array_priority__ = 1000
    _op_priority = 1000.0  # sympy dispatches Expr * comb to our reflected operators

    def __init__(self, coeffs: Mapping[int, Any]):
        self.c = dict(coeffs)

    @staticmethod
    def _scalar(other: Any) -> bool:
        return not isinstance(other, LinearCombination)

    def __add__(self, other: Any) -> "LinearCombination":
        if isinstance(other, LinearCombination):
            out = dict(self.c)
            for i, v in other.c.items():
                out[i] = out[i] + v if i in out else v
            return LinearCombination(out)
        if _is_zero(other):
            return self
        raise NonlinearStep("adds a constant to a state-dependent value (affine, not linear)")

    __radd__ = __add__

    def __neg__(self) -> "LinearCombination":
        return LinearCombination({i: -v for i, v in self.c.items()})

    def __pos__(self) -> "LinearCombination":
        return self

    def __sub__(self, other: Any) -> "LinearCombination":
        if isinstance(other, LinearCombination):
            return self + (-other)
        return self + (-other if not _is_zero(other) else 0)

    def __rsub__(self, other: Any) -> "LinearCombination":
        return (-self) + other

    def __mul__(self, other: Any) -> "LinearCombination":
        if isinstance(other, LinearCombination):
            raise NonlinearStep("multiplies two values that depend on the iterates")
        return LinearCombination({i: v * other for i, v in self.c.items()})

    def __rmul__(self, other: Any) -> "LinearCombination":
        if isinstance(other, LinearCombination):  # pragma: no cover - handled by __mul__
            raise NonlinearStep("multiplies two values that depend on the iterates")
        return LinearCombination({i: other * v for i, v in self.c.items()})

    def __truediv__(self, other: Any) -> "LinearCombination":
        if isinstance(other, LinearCombination):
            raise NonlinearStep("divides by a value that depends on the iterates")
        return LinearCombination({i: v / other for i, v in self.c.items()})

    def __rtruediv__(self, other: Any):
        raise NonlinearStep("divides by a value that depends on the iterates")

    def _nonlinear(self, *args: Any, **kwargs: Any):
        raise NonlinearStep("applies a nonlinear operation to a value that depends on the iterates")

    __pow__ = __rpow__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = _nonlinear
    __matmul__ = __rmatmul__ = __floordiv__ = __mod__ = _nonlinear
    __hash__ = object.__hash__

    def __eq__(self, other: Any):
        raise NonlinearStep("compares a value that depends on the iterates")

    def __getattr__(self, name: str):
        if name.startswith("_"):  # protocol probes (hasattr(x, "__torch_function__"), ...)
            raise AttributeError(name)
        raise NonlinearStep(f"uses .{name} of a value that depends on the iterates (a step sees only +, -, scalar *, /)")

    def __getitem__(self, item: Any):
        raise NonlinearStep("indexes a value that depends on the iterates (the step must treat each state as a whole vector)")

    def __repr__(self) -> str:
        return "LinearCombination(" + ", ".join(f"{v!r}*e{i}" for i, v in sorted(self.c.items())) + ")"


@dataclass(frozen=True)
class _Trace:
    """Coefficients of one trace, as nested lists (any scalar type); ``n`` states, ``m`` calls."""

    n: int
    m: int
    A: list
    B: list
    C: list
    D: list


def trace(fn: Callable, n: int, hyper: Mapping[str, Any], *, name: str = "method", one: Any = 1) -> _Trace:
    """Call ``fn(xi_0, ..., xi_{n-1}, grad, **hyper)`` once on symbolic linear combinations.

    Returns the coefficients of (A, B, C, D) as nested lists; entries that never occur are the
    integer 0, the others have the type of the hyperparameters (float, array, sympy expression).
    Raises ValueError naming the method if the step is not linear or returns the wrong number of
    state values.
    """
    rows_C: list[dict] = []

    def grad(y: Any) -> LinearCombination:
        if not isinstance(y, LinearCombination):
            raise ValueError(
                f"{name}: grad was called at a point that does not depend on the state ({y!r}); "
                "a gradient is taken at a linear combination of the state and earlier gradients"
            )
        j = len(rows_C)
        rows_C.append(dict(y.c))
        return LinearCombination({n + j: one})

    states = [LinearCombination({i: one}) for i in range(n)]
    try:
        out = fn(*states, grad, **hyper)
    except NonlinearStep as exc:
        raise ValueError(
            f"{name}: the step is not linear in the state and gradients: it {exc} "
            "(a linear method's coefficients may depend on k, not on the iterates); "
            "write a nonlinear rule as a polyak.MethodRule to simulate it"
        ) from None
    except KeyError as exc:
        raise ValueError(
            f"{name}: the step uses hyperparameter {exc.args[0]!r}, which is not declared; declare it with "
            f"a default, e.g. @polyak.linear_method({exc.args[0]}=...)"
        ) from None
    except (ArithmeticError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"{name}: the step failed when traced ({type(exc).__name__}: {exc})") from exc
    if n == 1 and not isinstance(out, (tuple, list)):
        out = (out,)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        got = f"{len(out)} values" if isinstance(out, (tuple, list)) else f"a {type(out).__name__}"
        raise ValueError(
            f"{name}: the step returns {got}, but its state has {n} variable(s); "
            "return the new state in the order of the positional parameters before grad"
        )
    m = len(rows_C)
    if m == 0:
        raise ValueError(f"{name}: the step never calls grad; a first-order method calls it at least once per step")
    new: list[LinearCombination] = []
    for i, v in enumerate(out):
        if isinstance(v, LinearCombination):
            new.append(v)
        elif _is_zero(v):
            new.append(LinearCombination({}))
        else:
            raise ValueError(f"{name}: state value {i} returned by the step is a constant ({v!r}), not a linear combination of the state and gradients")

    def row(c: dict, lo: int, hi: int) -> list:
        return [c.get(i, 0) for i in range(lo, hi)]

    A = [row(v.c, 0, n) for v in new]
    B = [row(v.c, n, n + m) for v in new]
    C = [row(c, 0, n) for c in rows_C]
    D = [row(c, n, n + m) for c in rows_C]
    return _Trace(n, m, A, B, C, D)


# -- the public state-space record --------------------------------------------------------------
@dataclass(frozen=True)
class StateSpace:
    """The state-space form of a linear method at one step k.

    ``xi_{k+1} = A xi_k + B u_k``, ``y_k = C xi_k + D u_k``, ``u_k = grad f(y_k)``; state 0 is the
    measured iterate ``x_k``; every state variable starts at ``x0``.

    Attributes:
        A: (n, n) float.
        B: (n, m).
        C: (m, n); row j: the point where gradient call j is evaluated.
        D: (m, m), strictly lower triangular.
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray

    @property
    def n(self) -> int:
        return self.A.shape[0]

    @property
    def m(self) -> int:
        return self.B.shape[1]

    def iteration_matrix(self, lam: float) -> np.ndarray:
        """``A + B lam (I - lam D)^{-1} C``: the step on the quadratic ``lam x^2 / 2``."""
        m = self.m
        G = np.linalg.solve(np.eye(m) - lam * self.D, lam * self.C)
        return self.A + self.B @ G

def check_state_space(obj: Any, name: str = "method", *, fixed_point: bool = True) -> StateSpace:
    """Validate state-space matrices (an object with attributes ``A, B, C, D``, or a 4-tuple) and
    return a read-only :class:`StateSpace` of floats.

    Checks: A square (n, n), B (n, m), C (m, n), D (m, m), all finite, D strictly lower triangular
    (an explicit method: gradient call j uses only calls 0..j-1), and with ``fixed_point`` every row
    of A and of C summing to 1 (the minimiser x* is a fixed point, which the certificates and the
    PEP assume). ValueError naming ``name`` and what is wrong otherwise."""
    try:
        mats = obj if isinstance(obj, (tuple, list)) else tuple(getattr(obj, k) for k in "ABCD")
        A, B, C, D = (np.array(M, dtype=float, copy=True) for M in mats)
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"{name}: the state-space matrices A, B, C, D must be real arrays") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise ValueError(f"{name}: A must be a square (n, n) matrix with n >= 1; got shape {A.shape}")
    n = A.shape[0]
    if B.ndim != 2 or B.shape[0] != n or B.shape[1] < 1:
        raise ValueError(f"{name}: B must have shape (n, m) = ({n}, m), m >= 1; got {B.shape}")
    m = B.shape[1]
    if C.shape != (m, n):
        raise ValueError(f"{name}: C must have shape (m, n) = ({m}, {n}); got {C.shape}")
    if D.shape != (m, m):
        raise ValueError(f"{name}: D must have shape (m, m) = ({m}, {m}); got {D.shape}")
    for key, M in zip("ABCD", (A, B, C, D)):
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name}: {key} must be finite")
    if np.any(np.triu(D) != 0):
        raise ValueError(f"{name}: D must be strictly lower triangular (an explicit method: gradient call j "
                         "may use only calls 0..j-1)")
    if fixed_point:
        for key, M in (("A", A), ("C", C)):
            rows = M.sum(axis=1)
            if np.any(np.abs(rows - 1.0) > 1e-9 * (1 + np.abs(M).sum(axis=1))):
                raise ValueError(f"{name}: every row of {key} must sum to 1 (x* must be a fixed point); "
                                 f"got row sums {rows}: {BUFFER_HINT}")
    for M in (A, B, C, D):
        M.setflags(write=False)
    return StateSpace(A, B, C, D)


# -- the rule and the decorator -----------------------------------------------------------------
_RESERVED_STATE = ("beta",)


def _hb_beta_mode(rule: "LinearRule") -> tuple:
    """How ``Trajectory.beta`` is recorded: ("param", name), ("const", value), ("trace",), ("nan",)."""
    if rule.record_beta is not None:
        if callable(rule.record_beta):
            return ("call", rule.record_beta)
        return ("param", rule.record_beta)
    rng = np.random.default_rng(12345)
    draws = []
    for _ in range(2):
        vals = rule._random_hyper(rng)
        t = trace(rule.fn, rule.n, rule._fn_kwargs(vals), name=rule.name)
        A = np.asarray(t.A, dtype=float)
        B = np.asarray(t.B, dtype=float)
        C = np.asarray(t.C, dtype=float)
        D = np.asarray(t.D, dtype=float)
        n = rule.n
        hb = t.m == 1 and np.all(D == 0) and C[0, 0] == 1 and np.all(C[0, 1:] == 0) and B[0, 0] != 0
        if hb:
            for j in range(1, n):
                if A[0, j] != 0 and not (A[j, 0] == 1 and np.all(A[j, 1:] == 0) and np.all(B[j] == 0)):
                    hb = False
            hb = hb and math.isclose(A[0].sum(), 1.0, rel_tol=1e-12, abs_tol=1e-12)
        if not hb:
            return ("nan",)
        draws.append((vals, A[0, 0] - 1.0))
    if all(abs(b) == 0 for _, b in draws):
        return ("const", 0.0)
    for p in rule.params:
        if p.kind == "float" and all(math.isclose(b, float(vals[p.name]), rel_tol=1e-12, abs_tol=1e-15) for vals, b in draws):
            return ("param", p.name)
    return ("trace",)


class LinearRule(MethodRule):
    """A :class:`MethodRule` made from a linear step function (see :func:`linear_method`)."""

    def __init__(
        self,
        fn: Callable,
        name: str,
        title: str,
        params: tuple[Param, ...],
        state_names: tuple[str, ...],
        fn_hyper: tuple[str, ...],
        *,
        offsets: Mapping[str, int] | None = None,
        validate: Callable[[dict], None] | None = None,
        record_beta: Any = None,
    ):
        self.fn = fn
        self.name = name
        self.title = title
        self.params = params
        self.state_names = state_names
        self.n = len(state_names)
        self.fn_hyper = fn_hyper
        self.offsets = dict(offsets or {})
        self._validate = validate
        self.record_beta = record_beta
        self.example = False
        self._pass_all = set(fn_hyper) == {p.name for p in params}
        fields = state_names + ("beta",)
        base = namedtuple(f"{_camel(name)}State", fields)
        if state_names[0] != "x":
            base = type(base.__name__, (base,), {"__slots__": (), "x": property(lambda self: self[0])})
        self.State = base
        # the structure (validated now, so a broken step fails at definition time)
        self.structure = trace(fn, self.n, self._fn_kwargs(self._random_hyper(np.random.default_rng(0))), name=name)
        self.m = self.structure.m
        _warn_unless_fixed_point(self)
        self._beta_mode = _hb_beta_mode(self)

    # hyperparameters ---------------------------------------------------------------------
    def _fn_kwargs(self, values: Mapping[str, Any]) -> dict:
        return {k: values[k] for k in self.fn_hyper}

    def _random_hyper(self, rng: np.random.Generator) -> dict:
        out: dict[str, Any] = {}
        for p in self.params:
            if p.kind == "float":
                lo = 0.0 if p.lo is None else p.lo
                hi = lo + 1.0 if p.hi is None else p.hi
                out[p.name] = float(lo + (hi - lo) * rng.uniform(0.2, 0.8))
            else:
                out[p.name] = p.default
        return out

    def check(self, hyper: dict) -> None:
        if self._validate is not None:
            self._validate(hyper)

    # engine ------------------------------------------------------------------------------
    def _beta(self, h: Mapping[str, Any], be: Any, prev: Any) -> Any:
        mode = self._beta_mode
        kind = mode[0]
        if kind == "param":
            return h[mode[1]]
        if kind == "call":
            return mode[1](h)
        if kind == "trace":
            t = trace(self.fn, self.n, self._fn_kwargs(h), name=self.name, one=1.0)
            return t.A[0][0] - 1.0
        return prev

    def init(self, x0: Any, h: Mapping[str, Any], be: Any):
        z = be.zeros_like(x0[..., :1])
        kind = self._beta_mode[0]
        if kind == "nan":
            b0 = z + float("nan")
        elif kind == "const":
            b0 = z + self._beta_mode[1]
        else:
            b0 = self._beta(h, be, z) + z
        return self.State(*([x0] * self.n), b0)

    def step(self, s: Any, oracle: Any, k: int, h: Mapping[str, Any], be: Any):
        kw = h if self._pass_all else {n: h[n] for n in self.fn_hyper}
        n = self.n
        out = self.fn(*s[:n], oracle.grad, **kw)
        kind = self._beta_mode[0]
        b = s.beta if kind in ("nan", "const") else self._beta(h, be, s.beta)
        if n == 1 and not isinstance(out, (tuple, list)):
            return self.State(out, b)
        return self.State(*out, b)


#: the message of a step for which (x*, ..., x*) is not a fixed point (see _warn_unless_fixed_point)
BUFFER_HINT = (
    "every state variable starts at x0 and the analyses assume all of them equal x* at the optimum; "
    "a buffer that starts at 0 and vanishes at the optimum (a momentum d, a velocity v) is written "
    "through u = x + d: pass u as the state, use d = u - x in the step and return x_new + d_new "
    "(polyak.solvers.heavy_ball's EMA form does this)"
)


class FixedPointWarning(UserWarning):
    """A linear method whose state (x*, ..., x*) is not a fixed point (see :data:`BUFFER_HINT`)."""


def _warn_unless_fixed_point(rule: "LinearRule") -> None:
    """Warn at definition time when, at the traced (random) hyperparameters, a row of A or of C does
    not sum to 1: then (x*, ..., x*) is not a fixed point, the simulation starts the offending state
    variables at x0 (not at the value the paper gives them), and the PEP refuses the method."""
    import warnings

    t = rule.structure
    try:
        A = np.asarray(t.A, dtype=float).reshape(t.n, t.n)
        C = np.asarray(t.C, dtype=float).reshape(t.m, t.n)
    except (TypeError, ValueError):  # coefficients that are arrays or symbols: nothing to check here
        return
    bad = [rule.state_names[i] for i in range(t.n) if abs(A[i].sum() - 1.0) > 1e-9 * (1 + np.abs(A[i]).sum())]
    calls = [j for j in range(t.m) if abs(C[j].sum() - 1.0) > 1e-9 * (1 + np.abs(C[j]).sum())]
    if bad or calls:
        what = ", ".join([f"state variable {b!r}" for b in bad] + [f"gradient call {j}" for j in calls])
        warnings.warn(
            f"{rule.name}: (x*, ..., x*) is not a fixed point of this step ({what}: coefficients not summing to 1): "
            + BUFFER_HINT, FixedPointWarning, stacklevel=5)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_") if part) or "Linear"


class LinearMethodDef:
    """What :func:`linear_method` returns: call it with hyperparameters to get a :class:`Method`.

    Attributes: ``name`` (the registered name), ``rule`` (the :class:`LinearRule`), ``fn`` (the
    step function as written).
    """

    def __init__(self, rule: LinearRule):
        self.rule = rule
        self.fn = rule.fn
        self.__doc__ = rule.fn.__doc__
        self.__wrapped__ = rule.fn

    @property
    def name(self) -> str:
        return self.rule.name

    def __call__(self, **hyper: Any) -> Method:
        return build_method(self.rule, hyper)

    def __repr__(self) -> str:
        args = ", ".join(f"{p.name}={p.default!r}" for p in self.rule.params)
        return f"<linear method {self.name}({', '.join(self.rule.state_names)}; {args})>"


def _function_key(fn: Callable) -> tuple[str, str]:
    return (getattr(fn, "__module__", "") or "", getattr(fn, "__qualname__", "") or getattr(fn, "__name__", ""))


def linear_method(
    fn: Callable | None = None,
    *,
    name: str | None = None,
    title: str | None = None,
    params: Sequence[Param] | None = None,
    offsets: Mapping[str, int] | None = None,
    validate: Callable[[dict], None] | None = None,
    record_beta: Any = None,
    register: bool = True,
    example: bool = False,
    **defaults: Any,
):
    """Decorator: define (and register) a linear method from its step function.

    ``@linear_method(alpha=0.1, beta=0.5)`` over ``def heavy(x, x_prev, grad, *, alpha, beta)``
    registers ``heavy`` (underscores become hyphens: ``my_hb`` -> ``my-hb``) so ``make_method``,
    ``polyak run --method``, claims and figures see it; the decorated name becomes a
    :class:`LinearMethodDef` (call it with hyperparameters to get a Method).

    Args:
        fn: the step (see the module docstring for its conventions).
        name: registered name (default: the function's name with hyphens).
        title: a short description (default: the first line of the docstring, or the name).
        params: :class:`Param` records with ranges (built-ins); hyperparameters given only as
            ``**defaults`` or signature defaults accept any finite number, array or Schedule.
            A Param the step does not take (a static choice such as Nesterov's ``schedule``) is
            passed to ``validate`` only.
        offsets: schedules of these hyperparameters are tabulated at ``k + offset``.
        validate: cross-parameter hook ``validate(hyper)`` (may replace values in ``hyper``).
        record_beta: a hyperparameter name (or a function of the step's hyperparameters) that
            ``Trajectory.beta`` records; default: the heavy-ball momentum when the method has the
            heavy-ball form, else NaN.
        register: put the method in the registry (default True).
        example: (library use) a registered example that a user's method of the same name may
            replace (e.g. ``triple-momentum``); other built-in names cannot be taken.
        **defaults: hyperparameter defaults. The option names above are reserved.

    Re-running the definition of the same function (same module and qualified name, e.g. a
    notebook cell run twice) replaces the registered method silently; a name that is already
    taken by a different method (a built-in such as ``gd``) raises ValueError.
    """

    def deco(f: Callable) -> LinearMethodDef:
        rule = _make_rule(f, name, title, params, offsets, validate, record_beta, defaults)
        rule.example = bool(example)
        if register:
            from .registry import _register_linear

            _register_linear(rule, _function_key(f))
        return LinearMethodDef(rule)

    if fn is not None:
        if not callable(fn):
            raise ValueError(f"linear_method: hyperparameter defaults are keyword arguments; got a positional {fn!r}")
        return deco(fn)
    return deco


def _make_rule(f, name, title, params, offsets, validate, record_beta, defaults) -> LinearRule:
    fname = getattr(f, "__name__", "method")
    name = name or fname.replace("_", "-")
    sig = inspect.signature(f)
    pos, kwonly, var_kw = [], {}, False
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if p.default is not p.empty:
                raise ValueError(f"{name}: state variable {p.name!r} has a default; the state starts at x0 (remove the default)")
            pos.append(p.name)
        elif p.kind == p.KEYWORD_ONLY:
            kwonly[p.name] = p.default
        elif p.kind == p.VAR_KEYWORD:
            var_kw = True
        else:
            raise ValueError(f"{name}: *{p.name} is not allowed; list the state variables, then grad, then * and the hyperparameters")
    if len(pos) < 2:
        raise ValueError(
            f"{name}: the step needs at least one state variable and the gradient oracle as positional "
            f"parameters, e.g. def {fname}(x, grad, *, alpha); got ({', '.join(pos)})"
        )
    state_names = tuple(pos[:-1])
    for s in state_names:
        if s in _RESERVED_STATE:
            raise ValueError(f"{name}: state variable name {s!r} is reserved (Trajectory.beta records the momentum); rename it")
    declared: dict[str, Param] = {}
    for p in params or ():
        declared[p.name] = p
    for k, v in defaults.items():
        if k in declared:
            raise ValueError(f"{name}: hyperparameter {k!r} is given both in params and as a default")
        declared[k] = _free_param(name, k, v)
    for k, v in kwonly.items():
        if k not in declared:
            if v is inspect.Parameter.empty:
                raise ValueError(
                    f"{name}: the step uses hyperparameter {k!r}, which is not declared; declare it with a "
                    f"default, e.g. @polyak.linear_method({k}=...)"
                )
            declared[k] = _free_param(name, k, v)
    fn_hyper = tuple(declared) if var_kw else tuple(k for k in declared if k in kwonly)
    for k, p in declared.items():
        if k not in kwonly and not var_kw and p.kind == "float":
            raise ValueError(
                f"{name}: hyperparameter {k!r} is declared but the step does not take it; "
                f"add it to the keyword-only parameters (def {fname}(..., grad, *, {k}))"
            )
    doc = (inspect.getdoc(f) or "").strip().splitlines()
    title = title or (doc[0] if doc else name)
    return LinearRule(
        f, name, title, tuple(declared.values()), state_names, fn_hyper,
        offsets=offsets, validate=validate, record_beta=record_beta,
    )


def _free_param(method: str, name: str, default: Any) -> Param:
    p = Param(name, default, f"hyperparameter {name}")
    p.coerce(method, default)  # validates the default (a finite number, array or Schedule)
    return p


def forget_linear_method(name: str) -> None:
    """Remove a user-defined linear method from the registry (tests, notebooks); built-ins stay."""
    from .registry import _unregister_linear

    _unregister_linear(name)


# -- state-space access -------------------------------------------------------------------------
def load_method(spec: str, **hyper: Any) -> Method:
    """A Method from a registered name (``"hb"``) or ``"path/to/file.py:NAME"``.

    The file is imported (so its ``linear_method`` definitions register; importing it again
    replaces them); ``NAME`` is an attribute of it (a ``linear_method`` definition, a Method or a
    MethodRule) or a name it registered. ``hyper`` are the hyperparameters (validated as in
    ``make_method``). ValueError for a missing file or name.
    """
    from .registry import get_method_rule, make_method

    if not isinstance(spec, str) or not spec:
        raise ValueError(f"method must be a registered name or path/to/file.py:NAME; got {spec!r}")
    path, sep, name = spec.rpartition(":")
    if not sep or not path.endswith(".py"):
        if spec.endswith(".py"):
            raise ValueError(f"method {spec!r}: give the method's name after the file, as {spec}:NAME")
        return make_method(spec, **hyper)
    import importlib.util
    import os
    import re

    if not os.path.isfile(path):
        raise ValueError(f"method file {path!r} does not exist")
    modname = "polyak_user_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    mspec = importlib.util.spec_from_file_location(modname, path)
    if mspec is None or mspec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise ValueError(f"cannot import {path!r}")
    module = importlib.util.module_from_spec(mspec)
    import sys

    folder = os.path.dirname(os.path.abspath(path))  # as for a script: the file's folder is importable
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[modname] = module
    mspec.loader.exec_module(module)
    obj = getattr(module, name, None)
    if obj is None:
        try:
            return build_method(get_method_rule(name), hyper)
        except ValueError:
            raise ValueError(f"{path} defines no method {name!r} (neither an attribute nor a registered name)") from None
    if isinstance(obj, LinearMethodDef):
        return obj(**hyper)
    if isinstance(obj, Method):
        return obj.with_hyper(**hyper) if hyper else obj
    if isinstance(obj, MethodRule):
        return build_method(obj, hyper)
    if isinstance(obj, type) and issubclass(obj, MethodRule):
        return build_method(obj(), hyper)
    raise ValueError(f"{path}:{name} is a {type(obj).__name__}, not a method (use polyak.linear_method)")


def _as_method(method: Any) -> Method:
    if isinstance(method, Method):
        return method
    if isinstance(method, LinearMethodDef):
        return method()
    if isinstance(method, MethodRule):
        return build_method(method, {})
    if isinstance(method, str):
        from .registry import make_method

        return make_method(method)
    raise ValueError(f"method must be a Method (make_method or a linear method called with hyperparameters); got {type(method).__name__}")


def is_linear(method: Any) -> bool:
    """True when the analysis tools accept the method: a traced linear method
    (:func:`linear_method`), or a hand-written rule whose declared ``linear_form`` exists for
    these hyperparameters and reproduces its step."""
    try:
        linear_form(method, "is_linear")
    except ValueError:
        return False
    return True


#: the check of a declared linear form: both methods run this many steps on a random quadratic
FORM_CHECK_STEPS = 12
FORM_CHECK_RTOL = 1e-10


def _check_form(m: Method, lf: Method, tool: str) -> None:
    """Run the rule and its declared linear form side by side (a random dim-4 quadratic, random
    start, FORM_CHECK_STEPS steps) and refuse the form unless every iterate agrees to FORM_CHECK_RTOL."""
    from .registry import make_problem
    from .simulate import simulate

    prob = make_problem("quadratic", mu=0.5, L=4.0, dim=4, basis="random", x_star="random", seed=12345)
    x0 = np.random.default_rng(54321).standard_normal(4)
    T = FORM_CHECK_STEPS
    a = simulate(m, prob, T, x0=x0, keep_last=T).x_tail
    b = simulate(lf, prob, T, x0=x0, keep_last=T).x_tail
    err = float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-300))
    if not (err <= FORM_CHECK_RTOL):
        raise ValueError(
            f"{tool}: the linear form {lf.name} declared by method {m.name} does not reproduce its step "
            f"(relative difference {err:.2e} > {FORM_CHECK_RTOL:g} over {T} steps on a random quadratic): "
            "fix the rule's linear_form"
        )


def linear_form(method: Any, tool: str = "linear_form") -> Method:
    """The linear Method that the analysis tools use for ``method``.

    A traced linear method is its own form. A hand-written :class:`MethodRule` that is linear (EMA
    momentum, torch-style SGD with momentum, SPA, Demon SGDM) declares ``linear_form(hyper)``: the
    returned method is checked against the rule's own step (:func:`_check_form`) before it is used.
    Anything else raises ValueError saying why (adaptive rules compute their coefficients from the
    iterates)."""
    m = _as_method(method)
    if isinstance(m.rule, LinearRule):
        return m
    hook = getattr(m.rule, "linear_form", None)
    if hook is None:
        raise ValueError(
            f"{tool}: method {m.name} is not linear in the state and gradients (its coefficients may depend "
            f"on k, not on the iterates): it is a hand-written MethodRule ({type(m.rule).__name__}) whose step "
            "polyak cannot trace into (A, B, C, D), and it declares no linear_form; adaptive rules compute their "
            "coefficients from the iterates. Define a linear method with polyak.linear_method to analyse it"
        )
    try:
        lf = hook(dict(m.hyper))
    except ValueError as exc:
        raise ValueError(f"{tool}: method {m.name} has no linear form here: {exc}") from None
    if not isinstance(lf, Method) or not isinstance(lf.rule, LinearRule):
        raise ValueError(f"{tool}: {type(m.rule).__name__}.linear_form must return a linear Method; got {type(lf).__name__}")
    _check_form(m, lf, tool)
    return lf


def constant_state_space(method: Any, tool: str) -> tuple[Method, StateSpace]:
    """``(linear form, its (A, B, C, D))`` for the analyses that need constant coefficients (a rate
    certificate, the quadratic rate, periodic orbits). ValueError naming the time-varying
    hyperparameters: the method's own Schedules, and those its declared linear form introduces
    (Demon SGDM's constant ``beta_init, T`` give the schedule beta_t of heavy ball)."""
    m = _as_method(method)
    lf = linear_form(m, tool)
    sched = [k for k, v in lf.hyper.items() if isinstance(v, Schedule)]
    if sched:
        via = "" if lf is m else f" (in its linear form {lf.name})"
        raise ValueError(
            f"{tool}: method {m.name} has time-varying hyperparameter(s) {', '.join(sched)}{via}; {tool} needs "
            "constant coefficients (polyak.verify.worst_case takes scheduled methods)"
        )
    return lf, state_space(lf, 0)


def require_linear(method: Any, tool: str) -> None:
    """Raise ValueError, saying why, unless the analysis tools accept ``method`` (:func:`~polyak.solvers.linear.linear_form`)."""
    linear_form(method, tool)


def _scalar_hyper(m: Method, k: int, tool: str) -> dict:
    rule = m.rule
    out: dict[str, Any] = {}
    for p in rule.params:
        v = m.hyper[p.name]
        if isinstance(v, Schedule):
            val = np.asarray(v(k + rule.offsets.get(p.name, 0)), dtype=float)
            what = f"schedule {v.name} at step {k}"
        elif isinstance(v, np.ndarray):
            val, what = v, "value"
        else:
            out[p.name] = v
            continue
        if val.size != 1:
            raise ValueError(
                f"{tool}: hyperparameter {p.name} of method {m.name} is a grid of shape {val.shape} ({what}); "
                "pass one value per analysis (method.with_hyper(...))"
            )
        x = float(val.reshape(()))
        if isinstance(v, Schedule):
            p.check_values(m.name, np.asarray(x), where=f" at step {k} of schedule {v.name}")
        out[p.name] = x
    return out


def state_space(method: Any, k: int = 0) -> StateSpace:
    """The numeric (A, B, C, D) of a linear method at step ``k`` (schedules evaluated at ``k`` plus
    the rule's offsets). Hyperparameters must be scalars; ValueError otherwise, or for a nonlinear rule."""
    m = linear_form(method, "state_space")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"state_space: k must be a non-negative integer; got {k!r}")
    rule: LinearRule = m.rule  # type: ignore[assignment]
    t = trace(rule.fn, rule.n, rule._fn_kwargs(_scalar_hyper(m, int(k), "state_space")), name=rule.name, one=1.0)

    def mat(rows: list, r: int, c: int) -> np.ndarray:
        return np.asarray(rows, dtype=float).reshape(r, c)

    return StateSpace(mat(t.A, t.n, t.n), mat(t.B, t.n, t.m), mat(t.C, t.m, t.n), mat(t.D, t.m, t.m))


def state_spaces(method: Any, N: int) -> list[StateSpace]:
    """``[state_space(method, k) for k in range(N)]`` (one trace when no hyperparameter is a Schedule)."""
    m = linear_form(method, "state_spaces")
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"state_spaces: N must be a positive integer; got {N!r}")
    if not any(isinstance(v, Schedule) for v in m.hyper.values()):
        ss = state_space(m, 0)
        return [ss] * int(N)
    return [state_space(m, k) for k in range(int(N))]


def symbolic_state_space(rule_or_method: Any, symbols: Mapping[str, Any] | None = None):
    """(A, B, C, D) as sympy Matrices in the hyperparameter symbols.

    Args:
        rule_or_method: a Method, a :class:`LinearMethodDef`, a :class:`LinearRule` or a name.
        symbols: hyperparameter name -> sympy expression (or number) to use; the others become
            real sympy Symbols of their own names. Static (choice) hyperparameters take the
            method's value (or the default).
    """
    import sympy as sp  # only here: the rest of solvers/ never imports sympy

    if isinstance(rule_or_method, LinearRule):
        rule, hyper = rule_or_method, {p.name: p.default for p in rule_or_method.params}
    else:
        m = linear_form(rule_or_method, "symbolic_state_space")
        rule, hyper = m.rule, dict(m.hyper)  # type: ignore[assignment]
    symbols = dict(symbols or {})
    vals: dict[str, Any] = {}
    for p in rule.params:
        if p.name in symbols:
            vals[p.name] = sp.sympify(symbols[p.name])
        elif p.kind == "float":
            vals[p.name] = sp.Symbol(p.name, real=True)
        else:
            vals[p.name] = hyper[p.name]
    t = trace(rule.fn, rule.n, rule._fn_kwargs(vals), name=rule.name, one=sp.Integer(1))

    def mat(rows: list, r: int, c: int):
        return sp.Matrix(r, c, [sp.simplify(sp.sympify(e)) for row in rows for e in row])

    return mat(t.A, t.n, t.n), mat(t.B, t.n, t.m), mat(t.C, t.m, t.n), mat(t.D, t.m, t.m)
