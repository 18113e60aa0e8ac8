"""Registries of methods and problems, and the public constructors ``make_method`` / ``make_problem``."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .base import Method, MethodRule, build_method
from .problems.base import Problem

_METHODS: dict[str, MethodRule] = {}
_PROBLEMS: dict[str, Callable[..., Problem]] = {}


def register_method(cls: type[MethodRule]) -> type[MethodRule]:
    """Class decorator: register a MethodRule subclass under ``cls.name``."""
    if not cls.name or cls.name in _METHODS:
        if cls.name in _LINEAR_KEYS:
            raise ValueError(
                f"method name {cls.name!r} is already registered by the linear method defined in "
                f"{_LINEAR_KEYS[cls.name][0]}; rename one of them"
            )
        raise ValueError(f"method name {cls.name!r} is empty or already registered")
    _METHODS[cls.name] = cls()
    return cls


_LINEAR_KEYS: dict[str, tuple[str, str]] = {}  # name -> (module, qualname) of a linear method's function
_SHADOWED: dict[str, tuple[MethodRule, tuple[str, str]]] = {}  # examples replaced by a user's method


def _is_builtin(module: str) -> bool:
    pkg = __package__ or "polyak.solvers"
    return module == pkg or module.startswith(pkg + ".")


def _register_linear(rule: MethodRule, key: tuple[str, str]) -> None:
    """Register a linear method's rule (from ``linear_method``).

    The same function defined again (same module and qualified name: a notebook cell run twice)
    replaces its earlier registration silently. A registered example (``rule.example`` true, e.g.
    triple-momentum) is replaced by a user's method of the same name, and restored by
    ``forget_linear_method``. Any other clash (a user's ``gd``) raises ValueError.
    """
    if not _is_builtin(key[0]):
        _load_all()  # a user's method must see the built-ins it could clash with
    name = rule.name
    if not name:
        raise ValueError("linear_method: the method name is empty")
    old = _METHODS.get(name)
    if old is not None and _LINEAR_KEYS.get(name) != key:
        if getattr(old, "example", False) and not _is_builtin(key[0]):
            _SHADOWED.setdefault(name, (old, _LINEAR_KEYS[name]))
        else:
            where = _LINEAR_KEYS.get(name, (type(old).__module__, type(old).__qualname__))
            raise ValueError(
                f"linear_method: the name {name!r} is already taken by the method defined in "
                f"{where[0]} ({where[1]}: {getattr(old, 'title', '') or name}); a different method cannot "
                "replace it: rename the function or pass name='...' to linear_method"
            )
    _METHODS[name] = rule
    _LINEAR_KEYS[name] = key


def _unregister_linear(name: str) -> None:
    key = _LINEAR_KEYS.get(name)
    if key is None or _is_builtin(key[0]):
        raise ValueError(f"{name!r} is not a user-defined linear method; built-in methods cannot be removed")
    del _METHODS[name]
    del _LINEAR_KEYS[name]
    if name in _SHADOWED:
        _METHODS[name], _LINEAR_KEYS[name] = _SHADOWED.pop(name)


def register_problem(name: str) -> Callable[[Callable[..., Problem]], Callable[..., Problem]]:
    def deco(factory: Callable[..., Problem]) -> Callable[..., Problem]:
        if name in _PROBLEMS:
            raise ValueError(f"problem name {name!r} already registered")
        _PROBLEMS[name] = factory
        return factory

    return deco


def _load_all() -> None:
    from . import methods as _m  # noqa: F401  (registers every method family)
    from .problems import catalog as _p  # noqa: F401


def list_methods() -> list[str]:
    _load_all()
    return sorted(_METHODS)


def list_problems() -> list[str]:
    _load_all()
    return sorted(_PROBLEMS)


def get_method_rule(name: str) -> MethodRule:
    _load_all()
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(sorted(_METHODS))}")
    return _METHODS[name]


def make_method(name: str, **hyper: Any) -> Method:
    """Build a method by registered name, e.g. ``make_method("hb", alpha=0.1, beta=0.9)``.

    Hyperparameters may be numbers, arrays (they broadcast into a grid that ``simulate`` runs
    as one batch) or :class:`~polyak.solvers.schedules.Schedule` objects. Unknown names and values
    outside a hyperparameter's range raise ValueError naming it and its range.
    """
    return build_method(get_method_rule(name), hyper)


def problem_param_names(name: str) -> list[str]:
    _load_all()
    if name not in _PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; valid: {', '.join(sorted(_PROBLEMS))}")
    sig = inspect.signature(_PROBLEMS[name])
    return [p for p in sig.parameters if p != "self"]


def make_problem(name: str, **params: Any) -> Problem:
    """Build a problem by registered name, e.g. ``make_problem("quadratic", mu=1, L=100, dim=50)``.

    Parameters that are lists form a batch of instances. Every problem also takes the noise
    options ``noise`` ("additive", "multiplicative", "minibatch"), ``sigma`` and ``batch_size``.
    """
    valid = problem_param_names(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"problem {name!r}: unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return _PROBLEMS[name](**params)
