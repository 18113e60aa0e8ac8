"""polyak.solvers: the numeric engine (methods, problems, batched simulation on numpy and torch).

Public API: :func:`make_method`, :func:`make_problem`, :func:`simulate`, :class:`Trajectory`,
:class:`Schedule`, :func:`get_backend`. Imports neither sympy nor cvxpy nor matplotlib.
"""

from .backend import Backend, get_backend
from .base import Method, MethodRule, Param
from .linear import (
    LinearMethodDef,
    StateSpace,
    forget_linear_method,
    is_linear,
    linear_method,
    require_linear,
    state_space,
    state_spaces,
    symbolic_state_space,
)
from .registry import (
    get_method_rule,
    list_methods,
    list_problems,
    make_method,
    make_problem,
    problem_param_names,
    register_method,
    register_problem,
)
from .schedules import Schedule, harmonic, nesterov_convex
from .simulate import Trajectory, simulate

__all__ = [
    "Backend", "LinearMethodDef", "Method", "MethodRule", "Param", "StateSpace", "forget_linear_method",
    "is_linear", "linear_method", "require_linear", "state_space", "state_spaces", "symbolic_state_space", "Schedule", "Trajectory", "get_backend", "get_method_rule",
    "harmonic", "list_methods", "list_problems", "make_method", "make_problem", "nesterov_convex",
    "problem_param_names", "register_method", "register_problem", "simulate",
]
