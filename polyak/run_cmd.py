"""``polyak run``: the handler, ``--list``, ``--help-method``, and the resource estimate.

The method's hyperparameters and the problem's parameters are options too. Once ``--method`` and
``--problem`` are known, a second :class:`polyak.cli.Parser` is built from the method's
:class:`~polyak.solvers.base.Param` records and the problem factory's signature, so every such
option is typed, needs a value (only ``bool`` hyperparameters may stand alone as flags), is matched
exactly (no prefixes) and is listed by ``--help-method``.
"""

from __future__ import annotations

import argparse
import inspect
import math
from typing import Any

from polyak.cli import EXIT_OK, Parser, check_resources, one_line, want_progress, write_json

#: problem parameters that only mean something with a noise model
NOISE_ONLY = ("sigma", "batch_size")


def parse_value(text: str) -> Any:
    """Numbers, comma lists of numbers, booleans, or strings."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if "," in text:
            return [float(v) for v in text.split(",")]
        return int(text) if text.strip().lstrip("+-").isdigit() else float(text)
    except ValueError:
        return text


def _number(text: str) -> Any:
    value = parse_value(text)
    if isinstance(value, bool) or isinstance(value, str):
        raise argparse.ArgumentTypeError(f"must be a number or a comma list of numbers; got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
    if not (math.isfinite(value) and value.is_integer()):
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}")
    return int(value)


def _boolean(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"must be true or false; got {text!r}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _short_doc(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return one_line(doc.split("\n\n")[0]) if doc else ""


def method_rule(spec: str) -> Any:
    """A registered name or ``path/to/file.py:NAME`` (:func:`polyak.solvers.linear.load_method`) -> its rule."""
    from polyak.solvers import get_method_rule

    if ".py:" in spec or spec.endswith(".py"):
        from polyak.solvers.linear import load_method

        return load_method(spec).rule
    return get_method_rule(spec)


def parse_hyper(spec: str, extra: list[str]) -> tuple[Any, dict]:
    """(rule, hyperparameters) from ``--name VALUE`` options for a method alone (``polyak analyze``)."""
    rule = method_rule(spec)
    xp = extra_parser(spec, None)
    ns, unknown = xp.parse_known_args(extra)
    if unknown:
        flags = [u for u in unknown if u.startswith("-")] or unknown
        raise ValueError(f"unknown option(s) {', '.join(f.split('=')[0] for f in flags)} for method {rule.name!r}; "
                         f"see polyak run --help-method {spec} (prefixes are not matched)")
    return rule, vars(ns)


def _problem_params(problem: str) -> list[inspect.Parameter]:
    from polyak.solvers.registry import _PROBLEMS, problem_param_names

    problem_param_names(problem)  # validates the name
    return list(inspect.signature(_PROBLEMS[problem]).parameters.values())


class _ExtraParser(Parser):
    hint = ""

    def error(self, message: str) -> None:  # type: ignore[override]
        from polyak.cli import fail

        fail(f"polyak run: error: {one_line(message)} ({self.hint})")


def extra_parser(method: str, problem: str | None) -> argparse.ArgumentParser:
    """The parser of the hyperparameter and problem options of ``--method METHOD --problem PROBLEM``
    (``problem`` None: the hyperparameters only)."""
    rule = method_rule(method)
    p = _ExtraParser(prog=f"polyak run --method {method} --problem {problem}", add_help=False)
    p.hint = f"see polyak run --help-method {method}"
    g = p.add_argument_group(f"hyperparameters of {method} ({rule.title})")
    names = set()
    for prm in rule.params:
        names.add(prm.name)
        text = f"{prm.doc}; {prm.range_text()} (default: {prm.default!r})"
        if prm.kind == "bool":
            g.add_argument(_flag(prm.name), dest=prm.name, nargs="?", const=True, type=_boolean,
                           default=argparse.SUPPRESS, metavar="BOOL", help=text)
        elif prm.kind == "choice":
            g.add_argument(_flag(prm.name), dest=prm.name, default=argparse.SUPPRESS,
                           choices=[str(c) for c in prm.choices], help=text)
        elif prm.kind == "int":
            g.add_argument(_flag(prm.name), dest=prm.name, type=_integer, default=argparse.SUPPRESS,
                           metavar="INT", help=text)
        else:
            g.add_argument(_flag(prm.name), dest=prm.name, type=_number, default=argparse.SUPPRESS,
                           metavar="X", help=text + "; a comma list is a grid")
    if problem is None:
        return p
    g = p.add_argument_group(f"parameters of problem {problem}")
    for par in _problem_params(problem):
        if par.name in names:
            continue
        default = par.default
        if isinstance(default, bool):
            kw: dict[str, Any] = dict(type=_boolean, metavar="BOOL")
        elif isinstance(default, int):
            kw = dict(type=_integer, metavar="INT")
        elif isinstance(default, float) or par.name in ("mu", "L"):
            kw = dict(type=_number, metavar="X")
        elif par.name == "batch_size":
            kw = dict(type=_integer, metavar="INT")
        else:
            kw = dict(type=parse_value, metavar="VALUE")
        g.add_argument(_flag(par.name), dest=par.name, default=argparse.SUPPRESS,
                       help=f"(default: {default!r})", **kw)
    return p


def list_text() -> str:
    from polyak.solvers import get_method_rule, list_methods, list_problems
    from polyak.solvers.registry import _PROBLEMS

    methods = list_methods()
    problems = list_problems()
    w = max(len(n) for n in methods + problems)
    lines = ["methods:"]
    for n in methods:
        lines.append(f"  {n:<{w}}  {get_method_rule(n).title}")
    lines.append("problems:")
    for n in problems:
        lines.append(f"  {n:<{w}}  {_short_doc(_PROBLEMS[n]).split('; see ')[0]}")
    lines.append("`polyak run --help-method NAME` lists a method's hyperparameters.")
    return "\n".join(lines)


def help_method_text(name: str) -> str:
    rule = method_rule(name)
    lines = [f"{name}: {rule.title}", "hyperparameters (option, default, range, meaning):"]
    rows = [(_flag(p.name), repr(p.default), p.range_text(), p.doc) for p in rule.params]
    if not rows:
        lines.append("  (none)")
    w = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for r in rows:
        lines.append(f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    lines.append("Float hyperparameters take a number or a comma list (a grid along that axis).")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# Resource estimate (before anything is allocated)
# ----------------------------------------------------------------------------------------
def _size(v: Any) -> int:
    return len(v) if isinstance(v, (list, tuple)) else 1


def estimate(problem: str, prob: dict, grid_points: int, seeds: int, steps: int, keep_last: int) -> tuple[float, float]:
    """(bytes, seconds) of a run, a deliberately rough upper-ish estimate from the sizes alone.

    Memory: ~10 state-sized arrays of P x N x d doubles, the problem's data (4 d per instance for a
    diagonal quadratic, 5 d^2 for a rotated one, 4 (n d + d^2) for data-fitting problems), and 4
    recorded scalars per run and step, 3 copies each (factors from tracemalloc peaks, checked by
    tests/test_cli.py::test_estimate_is_an_upper_bound_of_measured_memory). Time: ~100 us of
    overhead per step (hb: 35 us CPU, 110 us wall at load 8 on 2 cores) plus the flops of one gradient
    per run at 1 GFLOP/s, plus the set-up (a d x d orthogonal basis costs ~d^3).
    """
    defaults = {p.name: p.default for p in _problem_params(problem)}
    get = lambda k: prob.get(k, defaults.get(k))  # noqa: E731
    d = max(int(get("dim") or 1), 1)
    inst = max(int(get("instances") or 1), 1)
    P = inst * max(_size(get("mu")), _size(get("L")), _size(get("reg")), _size(get("c")), 1)
    N = max(grid_points, 1) * seeds
    n = int(get("n") or 0)
    if problem == "quadratic" and get("basis") == "random" or problem == "nonconvex":
        data, flops, setup = 5 * P * d * d, 2 * d * d, P * 10 * d**3
    elif problem in ("least-squares", "logistic"):
        data, flops, setup = 4 * P * (n * d + d * d), 4 * n * d, P * 10 * (n * d * d + d**3)
    else:
        data, flops, setup = P * 4 * d, 10 * d, P * 10 * d
    mem = 8.0 * (10 * P * N * d + data + 12 * (steps + 1) * P * N + 2 * keep_last * P * N * d)
    secs = steps * (1e-4 + P * N * flops / 1e9) + setup / 1e9
    return mem, secs


#: below this many records in the fit window ``polyak run`` says the fitted rate is not asymptotic
FEW_FIT_POINTS = 10


def run(args: argparse.Namespace) -> int:
    import numpy as np

    if args.list:
        print(list_text())
        return EXIT_OK
    extra = list(args.extra or [])
    if extra and not extra[0].startswith("-"):  # polyak run hb ...: the method as a positional, as in certify
        if args.method is not None:
            raise ValueError(f"method given twice: {extra[0]!r} and --method {args.method!r}")
        args.method, args.extra = extra[0], extra[1:]
    if args.help_method is not None:
        name = args.method if args.help_method is True else args.help_method
        if name is None:
            raise ValueError("--help-method needs a method name (polyak run --help-method hb) or --method")
        print(help_method_text(name))
        return EXIT_OK
    if args.method is None:
        raise ValueError("--method is required (see polyak run --list)")
    xp = extra_parser(args.method, args.problem)
    ns, unknown = xp.parse_known_args(args.extra)
    if unknown:
        flags = [u for u in unknown if u.startswith("-")]
        if not flags:
            raise ValueError(f"unexpected argument(s) {' '.join(unknown)}; options look like --name VALUE")
        raise ValueError(
            f"unknown option(s) {', '.join(f.split('=')[0] for f in flags)} for method {args.method!r} and "
            f"problem {args.problem!r}; see polyak run --help-method {args.method} (prefixes are not matched)")
    options = vars(ns)

    from polyak.solvers import make_problem, simulate
    from polyak.solvers.base import build_method
    from polyak.verify.api import default_floor
    from polyak.verify.rates import fit_rate

    rule = method_rule(args.method)
    hyper_names = {p.name for p in rule.params}
    hyper = {k: v for k, v in options.items() if k in hyper_names}
    prob = {k: v for k, v in options.items() if k not in hyper_names}
    if prob.get("noise") is None:
        given = [_flag(k) for k in NOISE_ONLY if k in prob]
        if given:
            raise ValueError(f"{' and '.join(given)} only take effect with --noise (additive, multiplicative or minibatch); add --noise or drop them")
    elif "batch_size" in prob and prob.get("noise") != "minibatch":
        raise ValueError("--batch-size only applies with --noise minibatch")
    lists = {k: v for k, v in hyper.items() if isinstance(v, list)}
    if len(lists) > 1:  # several comma lists: their outer grid, one axis each (as polyak.grid)
        from polyak.grids import grid

        hyper.update(grid(**lists))
    method = build_method(rule, hyper)
    grid_points = int(np.prod(method.hyper_shape, dtype=np.int64)) if method.hyper_shape else 1
    keep = 10 if int(prob.get("dim", 10) or 10) <= 10 else 0
    mem, secs = estimate(args.problem, prob, grid_points, args.seeds, args.steps, keep)
    check_resources(f"this run ({args.steps} steps, {grid_points * args.seeds} runs)", mem, secs, args)
    problem = make_problem(args.problem, **prob)
    keep = 10 if problem.dim <= 10 else 0
    x0 = None
    if args.x0 is not None:
        v = parse_value(args.x0)
        if isinstance(v, (bool, str)):
            raise ValueError(f"--x0 must be a number or comma-separated numbers; got {args.x0!r}")
        x0 = np.full(problem.dim, float(v)) if not isinstance(v, list) else np.asarray(v, dtype=float)
    traj = simulate(
        method, problem, args.steps, seeds=range(args.seeds), backend=args.backend,
        device=args.device, dtype=args.dtype, x0=x0, keep_last=keep, progress=want_progress(args),
    )
    err = traj.dist if traj.dist is not None else traj.fgap
    first = (0,) * (err.ndim - 1)
    floor = default_floor(problem, "dist" if traj.dist is not None else "fgap")  # 0 for x* = 0: no floor
    fit = fit_rate(err[(slice(None),) + first], traj.k, floor=floor and max(floor, traj.floor))
    # small fields first: a reader of the JSON sees the answer before the long traces
    report = {
        "method": args.method,
        "problem": args.problem,
        "steps": args.steps,
        "seeds": args.seeds,
        "backend": args.backend,
        "dtype": args.dtype,
        "grid": dict(zip(traj.axis_names()[2:-1], traj.grid_shape)),
        "fitted_rate": fit.rate,  # of the first run (problem 0, grid point 0, seed 0)
        "fit_window": list(fit.window),
        "fit_residual": fit.residual,
        "fit_model": fit.model,
        "fit_power": fit.power,
        "fit_coef": list(fit.coef),  # (a, b, c) of the double-root model, else []
        "fit_points": fit.points,  # records in the window; below FEW_FIT_POINTS the rate is a transient's
        "diverged": traj.diverged.reshape(-1).tolist(),
        "final_dist": None if traj.dist is None else traj.dist[-1].reshape(-1).tolist(),
        "final_gap": None if traj.fgap is None else traj.fgap[-1].reshape(-1).tolist(),
        "hyper": method.describe(),
        "problem_params": problem.describe(),
        "beta_trace": traj.beta[(slice(None),) + first].tolist(),
    }
    if keep:
        report["x_tail"] = traj.x_tail[(slice(None),) + first].tolist()
    if args.json:
        write_json(report, None)
    else:
        print(f"{args.method} on {args.problem} for {args.steps} steps ({args.backend})")
        print(f"  fitted rate     {fit.rate:.6g}  (window {fit.window[0]}..{fit.window[1]}, residual {fit.residual:.2g})")
        if fit.points < FEW_FIT_POINTS:
            print(f"                  (only {fit.points} records in the window: a transient, not an asymptotic "
                  f"rate; run more --steps)")
        if traj.dist is not None:
            print(f"  final ||x-x*||  {float(traj.dist[-1].max()):.6g}  (max over runs)")
        if traj.fgap is not None:
            print(f"  final f - f*    {float(traj.fgap[-1].max()):.6g}  (max over runs)")
        print(f"  diverged        {int(traj.diverged.sum())} of {traj.diverged.size} runs")
    return EXIT_OK


__all__ = ["run", "extra_parser", "list_text", "help_method_text", "estimate", "parse_value"]
